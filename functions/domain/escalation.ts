/**
 * Reaching a person with the context already in hand: callbacks, chat sessions, agent replies and chat messages.
 * Every path writes into the one conversation and pushes new messages to a connected chat.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { encodeTime } from 'ulid';
import { type AgentReplyDeps, replyToCustomer as replyInConversation } from './agent-replies.ts';
import { createChatToken, customerTagOf, verifyChatToken } from './chat-tokens.ts';
import { timelineEntry } from './customers.ts';
import { NotFoundError, ParleyError } from './errors.ts';
import { parleyEvent } from './events.ts';
import { newMessageId, newTimelineId, randomBase32 } from './ids.ts';
import type { Callback, CallbackContext, ChatSession, Customer, InboundEffect, Message, Tenant } from './model.ts';
import { deliver, type OutboundDeps } from './outbound.ts';
import type {
  AttentionEntry,
  AttentionReason,
  AttentionStore,
  CallbackStore,
  ChatStore,
  Clock,
  ConnectionPusher,
  CustomerChat,
  CustomerStore,
  EmailSender,
  EventPublisher,
  MessageStore,
  Page,
  SmsSender,
} from './ports.ts';
import { cutText } from './text.ts';

export type { ConnectionPusher } from './ports.ts';

export interface EscalationDeps {
  customers: Pick<CustomerStore, 'getCustomer' | 'clearAcknowledged'>;
  /** The conversation's timeline: what an agent and the chat see of it, and the messages written into it here. */
  messages: Pick<MessageStore, 'claimMessage' | 'releaseClaim' | 'putMessage' | 'listTimeline' | 'getMessageByClaim'>;
  attention: AttentionStore;
  callbacks: CallbackStore;
  chats: ChatStore;
  pusher: ConnectionPusher;
  sms: SmsSender;
  email: EmailSender;
  /** The one outbound path, for what Parley sends here on its own (a texted chat link). */
  outbound: OutboundDeps;
  events: EventPublisher;
  clock: Clock;
  getTenant(tenantId: string): Promise<Tenant | undefined>;
  tokenSecret: string;
  /** Where the pages are served: chat links are `<publicBaseUrl>/chat#<token>`. */
  publicBaseUrl: string;
  chatSessionTtlMs: number;
  replyAddress(tenantId: string, messageId: string): string;
  /** The SMS segment cap for agent replies (DESIGN section 5; default 6). */
  maxSmsSegments?: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** DESIGN section 8: contexts keep summaries of at most 160 characters a message, never bodies. */
export const summaryMaxChars = 160;
/** How many recent messages a callback's context keeps. */
const contextMessages = 10;

// Callbacks

