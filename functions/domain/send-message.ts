import type { SendMessageRequest } from './contact-schemas.ts';
import { syncAddresses } from './customers.ts';
import { ParleyError, ProviderRejectedError, ProviderUnavailableError } from './errors.ts';
import { fingerprint, newMessageId, newTimelineId } from './ids.ts';
import type {
  Channel,
  Customer,
  Message,
  MessageChannel,
  MessageClaim,
  OpenPrompt,
  PromptSpec,
  StoredResponse,
  Template,
  Tenant,
} from './model.ts';
import type { Clock, CustomerStore, EmailSender, EventPublisher, MessageStore, SmsSender } from './ports.ts';
import { expiredPromptKeepMs, maxOpenPrompts } from './prompt-policy.ts';
import { chooseChannel } from './routing.ts';
import { countSegments } from './segments.ts';
import { type RenderedContent, renderContent } from './templates.ts';

export interface SendDeps {
  getTemplate(tenantId: string, name: string): Promise<Template | undefined>;
  customers: CustomerStore;
  messages: MessageStore;
  sms: SmsSender;
  email: EmailSender;
  events: EventPublisher;
  clock: Clock;
  /** The Reply-To address for an email, carrying a signed conversation token. */
  replyAddress(tenantId: string, messageId: string): string;
  maxSmsSegments: number;
  /** How long a claim protects an in-flight send before a retry may take it over. */
  claimLeaseMs: number;
  /** How a duplicate waits for the first attempt to finish. */
  replayPoll: { intervalMs: number; attempts: number };
  sleep(ms: number): Promise<void>;
  /** Shows a sent message in the customer's connected chat, if they have one open (optional). */
  pushToChat?(customer: Customer, message: Message): Promise<unknown>;
}

export interface SendResult {
  statusCode: number;
  body: unknown;
  replayed: boolean;
  messageId: string;
  channel?: MessageChannel;
}

const iso = (ms: number) => new Date(ms).toISOString();

const errorBody = (error: ParleyError) => ({ error: { code: error.code, message: error.message } });

const resolveContent = async (deps: SendDeps, tenantId: string, request: SendMessageRequest) => {
  if (request.body) return renderContent(request.body, {});
  const name = request.template as string;
  const template = await deps.getTemplate(tenantId, name);
  if (!template) throw new ParleyError('unknown_template', `No template named '${name}'`);
  return renderContent(template, request.data ?? {});
};

const promptSpec = (request: SendMessageRequest, now: number): PromptSpec | undefined => {
  if (!request.prompt) return undefined;
  const spec: PromptSpec = { type: request.prompt.type, expiresAt: iso(now + request.prompt.expiresInSeconds * 1000) };
  if (request.prompt.type === 'choice') spec.options = request.prompt.options;
  return spec;
};

/**
 * Sends one message: claim the message id (idempotency) before anything else, upsert the customer, pick the
 * channel, publish, store the outcome and emit the event. A duplicate answers what the first attempt answered and
 * sends nothing.
 */
export const sendMessage = async (
  deps: SendDeps,
  tenant: Tenant,
  request: SendMessageRequest,
  idempotencyKey?: string,
): Promise<SendResult> => {
  const now = deps.clock.now();
  // Everything that can fail on the request alone fails before the claim, so bad input writes nothing.
  const content = await resolveContent(deps, tenant.tenantId, request);
  const smsSegments = content.sms === undefined ? undefined : countSegments(content.sms);
  if (smsSegments && (request.channel === 'sms' || content.email === undefined)) {
    // SMS is the only way this can go: refuse an over-long one before anything is written.
    assertSmsFits(smsSegments, deps.maxSmsSegments);
  }

  let claim: MessageClaim = {
    tenantId: tenant.tenantId,
    messageId: newMessageId(tenant.tenantId, idempotencyKey),
    customerId: request.customerId,
    timelineId: newTimelineId(now),
    requestHash: fingerprint(request),
    leaseUntil: now + deps.claimLeaseMs,
    createdAt: iso(now),
  };

  const outcome = await claimOrReplay(deps, claim);
  if ('replay' in outcome) return outcome.replay;
  claim = outcome.claim;

  const state: DeliveryState = { handedToProvider: false };
  try {
    const result = await deliver(deps, state, tenant, request, claim, content, smsSegments);
    if (result.statusCode >= 400) await closePrompt(deps, tenant, state);
    return result;
  } catch (error) {
    if (!state.handedToProvider) await closePrompt(deps, tenant, state);
    // Nothing went out: release the claim so the backend's retry can go through. Once the provider took the
    // message, the claim stays (a retry after its lease may resend: at least once, never silently lost).
    if (!state.handedToProvider) await deps.messages.releaseClaim(claim);
    throw error;
  }
};

/**
 * The customer write of a send returns the customer as it was, so prompts that are long expired or crowded out
 * are seen here and removed in one more write, only when there are some: the item stays small, and so does the
 * cost of every later send.
 */
