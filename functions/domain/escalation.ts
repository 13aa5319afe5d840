/**
 * Reaching a person with the context already in hand: callbacks, chat sessions, agent replies and chat messages.
 * Every path writes into the one conversation and pushes new messages to a connected chat.
 */
import { randomBytes } from 'node:crypto';
import { ulid } from 'ulid';
import { createChatToken } from './chat-tokens.ts';
import { timelineEntry } from './customers.ts';
import { ParleyError } from './errors.ts';
import { newMessageId, newTimelineId, randomBase32 } from './ids.ts';
import type {
  Callback,
  CallbackContext,
  ChatSession,
  Customer,
  InboundEffect,
  Message,
  MessageChannel,
  Tenant,
} from './model.ts';
import type { Clock, EmailSender, EventPublisher, MessageStore, SmsSender, TimelinePage } from './ports.ts';

export interface EscalationStore extends Pick<MessageStore, 'claimMessage' | 'putMessage'> {
  getCustomer(tenantId: string, customerId: string): Promise<Customer | undefined>;
  listTimeline(
    tenantId: string,
    customerId: string,
    options: { limit: number; before?: string },
  ): Promise<TimelinePage>;
  createCallback(callback: Callback): Promise<{ created: boolean; callback: Callback }>;
  /** Returns the id of the customer's previous session, which the new one replaces. */
  putChatSession(session: ChatSession): Promise<string | undefined>;
  getChatSession(tenantId: string, sessionId: string): Promise<ChatSession | undefined>;
  setChatSessionState(
    tenantId: string,
    sessionId: string,
    change: { status?: ChatSession['status']; connectionId?: string | null },
  ): Promise<void>;
  setCustomerChat(
    tenantId: string,
    customerId: string,
    chat: { sessionId: string; connectionId: string; since: string } | null,
    clearingConnectionId?: string,
  ): Promise<void>;
  setAttentionReason(
    tenantId: string,
    customerId: string,
    reason: 'freeTextAt' | 'callbackId' | 'chatSessionId',
    value: string | null,
    at: string,
  ): Promise<void>;
  deleteConnection(connectionId: string): Promise<void>;
}

/** Pushes a frame to a WebSocket connection; 'gone' when the connection no longer exists. */
export interface ConnectionPusher {
  push(connectionId: string, frame: unknown): Promise<'ok' | 'gone'>;
}

