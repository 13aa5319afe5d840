/**
 * How a customer is laid out in its item. Open prompts (`op_<messageId>`), prompt answers (`pa_<messageId>`) and
 * consent (`consentSms`, `consentEmail`) are top-level attributes: DynamoDB cannot set a nested path in a map that
 * may not exist yet in the same write that creates it, and these are set on items that may be new.
 */
import type { Channel, ConsentRecord, Customer, OpenPrompt, PromptAnswer } from '../../domain/model.ts';
import type { CustomerChanges } from '../../domain/ports.ts';

export const openPromptAttribute = (messageId: string) => `op_${messageId}`;
export const promptAnswerAttribute = (messageId: string) => `pa_${messageId}`;
export const consentAttribute = (channel: Channel) => (channel === 'sms' ? 'consentSms' : 'consentEmail');

const skipped = new Set(['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'expiresAt']);

export const toCustomer = (item: Record<string, unknown> | undefined): Customer | undefined => {
  if (!item) return undefined;
  const customer: Record<string, unknown> = { preferences: {}, consent: {}, openPrompts: {}, promptAnswers: {} };
  const openPrompts: Record<string, OpenPrompt> = {};
  const promptAnswers: Record<string, PromptAnswer> = {};
  const consent: Partial<Record<Channel, ConsentRecord>> = {};
  for (const [name, value] of Object.entries(item)) {
    if (skipped.has(name)) continue;
    if (name.startsWith('op_')) openPrompts[name.slice(3)] = value as OpenPrompt;
    else if (name.startsWith('pa_')) promptAnswers[name.slice(3)] = value as PromptAnswer;
    else if (name === 'consentSms') consent.sms = value as ConsentRecord;
    else if (name === 'consentEmail') consent.email = value as ConsentRecord;
    else customer[name] = value;
  }
  return { ...customer, openPrompts, promptAnswers, consent } as Customer;
};

const profileFields = ['phone', 'email', 'timezone', 'locale'] as const;

/** Builds the UpdateExpression for a customer upsert, and applies the same changes to a known old item. */
export const customerUpsert = (tenantId: string, customerId: string, changes: CustomerChanges, now: string) => ({
  expression(extra: { preferences?: Record<string, unknown>; expectedVersion?: number | undefined } = {}) {
    const sets = [
      'tenantId = :tenantId',
      'customerId = :customerId',
      'updatedAt = :now',
      'createdAt = if_not_exists(createdAt, :now)',
      'version = if_not_exists(version, :zero) + :one',
      extra.preferences ? 'preferences = :preferences' : 'preferences = if_not_exists(preferences, :emptyMap)',
    ];
    const removes: string[] = [];
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {
      ':tenantId': tenantId,
      ':customerId': customerId,
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
      values[':openPrompt'] = changes.openPrompt;
    }
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
    if (changes.openPrompt) after.openPrompts[changes.openPrompt.messageId] = changes.openPrompt;
    return after;
  },
});
