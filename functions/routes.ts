/**
 * The HTTP API's routes, written once: the CDK construct and the local gateway both build from this table,
 * so a route cannot exist in one and not the other.
 */
export type Scope = 'send' | 'read' | 'agent';

/** One Lambda per handler file under functions/handlers/. */
export type HttpHandlerName = 'send-message' | 'messages' | 'customers' | 'templates' | 'openapi';

export interface HttpRoute {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** API Gateway v2 path template, e.g. `/v1/customers/{customerId}`. */
  path: string;
  handler: HttpHandlerName;
  /** `null`: the route is public (no authorizer). */
  scope: Scope | null;
}

export const httpRoutes: readonly HttpRoute[] = [
  { method: 'POST', path: '/v1/messages', handler: 'send-message', scope: 'send' },
  { method: 'GET', path: '/v1/messages/{messageId}', handler: 'messages', scope: 'read' },
  { method: 'GET', path: '/v1/customers/{customerId}', handler: 'customers', scope: 'read' },
  { method: 'PUT', path: '/v1/customers/{customerId}', handler: 'customers', scope: 'send' },
  { method: 'GET', path: '/v1/customers/{customerId}/conversation', handler: 'customers', scope: 'read' },
  { method: 'GET', path: '/v1/templates', handler: 'templates', scope: 'read' },
  { method: 'GET', path: '/v1/templates/{name}', handler: 'templates', scope: 'read' },
  { method: 'PUT', path: '/v1/templates/{name}', handler: 'templates', scope: 'send' },
  { method: 'GET', path: '/openapi.json', handler: 'openapi', scope: null },
];

export const routeKey = (route: Pick<HttpRoute, 'method' | 'path'>): string => `${route.method} ${route.path}`;
