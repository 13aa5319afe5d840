import { SESClient, SendRawEmailCommand } from '@aws-sdk/client-ses';
import { ApiGatewayPusher } from '../adapters/chat/api-gateway-pusher.ts';
import { DynamoAttentionClearer } from '../adapters/dynamo/attention-clearer.ts';
import { DynamoChatConnectionWrites } from '../adapters/dynamo/chat-connection-writes.ts';
import { DynamoCustomerStore } from '../adapters/dynamo/customer-store.ts';
import { createDocumentClient } from '../adapters/dynamo/dynamo-helpers.ts';
import { DynamoMessageStore } from '../adapters/dynamo/message-store.ts';
import { DynamoTemplateStore } from '../adapters/dynamo/template-store.ts';
import { DynamoTenantReader } from '../adapters/dynamo/tenant-reader.ts';
import { SesEmailSender } from '../adapters/email/ses-email-sender.ts';
import { SnsSmsSender } from '../adapters/sms/sns-sms-sender.ts';
import { loadTokenSecret } from '../adapters/token-secret.ts';
import { RecentValues, TtlCache } from '../adapters/ttl-cache.ts';
import { numberEnv, optionalEnv, requireEnv } from '../config/env.ts';
import * as envNames from '../config/env-names.ts';
import { sendMessageRequestSchema } from '../domain/contact-schemas.ts';
import { idempotencyKeySchema } from '../domain/content-schemas.ts';
import { NotFoundError } from '../domain/errors.ts';
import { pushToChat } from '../domain/escalation.ts';
import { maskAddress } from '../domain/masking.ts';
import type { OpenPrompt, Template, Tenant } from '../domain/model.ts';
import { parseWith } from '../domain/schemas.ts';
import { type SendDeps, sendMessage } from '../domain/send-message.ts';
import { createReplyToken } from '../domain/tokens.ts';
import { unsubscribeLinks } from '../domain/unsubscribe.ts';
import { createEventPublisher } from './http/events.ts';
import { type HttpRequest, httpHandler, json, requirePrincipal } from './http/http-handler.ts';
import { logger, metrics } from './http/observability.ts';

const config = {
  tableName: requireEnv(envNames.tableName),
  eventBusName: requireEnv(envNames.eventBusName),
  sesConfigurationSet: requireEnv(envNames.sesConfigurationSet),
  replyDomain: requireEnv(envNames.replyDomain),
  cacheTtlMs: numberEnv(envNames.cacheTtlMs, 60_000),
  maxSmsSegments: numberEnv(envNames.maxSmsSegments, 6),
};
const tokenSecret = await loadTokenSecret();
const wsCallbackUrl = optionalEnv(envNames.wsCallbackUrl);
// The API's own URL, for one-click unsubscribe links: read off the request, as this function is part of that API.
const configuredPublicUrl = optionalEnv(envNames.publicUrl);
let publicUrlFromEvent: string | undefined;

// One document client for every store of the table.
const db = createDocumentClient();
const tenantStore = new DynamoTenantReader(config.tableName, db);
const templateStore = new DynamoTemplateStore(config.tableName, db);
const tenants = new TtlCache<Tenant | undefined>(config.cacheTtlMs, Date.now, 1000, 'tenant');
const templates = new TtlCache<Template | undefined>(config.cacheTtlMs, Date.now, 1000, 'template');

// One pusher per container: a push must not build an SDK client. A stale connection is ended on the chat store.
const pusher = wsCallbackUrl ? new ApiGatewayPusher(() => wsCallbackUrl) : undefined;
// What ending a stale chat connection writes: the push is all a send does with the chat.
const chats = new DynamoChatConnectionWrites(config.tableName, db);
const attention = new DynamoAttentionClearer(config.tableName, db);

const deps: SendDeps = {
  getTemplate: (tenantId, name) =>
    templates.get(`${tenantId}/${name}`, () => templateStore.getTemplate(tenantId, name)),
  customers: new DynamoCustomerStore(config.tableName, db),
  messages: new DynamoMessageStore(config.tableName, db),
  // Each send goes by SMS or by email: both clients are bundled.
  senders: {
    sms: new SnsSmsSender(),
    email: new SesEmailSender(config.sesConfigurationSet, () => ({ SESClient, SendRawEmailCommand })),
  },
  events: createEventPublisher({
    eventBusName: config.eventBusName,
    eventsDeadLetterQueueUrl: requireEnv(envNames.eventsDlqUrl),
  }),
  clock: { now: () => Date.now() },
  replyAddress: (tenantId, messageId) =>
    `reply+${createReplyToken(tokenSecret, tenantId, messageId)}@${config.replyDomain}`,
  unsubscribeLinks: (tenantId, address, messageId) =>
    unsubscribeLinks(
      { tokenSecret, replyDomain: config.replyDomain, publicUrl: configuredPublicUrl ?? publicUrlFromEvent },
      tenantId,
      address,
      messageId,
    ),
  maxSmsSegments: config.maxSmsSegments,
  claimLeaseMs: 30_000,
  // A duplicate waits at most about 3 s for the first attempt, well inside the function's timeout, then gets a 429.
  replayPoll: { intervalMs: 100, attempts: 30 },
  // Minutes, not the caches' TTL: a guess about prompts opened and answered elsewhere ages fast.
  openPromptMemory: new RecentValues<OpenPrompt[]>(5 * 60_000),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ...(pusher && {
    pushToChat: (customer, message) =>
      pushToChat({ pusher, chats, attention, events: deps.events, clock: deps.clock }, customer, message).catch(
        (error: unknown) => logger.warn('chat push failed', { error: error as Error }),
      ),
  }),
};

const send = async (request: HttpRequest) => {
  const { tenantId } = requirePrincipal(request);
  const domainName = request.event.requestContext.domainName;
  if (domainName) publicUrlFromEvent = `https://${domainName}`;
  const rawKey = request.header('idempotency-key');
  const idempotencyKey =
    rawKey === undefined ? undefined : parseWith(idempotencyKeySchema, rawKey, 'headers.Idempotency-Key');
  const body = parseWith(sendMessageRequestSchema, request.body ?? {});
  const tenant = await tenants.get(tenantId, () => tenantStore.getTenant(tenantId));
  if (!tenant) throw new NotFoundError('Tenant');

  const result = await sendMessage(deps, tenant, body, idempotencyKey);
  logger.info('send handled', {
    messageId: result.messageId,
    status: result.statusCode,
    channel: result.channel,
    replayed: result.replayed,
    outcome: result.status,
    to: maskAddress(body.to?.phone ?? body.to?.email),
  });
  if (!result.replayed) {
    const metric =
      result.status === 'unknown' ? 'MessagesUnknown' : result.statusCode < 300 ? 'MessagesSent' : 'MessagesFailed';
    metrics.addMetric(metric, 'Count', 1);
  }
  return json(result.statusCode, result.body, result.replayed ? { 'idempotent-replayed': 'true' } : {});
};

export const handler = httpHandler(send);
