import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import { type ParleyEvent, parleyEvent } from './events.ts';
import { classifyKeyword, normaliseReply } from './keywords.ts';
import { maskAddress } from './masking.ts';
import type { Channel, OpenPrompt } from './model.ts';
import { answerFor } from './prompt-matcher.ts';

/**
 * Step-up confirmation (DESIGN section 16), as pure transitions: after a valid answer to a prompt that asks for it,
 * Parley sends a 6-digit code and emits `prompt.answered` only when the same address sends it back in time.
 *
 * Storage contract: the state lives with the prompt (beside `Customer.openPrompts`) and every transition returns a
 * state whose `version` is one more than the one it read. The caller writes it with a condition on the version it
 * read (`version = :read`) and, on a conflict, reads again and re-runs `onInbound` on the fresh state. That is what
 * keeps two tries arriving at once from both being judged against the same "tries used": one of them is re-judged
 * after the other. A transition that returns the very state it was given (same object) needs no write.
 *
 * What the state never holds: the code (only an HMAC of it, keyed by the token secret, so a leaked table gives no
 * codes), a full phone number or address (a masked one, and an HMAC tag to recognise the same address), or any text
 * beyond the raw answer word.
 */

export const stepUpPolicy = {
  codeDigits: 6,
  validForMs: 5 * 60_000,
  maxTries: 3,
  /** Codes one prompt may send (a new answer sends a new one): bounds the SMS a chatty or scripted sender costs. */
  maxCodes: 5,
  /** Inbound ids remembered for redeliveries; a verification sees a handful of messages, SNS redelivers soon. */
  maxProcessed: 20,
} as const;

/** A text read as an attempt at a code: 4 to 8 digits, spaces and dashes ignored ("482 913", "482-913"). */
const codeAttempt = /^\d{4,8}$/;

export type StepUpOutcome =
  | { status: 'pending' }
  | { status: 'completed'; at: string; via: 'code' | 'link' }
  | { status: 'failed'; at: string; reason: 'wrong_code' | 'expired' }
  | { status: 'cancelled'; at: string; keyword: string };

/** The answer waiting for its code. */
export interface PendingAnswer {
  answer: string;
  /** The answer word as received (Y, yes!): the only customer text the state keeps. */
  raw: string;
  channel: Channel;
  /** Masked (`+1202***0143`, `a***@example.com`). */
  address: string;
  /** The provider's id of the inbound message that answered. */
  inboundMessageId: string;
  /** Parley's id of that inbound message, when stored. */
  messageId?: string;
  at: string;
}

/** One step of the message's audit trail: append-only, never a code, never a full address. */
export type StepUpAuditEntry =
  | {
      step: 'answer_received';
      at: string;
      channel: Channel;
      address: string;
      providerMessageId: string;
      answer: string;
      raw: string;
    }
  | { step: 'code_issued'; at: string; channel: Channel; address: string; expiresAt: string; round: number }
  | { step: 'code_sent'; at: string; channel: Channel; address: string; providerMessageId: string }
  | {
      step: 'try';
      at: string;
      channel: Channel;
      address: string;
      providerMessageId: string;
      matched: boolean;
      /** False for a try that does not count: from another address, or after the code expired. */
      counted: boolean;
      reason?: 'other_address' | 'expired';
    }
  | { step: 'link_confirmed'; at: string; channel: 'email'; address: string }
  | { step: 'completed'; at: string; channel: Channel; address: string; providerMessageId?: string }
  | { step: 'failed'; at: string; channel: Channel; address: string; reason: 'wrong_code' | 'expired' }
  | {
      step: 'cancelled';
      at: string;
      channel: Channel;
      address: string;
      providerMessageId: string;
      keyword: string;
    };

/** What a stored decision replays: everything but a code, which is never kept. */
interface ProcessedInbound {
  inboundMessageId: string;
  decision: StepUpDecision;
}

