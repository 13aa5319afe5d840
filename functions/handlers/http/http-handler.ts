import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type {
  APIGatewayProxyEventV2WithLambdaAuthorizer,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { InvalidRequestError, ParleyError } from '../../domain/errors.ts';
import type { Principal } from '../../domain/model.ts';
import { httpRoutes, routeKey, type Scope } from '../../routes.ts';
import { logger, publishMetrics } from './observability.ts';

/** What the authorizer hands to every protected route (API Gateway's `requestContext.authorizer.lambda`). */
export interface AuthorizerContext {
  tenantId: string;
  keyId: string;
  /** Comma-separated: API Gateway context values are scalars. */
  scopes: string;
}

export type HttpEvent = APIGatewayProxyEventV2WithLambdaAuthorizer<AuthorizerContext>;
export type HttpResult = APIGatewayProxyStructuredResultV2;

export interface HttpRequest {
  event: HttpEvent;
  routeKey: string;
  principal: Principal | undefined;
  /** The parsed JSON body, or the text itself for a handler that reads its body as text (undefined without one). */
  body: unknown;
  header(name: string): string | undefined;
}

export const maxBodyBytes = 256 * 1024;

const scopeByRoute = new Map<string, Scope | null>(httpRoutes.map((route) => [routeKey(route), route.scope]));

const jsonHeaders = { 'content-type': 'application/json', 'cache-control': 'no-store' };

export const json = (statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult => ({
  statusCode,
  headers: { ...jsonHeaders, ...headers },
  body: JSON.stringify(body),
});

export const errorResult = (error: ParleyError): HttpResult =>
  json(
    error.status,
    { error: { code: error.code, message: error.message, ...(error.details && { details: error.details }) } },
    error.retryAfterSeconds === undefined ? {} : { 'retry-after': String(error.retryAfterSeconds) },
  );

const principalOf = (event: HttpEvent): Principal | undefined => {
  const context = event.requestContext.authorizer?.lambda;
  if (!context?.tenantId) return undefined;
  return { tenantId: context.tenantId, keyId: context.keyId, scopes: context.scopes.split(',') as Scope[] };
};

const parseBody = (event: HttpEvent, as: 'json' | 'text'): unknown => {
  if (event.body === undefined || event.body === '') return undefined;
  const raw = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  if (Buffer.byteLength(raw) > maxBodyBytes) {
    throw new ParleyError('payload_too_large', `The body is larger than ${maxBodyBytes / 1024} KB`);
  }
  if (as === 'text') return raw;
  try {
    return JSON.parse(raw);
  } catch {
    throw new InvalidRequestError('The body is not valid JSON');
  }
};

/** The principal of a protected route; its absence means the authorizer was bypassed, which must never pass. */
export const requirePrincipal = (request: HttpRequest): Principal => {
  if (!request.principal) throw new ParleyError('unauthorized', 'A valid API key is required');
  return request.principal;
};

/**
 * Wraps a route function in the shared middy chain: logger first, error mapping last. The route's scope comes
 * from the route table, so a handler cannot forget to check it.
 */
export const httpHandler = (
  route: (request: HttpRequest) => Promise<HttpResult>,
  /** `text`: a body that is not JSON (a form post) reaches the route as it came. */
  options: { body?: 'json' | 'text' } = {},
) => {
  const handler = async (event: HttpEvent, _context: Context): Promise<HttpResult> => {
    const scope = scopeByRoute.get(event.routeKey);
    if (scope === undefined) throw new ParleyError('not_found', 'No such route');
    const principal = principalOf(event);
    if (scope !== null) {
      if (!principal) throw new ParleyError('unauthorized', 'A valid API key is required');
      if (!principal.scopes.includes(scope)) {
        throw new ParleyError('forbidden', `This API key lacks the '${scope}' scope`);
      }
      logger.appendKeys({ tenantId: principal.tenantId, keyId: principal.keyId });
    }
    const headers = Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    return route({
      event,
      routeKey: event.routeKey,
      principal,
      body: parseBody(event, options.body ?? 'json'),
      header: (name) => headers[name.toLowerCase()],
    });
  };

  return middy(handler)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(publishMetrics)
    .use({
      onError: async (request) => {
        const error = request.error;
        if (error instanceof ParleyError && error.expose) {
          logger.info('request refused', { code: error.code, status: error.status, route: request.event.routeKey });
          request.response = errorResult(error);
          return;
        }
        logger.error('request failed', { route: request.event.routeKey, error: error as Error });
        request.response = json(500, { error: { code: 'internal', message: 'Internal error' } });
      },
    });
};
