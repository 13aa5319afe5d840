import { ApiGatewayPusher } from '../adapters/chat/api-gateway-pusher.ts';
import { SqsDeadLetters } from '../adapters/dead-letters/sqs-dead-letters.ts';
import { DynamoAttentionStore } from '../adapters/dynamo/attention-store.ts';
import { DynamoCustomerStore } from '../adapters/dynamo/customer-store.ts';
import { createDocumentClient } from '../adapters/dynamo/dynamo-helpers.ts';
import { DynamoMessageStore } from '../adapters/dynamo/message-store.ts';
import { DynamoStepUpStore } from '../adapters/dynamo/step-up-store.ts';
import { DynamoTemplateStore } from '../adapters/dynamo/template-store.ts';
import { DynamoTenantReader } from '../adapters/dynamo/tenant-reader.ts';
import { loadTokenSecret } from '../adapters/token-secret.ts';
import { TtlCache } from '../adapters/ttl-cache.ts';
import { UnprocessableInboundError } from '../adapters/unprocessable-inbound.ts';
import { numberEnv, optionalEnv, requireEnv } from '../config/env.ts';
import * as envNames from '../config/env-names.ts';
import { UnattributableInboundError } from '../domain/errors.ts';
import { escalateFromInbound, pushToChat } from '../domain/escalation.ts';
import { handleInbound, type InboundDeps, type InboundMessage, type InboundOutcome } from '../domain/inbound.ts';
import type { Template, Tenant } from '../domain/model.ts';
import type { EmailSender, SmsSender } from '../domain/ports.ts';
import { answerKeepMs, expiredPromptKeepMs } from '../domain/prompt-policy.ts';
import { createStepUp } from '../domain/step-up.ts';
import { createEscalation } from './chat/escalation-wiring.ts';
import { createEventPublisher } from './http/events.ts';
import { logger, metrics } from './http/observability.ts';

const notGiven = (what: string): never => {
  throw new Error(`This function sends no ${what}`);
};

/**
 * The inbound pipeline as a channel's function runs it, read once per container: the stores, the events, the
 * escalation, and the senders of the channels this function answers on (replies go out on the channel a message
 * came in on, so each function is given only what its channel needs).
 */
export const createInbound = async (channels: { sms?: SmsSender; email?: EmailSender }) => {
  const config = {
    tableName: requireEnv(envNames.tableName),
    eventBusName: requireEnv(envNames.eventBusName),
    deadLetterQueueUrl: requireEnv(envNames.deadLetterQueueUrl),
    cacheTtlMs: numberEnv(envNames.cacheTtlMs, 60_000),
    maxSmsSegments: numberEnv(envNames.maxSmsSegments, 6),
  };
  // One document client for every store of the table.
  const db = createDocumentClient();
  const tenantStore = new DynamoTenantReader(config.tableName, db);
  const templateStore = new DynamoTemplateStore(config.tableName, db);
  const deadLetters = new SqsDeadLetters(config.deadLetterQueueUrl);
  const tenants = new TtlCache<Tenant | undefined>(config.cacheTtlMs, Date.now, 1000, 'tenant');
  const templates = new TtlCache<Template | undefined>(config.cacheTtlMs, Date.now, 1000, 'template');
  const tokenSecret = await loadTokenSecret();
  const escalation = createEscalation({
    tokenSecret,
    ...(channels.sms && { sms: channels.sms }),
    ...(channels.email && { email: channels.email }),
    ...(optionalEnv(envNames.wsCallbackUrl) && { pusher: (endpoint) => new ApiGatewayPusher(endpoint) }),
  });
  const deps: InboundDeps = {
    customers: new DynamoCustomerStore(config.tableName, db),
    messages: new DynamoMessageStore(config.tableName, db),
    attention: new DynamoAttentionStore(config.tableName, db),
    senders: {
      sms: channels.sms ?? { sendSms: () => notGiven('SMS') },
      email: channels.email ?? { sendEmail: () => notGiven('email') },
    },
    replyAddress: escalation.deps.replyAddress,
    unsubscribeLinks: escalation.deps.outbound.unsubscribeLinks,
    maxSmsSegments: config.maxSmsSegments,
    events: createEventPublisher({
      eventBusName: config.eventBusName,
      eventsDeadLetterQueueUrl: requireEnv(envNames.eventsDlqUrl),
    }),
    clock: { now: () => Date.now() },
    getTemplate: (tenantId, name) =>
      templates.get(`${tenantId}/${name}`, () => templateStore.getTemplate(tenantId, name)),
    expiredPromptKeepMs,
    answerKeepMs,
    claimLeaseMs: 30_000,
    stepUp: {
      engine: createStepUp({ secret: tokenSecret }),
      store: new DynamoStepUpStore(config.tableName, db),
      // By email, the code comes with a link to a page whose button confirms (DESIGN section 16).
      ...(optionalEnv(envNames.publicUrl) && {
        confirmationLink: (token: string) => `${optionalEnv(envNames.publicUrl)}/v1/confirm/${token}`,
      }),
    },
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    escalate: ({ channel: _channel, ...input }) => escalateFromInbound(escalation.deps, input),
    // A customer who writes while chatting sees it in the chat too (when this function may push to the chat API).
    ...(optionalEnv(envNames.wsCallbackUrl) && {
      pushToChat: (customer, message) =>
        pushToChat(escalation.deps, customer, message).catch((error: unknown) =>
          logger.warn('chat push failed', { error: error as Error }),
        ),
    }),
  };

  return {
    tokenSecret,
    tenantStore,
    /** A tenant by id or by anything else that names it, cached per container. */
    tenant: (key: string, load: () => Promise<Tenant | undefined>) => tenants.get(key, load),
    /**
     * Runs one provider record: what can never be processed goes to the dead-letter queue at once, logged; anything
     * else that fails is thrown, so the delivery is retried and finally lands on the function's failure destination.
     */
    async process(
      source: string,
      payload: () => string,
      read: () => Promise<InboundMessage>,
      describe: (inbound: InboundMessage, outcome: InboundOutcome) => Record<string, unknown>,
    ): Promise<void> {
      try {
        const inbound = await read();
        const outcome = await handleInbound(deps, inbound);
        logger.info(`inbound ${inbound.channel} handled`, {
          tenantId: inbound.tenant.tenantId,
          ...describe(inbound, outcome),
          status: outcome.status,
          effect: outcome.effect?.type,
          messageId: outcome.messageId,
        });
        metrics.addMetric(outcome.status === 'duplicate' ? 'InboundDuplicates' : 'InboundProcessed', 'Count', 1);
      } catch (error) {
        if (!(error instanceof UnprocessableInboundError || error instanceof UnattributableInboundError)) throw error;
        logger.error(`${source} dead-lettered`, { reason: error.message });
        metrics.addMetric('InboundDeadLettered', 'Count', 1);
        await deadLetters.send({ reason: error.message, source, payload: payload() });
      }
    },
  };
};
