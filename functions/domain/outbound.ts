/**
 * The one outbound path (DESIGN sections 4, 7 and 11). Every message that leaves Parley — a backend's send, an
 * automatic reply, an agent's reply, a chat link — goes through `deliver`: content limits, consent, the channel's
 * sender, the status (`sending` → `sent` | `failed` | `unknown`), the stored message, the typed event and the chat
 * push. Callers own only what is theirs: accepting a send (claim, customer, prompt, route) or deciding a reply.
 */
import { ParleyError, ProviderOutcomeUnknownError, ProviderRejectedError, ProviderUnavailableError } from './errors.ts';
import { type FailureReason, parleyEvent } from './events.ts';
import type { Customer, Message, StoredResponse } from './model.ts';
import type { Clock, EmailSender, EventPublisher, MessageStore, SmsSender, UnsubscribeLinks } from './ports.ts';
import { countSegments } from './segments.ts';
import { hasControlCharacters, replySubjectOf } from './text.ts';

export interface ChannelSenders {
  sms: SmsSender;
  email: EmailSender;
}

export interface OutboundDeps {
  senders: ChannelSenders;
  messages: Pick<MessageStore, 'putMessage'>;
  events: EventPublisher;
  clock: Clock;
  sleep(ms: number): Promise<void>;
  /** The Reply-To address of an email, carrying a signed token naming the message. */
  replyAddress(tenantId: string, messageId: string): string;
  /** The `List-Unsubscribe` targets of an email to `address`, signed for the tenant (DESIGN section 12). */
  unsubscribeLinks(tenantId: string, address: string, messageId: string): UnsubscribeLinks;
  maxSmsSegments: number;
  /** Provider calls refused provably (throttling, 503, no connection) are tried again this often, with backoff. */
  providerAttempts?: number;
  /** Shows a message in the customer's connected chat, if any (optional; a failure there never fails a send). */
  pushToChat?(customer: Customer, message: Message): Promise<unknown>;
}

export type DeliveryStatus = 'sent' | 'failed' | 'unknown';

export interface Delivered {
  status: DeliveryStatus;
  message: Message;
  /** Why it failed: the provider's refusal, or a content or consent rule. */
  error?: ParleyError;
}