/** The context an agent sees with a callback: recent messages (summarised), prompts open and answered, references. */
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
      body: cutText(m.body, summaryMaxChars),
      createdAt: m.createdAt,
      ...(m.reference !== undefined && { reference: m.reference }),
    })),
    openPrompts: Object.values(customer?.openPrompts ?? {}).map((p) => ({
      messageId: p.messageId,
      summary: cutText(p.summary, summaryMaxChars),
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

/**
 * A callback id: time-ordered (`cb_` and a ULID's time part), and with an idempotency key derived from it, so a
 * redelivered request names the same callback.
 */
const newCallbackId = (tenantId: string, customerId: string, atMs: number, idempotencyKey?: string): string => {
  const tail =
    idempotencyKey === undefined
      ? randomBytes(10)
      : createHash('sha256').update(`callback\n${tenantId}\n${customerId}\n${idempotencyKey}`).digest();
  return `cb_${encodeTime(atMs, 10)}${randomBase32(tail, 16)}`;
};

/**
 * One open callback per customer: asking again returns the open one (`created: false`). With an idempotency key
 * (the inbound message id) a redelivery names the same callback, and finishes what a crashed attempt left undone.
 */
export const requestCallback = async (
  deps: Pick<EscalationDeps, 'customers' | 'messages' | 'callbacks' | 'attention' | 'events' | 'clock'>,
  input: { tenant: Tenant; customerId: string; keyword: string; at: string; idempotencyKey?: string },
): Promise<{ callback: Callback; created: boolean }> => {
  const { tenantId } = input.tenant;
  const customer = await deps.customers.getCustomer(tenantId, input.customerId);
  const recent = await deps.messages.listTimeline(tenantId, input.customerId, { limit: contextMessages });
  const callback: Callback = {
    callbackId: newCallbackId(
      tenantId,
      input.customerId,
      Date.parse(input.at) || deps.clock.now(),
      input.idempotencyKey,
    ),
    tenantId,
    customerId: input.customerId,
    status: 'requested',
    requestedAt: input.at,
    keyword: input.keyword,
    ...(customer?.phone !== undefined && { phone: customer.phone }),
    context: callbackContext(customer, recent.messages),
  };
  const { opened, callback: open } = await deps.callbacks.openCallback(callback);
  if (opened) {
    await deps.attention.raise(tenantId, open.customerId, 'callback', {
      at: open.requestedAt,
      summary: `Callback requested (${open.keyword})`,
      ref: open.callbackId,
    });
    const reference = open.context.references[0];
    await deps.events.publish([
      parleyEvent('callback.requested', {
        tenantId,
        customerId: open.customerId,
        occurredAt: open.requestedAt,
        callbackId: open.callbackId,
        keyword: open.keyword,
        ...(reference !== undefined && { reference }),
        context: open.context,
      }),
    ]);
  }
  return { callback: open, created: opened };
};

const callbackIdPattern = /^cb_[0-9A-Z]{26}$/;

/** An agent completes or cancels a requested callback: it leaves the attention list; `completed` is announced. */
export const closeCallback = async (
  deps: Pick<EscalationDeps, 'callbacks' | 'attention' | 'events' | 'clock'>,
  input: { tenantId: string; callbackId: string; status: 'completed' | 'cancelled'; note?: string },
): Promise<Callback> => {
  const { tenantId, callbackId } = input;
  const existing = callbackIdPattern.test(callbackId)
    ? await deps.callbacks.getCallback(tenantId, callbackId)
    : undefined;
  if (!existing) throw new NotFoundError('Callback');
  // The same close again (a retry, perhaps after a crash between the steps below) finishes what it started: the
  // attention entry is cleared and the event announced again (events are at least once). Another status is refused.
  let closed =
    existing.status === input.status
      ? existing
      : await deps.callbacks.closeCallback(tenantId, callbackId, {
          status: input.status,
          at: iso(deps.clock.now()),
          ...(input.note !== undefined && { note: input.note }),
        });
  if (!closed) {
    // Closed by someone else in between: the same close is a duplicate, another one is refused.
    const current = (await deps.callbacks.getCallback(tenantId, callbackId)) ?? existing;
    if (current.status !== input.status)
      throw new ParleyError('not_cancellable', `The callback is already ${current.status}`);
    closed = current;
  }
  const at = closed.closedAt ?? iso(deps.clock.now());
  await deps.attention.clear(tenantId, closed.customerId, 'callback', { at, ref: callbackId });
  if (closed.status === 'completed') {
    const reference = closed.context.references[0];
    await deps.events.publish([
      parleyEvent('callback.completed', {
        tenantId,
        customerId: closed.customerId,
        occurredAt: at,
        callbackId,
        ...(reference !== undefined && { reference }),
        ...(closed.note !== undefined && { note: closed.note }),
        context: closed.context,
      }),
    ]);
  }
  return closed;
};

/** The callback queue, newest first; by status when one is given. */
export const listCallbacks = (
  deps: Pick<EscalationDeps, 'callbacks'>,
  input: { tenantId: string; status?: Callback['status']; limit: number; cursor?: string },
): Promise<Page<Callback>> =>
  deps.callbacks.listCallbacks(input.tenantId, {
    limit: input.limit,
    ...(input.status !== undefined && { status: input.status }),
    ...(input.cursor !== undefined && { cursor: input.cursor }),
  });

// Attention

/** The order reasons are shown in. */
const reasonOrder: readonly AttentionReason[] = ['callback', 'chat', 'free_text'];

/** A conversation needing attention as `GET /v1/conversations` shows it. */
export const attentionView = (entry: AttentionEntry) => {
  const summary = entry.reasons.free_text?.summary ?? reasonOrder.map((r) => entry.reasons[r]?.summary).find(Boolean);
  const callbackId = entry.reasons.callback?.ref;
  return {
    customerId: entry.customerId,
    since: entry.since,
    lastMessageAt: entry.lastAt,
    reasons: reasonOrder.filter((reason) => entry.reasons[reason] !== undefined),
    ...(summary !== undefined && { summary }),
    ...(callbackId !== undefined && { callbackId }),
  };
};

/** Conversations with an open callback, a connected chat or unanswered free text, most recent first. */
export const listNeedingAttention = async (
  deps: Pick<EscalationDeps, 'attention'>,
  input: { tenantId: string; limit: number; cursor?: string },
) => {
  const page = await deps.attention.list(input.tenantId, {
    limit: input.limit,
    ...(input.cursor !== undefined && { cursor: input.cursor }),
  });
  return {
    conversations: page.items.map(attentionView),
    ...(page.nextCursor !== undefined && { nextCursor: page.nextCursor }),
  };
};

// Chat sessions

/**
 * A session id: random, or with an idempotency key derived from it under the token secret (so it cannot be guessed
 * from the key), so a redelivered start names the same session.
 */
const newSessionId = (secret: string, tenantId: string, customerId: string, idempotencyKey?: string): string => {
  const bytes =
    idempotencyKey === undefined
      ? randomBytes(16)
      : createHmac('sha256', secret).update(`chat-session\n${tenantId}\n${customerId}\n${idempotencyKey}`).digest();
  return `chat_${randomBase32(bytes, 26)}`;
};

/**
 * A chat session with a signed link; a customer has one live session, so a new one ends the previous one. With an
 * idempotency key (the inbound message that asked for it), starting again returns the same session and link.
 */
export const startChatSession = async (
  deps: Pick<EscalationDeps, 'chats' | 'clock' | 'tokenSecret' | 'publicBaseUrl' | 'chatSessionTtlMs'>,
  input: { tenant: Tenant; customerId: string; idempotencyKey?: string },
): Promise<{ sessionId: string; url: string; expiresAt: string; token: string }> => {
  const now = deps.clock.now();
  const { tenantId } = input.tenant;
  const { session, replaced } = await deps.chats.putChatSession({
    sessionId: newSessionId(deps.tokenSecret, tenantId, input.customerId, input.idempotencyKey),
    tenantId,
    customerId: input.customerId,
    createdAt: iso(now),
    expiresAt: iso(now + deps.chatSessionTtlMs),
    status: 'open',
  });
  if (replaced) await deps.chats.setChatSessionState(tenantId, replaced, { status: 'ended' });
  const token = createChatToken(deps.tokenSecret, {
    tenantId,
    customerId: input.customerId,
    sessionId: session.sessionId,
    exp: Math.floor(Date.parse(session.expiresAt) / 1000),
  });
  return {
    sessionId: session.sessionId,
    token,
    url: `${deps.publicBaseUrl}/chat#${token}`,
    expiresAt: session.expiresAt,
  };
};

/** The channel a chat link is texted on: the customer's current one (not the chat), else SMS, else email. */
const linkChannel = (customer: Customer, tenant: Tenant): 'sms' | 'email' | undefined => {
  const current = customer.activeChannel === 'chat' ? undefined : customer.activeChannel;
  const reachable = (channel: 'sms' | 'email') =>
    channel === 'sms' ? customer.phone !== undefined : customer.email !== undefined && tenant.emailFrom !== undefined;
  if (current && reachable(current)) return current;
  if (reachable('sms')) return 'sms';
  return reachable('email') ? 'email' : undefined;
};

/**
 * Texts a chat link through the one outbound path. It is Parley's own message, not an answer: whatever the customer
 * asked before still waits for an agent.
 */
const textChatLink = async (deps: EscalationDeps, tenant: Tenant, customer: Customer, url: string) => {
  const channel = linkChannel(customer, tenant);
  if (!channel) throw new ParleyError('no_reachable_channel', 'The customer has no phone or email to text a link to');
  const now = deps.clock.now();
  const draft: Message = {
    messageId: newMessageId(tenant.tenantId),
    tenantId: tenant.tenantId,
    customerId: customer.customerId,
    timelineId: newTimelineId(now),
    direction: 'outbound',
    channel,
    to: (channel === 'sms' ? customer.phone : customer.email) as string,
    from: channel === 'sms' ? tenant.smsNumber : (tenant.emailFrom as string),
    ...(channel === 'email' && { subject: `Chat with ${tenant.name}` }),
    body: `${tenant.name}: chat with us here: ${url}`,
    status: 'sending',
    statusHistory: [],
    origin: 'reply',
    createdAt: iso(now),
  };
  // The id → timeline pointer, so GET /v1/messages/{id} finds the link message.
  await deps.messages.claimMessage({
    tenantId: draft.tenantId,
    messageId: draft.messageId,
    customerId: draft.customerId,
    timelineId: draft.timelineId,
    requestHash: 'outbound',
    leaseUntil: 0,
    createdAt: draft.createdAt,
  });
  const delivered = await deliver(deps.outbound, draft, { customer });
  if (delivered.status === 'failed') throw delivered.error ?? new ParleyError('provider_rejected', 'Not sent');
  return delivered.message.messageId;
};

/** `POST /v1/customers/{id}/chat-sessions`: a signed, expiring link, texted to the customer when asked. */
export const startChat = async (
  deps: EscalationDeps,
  input: { tenant: Tenant; customerId: string; sendLink: boolean },
): Promise<{ sessionId: string; url: string; expiresAt: string; linkMessageId?: string }> => {
  const customer = await deps.customers.getCustomer(input.tenant.tenantId, input.customerId);
  if (!customer) throw new NotFoundError('Customer');
  const session = await startChatSession(deps, { tenant: input.tenant, customerId: input.customerId });
  const linkMessageId = input.sendLink ? await textChatLink(deps, input.tenant, customer, session.url) : undefined;
  return {
    sessionId: session.sessionId,
    url: session.url,
    expiresAt: session.expiresAt,
    ...(linkMessageId !== undefined && { linkMessageId }),
  };
};

// Chat frames

/** API Gateway's limit on one PostToConnection: a bigger frame never reaches the page (DESIGN section 10). */
export const maxChatFrameBytes = 128 * 1024;

/** A message as a chat frame carries it; `truncated` when its body was cut to fit the frame. */
export type ChatEntry = ReturnType<typeof timelineEntry> & { truncated?: true };

const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));

/** The UTF-8 bytes one code point takes inside a JSON string (escapes included). */
const jsonCharBytes = (codePoint: number): number => {
  if (codePoint === 0x22 || codePoint === 0x5c) return 2;
  if (codePoint < 0x20) return [0x08, 0x09, 0x0a, 0x0c, 0x0d].includes(codePoint) ? 2 : 6;
  if (codePoint < 0x80) return 1;
  if (codePoint < 0x800) return 2;
  if (codePoint >= 0xd800 && codePoint <= 0xdfff) return 6; // a lone surrogate, escaped
  return codePoint < 0x10000 ? 3 : 4;
};

let graphemes: Intl.Segmenter | undefined;

/**
 * The longest start of `text` that takes at most `maxBytes` in a JSON string with `...` after it, cut between whole
 * characters (grapheme clusters where the runtime can tell them). One pass: `cutText` counts code units, and
 * fitting a frame by bytes with it would take a search over the whole text.
 */
const cutToJsonBytes = (text: string, maxBytes: number): string => {
  const marker = '...';
  let end = 0;
  let bytes = marker.length;
  for (const character of text) {
    bytes += jsonCharBytes(character.codePointAt(0) as number);
    if (bytes > maxBytes) break;
    end += character.length;
  }
  if (typeof Intl.Segmenter === 'function') {
    graphemes ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' });
    const cluster = graphemes.segment(text).containing(end);
    if (cluster && cluster.index < end) end = cluster.index;
  }
  return `${text.slice(0, end)}${marker}`;
};

/**
 * A message in at most `budget` bytes of JSON: a body too long for it is cut on whole characters, with `...` and
 * `truncated: true` (the stored message stays whole; the conversation API has all of it).
 */
export const chatEntry = (message: Message, customer: Customer | undefined, budget: number): ChatEntry => {
  const entry: ChatEntry = timelineEntry(message, customer);
  if (jsonBytes(entry) <= budget) return entry;
  const around = jsonBytes({ ...entry, body: '', truncated: true });
  return { ...entry, body: cutToJsonBytes(entry.body, Math.max(0, budget - around)), truncated: true };
};

const messageEnvelopeBytes = jsonBytes({ type: 'message', message: {} }) - 2;
const historyEnvelopeBytes = jsonBytes({ type: 'history', messages: [] });

/** The frame that shows one new message on the page, within the frame limit. */
export const messageFrame = (message: Message, customer?: Customer, maxBytes = maxChatFrameBytes) => ({
  type: 'message' as const,
  message: chatEntry(message, customer, maxBytes - messageEnvelopeBytes),
});

/**
 * The history as frames within the frame limit, oldest first across and within them (the page merges them by
 * time). Always at least one frame, so an empty conversation is answered too.
 */
export const historyFrames = (oldestFirst: Message[], customer: Customer | undefined, maxBytes = maxChatFrameBytes) => {
  const frames: ChatEntry[][] = [];
  let current: ChatEntry[] = [];
  let size = historyEnvelopeBytes;
  for (const message of oldestFirst) {
    const entry = chatEntry(message, customer, maxBytes - historyEnvelopeBytes);
    const bytes = jsonBytes(entry);
    // Each entry after the first costs its comma too.
    if (current.length > 0 && size + bytes + 1 > maxBytes) {
      frames.push(current);
      current = [];
      size = historyEnvelopeBytes;
    }
    size += bytes + (current.length > 0 ? 1 : 0);
    current.push(entry);
  }
  frames.push(current);
  return frames
    .filter((entries, i) => entries.length > 0 || i === 0)
    .map((messages) => ({ type: 'history' as const, messages }));
};

/** How much of the conversation the chat page gets on `{"type": "history"}`. */
const historySize = 50;

// Chat connections

/** What pushing to a chat needs; ending a stale connection touches the chat store and the attention list. */
export type ChatPushDeps = Pick<EscalationDeps, 'pusher' | 'events' | 'clock'> & {
  chats: Pick<ChatStore, 'setCustomerChat' | 'setChatSessionState' | 'deleteConnection'>;
  attention: Pick<AttentionStore, 'clear'>;
};

/** Pushes a new conversation message to the customer's connected chat; a stale connection falls back to SMS. */
export const pushToChat = async (deps: ChatPushDeps, customer: Customer | undefined, message: Message) => {
  if (!customer?.chat) return 'none' as const;
  const result = await deps.pusher.push(customer.chat.connectionId, messageFrame(message, customer));
  if (result === 'gone') await endChatConnection(deps, customer.tenantId, customer.customerId, customer.chat);
  return result;
};

/** A connection that closed or went stale: the customer is back on SMS. */
export const endChatConnection = async (
  deps: ChatPushDeps,
  tenantId: string,
  customerId: string,
  chat: Pick<CustomerChat, 'sessionId' | 'connectionId'>,
) => {
  const { chats, attention } = deps;
  const at = iso(deps.clock.now());
  await chats.setCustomerChat(tenantId, customerId, null, chat.connectionId);
  await chats.setChatSessionState(tenantId, chat.sessionId, { connectionId: null }).catch(() => undefined);
  await chats.deleteConnection(chat.connectionId);
  await attention.clear(tenantId, customerId, 'chat', { at, ref: chat.sessionId });
  await deps.events.publish([
    parleyEvent('chat.ended', { tenantId, customerId, occurredAt: at, sessionId: chat.sessionId }),
  ]);
};

const isLive = (session: ChatSession | undefined, now: number): session is ChatSession =>
  session !== undefined && session.status === 'open' && Date.parse(session.expiresAt) > now;

/**
 * `$connect`: the chat token must be well signed, unexpired, and name an open session of that tenant and customer.
 * A refusal does not say which check failed.
 */
export const connectChat = async (
  deps: Pick<EscalationDeps, 'chats' | 'attention' | 'events' | 'clock' | 'tokenSecret'>,
  input: { connectionId: string; token: string },
): Promise<{ connected: false } | { connected: true; session: ChatSession }> => {
  const now = deps.clock.now();
  const claims = verifyChatToken(deps.tokenSecret, input.token, now);
  const session = claims && (await deps.chats.getChatSession(claims.tenantId, claims.sessionId));
  if (!claims || !isLive(session, now) || customerTagOf(session.customerId) !== claims.customerTag) {
    return { connected: false };
  }
  const at = iso(now);
  const { tenantId, customerId, sessionId } = session;
  await deps.chats.putConnection({
    connectionId: input.connectionId,
    tenantId,
    customerId,
    sessionId,
    connectedAt: at,
  });
  await deps.chats.setChatSessionState(tenantId, sessionId, { connectionId: input.connectionId });
  await deps.chats.setCustomerChat(tenantId, customerId, { sessionId, connectionId: input.connectionId, since: at });
  await deps.attention.raise(tenantId, customerId, 'chat', { at, summary: 'In the chat', ref: sessionId });
  await deps.events.publish([parleyEvent('chat.started', { tenantId, customerId, occurredAt: at, sessionId })]);
  return { connected: true, session };
};

/** `$disconnect`: the customer left the chat; they are back on SMS. */
export const disconnectChat = async (deps: EscalationDeps, connectionId: string): Promise<void> => {
  const connection = await deps.chats.getConnection(connectionId);
  if (!connection) return;
  await endChatConnection(deps, connection.tenantId, connection.customerId, connection);
};

/** A frame the chat page sent (undefined: one that is not JSON or not a frame Parley knows). */
export type ChatFrame = { type: 'history' } | { type: 'message'; body: string };

/**
 * `$default`: `history` answers the recent conversation on every channel, oldest first, in frames within the limit
 * (API Gateway cannot push during `$connect`, so the page asks); `message` stores what the customer typed. A
 * connection whose session ended or expired gets an error frame, as does a frame that is not one of these.
 */
export const receiveChatFrame = async (
  deps: EscalationDeps,
  input: { connectionId: string; frame: ChatFrame | undefined },
): Promise<'ok' | 'invalid' | 'ended'> => {
  const { connectionId } = input;
  const connection = await deps.chats.getConnection(connectionId);
  const session = connection && (await deps.chats.getChatSession(connection.tenantId, connection.sessionId));
  const tenant =
    connection && isLive(session, deps.clock.now()) ? await deps.getTenant(connection.tenantId) : undefined;
  if (!connection || !tenant) {
    await deps.pusher.push(connectionId, {
      type: 'error',
      error: { code: 'unauthorized', message: 'This chat has ended' },
    });
    return 'ended';
  }
  if (!input.frame) {
    await deps.pusher.push(connectionId, {
      type: 'error',
      error: { code: 'invalid_request', message: 'Send {"type":"history"} or {"type":"message","body":"..."}' },
    });
    return 'invalid';
  }
  if (input.frame.type === 'history') {
    const customer = await deps.customers.getCustomer(connection.tenantId, connection.customerId);
    const page = await deps.messages.listTimeline(connection.tenantId, connection.customerId, { limit: historySize });
    for (const frame of historyFrames(page.messages.reverse(), customer)) {
      if ((await deps.pusher.push(connectionId, frame)) === 'gone') break;
    }
    return 'ok';
  }
  await receiveChatMessage(deps, { tenant, customerId: connection.customerId, connectionId, body: input.frame.body });
  return 'ok';
};

const storeMessage = async (deps: EscalationDeps, message: Message) => {
  await deps.messages.claimMessage({
    tenantId: message.tenantId,
    messageId: message.messageId,
    customerId: message.customerId,
    timelineId: message.timelineId,
    requestHash: message.direction,
    leaseUntil: 0,
    createdAt: message.createdAt,
  });
  await deps.messages.putMessage(message);
};

/** The agent-reply path's dependencies, from what every escalation function is given. */
const agentReplyDeps = (deps: EscalationDeps): AgentReplyDeps => ({
  ...deps.outbound,
  messages: deps.messages,
  claimLeaseMs: 30_000,
  getCustomer: (tenantId: string, customerId: string) => deps.customers.getCustomer(tenantId, customerId),
  pushToConnectedChat: (customer: Customer, message: Message) => pushToChat(deps, customer, message),
  clearFreeTextAttention: async (tenantId: string, customerId: string, at: string) => {
    await deps.attention.clear(tenantId, customerId, 'free_text', { at });
    // Someone answered: the customer's next free text is acknowledged again.
    await deps.customers.clearAcknowledged(tenantId, customerId);
  },
});

/** An agent's (or backend's) free-form reply, through the one outbound path (functions/domain/agent-replies.ts). */
export const replyToCustomer = (deps: EscalationDeps, input: Parameters<typeof replyInConversation>[1]) =>
  replyInConversation(agentReplyDeps(deps), input);

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
  await deps.attention.raise(input.tenant.tenantId, input.customerId, 'free_text', {
    at: message.createdAt,
    summary: cutText(input.body, summaryMaxChars),
  });
  await deps.events.publish([
    parleyEvent('message.received', {
      tenantId: input.tenant.tenantId,
      customerId: input.customerId,
      occurredAt: message.createdAt,
      messageId: message.messageId,
      channel: 'chat',
      body: input.body,
    }),
  ]);
  await deps.pusher.push(input.connectionId, messageFrame(message));
  return message;
};

