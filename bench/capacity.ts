/**
 * Part 1: DynamoDB capacity per accepted send (hot caches), per idempotent replay, and per inbound SMS or email
 * reply that answers a prompt (and its redelivery), by DynamoDB's billing rules; for email also the S3 reads
 * (bench/email-capacity.ts).
 *
 * The handlers run in this process against dynalite through a recording proxy (bench/lib/recording-proxy.ts)
 * and the emulated edges; each measured request is billed from the operations the proxy saw and the item images
 * it read around each write. A table scan before and after each request checks that no write went unrecorded.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context as LambdaContext, SNSEvent } from 'aws-lambda';
import { tableSchema } from '../functions/adapters/dynamo/table-schema.ts';
import { demoTenant } from '../local/demo.ts';
import { lambdaContext } from '../local/lambda-context.ts';
import { deliveryBudgetText, measureDeliveryStatus } from './delivery-capacity.ts';
import { inboundEmailBudgetText, measureInboundEmailReply } from './email-capacity.ts';
import { type HttpLambda, inboundSmsEvent, phoneFor, sendBody, sendEvent, withoutPrompt } from './lib/api-events.ts';
import { breakdown, type CapacityContext, type Measurement, measure, writeShown } from './lib/capacity-measure.ts';
import { childMain, repoRoot } from './lib/child.ts';
import { handlerEnv, startBenchStack, tableName, tenantId } from './lib/local-stack.ts';
import { startRecordingProxy } from './lib/recording-proxy.ts';
import { num, type PartResult, type Row, stats } from './lib/report.ts';

const warmUpSends = 3;
const measuredSends = 20;
const measuredReplays = 10;

const inboundHandler = join(repoRoot, 'functions', 'handlers', 'inbound-sms.ts');
const inboundWarmUp = 2;
const inboundAnswers = 10;

type SnsLambda = (event: SNSEvent, context: LambdaContext) => Promise<unknown>;

/**
 * Per inbound SMS reply that answers a prompt (≤ 1 RU, ≤ 3 WU) and per redelivered duplicate (changes nothing,
 * sends nothing). Each answer goes to its own customer with one open prompt, made by the send handler; the reply
 * names the prompt's SMS as `previousPublishedMessageId`, as End User Messaging does; caches are warmed first.
 */
