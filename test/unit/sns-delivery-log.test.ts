import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import type { CloudWatchLogsDecodedData, CloudWatchLogsEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { parseSmsDeliveryLogs } from '../../functions/adapters/sms/sns-delivery-log.ts';
import { UnprocessableInboundError } from '../../functions/adapters/unprocessable-inbound.ts';

const fixture = <T>(name: string): T =>
  JSON.parse(readFileSync(new URL(`../fixtures/delivery-status/${name}`, import.meta.url), 'utf8')) as T;

const success = fixture<Record<string, unknown>>('sms-delivery-success.json');
const failure = fixture<Record<string, unknown>>('sms-delivery-failure.json');
const dataMessage = fixture<CloudWatchLogsDecodedData>('cloudwatch-logs-data-message.json');

/** What CloudWatch Logs hands Lambda: the batch JSON, gzipped, base64. */
const subscriptionEvent = (batch: unknown): CloudWatchLogsEvent => ({
  awslogs: { data: gzipSync(Buffer.from(JSON.stringify(batch))).toString('base64') },
});

/** A DATA_MESSAGE batch of the given log entries (objects are logged as JSON, strings as they are). */
const batchOf = (entries: unknown[], logGroup = dataMessage.logGroup): CloudWatchLogsEvent =>
  subscriptionEvent({
    ...dataMessage,
    logGroup,
    logEvents: entries.map((entry, i) => ({
      id: `3926178450129356716524871093846120938471562093847${i}`,
      timestamp: 1772442850000 + i,
      message: typeof entry === 'string' ? entry : JSON.stringify(entry),
    })),
  });

describe('SNS SMS delivery status logs', () => {
  it('reads a success entry as delivered, with the carrier detail, at the time the phone acknowledged', () => {
    const event = batchOf([success]);

    const batch = parseSmsDeliveryLogs(event);

    expect(batch).toEqual({
      reports: [
        {
          channel: 'sms',
          providerMessageId: '5f1c9d2e-8a47-5b3e-9c61-2d4e7a0b13f8',
          outcome: 'delivered',
          permanent: false,
          recipients: ['+12025550143'],
          detail: {
            providerResponse: 'Message has been accepted by phone carrier',
            priceInUsd: 0.00581,
            mcc: 310,
            mnc: 260,
            carrier: 'Example Wireless',
            smsType: 'Transactional',
            messageParts: 1,
            dwellTimeMs: 2689,
          },
          // 09:14:07.311 UTC published, acknowledged by the phone 2,689 ms later.
          occurredAt: '2026-03-02T09:14:10.000Z',
          publishedAt: '2026-03-02T09:14:07.311Z',
        },
      ],
      unparseable: [],
    });
  });

  it('reads a failure entry as failed, with the reason its provider response maps to', () => {
    const event = batchOf([failure], `${dataMessage.logGroup}/Failure`);

    const [report] = parseSmsDeliveryLogs(event).reports;

    expect(report).toMatchObject({
      providerMessageId: 'c3a8e610-2f95-5d1b-8e07-94b6f2d1a5c0',
      outcome: 'failed',
      reason: 'carrier_unreachable',
      permanent: false,
      recipients: ['+12025550178'],
      detail: { providerResponse: 'Phone carrier is currently unreachable/unavailable', priceInUsd: 0.01162, mcc: 0 },
      occurredAt: '2026-03-02T09:15:43.881Z',
    });
  });

  it.each([
    ['Invalid phone number', 'invalid_number', true],
    ['Phone number is opted out', 'opted_out', true],
    ['Phone has blocked SMS', 'blocked', true],
    ['Blocked as spam by phone carrier', 'blocked', false],
    ['This delivery would exceed max price', 'max_price_exceeded', false],
    ['Unknown error attempting to reach phone', 'unknown_error', false],
    ['Message has expired before delivery', 'ttl_expired', false],
    ['Something SNS has never said before', 'unknown_error', false],
  ])('maps the provider response %j to %s (permanent: %s)', (providerResponse, reason, permanent) => {
    const entry = { ...failure, delivery: { ...(failure.delivery as object), providerResponse } };

    const [report] = parseSmsDeliveryLogs(batchOf([entry])).reports;

    expect(report).toMatchObject({ outcome: 'failed', reason, permanent });
  });

  it('reports every entry of a batch, in order', () => {
    const event = batchOf([success, failure]);

    const { reports } = parseSmsDeliveryLogs(event);

    expect(reports.map((r) => [r.providerMessageId, r.outcome])).toEqual([
      ['5f1c9d2e-8a47-5b3e-9c61-2d4e7a0b13f8', 'delivered'],
      ['c3a8e610-2f95-5d1b-8e07-94b6f2d1a5c0', 'failed'],
    ]);
  });

  it('keeps the rest of the batch when one entry is broken, and returns that one with a reason', () => {
    const noMessageId = { ...failure, notification: { timestamp: '2026-03-02 09:16:00.000' } };
    const event = batchOf([success, '{"notification": {"messageId": "trunc', noMessageId, failure]);

    const batch = parseSmsDeliveryLogs(event);

    expect(batch.reports.map((r) => r.providerMessageId)).toEqual([
      '5f1c9d2e-8a47-5b3e-9c61-2d4e7a0b13f8',
      'c3a8e610-2f95-5d1b-8e07-94b6f2d1a5c0',
    ]);
    expect(batch.unparseable).toEqual([
      {
        logEventId: '39261784501293567165248710938461209384715620938471',
        reason: 'not JSON',
        message: '{"notification": {"messageId": "trunc',
      },
      {
        logEventId: '39261784501293567165248710938461209384715620938472',
        reason: expect.stringContaining('notification.messageId'),
        message: JSON.stringify(noMessageId),
      },
    ]);
  });

  it('reports nothing for a CONTROL_MESSAGE', () => {
    const event = subscriptionEvent(fixture('cloudwatch-logs-control-message.json'));

    const batch = parseSmsDeliveryLogs(event);

    expect(batch).toEqual({ reports: [], unparseable: [] });
  });

  it('falls back to the log event time when the entry has no readable timestamp', () => {
    const entry = { ...success, notification: { messageId: 'a1b2c3d4-0000-5000-8000-000000000001', timestamp: '' } };

    const [report] = parseSmsDeliveryLogs(batchOf([entry])).reports;

    expect(report?.occurredAt).toBe(new Date(1772442850000).toISOString());
  });

  it('cuts a long provider response to 256 characters', () => {
    const entry = { ...failure, delivery: { ...(failure.delivery as object), providerResponse: 'x'.repeat(1000) } };

    const [report] = parseSmsDeliveryLogs(batchOf([entry])).reports;

    expect(report?.detail.providerResponse).toHaveLength(256);
  });

  it.each([
    ['no awslogs', {}],
    ['data that is not base64 gzip', { awslogs: { data: 'bm90IGd6aXA=' } }],
    ['gzip that is not JSON', { awslogs: { data: gzipSync('not json').toString('base64') } }],
    ['JSON that is not a batch', subscriptionEvent({ messageType: 'DATA_MESSAGE', logEvents: 'none' })],
  ])('refuses %s as unprocessable', (_what, event) => {
    expect(() => parseSmsDeliveryLogs(event as CloudWatchLogsEvent)).toThrow(UnprocessableInboundError);
  });
});
