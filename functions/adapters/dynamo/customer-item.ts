/**
 * How a customer is laid out in its item. Open prompts (`op_<messageId>`), prompt answers (`pa_<messageId>`) and
 * consent (`consentSms`, `consentEmail`) are top-level attributes: DynamoDB cannot set a nested path in a map that
 * may not exist yet in the same write that creates it, and these are set on items that may be new.
 *
 * Every send writes this item (its old image is how the send reads consent and preferences for nothing), and
 * DynamoDB bills a write by the whole item, so prompts and answers are kept in a compact form: one-letter names,
 * times as epoch milliseconds, the message id only in the attribute's name. With the newest five of each kept
 * (prompt-policy.ts), a customer item stays under the 1 KB of one write unit (DESIGN section 9: sends to a customer
 * with open prompts, 3 WU whatever the number). Items written in the older, spelled-out form are still read.
 */
import type { Channel, ConsentRecord, Customer, OpenPrompt, PromptAnswer } from '../../domain/model.ts';
import type { CustomerChanges } from '../../domain/ports.ts';

export const openPromptAttribute = (messageId: string) => `op_${messageId}`;
export const promptAnswerAttribute = (messageId: string) => `pa_${messageId}`;
export const consentAttribute = (channel: Channel) => (channel === 'sms' ? 'consentSms' : 'consentEmail');

/** An open prompt as stored: `k` kind (`c` confirm, `h` choice), `o` choice options,
 * `x` expiry and `c` creation (epoch ms), `r` the backend's reference, `s` the summary, `v` 1 when an answer needs
 * a step-up code. */
interface StoredPrompt {
  k: 'c' | 'h';
  o?: { key: string; value: string }[];
  x: number;
  c: number;
  r?: string;
  s: string;
  v?: 1;
}

/** A prompt answer as stored: `a` answer, `w` the words answered, `x` when (epoch ms), `h` channel, `m` the
 * inbound message, `r` the prompt's reference. */
interface StoredAnswer {
  a: string;
  w: string;
  x: number;
  h: Channel;
  m: string;
  r?: string;
}

const isoOf = (ms: number) => new Date(ms).toISOString();

export const storedPrompt = (prompt: OpenPrompt): StoredPrompt => ({
  k: prompt.type === 'choice' ? 'h' : 'c',
  ...(prompt.options && { o: prompt.options }),
  x: Date.parse(prompt.expiresAt),
  c: Date.parse(prompt.createdAt),
  ...(prompt.reference !== undefined && { r: prompt.reference }),
  s: prompt.summary,
  ...(prompt.verify === 'code' && { v: 1 as const }),
});

export const storedAnswer = (answer: PromptAnswer): StoredAnswer => ({
  a: answer.answer,
  w: answer.raw,
  x: Date.parse(answer.at),
  h: answer.channel,
  m: answer.messageId,
  ...(answer.reference !== undefined && { r: answer.reference }),
});

const promptFrom = (messageId: string, value: unknown): OpenPrompt => {
  const stored = value as Partial<StoredPrompt> & Partial<OpenPrompt>;
  // The older, spelled-out form (which also kept the prompt message's timeline id).
  if (stored.k === undefined) {
    const { timelineId: _timelineId, ...prompt } = value as OpenPrompt & { timelineId?: string };
    return { ...prompt, messageId };
  }
  return {
    messageId,
    type: stored.k === 'h' ? 'choice' : 'confirm',
    ...(stored.o && { options: stored.o }),
    expiresAt: isoOf(stored.x as number),
    ...(stored.r !== undefined && { reference: stored.r }),
    summary: stored.s ?? '',
    createdAt: isoOf(stored.c as number),
    ...(stored.v === 1 && { verify: 'code' as const }),
  };
};

const answerFrom = (value: unknown): PromptAnswer => {
  const stored = value as Partial<StoredAnswer> & Partial<PromptAnswer>;
  if (stored.a === undefined) return value as PromptAnswer;
  return {
    answer: stored.a,
    raw: stored.w ?? '',
    at: isoOf(stored.x as number),
    channel: stored.h as Channel,
    messageId: stored.m as string,
    ...(stored.r !== undefined && { reference: stored.r }),
  };
};

