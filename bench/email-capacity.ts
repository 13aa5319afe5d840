/**
 * Part 1, the email lines (run by bench/capacity.ts, not a part of its own): DynamoDB capacity and S3 reads per
 * inbound email reply that answers a prompt (DESIGN section 9: ≤ 2 RU, ≤ 3 WU, plus the one S3 GetObject), and per
 * redelivered notification.
 *
 * The reply takes SES's receipt path as `npm start` runs it (local/gateway.ts): the customer's mail client answers
 * the alert (local/email-simulator.ts builds the MIME: to the signed Reply-To, In-Reply-To the alert, the alert
 * quoted below the "Y"), SES's S3 action stores it in the emulated bucket, and the real `inbound-email` handler gets
 * the Received notification by SNS. Its S3 client goes through a request log in front of the edges, which counts
 * every S3 call it makes.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Context as LambdaContext, SNSEvent } from 'aws-lambda';
import type { OutboxEntry } from '../local/edges/aws-edges.ts';
import { addressKey } from '../local/edges/faults.ts';
import {
  inboundObjectKeyPrefix,
  newSesMessageId,
  prepareInboundEmail,
  receiptNotification,
} from '../local/email-simulator.ts';
import { localInboundEmailBucket } from '../local/handler-env.ts';
import { localTopicArn, snsEventFor } from '../local/inbound-simulator.ts';
import { lambdaContext } from '../local/lambda-context.ts';
import { sendBody, withoutPrompt } from './lib/api-events.ts';
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
import { type LoggedRequest, startRequestLog } from './lib/request-log.ts';

const inboundEmailHandler = join(repoRoot, 'functions', 'handlers', 'inbound-email.ts');
const warmUp = 2;
const answers = 10;
const topic = 'parley-inbound-email';

/** The budget of DESIGN section 9, for the rows that stand in when the measurement could not run. */
export const inboundEmailBudgetText = '≤ 2 RU, ≤ 3 WU, 1 S3 GetObject';

type SnsLambda = (event: SNSEvent, context: LambdaContext) => Promise<unknown>;

interface EmailMeasurement extends Measurement {
  /** The S3 calls the handler made. */
  s3: LoggedRequest[];
}

const headerOf = (entry: OutboxEntry, name: string): string | undefined =>
  Object.entries(entry.headers ?? {}).find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];

const getsOf = (m: EmailMeasurement) => m.s3.filter((call) => call.op === 'GetObject').length;

/** The S3 calls other than GetObject (there should be none), e.g. "HeadObject 2". */
const otherS3Calls = (ms: EmailMeasurement[]): string => {
  const counts = new Map<string, number>();
  for (const call of ms.flatMap((m) => m.s3)) {
    if (call.op !== 'GetObject') counts.set(call.op, (counts.get(call.op) ?? 0) + 1);
  }
  return [...counts.entries()].map(([op, count]) => `${op} ${count}`).join(', ');
};

/** "10 GetObject for 10 replies (1 each, 612 B raw mail)". */
const getsShown = (ms: EmailMeasurement[], what: string): string => {
  const gets = stats(ms.map(getsOf));
  const bytes = stats(ms.flatMap((m) => m.s3.filter((call) => call.op === 'GetObject').map((call) => call.bytes)));
  const each = gets.min === gets.max ? `${num(gets.max)} each` : `${num(gets.min)}-${num(gets.max)} each`;
  const size = bytes.n > 0 ? `, ${num(bytes.max)} B raw mail` : '';
  const others = otherS3Calls(ms);
  return `${sumOf(ms, getsOf)} GetObject for ${ms.length} ${what} (${each}${size})${others ? `; also ${others}` : ''}`;
};

/**
 * Per inbound email reply that answers a prompt and per redelivered notification (changes nothing, sends nothing).
 * Each answer goes to its own customer, known by email only, with one open prompt made by the send handler; caches
 * are warmed by the first replies.
 */
