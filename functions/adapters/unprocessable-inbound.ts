import type { SNSEventRecord } from 'aws-lambda';

/** A provider payload that can never be processed: kept whole on the dead-letter queue, logged masked, not retried. */
export class UnprocessableInboundError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'UnprocessableInboundError';
  }
}

/** The JSON a provider published in an SNS record, checked against its schema; anything else is unprocessable. */
export const snsPayload = <T>(
  record: SNSEventRecord,
  schema: {
    safeParse(
      input: unknown,
    ): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } };
  },
  what: string,
): T => {
  let payload: unknown;
  try {
    payload = JSON.parse(record.Sns.Message);
  } catch {
    throw new UnprocessableInboundError('Message is not JSON');
  }
  const parsed = schema.safeParse(payload);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new UnprocessableInboundError(`${what} (${fields.join('; ')})`);
  }
  return parsed.data;
};
