/**
 * Reading an inbound SMS (DESIGN section 7): normalise, then classify by precedence. Only the opt-out family looks
 * at the first word, as carriers do; every other keyword must be the whole message, so free text that merely starts
 * with "Call" or "Help" still reaches a person.
 */

export const optOutWords = new Set([
  'STOP',
  'STOPALL',
  'UNSUBSCRIBE',
  'CANCEL',
  'END',
  'QUIT',
  'REVOKE',
  'OPTOUT',
  'OPT-OUT',
  'REMOVE',
  'ARRET',
  'TD',
]);
const optInWords = new Set(['START', 'UNSTOP']);
const helpWords = new Set(['HELP', 'INFO']);
const callbackPhrases = new Set(['CALL', 'CALLBACK', 'CALL ME']);
const chatWords = new Set(['CHAT', 'AGENT', 'HUMAN']);
const yesWords = new Set(['Y', 'YES']);
const noWords = new Set(['N', 'NO']);

/**
 * Words a tenant cannot take as its own keyword (`PUT /v1/keywords/{keyword}`), each with why: every word the
 * rules above read before tenant keywords, and words carriers give a meaning of their own.
 */
export const reservedKeywordReason = (keyword: string): string | undefined => {
  if (optOutWords.has(keyword)) return 'an opt-out word (STOP and its family)';
  if (optInWords.has(keyword)) return 'an opt-in word';
  if (helpWords.has(keyword)) return 'a HELP word';
  if (callbackPhrases.has(keyword)) return 'a callback word';
  if (chatWords.has(keyword)) return 'a chat word';
  if (yesWords.has(keyword) || noWords.has(keyword)) return 'a prompt answer (Y, YES, N, NO)';
  return undefined;
};

/** Trim, collapse spaces, strip trailing punctuation, upper-case. */
export const normaliseReply = (text: string): string =>
  text
    .normalize('NFKC')
    .trim()
    .replace(/\s+/g, ' ')
    .replace(/[\s.!?,;:]+$/u, '')
    .toUpperCase()
    // Upper-casing can decompose (ß → SS + a lone accent): normalise again so this is idempotent.
    .normalize('NFKC');

export type Classified =
  | { kind: 'opt_out'; keyword: string }
  | { kind: 'opt_in'; keyword: string }
  | { kind: 'help'; keyword: string }
  | { kind: 'callback'; keyword: string }
  | { kind: 'chat'; keyword: string }
  | { kind: 'reply'; normalised: string };

/**
 * The channel-level keywords, which apply whatever the customer's state. Everything else is a `reply`, read
 * against the customer's open prompts and the tenant's keywords by the inbound use case.
 */
export const classifyKeyword = (text: string, subject?: string): Classified => {
  // An email's subject can opt out too (DESIGN section 12): "STOP" or "Unsubscribe" with any body.
  if (subject !== undefined) {
    const subjectWord = (normaliseReply(subject).split(' ')[0] ?? '').replace(/[.!?,;:]+$/u, '');
    if (optOutWords.has(subjectWord)) return { kind: 'opt_out', keyword: subjectWord };
  }
  const normalised = normaliseReply(text);
  const firstWord = (normalised.split(' ')[0] ?? '').replace(/[.!?,;:]+$/u, '');
  if (optOutWords.has(firstWord)) return { kind: 'opt_out', keyword: firstWord };
  if (normalised === 'OPT OUT') return { kind: 'opt_out', keyword: 'OPT OUT' };
  if (optInWords.has(normalised)) return { kind: 'opt_in', keyword: normalised };
  if (helpWords.has(normalised)) return { kind: 'help', keyword: normalised };
  if (callbackPhrases.has(normalised)) return { kind: 'callback', keyword: normalised };
  if (chatWords.has(normalised)) return { kind: 'chat', keyword: normalised };
  return { kind: 'reply', normalised };
};

/** A confirm prompt's answer, if the reply is one. */
export const confirmAnswer = (normalised: string): 'yes' | 'no' | undefined =>
  yesWords.has(normalised) ? 'yes' : noWords.has(normalised) ? 'no' : undefined;
