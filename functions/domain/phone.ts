import { parsePhoneNumberFromString } from 'libphonenumber-js';

/** Returns the E.164 form of a phone number written in E.164, or undefined when it is not a valid number. */
export const toE164 = (input: string): string | undefined => {
  if (!/^\+[1-9]\d{6,14}$/.test(input)) return undefined;
  const parsed = parsePhoneNumberFromString(input);
  return parsed?.isValid() ? parsed.number : undefined;
};