const skipped = new Set(['tenantId', 'customerId', 'pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'expiresAt']);

/** The customer an item holds. Its ids are the key's (the item does not repeat them: every byte is billed). */
export const toCustomer = (
  item: Record<string, unknown> | undefined,
  tenantId: string,
  customerId: string,
): Customer | undefined => {
  if (!item) return undefined;
  const customer: Record<string, unknown> = { preferences: {}, consent: {}, openPrompts: {}, promptAnswers: {} };
  const openPrompts: Record<string, OpenPrompt> = {};
  const promptAnswers: Record<string, PromptAnswer> = {};
  const consent: Partial<Record<Channel, ConsentRecord>> = {};
  for (const [name, value] of Object.entries(item)) {
    if (skipped.has(name)) continue;
    if (name.startsWith('op_')) openPrompts[name.slice(3)] = promptFrom(name.slice(3), value);
    else if (name.startsWith('pa_')) promptAnswers[name.slice(3)] = answerFrom(value);
    else if (name === 'consentSms') consent.sms = value as ConsentRecord;
    else if (name === 'consentEmail') consent.email = value as ConsentRecord;
    else customer[name] = value;
  }
  return { ...customer, tenantId, customerId, openPrompts, promptAnswers, consent } as Customer;
};

const profileFields = ['phone', 'email', 'timezone', 'locale'] as const;

/** Builds the UpdateExpression for a customer upsert, and applies the same changes to a known old item. */
export const customerUpsert = (tenantId: string, customerId: string, changes: CustomerChanges, now: string) => ({
  expression(extra: { preferences?: Record<string, unknown>; expectedVersion?: number | undefined } = {}) {
    const sets = [
      'updatedAt = :now',
      'createdAt = if_not_exists(createdAt, :now)',
      'version = if_not_exists(version, :zero) + :one',
      extra.preferences ? 'preferences = :preferences' : 'preferences = if_not_exists(preferences, :emptyMap)',
    ];
    const removes: string[] = [];
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {
      ':now': now,
      ':zero': 0,
      ':one': 1,
    };
    if (extra.preferences) values[':preferences'] = extra.preferences;
    else values[':emptyMap'] = {};
    if (extra.expectedVersion !== undefined) values[':expectedVersion'] = extra.expectedVersion;
    for (const field of profileFields) {
      const value = changes[field];
      if (value === undefined) continue;
      names[`#${field}`] = field;
      if (value === null) removes.push(`#${field}`);
      else {
        sets.push(`#${field} = :${field}`);
        values[`:${field}`] = value;
      }
    }
    if (changes.openPrompt) {
      names['#openPrompt'] = openPromptAttribute(changes.openPrompt.messageId);
      sets.push('#openPrompt = :openPrompt');
      values[':openPrompt'] = storedPrompt(changes.openPrompt);
    }
    const drops = (changes.dropPrompts ?? []).filter((id) => id !== changes.openPrompt?.messageId);
    drops.forEach((messageId, i) => {
      names[`#drop${i}`] = openPromptAttribute(messageId);
      removes.push(`#drop${i}`);
    });
    return {
      UpdateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
      ...(Object.keys(names).length > 0 && { ExpressionAttributeNames: names }),
      ExpressionAttributeValues: values,
    };
  },
  apply(before: Customer | undefined): Customer {
    const after: Customer = {
      preferences: {},
      consent: {},
      createdAt: now,
      ...before,
      openPrompts: { ...before?.openPrompts },
      promptAnswers: { ...before?.promptAnswers },
      tenantId,
      customerId,
      updatedAt: now,
      version: (before?.version ?? 0) + 1,
    };
    for (const field of profileFields) {
      const value = changes[field];
      if (value === null) delete after[field];
      else if (value !== undefined) after[field] = value;
    }
    for (const messageId of changes.dropPrompts ?? []) delete after.openPrompts[messageId];
    if (changes.openPrompt) after.openPrompts[changes.openPrompt.messageId] = changes.openPrompt;
    return after;
  },
});
