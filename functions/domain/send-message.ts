import type { SendMessageRequest } from './contact-schemas.ts';
import { syncAddresses } from './customers.ts';
import { ParleyError, ProviderUnavailableError } from './errors.ts';
import { fingerprint, newMessageId, newTimelineId } from './ids.ts';
import type {
  Channel,
  Customer,
  EmailThread,
  Message,
  MessageChannel,
  MessageClaim,
  OpenPrompt,
  PromptSpec,
  StoredResponse,
  Template,
  Tenant,
} from './model.ts';
import { type Delivered, deliver, type OutboundDeps } from './outbound.ts';
import type { CustomerStore, MessageStore } from './ports.ts';
import { expiredPromptKeepMs, maxOpenPrompts } from './prompt-policy.ts';
import { chooseChannel } from './routing.ts';
import { countSegments } from './segments.ts';
import { type RenderedContent, renderContent } from './templates.ts';
import { cutText } from './text.ts';

export interface SendDeps extends OutboundDeps {
  getTemplate(tenantId: string, name: string): Promise<Template | undefined>;
  customers: CustomerStore;
  messages: MessageStore;
  /** How long a claim protects an in-flight send before a retry may take it over (beyond the function timeout). */
  claimLeaseMs: number;
  /** How a duplicate waits for the first attempt to finish before answering 429 (a few seconds at most). */
  replayPoll: { intervalMs: number; attempts: number };
  /** What this container last saw of customers' open prompts, so a send crowds out the oldest in its own write. */
  openPromptMemory?: OpenPromptMemory;
}

/**
 * A customer's open prompts as a send last saw them (the old image of its write, plus what it changed), by
 * `<tenantId>#<customerId>`. A guess only: another container may have opened or closed some since. A wrong guess
 * costs one more write (the prompts the old image shows crowded out are closed after), never a prompt kept open
 * past the policy; at worst one more old prompt is closed early when answers elsewhere made room meanwhile.
 */
export interface OpenPromptMemory {
  get(key: string): OpenPrompt[] | undefined;
  set(key: string, prompts: OpenPrompt[]): void;
}

export interface SendResult {
  statusCode: number;
  body: unknown;
  replayed: boolean;
  messageId: string;
  channel?: MessageChannel;
  /** The delivery's outcome (absent on a replay). */
  status?: Delivered['status'];
}

const iso = (ms: number) => new Date(ms).toISOString();

const errorBody = (error: ParleyError) => ({ error: { code: error.code, message: error.message } });

const resolveContent = async (
  deps: SendDeps,
  tenantId: string,
  request: SendMessageRequest,
): Promise<RenderedContent> => {
  // A literal body is the backend's own text, sent as given: no template syntax is read in it.
  if (request.body) return structuredClone(request.body) as RenderedContent;
  const name = request.template as string;
  const template = await deps.getTemplate(tenantId, name);
  if (!template) throw new ParleyError('unknown_template', `No template named '${name}'`);
  return renderContent(template, request.data ?? {});
};

const promptSpec = (request: SendMessageRequest, now: number): PromptSpec | undefined => {
  if (!request.prompt) return undefined;
  const spec: PromptSpec = { type: request.prompt.type, expiresAt: iso(now + request.prompt.expiresInSeconds * 1000) };
  if (request.prompt.type === 'choice') spec.options = request.prompt.options;
  if (request.prompt.verify) spec.verify = request.prompt.verify;
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
  const answering = await answeredMessage(deps, tenant, request);

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

  const state: DeliveryState = {};
  const progress = { handedToProvider: false };
  try {
    const accepted = await accept(deps, state, tenant, request, claim, content, smsSegments, answering);
    const delivered = await deliver(deps, accepted.message, {
      customer: accepted.customer,
      response: sendResponse,
      progress,
      mayHaveBeenSent: outcome.takenOver,
    });
    if (delivered.status === 'failed') await closePrompt(deps, tenant, state);
    const response = delivered.message.response as StoredResponse;
    return {
      statusCode: response.statusCode,
      body: response.body,
      replayed: false,
      messageId: delivered.message.messageId,
      channel: delivered.message.channel,
      status: delivered.status,
    };
  } catch (error) {
    // Nothing went out (refused before the call, or provably not taken): close the prompt and release the claim so
    // the backend's retry can go through. Once the provider may have it, the claim stays: a retry after its lease
    // records the message as `unknown` and never sends it again (DESIGN section 11).
    if (!progress.handedToProvider || error instanceof ProviderUnavailableError) {
      await closePrompt(deps, tenant, state);
      await deps.messages.releaseClaim(claim);
    }
    throw error;
  }
};

