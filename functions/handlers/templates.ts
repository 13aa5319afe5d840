import { DynamoTemplateStore } from '../adapters/dynamo/template-store.ts';
import { requireEnv } from '../config/env.ts';
import * as envNames from '../config/env-names.ts';
import { templateNameSchema } from '../domain/content-schemas.ts';
import { NotFoundError } from '../domain/errors.ts';
import type { Template } from '../domain/model.ts';
import { parseWith } from '../domain/schemas.ts';
import { putTemplateRequestSchema } from '../domain/template-schemas.ts';
import { type HttpRequest, type HttpResult, httpHandler, json, requirePrincipal } from './http/http-handler.ts';

const store = new DynamoTemplateStore(requireEnv(envNames.tableName));

const nameOf = (request: HttpRequest): string =>
  parseWith(templateNameSchema, request.event.pathParameters?.name ?? '', 'name');

const putTemplate = async (request: HttpRequest) => {
  const { tenantId } = requirePrincipal(request);
  const name = nameOf(request);
  const body = parseWith(putTemplateRequestSchema, request.body ?? {});
  const existing = await store.getTemplate(tenantId, name);
  const template: Template = {
    name,
    ...(body.description !== undefined && { description: body.description }),
    ...(body.sms !== undefined && { sms: body.sms }),
    ...(body.email !== undefined && {
      email: { subject: body.email.subject, text: body.email.text, ...(body.email.html && { html: body.email.html }) },
    }),
    updatedAt: new Date().toISOString(),
  };
  await store.putTemplate(tenantId, template);
  return json(existing ? 200 : 201, template);
};

const getTemplate = async (request: HttpRequest) => {
  const { tenantId } = requirePrincipal(request);
  const template = await store.getTemplate(tenantId, nameOf(request));
  if (!template) throw new NotFoundError('Template');
  return json(200, template);
};

const listTemplates = async (request: HttpRequest) => {
  const { tenantId } = requirePrincipal(request);
  return json(200, { templates: await store.listTemplates(tenantId) });
};

const routes: Record<string, (request: HttpRequest) => Promise<HttpResult>> = {
  'PUT /v1/templates/{name}': putTemplate,
  'GET /v1/templates/{name}': getTemplate,
  'GET /v1/templates': listTemplates,
};

export const handler = httpHandler(async (request) => {
  const route = routes[request.routeKey];
  if (!route) throw new NotFoundError('Route');
  return route(request);
});
