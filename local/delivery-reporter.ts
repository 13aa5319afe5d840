/**
 * The emulated providers' delivery status (DESIGN section 13, locally): a moment after each SMS or email leaves the
 * emulated SNS or SES, what the real provider would report reaches the real `delivery-status` handler in the shapes
 * AWS sends. SMS: an SNS delivery status log entry, in a CloudWatch Logs subscription event (gzip, base64) of the
 * success or failure log group. Email: SES event notifications (Send, then Delivery, Bounce or Complaint) in SNS
 * records, with the message tags the send set. What is reported for an address is set with `POST /_local/faults`
 * (`delivery`); the default is delivered.
 *
 * A handler that throws is invoked again, as Lambda retries an asynchronous invocation (twice, here a second
 * apart); after that the event is logged as given up, as it would go to the function's dead-letter queue.
 */
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { CloudWatchLogsEvent, Context, SNSEvent } from 'aws-lambda';
import type { AwsEdges, DeliveryRule, OutboxEntry } from './edges/aws-edges.ts';

type DeliveryHandler = (event: CloudWatchLogsEvent | SNSEvent, context: Context) => Promise<unknown>;

export interface DeliveryReporterOptions {
  /** How long after the send the first report comes. @default 400 ms */
  delayMs?: number;
  /** Between Lambda's retries of a failed invocation. @default 1000 ms */
  retryDelayMs?: number;
  context: (name: string) => Context;
  log?: (line: string) => void;
}

const account = '000000000000';
const region = 'us-east-1';
export const smsSuccessLogGroup = `sns/${region}/${account}/DirectPublishToPhoneNumber`;
export const smsFailureLogGroup = `${smsSuccessLogGroup}/Failure`;
const emailTopicArn = `arn:aws:sns:${region}:${account}:parley-email-events`;

/** What SNS writes as `providerResponse` for a failure reason (the texts AWS documents). */
const smsFailureTexts: Record<string, string> = {
  carrier_unreachable: 'Phone carrier is currently unreachable/unavailable',
  unreachable: 'Phone is currently unreachable/unavailable',
  phone_unreachable: 'Phone is currently unreachable/unavailable',
  blocked: 'Phone has blocked SMS',
  invalid_number: 'Invalid phone number',
  opted_out: 'Phone number is opted out',
  max_price_exceeded: 'This delivery would exceed max price',
  ttl_expired: 'Message expired: the validity period elapsed before delivery',
};

/** SNS's log timestamp: UTC, a space for the `T`, no zone. */
const snsTime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

export const smsLogEvent = (entry: OutboxEntry, rule: DeliveryRule, now: number): CloudWatchLogsEvent => {
  const publishedAt = Date.parse(entry.at);
  const failed = rule.delivery !== 'delivered';
  const logEntry = {
    notification: { messageId: entry.providerMessageId, timestamp: snsTime(publishedAt) },
    delivery: {
      ...(!failed && { phoneCarrier: 'Local Wireless' }),
      mnc: failed ? 0 : 260,
      numberOfMessageParts: 1,
      destination: entry.to,
      priceInUSD: 0.00645,
      smsType: entry.smsType ?? 'Transactional',
      mcc: failed ? 0 : 310,
      providerResponse: failed
        ? (smsFailureTexts[rule.reason ?? ''] ?? 'Unknown error attempting to reach phone')
        : 'Message has been accepted by phone carrier',
      dwellTimeMs: Math.max(1, now - publishedAt),
      ...(!failed && { dwellTimeMsUntilDeviceAck: Math.max(1, now - publishedAt) + 200 }),
    },
    status: failed ? 'FAILURE' : 'SUCCESS',
  };
  const batch = {
    messageType: 'DATA_MESSAGE',
    owner: account,
    logGroup: failed ? smsFailureLogGroup : smsSuccessLogGroup,
    logStream: randomUUID(),
    subscriptionFilters: ['parley-delivery-status'],
    logEvents: [{ id: `${now}${Math.floor(Math.random() * 1e6)}`, timestamp: now, message: JSON.stringify(logEntry) }],
  };
  return { awslogs: { data: gzipSync(JSON.stringify(batch)).toString('base64') } };
};

