import * as z from 'zod/mini';
import { templateNameSchema } from './content-schemas.ts';
import { multiLineText, oneLineText, textChecks } from './schemas.ts';

/** The tenant-settings function's requests: `PATCH /v1/tenant` and `PUT /v1/keywords/{keyword}`. */

const hhmm = z.string().check(z.regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24 h)'));

const isTimeZone = (value: string): boolean => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
    return true;
  } catch {
    return false;
  }
};

export const businessHoursSchema = z
  .strictObject({
    timezone: z
      .string()
      .check(
        ...textChecks({ oneLine: true }),
        z.maxLength(64),
        z.refine(isTimeZone, 'must be an IANA time zone, e.g. Europe/London'),
      ),
    days: z.array(z.int().check(z.minimum(1), z.maximum(7))).check(
      z.minLength(1),
      z.maxLength(7),
      z.refine((days) => new Set(days).size === days.length, 'each day at most once'),
    ),
    start: hhmm,
    end: hhmm,
  })
  .check(z.refine((hours) => hours.start < hours.end, { message: 'start must be before end', path: ['end'] }))
  .register(z.globalRegistry, {
    id: 'BusinessHours',
    description: 'When someone answers: ISO weekdays (1 Monday … 7 Sunday), `start` before `end`, in `timezone`.',
  });

export const acknowledgementSchema = z
  .strictObject({ text: multiLineText(320), businessHours: z.optional(businessHoursSchema) })
  .register(z.globalRegistry, {
    id: 'Acknowledgement',
    description: 'What free text from a customer is answered with, and the hours someone is there.',
  });

export const patchTenantRequestSchema = z
  .strictObject({
    helpText: z.optional(z.nullable(multiLineText(480))),
    brandName: z.optional(z.nullable(oneLineText(40))),
    acknowledgement: z.optional(z.nullable(acknowledgementSchema)),
  })
  .register(z.globalRegistry, {
    id: 'PatchTenantRequest',
    description: 'Only the fields given change; `null` clears one (HELP then answers the default text).',
  });

export type PatchTenantRequest = z.infer<typeof patchTenantRequestSchema>;

/** A keyword in a path: any case, stored upper-case. */
export const keywordSchema = z
  .string()
  .check(z.regex(/^[A-Za-z0-9]{1,20}$/, 'must be 1-20 letters A-Z or digits'))
  .register(z.globalRegistry, { description: 'The keyword, 1-20 letters or digits, any case (stored upper-case).' });

export const putKeywordRequestSchema = z
  .strictObject({
    autoReplyTemplate: z.optional(templateNameSchema),
    emitEvent: z.optional(z.boolean()),
  })
  .register(z.globalRegistry, {
    id: 'PutKeywordRequest',
    description:
      '`autoReplyTemplate`: a template of the tenant with an SMS variant, sent back when the keyword comes in. ' +
      '`emitEvent` (default true): emit `keyword.received`.',
  });

export type PutKeywordRequest = z.infer<typeof putKeywordRequestSchema>;
