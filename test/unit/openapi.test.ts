import { describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../../functions/domain/openapi.ts';
import { httpRoutes } from '../../functions/routes.ts';

type Operation = Record<string, unknown> & {
  security?: unknown[];
  requestBody?: { content: { 'application/json': { schema: { $ref?: string } } } };
};

const doc = buildOpenApiDocument('https://api.example.test');
const operation = (method: string, path: string) =>
  (doc.paths[path] as Record<string, Operation> | undefined)?.[method.toLowerCase()];

/** Every `$ref` anywhere in a JSON value. */
const refsIn = (value: unknown): string[] => {
  if (Array.isArray(value)) return value.flatMap(refsIn);
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, v]) => (key === '$ref' && typeof v === 'string' ? [v] : refsIn(v)));
  }
  return [];
};

describe('OpenAPI document', () => {
  it('is OpenAPI 3.1 with a bearer API key as the default security', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.security).toEqual([{ apiKey: [] }]);
    expect(doc.components.securitySchemes.apiKey).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.servers).toEqual([{ url: 'https://api.example.test' }]);
  });

  it.each(httpRoutes.map((r) => [r.method, r.path] as const))('documents %s %s with a summary', (method, path) => {
    expect(operation(method, path)?.summary).toEqual(expect.any(String));
  });

  it('documents no route that the route table does not have', () => {
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );

    expect(documented.sort()).toEqual(httpRoutes.map((r) => `${r.method} ${r.path}`).sort());
  });

  it.each([
    ['POST', '/v1/messages', 'SendMessageRequest'],
    ['PUT', '/v1/customers/{customerId}', 'PutCustomerRequest'],
    ['PUT', '/v1/templates/{name}', 'PutTemplateRequest'],
  ])('has the %s %s body refer to the %s component', (method, path, name) => {
    const schema = operation(method, path)?.requestBody?.content['application/json'].schema;

    expect(schema).toEqual({ $ref: `#/components/schemas/${name}` });
    expect(doc.components.schemas).toHaveProperty(name);
  });

  it('resolves every $ref in the document to a component that exists', () => {
    const refs = refsIn(doc);

    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      expect(ref).toMatch(/^#\/components\/schemas\//);
      expect(doc.components.schemas).toHaveProperty(ref.replace('#/components/schemas/', ''));
    }
  });

  it('marks the openapi route as public with security: []', () => {
    expect(operation('GET', '/openapi.json')?.security).toEqual([]);
  });

  it('names the scope of every other route', () => {
    for (const route of httpRoutes.filter((r) => r.scope !== null)) {
      expect(operation(route.method, route.path)).toMatchObject({ 'x-parley-scope': route.scope });
      expect(operation(route.method, route.path)?.security).toBeUndefined();
    }
  });

  it('declares each path parameter', () => {
    expect(operation('GET', '/v1/customers/{customerId}/conversation')?.parameters).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'customerId', in: 'path', required: true }),
        expect.objectContaining({ name: 'limit', in: 'query' }),
        expect.objectContaining({ name: 'before', in: 'query' }),
      ]),
    );
  });

  it('documents the Idempotency-Key header on send', () => {
    expect(operation('POST', '/v1/messages')?.parameters).toContainEqual(
      expect.objectContaining({ name: 'Idempotency-Key', in: 'header', required: false }),
    );
  });

  it('gives every operation a unique operationId', () => {
    const ids = Object.values(doc.paths)
      .flatMap((ops) => Object.values(ops as Record<string, Operation>))
      .map((op) => op.operationId);

    expect(new Set(ids).size).toBe(httpRoutes.length);
  });

  it('is plain JSON', () => {
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
  });
});