/** The SES events of one email, in the order SES publishes them. */
export const emailEvents = (entry: OutboxEntry, rule: DeliveryRule, now: number): SNSEvent[] => {
  const sentAt = Date.parse(entry.at);
  const mail = {
    timestamp: entry.at,
    source: entry.from,
    sourceArn: `arn:aws:ses:${region}:${account}:identity/${entry.from.split('@').pop() ?? ''}`,
    sendingAccountId: account,
    messageId: entry.providerMessageId,
    destination: [entry.to],
    headersTruncated: false,
    headers: [],
    commonHeaders: { from: [entry.from], to: [entry.to], subject: entry.subject ?? '' },
    tags: {
      'ses:configuration-set': [entry.configurationSet ?? 'parley-local'],
      'ses:operation': ['SendRawEmail'],
      ...Object.fromEntries(Object.entries(entry.tags ?? {}).map(([name, value]) => [name, [value]])),
    },
  };
  const at = new Date(now).toISOString();
  const events: Record<string, unknown>[] = [{ eventType: 'Send', mail, send: {} }];
  if (rule.delivery === 'delivered' || rule.delivery === 'complaint') {
    events.push({
      eventType: 'Delivery',
      mail,
      delivery: {
        timestamp: at,
        processingTimeMillis: Math.max(1, now - sentAt),
        recipients: [entry.to],
        smtpResponse: '250 2.0.0 OK local',
        reportingMTA: 'local.amazonses.com',
      },
    });
  }
  if (rule.delivery === 'complaint') {
    events.push({
      eventType: 'Complaint',
      mail,
      complaint: {
        feedbackId: randomUUID(),
        complainedRecipients: [{ emailAddress: entry.to }],
        complaintFeedbackType: 'abuse',
        timestamp: new Date(now + 1).toISOString(),
      },
    });
  }
  if (rule.delivery === 'bounce' || rule.delivery === 'failed') {
    const permanent = rule.delivery === 'bounce';
    events.push({
      eventType: 'Bounce',
      mail,
      bounce: {
        feedbackId: randomUUID(),
        bounceType: permanent ? 'Permanent' : 'Transient',
        bounceSubType: 'General',
        bouncedRecipients: [
          {
            emailAddress: entry.to,
            action: 'failed',
            status: permanent ? '5.1.1' : '4.4.7',
            diagnosticCode: permanent
              ? 'smtp; 550 5.1.1 user unknown (local)'
              : 'smtp; 421 4.4.7 message expired in the queue (local)',
          },
        ],
        timestamp: at,
        reportingMTA: 'dns; local.amazonses.com',
      },
    });
  }
  return events.map((event, index) => ({
    Records: [
      {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: `${emailTopicArn}:${randomUUID()}`,
        Sns: {
          Type: 'Notification',
          MessageId: randomUUID(),
          TopicArn: emailTopicArn,
          Subject: null as unknown as string,
          Message: JSON.stringify(event),
          Timestamp: new Date(now + index).toISOString(),
          SignatureVersion: '1',
          Signature: 'LOCAL',
          SigningCertUrl: 'https://sns.local/cert.pem',
          UnsubscribeUrl: 'https://sns.local/unsubscribe',
          MessageAttributes: {},
        },
      },
    ],
  }));
};

/** Starts reporting on every outbox entry; returns a stop function that also waits for reports under way. */
export const startDeliveryReporter = (
  edges: AwsEdges,
  handler: DeliveryHandler,
  options: DeliveryReporterOptions,
): { stop(): Promise<void>; reportedFor(providerMessageId: string): DeliveryRule | undefined } => {
  const delayMs = options.delayMs ?? 400;
  const retryDelayMs = options.retryDelayMs ?? 1000;
  const log = options.log ?? ((line: string) => console.error(line));
  const pending = new Set<Promise<void>>();
  // What was reported per provider message id, for the local console (bounded: the oldest go first).
  const reported = new Map<string, DeliveryRule>();
  const remember = (id: string, rule: DeliveryRule) => {
    reported.set(id, rule);
    if (reported.size > 10_000) reported.delete(reported.keys().next().value as string);
  };
  // Each wait, so that stopping ends it at once (the report under it then does nothing).
  const waits = new Map<NodeJS.Timeout, () => void>();
  let stopped = false;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        waits.delete(timer);
        resolve();
      }, ms);
      waits.set(timer, resolve);
    });

  const invoke = async (event: CloudWatchLogsEvent | SNSEvent) => {
    for (let attempt = 0; attempt < 3 && !stopped; attempt++) {
      try {
        await handler(event, options.context('delivery-status'));
        return;
      } catch (error) {
        if (attempt === 2) log(`[parley] delivery-status gave up on a report: ${(error as Error).message}`);
        else await sleep(retryDelayMs);
      }
    }
  };

  const report = async (entry: OutboxEntry) => {
    await sleep(delayMs);
    if (stopped) return;
    const rule = edges.deliveryFor(entry.to);
    const now = Date.now();
    remember(entry.providerMessageId, rule);
    if (entry.channel === 'sms') return invoke(smsLogEvent(entry, rule, now));
    for (const event of emailEvents(entry, rule, now)) await invoke(event);
  };

  const unsubscribe = edges.outbox.onEntry((entry) => {
    if (stopped) return;
    const run = report(entry).finally(() => pending.delete(run));
    pending.add(run);
  });

  return {
    reportedFor: (providerMessageId) => reported.get(providerMessageId),
    async stop() {
      stopped = true;
      unsubscribe();
      for (const [timer, resolve] of waits) {
        clearTimeout(timer);
        resolve();
      }
      waits.clear();
      await Promise.allSettled([...pending]);
    },
  };
};