const pruneOpenPrompts = async (deps: SendDeps, customer: Customer) => {
  const now = deps.clock.now();
  const prompts = Object.values(customer.openPrompts).sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1));
  const stale = prompts
    .filter((prompt, index) => index >= maxOpenPrompts || Date.parse(prompt.expiresAt) + expiredPromptKeepMs < now)
    .map((prompt) => prompt.messageId);
  if (stale.length === 0) return;
  await deps.customers.dropOpenPrompts(customer.tenantId, customer.customerId, stale);
  for (const id of stale) delete customer.openPrompts[id];
};

const assertSmsFits = (segments: ReturnType<typeof countSegments>, max: number) => {
  if (segments.segments > max) {
    throw new ParleyError(
      'message_too_long',
      `The SMS is ${segments.segments} segments (${segments.encoding}); the limit is ${max}`,
    );
  }
};

const closePrompt = async (deps: SendDeps, tenant: Tenant, state: DeliveryState) => {
  if (!state.openedPrompt) return;
  await deps.customers.dropOpenPrompts(tenant.tenantId, state.openedPrompt.customerId, [state.openedPrompt.messageId]);
};

type ClaimOutcome = { claim: MessageClaim } | { replay: SendResult };

const claimOrReplay = async (deps: SendDeps, claim: MessageClaim): Promise<ClaimOutcome> => {
  for (let attempt = 0; attempt <= deps.replayPoll.attempts; attempt++) {
    const result = await deps.messages.claimMessage(claim);
    if (result.claimed) return { claim };
    const existing = result.existing;
    if (existing.requestHash !== claim.requestHash || existing.customerId !== claim.customerId) {
      throw new ParleyError(
        'idempotency_conflict',
        'This Idempotency-Key was already used with a different request body',
      );
    }
    const replay = await waitForFirstAttempt(deps, existing);
    if (replay) return { replay };
    const current = await deps.messages.getClaim(existing.tenantId, existing.messageId);
    // Released (the first attempt failed before sending): claim it afresh on the next turn.
    if (!current) continue;
    // Still leased: the first attempt is alive but slow. Never send beside it.
    if (current.leaseUntil > deps.clock.now()) break;
    // The first attempt died holding the claim: take it over, keeping its message id and timeline position.
    const takeover = { ...current, leaseUntil: deps.clock.now() + deps.claimLeaseMs };
    if (await deps.messages.renewClaim(takeover, current.leaseUntil)) return { claim: takeover };
  }
  throw new ParleyError('rate_limited', 'A send with this Idempotency-Key is still in progress; retry shortly');
};

/** Polls until the first attempt stored its answer; undefined when its claim was released or its lease ran out. */
const waitForFirstAttempt = async (deps: SendDeps, existing: MessageClaim): Promise<SendResult | undefined> => {
  let claim: MessageClaim | undefined = existing;
  for (let attempt = 0; attempt < deps.replayPoll.attempts; attempt++) {
    const message = await deps.messages.getMessageByClaim(claim);
    if (message?.response) {
      const result: SendResult = {
        statusCode: message.response.statusCode,
        body: message.response.body,
        replayed: true,
        messageId: message.messageId,
        channel: message.channel,
      };
      return result;
    }
    if (claim.leaseUntil <= deps.clock.now()) return undefined;
    await deps.sleep(deps.replayPoll.intervalMs);
    claim = await deps.messages.getClaim(existing.tenantId, existing.messageId);
    if (!claim) return undefined;
  }
  return undefined;
};

interface DeliveryState {
  handedToProvider: boolean;
  /** The prompt this send opened on the customer, to close again if the send does not go out. */
  openedPrompt?: { customerId: string; messageId: string };
}

/** The start of a message, to tell prompts apart in "which one?" questions. */
const summarise = (text: string): string => (text.length > 60 ? `${text.slice(0, 57)}...` : text);