export interface DeliverOptions {
  /** The customer as it is now, for the chat push (no push without it). */
  customer?: Customer;
  /** What a replay of this message answers (sends keep their API answer on the message). */
  response?(delivered: Omit<Delivered, 'message'> & { message: Message }): StoredResponse;
  /**
   * A refused message (too long, opted out) is recorded as `failed` with `message.failed` (automatic replies: never
   * silent) instead of thrown before anything is stored (API requests: a 4xx, nothing stored).
   */
  recordRefusals?: boolean;
  /**
   * Which outcomes emit their event: every one (a backend's send, an agent's reply), or only the failures (Parley's
   * automatic replies: the backend hears when one could not go, not every HELP text).
   */
  announce?: 'all' | 'failures';
  /** The opt-out confirmation goes to the number that just opted out: carriers require it. */
  ignoreConsent?: boolean;
  /** Set to true just before the provider may have been reached: after that, a claim must never be released. */
  progress?: { handedToProvider: boolean };
  /**
   * An earlier attempt may have reached the provider (its claim outlived its lease with no message stored): record
   * the message as `unknown` without calling the provider, so it can never go twice.
   */
  mayHaveBeenSent?: boolean;
  /**
   * The text kept (stored, pushed to the chat) when it must differ from the one sent: a step-up code goes to the
   * customer, never into the table (DESIGN section 16).
   */
  storedBody?: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** A lone surrogate (with the `u` flag, a paired one is one code point, never `Cs`). */
const loneSurrogate = /\p{Cs}/u;

/** Refusals decided before any provider call: well-formed text, the SMS segment cap and consent. */
const refusal = (deps: OutboundDeps, message: Message, customer: Customer | undefined, ignoreConsent: boolean) => {
  // The SDK's Query serializer throws on a lone surrogate and keeps its half-written buffer for the client's next
  // call, whoever makes it: ill-formed text never reaches a sender, whatever let it this far.
  for (const text of [message.body, message.subject ?? '', message.html ?? '']) {
    if (loneSurrogate.test(text)) return new ParleyError('invalid_request', 'The text is not well-formed Unicode');
  }
  // The subject becomes a header: a line break there could start a header of its own.
  if (message.subject !== undefined && hasControlCharacters(message.subject, { oneLine: true })) {
    return new ParleyError('invalid_request', 'The email subject must be one line, without control characters');
  }
  if (message.channel === 'sms') {
    // A send counted its segments already, before its claim; everything else is counted here.
    const segments =
      message.segments !== undefined && message.encoding !== undefined
        ? { segments: message.segments, encoding: message.encoding }
        : countSegments(message.body);
    message.segments = segments.segments;
    message.encoding = segments.encoding;
    if (segments.segments > deps.maxSmsSegments) {
      return new ParleyError(
        'message_too_long',
        `The SMS is ${segments.segments} segments (${segments.encoding}); the limit is ${deps.maxSmsSegments}`,
      );
    }
  }
  const consent = message.channel === 'chat' ? undefined : customer?.consent[message.channel]?.status;
  if (!ignoreConsent && consent === 'opted_out') {
    return new ParleyError('recipient_opted_out', `The customer has opted out of ${message.channel}`);
  }
  // A bounced address stays refused whatever the message: the opt-out confirmation cannot reach it either.
  if (consent === 'suppressed') {
    return new ParleyError('recipient_suppressed', `The customer's ${message.channel} address bounced`);
  }
  return undefined;
};

/** One provider call, again only when the provider provably did not take it. */
const callProvider = async (deps: OutboundDeps, message: Message): Promise<{ providerMessageId: string }> => {
  const attempts = Math.max(1, deps.providerAttempts ?? 3);
  for (let attempt = 1; ; attempt++) {
    try {
      if (message.channel === 'sms') {
        return await deps.senders.sms.sendSms({
          to: message.to,
          from: message.from,
          body: message.body,
          messageId: message.messageId,
          tenantId: message.tenantId,
          ...(message.category === 'marketing' && { promotional: true }),
        });
      }
      return await deps.senders.email.sendEmail({
        to: message.to,
        from: message.from,
        replyTo: deps.replyAddress(message.tenantId, message.messageId),
        subject: message.subject ?? '',
        text: message.body,
        ...(message.html !== undefined && { html: message.html }),
        unsubscribe: deps.unsubscribeLinks(message.tenantId, message.to, message.messageId),
        ...(message.emailThread !== undefined && { thread: message.emailThread }),
        messageId: message.messageId,
        tenantId: message.tenantId,
      });
    } catch (error) {
      if (!(error instanceof ProviderUnavailableError) || attempt >= attempts) throw error;
      // Full jitter on a growing step: a throttled number gets room, and the whole try stays well under a second.
      await deps.sleep(Math.round(Math.random() * 50 * 2 ** attempt));
    }
  }
};

const failureReason = (error: ParleyError): FailureReason => {
  if (error.code === 'message_too_long') return 'message_too_long';
  if (error.code === 'recipient_opted_out') return 'opted_out';
  if (error.code === 'recipient_suppressed') return 'suppressed';
  return 'rejected';
};

/**
 * Sends a drafted message on its channel and records what happened. Throws `ProviderUnavailableError` when the
 * provider provably did not take it after the retries (nothing is stored: the caller releases its claim so a retry
 * can go), and `ParleyError` for a refusal unless `recordRefusals` is set.
 */
export const deliver = async (deps: OutboundDeps, draft: Message, options: DeliverOptions = {}): Promise<Delivered> => {
  const message: Message = { ...draft, statusHistory: [...draft.statusHistory] };
  // A reply in an email thread says so in its subject, once; the stored message shows the subject that went.
  if (message.channel === 'email' && message.emailThread) message.subject = replySubjectOf(message.subject ?? '');
  const refused = refusal(deps, message, options.customer, options.ignoreConsent === true);
  if (refused && !options.recordRefusals) throw refused;

  let delivered: Delivered;
  if (refused) {
    delivered = { status: 'failed', message, error: refused };
  } else if (options.mayHaveBeenSent) {
    if (options.progress) options.progress.handedToProvider = true;
    delivered = { status: 'unknown', message };
  } else {
    message.statusHistory.push({ status: 'sending', at: iso(deps.clock.now()) });
    if (options.progress) options.progress.handedToProvider = true;
    try {
      const { providerMessageId } = await callProvider(deps, message);
      message.providerMessageId = providerMessageId;
      delivered = { status: 'sent', message };
    } catch (error) {
      if (error instanceof ProviderRejectedError) delivered = { status: 'failed', message, error };
      else if (error instanceof ProviderOutcomeUnknownError) delivered = { status: 'unknown', message };
      else if (error instanceof ParleyError) throw error;
      // Anything else came from our side of the call (the SDK's serializer, a bug): the provider never saw it.
      else throw new ProviderUnavailableError(error);
    }
  }
  return record(deps, delivered, options);
};

/** Stores the outcome, then announces it: the stored message is what a replay, the console and the backend see. */
const record = async (deps: OutboundDeps, delivered: Delivered, options: DeliverOptions): Promise<Delivered> => {
  const { message, status, error } = delivered;
  const at = iso(deps.clock.now());
  message.status = status;
  if (status === 'failed' && error) {
    message.failure = { code: error.code, reason: error.message };
    message.statusHistory.push({ status, at, reason: error.message });
  } else {
    message.statusHistory.push({ status, at });
  }
  if (options.response) message.response = options.response(delivered);
  if (options.storedBody !== undefined) message.body = options.storedBody;
  // The HTML part is not kept: nothing shows it again, and every status report rewrites (and bills) the whole item.
  const { html: _html, ...stored } = message;
  await deps.messages.putMessage(stored);

  const common = {
    tenantId: message.tenantId,
    customerId: message.customerId,
    occurredAt: at,
    messageId: message.messageId,
    ...(message.reference !== undefined && { reference: message.reference }),
    channel: message.channel,
  };
  if (status === 'sent' && options.announce === 'failures') return pushed(deps, delivered, options);
  await deps.events.publish([
    status === 'sent'
      ? parleyEvent('message.sent', {
          ...common,
          ...(message.providerMessageId !== undefined && { providerMessageId: message.providerMessageId }),
          ...(message.fallbackFor !== undefined && { fallbackFor: message.fallbackFor }),
        })
      : status === 'unknown'
        ? parleyEvent('message.unknown', common)
        : parleyEvent('message.failed', {
            ...common,
            reason: failureReason(error as ParleyError),
            description: (error as ParleyError).message,
          }),
  ]);
  return pushed(deps, delivered, options);
};

const pushed = async (deps: OutboundDeps, delivered: Delivered, options: DeliverOptions): Promise<Delivered> => {
  if (delivered.status === 'sent' && options.customer?.chat && deps.pushToChat) {
    await deps.pushToChat(options.customer, delivered.message);
  }
  return delivered;
};

/** Records a message that went out on the chat connection (pushed by the caller) like any other outbound one. */
export const recordChatMessage = async (deps: OutboundDeps, message: Message): Promise<Delivered> =>
  record(deps, { status: 'sent', message: { ...message, statusHistory: [...message.statusHistory] } }, {});