const measureInboundReply = async (context: CapacityContext): Promise<{ rows: Row[]; notes: string[] }> => {
  if (!existsSync(inboundHandler)) {
    return {
      rows: [
        {
          label: 'inbound reply (prompt answer)',
          value: null,
          shown: 'not built yet',
          budget: { text: '≤ 1 RU, ≤ 3 WU' },
        },
      ],
      notes: ['inbound: not built yet (functions/handlers/inbound-sms.ts does not exist)'],
    };
  }
  const { handler: inbound } = (await import(pathToFileURL(inboundHandler).href)) as { handler: SnsLambda };
  const answered = () => context.edges.events.list({ type: 'prompt.answered' }).length;

  const events: SNSEvent[] = [];
  for (let i = 0; i < inboundWarmUp + inboundAnswers; i++) {
    const id = `bench-in-${i}`;
    const phone = phoneFor(100 + i);
    const made = await context.send(`bench-in-first-${i}`, withoutPrompt(sendBody(id, `txn-in-first-${i}`, phone)));
    const prompted = await context.send(`bench-in-prompt-${i}`, sendBody(id, `txn-in-${i}`, phone));
    if (made.status !== 202 || prompted.status !== 202)
      throw new Error(`inbound setup: send answered ${prompted.status}`);
    const previous = context.edges.outbox
      .list({ to: phone })
      .filter((entry) => entry.channel === 'sms')
      .at(-1)?.providerMessageId;
    events.push(
      inboundSmsEvent({
        originationNumber: phone,
        destinationNumber: demoTenant.smsNumber,
        messageBody: 'Y',
        inboundMessageId: randomUUID(),
        ...(previous !== undefined && { previousPublishedMessageId: previous }),
      }),
    );
  }
  const errors = new Map<string, number>();
  const deliver = (event: SNSEvent) =>
    measure(context, async () => {
      const before = answered();
      try {
        await inbound(event, lambdaContext('inbound-sms'));
      } catch (error) {
        const message = `${(error as Error).name}: ${(error as Error).message}`;
        errors.set(message, (errors.get(message) ?? 0) + 1);
        return { status: 500, replayed: false };
      }
      return { status: answered() > before ? 200 : 204, replayed: false };
    });
  for (const event of events.slice(0, inboundWarmUp)) await deliver(event);
  const replies: Measurement[] = [];
  for (const event of events.slice(inboundWarmUp)) replies.push(await deliver(event));
  // Redelivered as DynamoDB answers the failed claim (with the existing item), then as dynalite answers it.
  const duplicates: Measurement[] = [];
  for (const event of events.slice(inboundWarmUp)) duplicates.push(await deliver(event));
  context.proxy.setEmulateFailureItem(false);
  const dynaliteDuplicates: Measurement[] = [];
  for (const event of events.slice(inboundWarmUp)) dynaliteDuplicates.push(await deliver(event));
  context.proxy.setEmulateFailureItem(true);

  const write = stats(replies.map((m) => m.write));
  const read = stats(replies.map((m) => m.read));
  const ok = replies.filter((m) => m.status === 200).length;
  const repliesFailed = replies.filter((m) => m.status === 500).length;
  const duplicatesOk = duplicates.filter((m) => m.status !== 500).length;
  const dupWrite = stats(duplicates.map((m) => m.write));
  const dupRead = stats(duplicates.map((m) => m.read));
  const sum = (ms: Measurement[], pick: (m: Measurement) => number) => ms.reduce((total, m) => total + pick(m), 0);
  const rows: Row[] = [
    {
      label: `inbound reply (prompt answer): RU (${inboundAnswers} replies)`,
      value: read.max,
      shown: `max ${num(read.max)} RU (mean ${num(read.mean)})`,
      budget: { max: 1, text: '≤ 1 RU' },
    },
    {
      label: 'inbound reply (prompt answer): WU incl. GSI',
      value: write.max,
      shown: writeShown(replies),
      budget: { max: 3, text: '≤ 3 WU' },
    },
    {
      label: 'inbound reply: prompt.answered emitted',
      value: inboundAnswers - ok,
      shown: `${ok}/${inboundAnswers}${repliesFailed > 0 ? ` (${repliesFailed} handler errors)` : ''}`,
      budget: { max: 0, text: 'all' },
    },
    {
      label: 'redelivered duplicate: handled without error',
      value: inboundAnswers - duplicatesOk,
      shown: `${duplicatesOk}/${inboundAnswers}`,
      budget: { max: 0, text: 'all' },
    },
    {
      label: 'redelivered duplicate: items changed',
      value: sum(duplicates, (m) => m.changed),
      shown: String(sum(duplicates, (m) => m.changed)),
      budget: { max: 0, text: '0' },
    },
    {
      label: 'redelivered duplicate: SMS/email sent, events emitted',
      value: sum(duplicates, (m) => m.sends + m.events),
      shown: `${sum(duplicates, (m) => m.sends)}, ${sum(duplicates, (m) => m.events)}`,
      budget: { max: 0, text: '0, 0' },
    },
    {
      label: 'redelivered duplicate: units',
      value: null,
      shown: `max ${num(dupWrite.max)} WU, max ${num(dupRead.max)} RU`,
    },
    {
      label: 'redelivered duplicate as dynalite answers (no item on a failed condition)',
      value: null,
      shown:
        `max ${num(stats(dynaliteDuplicates.map((m) => m.write)).max)} WU, ` +
        `max ${num(stats(dynaliteDuplicates.map((m) => m.read)).max)} RU, ` +
        `${dynaliteDuplicates.filter((m) => m.status !== 500).length}/${inboundAnswers} without error, ` +
        `${sum(dynaliteDuplicates, (m) => m.changed)} items changed, ${sum(dynaliteDuplicates, (m) => m.sends)} sent`,
    },
    {
      label: 'inbound reply: SMS sent in answer',
      value: null,
      shown: `${sum(replies, (m) => m.sends)} for ${inboundAnswers} replies`,
    },
  ];
  const errorNotes = [...errors.entries()].map(([message, count]) => `inbound-sms threw ${count}x: ${message}`);
  return {
    rows,
    notes: [
      `per inbound reply: ${breakdown(replies)}`,
      `per redelivered duplicate: ${breakdown(duplicates)}`,
      `per redelivered duplicate as dynalite answers: ${breakdown(dynaliteDuplicates)}`,
      `inbound: ${inboundWarmUp} warm-up replies first; each reply answers "Y" to its own customer's one open prompt`,
      ...errorNotes,
      ...[...replies, ...duplicates, ...dynaliteDuplicates]
        .flatMap((m) => m.unaccounted)
        .slice(0, 1)
        .map((key) => `inbound scan cross-check: an item changed without a recorded write: ${key}`),
    ],
  };
};

