/**
 * The email step-up's confirmation link (DESIGN section 16): the signed, expiring token names the tenant, the prompt
 * message and the pending answer. `viewConfirmation` reads what the page shows and changes nothing (a GET); a POST
 * goes to `confirmByLink`, which completes the pending answer once, as the right code would: the state written on a
 * condition on its version, the answer recorded on the customer, `prompt.answered` with `verification`.
 */
import { NotFoundError, RetriesExhaustedError } from './errors.ts';
import type { Tenant } from './model.ts';
import type { Clock, EventPublisher, InboundCustomerStore, StepUpStore } from './ports.ts';
import { type StepUp, type StepUpState, verifyConfirmationLinkToken } from './step-up.ts';

export interface ConfirmDeps {
  tokenSecret: string;
  engine: StepUp;
  store: StepUpStore;
  customers: Pick<InboundCustomerStore, 'getCustomer' | 'updateCustomerAfterInbound'>;
  getTenant(tenantId: string): Promise<Tenant | undefined>;
  events: EventPublisher;
  clock: Clock;
}

export interface ConfirmationView {
  brand: string;
  /** The start of the message the answer is to. */
  question: string;
  answer: string;
}

/** What a genuine, unexpired link is about; NotFoundError for anything else, every refusal alike. */
const resolve = async (deps: ConfirmDeps, token: string) => {
  const claims = verifyConfirmationLinkToken(deps.tokenSecret, token, deps.clock.now());
  const state = claims && (await deps.store.getStepUp(claims.tenantId, claims.promptMessageId));
  if (!claims || !state || state.pending.answer !== claims.answer || state.pending.channel !== 'email') {
    throw new NotFoundError('Confirmation');
  }
  return state;
};

const answerWords = (state: StepUpState) => {
  const option = state.prompt.options?.find((o) => o.value === state.pending.answer);
  if (option) return option.value;
  return state.pending.answer === 'yes' ? 'Yes' : state.pending.answer === 'no' ? 'No' : state.pending.answer;
};

/** GET: what the page shows, while the answer is still waiting for its confirmation. */
export const viewConfirmation = async (deps: ConfirmDeps, token: string): Promise<ConfirmationView> => {
  const state = await resolve(deps, token);
  if (state.outcome.status !== 'pending' || Date.parse(state.expiresAt) <= deps.clock.now()) {
    throw new NotFoundError('Confirmation');
  }
  const customer = await deps.customers.getCustomer(state.tenantId, state.customerId, { consistent: false });
  const summary = customer?.openPrompts[state.promptMessageId]?.summary;
  return {
    brand: state.brand,
    question: summary ? `${summary}…` : 'Your answer to our message.',
    answer: answerWords(state),
  };
};

/** POST: completes the pending answer once; a second POST after it answers the same without a new event. */
export const confirmByLink = async (deps: ConfirmDeps, token: string): Promise<ConfirmationView> => {
  let state = await resolve(deps, token);
  for (let attempt = 0; attempt < 5; attempt++) {
    const now = deps.clock.now();
    const transition = deps.engine.confirmByLink(state, { method: 'POST', token }, now);
    const view = { brand: state.brand, question: '', answer: answerWords(state) };
    if (transition.decision.kind === 'completed' && transition.decision.replay) return view;
    if (transition.decision.kind !== 'completed') throw new NotFoundError('Confirmation');
    // The answer first: a crash before the state is written leaves it pending, and the next POST completes it.
    await recordAnswer(deps, transition.state, new Date(now).toISOString());
    if (await deps.store.putStepUp(transition.state, state.version)) {
      await deps.events.publish(transition.decision.events);
      return view;
    }
    state = await resolve(deps, token);
  }
  throw new RetriesExhaustedError('the verification kept changing under its confirmation');
};

/** The answer on the customer, as an inbound answer records it (the prompt closes). */
const recordAnswer = async (deps: ConfirmDeps, state: StepUpState, at: string) => {
  for (let attempt = 0; attempt < 8; attempt++) {
    const customer = await deps.customers.getCustomer(state.tenantId, state.customerId, { consistent: true });
    if (!customer) return;
    const written = await deps.customers.updateCustomerAfterInbound(
      state.tenantId,
      state.customerId,
      {
        at,
        channel: 'email',
        answers: {
          [state.promptMessageId]: {
            answer: state.pending.answer,
            raw: state.pending.raw,
            at,
            channel: 'email',
            messageId: state.pending.messageId ?? state.promptMessageId,
            ...(state.reference !== undefined && { reference: state.reference }),
          },
        },
      },
      { version: customer.version },
    );
    if (written) return;
  }
  throw new RetriesExhaustedError('the customer kept changing under the confirmation');
};
