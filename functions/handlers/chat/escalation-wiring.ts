import { DynamoAttentionStore } from '../../adapters/dynamo/attention-store.ts';
import { DynamoCallbackStore } from '../../adapters/dynamo/callback-store.ts';
import { DynamoChatStore } from '../../adapters/dynamo/chat-store.ts';
import { DynamoCustomerStore } from '../../adapters/dynamo/customer-store.ts';
import { createDocumentClient } from '../../adapters/dynamo/dynamo-helpers.ts';
import { DynamoMessageStore } from '../../adapters/dynamo/message-store.ts';
import { DynamoTenantReader } from '../../adapters/dynamo/tenant-reader.ts';
import { TtlCache } from '../../adapters/ttl-cache.ts';
import { numberEnv, optionalEnv, requireEnv } from '../../config/env.ts';
import * as envNames from '../../config/env-names.ts';
import type { EscalationDeps } from '../../domain/escalation.ts';
import type { Tenant } from '../../domain/model.ts';
import type { ConnectionPusher, EmailSender, SmsSender } from '../../domain/ports.ts';
import { createReplyToken } from '../../domain/tokens.ts';
import { unsubscribeLinks } from '../../domain/unsubscribe.ts';
import { createEventPublisher } from '../http/events.ts';

/** What a function brings to the escalation code: only what it uses, so the rest stays out of its bundle. */
export interface EscalationParts {
  tokenSecret?: string;
  sms?: SmsSender;
  email?: EmailSender;
  /** Builds the pusher for the WebSocket API's callback URL. */
  pusher?: (endpoint: () => string) => ConnectionPusher;
}

const missing = (what: string): never => {
  throw new Error(`This function was not given ${what}`);
};

/**
 * The dependencies of the conversation, callback and chat functions, read once per container. The WebSocket
 * callback URL and the public page URL come from the environment where the function is not part of that API,
 * else from the event (a function cannot name the API that integrates it without a deployment cycle).
 */
export const createEscalation = (parts: EscalationParts = {}) => {
  const config = {
    tableName: requireEnv(envNames.tableName),
    eventBusName: requireEnv(envNames.eventBusName),
    replyDomain: optionalEnv(envNames.replyDomain) ?? 'reply.invalid',
    wsCallbackUrl: optionalEnv(envNames.wsCallbackUrl),
    publicUrl: optionalEnv(envNames.publicUrl),
    chatSessionTtlMs: numberEnv(envNames.chatSessionTtlMs, 24 * 3600 * 1000),
    cacheTtlMs: numberEnv(envNames.cacheTtlMs, 60_000),
    maxSmsSegments: numberEnv(envNames.maxSmsSegments, 6),
  };
  const db = createDocumentClient();
  const messages = new DynamoMessageStore(config.tableName, db);
  const tenantStore = new DynamoTenantReader(config.tableName, db);
  const tenants = new TtlCache<Tenant | undefined>(config.cacheTtlMs, Date.now, 1000, 'tenant');
  let wsEndpointFromEvent: string | undefined;
  let publicUrlFromEvent: string | undefined;
  const tokenSecret = () => parts.tokenSecret ?? missing('the token secret');
  const pusher = parts.pusher?.(() => {
    const endpoint = config.wsCallbackUrl ?? wsEndpointFromEvent;
    if (!endpoint) throw new Error('No WebSocket callback URL (PARLEY_WS_CALLBACK_URL)');
    return endpoint;
  });
  const sms = parts.sms ?? { sendSms: () => missing('an SMS sender') };
  const email = parts.email ?? { sendEmail: () => missing('an email sender') };
  const events = createEventPublisher({
    eventBusName: config.eventBusName,
    eventsDeadLetterQueueUrl: requireEnv(envNames.eventsDlqUrl),
  });
  const clock = { now: () => Date.now() };
  const replyAddress = (tenantId: string, messageId: string) =>
    `reply+${createReplyToken(tokenSecret(), tenantId, messageId)}@${config.replyDomain}`;
  const publicUrl = () => config.publicUrl ?? publicUrlFromEvent;

  const deps: EscalationDeps = {
    customers: new DynamoCustomerStore(config.tableName, db),
    messages,
    attention: new DynamoAttentionStore(config.tableName, db),
    callbacks: new DynamoCallbackStore(config.tableName, db),
    chats: new DynamoChatStore(config.tableName, db),
    pusher: pusher ?? { push: () => missing('a WebSocket pusher') },
    sms,
    email,
    outbound: {
      senders: { sms, email },
      messages,
      events,
      clock,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      replyAddress,
      unsubscribeLinks: (tenantId, address, messageId) =>
        unsubscribeLinks(
          { tokenSecret: tokenSecret(), replyDomain: config.replyDomain, publicUrl: publicUrl() },
          tenantId,
          address,
          messageId,
        ),
      maxSmsSegments: config.maxSmsSegments,
    },
    events,
    clock,
    getTenant: (tenantId) => tenants.get(tenantId, () => tenantStore.getTenant(tenantId)),
    get tokenSecret() {
      return tokenSecret();
    },
    get publicBaseUrl() {
      return publicUrl() ?? '';
    },
    chatSessionTtlMs: config.chatSessionTtlMs,
    replyAddress,
  };
  return {
    deps,
    tokenSecret,
    tenant: deps.getTenant,
    /** Learns the WebSocket API's callback URL from a WebSocket event. */
    useWebSocketEvent(context: { domainName?: string; stage?: string }) {
      if (context.domainName && context.stage) wsEndpointFromEvent = `https://${context.domainName}/${context.stage}`;
    },
    /** Learns the public URL of the pages from an HTTP API event. */
    useHttpEvent(context: { domainName?: string }) {
      if (context.domainName) publicUrlFromEvent = `https://${context.domainName}`;
    },
  };
};