childMain(async (defer) => {
  const stack = await startBenchStack();
  defer(() => stack.close());
  const proxy = await startRecordingProxy({
    target: stack.dynamoEndpoint,
    direct: stack.direct,
    tableName,
    keyAttributes: [tableSchema.partitionKey, tableSchema.sortKey],
  });
  defer(() => proxy.close());
  Object.assign(process.env, handlerEnv({ dynamodb: proxy.url, edges: stack.edges.url }));
  const { handler } = (await import('../functions/handlers/send-message.ts')) as unknown as { handler: HttpLambda };
  const { authorize } = await import('../functions/handlers/authorizer.ts');

  const bodies = new Map<string, unknown>();
  const context: CapacityContext = {
    proxy,
    edges: stack.edges,
    outboxSize: () => stack.edges.outbox.list().length,
    eventCount: () => stack.edges.events.list().length,
    send: (key, body) =>
      measure(context, async () => {
        bodies.set(key, body);
        const event = sendEvent(body, { tenantId, idempotencyKey: key });
        const result = await handler(event, lambdaContext('send-message'));
        return { status: result.statusCode ?? 0, replayed: result.headers?.['idempotent-replayed'] === 'true' };
      }),
  };
  const send = context.send;

  // Without prompts: the cache warm-up sends to the customer the series below goes on with, none left open.
  const customer = 'bench-cust-1';
  const warmUp: Measurement[] = [];
  for (let i = 0; i < warmUpSends; i++) {
    warmUp.push(await send(`bench-warm-${i}`, withoutPrompt(sendBody(customer, `txn-warm-${i}`))));
  }

  // Existing customers without an open prompt: each made by one earlier send without a prompt.
  const newCustomers: Measurement[] = [];
  const existing = Array.from({ length: measuredSends }, (_, i) => `bench-cust-x${i}`);
  for (const [i, id] of existing.entries()) {
    newCustomers.push(await send(`bench-first-${i}`, withoutPrompt(sendBody(id, `txn-first-${i}`, phoneFor(i)))));
  }
  const sends: Measurement[] = [];
  for (const [i, id] of existing.entries()) {
    sends.push(await send(`bench-send-${i}`, sendBody(id, `txn-${i}`, phoneFor(i))));
  }

  // The same customer again and again: unanswered prompts stay open on the customer item.
  const series: Measurement[] = [];
  for (let i = 0; i < measuredSends; i++) series.push(await send(`bench-series-${i}`, sendBody(customer, `txn-s${i}`)));

  const replay = (key: string) =>
    measure(context, async () => {
      const result = await handler(
        sendEvent(bodies.get(key), { tenantId, idempotencyKey: key }),
        lambdaContext('send-message'),
      );
      return { status: result.statusCode ?? 0, replayed: result.headers?.['idempotent-replayed'] === 'true' };
    });
  const replayKeys = Array.from({ length: measuredReplays }, (_, i) => `bench-send-${i}`);
  // As DynamoDB answers: the failed claim carries the existing item (ReturnValuesOnConditionCheckFailure).
  proxy.setEmulateFailureItem(true);
  const replays: Measurement[] = [];
  for (const key of replayKeys) replays.push(await replay(key));
  // As dynalite answers: no item on the failure, so the store reads the claim (info only).
  proxy.setEmulateFailureItem(false);
  const dynaliteReplays: Measurement[] = [];
  for (const key of replayKeys) dynaliteReplays.push(await replay(key));
  proxy.setEmulateFailureItem(true);

  const longSms = await send('bench-long-sms', {
    customerId: 'bench-cust-x0',
    to: { phone: phoneFor(0), email: 'bench-cust-x0@example.com' },
    channel: 'sms',
    body: { sms: `Demo Bank statement. ${'0123456789'.repeat(90)}`.slice(0, 6 * 153) },
    reference: 'txn-long',
  });

  const authorizations: Measurement[] = [];
  for (let i = 0; i < 3; i++) {
    authorizations.push(
      await measure(context, async () => {
        const decision = await authorize({ headers: { authorization: `Bearer ${stack.apiKey}` } });
        return { status: decision.isAuthorized ? 200 : 401, replayed: false };
      }),
    );
  }

  // A handler still being written must not take the send figures down with it.
  const inbound = await measureInboundReply(context).catch((error: unknown) => ({
    rows: [
      {
        label: 'inbound reply (prompt answer)',
        value: null,
        shown: `failed: ${(error as Error).message}`,
        budget: { text: '≤ 1 RU, ≤ 3 WU' },
      } satisfies Row,
    ],
    notes: [],
  }));
  proxy.setEmulateFailureItem(true);
  const inboundEmail = await measureInboundEmailReply(context).catch((error: unknown) => ({
    rows: [
      {
        label: 'inbound email reply (prompt answer)',
        value: null,
        shown: `failed: ${(error as Error).message}`,
        budget: { text: inboundEmailBudgetText },
      } satisfies Row,
    ],
    notes: [],
  }));
  proxy.setEmulateFailureItem(true);
  const delivery = await measureDeliveryStatus(context).catch((error: unknown) => ({
    rows: [
      {
        label: 'delivery status event',
        value: null,
        shown: `failed: ${(error as Error).message}`,
        budget: { text: deliveryBudgetText },
      } satisfies Row,
    ],
    notes: [],
  }));

  const all = [...warmUp, ...newCustomers, ...sends, ...series, ...replays, ...dynaliteReplays, longSms];
  const accepted = [...sends, ...series].filter((m) => m.status === 202 && !m.replayed).length;
  const notAccepted = [...newCustomers, ...sends, ...series].find((m) => m.status !== 202);
  const goodReplays = replays.filter((m) => m.status === 202 && m.replayed).length;
  const replayStatuses = [...new Set(replays.map((m) => `${m.status}${m.replayed ? ' replayed' : ''}`))].join(', ');
  const unaccounted = all.flatMap((m) => m.unaccounted);
  const sendRead = stats(sends.map((m) => m.read));
  const seriesRead = stats(series.map((m) => m.read));
  const replayWrite = stats(replays.map((m) => m.write));
  const replayRead = stats(replays.map((m) => m.read));
  // Open prompts on the series customer before send i: i (the warm-up sends had none).
  const firstOver = series.findIndex((m) => m.write > 3);
  const customerBytes = series.map((m) => m.costs.find((c) => c.item === 'customer')?.bytes ?? Number.NaN);
  const perPrompt =
    customerBytes.length > 1
      ? ((customerBytes[customerBytes.length - 1] as number) - (customerBytes[0] as number)) /
        (customerBytes.length - 1)
      : Number.NaN;

  const rows: Row[] = [
    {
      label: `send, hot caches, existing customer, no open prompt: WU incl. GSI (${measuredSends} sends)`,
      value: stats(sends.map((m) => m.write)).max,
      shown: writeShown(sends),
      budget: { max: 3, text: '≤ 3 WU' },
    },
    {
      label: 'send, hot caches, existing customer, no open prompt: RU',
      value: sendRead.max,
      shown: `max ${num(sendRead.max)} RU (mean ${num(sendRead.mean)})`,
      budget: { max: 0, text: '0 RU' },
    },
    {
      label: `send, hot caches, same customer ${measuredSends}x (its prompts left open): WU`,
      value: stats(series.map((m) => m.write)).max,
      shown: `${writeShown(series)}${firstOver < 0 ? '' : `; > 3 WU once ${firstOver} prompts are open`}`,
      budget: { max: 3, text: '≤ 3 WU' },
    },
    {
      label: 'send, hot caches, same customer: RU',
      value: seriesRead.max,
      shown: `max ${num(seriesRead.max)} RU (mean ${num(seriesRead.mean)})`,
      budget: { max: 0, text: '0 RU' },
    },
    {
      label: 'sends accepted (202)',
      value: 2 * measuredSends - accepted,
      shown: `${accepted}/${2 * measuredSends}${notAccepted ? ` (e.g. ${notAccepted.status})` : ''}`,
      budget: { max: 0, text: 'all' },
    },
    {
      label: `replay: write units (${measuredReplays} replays)`,
      value: replayWrite.max,
      shown: `max ${num(replayWrite.max)} WU (mean ${num(replayWrite.mean)})`,
      budget: { max: 1, text: '≤ 1 WU' },
    },
    {
      label: 'replay: read units',
      value: replayRead.max,
      shown: `max ${num(replayRead.max)} RU (mean ${num(replayRead.mean)})`,
      budget: { max: 1, text: '≤ 1 RU' },
    },
    {
      label: 'replay: SMS/email sent (outbox growth)',
      value: replays.reduce((sum, m) => sum + m.sends, 0),
      shown: String(replays.reduce((sum, m) => sum + m.sends, 0)),
      budget: { max: 0, text: '0' },
    },
    {
      label: 'replay: answered 202 + Idempotent-Replayed',
      value: measuredReplays - goodReplays,
      shown: `${goodReplays}/${measuredReplays} (${replayStatuses})`,
      budget: { max: 0, text: 'all' },
    },
    ...inbound.rows,
    ...inboundEmail.rows,
    ...delivery.rows,
    {
      label: 'replay as dynalite answers (no item on a failed condition)',
      value: null,
      shown: `max ${num(stats(dynaliteReplays.map((m) => m.write)).max)} WU, max ${num(stats(dynaliteReplays.map((m) => m.read)).max)} RU, ${dynaliteReplays.filter((m) => m.status === 202 && m.replayed).length}/${measuredReplays} replayed`,
    },
    {
      label: 'first send, cold caches, new customer',
      value: null,
      shown: `${num(warmUp[0]?.write ?? Number.NaN)} WU, ${num(warmUp[0]?.read ?? Number.NaN)} RU`,
    },
    {
      label: 'first send to a new customer, hot caches, no prompt',
      value: null,
      shown: writeShown(newCustomers),
    },
    {
      label: 'send with a 6-segment SMS body',
      value: null,
      shown: `${num(longSms.write)} WU, ${num(longSms.read)} RU (status ${longSms.status})`,
    },
    {
      label: 'authorizer, per uncached call (API Gateway caches it)',
      value: null,
      shown: `${num(stats(authorizations.map((m) => m.read)).max)} RU, ${num(stats(authorizations.map((m) => m.write)).max)} WU`,
    },
    {
      label: "dynalite's own table figure per send (no GSI)",
      value: null,
      shown: `mean ${num(stats(sends.map((m) => m.dynaliteUnits)).mean)} units`,
    },
  ];
  const notes = [
    `per send (existing customer, no open prompt): ${breakdown(sends)}`,
    `per send (same customer, prompts left open): ${breakdown(series)}`,
    `the customer item grows by ${num(perPrompt, 0)} B per open prompt (${customerBytes[0]} B -> ${customerBytes[customerBytes.length - 1]} B over the series); every send's UpdateItem bills the whole item`,
    `per replay: ${breakdown(replays)}`,
    `requests: the card-transaction check of DESIGN section 5 (template, prompt, reference); caches warmed by ${warmUpSends} sends without a prompt (the first one cold); authorizer not included (a separate Lambda, cached by API Gateway)`,
    'replays: the failed claim is answered as DynamoDB does (with the existing item); dynalite leaves it out',
    unaccounted.length === 0
      ? 'scan cross-check: every item change was a recorded write'
      : `scan cross-check: ${unaccounted.length} item change(s) without a recorded write: ${unaccounted.slice(0, 3).join(', ')}`,
    ...inbound.notes,
    ...inboundEmail.notes,
    ...delivery.notes,
  ];
  const result: PartResult = {
    part: '1',
    title: 'DynamoDB capacity (dynalite through a recording proxy, billed by DynamoDB rules)',
    rows,
    notes,
    details: {
      sends,
      series,
      replays,
      dynaliteReplays,
      warmUp,
      newCustomers,
      longSms,
      authorizations,
    },
  };
  return result;
});
