/**
 * The SMS channel's delivery status: SNS SMS delivery status logs (the `DirectPublishToPhoneNumber` and
 * `DirectPublishToPhoneNumber/Failure` log groups) reaching Lambda through CloudWatch Logs subscription filters
 * (DESIGN section 13). A batch is base64 gzip JSON; each log event's message is one delivery status entry, whose
 * `notification.messageId` is the Publish message id.
 */
import { gunzipSync } from 'node:zlib';
import type { CloudWatchLogsEvent } from 'aws-lambda';
import * as z from 'zod/mini';
import { classifySmsFailure, type DeliveryStatusReport, providerTextMaxChars } from '../../domain/delivery-status.ts';
import { cutText } from '../../domain/text.ts';
import { UnprocessableInboundError } from '../unprocessable-inbound.ts';

/** A decompressed batch bigger than this is not something CloudWatch Logs sends: refuse it rather than inflate it. */
const maxBatchBytes = 16 * 1024 * 1024;

const subscriptionBatch = z.object({
  messageType: z.enum(['DATA_MESSAGE', 'CONTROL_MESSAGE']),
  logGroup: z.string(),
  logEvents: z.array(z.object({ id: z.string(), timestamp: z.number(), message: z.string() })),
});

const count = z.optional(z.number().check(z.nonnegative()));

const deliveryLogEntry = z.object({
  notification: z.object({
    messageId: z.string().check(z.minLength(1), z.maxLength(200)),
    /** `2026-03-02 09:14:07.311`: UTC, without a zone. */
    timestamp: z.string(),
  }),
  delivery: z.object({
    destination: z.optional(z.string()),
    providerResponse: z.optional(z.string()),
    priceInUSD: count,
    mcc: count,
    mnc: count,
    phoneCarrier: z.optional(z.string()),
    smsType: z.optional(z.string()),
    numberOfMessageParts: count,
    dwellTimeMs: count,
    dwellTimeMsUntilDeviceAck: count,
  }),
  status: z.enum(['SUCCESS', 'FAILURE']),
});
type DeliveryLogEntry = z.infer<typeof deliveryLogEntry>;

/** A log event that could not be read: the rest of its batch still counts. */
export interface UnparseableLogEvent {
  logEventId: string;
  reason: string;
  /** The entry as logged, for the dead-letter queue. It holds the phone number: mask it before logging. */
  message: string;
}

export interface SmsDeliveryBatch {
  reports: DeliveryStatusReport[];
  unparseable: UnparseableLogEvent[];
}

const decodeBatch = (event: CloudWatchLogsEvent): z.infer<typeof subscriptionBatch> => {
  const data = event?.awslogs?.data;
  if (typeof data !== 'string') throw new UnprocessableInboundError('not a CloudWatch Logs subscription event');
  let payload: unknown;
  try {
    const json = gunzipSync(Buffer.from(data, 'base64'), { maxOutputLength: maxBatchBytes }).toString('utf8');
    payload = JSON.parse(json);
  } catch {
    throw new UnprocessableInboundError('awslogs.data is not base64 gzip JSON');
  }
  const parsed = subscriptionBatch.safeParse(payload);
  if (!parsed.success) throw new UnprocessableInboundError('not a CloudWatch Logs subscription batch');
  return parsed.data;
};

/** SNS writes `notification.timestamp` as UTC without a zone; an ISO time with one is read as it is. */
const parseLogTime = (timestamp: string): number => {
  const iso = timestamp.trim().replace(' ', 'T');
  return Date.parse(/(Z|[+-]\d\d:?\d\d)$/.test(iso) ? iso : `${iso}Z`);
};

const providerText = (text: string | undefined) =>
  text === undefined ? undefined : cutText(text, providerTextMaxChars);

const reportOf = (entry: DeliveryLogEntry, loggedAt: number): DeliveryStatusReport => {
  const { notification, delivery } = entry;
  // The entry's time is the publish; the outcome came a dwell later (the log event itself can trail by hours).
  const publishedAt = parseLogTime(notification.timestamp);
  const dwellTimeMs = delivery.dwellTimeMsUntilDeviceAck ?? delivery.dwellTimeMs;
  const occurredAt = Number.isNaN(publishedAt) ? loggedAt : publishedAt + (dwellTimeMs ?? 0);
  const failure = entry.status === 'FAILURE' ? classifySmsFailure(delivery.providerResponse) : undefined;
  const providerResponse = providerText(delivery.providerResponse);
  const carrier = providerText(delivery.phoneCarrier);
  return {
    channel: 'sms',
    providerMessageId: notification.messageId,
    outcome: failure ? 'failed' : 'delivered',
    ...(failure && { reason: failure.reason }),
    permanent: failure?.permanent ?? false,
    recipients: delivery.destination ? [delivery.destination] : [],
    detail: {
      ...(providerResponse !== undefined && { providerResponse }),
      ...(delivery.priceInUSD !== undefined && { priceInUsd: delivery.priceInUSD }),
      ...(delivery.mcc !== undefined && { mcc: delivery.mcc }),
      ...(delivery.mnc !== undefined && { mnc: delivery.mnc }),
      ...(carrier !== undefined && { carrier }),
      ...(delivery.smsType !== undefined && { smsType: delivery.smsType }),
      ...(delivery.numberOfMessageParts !== undefined && { messageParts: delivery.numberOfMessageParts }),
      ...(dwellTimeMs !== undefined && { dwellTimeMs }),
    },
    occurredAt: new Date(occurredAt).toISOString(),
    ...(!Number.isNaN(publishedAt) && { publishedAt: new Date(publishedAt).toISOString() }),
  };
};

const issuesOf = (issues: readonly { path: PropertyKey[]; message: string }[]) =>
  issues.map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`).join('; ');

/**
 * Reads a CloudWatch Logs subscription event of SNS SMS delivery status logs as channel-neutral reports. A
 * `CONTROL_MESSAGE` (CloudWatch checking the destination) carries none. One entry that cannot be read is returned in
 * `unparseable` and does not cost the rest of the batch; an envelope that cannot be read throws
 * `UnprocessableInboundError` (nothing in it can be processed).
 */
export const parseSmsDeliveryLogs = (event: CloudWatchLogsEvent): SmsDeliveryBatch => {
  const batch = decodeBatch(event);
  const result: SmsDeliveryBatch = { reports: [], unparseable: [] };
  if (batch.messageType === 'CONTROL_MESSAGE') return result;
  for (const logEvent of batch.logEvents) {
    let payload: unknown;
    try {
      payload = JSON.parse(logEvent.message);
    } catch {
      result.unparseable.push({ logEventId: logEvent.id, reason: 'not JSON', message: logEvent.message });
      continue;
    }
    const parsed = deliveryLogEntry.safeParse(payload);
    if (!parsed.success) {
      const reason = `not an SMS delivery status entry (${issuesOf(parsed.error.issues)})`;
      result.unparseable.push({ logEventId: logEvent.id, reason, message: logEvent.message });
      continue;
    }
    result.reports.push(reportOf(parsed.data, logEvent.timestamp));
  }
  return result;
};