export interface EscalationDeps {
  store: EscalationStore;
  pusher: ConnectionPusher;
  sms: SmsSender;
  email: EmailSender;
  events: EventPublisher;
  clock: Clock;
  tokenSecret: string;
  /** Where the pages are served: chat links are `<publicBaseUrl>/chat#<token>`. */
  publicBaseUrl: string;
  chatSessionTtlMs: number;
  replyAddress(tenantId: string, messageId: string): string;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The context an agent sees with a callback: recent messages, prompts open and answered, references. */
export const callbackContext = (customer: Customer | undefined, recent: Message[]): CallbackContext => {
  const references = new Set<string>();
  for (const message of recent) if (message.reference) references.add(message.reference);
  for (const prompt of Object.values(customer?.openPrompts ?? {}))
    if (prompt.reference) references.add(prompt.reference);
  const byId = new Map(recent.map((m) => [m.messageId, m]));
  return {
    recentMessages: recent.map((m) => ({
      direction: m.direction,
      channel: m.channel,
      body: m.body,
      createdAt: m.createdAt,
      ...(m.reference !== undefined && { reference: m.reference }),
    })),
    openPrompts: Object.values(customer?.openPrompts ?? {}).map((p) => ({
      messageId: p.messageId,
      summary: p.summary,
      expiresAt: p.expiresAt,
      ...(p.reference !== undefined && { reference: p.reference }),
    })),
    answeredPrompts: Object.entries(customer?.promptAnswers ?? {}).map(([messageId, answer]) => {
      const reference = byId.get(messageId)?.reference;
      return { messageId, answer: answer.answer, at: answer.at, ...(reference !== undefined && { reference }) };
    }),
    references: [...references],
  };
};

/** One open callback per customer: asking again returns the open one. */
export const requestCallback = async (
  deps: EscalationDeps,
  input: { tenant: Tenant; customerId: string; keyword: string; at: string },
): Promise<{ callback: Callback; created: boolean }> => {
  const customer = await deps.store.getCustomer(input.tenant.tenantId, input.customerId);
  const recent = await deps.store.listTimeline(input.tenant.tenantId, input.customerId, { limit: 10 });
  const callback: Callback = {
    callbackId: `cb_${ulid(deps.clock.now())}`,
    tenantId: input.tenant.tenantId,
    customerId: input.customerId,
    status: 'requested',
    requestedAt: input.at,
    keyword: input.keyword,
    ...(customer?.phone !== undefined && { phone: customer.phone }),
    context: callbackContext(customer, recent.messages),
  };
  const result = await deps.store.createCallback(callback);
  if (result.created) {
    await deps.store.setAttentionReason(
      input.tenant.tenantId,
      input.customerId,
      'callbackId',
      callback.callbackId,
      input.at,
    );
    await deps.events.publish([
      {
        type: 'callback.requested',
        detail: {
          tenantId: input.tenant.tenantId,
          customerId: input.customerId,
          occurredAt: input.at,
          callbackId: callback.callbackId,
          keyword: input.keyword,
          ...(callback.context.references[0] !== undefined && { reference: callback.context.references[0] }),
          context: callback.context,
        },
      },
    ]);
  }
  return result;
};

/** A chat session with a signed link; a customer has one live session, so a new one ends the previous one. */
export const startChatSession = async (
  deps: EscalationDeps,
  input: { tenant: Tenant; customerId: string },
): Promise<{ sessionId: string; url: string; expiresAt: string; token: string }> => {
  const now = deps.clock.now();
  const sessionId = `chat_${randomBase32(randomBytes(16), 26)}`;
  const expiresAt = now + deps.chatSessionTtlMs;
  const session: ChatSession = {
    sessionId,
    tenantId: input.tenant.tenantId,
    customerId: input.customerId,
    createdAt: iso(now),
    expiresAt: iso(expiresAt),
    status: 'open',
  };
  const previous = await deps.store.putChatSession(session);
  if (previous && previous !== sessionId) {
    await deps.store.setChatSessionState(input.tenant.tenantId, previous, { status: 'ended' });
  }
  const token = createChatToken(deps.tokenSecret, {
    tenantId: input.tenant.tenantId,
    customerId: input.customerId,
    sessionId,
    exp: Math.floor(expiresAt / 1000),
  });
  return { sessionId, token, url: `${deps.publicBaseUrl}/chat#${token}`, expiresAt: session.expiresAt };
};

/** Pushes a new conversation message to the customer's connected chat; a stale connection falls back to SMS. */
export const pushToChat = async (
  deps: Pick<EscalationDeps, 'pusher' | 'store' | 'events' | 'clock'>,
  customer: Customer | undefined,
  message: Message,
) => {
  if (!customer?.chat) return 'none' as const;
  const result = await deps.pusher.push(customer.chat.connectionId, {
    type: 'message',
    message: timelineEntry(message, customer),
  });
  if (result === 'gone') await endChatConnection(deps, customer.tenantId, customer.customerId, customer.chat);
  return result;
};

/** A connection that closed or went stale: the customer is back on SMS. */
export const endChatConnection = async (
  deps: Pick<EscalationDeps, 'store' | 'events' | 'clock'>,
  tenantId: string,
  customerId: string,
  chat: { sessionId: string; connectionId: string },
) => {
  const at = iso(deps.clock.now());
  await deps.store.setCustomerChat(tenantId, customerId, null, chat.connectionId);
  await deps.store.setChatSessionState(tenantId, chat.sessionId, { connectionId: null }).catch(() => undefined);
  await deps.store.deleteConnection(chat.connectionId);
  await deps.store.setAttentionReason(tenantId, customerId, 'chatSessionId', null, at);
  await deps.events.publish([
    { type: 'chat.ended', detail: { tenantId, customerId, occurredAt: at, sessionId: chat.sessionId } },
  ]);
};

const storeMessage = async (deps: EscalationDeps, message: Message) => {
  await deps.store.claimMessage({
    tenantId: message.tenantId,
    messageId: message.messageId,
    customerId: message.customerId,
    timelineId: message.timelineId,
    requestHash: message.direction,
    leaseUntil: 0,
    createdAt: message.createdAt,
  });
  await deps.store.putMessage(message);
};

/**
 * An agent's (or backend's) free-form reply, on the channel the customer is on now: the connected chat, else the
 * channel of their last inbound message, else SMS when they have a phone, else email.
 */
export const replyToCustomer = async (
  deps: EscalationDeps,
  input: { tenant: Tenant; customerId: string; body: string; channel: 'auto' | MessageChannel },
): Promise<{ messageId: string; channel: MessageChannel; status: Message['status'] }> => {
  const { tenant } = input;
  const customer = await deps.store.getCustomer(tenant.tenantId, input.customerId);
  if (!customer) throw new ParleyError('not_found', 'Customer not found');
  const now = deps.clock.now();
  const base = {
    messageId: newMessageId(tenant.tenantId),
    tenantId: tenant.tenantId,
    customerId: customer.customerId,
    timelineId: newTimelineId(now),
    direction: 'outbound' as const,
    body: input.body,
    createdAt: iso(now),
  };

  let channel: MessageChannel =
    input.channel !== 'auto'
      ? input.channel
      : customer.chat
        ? 'chat'
        : customer.activeChannel && customer.activeChannel !== 'chat'
          ? customer.activeChannel
          : customer.phone
            ? 'sms'
            : 'email';

  if (channel === 'chat') {
    if (!customer.chat) {
      if (input.channel === 'chat') throw new ParleyError('no_reachable_channel', 'The customer has no chat open');
    } else {
      const message: Message = {
        ...base,
        channel: 'chat',
        to: customer.customerId,
        from: tenant.name,
        status: 'sent',
        statusHistory: [{ status: 'sent', at: base.createdAt }],
      };
      const pushed = await pushToChat(deps, customer, message);
      if (pushed === 'ok') {
        await storeMessage(deps, message);
        await afterReply(deps, tenant, message);
        return { messageId: message.messageId, channel: 'chat', status: 'sent' };
      }
      if (input.channel === 'chat') throw new ParleyError('no_reachable_channel', 'The chat connection has closed');
    }
    // The chat is gone: back to SMS, as the customer would expect.
    channel = customer.phone ? 'sms' : 'email';
  }

  const address = channel === 'sms' ? customer.phone : customer.email;
  if (!address || (channel === 'email' && !tenant.emailFrom)) {
    throw new ParleyError('no_reachable_channel', `The customer cannot be reached by ${channel}`);
  }
  if (customer.consent[channel as 'sms' | 'email']?.status === 'opted_out') {
    throw new ParleyError('recipient_opted_out', `The customer has opted out of ${channel}`);
  }
  const message: Message = {
    ...base,
    channel,
    to: address,
    from: channel === 'sms' ? tenant.smsNumber : (tenant.emailFrom as string),
    ...(channel === 'email' && { subject: `A message from ${tenant.name}` }),
    status: 'queued',
    statusHistory: [{ status: 'queued', at: base.createdAt }],
  };
  const { providerMessageId } =
    channel === 'sms'
      ? await deps.sms.sendSms({ to: address, from: message.from, body: input.body })
      : await deps.email.sendEmail({
          to: address,
          from: message.from,
          replyTo: deps.replyAddress(tenant.tenantId, message.messageId),
          subject: message.subject as string,
          text: input.body,
        });
  message.status = 'sent';
  message.providerMessageId = providerMessageId;
  message.statusHistory.push({ status: 'sent', at: iso(deps.clock.now()) });
  await storeMessage(deps, message);
  await afterReply(deps, tenant, message);
  return { messageId: message.messageId, channel, status: 'sent' };
};

const afterReply = async (deps: EscalationDeps, tenant: Tenant, message: Message) => {
  // Someone has answered: the free text no longer waits for attention.
  await deps.store.setAttentionReason(tenant.tenantId, message.customerId, 'freeTextAt', null, message.createdAt);
  await deps.events.publish([
    {
      type: 'message.sent',
      detail: {
        tenantId: tenant.tenantId,
        customerId: message.customerId,
        occurredAt: message.createdAt,
        messageId: message.messageId,
        channel: message.channel,
      },
    },
  ]);
};

/** A message the customer typed in the chat: stored, announced, flagged for an agent, and echoed to the page. */
export const receiveChatMessage = async (
  deps: EscalationDeps,
  input: { tenant: Tenant; customerId: string; connectionId: string; body: string },
): Promise<Message> => {
  const now = deps.clock.now();
  const message: Message = {
    messageId: newMessageId(input.tenant.tenantId),
    tenantId: input.tenant.tenantId,
    customerId: input.customerId,
    timelineId: newTimelineId(now),
    direction: 'inbound',
    channel: 'chat',
    to: input.tenant.name,
    from: input.customerId,
    body: input.body,
    status: 'received',
    statusHistory: [{ status: 'received', at: iso(now) }],
    effect: { type: 'free_text' },
    createdAt: iso(now),
  };
  await storeMessage(deps, message);
  await deps.store.setAttentionReason(
    input.tenant.tenantId,
    input.customerId,
    'freeTextAt',
    message.createdAt,
    message.createdAt,
  );
  await deps.events.publish([
    {
      type: 'message.received',
      detail: {
        tenantId: input.tenant.tenantId,
        customerId: input.customerId,
        occurredAt: message.createdAt,
        messageId: message.messageId,
        channel: 'chat',
        body: input.body,
      },
    },
  ]);
  await deps.pusher.push(input.connectionId, { type: 'message', message: timelineEntry(message) });
  return message;
};

/** CALL / CHAT by SMS: a callback request, or a chat link (a callback where the tenant has chat off). */
export const escalateFromSms = async (
  deps: EscalationDeps,
  input: { tenant: Tenant; customerId: string; kind: 'callback' | 'chat'; keyword: string; at: string },
): Promise<{ effect: InboundEffectOf<'callback_requested' | 'chat_requested'>; reply: string }> => {
  const { tenant } = input;
  if (input.kind === 'chat' && tenant.chatEnabled !== false) {
    const session = await startChatSession(deps, { tenant, customerId: input.customerId });
    return {
      effect: { type: 'chat_requested', keyword: input.keyword },
      reply: `${tenant.name}: chat with us here: ${session.url}`,
    };
  }
  const { callback, created } = await requestCallback(deps, {
    tenant,
    customerId: input.customerId,
    keyword: input.keyword,
    at: input.at,
  });
  return {
    effect: { type: 'callback_requested', callbackId: callback.callbackId, keyword: input.keyword },
    reply: created
      ? `${tenant.name}: thanks, an agent will call you back shortly. They will have this conversation in front of them.`
      : `${tenant.name}: your callback request is already with us; an agent will call you soon.`,
  };
};

type InboundEffectOf<T extends InboundEffect['type']> = Extract<InboundEffect, { type: T }>;