export const measureInboundEmailReply = async (context: CapacityContext): Promise<{ rows: Row[]; notes: string[] }> => {
  if (!existsSync(inboundEmailHandler)) {
    return {
      rows: [
        {
          label: 'inbound email reply (prompt answer)',
          value: null,
          shown: 'not built yet',
          budget: { text: inboundEmailBudgetText },
        },
      ],
      notes: ['inbound email: not built yet (functions/handlers/inbound-email.ts does not exist)'],
    };
  }
  const s3Log = await startRequestLog({ target: context.edges.url });
  const previousS3Endpoint = process.env.AWS_ENDPOINT_URL_S3;
  // Storing the mail is SES's part, not the handler's: straight to the edges, never counted.
  const ses = new S3Client({
    endpoint: context.edges.url,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    // The handler makes its S3 client at import: pointed at the log from then on, so every call it makes is seen.
    process.env.AWS_ENDPOINT_URL_S3 = s3Log.url;
    const { handler } = (await import(pathToFileURL(inboundEmailHandler).href)) as { handler: SnsLambda };
    return await run(context, handler, s3Log, ses);
  } finally {
    if (previousS3Endpoint === undefined) delete process.env.AWS_ENDPOINT_URL_S3;
    else process.env.AWS_ENDPOINT_URL_S3 = previousS3Endpoint;
    ses.destroy();
    await s3Log.close();
  }
};

const run = async (
  context: CapacityContext,
  handler: SnsLambda,
  s3Log: Awaited<ReturnType<typeof startRequestLog>>,
  ses: S3Client,
): Promise<{ rows: Row[]; notes: string[] }> => {
  const replyDomain = process.env.PARLEY_REPLY_DOMAIN ?? '';
  const answersByEmail = (customerId: string) =>
    context.edges.events
      .list({ type: 'prompt.answered' })
      .map((e) => e.detail as { customerId?: string; channel?: string; answer?: string })
      .filter((detail) => detail.customerId === customerId && detail.channel === 'email');
  const answeredByEmail = (customerId: string) => answersByEmail(customerId).length;

  const deliveries: { customerId: string; event: SNSEvent }[] = [];
  let mailBytes = 0;
  for (let i = 0; i < warmUp + answers; i++) {
    const customerId = `bench-em-${i}`;
    const email = `${customerId}@example.com`;
    const body = { ...sendBody(customerId, `txn-em-${i}`), to: { email }, channel: 'email' };
    const made = await context.send(`bench-em-first-${i}`, withoutPrompt(body));
    const prompted = await context.send(`bench-em-prompt-${i}`, body);
    if (made.status !== 202 || prompted.status !== 202) {
      throw new Error(`inbound email setup: send answered ${made.status}, ${prompted.status}`);
    }
    const alert = context.edges.outbox
      .list({ to: email })
      .filter((entry) => entry.channel === 'email')
      .at(-1);
    const replyTo = alert && (headerOf(alert, 'Reply-To') ?? alert.replyTo?.[0]);
    if (!replyTo) throw new Error(`inbound email setup: the alert to ${email} has no Reply-To`);

    // The customer's Reply, as the local console's simple form builds it: to the last email's Reply-To, quoting it.
    const at = new Date();
    const mail = prepareInboundEmail(
      { from: `Customer ${i} <${email}>`, text: 'Y' },
      { edges: context.edges, replyDomain, now: at },
    );
    if (!mail.ok) throw new Error(`inbound email setup: ${mail.message}`);
    if (mail.recipients[0] !== addressKey(replyTo)) {
      throw new Error(`inbound email setup: the reply went to ${mail.recipients[0]}, not the alert's ${replyTo}`);
    }
    mailBytes = Math.max(mailBytes, mail.raw.length);
    const sesMessageId = newSesMessageId();
    const objectKey = `${inboundObjectKeyPrefix}${sesMessageId}`;
    await ses.send(new PutObjectCommand({ Bucket: localInboundEmailBucket, Key: objectKey, Body: mail.raw }));
    const notification = receiptNotification({
      mail,
      sesMessageId,
      at,
      bucketName: localInboundEmailBucket,
      objectKey,
      topicArn: localTopicArn(topic),
    });
    deliveries.push({
      customerId,
      event: snsEventFor(notification, at, { name: topic, subject: 'Amazon SES Email Receipt Notification' }),
    });
  }

  const errors = new Map<string, number>();
  const deadLettered = new Map<string, number>();
  const deliver = async ({ customerId, event }: (typeof deliveries)[number]): Promise<EmailMeasurement> => {
    let s3: LoggedRequest[] = [];
    const measured = await measure(context, async () => {
      const before = answeredByEmail(customerId);
      const deadLettersBefore = context.edges.deadLetters.list().length;
      s3Log.begin();
      try {
        await handler(event, lambdaContext('inbound-email'));
      } catch (error) {
        const message = `${(error as Error).name}: ${(error as Error).message}`;
        errors.set(message, (errors.get(message) ?? 0) + 1);
        return { status: 500, replayed: false };
      } finally {
        s3 = [...s3Log.take()];
      }
      // What can never be processed is dead-lettered, not thrown: say so, or a reply lost that way reads as a 204.
      for (const letter of context.edges.deadLetters.list().slice(deadLettersBefore)) {
        const reason = (JSON.parse(letter.body) as { reason?: string }).reason ?? letter.body.slice(0, 120);
        deadLettered.set(reason, (deadLettered.get(reason) ?? 0) + 1);
      }
      return { status: answeredByEmail(customerId) > before ? 200 : 204, replayed: false };
    });
    return { ...measured, s3 };
  };

  for (const delivery of deliveries.slice(0, warmUp)) await deliver(delivery);
  const replies: EmailMeasurement[] = [];
  for (const delivery of deliveries.slice(warmUp)) replies.push(await deliver(delivery));
  // The same notification again (SNS delivers at least once): as DynamoDB answers the failed claim, then as dynalite.
  const duplicates: EmailMeasurement[] = [];
  for (const delivery of deliveries.slice(warmUp)) duplicates.push(await deliver(delivery));
  context.proxy.setEmulateFailureItem(false);
  const dynaliteDuplicates: EmailMeasurement[] = [];
  try {
    for (const delivery of deliveries.slice(warmUp)) dynaliteDuplicates.push(await deliver(delivery));
  } finally {
    context.proxy.setEmulateFailureItem(true);
  }

  const read = stats(replies.map((m) => m.read));
  const write = stats(replies.map((m) => m.write));
  const gets = stats(replies.map(getsOf));
  const ok = replies.filter((m) => m.status === 200).length;
  const repliesFailed = replies.filter((m) => m.status === 500).length;
  const duplicatesOk = duplicates.filter((m) => m.status !== 500).length;
  const rows: Row[] = [
    {
      label: `inbound email reply (prompt answer): RU (${answers} replies)`,
      value: read.max,
      shown: `max ${num(read.max)} RU (mean ${num(read.mean)})`,
      budget: { max: 2, text: '≤ 2 RU' },
    },
    {
      label: 'inbound email reply (prompt answer): WU incl. GSI',
      value: write.max,
      shown: writeShown(replies),
      budget: { max: 3, text: '≤ 3 WU' },
    },
    {
      label: 'inbound email reply (prompt answer): S3 GetObject',
      // Exactly one: the figure checked is the one furthest from it.
      value: gets.max !== 1 ? gets.max : gets.min,
      shown: getsShown(replies, 'replies'),
      budget: { min: 1, max: 1, text: '1 per reply' },
    },
    {
      label: 'inbound email reply: prompt.answered emitted with channel email',
      value: answers - ok,
      shown: `${ok}/${answers}${repliesFailed > 0 ? ` (${repliesFailed} handler errors)` : ''}`,
      budget: { max: 0, text: 'all' },
    },
    {
      label: 'redelivered email notification: handled without error',
      value: answers - duplicatesOk,
      shown: `${duplicatesOk}/${answers}`,
      budget: { max: 0, text: 'all' },
    },
    {
      label: 'redelivered email notification: items changed',
      value: sumOf(duplicates, (m) => m.changed),
      shown: String(sumOf(duplicates, (m) => m.changed)),
      budget: { max: 0, text: '0' },
    },
    {
      label: 'redelivered email notification: SMS/email sent, events emitted',
      value: sumOf(duplicates, (m) => m.sends + m.events),
      shown: `${sumOf(duplicates, (m) => m.sends)}, ${sumOf(duplicates, (m) => m.events)}`,
      budget: { max: 0, text: '0, 0' },
    },
    {
      label: 'redelivered email notification: units, S3',
      value: null,
      shown:
        `max ${num(stats(duplicates.map((m) => m.write)).max)} WU, ` +
        `max ${num(stats(duplicates.map((m) => m.read)).max)} RU; ${getsShown(duplicates, 'redeliveries')}`,
    },
    {
      label: 'redelivered email notification as dynalite answers (no item on a failed condition)',
      value: null,
      shown:
        `max ${num(stats(dynaliteDuplicates.map((m) => m.write)).max)} WU, ` +
        `max ${num(stats(dynaliteDuplicates.map((m) => m.read)).max)} RU, ` +
        `${dynaliteDuplicates.filter((m) => m.status !== 500).length}/${answers} without error, ` +
        `${sumOf(dynaliteDuplicates, (m) => m.changed)} items changed, ` +
        `${sumOf(dynaliteDuplicates, (m) => m.sends)} sent`,
    },
    {
      label: 'inbound email reply: SMS/email sent in answer',
      value: null,
      shown: `${sumOf(replies, (m) => m.sends)} for ${answers} replies`,
    },
  ];
  const errorNotes = [...errors.entries()].map(([message, count]) => `inbound-email threw ${count}x: ${message}`);
  const deadLetterNotes = [...deadLettered.entries()].map(
    ([reason, count]) => `inbound-email dead-lettered ${count}x: ${reason}`,
  );
  const others = otherS3Calls([...replies, ...duplicates, ...dynaliteDuplicates]);
  // "Y" answers a confirm prompt "yes": anything else means the reply was read wrong (the quote taken for the answer).
  const notYes = deliveries
    .slice(warmUp)
    .flatMap(({ customerId }) => answersByEmail(customerId))
    .filter((detail) => detail.answer !== 'yes');
  return {
    rows,
    notes: [
      `per inbound email reply: ${breakdown(replies)}; S3 GetObject raw mail (${mailBytes} B)`,
      `per redelivered email notification: ${breakdown(duplicates)}; S3 GetObject raw mail`,
      `per redelivered email notification as dynalite answers: ${breakdown(dynaliteDuplicates)}`,
      `inbound email: ${warmUp} warm-up replies first; each reply answers "Y" to its own customer's one open prompt ` +
        "(an email card-transaction check), sent to the alert's signed Reply-To with the alert quoted below, all SES verdicts PASS",
      ...(others ? [`inbound email: S3 calls besides GetObject: ${others}`] : []),
      ...(notYes.length > 0
        ? [`inbound email: ${notYes.length} answer(s) read as other than "yes": ${notYes[0]?.answer}`]
        : []),
      ...errorNotes,
      ...deadLetterNotes,
      ...[...replies, ...duplicates, ...dynaliteDuplicates]
        .flatMap((m) => m.unaccounted)
        .slice(0, 1)
        .map((key) => `inbound email scan cross-check: an item changed without a recorded write: ${key}`),
    ],
  };
};
