import { DynamoTemplateStore } from '../adapters/dynamo/template-store.ts';
import { invalidateCached } from '../adapters/ttl-cache.ts';
import { requireEnv } from '../config/env.ts';
import * as envNames from '../config/env-names.ts';
import { templateNameSchema } from '../domain/content-schemas.ts';
import { parseWith } from '../domain/schemas.ts';
import { deleteTemplate, readTemplate, saveTemplate } from '../domain/template-library.ts';
import { putTemplateRequestSchema } from '../domain/template-schemas.ts';
import { type HttpRequest, json, requirePrincipal } from './http/http-handler.ts';
import { type Route, routedHandler } from './http/router.ts';

const store = new DynamoTemplateStore(requireEnv(envNames.tableName));

const nameOf = (request: HttpRequest): string =>
  parseWith(templateNameSchema, request.event.pathParameters?.name ?? '', 'name');

const putTemplate: Route = async (request) => {
  const { tenantId } = requirePrincipal(request);
  const name = nameOf(request);
  const body = parseWith(putTemplateRequestSchema, request.body ?? {});
  const { template, created } = await saveTemplate(store, tenantId, name, body, new Date().toISOString());
  // The send and inbound paths cache templates per container: this process's next send uses the new text at once,
  // other containers' when their copy expires (PARLEY_CACHE_TTL_MS, 60 s).
  invalidateCached('template', `${tenantId}/${name}`);
  return json(created ? 201 : 200, template);
};

const getTemplate: Route = async (request) => {
  const { tenantId } = requirePrincipal(request);
  return json(200, await readTemplate(store, tenantId, nameOf(request)));
};

const listTemplates: Route = async (request) => {
  const { tenantId } = requirePrincipal(request);
  return json(200, { templates: await store.listTemplates(tenantId) });
};

const removeTemplate: Route = async (request) => {
  const { tenantId } = requirePrincipal(request);
  const name = nameOf(request);
  await deleteTemplate(store, tenantId, name);
  invalidateCached('template', `${tenantId}/${name}`);
  return json(200, { name, deleted: true });
};

export const handler = routedHandler('templates', {
  'PUT /v1/templates/{name}': putTemplate,
  'GET /v1/templates/{name}': getTemplate,
  'GET /v1/templates': listTemplates,
  'DELETE /v1/templates/{name}': removeTemplate,
});
