import { confirmAnswer } from './keywords.ts';
import type { Customer, OpenPrompt } from './model.ts';

/**
 * Reads a reply against the customer's prompts (DESIGN section 7, rule 6): the prompt named by
 * previousPublishedMessageId first, then the only open prompt it fits, else a numbered question. A prompt is
 * answered at most once; a reply after expiry is told so.
 */
export type PromptMatch =
  | { kind: 'answer'; prompt: OpenPrompt; answer: string }
  | { kind: 'already_answered'; promptMessageId: string; bySameMessage: boolean }
  | { kind: 'expired'; prompt: OpenPrompt }
  | { kind: 'ask_which'; candidates: OpenPrompt[] }
  | { kind: 'hint'; prompt: OpenPrompt }
  | { kind: 'none' };

/** The value an answer gives a prompt, if it fits it: `yes`/`no` for confirm, the option's value for choice. */
export const answerFor = (prompt: OpenPrompt, normalised: string): string | undefined => {
  if (prompt.type === 'confirm') return confirmAnswer(normalised);
  return prompt.options?.find((option) => option.key.toUpperCase() === normalised)?.value;
};

const newestFirst = (a: OpenPrompt, b: OpenPrompt) => (a.createdAt < b.createdAt ? 1 : -1);

export interface MatchInput {
  customer: Customer | undefined;
  normalised: string;
  /** The inbound message being read (its own earlier answer is recognised on a redelivery). */
  messageId: string;
  /** The open prompt previousPublishedMessageId names, resolved by the caller, if any. */
  namedPromptId?: string;
  now: number;
}

export const matchPrompt = (input: MatchInput): PromptMatch => {
  const customer = input.customer;
  if (!customer) return { kind: 'none' };
  const { normalised, now } = input;
  // A redelivery of the message that already answered: recognise it before anything else.
  const own = Object.entries(customer.promptAnswers).find(([, answer]) => answer.messageId === input.messageId);
  if (own) return { kind: 'already_answered', promptMessageId: own[0], bySameMessage: true };
  const prompts = Object.values(customer.openPrompts);
  const live = prompts.filter((p) => Date.parse(p.expiresAt) > now).sort(newestFirst);

  // An answer to "which request?" (a number naming one of the listed prompts).
  const question = customer.pendingQuestion;
  if (question && /^\d+$/.test(normalised)) {
    const chosen = question.candidates[Number(normalised) - 1];
    const prompt = chosen === undefined ? undefined : customer.openPrompts[chosen];
    if (prompt) {
      if (Date.parse(prompt.expiresAt) <= now) return { kind: 'expired', prompt };
      const answer = answerFor(prompt, question.answerText);
      if (answer !== undefined) return { kind: 'answer', prompt, answer };
    }
  }

  const named = input.namedPromptId;
  if (named !== undefined) {
    const answered = customer.promptAnswers[named];
    if (answered && answerForAny(normalised)) {
      return {
        kind: 'already_answered',
        promptMessageId: named,
        bySameMessage: answered.messageId === input.messageId,
      };
    }
    const prompt = customer.openPrompts[named];
    if (prompt) {
      const answer = answerFor(prompt, normalised);
      if (Date.parse(prompt.expiresAt) <= now && (answer !== undefined || answerForAny(normalised))) {
        return { kind: 'expired', prompt };
      }
      if (answer !== undefined) return { kind: 'answer', prompt, answer };
      if (answerForAny(normalised)) return { kind: 'hint', prompt };
    }
  }

  const fitting = live.filter((prompt) => answerFor(prompt, normalised) !== undefined);
  if (fitting.length === 1) {
    const prompt = fitting[0] as OpenPrompt;
    return { kind: 'answer', prompt, answer: answerFor(prompt, normalised) as string };
  }
  if (fitting.length > 1) return { kind: 'ask_which', candidates: fitting };
  if (live.length > 0 && answerForAny(normalised)) return { kind: 'hint', prompt: live[0] as OpenPrompt };

  // No live prompt: an answer to one that expired is told so.
  const expired = prompts
    .filter((p) => Date.parse(p.expiresAt) <= now && answerFor(p, normalised) !== undefined)
    .sort(newestFirst)[0];
  if (expired) return { kind: 'expired', prompt: expired };

  return { kind: 'none' };
};

/**
 * What reads as an attempt at an answer (told "already answered", "expired", or hinted at): Y/N, or a single key or
 * number. BAL, OK or HI are still read as a keyword or free text (DESIGN section 7), never swallowed.
 */
const answerForAny = (normalised: string): boolean =>
  confirmAnswer(normalised) !== undefined || /^(?:[A-Z]|\d{1,3})$/.test(normalised);

/** The hint for a reply that looks like an answer but fits no option. */
export const hintFor = (prompt: OpenPrompt): string =>
  prompt.type === 'confirm'
    ? 'Please reply Y for yes or N for no.'
    : `Please reply ${listKeys((prompt.options ?? []).map((o) => o.key))}.`;

const listKeys = (keys: string[]): string =>
  keys.length <= 1 ? (keys[0] ?? '') : `${keys.slice(0, -1).join(', ')} or ${keys.at(-1)}`;

/** "Which request is your answer for?" with a numbered list. */
export const whichQuestion = (tenantName: string, answerText: string, candidates: OpenPrompt[]): string =>
  `${tenantName}: which request is your "${answerText}" for? ${candidates
    .map((p, i) => `Reply ${i + 1} for "${p.summary}"`)
    .join('; ')}.`;