export interface StepUpState {
  tenantId: string;
  customerId: string;
  promptMessageId: string;
  reference?: string;
  /** The tenant's name, which the replies start with. */
  brand: string;
  /** What a new answer is read against. */
  prompt: Pick<OpenPrompt, 'type' | 'options' | 'expiresAt'>;
  pending: PendingAnswer;
  /** HMAC tag of the channel and address the code went to: only that address can complete. */
  addressTag: string;
  /** base64url HMAC-SHA256 over (tenant, prompt message id, code). */
  codeHash: string;
  issuedAt: string;
  expiresAt: string;
  triesUsed: number;
  /** Codes sent so far for this prompt. */
  round: number;
  outcome: StepUpOutcome;
  processed: ProcessedInbound[];
  audit: StepUpAuditEntry[];
  /** The store writes on a condition on the version read (see the module comment). */
  version: number;
}

export type StepUpReplyKind = 'step_up_code' | 'step_up_wrong_code' | 'step_up_failed' | 'step_up_expired';

/** A reply to send on the channel the inbound came in on, through the same outbound path as every send. */
export interface StepUpReply {
  kind: StepUpReplyKind;
  channel: Channel;
  /**
   * The text to send. A code reply carries the code in clear: the caller must keep it out of the stored message
   * body and logs ({@link redactCode}).
   */
  text: string;
  /** Email only: the signed confirmation link token, for a page whose button POSTs it. */
  linkToken?: string;
}

export type StepUpDecisionKind =
  | 'code_sent'
  | 'wrong_code'
  | 'completed'
  | 'failed'
  | 'cancelled'
  | 'ignored'
  | 'not_step_up';

export interface StepUpDecision {
  kind: StepUpDecisionKind;
  replies: StepUpReply[];
  events: ParleyEvent[];
  /**
   * True when the caller must still apply the inbound rules of DESIGN section 7 to the message: a STOP (consent is
   * recorded and confirmed by the consent rule) or a text that is not for the verification (BAL, free text).
   */
  passOn: boolean;
  /** True when this is the stored decision of a redelivered inbound: nothing changed, send nothing new. */
  replay: boolean;
  triesLeft?: number;
  reason?: 'wrong_code' | 'expired' | 'other_address' | 'ended' | 'too_many_codes' | 'invalid_link' | 'not_post';
}

export interface StepUpTransition {
  state: StepUpState;
  decision: StepUpDecision;
}

/** An inbound message on the prompt's conversation. */
export interface StepUpInbound {
  /** The provider's id: the redelivery key. */
  inboundMessageId: string;
  /** Parley's id of the stored inbound message (`msg_...`), named by the events. */
  messageId?: string;
  channel: Channel;
  /** The sender's full address; only compared through its HMAC tag and kept masked. */
  from: string;
  text: string;
  subject?: string;
}

export interface BeginInput {
  tenantId: string;
  tenantName: string;
  customerId: string;
  prompt: OpenPrompt;
  /** The answer the prompt matcher read (`yes`, `no`, an option value). */
  answer: string;
  inbound: StepUpInbound;
}

export interface StepUpKeys {
  /** The token secret. */
  secret: string;
  /** Tests pass a fixed code; the default is {@link generateStepUpCode}. */
  generateCode?: () => string;
}

/** 6 digits, uniform over 000000-999999: `randomInt` draws without modulo bias. */
export const generateStepUpCode = (): string =>
  randomInt(0, 10 ** stepUpPolicy.codeDigits)
    .toString()
    .padStart(stepUpPolicy.codeDigits, '0');

const hmac = (secret: string, parts: string[]): Buffer =>
  createHmac('sha256', secret).update(parts.join('\n')).digest();

/** The stored form of a code: HMAC-SHA256 keyed by the token secret over (tenant, prompt message id, code). */
export const hashStepUpCode = (secret: string, tenantId: string, promptMessageId: string, code: string): string =>
  hmac(secret, ['step-up-code', tenantId, promptMessageId, code]).toString('base64url');

const equalInConstantTime = (a: string, b: string): boolean => {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
};

/** Whether a code is the one a hash was made from, compared in constant time. */
export const isStepUpCode = (
  secret: string,
  tenantId: string,
  promptMessageId: string,
  code: string,
  codeHash: string,
): boolean => equalInConstantTime(hashStepUpCode(secret, tenantId, promptMessageId, code), codeHash);

const normaliseAddress = (channel: Channel, address: string): string =>
  channel === 'email' ? address.trim().toLowerCase() : address.replace(/[\s()-]/g, '');

const addressTagOf = (secret: string, tenantId: string, channel: Channel, address: string): string =>
  hmac(secret, ['step-up-address', tenantId, channel, normaliseAddress(channel, address)])
    .toString('base64url')
    .slice(0, 22);

