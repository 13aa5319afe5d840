import { ApiGatewayPusher } from '../../adapters/chat/api-gateway-pusher.ts';
import { DynamoStore } from '../../adapters/dynamo/dynamo-store.ts';
import { SesEmailSender } from '../../adapters/email/ses-email-sender.ts';
import { EventBridgePublisher } from '../../adapters/events/eventbridge-publisher.ts';
import { SnsSmsSender } from '../../adapters/sms/sns-sms-sender.ts';
import { loadTokenSecret } from '../../adapters/token-secret.ts';
import { TtlCache } from '../../adapters/ttl-cache.ts';
import { numberEnv, optionalEnv, requireEnv } from '../../config/env.ts';
import type { EscalationDeps } from '../../domain/escalation.ts';
import type { Tenant } from '../../domain/model.ts';
import { createReplyToken } from '../../domain/tokens.ts';
import { reportingPublisher } from '../http/events.ts';

/**
 * The dependencies of the conversation, callback and chat functions, read once per container. The WebSocket
 * callback URL and the public page URL come from the environment where the function is not part of that API,
 * else from the event (a function cannot name the API that integrates it without a deployment cycle).
 */
export const createEscalation = async () => {
  const config = {
    tableName: requireEnv('PARLEY_TABLE_NAME'),
    eventBusName: requireEnv('PARLEY_EVENT_BUS_NAME'),
    sesConfigurationSet: optionalEnv('PARLEY_SES_CONFIGURATION_SET') ?? 'parley',
    replyDomain: optionalEnv('PARLEY_REPLY_DOMAIN') ?? 'reply.invalid',
    wsCallbackUrl: optionalEnv('PARLEY_WS_CALLBACK_URL'),
    publicUrl: optionalEnv('PARLEY_PUBLIC_URL'),
    chatSessionTtlMs: numberEnv('PARLEY_CHAT_SESSION_TTL_MS', 24 * 3600 * 1000),
    cacheTtlMs: numberEnv('PARLEY_CACHE_TTL_MS', 60_000),
  };
  const tokenSecret = await loadTokenSecret();
  const store = new DynamoStore(config.tableName);
  const tenants = new TtlCache<Tenant | undefined>(config.cacheTtlMs);
  let wsEndpointFromEvent: string | undefined;
  let publicUrlFromEvent: string | undefined;

  const deps: EscalationDeps = {
    store,
    pusher: new ApiGatewayPusher(() => {
      const endpoint = config.wsCallbackUrl ?? wsEndpointFromEvent;
      if (!endpoint) throw new Error('No WebSocket callback URL (PARLEY_WS_CALLBACK_URL)');
      return endpoint;
    }),
    sms: new SnsSmsSender(),
    email: new SesEmailSender(config.sesConfigurationSet),
    events: reportingPublisher(new EventBridgePublisher(config.eventBusName)),
    clock: { now: () => Date.now() },
    tokenSecret,
    get publicBaseUrl() {
      return config.publicUrl ?? publicUrlFromEvent ?? '';
    },
    chatSessionTtlMs: config.chatSessionTtlMs,
    replyAddress: (tenantId, messageId) =>
      `reply+${createReplyToken(tokenSecret, tenantId, messageId)}@${config.replyDomain}`,
  };
  return {
    deps,
    store,
    tokenSecret,
    tenant: (tenantId: string) => tenants.get(tenantId, () => store.getTenant(tenantId)),
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
