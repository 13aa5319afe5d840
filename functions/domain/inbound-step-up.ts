/**
 * Step-up confirmation in the inbound pipeline (DESIGN section 16): the glue between `handleInbound` and the pure
 * transitions of ./step-up.ts. An answer to a prompt with `verify: "code"` starts a verification instead of
 * answering (`begin`); while one is pending, every message of the customer is read by it first (`verify`): the right
 * code from the same address completes the answer, wrong codes and expiry end it, a STOP cancels it and still goes
 * on to the consent rule, and anything that is not for it (BAL, free text) goes on to the other rules.
 *
 * Every state change is written on a condition on the version read and decided again on a conflict, so two tries
 * arriving at once are judged one after the other and cannot beat the 3-try limit. The code is never stored: the
 * reply that carries it is kept with the code blanked, and so is the customer's message that sends it back.
 */
import type { Channel, Customer, InboundEffect, OpenPrompt, PromptAnswer } from './model.ts';
import type { ParleyEvent, StepUpStore } from './ports.ts';
import { redactCode, type StepUp, type StepUpDecision, type StepUpState, type StepUpTransition } from './step-up.ts';

export interface StepUpDeps {
  engine: StepUp;
  store: StepUpStore;
  /** The confirmation page's URL for a link token (email); without it, email verifications take the code only. */
  confirmationLink?(token: string): string;
}

/** What the message the verification read does: the inbound pipeline's decision in its own terms. */
export interface VerificationDecision {
  effect: InboundEffect;
  /** The prompt answered (completed) or closed (failed). */
  answers?: Record<string, PromptAnswer>;
  dropPrompts?: string[];
  replies: { body: string; storedBody?: string }[];
  events: ParleyEvent[];
  /** The state after this message, to append the code reply's provider id to once it is sent. */
  state: StepUpState;
  /** A code went in a reply (the reply index it is at). */
  codeReplyIndex?: number;
}

export interface VerifyInput {
  tenantId: string;
  customer: Customer | undefined;
  inboundMessageId: string;
  /** Parley's id of the inbound message. */
  messageId: string;
  channel: Channel;
  from: string;
  text: string;
  subject?: string;
  receivedAt: string;
  now: number;
}

const maxConflicts = 5;

const inboundOf = (input: VerifyInput) => ({
  inboundMessageId: input.inboundMessageId,
  messageId: input.messageId,
  channel: input.channel,
  from: input.from,
  text: input.text,
  ...(input.subject !== undefined && { subject: input.subject }),
});

/** Applies a transition, writing it if it changed anything: the transition written, or undefined on a conflict. */
const written = async (deps: StepUpDeps, read: StepUpState, transition: StepUpTransition) => {
  if (transition.state === read) return transition;
  return (await deps.store.putStepUp(transition.state, read.version)) ? transition : undefined;
};

/** The customer's open prompts that ask for a code, newest first. */
const verifiedPrompts = (customer: Customer | undefined): OpenPrompt[] =>
  Object.values(customer?.openPrompts ?? {})
    .filter((prompt) => prompt.verify === 'code')
    .sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1));

/**
 * Reads a message against the customer's pending verification, if any: the decision to carry out, or undefined
 * when there is none or the message is not for it (the other rules decide then; a STOP is also passed on, after
 * it cancelled the verification).
 */
export const verify = async (deps: StepUpDeps, input: VerifyInput): Promise<VerificationDecision | undefined> => {
  for (const prompt of verifiedPrompts(input.customer)) {
    let state = await deps.store.getStepUp(input.tenantId, prompt.messageId);
    for (let attempt = 0; state && attempt < maxConflicts; attempt++) {
      const transition = await written(deps, state, deps.engine.onInbound(state, inboundOf(input), input.now));
      if (!transition) {
        state = await deps.store.getStepUp(input.tenantId, prompt.messageId);
        continue;
      }
      if (transition.decision.passOn) return undefined;
      return decisionOf(deps, prompt, transition, input);
    }
  }
  return undefined;
};