/** The code reply's text as it may be stored or logged: the digits replaced. */
export const redactCode = (text: string): string => text.replace(/\b\d{6}\b/g, '******');

/**
 * Email confirmation links (DESIGN section 16): `<tenant>.<prompt id body>.<answer, base64url>.<expiry, base-36
 * epoch seconds>.<signature>`, URL-safe, with a 132-bit HMAC-SHA256 as in ./chat-tokens.ts. The link opens a page
 * whose button POSTs the token: a GET must never confirm, as mail scanners open every link.
 */
export interface ConfirmationLinkClaims {
  tenantId: string;
  promptMessageId: string;
  answer: string;
  /** Expiry, epoch seconds. */
  exp: number;
}

const signLink = (secret: string, body: string) =>
  createHmac('sha256', secret).update(`step-up-link\n${body}`).digest('base64url').slice(0, 22);

export const createConfirmationLinkToken = (secret: string, claims: ConfirmationLinkClaims): string => {
  const body = [
    claims.tenantId,
    claims.promptMessageId.replace(/^msg_/, ''),
    Buffer.from(claims.answer).toString('base64url'),
    claims.exp.toString(36),
  ].join('.');
  return `${body}.${signLink(secret, body)}`;
};

/** The claims of a genuine, unexpired link token; undefined for anything else, every refusal alike. */
export const verifyConfirmationLinkToken = (
  secret: string,
  token: string,
  nowMs: number,
): ConfirmationLinkClaims | undefined => {
  if (token.length > 400) return undefined;
  const parts = token.split('.');
  if (parts.length !== 5) return undefined;
  const [tenantId, prompt, answer64, exp36, signature] = parts as [string, string, string, string, string];
  if (
    !/^[a-z0-9][a-z0-9-]{1,19}$/.test(tenantId) ||
    !/^[0-9A-Z]{26}$/.test(prompt) ||
    !/^[A-Za-z0-9_-]{1,200}$/.test(answer64) ||
    !/^[0-9a-z]{1,10}$/.test(exp36)
  ) {
    return undefined;
  }
  if (!equalInConstantTime(signature, signLink(secret, parts.slice(0, 4).join('.')))) return undefined;
  const exp = Number.parseInt(exp36, 36);
  if (!Number.isFinite(exp) || exp * 1000 <= nowMs) return undefined;
  return {
    tenantId,
    promptMessageId: `msg_${prompt}`,
    answer: Buffer.from(answer64, 'base64url').toString('utf8'),
    exp,
  };
};

const iso = (ms: number) => new Date(ms).toISOString();

const decisionOf = (kind: StepUpDecisionKind, extra: Partial<StepUpDecision> = {}): StepUpDecision => ({
  kind,
  replies: [],
  events: [],
  passOn: false,
  replay: false,
  ...extra,
});

/** What is remembered for a redelivery: the code reply without its code (a redelivery never resends a code). */
const storedDecision = (decision: StepUpDecision): StepUpDecision => ({
  ...decision,
  replies: decision.replies.filter((reply) => reply.kind !== 'step_up_code'),
});

const remember = (processed: ProcessedInbound[], inboundMessageId: string, decision: StepUpDecision) =>
  [...processed, { inboundMessageId, decision: storedDecision(decision) }].slice(-stepUpPolicy.maxProcessed);

const codeText = (brand: string, code: string) =>
  `${brand}: to confirm, reply ${code}. The code is valid for 5 minutes. Never share it.`;

