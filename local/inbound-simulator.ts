import { randomUUID } from 'node:crypto';
import type { SNSEvent } from 'aws-lambda';
import type { AwsEdges } from './edges/aws-edges.ts';

/** The End User Messaging two-way SMS payload, as it arrives in the SNS `Message`. */
export interface EndUserMessagingPayload {
  originationNumber: string;
  destinationNumber: string;
  messageKeyword?: string;
  messageBody: string;
  inboundMessageId: string;
  previousPublishedMessageId?: string;
}

export interface SimpleInbound {
  from: string;
  body: string;
  to?: string;
  replyTo?: string;
  /** The id End User Messaging gives the reply (default a new one): reuse one to rehearse a redelivery. */
  inboundMessageId?: string;
}

/** The last SMS published to `phone` from `from`: what the customer's phone shows them answering. */
export const lastSmsTo = (edges: AwsEdges, phone: string, from: string): string | undefined =>
  edges.outbox
    .list({ to: phone })
    .filter((entry) => entry.channel === 'sms' && entry.from === from)
    .at(-1)?.providerMessageId;

export const payloadFromSimple = (
  input: SimpleInbound,
  defaults: { tenantNumber: string; edges: AwsEdges },
): EndUserMessagingPayload => {
  const destinationNumber = input.to ?? defaults.tenantNumber;
  const previous = input.replyTo ?? lastSmsTo(defaults.edges, input.from, destinationNumber);
  return {
    originationNumber: input.from,
    destinationNumber,
    messageKeyword: 'KEYWORD_000000000000',
    messageBody: input.body,
    inboundMessageId: input.inboundMessageId ?? randomUUID(),
    ...(previous !== undefined && { previousPublishedMessageId: previous }),
  };
};

const isoTime = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2}))$/;

/**
 * An ISO 8601 date-time with its offset (`2024-05-01T10:00:00Z`, `...T12:00:00.5+02:00`) as a Date, or undefined
 * when it is not one (a date alone, no offset, or a day the month does not have).
 */
export const parseIsoTime = (text: unknown): Date | undefined => {
  if (typeof text !== 'string') return undefined;
  const match = isoTime.exec(text);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second = '0', offsetHours = '0', offsetMinutes = '0'] = match;
  const calendar = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
  if (calendar.getUTCMonth() !== Number(month) - 1 || calendar.getUTCDate() !== Number(day)) return undefined;
  if (Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59) return undefined;
  if (Number(offsetHours) > 23 || Number(offsetMinutes) > 59) return undefined;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? undefined : date;
};

/** A topic's ARN in the local account. */
export const localTopicArn = (name: string) => `arn:aws:sns:us-east-1:000000000000:${name}`;

/**
 * Wraps a payload (or any raw Message string) in the SNS event Lambda receives from an inbound topic (the SMS one
 * unless told otherwise).
 */
export const snsEventFor = (
  message: string,
  timestamp = new Date(),
  topic: { name: string; subject?: string } = { name: 'parley-inbound-sms' },
): SNSEvent => {
  const topicArn = localTopicArn(topic.name);
  return {
    Records: [
      {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: `${topicArn}:${randomUUID()}`,
        Sns: {
          Type: 'Notification',
          MessageId: randomUUID(),
          TopicArn: topicArn,
          Subject: topic.subject ?? '',
          Message: message,
          Timestamp: timestamp.toISOString(),
          SignatureVersion: '1',
          Signature: 'local',
          SigningCertUrl: 'https://sns.us-east-1.amazonaws.com/local.pem',
          UnsubscribeUrl: 'https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe',
          MessageAttributes: {},
        },
      },
    ],
  };
};