/**
 * Starts the verification of an answer to `prompt`. When one exists already (a redelivery, or another answer that
 * got there first), the message is read against it instead.
 */
export const begin = async (
  deps: StepUpDeps,
  input: VerifyInput & { tenantName: string; customerId: string; prompt: OpenPrompt; answer: string },
): Promise<VerificationDecision | undefined> => {
  const transition = deps.engine.begin(
    {
      tenantId: input.tenantId,
      tenantName: input.tenantName,
      customerId: input.customerId,
      prompt: input.prompt,
      answer: input.answer,
      inbound: inboundOf(input),
    },
    input.now,
  );
  if (await deps.store.putStepUp(transition.state, 'absent')) return decisionOf(deps, input.prompt, transition, input);
  return verify(deps, input);
};

/**
 * The code reply provably did not go (the provider refused it for now): the verification forgets this message, so
 * its retry decides again and sends a new code, instead of replaying a decision whose code never reached anyone.
 */
export const forgetMessage = async (deps: StepUpDeps, state: StepUpState, inboundMessageId: string): Promise<void> => {
  const processed = state.processed.filter((entry) => entry.inboundMessageId !== inboundMessageId);
  await deps.store.putStepUp({ ...state, processed, version: state.version + 1 }, state.version);
};

/** After the code reply went: its provider id in the audit trail (best effort: the audit of a retry adds it). */
export const recordCodeSent = async (
  deps: StepUpDeps,
  state: StepUpState,
  providerMessageId: string,
  now: number,
): Promise<void> => {
  let read: StepUpState | undefined = state;
  for (let attempt = 0; read && attempt < maxConflicts; attempt++) {
    if (await deps.store.putStepUp(deps.engine.recordCodeSent(read, providerMessageId, now), read.version)) return;
    read = await deps.store.getStepUp(state.tenantId, state.promptMessageId);
  }
};

const stepOf = (decision: StepUpDecision): Extract<InboundEffect, { type: 'prompt_verification' }>['step'] => {
  switch (decision.kind) {
    case 'code_sent':
    case 'wrong_code':
    case 'completed':
    case 'failed':
      return decision.kind;
    default:
      return 'ignored';
  }
};

const decisionOf = (
  deps: StepUpDeps,
  prompt: OpenPrompt,
  transition: StepUpTransition,
  input: VerifyInput,
): VerificationDecision => {
  const { state, decision } = transition;
  const replies: VerificationDecision['replies'] = [];
  let codeReplyIndex: number | undefined;
  for (const reply of decision.replies) {
    if (reply.kind === 'step_up_code') {
      codeReplyIndex = replies.length;
      const link = reply.linkToken && deps.confirmationLink?.(reply.linkToken);
      const body = link ? `${reply.text}\n\nOr confirm on this page: ${link}` : reply.text;
      replies.push({ body, storedBody: redactCode(link ? body.replace(link, '[confirmation link]') : body) });
    } else {
      replies.push({ body: reply.text });
    }
  }
  const completed = decision.kind === 'completed';
  return {
    effect: completed
      ? { type: 'prompt_answered', promptMessageId: prompt.messageId, answer: state.pending.answer }
      : { type: 'prompt_verification', promptMessageId: prompt.messageId, step: stepOf(decision) },
    ...(completed && {
      answers: {
        [prompt.messageId]: {
          answer: state.pending.answer,
          raw: state.pending.raw,
          at: input.receivedAt,
          channel: state.pending.channel,
          messageId: input.messageId,
          ...(prompt.reference !== undefined && { reference: prompt.reference }),
        },
      },
    }),
    // A failed verification closes the prompt: nothing is approved, and a later answer cannot reopen it.
    ...(decision.kind === 'failed' && { dropPrompts: [prompt.messageId] }),
    replies,
    events: decision.events,
    state,
    ...(codeReplyIndex !== undefined && { codeReplyIndex }),
  };
};
