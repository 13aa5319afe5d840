/**
 * A provider's status report applied to the message it is about (DESIGN section 13). The message is found by the
 * ids the report carries (SES message tags name Parley's message and tenant; an SNS delivery log names only the
 * destination number and the Publish id). Its status moves forward only, with the provider's detail in the history;
 * a permanent bounce suppresses the address and a complaint opts it out (`consent.changed`); a final failure under
 * `auto` sends the same content on the other channel once, moving an open prompt with it; and the backend hears
 * `message.delivered` or `message.failed` (with the fallback), or `message.sent` for a message whose outcome was not
 * known. Every step is safe to repeat: the same report again changes nothing and announces its event again (at
 * least once), and a crash between steps is repaired by the redelivery.
 */
import { consentChangedEvent, recordConsent } from './consent.ts';
import { applyDeliveryReport, type DeliveryStatusReport, failoverFor, shouldSuppress } from './delivery-status.ts';
import { ProviderUnavailableError } from './errors.ts';
import { parleyEvent } from './events.ts';
import { fingerprint, newMessageId, newTimelineId } from './ids.ts';
import type { Channel, ConsentRecord, Customer, Message, MessageClaim, Tenant } from './model.ts';
import { deliver, type OutboundDeps } from './outbound.ts';
import type { DeliveryMessageStore, EventPublisher, InboundCustomerStore, ParleyEvent } from './ports.ts';
import { countSegments } from './segments.ts';

export interface DeliveryDeps {
  messages: Pick<
    DeliveryMessageStore,
    | 'getMessage'
    | 'advanceStatus'
    | 'findSmsByProviderId'
    | 'setFallback'
    | 'claimMessage'
    | 'renewClaim'
    | 'releaseClaim'
    | 'getMessageByClaim'
    | 'putMessage'
  >;
  customers: Pick<
    InboundCustomerStore,
    'getCustomer' | 'getAddress' | 'setAddressConsent' | 'setCustomerConsent' | 'upsertCustomer'
  >;
  getTenant(tenantId: string): Promise<Tenant | undefined>;
  events: EventPublisher;
  /** What sends a fallback: the one outbound path, as every send uses it. */
  outbound: OutboundDeps;
  /** How long a fallback's claim holds off another attempt at it (a lease, as a send's). */
  claimLeaseMs: number;
}

export type DeliveryOutcome =
  | { outcome: 'recorded'; messageId: string; status: Message['status']; fallback?: Message['fallback'] }
  | { outcome: 'unchanged'; messageId: string; why: string }
  | { outcome: 'unmatched'; why: string };

/** How often a report is decided again when another report for the same message was written in between. */
const maxAttempts = 3;

const iso = (ms: number) => new Date(ms).toISOString();

/** The stored message a report is about, or why there is none. */
const findMessage = async (deps: DeliveryDeps, report: DeliveryStatusReport): Promise<Message | string> => {
  if (report.parley) {
    const message = await deps.messages.getMessage(report.parley.tenantId, report.parley.messageId);
    // The tags are a hint: the stored message must be the one the provider took.
    if (
      !message ||
      (message.providerMessageId !== undefined && message.providerMessageId !== report.providerMessageId)
    ) {
      return 'no message of that tenant was sent with that provider id';
    }
    return message;
  }
  const destination = report.recipients[0];
  if (report.channel !== 'sms' || destination === undefined) return 'the report names no Parley message';
  const publishedAt = Date.parse(report.publishedAt ?? report.occurredAt);
  const message = await deps.messages.findSmsByProviderId(destination, report.providerMessageId, publishedAt);
  return message ?? 'no SMS to that number was sent with that provider id';
};

export const recordDeliveryReport = async (
  deps: DeliveryDeps,
  report: DeliveryStatusReport,
): Promise<DeliveryOutcome> => {
  let message = await findMessage(deps, report);
  if (typeof message === 'string') return { outcome: 'unmatched', why: message };
  // The address first: the next send must see it, whatever happens to the message's status below.
  const consentEvents = await suppress(deps, message, report);

  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    const transition = applyDeliveryReport(message, report);
    if (!transition.changed) {
      // The same report again, after a delivery that recorded it and died before announcing (or before its
      // fallback went): finish what it started, and announce it again (at least once; backends dedupe on the
      // message id and type).
      const last = message.statusHistory.at(-1);
      const again = transition.why === 'duplicate' && last?.status === message.status && last.at === report.occurredAt;
      if (!again) {
        await deps.events.publish(consentEvents);
        return { outcome: 'unchanged', messageId: message.messageId, why: transition.why };
      }
      const fallback = await failOver(deps, message, report);
      await deps.events.publish([...consentEvents, ...eventsFor(message, message.status, report, fallback)]);
      return { outcome: 'unchanged', messageId: message.messageId, why: transition.why };
    }
    if (await deps.messages.advanceStatus(message, transition.previous, transition.entry)) {
      const settled: Message = { ...message, status: transition.status, statusHistory: transition.statusHistory };
      const fallback = await failOver(deps, settled, report);
      await deps.events.publish([...consentEvents, ...eventsFor(settled, transition.status, report, fallback)]);
      return {
        outcome: 'recorded',
        messageId: message.messageId,
        status: transition.status,
        ...(fallback && { fallback }),
      };
    }
    const reread = await deps.messages.getMessage(message.tenantId, message.messageId);
    if (!reread) break;
    message = reread;
  }
  throw new Error(`The status of ${message.messageId} kept changing under its delivery report`);
};

