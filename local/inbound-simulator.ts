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
    inboundMessageId: randomUUID(),
    ...(previous !== undefined && { previousPublishedMessageId: previous }),
  };
};

/** Wraps a payload (or any raw Message string) in the SNS event Lambda receives from the inbound topic. */
export const snsEventFor = (message: string, timestamp = new Date()): SNSEvent => {
  const topicArn = 'arn:aws:sns:us-east-1:000000000000:parley-inbound-sms';
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
          Subject: '',
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