/**
 * The message a send answers (`inReplyTo`), read before anything is written: one of this customer's, or the
 * request is refused. Any other tenant's or customer's id reads as none.
 */
const answeredMessage = async (
  deps: SendDeps,
  tenant: Tenant,
  request: SendMessageRequest,
): Promise<Message | undefined> => {
  if (request.inReplyTo === undefined) return undefined;
  const message = await deps.messages.getMessage(tenant.tenantId, request.inReplyTo);
  if (!message || message.customerId !== request.customerId) {
    throw new ParleyError('invalid_request', `inReplyTo names no message of customer '${request.customerId}'`);
  }
  return message;
};

/**
 * The mail thread a send answering `answered` joins, with the thread's subject: the thread of the customer's email,
 * or of Parley's threaded email. Nothing for an SMS or a message outside any thread.
 */
const threadOf = (answered: Message | undefined): { thread: EmailThread; subject?: string } | undefined => {
  if (answered?.channel !== 'email' || !answered.emailThread) return undefined;
  return { thread: answered.emailThread, ...(answered.subject !== undefined && { subject: answered.subject }) };
};

/** What the API answers for a send, kept on the message so every replay answers the same. */
const sendResponse = ({ status, message, error }: Delivered): StoredResponse => {
  if (status === 'failed' && error) return { statusCode: error.status, body: errorBody(error) };
  return {
    statusCode: 202,
    body: {
      messageId: message.messageId,
      customerId: message.customerId,
      channel: message.channel,
      status,
      ...(message.segments !== undefined && { segments: message.segments }),
      ...(message.fallbackReason !== undefined && { fallbackReason: message.fallbackReason }),
    },
  };
};

/**
 * The customer write of a send returns the customer as it was, so prompts that are long expired or crowded out
 * are seen here and removed in one more write, only when there are some: the item stays small, and so does the
 * cost of every later send.
 */
const pruneOpenPrompts = async (deps: SendDeps, customer: Customer) => {
  const stale = crowdedOut(Object.values(customer.openPrompts), deps.clock.now());
  if (stale.length === 0) return;
  await deps.customers.dropOpenPrompts(customer.tenantId, customer.customerId, stale);
  for (const id of stale) delete customer.openPrompts[id];
};

/** The prompts a customer no longer keeps open: beyond the newest few, or expired long enough ago. */
const crowdedOut = (prompts: OpenPrompt[], now: number): string[] =>
  [...prompts]
    .sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1))
    .filter((prompt, index) => index >= maxOpenPrompts || Date.parse(prompt.expiresAt) + expiredPromptKeepMs < now)
    .map((prompt) => prompt.messageId);

const memoryKey = (tenantId: string, customerId: string) => `${tenantId}#${customerId}`;

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
  const { customerId, messageId } = state.openedPrompt;
  await deps.customers.dropOpenPrompts(tenant.tenantId, customerId, [messageId]);
  const key = memoryKey(tenant.tenantId, customerId);
  const known = deps.openPromptMemory?.get(key);
  if (known)
    deps.openPromptMemory?.set(
      key,
      known.filter((prompt) => prompt.messageId !== messageId),
    );
};

type ClaimOutcome = { claim: MessageClaim; takenOver: boolean } | { replay: SendResult };

/**
 * Claims the message id, or answers what the first attempt answered. A duplicate that finds the first attempt still
 * in progress waits a few seconds at most, then answers 429 with `Retry-After`; one that finds it dead (its lease ran
 * out, no message stored) takes the claim over, and the message is recorded as `unknown`: the first attempt may have
 * reached the provider.
 */
const claimOrReplay = async (deps: SendDeps, claim: MessageClaim): Promise<ClaimOutcome> => {
  let leaseUntil = claim.leaseUntil;
  for (let turn = 0; turn < 3; turn++) {
    const result = await deps.messages.claimMessage(claim);
    if (result.claimed) return { claim, takenOver: false };
    const existing = result.existing;
    if (existing.requestHash !== claim.requestHash || existing.customerId !== claim.customerId) {
      throw new ParleyError(
        'idempotency_conflict',
        'This Idempotency-Key was already used with a different request body',
      );
    }
    const waited = await waitForFirstAttempt(deps, existing);
    if ('replay' in waited) return waited;
    // Released (the first attempt failed before sending): claim it afresh on the next turn.
    if (!waited.claim) continue;
    const current = waited.claim;
    leaseUntil = current.leaseUntil;
    // Still leased: the first attempt is alive but slow. Never send beside it.
    if (current.leaseUntil > deps.clock.now()) break;
    const takeover = { ...current, leaseUntil: deps.clock.now() + deps.claimLeaseMs };
    if (await deps.messages.renewClaim(takeover, current.leaseUntil)) return { claim: takeover, takenOver: true };
  }
  const retryAfterSeconds = Math.min(30, Math.max(1, Math.ceil((leaseUntil - deps.clock.now()) / 1000)));
  throw new ParleyError('rate_limited', 'A send with this Idempotency-Key is still in progress; retry shortly', {
    retryAfterSeconds,
  });
};

