/**
 * The one inbound pipeline (DESIGN sections 4 and 7). Channel adapters turn provider payloads into an
 * `InboundMessage`; this module applies the rules of section 7 in order, whatever the channel, and answers on the
 * channel the message came in on through the one outbound path.
 */

import { acknowledgementText } from './acknowledgement.ts';
import { brandOf, withBrand } from './brand.ts';
import { consentChangedEvent, recordConsent } from './consent.ts';
import { ProviderUnavailableError, RetriesExhaustedError, UnattributableInboundError } from './errors.ts';
import { parleyEvent } from './events.ts';
import { newMessageId, newTimelineId } from './ids.ts';
import {
  begin as beginStepUp,
  forgetMessage as forgetStepUpMessage,
  recordCodeSent,
  type StepUpDeps,
  type VerificationDecision,
  verify as verifyStep,
} from './inbound-step-up.ts';
import { type Classified as ClassifiedReply, classifyKeyword } from './keywords.ts';
import type {
  Channel,
  ConsentRecord,
  Customer,
  IgnoredReason,
  InboundEffect,
  Message,
  MessageClaim,
  OpenPrompt,
  Template,
  Tenant,
} from './model.ts';
import { deliver, type OutboundDeps } from './outbound.ts';
import type {
  AttentionReason,
  AttentionStore,
  CustomerInboundUpdate,
  InboundCustomerStore,
  MessageStore,
  ParleyEvent,
} from './ports.ts';
import { hintFor, matchPrompt, type PromptMatch, whichQuestion } from './prompt-matcher.ts';
import { maxPromptAnswers } from './prompt-policy.ts';
import { redactCode } from './step-up.ts';
import { renderTemplate } from './templates.ts';
import { cutText, replySubjectOf } from './text.ts';

/** A customer's message on any channel with text in, as its channel adapter reads it. */
export interface InboundMessage {
  tenant: Tenant;
  channel: Channel;
  /** The customer's address on that channel (E.164 phone, email address). */
  from: string;
  /** The tenant's address it was sent to. */
  to: string;
  body: string;
  /** The email's subject (read for opt-out too). */
  subject?: string;
  /** The provider's id of this inbound message: a redelivery carries the same one. */
  inboundMessageId: string;
  /** The outbound message it answers, as the provider names it (`previousPublishedMessageId`, `In-Reply-To`). */
  answering?: {
    providerMessageId?: string;
    messageId?: string;
    /**
     * The tenant was read from a reply token that failed its signature (a rotated secret, an address a mail server
     * mangled): the message is taken only as an answer to a prompt Parley sent this sender, named by
     * `providerMessageId` (the email's `In-Reply-To` or `References`).
     */
    tenantUnverified?: true;
  };
  receivedAt: string;
  /**
   * The text the rules read, when it is not the whole body: an email's rules read the first line of the reply
   * (DESIGN section 12).
   */
  ruleText?: string;
  /** An email's whole text as received, kept beside the trimmed reply in `body`. */
  fullText?: string;
  /** Where replies to this email go in its thread: `In-Reply-To` and `References` (ids without brackets). */
  replyThread?: { inReplyTo: string; references: string[] };
  /**
   * Set by the channel adapter for a message that must never be acted on or answered (spam, a virus, failed DMARC,
   * automatic mail): it is kept in the conversation and flagged for an agent.
   */
  untrusted?: Exclude<IgnoredReason, 'own_address' | 'wrong_sender'>;
}

export interface InboundDeps extends OutboundDeps {
  customers: InboundCustomerStore;
  messages: MessageStore;
  attention: Pick<AttentionStore, 'raise'>;
  getTemplate(tenantId: string, name: string): Promise<Template | undefined>;
  /** How long an expired prompt is kept, to tell a late reply it has expired. */
  expiredPromptKeepMs: number;
  /** How long an answer is kept on the customer (the inbound message keeps it for good). */
  answerKeepMs: number;
  claimLeaseMs: number;
  /** Step-up confirmation of prompts sent with `verify: "code"` (DESIGN section 16); without it they answer at once. */
  stepUp?: StepUpDeps;
  /** CALL and CHAT: a callback request or a chat link, with the reply that acknowledges it. */
  escalate(input: {
    tenant: Tenant;
    customerId: string;
    kind: 'callback' | 'chat';
    keyword: string;
    at: string;
    channel: Channel;
    /** A redelivery of the same message gets the same callback or chat session. */
    inboundMessageId: string;
  }): Promise<{ effect: InboundEffect; reply: string }>;
}

export interface InboundOutcome {
  status: 'processed' | 'duplicate';
  messageId: string;
  customerId: string;
  effect?: InboundEffect;
}

