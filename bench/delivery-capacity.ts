/**
 * Part 1, the delivery status lines (run by bench/capacity.ts): DynamoDB capacity per delivery status event (DESIGN
 * section 9: ≤ 1 RU, ≤ 2 WU), for an SMS report (an SNS delivery log entry in a CloudWatch Logs subscription event,
 * found by its number and Publish id) and for SES's Send and Delivery events of an email (found by its message
 * tags), and per redelivered report. The payloads are the ones the local runtime's emulated providers make
 * (local/delivery-reporter.ts), given to the real `delivery-status` handler.
 *
 * Each SMS goes to a customer whose timeline already holds three messages (two earlier sends, and an email), so the
 * lookup reads a realistic page; a failover (SMS failed, the same text by email) is measured once, as a figure.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CloudWatchLogsEvent, Context as LambdaContext, SNSEvent } from 'aws-lambda';
import { emailEvents, smsLogEvent } from '../local/delivery-reporter.ts';
import type { OutboxEntry } from '../local/edges/aws-edges.ts';
import { lambdaContext } from '../local/lambda-context.ts';
import { phoneFor, sendBody, withoutPrompt } from './lib/api-events.ts';
import {
  breakdown,
  type CapacityContext,
  type Measurement,
  measure,
  sumOf,
  writeShown,
} from './lib/capacity-measure.ts';
import { repoRoot } from './lib/child.ts';
import { num, type Row, stats } from './lib/report.ts';

const deliveryHandler = join(repoRoot, 'functions', 'handlers', 'delivery-status.ts');
const warmUp = 2;
const reports = 10;

export const deliveryBudgetText = '≤ 1 RU, ≤ 2 WU';

type DeliveryLambda = (event: CloudWatchLogsEvent | SNSEvent, context: LambdaContext) => Promise<unknown>;

const lastTo = (context: CapacityContext, address: string, channel: 'sms' | 'email'): OutboxEntry => {
  const entry = context.edges.outbox
    .list({ to: address })
    .filter((e) => e.channel === channel)
    .at(-1);
  if (!entry) throw new Error(`delivery setup: nothing went to ${address} by ${channel}`);
  return entry;
};

/** The Parley id of a message the provider took, from its `message.sent`. */
const messageIdOf = (context: CapacityContext, providerMessageId: string): string => {
  const sent = context.edges.events
    .list({ type: 'message.sent' })
    .map((e) => e.detail as { messageId?: string; providerMessageId?: string })
    .find((detail) => detail.providerMessageId === providerMessageId);
  if (!sent?.messageId) throw new Error(`delivery setup: no message.sent for ${providerMessageId}`);
  return sent.messageId;
};