const deliver = async (
  deps: SendDeps,
  state: DeliveryState,
  tenant: Tenant,
  request: SendMessageRequest,
  claim: MessageClaim,
  content: RenderedContent,
  smsSegments: ReturnType<typeof countSegments> | undefined,
): Promise<SendResult> => {
  const nowIso = iso(deps.clock.now());
  const prompt = promptSpec(request, Date.parse(claim.createdAt));
  // The prompt opens in the customer write the send makes anyway, so an inbound reply finds it in one read.
  const openPrompt: OpenPrompt | undefined = prompt && {
    messageId: claim.messageId,
    timelineId: claim.timelineId,
    type: prompt.type,
    ...(prompt.options && { options: prompt.options }),
    expiresAt: prompt.expiresAt,
    ...(request.reference !== undefined && { reference: request.reference }),
    summary: summarise(content.sms ?? content.email?.subject ?? ''),
    createdAt: claim.createdAt,
  };
  const upserted = await deps.customers.upsertCustomer(
    tenant.tenantId,
    request.customerId,
    {
      ...(request.to?.phone && { phone: request.to.phone }),
      ...(request.to?.email && { email: request.to.email }),
      ...(openPrompt && { openPrompt }),
    },
    { create: request.to !== undefined, now: nowIso },
  );
  if (upserted && openPrompt) state.openedPrompt = { customerId: request.customerId, messageId: claim.messageId };
  if (!upserted) {
    throw new ParleyError(
      'no_reachable_channel',
      `Customer '${request.customerId}' is unknown: give 'to' with an address`,
    );
  }
  const customer = upserted.after;
  await syncAddresses(deps.customers, upserted.before, customer);
  await pruneOpenPrompts(deps, customer);

  const choice = chooseChannel({
    requested: request.channel,
    customer,
    content: { sms: content.sms !== undefined, email: content.email !== undefined },
    tenantChannels: { sms: true, email: tenant.emailFrom !== undefined },
    urgency: request.urgency,
    now: deps.clock.now(),
  });

  if (choice.channel === 'sms' && smsSegments) assertSmsFits(smsSegments, deps.maxSmsSegments);

  const message = draftMessage(tenant, request, claim, content, choice.channel, customer, smsSegments);
  if (choice.fallbackReason) message.fallbackReason = choice.fallbackReason;
  if (prompt) message.prompt = prompt;

  let providerMessageId: string;
  try {
    ({ providerMessageId } =
      choice.channel === 'sms'
        ? await deps.sms.sendSms({ to: message.to, from: message.from, body: message.body })
        : await deps.email.sendEmail({
            to: message.to,
            from: message.from,
            replyTo: deps.replyAddress(tenant.tenantId, message.messageId),
            subject: message.subject as string,
            text: message.body,
            ...(message.html !== undefined && { html: message.html }),
          }));
  } catch (error) {
    if (error instanceof ProviderRejectedError) {
      return await recordOutcome(deps, state, message, { status: 'failed', error });
    }
    if (error instanceof ParleyError) throw error;
    throw new ProviderUnavailableError(error);
  }
  const result = await recordOutcome(deps, state, message, { status: 'sent', providerMessageId });
  // The customer is chatting right now: the message joins the chat too (the customer image came with the write).
  if (customer.chat && deps.pushToChat) await deps.pushToChat(customer, message);
  return result;
};

const draftMessage = (
  tenant: Tenant,
  request: SendMessageRequest,
  claim: MessageClaim,
  content: RenderedContent,
  channel: Channel,
  customer: Customer,
  smsSegments: ReturnType<typeof countSegments> | undefined,
): Message => {
  const base = {
    messageId: claim.messageId,
    tenantId: tenant.tenantId,
    customerId: customer.customerId,
    timelineId: claim.timelineId,
    direction: 'outbound' as const,
    channel,
    status: 'queued' as const,
    statusHistory: [{ status: 'queued' as const, at: claim.createdAt }],
    urgency: request.urgency,
    category: request.category,
    createdAt: claim.createdAt,
    ...(request.template !== undefined && { template: request.template }),
    ...(request.reference !== undefined && { reference: request.reference }),
  };
  if (channel === 'sms') {
    return {
      ...base,
      to: customer.phone as string,
      from: tenant.smsNumber,
      body: content.sms as string,
      ...(smsSegments && { segments: smsSegments.segments, encoding: smsSegments.encoding }),
    };
  }
  const email = content.email as NonNullable<RenderedContent['email']>;
  return {
    ...base,
    to: customer.email as string,
    from: tenant.emailFrom as string,
    subject: email.subject,
    body: email.text,
    ...(email.html !== undefined && { html: email.html }),
  };
};

type Outcome = { status: 'sent'; providerMessageId: string } | { status: 'failed'; error: ProviderRejectedError };

const recordOutcome = async (
  deps: SendDeps,
  state: DeliveryState,
  message: Message,
  outcome: Outcome,
): Promise<SendResult> => {
  state.handedToProvider = true;
  const at = iso(deps.clock.now());
  let response: StoredResponse;
  if (outcome.status === 'sent') {
    message.status = 'sent';
    message.providerMessageId = outcome.providerMessageId;
    message.statusHistory.push({ status: 'sent', at });
    response = {
      statusCode: 202,
      body: {
        messageId: message.messageId,
        customerId: message.customerId,
        channel: message.channel,
        status: 'sent',
        ...(message.segments !== undefined && { segments: message.segments }),
        ...(message.fallbackReason !== undefined && { fallbackReason: message.fallbackReason }),
      },
    };
  } else {
    message.status = 'failed';
    message.failure = { code: outcome.error.code, reason: outcome.error.message };
    message.statusHistory.push({ status: 'failed', at, reason: outcome.error.message });
    response = { statusCode: outcome.error.status, body: errorBody(outcome.error) };
  }
  message.response = response;
  await deps.messages.putMessage(message);
  await deps.events.publish([
    {
      type: outcome.status === 'sent' ? 'message.sent' : 'message.failed',
      detail: {
        tenantId: message.tenantId,
        customerId: message.customerId,
        occurredAt: at,
        messageId: message.messageId,
        ...(message.reference !== undefined && { reference: message.reference }),
        channel: message.channel,
        ...(outcome.status === 'failed' && { reason: outcome.error.message }),
      },
    },
  ]);
  return {
    statusCode: response.statusCode,
    body: response.body,
    replayed: false,
    messageId: message.messageId,
    channel: message.channel,
  };
};
