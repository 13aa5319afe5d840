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
  return {
    isAuthorized: true,
    context: { tenantId: principal.tenantId, keyId: principal.keyId, scopes: principal.scopes.join(',') },
  };
};

export const handler = middy(authorize).use(injectLambdaContext(logger, { resetKeys: true }));
