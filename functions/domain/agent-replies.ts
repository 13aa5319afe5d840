/**
 * An agent's (or backend's) free-form reply in a conversation, through the one outbound path: the segment cap and
 * consent hold, a refusal is recorded with `message.failed`, and a reply whose outcome is unknown is never resent.
 */
import { brandOf, withBrand } from './brand.ts';
import { ParleyError, ProviderRejectedError, ProviderUnavailableError } from './errors.ts';
import { fingerprint, newMessageId, newTimelineId } from './ids.ts';
import type { Customer, Message, MessageChannel, MessageClaim, Tenant } from './model.ts';
import { deliver, type OutboundDeps, recordChatMessage } from './outbound.ts';
import type { MessageStore } from './ports.ts';

export interface AgentReplyDeps extends OutboundDeps {
  messages: Pick<MessageStore, 'claimMessage' | 'releaseClaim' | 'putMessage' | 'listTimeline' | 'getMessageByClaim'>;
  getCustomer(tenantId: string, customerId: string): Promise<Customer | undefined>;
  /** Pushes the reply to the customer's connected chat: 'gone' when that connection no longer exists. */
  pushToConnectedChat(customer: Customer, message: Message): Promise<'ok' | 'gone' | 'none'>;
  /** Someone has answered: the customer's free text no longer waits for attention. */
  clearFreeTextAttention(tenantId: string, customerId: string, at: string): Promise<void>;
  claimLeaseMs: number;
}

