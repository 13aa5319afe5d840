import type { SNSEventRecord } from 'aws-lambda';
import type { InboundMessage } from '../../domain/inbound.ts';
import { inboundSmsPayloadSchema } from '../../domain/inbound-sms-schema.ts';

import { snsPayload, UnprocessableInboundError } from '../unprocessable-inbound.ts';

export { UnprocessableInboundError };

/**
 * The SMS channel's `parseInbound`: an End User Messaging two-way SMS payload inside its SNS envelope, as Parley's
 * channel-neutral inbound message (the tenant is found by the caller from `to`). The payload has no time of its own:
 * the envelope's `Timestamp` is when the carrier handed it over.
 */
export const parseInboundSms = (record: SNSEventRecord): Omit<InboundMessage, 'tenant'> => {
  const sms = snsPayload(record, inboundSmsPayloadSchema, 'invalid payload');
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
