import { createDocumentClient } from '../adapters/dynamo/dynamo-helpers.ts';
import { DynamoTemplateStore } from '../adapters/dynamo/template-store.ts';
import { DynamoTenantStore } from '../adapters/dynamo/tenant-store.ts';
import { invalidateCached } from '../adapters/ttl-cache.ts';
import { requireEnv } from '../config/env.ts';
import * as envNames from '../config/env-names.ts';
import { parseWith } from '../domain/schemas.ts';
import { keywordSchema, patchTenantRequestSchema, putKeywordRequestSchema } from '../domain/tenant-schemas.ts';
import {
  deleteKeyword,
  listKeywords,
  readKeyword,
  readTenantSettings,
  saveKeyword,
  updateTenantSettings,
} from '../domain/tenant-settings.ts';
import { type HttpRequest, json, requirePrincipal } from './http/http-handler.ts';
import { type Route, routedHandler } from './http/router.ts';

const tableName = requireEnv(envNames.tableName);
const db = createDocumentClient();
const tenants = new DynamoTenantStore(tableName, db);
const templates = new DynamoTemplateStore(tableName, db);

const keywordOf = (request: HttpRequest): string =>
  parseWith(keywordSchema, request.event.pathParameters?.keyword ?? '', 'keyword');

// Every write drops this process's cached tenants, so the next HELP or keyword read here (locally: every handler)
// sees it; other Lambda containers see it when their copy expires (PARLEY_CACHE_TTL_MS, 60 s).
const written = <T>(result: T): T => {
  invalidateCached('tenant');
  return result;
};

const getTenant: Route = async (request) => {
  const { tenantId } = requirePrincipal(request);
  return json(200, await readTenantSettings(tenants, tenantId));
};

const patchTenant: Route = async (request) => {
  const { tenantId } = requirePrincipal(request);
  const patch = parseWith(patchTenantRequestSchema, request.body ?? {});
  return json(200, written(await updateTenantSettings(tenants, tenantId, patch)));
};

const getKeywords: Route = async (request) => {
  const { tenantId } = requirePrincipal(request);
  return json(200, { keywords: await listKeywords(tenants, tenantId) });
};

const getKeyword: Route = async (request) => {
  const { tenantId } = requirePrincipal(request);
  return json(200, await readKeyword(tenants, tenantId, keywordOf(request)));
};

const putKeyword: Route = async (request) => {
  const { tenantId } = requirePrincipal(request);
  const keyword = keywordOf(request);
  const body = parseWith(putKeywordRequestSchema, request.body ?? {});
  const saved = written(await saveKeyword({ tenants, templates }, tenantId, keyword, body));
  return json(saved.created ? 201 : 200, saved.keyword);
};

const removeKeyword: Route = async (request) => {
  const { tenantId } = requirePrincipal(request);
  const keyword = written(await deleteKeyword(tenants, tenantId, keywordOf(request)));
  return json(200, { keyword, deleted: true });
};

export const handler = routedHandler('tenant-settings', {
  'GET /v1/tenant': getTenant,
  'PATCH /v1/tenant': patchTenant,
  'GET /v1/keywords': getKeywords,
  'GET /v1/keywords/{keyword}': getKeyword,
  'PUT /v1/keywords/{keyword}': putKeyword,
  'DELETE /v1/keywords/{keyword}': removeKeyword,
});