export const measureDeliveryStatus = async (context: CapacityContext): Promise<{ rows: Row[]; notes: string[] }> => {
  if (!existsSync(deliveryHandler)) {
    return {
      rows: [
        { label: 'delivery status event', value: null, shown: 'not built yet', budget: { text: deliveryBudgetText } },
      ],
      notes: [],
    };
  }
  const { handler } = (await import(pathToFileURL(deliveryHandler).href)) as { handler: DeliveryLambda };
  const errors = new Map<string, number>();
  const run = (event: CloudWatchLogsEvent | SNSEvent, changed: () => boolean) =>
    measure(context, async () => {
      try {
        await handler(event, lambdaContext('delivery-status'));
      } catch (error) {
        const message = `${(error as Error).name}: ${(error as Error).message}`;
        errors.set(message, (errors.get(message) ?? 0) + 1);
        return { status: 500, replayed: false };
      }
      return { status: changed() ? 200 : 204, replayed: false };
    });
  const delivered = (messageId: string) =>
    context.edges.events
      .list({ type: 'message.delivered' })
      .some((e) => (e.detail as { messageId?: string }).messageId === messageId);

  // Setup: per customer, an email and two SMS before the one reported on.
  const sms: { messageId: string; event: CloudWatchLogsEvent }[] = [];
  const email: { messageId: string; events: SNSEvent[] }[] = [];
  for (let i = 0; i < warmUp + reports; i++) {
    const customerId = `bench-ds-${i}`;
    const phone = phoneFor(300 + i);
    const body = withoutPrompt(sendBody(customerId, `txn-ds-${i}`, phone));
    const steps = [
      await context.send(`bench-ds-email-${i}`, { ...body, channel: 'email' }),
      await context.send(`bench-ds-a-${i}`, body),
      await context.send(`bench-ds-b-${i}`, body),
    ];
    const reported = await context.send(`bench-ds-${i}`, sendBody(customerId, `txn-ds-${i}`, phone));
    if ([...steps, reported].some((m) => m.status !== 202)) throw new Error('delivery setup: a send was refused');
    const entry = lastTo(context, phone, 'sms');
    const messageId = messageIdOf(context, entry.providerMessageId);
    sms.push({ messageId, event: smsLogEvent(entry, { delivery: 'delivered' }, Date.now()) });
    const mailed = lastTo(context, `${customerId}@example.com`, 'email');
    email.push({
      messageId: mailed.tags?.['parley-message-id'] ?? '',
      events: emailEvents(mailed, { delivery: 'delivered' }, Date.now()),
    });
  }

  for (const { messageId, event } of sms.slice(0, warmUp)) await run(event, () => delivered(messageId));
  const smsReports: Measurement[] = [];
  for (const { messageId, event } of sms.slice(warmUp)) smsReports.push(await run(event, () => delivered(messageId)));
  const smsAgain: Measurement[] = [];
  for (const { messageId, event } of sms.slice(warmUp)) smsAgain.push(await run(event, () => delivered(messageId)));
  const sendEvents: Measurement[] = [];
  const deliveryEvents: Measurement[] = [];
  for (const { messageId, events } of email) {
    const [send, delivery] = events as [SNSEvent, SNSEvent];
    sendEvents.push(await run(send, () => false));
    deliveryEvents.push(await run(delivery, () => delivered(messageId)));
  }

  // One failover: the SMS fails, the same text goes by email, the prompt moves with it.
  const failPhone = phoneFor(399);
  const failed = await context.send('bench-ds-failover', sendBody('bench-ds-failover', 'txn-ds-fo', failPhone));
  const failEntry = lastTo(context, failPhone, 'sms');
  const failover = await run(
    smsLogEvent(failEntry, { delivery: 'failed', reason: 'carrier_unreachable' }, Date.now()),
    () => context.edges.outbox.list({ to: 'bench-ds-failover@example.com' }).length > 0,
  );

  const all = [...smsReports, ...deliveryEvents, ...sendEvents];
  const read = stats(all.map((m) => m.read));
  const write = stats(all.map((m) => m.write));
  const smsOk = smsReports.filter((m) => m.status === 200).length;
  const emailOk = deliveryEvents.filter((m) => m.status === 200).length;
  const rows: Row[] = [
    {
      label: `delivery status event: RU (${reports} SMS reports, ${reports * 2} SES events)`,
      value: read.max,
      shown:
        `max ${num(read.max)} RU (SMS mean ${num(stats(smsReports.map((m) => m.read)).mean)}, ` +
        `SES Delivery mean ${num(stats(deliveryEvents.map((m) => m.read)).mean)})`,
      budget: { max: 1, text: '≤ 1 RU' },
    },
    {
      label: 'delivery status event: WU incl. GSI',
      value: write.max,
      shown: `${writeShown(all)}; SES Send on a sent email: max ${num(stats(sendEvents.map((m) => m.write)).max)} WU`,
      budget: { max: 2, text: '≤ 2 WU' },
    },
    {
      label: 'delivery status event: message.delivered emitted (SMS, email)',
      value: reports - smsOk + (deliveryEvents.length - emailOk),
      shown: `${smsOk}/${reports} SMS, ${emailOk}/${deliveryEvents.length} email`,
      budget: { max: 0, text: 'all' },
    },
    {
      label: 'redelivered SMS report: WU, items changed',
      value: sumOf(smsAgain, (m) => m.changed),
      shown: `max ${num(stats(smsAgain.map((m) => m.write)).max)} WU, max ${num(stats(smsAgain.map((m) => m.read)).max)} RU, ${sumOf(smsAgain, (m) => m.changed)} items changed, ${sumOf(smsAgain, (m) => m.sends)} sent`,
      budget: { max: 0, text: '0 items' },
    },
    {
      label: 'SMS failure with failover to email (one report)',
      value: null,
      shown:
        failed.status === 202
          ? `${num(failover.read)} RU, ${num(failover.write)} WU, ${failover.sends} sent, ${failover.events} events`
          : `not measured (the send answered ${failed.status})`,
    },
  ];
  const notes = [
    `delivery status operations: ${breakdown(all)}`,
    `failover operations: ${breakdown([failover])}`,
    ...[...errors.entries()].map(([message, count]) => `delivery-status threw ${count}x: ${message}`),
  ];
  return { rows, notes };
};