export const createStepUp = (keys: StepUpKeys) => {
  const { secret } = keys;
  const generateCode = keys.generateCode ?? generateStepUpCode;

  /** A new code for an answer: the first one (begin) or after a new answer (restart). */
  const issue = (
    base: Omit<StepUpState, 'pending' | 'addressTag' | 'codeHash' | 'issuedAt' | 'expiresAt' | 'triesUsed'> & {
      pending?: PendingAnswer;
    },
    answer: string,
    inbound: StepUpInbound,
    now: number,
  ): StepUpTransition => {
    const at = iso(now);
    const address = maskAddress(inbound.from) ?? '***';
    const pending: PendingAnswer = {
      answer,
      raw: inbound.text.trim(),
      channel: inbound.channel,
      address,
      inboundMessageId: inbound.inboundMessageId,
      ...(inbound.messageId !== undefined && { messageId: inbound.messageId }),
      at,
    };
    // The code cannot outlive the prompt: the backend's deadline stands.
    const expiresAtMs = Math.min(now + stepUpPolicy.validForMs, Date.parse(base.prompt.expiresAt));
    const code = generateCode();
    const round = base.round + 1;
    const reply: StepUpReply = {
      kind: 'step_up_code',
      channel: inbound.channel,
      text: codeText(base.brand, code),
      ...(inbound.channel === 'email' && {
        linkToken: createConfirmationLinkToken(secret, {
          tenantId: base.tenantId,
          promptMessageId: base.promptMessageId,
          answer,
          exp: Math.floor(expiresAtMs / 1000),
        }),
      }),
    };
    const decision = decisionOf('code_sent', { replies: [reply] });
    const state: StepUpState = {
      ...base,
      pending,
      addressTag: addressTagOf(secret, base.tenantId, inbound.channel, inbound.from),
      codeHash: hashStepUpCode(secret, base.tenantId, base.promptMessageId, code),
      issuedAt: at,
      expiresAt: iso(expiresAtMs),
      triesUsed: 0,
      round,
      outcome: { status: 'pending' },
      processed: remember(base.processed, inbound.inboundMessageId, decision),
      audit: [
        ...base.audit,
        {
          step: 'answer_received',
          at,
          channel: inbound.channel,
          address,
          providerMessageId: inbound.inboundMessageId,
          answer,
          raw: pending.raw,
        },
        { step: 'code_issued', at, channel: inbound.channel, address, expiresAt: iso(expiresAtMs), round },
      ],
    };
    return { state, decision };
  };

  /** Starts the verification of an answer the prompt matcher read on a prompt with `verify: "code"`. */
  const begin = (input: BeginInput, now: number): StepUpTransition =>
    issue(
      {
        tenantId: input.tenantId,
        customerId: input.customerId,
        promptMessageId: input.prompt.messageId,
        ...(input.prompt.reference !== undefined && { reference: input.prompt.reference }),
        brand: input.tenantName,
        prompt: {
          type: input.prompt.type,
          expiresAt: input.prompt.expiresAt,
          ...(input.prompt.options !== undefined && { options: input.prompt.options }),
        },
        round: 0,
        outcome: { status: 'pending' },
        processed: [],
        audit: [],
        version: 1,
      },
      input.answer,
      input.inbound,
      now,
    );

  const eventBase = (state: StepUpState, messageId: string | undefined, now: number) => ({
    tenantId: state.tenantId,
    customerId: state.customerId,
    occurredAt: iso(now),
    ...(messageId !== undefined && { messageId }),
    ...(state.reference !== undefined && { reference: state.reference }),
    promptMessageId: state.promptMessageId,
    channel: state.pending.channel,
  });

  const answeredEvent = (state: StepUpState, messageId: string | undefined, now: number) =>
    parleyEvent('prompt.answered', {
      ...eventBase(state, messageId, now),
      raw: state.pending.raw,
      answer: state.pending.answer,
      verification: { method: 'code', verifiedAt: iso(now) },
    });

  const failedEvent = (state: StepUpState, reason: 'wrong_code' | 'expired', tries: number, now: number) =>
    parleyEvent('prompt.verification_failed', {
      ...eventBase(state, undefined, now),
      reason,
      attempts: tries,
    });

  const next = (
    state: StepUpState,
    change: Partial<StepUpState>,
    audit: StepUpAuditEntry[],
    inboundMessageId: string | undefined,
    decision: StepUpDecision,
  ): StepUpTransition => ({
    state: {
      ...state,
      ...change,
      audit: [...state.audit, ...audit],
      processed:
        inboundMessageId === undefined ? state.processed : remember(state.processed, inboundMessageId, decision),
      version: state.version + 1,
    },
    decision,
  });

  const unchanged = (state: StepUpState, decision: StepUpDecision): StepUpTransition => ({ state, decision });

  /** Reads one inbound message on the prompt's conversation. */
  const onInbound = (state: StepUpState, inbound: StepUpInbound, now: number): StepUpTransition => {
    const seen = state.processed.find((p) => p.inboundMessageId === inbound.inboundMessageId);
    if (seen) return unchanged(state, { ...seen.decision, replay: true });

    const at = iso(now);
    const classified = classifyKeyword(inbound.text, inbound.subject);
    const pending = state.outcome.status === 'pending';
    const address = maskAddress(inbound.from) ?? '***';
    const sameAddress = equalInConstantTime(
      addressTagOf(secret, state.tenantId, inbound.channel, inbound.from),
      state.addressTag,
    );
    const compact = normaliseReply(inbound.text).replace(/[\s-]/g, '');
    const isCodeAttempt = classified.kind === 'reply' && codeAttempt.test(compact);
    const answer =
      classified.kind === 'reply' ? answerFor(state.prompt as OpenPrompt, classified.normalised) : undefined;

    if (classified.kind === 'opt_out') {
      if (!pending) return unchanged(state, decisionOf('not_step_up', { passOn: true }));
      // STOP from any address of the conversation wins: cancelling never approves anything.
      const decision = decisionOf('cancelled', { passOn: true });
      return next(
        state,
        { outcome: { status: 'cancelled', at, keyword: classified.keyword } },
        [
          {
            step: 'cancelled',
            at,
            channel: inbound.channel,
            address,
            providerMessageId: inbound.inboundMessageId,
            keyword: classified.keyword,
          },
        ],
        inbound.inboundMessageId,
        decision,
      );
    }

    if (!isCodeAttempt && answer === undefined) return unchanged(state, decisionOf('not_step_up', { passOn: true }));

    // Codes and answers after the end are swallowed: nothing is approved, nothing more is said.
    if (!pending) return unchanged(state, decisionOf('ignored', { reason: 'ended' }));

    if (!sameAddress) {
      // Never counted: another address can neither complete nor use up the customer's tries.
      const decision = decisionOf('ignored', { reason: 'other_address' });
      const audit: StepUpAuditEntry[] = isCodeAttempt
        ? [
            {
              step: 'try',
              at,
              channel: inbound.channel,
              address,
              providerMessageId: inbound.inboundMessageId,
              matched: false,
              counted: false,
              reason: 'other_address',
            },
          ]
        : [];
      return next(state, {}, audit, inbound.inboundMessageId, decision);
    }

    if (answer !== undefined) {
      // The prompt's own expiry is the caller's rule (prompt.expired).
      if (Date.parse(state.prompt.expiresAt) <= now) {
        return unchanged(state, decisionOf('not_step_up', { passOn: true }));
      }
      if (state.round >= stepUpPolicy.maxCodes) {
        return unchanged(state, decisionOf('ignored', { reason: 'too_many_codes' }));
      }
      return issue({ ...state, version: state.version + 1 }, answer, inbound, now);
    }

    const tryEntry = (matched: boolean, counted: boolean, reason?: 'expired'): StepUpAuditEntry => ({
      step: 'try',
      at,
      channel: inbound.channel,
      address,
      providerMessageId: inbound.inboundMessageId,
      matched,
      counted,
      ...(reason !== undefined && { reason }),
    });

    if (Date.parse(state.expiresAt) <= now) {
      const decision = decisionOf('failed', {
        reason: 'expired',
        events: [failedEvent(state, 'expired', state.triesUsed, now)],
        replies: [
          {
            kind: 'step_up_expired',
            channel: inbound.channel,
            text: `${state.brand}: this code has expired. Nothing was confirmed.`,
          },
        ],
      });
      return next(
        state,
        { outcome: { status: 'failed', at, reason: 'expired' } },
        [
          tryEntry(false, false, 'expired'),
          { step: 'failed', at, channel: state.pending.channel, address: state.pending.address, reason: 'expired' },
        ],
        inbound.inboundMessageId,
        decision,
      );
    }

    const matched = isStepUpCode(secret, state.tenantId, state.promptMessageId, compact, state.codeHash);
    const triesUsed = state.triesUsed + 1;
    if (matched) {
      const decision = decisionOf('completed', { events: [answeredEvent(state, inbound.messageId, now)] });
      return next(
        state,
        { triesUsed, outcome: { status: 'completed', at, via: 'code' } },
        [
          tryEntry(true, true),
          {
            step: 'completed',
            at,
            channel: inbound.channel,
            address,
            providerMessageId: inbound.inboundMessageId,
          },
        ],
        inbound.inboundMessageId,
        decision,
      );
    }
    const triesLeft = stepUpPolicy.maxTries - triesUsed;
    if (triesLeft <= 0) {
      const decision = decisionOf('failed', {
        reason: 'wrong_code',
        triesLeft: 0,
        events: [failedEvent(state, 'wrong_code', triesUsed, now)],
        replies: [
          {
            kind: 'step_up_failed',
            channel: inbound.channel,
            text: `${state.brand}: that code is not right and no tries are left. Nothing was confirmed.`,
          },
        ],
      });
      return next(
        state,
        { triesUsed, outcome: { status: 'failed', at, reason: 'wrong_code' } },
        [
          tryEntry(false, true),
          { step: 'failed', at, channel: state.pending.channel, address: state.pending.address, reason: 'wrong_code' },
        ],
        inbound.inboundMessageId,
        decision,
      );
    }
    const decision = decisionOf('wrong_code', {
      reason: 'wrong_code',
      triesLeft,
      replies: [
        {
          kind: 'step_up_wrong_code',
          channel: inbound.channel,
          text: `${state.brand}: that code is not right. ${triesLeft} ${triesLeft === 1 ? 'try' : 'tries'} left.`,
        },
      ],
    });
    return next(state, { triesUsed }, [tryEntry(false, true)], inbound.inboundMessageId, decision);
  };

  /**
   * For a sweep when no code came back: a pending verification past its expiry fails (`expired`), without a reply.
   * Returns the same state when nothing is due.
   */
  const expireIfDue = (state: StepUpState, now: number): StepUpTransition => {
    if (state.outcome.status !== 'pending' || Date.parse(state.expiresAt) > now) {
      return unchanged(state, decisionOf('ignored'));
    }
    const at = iso(now);
    return next(
      state,
      { outcome: { status: 'failed', at, reason: 'expired' } },
      [{ step: 'failed', at, channel: state.pending.channel, address: state.pending.address, reason: 'expired' }],
      undefined,
      decisionOf('failed', { reason: 'expired', events: [failedEvent(state, 'expired', state.triesUsed, now)] }),
    );
  };

  /** Appends the provider's id of the sent code reply to the audit trail, once the outbound path has it. */
  const recordCodeSent = (state: StepUpState, providerMessageId: string, now: number): StepUpState => ({
    ...state,
    audit: [
      ...state.audit,
      {
        step: 'code_sent',
        at: iso(now),
        channel: state.pending.channel,
        address: state.pending.address,
        providerMessageId,
      },
    ],
    version: state.version + 1,
  });

  /**
   * The confirmation page's button: a POST of a genuine, unexpired link token for this prompt's pending answer
   * completes it as the right code would. Any other method is refused and changes nothing (mail scanners GET links).
   * A second POST after completion replays the completion without a new event.
   */
  const confirmByLink = (
    state: StepUpState,
    request: { method: string; token: string },
    now: number,
  ): StepUpTransition => {
    if (request.method.toUpperCase() !== 'POST') return unchanged(state, decisionOf('ignored', { reason: 'not_post' }));
    const claims = verifyConfirmationLinkToken(secret, request.token, now);
    const fits =
      claims !== undefined &&
      claims.tenantId === state.tenantId &&
      claims.promptMessageId === state.promptMessageId &&
      claims.answer === state.pending.answer &&
      state.pending.channel === 'email';
    if (!fits) return unchanged(state, decisionOf('ignored', { reason: 'invalid_link' }));
    if (state.outcome.status === 'completed') return unchanged(state, decisionOf('completed', { replay: true }));
    if (state.outcome.status !== 'pending') return unchanged(state, decisionOf('ignored', { reason: 'ended' }));
    if (Date.parse(state.expiresAt) <= now) return unchanged(state, decisionOf('ignored', { reason: 'invalid_link' }));
    const at = iso(now);
    return next(
      state,
      { outcome: { status: 'completed', at, via: 'link' } },
      [
        { step: 'link_confirmed', at, channel: 'email', address: state.pending.address },
        { step: 'completed', at, channel: 'email', address: state.pending.address },
      ],
      undefined,
      decisionOf('completed', { events: [answeredEvent(state, undefined, now)] }),
    );
  };

  return { begin, onInbound, expireIfDue, recordCodeSent, confirmByLink };
};

export type StepUp = ReturnType<typeof createStepUp>;