/**
 * CALL / CHAT on any channel with text in (SMS, email): a callback request, or a chat link (a callback where the
 * tenant has chat off).
 */
export const escalateFromInbound = async (
  deps: EscalationDeps,
  input: {
    tenant: Tenant;
    customerId: string;
    kind: 'callback' | 'chat';
    keyword: string;
    at: string;
    /** The inbound message that asked: a redelivery of it gets the same callback or chat link. */
    inboundMessageId?: string;
  },
): Promise<{ effect: InboundEffectOf<'callback_requested' | 'chat_requested'>; reply: string }> => {
  const { tenant } = input;
  const idempotency = input.inboundMessageId !== undefined ? { idempotencyKey: input.inboundMessageId } : {};
  if (input.kind === 'chat' && tenant.chatEnabled !== false) {
    const session = await startChatSession(deps, { tenant, customerId: input.customerId, ...idempotency });
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
    ...idempotency,
  });
  return {
    effect: { type: 'callback_requested', callbackId: callback.callbackId, keyword: input.keyword },
    reply: created
      ? `${tenant.name}: thanks, an agent will call you back shortly. They will have this conversation in front of them.`
      : `${tenant.name}: your callback request is already with us; an agent will call you soon.`,
  };
};

type InboundEffectOf<T extends InboundEffect['type']> = Extract<InboundEffect, { type: T }>;
