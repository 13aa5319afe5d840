import * as z from 'zod/mini';
import { emailContentSchema, smsText } from './content-schemas.ts';
import { multiLineText } from './schemas.ts';
import { templateSyntaxProblem } from './templates.ts';

/**
 * The body of `PUT /v1/templates/{name}`: the shared text schemas, each also required to parse as a template.
 */

/** A template text must parse (every `{{` closes and names a variable), or the PUT is refused at its field. */
const parsesAsTemplate = z.superRefine((text: string, ctx) => {
  const problem = templateSyntaxProblem(text);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem, input: text });
});

export const templateSmsText = smsText.check(parsesAsTemplate);
export const templateEmailContentSchema = z.strictObject({
  subject: emailContentSchema.shape.subject.check(parsesAsTemplate),
  text: emailContentSchema.shape.text.check(parsesAsTemplate),
  html: z.optional(multiLineText(200_000).check(parsesAsTemplate)),
});

export const putTemplateRequestSchema = z
  .strictObject({
    description: z.optional(multiLineText(500, 0)),
    sms: z.optional(templateSmsText),
    email: z.optional(templateEmailContentSchema),
  })
  .check(z.refine((t) => t.sms !== undefined || t.email !== undefined, 'a template needs an sms or an email variant'))
  .register(z.globalRegistry, { id: 'PutTemplateRequest' });

export type PutTemplateRequest = z.infer<typeof putTemplateRequestSchema>;