/**
 * Polls until the first attempt stored its answer, within the poll budget. Gives back the replay, or the claim as it
 * is now (undefined when released), for the caller to decide.
 */
const waitForFirstAttempt = async (
  deps: SendDeps,
  existing: MessageClaim,
): Promise<{ replay: SendResult } | { claim: MessageClaim | undefined }> => {
  let claim: MessageClaim | undefined = existing;
  for (let attempt = 0; attempt < deps.replayPoll.attempts; attempt++) {
    const message = await deps.messages.getMessageByClaim(claim);
    if (message?.response) {
      return {
        replay: {
          statusCode: message.response.statusCode,
          body: message.response.body,
          replayed: true,
          messageId: message.messageId,
          channel: message.channel,
          ...((message.status === 'sent' || message.status === 'failed' || message.status === 'unknown') && {
            status: message.status,
          }),
        },
      };
    }
    if (claim.leaseUntil <= deps.clock.now()) return { claim };
    await deps.sleep(deps.replayPoll.intervalMs);
    claim = await deps.messages.getClaim(existing.tenantId, existing.messageId);
    if (!claim) return { claim: undefined };
  }
  return { claim };
};

interface DeliveryState {
  /** The prompt this send opened on the customer, to close again if the send does not go out. */
  openedPrompt?: { customerId: string; messageId: string };
}

/** Short: the summary is kept on the customer item with the prompt, billed on every send to the customer. */
const summaryChars = 40;

/** The start of a message, to tell prompts apart in "which one?" questions (cut on whole characters). */
const summarise = (text: string): string => cutText(text, summaryChars);

/** Accepting a send: the customer (and the prompt it opens), pruning, and the channel. */
const accept = async (
  deps: SendDeps,
  state: DeliveryState,
  tenant: Tenant,
  request: SendMessageRequest,
  claim: MessageClaim,
  content: RenderedContent,
  smsSegments: ReturnType<typeof countSegments> | undefined,
  answering: Message | undefined,
): Promise<{ message: Message; customer: Customer }> => {
  const nowIso = iso(deps.clock.now());
  const prompt = promptSpec(request, Date.parse(claim.createdAt));
  // The prompt opens in the customer write the send makes anyway, so an inbound reply finds it in one read.
  const openPrompt: OpenPrompt | undefined = prompt && {
    messageId: claim.messageId,
    type: prompt.type,
    ...(prompt.options && { options: prompt.options }),
    expiresAt: prompt.expiresAt,
    ...(request.reference !== undefined && { reference: request.reference }),
    summary: summarise(content.sms ?? content.email?.subject ?? ''),
    createdAt: claim.createdAt,
    ...(prompt.verify && { verify: prompt.verify }),
  };
  // The prompts this one crowds out are closed in the same write, as far as this container knows them: the item
  // never holds more than the policy keeps, and its size (every send's cost) stays bounded.
  const key = memoryKey(tenant.tenantId, request.customerId);
  const known = deps.openPromptMemory?.get(key);
  const dropPrompts = known ? crowdedOut(openPrompt ? [...known, openPrompt] : known, deps.clock.now()) : [];
  const upserted = await deps.customers.upsertCustomer(
    tenant.tenantId,
    request.customerId,
    {
      ...(request.to?.phone && { phone: request.to.phone }),
      ...(request.to?.email && { email: request.to.email }),
      ...(openPrompt && { openPrompt }),
      ...(dropPrompts.length > 0 && { dropPrompts }),
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
  deps.openPromptMemory?.set(key, Object.values(customer.openPrompts));

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
  if (answering) message.inReplyTo = answering.messageId;
  // By email, an answer to the customer's mail joins its thread, under the thread's subject (as a mail client
  // replies; a new subject would start a new conversation in most clients).
  const thread = message.channel === 'email' ? threadOf(answering) : undefined;
  if (thread) {
    message.emailThread = thread.thread;
    if (thread.subject !== undefined) message.subject = thread.subject;
  }

  return { message, customer };
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
    status: 'sending' as const,
    statusHistory: [],
    origin: 'send' as const,
    requested: request.channel,
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
