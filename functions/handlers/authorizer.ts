import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayRequestAuthorizerEventV2, APIGatewaySimpleAuthorizerWithContextResult } from 'aws-lambda';
import { DynamoTenantReader } from '../adapters/dynamo/tenant-reader.ts';
import { requireEnv } from '../config/env.ts';
import * as envNames from '../config/env-names.ts';
import { authenticate } from '../domain/api-keys.ts';
import type { AuthorizerContext } from './http/http-handler.ts';
import { logger } from './http/observability.ts';

const tenants = new DynamoTenantReader(requireEnv(envNames.tableName));

/** When this container last recorded each key's use: at most one write a key a minute (`parley key list`). */
const touched = new Map<string, number>();
const touchEveryMs = 60_000;

const recordUse = async (keyId: string) => {
  const now = Date.now();
  if ((touched.get(keyId) ?? 0) > now - touchEveryMs) return;
  touched.set(keyId, now);
  if (touched.size > 10_000) touched.delete(touched.keys().next().value as string);
  // Bookkeeping: a failure to record it never refuses the request.
  await tenants.touchApiKey(keyId, new Date(now).toISOString()).catch((error: unknown) => {
    logger.warn('api key use not recorded', { error: error as Error });
  });
};

/**
 * HTTP API Lambda authorizer (simple responses). API Gateway caches the answer per Authorization header, so a
 * revoked key keeps working until its cache entry expires. Scopes are checked per route by the route's handler.
 */
export const authorize = async (
  event: Pick<APIGatewayRequestAuthorizerEventV2, 'headers'>,
): Promise<APIGatewaySimpleAuthorizerWithContextResult<AuthorizerContext>> => {
  const authorization = event.headers?.authorization ?? event.headers?.Authorization;
  const principal = await authenticate(authorization, (keyId) => tenants.getApiKey(keyId));
  if (!principal) {
    logger.info('api key refused');
    return { isAuthorized: false, context: { tenantId: '', keyId: '', scopes: '' } };
  }
  await recordUse(principal.keyId);
  return {
    isAuthorized: true,
    context: { tenantId: principal.tenantId, keyId: principal.keyId, scopes: principal.scopes.join(',') },
  };
};

export const handler = middy(authorize).use(injectLambdaContext(logger, { resetKeys: true }));