/** The consent a report changes on the message's own address, recorded once; its `consent.changed`, if it did. */
const suppress = async (deps: DeliveryDeps, message: Message, report: DeliveryStatusReport) => {
  const decision = shouldSuppress(report);
  if (!decision || message.channel !== 'email') return [];
  // Only the address this message went to: a report is never trusted to change another customer's consent.
  const address = message.to.toLowerCase();
  if (!decision.addresses.some((recipient) => recipient.toLowerCase() === address)) return [];
  const record: ConsentRecord = { status: decision.status, at: report.occurredAt, reason: decision.reason };
  const linked = await deps.customers.getAddress(message.tenantId, 'email', address);
  const customerIds = [...new Set([message.customerId, ...(linked?.customerIds ?? [])])];
  const { changed } = await recordConsent(deps.customers, {
    tenantId: message.tenantId,
    channel: 'email',
    address,
    record,
    customerIds,
  });
  if (!changed) return [];
  return [
    consentChangedEvent({
      tenantId: message.tenantId,
      customerId: message.customerId,
      occurredAt: report.occurredAt,
      messageId: message.messageId,
      channel: 'email',
      record,
    }),
  ];
};

/** The fallback's message id: derived from the failed message, so there is at most one, however often asked. */
export const fallbackIdOf = (tenantId: string, messageId: string) => newMessageId(tenantId, `fallback\n${messageId}`);

/**
 * The same content on the other channel, when the report's failure calls for it and the customer can be reached
 * there (an address, consent, content that fits); its id and channel, or undefined when none goes. Claimed before
 * it is sent, like a send: a redelivered report finds the claim and the stored fallback, and never sends twice.
 */
const failOver = async (
  deps: DeliveryDeps,
  message: Message,
  report: DeliveryStatusReport,
): Promise<Message['fallback']> => {
  if (message.status !== 'failed' || message.channel === 'chat') return undefined;
  const decision = failoverFor(
    {
      channel: message.channel,
      status: message.status,
      requested: message.requested ?? message.channel,
      ...(message.fallbackFor !== undefined && { fallbackFor: message.fallbackFor }),
    },
    report,
  );
  if (message.fallback) return message.fallback;
  if (!decision) return undefined;

  const [customer, tenant] = await Promise.all([
    deps.customers.getCustomer(message.tenantId, message.customerId),
    deps.getTenant(message.tenantId),
  ]);
  if (!customer || !tenant) return undefined;
  const draft = fallbackDraft(deps, message, decision.channel, customer, tenant);
  if (!draft) return undefined;

  const now = deps.outbound.clock.now();
  const claim: MessageClaim = {
    tenantId: message.tenantId,
    messageId: draft.messageId,
    customerId: message.customerId,
    timelineId: newTimelineId(now),
    requestHash: fingerprint({ fallbackFor: message.messageId }),
    leaseUntil: now + deps.claimLeaseMs,
    createdAt: iso(now),
  };
  const claimed = await deps.messages.claimMessage(claim);
  let sent: Message | undefined;
  if (claimed.claimed) {
    sent = await sendFallback(deps, { ...draft, timelineId: claim.timelineId, createdAt: claim.createdAt }, claim, {
      customer,
    });
  } else {
    const existing = claimed.existing;
    sent = await deps.messages.getMessageByClaim(existing);
    if (!sent) {
      // Another attempt holds it now: retry the report later. One whose lease ran out may have reached the
      // provider before it died: recorded as `unknown`, never sent again (DESIGN section 11).
      if (existing.leaseUntil > now)
        throw new ProviderUnavailableError('the fallback is being sent by another attempt');
      const takeover = { ...existing, leaseUntil: now + deps.claimLeaseMs };
      if (!(await deps.messages.renewClaim(takeover, existing.leaseUntil))) {
        throw new ProviderUnavailableError('the fallback was taken over by another attempt');
      }
      const drafted = { ...draft, timelineId: existing.timelineId, createdAt: existing.createdAt };
      sent = (await deliver(deps.outbound, drafted, { customer, mayHaveBeenSent: true })).message;
    }
  }

  const fallback = { messageId: sent.messageId, channel: decision.channel };
  await movePrompt(deps, message, customer, sent);
  await deps.messages.setFallback(message, fallback);
  return fallback;
};

