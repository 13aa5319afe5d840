import { loadOnFirstUse } from '../lazy-packages.ts';

/**
 * What libphonenumber answered for the numbers seen lately (null: not valid), oldest first. Parsing and checking a
 * number against its country's metadata is the dearest part of validating a send; a container keeps sending to the
 * same customers, and the answer for a number never changes. At most `maxCached` numbers of 16 characters.
 */
const checked = new Map<string, string | null>();
const maxCached = 1000;

/** Returns the E.164 form of a phone number written in E.164, or undefined when it is not a valid number. */
export const toE164 = (input: string): string | undefined => {
  if (!/^\+[1-9]\d{6,14}$/.test(input)) return undefined;
  const known = checked.get(input);
  if (known !== undefined) return known ?? undefined;
  // libphonenumber loads on the first number that gets here, not at init (functions/lazy-packages.ts).
  const parsed = loadOnFirstUse('libphonenumber-js').parsePhoneNumberFromString(input);
  const e164 = parsed?.isValid() ? parsed.number : null;
  if (checked.size >= maxCached) checked.delete(checked.keys().next().value as string);
  checked.set(input, e164);
  return e164 ?? undefined;
};