export interface AgentReply {
  messageId: string;
  channel: MessageChannel;
  status: 'sent' | 'unknown';
  /** The answer to an earlier request with the same Idempotency-Key: nothing was sent this time. */
  replayed?: true;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The connected chat, else the channel of the customer's last inbound message, else SMS with a phone, else email. */
const channelFor = (customer: Customer, requested: 'auto' | MessageChannel): MessageChannel => {
  if (requested !== 'auto') return requested;
  if (customer.chat) return 'chat';
  if (customer.activeChannel && customer.activeChannel !== 'chat') return customer.activeChannel;
  return customer.phone ? 'sms' : 'email';
};

/** How far back an email reply looks for the customer's latest mail to answer in its thread. */
const threadLookback = 20;

/**
 * An email reply answers the customer's latest mail among their recent messages, if any: it goes in that thread,
 * under its subject, as a mail client would reply (one read, on this path only).
 */
const joinEmailThread = async (deps: AgentReplyDeps, message: Message) => {
  const { messages } = await deps.messages.listTimeline(message.tenantId, message.customerId, {
    limit: threadLookback,
  });
  const latest = messages.find((m) => m.direction === 'inbound' && m.channel === 'email' && m.emailThread);
  if (!latest?.emailThread) return;
  message.emailThread = latest.emailThread;
  message.inReplyTo = latest.messageId;
  if (latest.subject !== undefined) message.subject = latest.subject;
};

/**
 * Sends the reply on the channel the customer is on now. A chat that has closed falls back to SMS (or email) under
 * `auto`. Answers what happened; refusals before the provider are 4xx with nothing stored.
 */
export const replyToCustomer = async (
  deps: AgentReplyDeps,
  input: {
    tenant: Tenant;
    customerId: string;
    body: string;
    channel: 'auto' | MessageChannel;
    /** The agent console's or backend's key: a retry, or a second click, answers the first reply again. */
    idempotencyKey?: string;
  },
): Promise<AgentReply> => {
  const { tenant } = input;
  const customer = await deps.getCustomer(tenant.tenantId, input.customerId);
  if (!customer) throw new ParleyError('not_found', 'Customer not found');
  const now = deps.clock.now();
  const claim: MessageClaim = {
    tenantId: tenant.tenantId,
    messageId: newMessageId(
      tenant.tenantId,
      input.idempotencyKey === undefined ? undefined : `agent-reply:${customer.customerId}:${input.idempotencyKey}`,
    ),
    customerId: customer.customerId,
    timelineId: newTimelineId(now),
    requestHash:
      input.idempotencyKey === undefined ? 'agent' : fingerprint({ body: input.body, channel: input.channel }),
    leaseUntil: now + deps.claimLeaseMs,
    createdAt: iso(now),
  };
  // With a key the claim comes first, on every channel: the same key again finds it and sends nothing. A reply
  // refused before any provider had it releases the claim, so the same key can be used again.
  if (input.idempotencyKey !== undefined) {
    const claimed = await deps.messages.claimMessage(claim);
    if (!claimed.claimed) return replayOf(deps, claimed.existing, claim, channelFor(customer, input.channel));
    const progress = { handedToProvider: false };
    try {
      return await sendReply(deps, input, customer, claim, progress, async () => {});
    } catch (error) {
      if (!progress.handedToProvider || error instanceof ProviderUnavailableError) {
        await deps.messages.releaseClaim(claim);
      }
      throw error;
    }
  }
  return sendReply(deps, input, customer, claim, { handedToProvider: false }, async (lease) => {
    await deps.messages.claimMessage(lease);
  });
};

/** The reply on its channel; `claimOnce` claims its id where it has not been claimed yet (no key was given). */
const sendReply = async (
  deps: AgentReplyDeps,
  input: { tenant: Tenant; body: string; channel: 'auto' | MessageChannel },
  customer: Customer,
  claim: MessageClaim,
  progress: { handedToProvider: boolean },
  claimOnce: (lease: MessageClaim) => Promise<void>,
): Promise<AgentReply> => {
  const { tenant } = input;
  const draft = (channel: MessageChannel, to: string, from: string): Message => ({
    messageId: claim.messageId,
    tenantId: tenant.tenantId,
    customerId: customer.customerId,
    timelineId: claim.timelineId,
    direction: 'outbound',
    channel,
    to,
    from,
    // A text says who it is from (carriers expect it); chat and email carry the brand in the page and the sender.
    body: channel === 'sms' ? withBrand(tenant, input.body) : input.body,
    ...(channel === 'email' && { subject: `A message from ${brandOf(tenant)}` }),
    status: 'sending',
    statusHistory: [],
    origin: 'agent',
    createdAt: claim.createdAt,
  });

  let channel = channelFor(customer, input.channel);
  if (channel === 'chat') {
    if (!customer.chat) {
      if (input.channel === 'chat') throw new ParleyError('no_reachable_channel', 'The customer has no chat open');
    } else {
      const message = draft('chat', customer.customerId, brandOf(tenant));
      if ((await deps.pushToConnectedChat(customer, message)) === 'ok') {
        // The claim is the message's locator (GET /v1/messages/{id}); the push already happened, so no lease.
        await claimOnce({ ...claim, leaseUntil: 0 });
        await recordChatMessage(deps, message);
        await deps.clearFreeTextAttention(tenant.tenantId, customer.customerId, claim.createdAt);
        return { messageId: message.messageId, channel: 'chat', status: 'sent' };
      }
      if (input.channel === 'chat') throw new ParleyError('no_reachable_channel', 'The chat connection has closed');
    }
    // The chat is gone: back to SMS, as the customer would expect.
    channel = customer.phone ? 'sms' : 'email';
  }

  const address = channel === 'sms' ? customer.phone : customer.email;
  const from = channel === 'sms' ? tenant.smsNumber : tenant.emailFrom;
  if (!address || !from) throw new ParleyError('no_reachable_channel', `The customer cannot be reached by ${channel}`);

  const message = draft(channel, address, from);
  if (channel === 'email') await joinEmailThread(deps, message);
  await claimOnce(claim);
  try {
    const delivered = await deliver(deps, message, { customer, progress });
    await deps.clearFreeTextAttention(tenant.tenantId, customer.customerId, claim.createdAt);
    if (delivered.status === 'failed') throw delivered.error ?? new ProviderRejectedError('refused');
    return { messageId: claim.messageId, channel, status: delivered.status };
  } catch (error) {
    if (!progress.handedToProvider || error instanceof ProviderUnavailableError) {
      await deps.messages.releaseClaim(claim);
    }
    throw error;
  }
};

/**
 * What a reply with a key already used answers: the first reply as stored; 409 for another body under the key; 429
 * while the first is still going; `unknown` for one whose attempt died after it may have sent (never sent again).
 */
const replayOf = async (
  deps: AgentReplyDeps,
  existing: MessageClaim,
  claim: MessageClaim,
  channel: MessageChannel,
): Promise<AgentReply> => {
  if (existing.requestHash !== claim.requestHash || existing.customerId !== claim.customerId) {
    throw new ParleyError('idempotency_conflict', 'This Idempotency-Key was already used with a different reply');
  }
  const message = await deps.messages.getMessageByClaim(existing);
  if (message) {
    const status = message.status === 'unknown' ? 'unknown' : message.status === 'failed' ? undefined : 'sent';
    if (!status) throw new ProviderRejectedError('refused');
    return { messageId: message.messageId, channel: message.channel, status, replayed: true };
  }
  if (existing.leaseUntil > deps.clock.now()) {
    throw new ParleyError('rate_limited', 'A reply with this Idempotency-Key is still in progress; retry shortly', {
      retryAfterSeconds: Math.min(30, Math.max(1, Math.ceil((existing.leaseUntil - deps.clock.now()) / 1000))),
    });
  }
  return { messageId: existing.messageId, channel, status: 'unknown', replayed: true };
};
