/**
 * The HTTP API's routes, written once: the CDK construct and the local gateway both build from this table,
 * so a route cannot exist in one and not the other.
 */
import type { Scope } from './domain/scopes.ts';

export type { Scope } from './domain/scopes.ts';

/** One Lambda per handler file under functions/handlers/. */
export type HttpHandlerName =
  | 'send-message'
  | 'messages'
  | 'customers'
  | 'templates'
  | 'conversations'
  | 'callbacks'
  | 'pages'
  | 'openapi'
  | 'unsubscribe'
  | 'confirm'
  | 'tenant-settings'
  | 'webhooks';

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
  // Deleting is `admin` (DESIGN section 5): a send key may write templates but not remove what others send with.
  { method: 'DELETE', path: '/v1/templates/{name}', handler: 'templates', scope: 'admin' },
  { method: 'POST', path: '/v1/customers/{customerId}/messages', handler: 'conversations', scope: 'agent' },
  { method: 'POST', path: '/v1/customers/{customerId}/chat-sessions', handler: 'conversations', scope: 'send' },
  { method: 'GET', path: '/v1/conversations', handler: 'conversations', scope: 'read' },
  { method: 'GET', path: '/v1/callbacks', handler: 'callbacks', scope: 'read' },
  { method: 'PATCH', path: '/v1/callbacks/{callbackId}', handler: 'callbacks', scope: 'agent' },
  // Tenant self-service: every write is `admin`. The settings are read with `admin` too (an integration has no use
  // for them); the keywords with `read`, as every other list of the tenant's.
  { method: 'GET', path: '/v1/tenant', handler: 'tenant-settings', scope: 'admin' },
  { method: 'PATCH', path: '/v1/tenant', handler: 'tenant-settings', scope: 'admin' },
  { method: 'GET', path: '/v1/keywords', handler: 'tenant-settings', scope: 'read' },
  { method: 'GET', path: '/v1/keywords/{keyword}', handler: 'tenant-settings', scope: 'read' },
  { method: 'PUT', path: '/v1/keywords/{keyword}', handler: 'tenant-settings', scope: 'admin' },
  { method: 'DELETE', path: '/v1/keywords/{keyword}', handler: 'tenant-settings', scope: 'admin' },
  // Signed webhooks (DESIGN section 15): managing them is `admin`, like the tenant's other settings.
  { method: 'POST', path: '/v1/webhooks', handler: 'webhooks', scope: 'admin' },
  { method: 'GET', path: '/v1/webhooks', handler: 'webhooks', scope: 'admin' },
  { method: 'GET', path: '/v1/webhooks/{webhookId}', handler: 'webhooks', scope: 'admin' },
  { method: 'DELETE', path: '/v1/webhooks/{webhookId}', handler: 'webhooks', scope: 'admin' },
  { method: 'POST', path: '/v1/webhooks/{webhookId}/rotate-secret', handler: 'webhooks', scope: 'admin' },
  { method: 'GET', path: '/v1/webhooks/{webhookId}/deliveries', handler: 'webhooks', scope: 'admin' },
  { method: 'GET', path: '/openapi.json', handler: 'openapi', scope: null },
  // The chat page and the agent console: static pages, no data without a token or a key.
  { method: 'GET', path: '/chat', handler: 'pages', scope: null },
  { method: 'GET', path: '/agent', handler: 'pages', scope: null },
  // One-click unsubscribe (RFC 8058), linked from every email: the signed token in the path is the authority. GET
  // only shows a page whose button POSTs; a GET never unsubscribes (mail scanners follow links).
  { method: 'GET', path: '/v1/unsubscribe/{token}', handler: 'unsubscribe', scope: null },
  { method: 'POST', path: '/v1/unsubscribe/{token}', handler: 'unsubscribe', scope: null },
  // The step-up link of a code email (DESIGN section 16): GET shows what is confirmed, only the button's POST confirms.
  { method: 'GET', path: '/v1/confirm/{token}', handler: 'confirm', scope: null },
  { method: 'POST', path: '/v1/confirm/{token}', handler: 'confirm', scope: null },
];

/** The WebSocket API's routes (chat), one Lambda each. */
export const webSocketRoutes = [
  { routeKey: '$connect', handler: 'ws-connect' },
  { routeKey: '$default', handler: 'ws-message' },
  { routeKey: '$disconnect', handler: 'ws-disconnect' },
] as const;

export const routeKey = (route: Pick<HttpRoute, 'method' | 'path'>): string => `${route.method} ${route.path}`;
