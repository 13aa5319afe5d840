import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SNSEvent, SNSEventRecord } from 'aws-lambda';
import { ApiGatewayPusher } from '../adapters/chat/api-gateway-pusher.ts';
import { SqsDeadLetters } from '../adapters/dead-letters/sqs-dead-letters.ts';
import { DynamoAttentionStore } from '../adapters/dynamo/attention-store.ts';
import { DynamoStore } from '../adapters/dynamo/dynamo-store.ts';
import { parseInboundSms, UnprocessableInboundError } from '../adapters/sms/sns-inbound.ts';
import { SnsSmsSender } from '../adapters/sms/sns-sms-sender.ts';
import { loadTokenSecret } from '../adapters/token-secret.ts';
import { TtlCache } from '../adapters/ttl-cache.ts';
import { numberEnv, optionalEnv, requireEnv } from '../config/env.ts';
import { escalateFromSms, pushToChat } from '../domain/escalation.ts';
import { handleInbound, type InboundDeps } from '../domain/inbound.ts';
import { describeBody, maskPhone } from '../domain/masking.ts';
import type { Template, Tenant } from '../domain/model.ts';
import { answerKeepMs, expiredPromptKeepMs } from '../domain/prompt-policy.ts';
import { createEscalation } from './chat/escalation-wiring.ts';
import { createEventPublisher } from './http/events.ts';
import { publishMetrics } from './http/http-handler.ts';
import { logger, metrics } from './http/observability.ts';

const config = {
  tableName: requireEnv('PARLEY_TABLE_NAME'),
  eventBusName: requireEnv('PARLEY_EVENT_BUS_NAME'),
  deadLetterQueueUrl: requireEnv('PARLEY_DEAD_LETTER_QUEUE_URL'),
  cacheTtlMs: numberEnv('PARLEY_CACHE_TTL_MS', 60_000),
  maxSmsSegments: numberEnv('PARLEY_MAX_SMS_SEGMENTS', 6),
};

const store = new DynamoStore(config.tableName);
const deadLetters = new SqsDeadLetters(config.deadLetterQueueUrl);
const tenantsByNumber = new TtlCache<Tenant | undefined>(config.cacheTtlMs);
const templates = new TtlCache<Template | undefined>(config.cacheTtlMs);

const sms = new SnsSmsSender();
const escalation = createEscalation({
  tokenSecret: await loadTokenSecret(),
  sms,
  ...(optionalEnv('PARLEY_WS_CALLBACK_URL') && { pusher: (endpoint) => new ApiGatewayPusher(endpoint) }),
});
const deps: InboundDeps = {
  customers: store,
  messages: store,
  attention: new DynamoAttentionStore(config.tableName),
  // Replies go out on the channel a message came in on; this function is given only what its channels need.
  senders: { sms, email: { sendEmail: () => Promise.reject(new Error('inbound-sms sends no email')) } },
  replyAddress: () => {
    throw new Error('inbound-sms sends no email');
  },
  maxSmsSegments: config.maxSmsSegments,
  events: createEventPublisher({
    eventBusName: config.eventBusName,
    eventsDeadLetterQueueUrl: requireEnv('PARLEY_EVENTS_DLQ_URL'),
  }),
  clock: { now: () => Date.now() },
  getTemplate: (tenantId, name) => templates.get(`${tenantId}/${name}`, () => store.getTemplate(tenantId, name)),
  expiredPromptKeepMs,
  answerKeepMs,
  claimLeaseMs: 30_000,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  escalate: ({ channel: _channel, ...input }) => escalateFromSms(escalation.deps, input),
  // A customer who texts while chatting sees it in the chat too (when this function may push to the chat API).
  ...(optionalEnv('PARLEY_WS_CALLBACK_URL') && {
    pushToChat: (customer, message) =>
      pushToChat(escalation.deps, customer, message).catch((error: unknown) =>
        logger.warn('chat push failed', { error: error as Error }),
      ),
  }),
};

const tenantFor = (number: string) =>
  tenantsByNumber.get(number, async () => {
    const tenantId = await store.getTenantIdByNumber(number);
    return tenantId === undefined ? undefined : store.getTenant(tenantId);
  });

const processRecord = async (record: SNSEventRecord) => {
  try {
    const inbound = parseInboundSms(record);
    const tenant = await tenantFor(inbound.to);
    if (!tenant) throw new UnprocessableInboundError('no tenant has this destination number');
    const outcome = await handleInbound(deps, { ...inbound, tenant });
    logger.info('inbound sms handled', {
      tenantId: tenant.tenantId,
      from: maskPhone(inbound.from),
      body: describeBody(inbound.body),
      status: outcome.status,
      effect: outcome.effect?.type,
      messageId: outcome.messageId,
    });
    metrics.addMetric(outcome.status === 'duplicate' ? 'InboundDuplicates' : 'InboundProcessed', 'Count', 1);
  } catch (error) {
    if (!(error instanceof UnprocessableInboundError)) throw error;
    logger.error('inbound sms dead-lettered', { reason: error.message, snsMessageId: record.Sns.MessageId });
    metrics.addMetric('InboundDeadLettered', 'Count', 1);
    await deadLetters.send({ reason: error.message, source: 'inbound-sms', payload: JSON.stringify(record) });
  }
};

/**
 * Subscribed to the two-way SMS topic. Malformed payloads go to the dead-letter queue at once; anything else that
 * fails is thrown, so Lambda retries it and finally sends it to the function's own failure destination.
 */
export const handleSnsEvent = async (event: SNSEvent, _context?: Context): Promise<void> => {
  for (const record of event.Records ?? []) await processRecord(record);
};

export const handler = middy(handleSnsEvent)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(publishMetrics);
