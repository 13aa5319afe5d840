import { ParleyError } from './errors.ts';
import { newMessageId, newTimelineId } from './ids.ts';
import { classifyKeyword } from './keywords.ts';
import type { ConsentRecord, Customer, InboundEffect, Message, OpenPrompt, Template, Tenant } from './model.ts';
import type {
  Clock,
  CustomerInboundUpdate,
  EventPublisher,
  InboundCustomerStore,
  MessageStore,
  ParleyEvent,
  SmsSender,
} from './ports.ts';
import { hintFor, matchPrompt, whichQuestion } from './prompt-matcher.ts';
import { renderTemplate } from './templates.ts';

export interface InboundSms {
  tenant: Tenant;
  /** The customer's number (E.164). */
  from: string;
  /** The tenant's number it was sent to. */
  to: string;
  body: string;
  inboundMessageId: string;
  /** The outbound message the customer answers, as End User Messaging reports it. */
  previousPublishedMessageId?: string;
  receivedAt: string;
}

export interface AttentionStore {
  markNeedsAttention(
    tenantId: string,
    customerId: string,
    entry: { reason: string; at: string; summary: string },
  ): Promise<void>;
}

export interface InboundDeps {
  customers: InboundCustomerStore;
  messages: MessageStore;
  attention: AttentionStore;
  sms: SmsSender;
  events: EventPublisher;
  clock: Clock;
  getTemplate(tenantId: string, name: string): Promise<Template | undefined>;
  /** How long an expired prompt is kept, to tell a late reply it has expired. */
  expiredPromptKeepMs: number;
  /** How long an answer is kept on the customer (the inbound message keeps it for good). */
  answerKeepMs: number;
  claimLeaseMs: number;
  sleep(ms: number): Promise<void>;
  /** Shows a message in the customer's connected chat (optional). */
  pushToChat?(customer: Customer, message: Message): Promise<unknown>;
  /** CALL and CHAT: a callback request or a chat link, with the reply that acknowledges it. */
  escalate(input: {
    tenant: Tenant;
    customerId: string;
    kind: 'callback' | 'chat';
    keyword: string;
    at: string;
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

/** The conversation of a number no backend has named yet. */
export const unknownSenderId = (phone: string) => `sms:${phone}`;

interface Decision {
  effect: InboundEffect;
  escalation?: { kind: 'callback' | 'chat'; keyword: string };
  update: Omit<CustomerInboundUpdate, 'at' | 'channel' | 'create'>;
  replies: string[];
  events: ParleyEvent[];
  attention?: string;
}

/**
 * Handles one inbound SMS: consent first, then dedupe on the inbound id, then one versioned customer update that
 * carries what the message did, then the replies and events, and last the message in the conversation (its
 * presence marks the delivery done: a redelivery finds it and changes nothing).
 */
export const handleInboundSms = async (deps: InboundDeps, sms: InboundSms): Promise<InboundOutcome> => {
  const { tenant } = sms;
  const now = deps.clock.now();
  const classified = classifyKeyword(sms.body);
  const messageId = newMessageId(tenant.tenantId, `inbound:${sms.inboundMessageId}`);

  // Consent before anything else: an opt-out must hold even if everything after it fails.
  let consent: ConsentRecord | undefined;
  if (classified.kind === 'opt_out' || classified.kind === 'opt_in') {
    consent = {
      status: classified.kind === 'opt_out' ? 'opted_out' : 'opted_in',
      at: sms.receivedAt,
      keyword: classified.keyword,
    };
    await deps.customers.setAddressConsent(tenant.tenantId, 'sms', sms.from, consent);
  }

  const address = await deps.customers.getAddress(tenant.tenantId, 'sms', sms.from);
  const customerId = address?.customerId ?? unknownSenderId(sms.from);

  let claim = {
    tenantId: tenant.tenantId,
    messageId,
    customerId,
    timelineId: newTimelineId(Date.parse(sms.receivedAt) || now),
    requestHash: `inbound:${sms.inboundMessageId}`,
    leaseUntil: now + deps.claimLeaseMs,
    createdAt: sms.receivedAt,
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

  const decision = await decideAndRecord(
    deps,
    sms,
    claim.customerId,
    messageId,
    classified,
    consent,
    !address?.customerId,
  );

  if (decision.escalation) {
    const escalated = await deps.escalate({
      tenant,
      customerId: claim.customerId,
      kind: decision.escalation.kind,
      keyword: decision.escalation.keyword,
      at: sms.receivedAt,
    });
    decision.effect = escalated.effect;
    decision.replies.push(escalated.reply);
  }
  const replies = await sendReplies(deps, sms, claim.customerId, decision.replies);
  if (decision.attention) {
    await deps.attention.markNeedsAttention(tenant.tenantId, claim.customerId, {
      reason: decision.attention,
      at: sms.receivedAt,
      summary: sms.body.slice(0, 140),
    });
  }
  await deps.events.publish(decision.events);

  const inbound: Message = {
    messageId,
    tenantId: tenant.tenantId,
    customerId: claim.customerId,
    timelineId: claim.timelineId,
    direction: 'inbound',
    channel: 'sms',
    to: sms.to,
    from: sms.from,
    body: sms.body,
    status: 'received',
    statusHistory: [{ status: 'received', at: sms.receivedAt }],
    effect: decision.effect,
    inboundMessageId: sms.inboundMessageId,
    createdAt: sms.receivedAt,
  };
  await deps.messages.putMessage(inbound);
  // A customer chatting right now sees what they texted, and the answers, in the chat too.
  if (decision.customer?.chat && deps.pushToChat) {
    for (const message of [inbound, ...replies]) await deps.pushToChat(decision.customer, message);
  }
  return { status: 'processed', messageId, customerId: claim.customerId, effect: decision.effect };
};

/** Reads the customer, decides, and writes the decision in one versioned update, again on a conflict. */
const decideAndRecord = async (
  deps: InboundDeps,
  sms: InboundSms,
  customerId: string,
  messageId: string,
  classified: ReturnType<typeof classifyKeyword>,
  consent: ConsentRecord | undefined,
  unknownSender: boolean,
): Promise<Decision & { customer: Customer | undefined }> => {
  for (let attempt = 0; attempt < 8; attempt++) {
    // The first read may be eventually consistent (half the cost); a retry after a conflict reads the latest.
    const customer = await deps.customers.getCustomer(sms.tenant.tenantId, customerId, { consistent: attempt > 0 });
    const decision = await decide(deps, sms, customer, messageId, classified, consent);
    const update: CustomerInboundUpdate = {
      ...decision.update,
      ...prune(customer, deps, deps.clock.now(), decision),
      at: sms.receivedAt,
      channel: 'sms',
      ...(!customer && { create: { phone: sms.from, unknownSender } }),
    };
    // Only a decision that read prompt state needs the version it read; the rest (timestamps, consent, pruning)
    // are safe to write over a concurrent change, so busy conversations do not contend.
    const readsPromptState = decision.update.answers !== undefined || decision.update.pendingQuestion !== undefined;
    const written = await deps.customers.updateCustomerAfterInbound(
      sms.tenant.tenantId,
      customerId,
      update,
      readsPromptState ? (customer ? { version: customer.version } : 'absent') : 'any',
    );
    if (written) return { ...decision, customer };
    await deps.sleep(5 + Math.random() * 20 * (attempt + 1));
  }
  throw new ParleyError('internal', 'The customer kept changing under this inbound message');
};

const prune = (customer: Customer | undefined, deps: InboundDeps, now: number, decision: Decision) => {
  if (!customer) return {};
  const answered = new Set(Object.keys(decision.update.answers ?? {}));
  const dropPrompts = Object.values(customer.openPrompts)
    .filter((p) => !answered.has(p.messageId) && Date.parse(p.expiresAt) + deps.expiredPromptKeepMs < now)
    .map((p) => p.messageId);
  const dropAnswers = Object.entries(customer.promptAnswers)
    .filter(([, a]) => Date.parse(a.at) + deps.answerKeepMs < now)
    .map(([id]) => id);
  return {
    ...(dropPrompts.length > 0 && { dropPrompts }),
    ...(dropAnswers.length > 0 && { dropAnswers }),
  };
};

const detail = (sms: InboundSms, customerId: string, messageId: string, extra: Record<string, unknown> = {}) => ({
  tenantId: sms.tenant.tenantId,
  customerId,
  occurredAt: sms.receivedAt,
  messageId,
  ...extra,
});

const decide = async (
  deps: InboundDeps,
  sms: InboundSms,
  customer: Customer | undefined,
  messageId: string,
  classified: ReturnType<typeof classifyKeyword>,
  consent: ConsentRecord | undefined,
): Promise<Decision> => {
  const { tenant } = sms;
  const customerId = customer?.customerId ?? unknownSenderId(sms.from);
  const base = (extra: Record<string, unknown> = {}) => detail(sms, customerId, messageId, extra);

  switch (classified.kind) {
    case 'opt_out':
    case 'opt_in': {
      const record = consent as ConsentRecord;
      const optedOut = classified.kind === 'opt_out';
      return {
        effect: { type: optedOut ? 'opted_out' : 'opted_in', keyword: classified.keyword },
        update: { consent: { channel: 'sms', record } },
        replies: [
          optedOut
            ? `${tenant.name}: you are unsubscribed and will get no more messages. Reply START to resubscribe.`
            : `${tenant.name}: you are subscribed again. Reply HELP for help, STOP to opt out.`,
        ],
        events: [
          {
            type: 'consent.changed',
            detail: base({ channel: 'sms', status: record.status, keyword: classified.keyword }),
          },
        ],
      };
    }
    case 'help':
      return {
        effect: { type: 'help', keyword: classified.keyword },
        update: {},
        replies: [tenant.helpText ?? `${tenant.name}: reply STOP to opt out, START to opt back in.`],
        events: [],
      };
    case 'callback':
    case 'chat':
      // Acted on once the message is recorded (the decision may be re-run on a conflict).
      return {
        effect: { type: 'free_text' },
        escalation: { kind: classified.kind, keyword: classified.keyword },
        update: {},
        replies: [],
        events: [],
      };
    case 'reply':
      break;
  }

  const normalised = classified.normalised;
  const namedPromptId = await resolveNamedPrompt(deps, sms, customer);
  const match = matchPrompt({
    customer,
    normalised,
    messageId,
    now: deps.clock.now(),
    ...(namedPromptId !== undefined && { namedPromptId }),
  });
  const promptEvent = (type: string, prompt: OpenPrompt, extra: Record<string, unknown>) => ({
    type,
    detail: base({
      promptMessageId: prompt.messageId,
      ...(prompt.reference !== undefined && { reference: prompt.reference }),
      raw: sms.body,
      channel: 'sms',
      ...extra,
    }),
  });

  switch (match.kind) {
    case 'answer':
      return {
        effect: { type: 'prompt_answered', promptMessageId: match.prompt.messageId, answer: match.answer },
        update: {
          answers: {
            [match.prompt.messageId]: {
              answer: match.answer,
              raw: sms.body,
              at: sms.receivedAt,
              channel: 'sms',
              messageId,
              ...(match.prompt.reference !== undefined && { reference: match.prompt.reference }),
            },
          },
          ...(customer?.pendingQuestion && { pendingQuestion: null }),
        },
        replies: [],
        events: [promptEvent('prompt.answered', match.prompt, { answer: match.answer })],
      };
    case 'already_answered': {
      if (match.bySameMessage) {
        // A redelivery of the message that answered (the first delivery died after recording it): announce the
        // answer again, at least once, and change nothing.
        const previous = customer?.promptAnswers[match.promptMessageId];
        return {
          effect: { type: 'prompt_answered', promptMessageId: match.promptMessageId, answer: previous?.answer ?? '' },
          update: {},
          replies: [],
          events: previous
            ? [
                {
                  type: 'prompt.answered',
                  detail: base({
                    promptMessageId: match.promptMessageId,
                    ...(previous.reference !== undefined && { reference: previous.reference }),
                    raw: previous.raw,
                    channel: 'sms',
                    answer: previous.answer,
                  }),
                },
              ]
            : [],
        };
      }
      return {
        effect: { type: 'prompt_already_answered', promptMessageId: match.promptMessageId },
        update: {},
        replies: [`${tenant.name}: you have already answered this request.`],
        events: [],
      };
    }
    case 'expired':
      return {
        effect: { type: 'prompt_expired', promptMessageId: match.prompt.messageId },
        update: {},
        replies: [`${tenant.name}: this request has expired, so your answer was not recorded. Reply HELP for help.`],
        events: [promptEvent('prompt.expired', match.prompt, {})],
      };
    case 'ask_which':
      return {
        effect: { type: 'prompt_question', candidates: match.candidates.map((p) => p.messageId) },
        update: {
          pendingQuestion: {
            answerText: normalised,
            candidates: match.candidates.map((p) => p.messageId),
            askedAt: sms.receivedAt,
          },
        },
        replies: [whichQuestion(tenant.name, sms.body.trim(), match.candidates)],
        events: [],
      };
    case 'hint':
      // A tenant keyword is not an attempt at an answer (rule 7 still applies).
      if (tenant.keywords?.[normalised]) break;
      return {
        effect: { type: 'prompt_hint', promptMessageId: match.prompt.messageId },
        update: {},
        replies: [`${tenant.name}: ${hintFor(match.prompt)}`],
        events: [],
      };
    case 'none':
      break;
  }

  const keyword = tenant.keywords?.[normalised];
  if (keyword) {
    const replies: string[] = [];
    if (keyword.autoReplyTemplate) {
      const template = await deps.getTemplate(tenant.tenantId, keyword.autoReplyTemplate);
      try {
        if (template?.sms) replies.push(renderTemplate(template.sms, { tenantName: tenant.name }));
      } catch {
        // An auto-reply template that needs data it cannot have: the keyword still counts, without the reply.
      }
    }
    return {
      effect: { type: 'keyword', keyword: normalised },
      update: {},
      replies,
      events: [{ type: 'keyword.received', detail: base({ keyword: normalised, raw: sms.body, channel: 'sms' }) }],
    };
  }

  return {
    effect: { type: 'free_text' },
    update: {},
    replies: [],
    events: [{ type: 'message.received', detail: base({ channel: 'sms', body: sms.body }) }],
    attention: 'free_text',
  };
};

/**
 * Finds the open prompt previousPublishedMessageId names. With one open prompt there is nothing to tell apart;
 * with several, their messages are read to compare provider ids (the only case that reads more).
 */
const resolveNamedPrompt = async (
  deps: InboundDeps,
  sms: InboundSms,
  customer: Customer | undefined,
): Promise<string | undefined> => {
  const providerId = sms.previousPublishedMessageId;
  if (!customer || !providerId) return undefined;
  // One open prompt and nothing answered: nothing to tell apart, no read needed.
  if (Object.keys(customer.promptAnswers).length === 0 && Object.keys(customer.openPrompts).length <= 1) {
    return undefined;
  }
  for (const prompt of Object.values(customer.openPrompts)) {
    const message = await deps.messages.getMessageByClaim({
      tenantId: sms.tenant.tenantId,
      messageId: prompt.messageId,
      customerId: customer.customerId,
      timelineId: prompt.timelineId,
      requestHash: '',
      leaseUntil: 0,
      createdAt: prompt.createdAt,
    });
    if (message?.providerMessageId === providerId) return prompt.messageId;
  }
  for (const id of Object.keys(customer.promptAnswers)) {
    const message = await deps.messages.getMessage(sms.tenant.tenantId, id);
    if (message?.providerMessageId === providerId) return id;
  }
  return undefined;
};

/** Auto-replies go out from the tenant's number and join the conversation; each is sent once per inbound id. */
const sendReplies = async (deps: InboundDeps, sms: InboundSms, customerId: string, texts: string[]) => {
  const sent: Message[] = [];
  let index = 0;
  for (const body of texts) {
    const now = deps.clock.now();
    const claim = {
      tenantId: sms.tenant.tenantId,
      messageId: newMessageId(sms.tenant.tenantId, `reply:${sms.inboundMessageId}:${index++}`),
      customerId,
      timelineId: newTimelineId(now),
      requestHash: 'auto-reply',
      leaseUntil: now + deps.claimLeaseMs,
      createdAt: iso(now),
    };
    const claimed = await deps.messages.claimMessage(claim);
    if (!claimed.claimed) continue;
    const message: Message = {
      messageId: claim.messageId,
      tenantId: sms.tenant.tenantId,
      customerId,
      timelineId: claim.timelineId,
      direction: 'outbound',
      channel: 'sms',
      to: sms.from,
      from: sms.tenant.smsNumber,
      body,
      status: 'queued',
      statusHistory: [{ status: 'queued', at: claim.createdAt }],
      inReplyTo: newMessageId(sms.tenant.tenantId, `inbound:${sms.inboundMessageId}`),
      createdAt: claim.createdAt,
    };
    try {
      const { providerMessageId } = await deps.sms.sendSms({ to: sms.from, from: sms.tenant.smsNumber, body });
      message.status = 'sent';
      message.providerMessageId = providerMessageId;
      message.statusHistory.push({ status: 'sent', at: iso(deps.clock.now()) });
    } catch (error) {
      // The reply is recorded as failed, visibly: the inbound message itself is still handled.
      message.status = 'failed';
      message.failure = {
        code: (error as ParleyError).code ?? 'provider_unavailable',
        reason: (error as Error).message,
      };
      message.statusHistory.push({ status: 'failed', at: iso(deps.clock.now()), reason: (error as Error).message });
    }
    await deps.messages.putMessage(message);
    sent.push(message);
  }
  return sent;
};