const sendFallback = async (
  deps: DeliveryDeps,
  draft: Message,
  claim: MessageClaim,
  options: { customer: Customer },
): Promise<Message> => {
  const progress = { handedToProvider: false };
  try {
    const delivered = await deliver(deps.outbound, draft, {
      customer: options.customer,
      recordRefusals: true,
      progress,
    });
    return delivered.message;
  } catch (error) {
    // Provably not sent: let the report's retry try again.
    if (!progress.handedToProvider || error instanceof ProviderUnavailableError) {
      await deps.messages.releaseClaim(claim);
    }
    throw error;
  }
};

/**
 * The failed message's content as a message on `channel`, or undefined when it cannot go there: no address, opted
 * out or suppressed, no sender on the tenant, or an email too long for the SMS limit.
 */
const fallbackDraft = (
  deps: DeliveryDeps,
  message: Message,
  channel: Channel,
  customer: Customer,
  tenant: Tenant,
): Message | undefined => {
  const to = channel === 'sms' ? customer.phone : customer.email;
  const from = channel === 'sms' ? tenant.smsNumber : tenant.emailFrom;
  const consent = customer.consent[channel]?.status;
  if (!to || !from || consent === 'opted_out' || consent === 'suppressed') return undefined;
  const base: Message = {
    messageId: fallbackIdOf(message.tenantId, message.messageId),
    tenantId: message.tenantId,
    customerId: message.customerId,
    timelineId: '',
    direction: 'outbound',
    channel,
    to,
    from,
    body: message.body,
    status: 'sending',
    statusHistory: [],
    origin: message.origin ?? 'send',
    requested: channel,
    fallbackFor: message.messageId,
    createdAt: '',
    ...(message.urgency !== undefined && { urgency: message.urgency }),
    ...(message.category !== undefined && { category: message.category }),
    ...(message.template !== undefined && { template: message.template }),
    ...(message.reference !== undefined && { reference: message.reference }),
    ...(message.prompt !== undefined && { prompt: message.prompt }),
  };
  if (channel === 'email') {
    // The text the customer would have read by SMS, under a subject naming who it is from.
    return { ...base, subject: `A message from ${tenant.name}` };
  }
  // By SMS: the subject and the text, when they fit what an SMS may be.
  const body = message.subject ? `${message.subject}\n${message.body}` : message.body;
  const segments = countSegments(body);
  if (segments.segments > deps.outbound.maxSmsSegments) return undefined;
  return { ...base, body, segments: segments.segments, encoding: segments.encoding };
};

/** The failed message's open prompt moves to its fallback, so the customer answers it there (one write, once). */
const movePrompt = async (deps: DeliveryDeps, message: Message, customer: Customer, fallback: Message) => {
  const prompt = customer.openPrompts[message.messageId];
  if (!prompt || fallback.status === 'failed') return;
  await deps.customers.upsertCustomer(
    message.tenantId,
    message.customerId,
    { openPrompt: { ...prompt, messageId: fallback.messageId }, dropPrompts: [message.messageId] },
    { create: false, now: iso(deps.outbound.clock.now()) },
  );
};

const eventsFor = (
  message: Message,
  status: Message['status'],
  report: DeliveryStatusReport,
  fallback: Message['fallback'],
): ParleyEvent[] => {
  const common = {
    tenantId: message.tenantId,
    customerId: message.customerId,
    occurredAt: report.occurredAt,
    messageId: message.messageId,
    ...(message.reference !== undefined && { reference: message.reference }),
    channel: message.channel,
  };
  if (status === 'delivered') {
    return [parleyEvent('message.delivered', { ...common, providerMessageId: report.providerMessageId })];
  }
  if (status === 'failed') {
    const description = report.detail.diagnosticCode ?? report.detail.providerResponse;
    return [
      parleyEvent('message.failed', {
        ...common,
        reason: report.reason ?? 'unknown_error',
        ...(description !== undefined && { description }),
        ...(fallback && { fallback }),
      }),
    ];
  }
  // `sent`: only reached from `sending` or `unknown`, which the backend was told; now it knows.
  return status === 'sent'
    ? [parleyEvent('message.sent', { ...common, providerMessageId: report.providerMessageId })]
    : [];
};