/** Another delivery of the same inbound message is being processed right now: retry later. */
export class InboundInProgressError extends Error {
  constructor() {
    super('This inbound message is being processed by another invocation');
    this.name = 'InboundInProgressError';
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The conversation of an address no backend has named yet (customer ids with `:` are refused at the API). */
export const unknownSenderId = (channel: Channel, address: string) => `${channel}:${address}`;

/** What Parley answers the customer, and why. */
interface Reply {
  body: string;
  /** What is stored instead of `body` (a step-up code reply, with the code blanked). */
  storedBody?: string;
}

interface Decision {
  effect: InboundEffect;
  /** A valid answer to a prompt with `verify: "code"`: the verification starts, the prompt stays open. */
  stepUpBegin?: { prompt: OpenPrompt; answer: string };
  /** The pending verification read this message (a code, a new answer): what it decided. */
  verification?: VerificationDecision;
  escalation?: { kind: 'callback' | 'chat'; keyword: string };
  update: Omit<CustomerInboundUpdate, 'at' | 'channel' | 'create'>;
  replies: Reply[];
  events: ParleyEvent[];
  attention?: AttentionReason;
}

/**
 * Handles one inbound message: consent first, then dedupe on the inbound id, then one versioned customer update that
 * carries what the message did, then the replies and events, and last the message in the conversation (its
 * presence marks the delivery done: a redelivery finds it and changes nothing).
 */
export const handleInbound = async (deps: InboundDeps, received: InboundMessage): Promise<InboundOutcome> => {
  let inbound = received;
  const { tenant } = inbound;
  const now = deps.clock.now();
  const messageId = newMessageId(tenant.tenantId, `inbound:${inbound.inboundMessageId}`);
  const resolved = await resolveCustomer(deps, inbound);
  if (inbound.answering?.tenantUnverified) {
    const named = await promptAnsweredByProviderId(deps, inbound, resolved.all);
    if (!named) {
      throw new UnattributableInboundError(
        'the reply token failed its signature and the mail answers no prompt Parley sent the sender',
      );
    }
    // Named by the provider's id of a prompt sent to this very sender: as good as a valid token from here on.
    inbound = { ...inbound, answering: { messageId: named } };
  }
  // Mail that answers another customer's message from an address not theirs is kept with that customer, untouched.
  const answeredFor = await customerAnsweredFor(deps, inbound, resolved.all);
  const ignored: IgnoredReason | undefined = isOwnAddress(inbound)
    ? 'own_address'
    : (inbound.untrusted ?? (answeredFor ? 'wrong_sender' : undefined));
  const classified = ignored ? undefined : classifyKeyword(ruleTextOf(inbound), inbound.subject);

  // Consent before anything else is written: an opt-out must hold even if everything after it fails. It is per
  // address, so it reaches every customer of a shared number; and it follows the newest keyword, so a late one
  // changes nothing.
  let consent: { record: ConsentRecord; newest: boolean; changed: boolean } | undefined;
  if (classified?.kind === 'opt_out' || classified?.kind === 'opt_in') {
    const record: ConsentRecord = {
      status: classified.kind === 'opt_out' ? 'opted_out' : 'opted_in',
      at: inbound.receivedAt,
      keyword: classified.keyword,
    };
    const recorded = await recordConsent(deps.customers, {
      tenantId: tenant.tenantId,
      channel: inbound.channel,
      address: inbound.from,
      record,
      customerIds: resolved.all,
    });
    consent = { record, ...recorded };
  }

  const customerId = answeredFor ?? resolved.customerId ?? unknownSenderId(inbound.channel, inbound.from);

  let claim: MessageClaim = {
    tenantId: tenant.tenantId,
    messageId,
    customerId,
    timelineId: newTimelineId(Date.parse(inbound.receivedAt) || now),
    requestHash: `inbound:${inbound.inboundMessageId}`,
    leaseUntil: now + deps.claimLeaseMs,
    createdAt: inbound.receivedAt,
  };
  const claimed = await deps.messages.claimMessage(claim);
  if (!claimed.claimed) {
    const existing = claimed.existing;
    if (await deps.messages.getMessageByClaim(existing)) {
      return { status: 'duplicate', messageId, customerId: existing.customerId };
    }
    // A delivery that died half-way: finish it once its lease is over, as the same message.
    if (existing.leaseUntil > now) throw new InboundInProgressError();
    const takeover = { ...existing, leaseUntil: now + deps.claimLeaseMs };
    if (!(await deps.messages.renewClaim(takeover, existing.leaseUntil))) throw new InboundInProgressError();
    claim = takeover;
  }

  const decision = classified
    ? await decideAndRecord(deps, inbound, claim.customerId, messageId, classified, consent, !resolved.customerId)
    : {
        effect: { type: 'ignored', reason: ignored ?? 'own_address' } as const,
        replies: [],
        events: [],
        customer: undefined,
        // A loop is not worth an agent's time; mail that could not be trusted is.
        ...(ignored !== 'own_address' && { attention: 'free_text' as const }),
      };

  // A valid answer to a prompt that asks for a code: the verification starts, and its code goes in the replies.
  let verification = 'verification' in decision ? decision.verification : undefined;
  let codeReply: number | undefined =
    verification?.codeReplyIndex === undefined ? undefined : verification.codeReplyIndex;
  if ('stepUpBegin' in decision && decision.stepUpBegin && deps.stepUp) {
    const begun = await beginStepUp(deps.stepUp, {
      tenantId: tenant.tenantId,
      tenantName: tenant.name,
      customerId: claim.customerId,
      customer: decision.customer,
      prompt: decision.stepUpBegin.prompt,
      answer: decision.stepUpBegin.answer,
      inboundMessageId: inbound.inboundMessageId,
      messageId,
      channel: inbound.channel,
      from: inbound.from,
      text: ruleTextOf(inbound),
      ...(inbound.subject !== undefined && { subject: inbound.subject }),
      receivedAt: inbound.receivedAt,
      now,
    });
    if (begun) {
      verification = begun;
      if (begun.codeReplyIndex !== undefined) codeReply = decision.replies.length + begun.codeReplyIndex;
      decision.effect = begun.effect;
      // New arrays: a rule's decision may share its empty ones (`nothing`).
      decision.replies = [...decision.replies, ...begun.replies];
      decision.events = [...decision.events, ...begun.events];
    }
  }

  if ('escalation' in decision && decision.escalation) {
    const escalated = await deps.escalate({
      tenant,
      customerId: claim.customerId,
      kind: decision.escalation.kind,
      keyword: decision.escalation.keyword,
      at: inbound.receivedAt,
      channel: inbound.channel,
      inboundMessageId: inbound.inboundMessageId,
    });
    decision.effect = escalated.effect;
    decision.replies.push({ body: escalated.reply });
  }
  let replies: Message[];
  try {
    replies = await sendReplies(deps, inbound, claim.customerId, messageId, decision.replies);
  } catch (error) {
    if (error instanceof ProviderUnavailableError && deps.stepUp && verification && codeReply !== undefined) {
      await forgetStepUpMessage(deps.stepUp, verification.state, inbound.inboundMessageId);
    }
    throw error;
  }
  const codeMessage = codeReply === undefined ? undefined : replies[codeReply];
  if (deps.stepUp && verification && codeMessage?.providerMessageId) {
    await recordCodeSent(deps.stepUp, verification.state, codeMessage.providerMessageId, deps.clock.now());
  }
  if ('attention' in decision && decision.attention) {
    // Summaries, not bodies, on the attention list (DESIGN section 8: 160 characters).
    const summary = ignored ? `Not acted on (${ignored.replace('_', ' ')}): ${inbound.body}` : inbound.body;
    await deps.attention.raise(tenant.tenantId, claim.customerId, decision.attention, {
      at: inbound.receivedAt,
      summary: cutText(summary, 160),
    });
  }
  await deps.events.publish(decision.events);

  const stored: Message = {
    messageId,
    tenantId: tenant.tenantId,
    customerId: claim.customerId,
    timelineId: claim.timelineId,
    direction: 'inbound',
    channel: inbound.channel,
    to: inbound.to,
    from: inbound.from,
    // A code sent back for a verification is kept blanked, as the code reply is: the table never holds a code.
    body: verification ? redactCode(inbound.body) : inbound.body,
    ...(inbound.fullText !== undefined && { fullText: verification ? redactCode(inbound.fullText) : inbound.fullText }),
    ...(inbound.subject !== undefined && { subject: inbound.subject }),
    // What an answer to it threads under (a backend's send naming it in `inReplyTo`); the newest few references
    // are enough to thread (RFC 5322 lets them be shortened), and keep the item small.
    ...(inbound.channel === 'email' &&
      inbound.replyThread && {
        emailThread: {
          inReplyTo: inbound.replyThread.inReplyTo,
          references: inbound.replyThread.references.slice(-maxStoredReferences),
        },
      }),
    status: 'received',
    statusHistory: [{ status: 'received', at: inbound.receivedAt }],
    effect: decision.effect,
    inboundMessageId: inbound.inboundMessageId,
    createdAt: inbound.receivedAt,
  };
  await deps.messages.putMessage(stored);
  // A customer chatting right now sees what they wrote, and the answers, in the chat too.
  if (decision.customer?.chat && deps.pushToChat) {
    for (const message of [stored, ...replies]) await deps.pushToChat(decision.customer, message);
  }
  return { status: 'processed', messageId, customerId: claim.customerId, effect: decision.effect };
};

const maxStoredReferences = 3;

/** What the rules read: the first line of an email's reply, the whole of anything else. */
const ruleTextOf = (inbound: InboundMessage) => inbound.ruleText ?? inbound.body;

/**
 * The customer whose message this one answers, when the sender's address is not theirs (DESIGN section 12: mail
 * From an address that is not the customer's on file is never acted on). One read, only for messages that name
 * what they answer by Parley's own id (an email's signed reply token).
 */
const customerAnsweredFor = async (
  deps: InboundDeps,
  inbound: InboundMessage,
  addressCustomers: string[],
): Promise<string | undefined> => {
  const messageId = inbound.answering?.messageId;
  if (messageId === undefined) return undefined;
  const claim = await deps.messages.getClaim(inbound.tenant.tenantId, messageId);
  if (!claim || addressCustomers.includes(claim.customerId)) return undefined;
  return claim.customerId;
};

/** The prompt of one of the sender's customers whose message the provider id names, if any. */
const promptAnsweredByProviderId = async (
  deps: InboundDeps,
  inbound: InboundMessage,
  candidates: string[],
): Promise<string | undefined> => {
  const providerId = inbound.answering?.providerMessageId;
  if (!providerId) return undefined;
  for (const id of candidates) {
    const customer = await deps.customers.getCustomer(inbound.tenant.tenantId, id);
    const named = customer && (await findPromptByProviderId(deps, inbound.tenant.tenantId, customer, providerId));
    if (named) return named;
  }
  return undefined;
};

/** A message from the tenant's own number or address is a loop: stored, never acted on, never answered. */
const isOwnAddress = (inbound: InboundMessage) => {
  const own = inbound.channel === 'sms' ? inbound.tenant.smsNumber : inbound.tenant.emailFrom;
  return own !== undefined && own.toLowerCase() === inbound.from.toLowerCase();
};

/**
 * Which customer the message belongs to (DESIGN section 7): an address may belong to several customers of one tenant
 * (a joint account, a family phone). The message it answers decides first, then the customer with an open prompt
 * the reply fits, then the one the address was given to last. Only a shared address costs more reads.
 */
const resolveCustomer = async (
  deps: InboundDeps,
  inbound: InboundMessage,
): Promise<{ customerId?: string; all: string[] }> => {
  const { tenant } = inbound;
  const address = await deps.customers.getAddress(tenant.tenantId, inbound.channel, inbound.from);
  const all = address?.customerIds ?? (address?.customerId ? [address.customerId] : []);
  const chosen = await chooseCustomer(deps, inbound, all);
  return { ...(chosen !== undefined && { customerId: chosen }), all };
};

const chooseCustomer = async (
  deps: InboundDeps,
  inbound: InboundMessage,
  candidates: string[],
): Promise<string | undefined> => {
  const { tenant } = inbound;
  if (candidates.length <= 1) return candidates[0];

  const answering = inbound.answering;
  if (answering?.messageId) {
    const message = await deps.messages.getMessage(tenant.tenantId, answering.messageId);
    if (message && candidates.includes(message.customerId)) return message.customerId;
  }
  const customers = (await Promise.all(candidates.map((id) => deps.customers.getCustomer(tenant.tenantId, id)))).filter(
    (customer): customer is Customer => customer !== undefined,
  );
  if (answering?.providerMessageId) {
    for (const customer of customers) {
      const named = await findPromptByProviderId(deps, tenant.tenantId, customer, answering.providerMessageId);
      if (named) return customer.customerId;
    }
  }
  const classified = classifyKeyword(ruleTextOf(inbound));
  if (classified.kind === 'reply') {
    const now = deps.clock.now();
    const fits = customers.filter((customer) => {
      const match = matchPrompt({ customer, normalised: classified.normalised, messageId: '', now });
      return match.kind === 'answer' || match.kind === 'ask_which';
    });
    if (fits.length === 1) return (fits[0] as Customer).customerId;
  }
  return candidates[0];
};

/** Reads the customer, decides, and writes the decision in one versioned update, again on a conflict. */
const decideAndRecord = async (
  deps: InboundDeps,
  inbound: InboundMessage,
  customerId: string,
  messageId: string,
  classified: ClassifiedReply,
  consent: { record: ConsentRecord; newest: boolean; changed: boolean } | undefined,
  unknownSender: boolean,
): Promise<Decision & { customer: Customer | undefined }> => {
  // A pending verification reads the message first, once: its state is written as it decides, so a retry after a
  // customer conflict carries out the same decision rather than reading the message again.
  let verification: VerificationDecision | undefined | null = null;
  for (let attempt = 0; attempt < 8; attempt++) {
    // The first read may be eventually consistent (half the cost); a retry after a conflict reads the latest.
    const customer = await deps.customers.getCustomer(inbound.tenant.tenantId, customerId, {
      consistent: attempt > 0,
    });
    if (verification === null) {
      verification = deps.stepUp
        ? await verifyStep(deps.stepUp, {
            tenantId: inbound.tenant.tenantId,
            customer,
            inboundMessageId: inbound.inboundMessageId,
            messageId,
            channel: inbound.channel,
            from: inbound.from,
            text: ruleTextOf(inbound),
            ...(inbound.subject !== undefined && { subject: inbound.subject }),
            receivedAt: inbound.receivedAt,
            now: deps.clock.now(),
          })
        : undefined;
    }
    const decision: Decision = verification
      ? {
          effect: verification.effect,
          update: {
            ...(verification.answers && { answers: verification.answers }),
            ...(verification.dropPrompts && { dropPrompts: verification.dropPrompts }),
          },
          replies: verification.replies,
          events: verification.events,
          verification,
        }
      : decide(await gather(deps, inbound, customer, messageId, classified, consent));
    const pruned = prune(customer, deps, deps.clock.now(), decision);
    const update: CustomerInboundUpdate = {
      ...decision.update,
      ...pruned,
      ...((decision.update.dropPrompts || pruned.dropPrompts) && {
        dropPrompts: [...(decision.update.dropPrompts ?? []), ...(pruned.dropPrompts ?? [])],
      }),
      at: inbound.receivedAt,
      channel: inbound.channel,
      // An existing customer's consent was set above, guarded by time; a new one starts with it.
      ...(!customer && consent?.newest && { consent: { channel: inbound.channel, record: consent.record } }),
      ...(!customer && {
        create: {
          ...(inbound.channel === 'sms' ? { phone: inbound.from } : { email: inbound.from }),
          unknownSender,
        },
      }),
    };
    // Only a decision that read prompt state needs the version it read; the rest (timestamps, consent, pruning)
    // are safe to write over a concurrent change, so busy conversations do not contend.
    // An acknowledgement too: two free texts at once must not both be acknowledged.
    const readsPromptState =
      decision.update.answers !== undefined ||
      decision.update.pendingQuestion !== undefined ||
      decision.update.acknowledged !== undefined;
    const written = await deps.customers.updateCustomerAfterInbound(
      inbound.tenant.tenantId,
      customerId,
      update,
      readsPromptState ? (customer ? { version: customer.version } : 'absent') : 'any',
    );
    if (written) return { ...decision, customer };
    await deps.sleep(Math.round(5 + Math.random() * 20 * (attempt + 1)));
  }
  throw new RetriesExhaustedError('the customer kept changing under this inbound message');
};

const prune = (customer: Customer | undefined, deps: InboundDeps, now: number, decision: Decision) => {
  if (!customer) return {};
  const answered = new Set(Object.keys(decision.update.answers ?? {}));
  const dropPrompts = Object.values(customer.openPrompts)
    .filter((p) => !answered.has(p.messageId) && Date.parse(p.expiresAt) + deps.expiredPromptKeepMs < now)
    .map((p) => p.messageId);
  // Answers are kept a while, the newest few only: each one is on the item every send writes.
  const kept = Object.entries({ ...customer.promptAnswers, ...decision.update.answers }).sort(([, a], [, b]) =>
    a.at < b.at ? 1 : -1,
  );
  const dropAnswers = kept
    .filter(([, a], index) => index >= maxPromptAnswers || Date.parse(a.at) + deps.answerKeepMs < now)
    .map(([id]) => id)
    .filter((id) => customer.promptAnswers[id] !== undefined);
  return {
    ...(dropPrompts.length > 0 && { dropPrompts }),
    ...(dropAnswers.length > 0 && { dropAnswers }),
  };
};

/** Everything the rules read, fetched first so the rules themselves are synchronous and ordered. */
interface RuleContext {
  inbound: InboundMessage;
  customer: Customer | undefined;
  customerId: string;
  messageId: string;
  classified: ClassifiedReply;
  consent: { record: ConsentRecord; newest: boolean; changed: boolean } | undefined;
  match: PromptMatch;
  /** The tenant keyword's auto-reply, rendered (undefined when none or it cannot render). */
  keywordReply: string | undefined;
  /** Whether prompts with `verify: "code"` get a step-up (the function has it). */
  stepUp: boolean;
}

const gather = async (
  deps: InboundDeps,
  inbound: InboundMessage,
  customer: Customer | undefined,
  messageId: string,
  classified: ClassifiedReply,
  consent: { record: ConsentRecord; newest: boolean; changed: boolean } | undefined,
): Promise<RuleContext> => {
  const customerId = customer?.customerId ?? unknownSenderId(inbound.channel, inbound.from);
  const context: RuleContext = {
    inbound,
    customer,
    customerId,
    messageId,
    classified,
    consent,
    match: { kind: 'none' },
    keywordReply: undefined,
    stepUp: deps.stepUp !== undefined,
  };
  if (classified.kind !== 'reply') return context;
  const namedPromptId = await resolveNamedPrompt(deps, inbound, customer);
  context.match = matchPrompt({
    customer,
    normalised: classified.normalised,
    messageId,
    now: deps.clock.now(),
    ...(namedPromptId !== undefined && { namedPromptId }),
  });
  const keyword = inbound.tenant.keywords?.[classified.normalised];
  if (keyword?.autoReplyTemplate) {
    const template = await deps.getTemplate(inbound.tenant.tenantId, keyword.autoReplyTemplate);
    try {
      if (template?.sms) {
        context.keywordReply = renderTemplate(template.sms, {
          tenantName: inbound.tenant.name,
          brandName: brandOf(inbound.tenant),
        });
      }
    } catch {
      // An auto-reply template that needs data it cannot have: the keyword still counts, without the reply.
    }
  }
  return context;
};

const detail = <Extra extends object = Record<never, never>>(context: RuleContext, extra?: Extra) => ({
  tenantId: context.inbound.tenant.tenantId,
  customerId: context.customerId,
  occurredAt: context.inbound.receivedAt,
  messageId: context.messageId,
  ...(extra as Extra),
});

const promptEvent = (context: RuleContext, prompt: OpenPrompt) => ({
  ...detail(context),
  promptMessageId: prompt.messageId,
  ...(prompt.reference !== undefined && { reference: prompt.reference }),
  raw: ruleTextOf(context.inbound),
  channel: context.inbound.channel,
});

const nothing = { update: {}, replies: [], events: [] };

/** DESIGN section 7, rules 1-2: consent, recorded by the caller before anything else. */
const consentRule = (context: RuleContext): Decision | undefined => {
  const { classified, inbound } = context;
  if (classified.kind !== 'opt_out' && classified.kind !== 'opt_in') return undefined;
  const { record, newest, changed } = context.consent as { record: ConsentRecord; newest: boolean; changed: boolean };
  const optedOut = classified.kind === 'opt_out';
  const name = brandOf(inbound.tenant);
  const effect = { type: optedOut ? 'opted_out' : 'opted_in', keyword: classified.keyword } as const;
  // A keyword older than the consent already recorded (it arrived late) is kept in the conversation, nothing more.
  if (!newest) return { ...nothing, effect };
  return {
    effect,
    update: {},
    replies: [
      {
        body: optedOut
          ? `${name}: you are unsubscribed and will get no more messages. Reply START to resubscribe.`
          : `${name}: you are subscribed again. Reply HELP for help, STOP to opt out.`,
      },
    ],
    // Every STOP is confirmed, as carriers require; only a change of status is announced.
    events: changed ? [consentChangedEvent({ ...detail(context), channel: inbound.channel, record })] : [],
  };
};

/**
 * The HELP answer of a tenant that set none: the brand, a contact, the rates notice and how to opt out, as carriers
 * require of every HELP reply (CTIA). Replying reaches a person (free text goes to an agent).
 */
export const defaultHelpText = (tenant: Pick<Tenant, 'name' | 'brandName' | 'smsNumber' | 'emailFrom'>): string => {
  const contact = tenant.emailFrom ? `reply here or write to ${addressOf(tenant.emailFrom)}` : 'reply here';
  return `${brandOf(tenant)}: for help, ${contact}. Msg&data rates may apply. Reply STOP to opt out, START to opt back in.`;
};

/** The address of `Name <address>` or of a bare address. */
const addressOf = (from: string): string => /<([^<>]+)>\s*$/.exec(from)?.[1] ?? from.trim();

/** Rule 3: HELP, INFO. */
const helpRule = (context: RuleContext): Decision | undefined => {
  const { classified, inbound } = context;
  if (classified.kind !== 'help') return undefined;
  const text = inbound.tenant.helpText ?? defaultHelpText(inbound.tenant);
  return { ...nothing, effect: { type: 'help', keyword: classified.keyword }, replies: [{ body: text }] };
};

/** Rules 4-5: CALL and CHAT, acted on once the decision is recorded (it may be re-run on a conflict). */
const escalationRule = (context: RuleContext): Decision | undefined => {
  const { classified } = context;
  if (classified.kind !== 'callback' && classified.kind !== 'chat') return undefined;
  return {
    ...nothing,
    replies: [],
    effect: { type: 'free_text' },
    escalation: { kind: classified.kind, keyword: classified.keyword },
  };
};

/** Rule 6: answers to prompts. */
const promptRule = (context: RuleContext): Decision | undefined => {
  const { match, inbound, customer, classified } = context;
  if (classified.kind !== 'reply') return undefined;
  const name = brandOf(inbound.tenant);
  switch (match.kind) {
    case 'answer':
      if (match.prompt.verify === 'code' && context.stepUp) {
        return {
          ...nothing,
          effect: { type: 'prompt_verification', promptMessageId: match.prompt.messageId, step: 'code_sent' },
          update: customer?.pendingQuestion ? { pendingQuestion: null } : {},
          stepUpBegin: { prompt: match.prompt, answer: match.answer },
        };
      }
      return {
        effect: { type: 'prompt_answered', promptMessageId: match.prompt.messageId, answer: match.answer },
        update: {
          answers: {
            [match.prompt.messageId]: {
              answer: match.answer,
              raw: ruleTextOf(inbound),
              at: inbound.receivedAt,
              channel: inbound.channel,
              messageId: context.messageId,
              ...(match.prompt.reference !== undefined && { reference: match.prompt.reference }),
            },
          },
          ...(customer?.pendingQuestion && { pendingQuestion: null }),
        },
        replies: [],
        events: [parleyEvent('prompt.answered', { ...promptEvent(context, match.prompt), answer: match.answer })],
      };
    case 'already_answered': {
      if (match.bySameMessage) {
        // A redelivery of the message that answered (the first delivery died after recording it): announce the
        // answer again, at least once, and change nothing.
        const previous = customer?.promptAnswers[match.promptMessageId];
        return {
          ...nothing,
          effect: { type: 'prompt_answered', promptMessageId: match.promptMessageId, answer: previous?.answer ?? '' },
          events: previous
            ? [
                parleyEvent('prompt.answered', {
                  ...detail(context),
                  promptMessageId: match.promptMessageId,
                  ...(previous.reference !== undefined && { reference: previous.reference }),
                  raw: previous.raw,
                  channel: previous.channel,
                  answer: previous.answer,
                }),
              ]
            : [],
        };
      }
      return {
        ...nothing,
        effect: { type: 'prompt_already_answered', promptMessageId: match.promptMessageId },
        replies: [{ body: `${name}: you have already answered this request.` }],
      };
    }
    case 'expired':
      return {
        ...nothing,
        effect: { type: 'prompt_expired', promptMessageId: match.prompt.messageId },
        replies: [{ body: `${name}: this request has expired, so your answer was not recorded. Reply HELP for help.` }],
        events: [parleyEvent('prompt.expired', promptEvent(context, match.prompt))],
      };
    case 'ask_which':
      return {
        effect: { type: 'prompt_question', candidates: match.candidates.map((p) => p.messageId) },
        update: {
          pendingQuestion: {
            answerText: classified.normalised,
            candidates: match.candidates.map((p) => p.messageId),
            askedAt: inbound.receivedAt,
          },
        },
        replies: [{ body: whichQuestion(name, cutText(ruleTextOf(inbound).trim(), 20), match.candidates) }],
        events: [],
      };
    case 'hint':
      // A tenant keyword is not an attempt at an answer (rule 7 still applies).
      if (inbound.tenant.keywords?.[classified.normalised]) return undefined;
      return {
        ...nothing,
        effect: { type: 'prompt_hint', promptMessageId: match.prompt.messageId },
        replies: [{ body: `${name}: ${hintFor(match.prompt)}` }],
      };
    case 'none':
      return undefined;
  }
};

/** Rule 7: the tenant's keywords. */
const keywordRule = (context: RuleContext): Decision | undefined => {
  const { classified, inbound } = context;
  const defined = classified.kind === 'reply' ? inbound.tenant.keywords?.[classified.normalised] : undefined;
  if (classified.kind !== 'reply' || !defined) return undefined;
  const keyword = classified.normalised;
  return {
    ...nothing,
    effect: { type: 'keyword', keyword },
    replies: context.keywordReply === undefined ? [] : [{ body: context.keywordReply }],
    // `emitEvent: false`: the auto-reply is the whole answer, the backend is not told.
    events:
      defined.emitEvent === false
        ? []
        : [
            parleyEvent(
              'keyword.received',
              detail(context, { keyword, raw: ruleTextOf(inbound), channel: inbound.channel }),
            ),
          ],
  };
};

/**
 * Rule 8: anything else reaches a person; the customer hears so, with when (the tenant's acknowledgement), once per
 * conversation until someone answers.
 */
const freeTextRule = (context: RuleContext): Decision => {
  const acknowledgement = context.inbound.tenant.acknowledgement;
  const acknowledge = acknowledgement !== undefined && !context.customer?.acknowledgedAt;
  const at = Date.parse(context.inbound.receivedAt);
  return {
    ...nothing,
    effect: { type: 'free_text' },
    ...(acknowledge && {
      replies: [
        {
          body: withBrand(
            context.inbound.tenant,
            acknowledgementText(acknowledgement, Number.isNaN(at) ? Date.now() : at),
          ),
        },
      ],
      update: { acknowledged: context.inbound.receivedAt },
    }),
    events: [
      parleyEvent(
        'message.received',
        detail(context, { channel: context.inbound.channel, body: context.inbound.body }),
      ),
    ],
    attention: 'free_text',
  };
};

/** DESIGN section 7, in order: the first rule that decides wins. */
const rules = [consentRule, helpRule, escalationRule, promptRule, keywordRule];

const decide = (context: RuleContext): Decision => {
  for (const rule of rules) {
    const decision = rule(context);
    if (decision) return decision;
  }
  return freeTextRule(context);
};

/** The prompt whose message the provider names, by comparing provider ids of the customer's prompt messages. */
const findPromptByProviderId = async (
  deps: InboundDeps,
  tenantId: string,
  customer: Customer,
  providerId: string,
): Promise<string | undefined> => {
  for (const prompt of Object.values(customer.openPrompts)) {
    const message = await deps.messages.getMessage(tenantId, prompt.messageId);
    if (message?.providerMessageId === providerId) return prompt.messageId;
  }
  for (const id of Object.keys(customer.promptAnswers)) {
    const message = await deps.messages.getMessage(tenantId, id);
    if (message?.providerMessageId === providerId) return id;
  }
  return undefined;
};

/**
 * Finds the open prompt the inbound message names. With one open prompt there is nothing to tell apart; with
 * several, their messages are read to compare provider ids (the only case that reads more).
 */
const resolveNamedPrompt = async (
  deps: InboundDeps,
  inbound: InboundMessage,
  customer: Customer | undefined,
): Promise<string | undefined> => {
  const answering = inbound.answering;
  if (!customer || !answering) return undefined;
  if (answering.messageId !== undefined) {
    const id = answering.messageId;
    if (customer.openPrompts[id] || customer.promptAnswers[id]) return id;
  }
  const providerId = answering.providerMessageId;
  if (!providerId) return undefined;
  // One open prompt and nothing answered: nothing to tell apart, no read needed.
  if (Object.keys(customer.promptAnswers).length === 0 && Object.keys(customer.openPrompts).length <= 1) {
    return undefined;
  }
  return findPromptByProviderId(deps, inbound.tenant.tenantId, customer, providerId);
};

/**
 * Replies go out on the channel the message came in on, through the one outbound path, at least once: each is
 * claimed by (inbound id, index) right before its provider call, so a redelivery sends what a crash or a throttle
 * left unsent and nothing that went (DESIGN sections 7 and 11). A reply the provider did not take fails the inbound
 * message, which is delivered again.
 */
const sendReplies = async (
  deps: InboundDeps,
  inbound: InboundMessage,
  customerId: string,
  inboundMessageId: string,
  replies: Reply[],
): Promise<Message[]> => {
  const { tenant } = inbound;
  const sent: Message[] = [];
  for (const [index, reply] of replies.entries()) {
    const now = deps.clock.now();
    let claim: MessageClaim = {
      tenantId: tenant.tenantId,
      messageId: newMessageId(tenant.tenantId, `reply:${inbound.inboundMessageId}:${index}`),
      customerId,
      timelineId: newTimelineId(now),
      requestHash: 'auto-reply',
      leaseUntil: now + deps.claimLeaseMs,
      createdAt: iso(now),
    };
    let mayHaveBeenSent = false;
    const claimed = await deps.messages.claimMessage(claim);
    if (!claimed.claimed) {
      const existing = claimed.existing;
      const stored = await deps.messages.getMessageByClaim(existing);
      if (stored) {
        sent.push(stored);
        continue;
      }
      if (existing.leaseUntil > now) throw new InboundInProgressError();
      const takeover = { ...existing, leaseUntil: now + deps.claimLeaseMs };
      if (!(await deps.messages.renewClaim(takeover, existing.leaseUntil))) throw new InboundInProgressError();
      claim = takeover;
      mayHaveBeenSent = true;
    }
    const draft: Message = {
      messageId: claim.messageId,
      tenantId: tenant.tenantId,
      customerId,
      timelineId: claim.timelineId,
      direction: 'outbound',
      channel: inbound.channel,
      to: inbound.from,
      from: inbound.channel === 'sms' ? tenant.smsNumber : (tenant.emailFrom ?? inbound.to),
      body: reply.body,
      ...(inbound.channel === 'email' && { subject: replySubject(inbound) }),
      ...(inbound.channel === 'email' && inbound.replyThread && { emailThread: inbound.replyThread }),
      status: 'sending',
      statusHistory: [],
      origin: 'reply',
      inReplyTo: inboundMessageId,
      createdAt: claim.createdAt,
    };
    const progress = { handedToProvider: false };
    try {
      // A reply answers the customer's own message: it goes even to an opted-out address (the STOP confirmation,
      // HELP), as carriers require. Too long or refused, it is recorded `failed` with `message.failed`.
      const delivered = await deliver(deps, draft, {
        recordRefusals: true,
        ignoreConsent: true,
        announce: 'failures',
        mayHaveBeenSent,
        progress,
        ...(reply.storedBody !== undefined && { storedBody: reply.storedBody }),
      });
      sent.push(delivered.message);
    } catch (error) {
      if (!progress.handedToProvider || error instanceof ProviderUnavailableError) {
        await deps.messages.releaseClaim(claim);
      }
      throw error;
    }
  }
  return sent;
};

const replySubject = (inbound: InboundMessage) => {
  // A received subject may hold tabs or breaks (folded, or repaired text); a header value may not.
  const subject = inbound.subject?.replace(/[\p{Cc}\u2028\u2029\s]+/gu, ' ').trim() || brandOf(inbound.tenant);
  return replySubjectOf(subject);
};
