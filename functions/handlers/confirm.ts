import { DynamoCustomerStore } from '../adapters/dynamo/customer-store.ts';
import { createDocumentClient } from '../adapters/dynamo/dynamo-helpers.ts';
import { DynamoStepUpStore } from '../adapters/dynamo/step-up-store.ts';
import { DynamoTenantReader } from '../adapters/dynamo/tenant-reader.ts';
import { confirmAnswerPage, confirmedPage, linkNotValidPage } from '../adapters/pages/confirmation-page.ts';
import { loadTokenSecret } from '../adapters/token-secret.ts';
import { requireEnv } from '../config/env.ts';
import * as envNames from '../config/env-names.ts';
import { type ConfirmDeps, confirmByLink, viewConfirmation } from '../domain/confirm-by-link.ts';
import { NotFoundError } from '../domain/errors.ts';
import { systemClock } from '../domain/ports.ts';
import { createStepUp } from '../domain/step-up.ts';
import { createEventPublisher } from './http/events.ts';
import type { HttpRequest } from './http/http-handler.ts';
import { logger } from './http/observability.ts';
import { type Route, routedHandler } from './http/router.ts';

const tableName = requireEnv(envNames.tableName);
const db = createDocumentClient();
const tenants = new DynamoTenantReader(tableName, db);
const tokenSecret = await loadTokenSecret();
const deps: ConfirmDeps = {
  tokenSecret,
  engine: createStepUp({ secret: tokenSecret }),
  store: new DynamoStepUpStore(tableName, db),
  customers: new DynamoCustomerStore(tableName, db),
  getTenant: (tenantId) => tenants.getTenant(tenantId),
  events: createEventPublisher({
    eventBusName: requireEnv(envNames.eventBusName),
    eventsDeadLetterQueueUrl: requireEnv(envNames.eventsDlqUrl),
  }),
  clock: systemClock,
};

const tokenOf = (request: HttpRequest) => request.event.pathParameters?.token ?? '';

/**
 * Every refusal is the same 404, tampered, expired, used up or for another answer: a page for a browser, Parley's
 * error for anyone else.
 */
const orNotValid = async (
  request: HttpRequest,
  run: () => Promise<{ statusCode: number; headers: Record<string, string>; body: string }>,
) => {
  try {
    return await run();
  } catch (error) {
    if (!(error instanceof NotFoundError) || !/\btext\/html\b/.test(request.header('accept') ?? '')) throw error;
    const page = linkNotValidPage();
    return { statusCode: 404, headers: page.headers, body: page.body };
  }
};

/** GET /v1/confirm/{token}: what is being confirmed, and a button that POSTs; opening the link confirms nothing. */
const view: Route = (request) =>
  orNotValid(request, async () => {
    const page = confirmAnswerPage(await viewConfirmation(deps, tokenOf(request)));
    return { statusCode: 200, headers: page.headers, body: page.body };
  });

/** POST /v1/confirm/{token}: the button; completes the pending answer once (a second POST changes nothing). */
const confirm: Route = (request) =>
  orNotValid(request, async () => {
    const confirmed = await confirmByLink(deps, tokenOf(request));
    logger.info('step-up confirmed by link');
    const page = confirmedPage(confirmed);
    return { statusCode: 200, headers: page.headers, body: page.body };
  });

export const handler = routedHandler(
  'confirm',
  { 'GET /v1/confirm/{token}': view, 'POST /v1/confirm/{token}': confirm },
  { body: 'text' },
);
