import type { SNSEventRecord } from 'aws-lambda';
import type { InboundMessage } from '../../domain/inbound.ts';
import { inboundSmsPayloadSchema } from '../../domain/schemas.ts';

/** A record that can never be processed: kept whole on the dead-letter queue, logged masked, not retried. */
export class UnprocessableInboundError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'UnprocessableInboundError';
  }
}

/**
 * The SMS channel's `parseInbound`: an End User Messaging two-way SMS payload inside its SNS envelope, as Parley's
 * channel-neutral inbound message (the tenant is found by the caller from `to`). The payload has no time of its own:
 * the envelope's `Timestamp` is when the carrier handed it over.
 */
export const parseInboundSms = (record: SNSEventRecord): Omit<InboundMessage, 'tenant'> => {
  let payload: unknown;
  try {
    payload = JSON.parse(record.Sns.Message);
  } catch {
    throw new UnprocessableInboundError('Message is not JSON');
  }
  const parsed = inboundSmsPayloadSchema.safeParse(payload);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new UnprocessableInboundError(`invalid payload (${fields.join('; ')})`);
  }
  const sms = parsed.data;
  const sentAt = Date.parse(record.Sns.Timestamp);
  return {
    channel: 'sms',
    from: sms.originationNumber,
    to: sms.destinationNumber,
    body: sms.messageBody,
    inboundMessageId: sms.inboundMessageId,
    ...(sms.previousPublishedMessageId && { answering: { providerMessageId: sms.previousPublishedMessageId } }),
    receivedAt: new Date(Number.isNaN(sentAt) ? Date.now() : sentAt).toISOString(),
  };
};
