import { describe, expect, it } from 'vitest';
import { type ErrorCode, ParleyError } from '../../functions/domain/errors.ts';
import { eventTypes } from '../../functions/domain/events.ts';
import { buildOpenApiDocument } from '../../functions/handlers/http/openapi-document.ts';
import { httpRoutes } from '../../functions/routes.ts';

type Response = {
  $ref?: string;
  headers?: Record<string, unknown>;
  content?: Record<string, { schema?: Record<string, unknown> }>;
};
type Operation = Record<string, unknown> & {
  security?: unknown[];
  responses: Record<string, Response>;
  requestBody?: { content: { 'application/json': { schema: { $ref?: string } } } };
};

const doc = buildOpenApiDocument('https://api.example.test');
const operation = (method: string, path: string) =>
  (doc.paths[path] as Record<string, Operation> | undefined)?.[method.toLowerCase()];

/** The value a local `$ref` points at in the document. */
const resolve = (ref: string): unknown =>
  ref
    .replace(/^#\//, '')
    .split('/')
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], doc);

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

  it('resolves every $ref in the document to something that exists', () => {
    const refs = refsIn(doc);

    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      expect(ref).toMatch(/^#\/components\/(schemas|responses)\//);
      expect(resolve(ref)).toBeDefined();
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

  it('serves the API that serves it when no server is named', () => {
    expect(buildOpenApiDocument().servers).toEqual([{ url: '/' }]);
  });

  it.each([
    ['POST', '/v1/messages', ['202']],
    ['PUT', '/v1/customers/{customerId}', ['200', '201']],
    ['PUT', '/v1/templates/{name}', ['200', '201']],
    ['POST', '/v1/customers/{customerId}/messages', ['202']],
    ['POST', '/v1/customers/{customerId}/chat-sessions', ['201']],
    ['GET', '/v1/messages/{messageId}', ['200']],
  ])('answers %s %s with the success statuses of DESIGN section 5', (method, path, statuses) => {
    const responses = operation(method, path)?.responses ?? {};

    expect(Object.keys(responses).filter((status) => status.startsWith('2'))).toEqual(statuses);
  });

  it.each(httpRoutes.map((r) => [r.method, r.path] as const))(
    'gives %s %s a schema for every success body and the error envelope for every error',
    (method, path) => {
      const responses = operation(method, path)?.responses ?? {};

      for (const [status, response] of Object.entries(responses)) {
        const resolved = (response.$ref ? resolve(response.$ref) : response) as Response;
        const [type, media] = Object.entries(resolved.content ?? {})[0] ?? [];
        expect(media?.schema, `${status} has a schema`).toBeDefined();
        if (!status.startsWith('2')) expect(JSON.stringify(media?.schema)).toContain('#/components/schemas/Error');
        if (path === '/chat' || path === '/agent')
          expect(type).toBe(status === '200' ? 'text/html' : 'application/json');
      }
      expect(Object.keys(responses)).toEqual(expect.arrayContaining(['429', '500']));
    },
  );

  it('states the Idempotent-Replayed header on the answers a send can replay', () => {
    const responses = operation('POST', '/v1/messages')?.responses ?? {};

    expect(responses['202']?.headers).toHaveProperty('Idempotent-Replayed');
    expect(responses['422']?.headers).toHaveProperty('Idempotent-Replayed');
  });

  it('states the E.164 pattern, template xor body, and the id patterns the server enforces', () => {
    const send = doc.components.schemas.SendMessageRequest as Record<string, unknown> & {
      properties: { to: { properties: { phone: { pattern: string } } } };
    };

    expect(send.properties.to.properties.phone.pattern).toBe('^\\+[1-9]\\d{6,14}$');
    expect(send.oneOf).toEqual([{ required: ['template'] }, { required: ['body'] }]);
    expect(send.dependentRequired).toEqual({ data: ['template'] });
    expect(operation('GET', '/v1/messages/{messageId}')?.parameters).toContainEqual(
      expect.objectContaining({ name: 'messageId', schema: { type: 'string', pattern: '^msg_[0-9A-Z]{26}$' } }),
    );
  });

  it('carries every event of the catalogue in webhooks, each with its detail schema', () => {
    expect(Object.keys(doc.webhooks).sort()).toEqual([...eventTypes].sort());
    for (const type of eventTypes) {
      const body = JSON.stringify(doc.webhooks[type as keyof typeof doc.webhooks]);
      const ref = /"data":\{"\$ref":"([^"]+)"\}/.exec(body)?.[1] ?? '';
      expect(resolve(ref), type).toMatchObject({ type: 'object', required: expect.arrayContaining(['tenantId']) });
    }
  });

  it('narrows each error status to the codes Parley answers it with', () => {
    const responses = doc.components.responses as Record<string, Response>;
    const statuses = Object.keys(responses).map((name) => Number(name.replace('Error', '')));

    expect(statuses).toEqual(expect.arrayContaining([400, 401, 403, 404, 409, 413, 422, 429, 500, 503]));
    for (const status of statuses) {
      const schema = responses[`Error${status}`]?.content?.['application/json']?.schema as {
        anyOf?: Record<string, unknown>[];
      };
      const parleyError = (schema.anyOf?.[0] ?? schema) as {
        allOf: [unknown, { properties: { error: { properties: { code: { const?: string; enum?: string[] } } } } }];
      };
      const code = parleyError.allOf[1].properties.error.properties.code;
      const codes = code.enum ?? [code.const as string];

      expect(codes.length).toBeGreaterThan(0);
      for (const c of codes) expect(new ParleyError(c as ErrorCode, 'x').status, c).toBe(status);
    }
  });
});
