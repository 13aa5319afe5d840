import { DynamoCustomerStore } from '../adapters/dynamo/customer-store.ts';
import { createDocumentClient } from '../adapters/dynamo/dynamo-helpers.ts';
import { DynamoMessageStore } from '../adapters/dynamo/message-store.ts';
import { DynamoTenantReader } from '../adapters/dynamo/tenant-reader.ts';
import { confirmUnsubscribePage, unsubscribedPage } from '../adapters/pages/unsubscribe-page.ts';
import { loadTokenSecret } from '../adapters/token-secret.ts';
import { requireEnv } from '../config/env.ts';
import * as envNames from '../config/env-names.ts';
import { maskEmail } from '../domain/masking.ts';
import { systemClock } from '../domain/ports.ts';
import { resolveUnsubscribeToken, type UnsubscribeDeps, unsubscribeEmail } from '../domain/unsubscribe.ts';
import { createEventPublisher } from './http/events.ts';
import { type HttpRequest, json } from './http/http-handler.ts';
import { logger } from './http/observability.ts';
import { type Route, routedHandler } from './http/router.ts';

const tableName = requireEnv(envNames.tableName);
const db = createDocumentClient();
const tenants = new DynamoTenantReader(tableName, db);
const deps: UnsubscribeDeps = {
  tokenSecret: await loadTokenSecret(),
  customers: new DynamoCustomerStore(tableName, db),
  messages: new DynamoMessageStore(tableName, db),
  getTenant: (tenantId) => tenants.getTenant(tenantId),
  events: createEventPublisher({
    eventBusName: requireEnv(envNames.eventBusName),
    eventsDeadLetterQueueUrl: requireEnv(envNames.eventsDlqUrl),
  }),
  clock: systemClock,
};

const tokenOf = (request: HttpRequest) => request.event.pathParameters?.token ?? '';

/** GET /v1/unsubscribe/{token}: a page with a button that POSTs; opening the link changes nothing. */
const confirm: Route = async (request) => {
  const subject = await resolveUnsubscribeToken(deps, tokenOf(request));
  const page = confirmUnsubscribePage({ brand: subject.tenant.name, maskedAddress: maskEmail(subject.address) ?? '' });
  return { statusCode: 200, headers: page.headers, body: page.body };
};

/**
 * POST /v1/unsubscribe/{token}: one-click (RFC 8058; a mail client posts `List-Unsubscribe=One-Click`, a person the
 * page's button). The token is the authority, whatever the body says. A browser gets a page back, anyone else JSON.
 */
const unsubscribe: Route = async (request) => {
  const subject = await resolveUnsubscribeToken(deps, tokenOf(request));
  const { changed } = await unsubscribeEmail(deps, subject);
  logger.info('email unsubscribed', { tenantId: subject.tenant.tenantId, to: maskEmail(subject.address), changed });
  if (/\btext\/html\b/.test(request.header('accept') ?? '')) {
    const page = unsubscribedPage({ brand: subject.tenant.name });
    return { statusCode: 200, headers: page.headers, body: page.body };
  }
  return json(200, { channel: 'email', status: 'opted_out' });
};

export const handler = routedHandler(
  'unsubscribe',
  { 'GET /v1/unsubscribe/{token}': confirm, 'POST /v1/unsubscribe/{token}': unsubscribe },
  { body: 'text' },
);
