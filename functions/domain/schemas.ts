import * as z from 'zod/mini';
import { InvalidRequestError } from './errors.ts';
import {
  CONTROL_MESSAGE,
  hasControlCharacters,
  isWellFormedText,
  ONE_LINE_MESSAGE,
  type TextOptions,
  WELL_FORMED_MESSAGE,
} from './text.ts';
import './zod-locale.ts';

/**
 * Request schemas: one per body. They validate requests, type them (`z.infer`) and generate `/openapi.json`.
 * Objects are strict: an unknown field is an `invalid_request`, not silently dropped. This module holds what every
 * request schema builds on (text checks, customer ids, `parseWith`); the others live apart, by what they serve
 * (./content-schemas.ts, ./contact-schemas.ts, ./customer-schemas.ts, ./template-schemas.ts,
 * ./conversation-schemas.ts, ./chat-frame-schema.ts, ./inbound-sms-schema.ts), so that a function builds, at init,
 * only the schemas it parses with.
 *
 * They use `zod/mini` (functions and `.check(...)` rather than methods) to keep each Lambda bundle small, with
 * English messages (./zod-locale.ts). Metadata (`id`, `description`, `example`) is registered in `z.globalRegistry`,
 * which `toJSONSchema` reads: an `id` lands in the OpenAPI `components.schemas`.
 */

/**
 * The checks every text a request carries gets (DESIGN.md section 10): well-formed Unicode, no NUL or other control
 * characters (TAB, LF and CR are allowed unless `oneLine`). Each aborts, so a field gets one clear message, not a
 * cascade. Refinements, so the OpenAPI document is unchanged. Spread into `.check(...)` of any string schema.
 */
export const textChecks = (options: TextOptions = {}) => [
  z.refine<string>(isWellFormedText, { error: WELL_FORMED_MESSAGE, abort: true }),
  z.refine<string>((text) => !hasControlCharacters(text, options), {
    error: options.oneLine ? ONE_LINE_MESSAGE : CONTROL_MESSAGE,
    abort: true,
  }),
];

/** Text that may span lines (a message body, a note): `minLength` to `maxLength` UTF-16 code units. */
const lengthChecks = (minLength: number, maxLength: number) =>
  minLength > 0 ? [z.minLength(minLength), z.maxLength(maxLength)] : [z.maxLength(maxLength)];

export const multiLineText = (maxLength: number, minLength = 1) =>
  z.string().check(...textChecks(), ...lengthChecks(minLength, maxLength));

/** One-line text (an email subject, a name, a reference, anything that may end up in a header). */
export const oneLineText = (maxLength: number, minLength = 1) =>
  z.string().check(...textChecks({ oneLine: true }), ...lengthChecks(minLength, maxLength));

export const customerIdSchema = z
  .string()
  .check(z.regex(/^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,127}$/, 'must be 1-128 characters: letters, digits and . _ : @ + -'))
  .register(z.globalRegistry, { description: "The backend's own customer id.", example: 'cust-42' });

/** Parses with a schema, turning zod's issues into Parley's `invalid_request` with one detail per issue. */
export const parseWith = <S extends z.ZodMiniType>(schema: S, input: unknown, pathPrefix = ''): z.output<S> => {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const details = result.error.issues.map((issue) => {
    const path = [pathPrefix, ...issue.path.map(String)].filter(Boolean).join('.');
    return {
      path: path || '(root)',
      message: issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : issue.message,
    };
  });
  throw new InvalidRequestError('The request is not valid', details);
};
