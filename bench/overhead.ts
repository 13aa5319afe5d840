/**
 * Part 2: the send handler's time beyond its own I/O. In one process, against the same dynalite and edges: p50
 * of the handler invoked directly (event in, result out, no HTTP in front) vs p50 of the raw SDK calls it makes,
 * done by hand in the same order with fresh ids (bench/lib/raw-send.ts), interleaved.
 */
import { performance } from 'node:perf_hooks';
import { demoTenant } from '../local/demo.ts';
import { lambdaContext } from '../local/lambda-context.ts';
import { type HttpLambda, phoneFor, sendBody, sendEvent, withoutPrompt } from './lib/api-events.ts';
import { childMain } from './lib/child.ts';
import { eventBusName, handlerEnv, startBenchStack, tableName, tenantId } from './lib/local-stack.ts';
import { benchSmsText, RawSender } from './lib/raw-send.ts';
import { num, type PartResult, stats } from './lib/report.ts';

// The first few hundred sends still warm the JIT up (the difference fell from 1.4 to 0.6 ms over a run after 40).
const warmUp = 200;
// Enough that the p50s settle: at 300 the difference moved by about ±0.3 ms between runs on this machine.
const iterations = 600;

childMain(async (defer) => {
  const stack = await startBenchStack();
  defer(() => stack.close());
  Object.assign(process.env, handlerEnv({ dynamodb: stack.dynamoEndpoint, edges: stack.edges.url }));
  const { handler } = (await import('../functions/handlers/send-message.ts')) as unknown as { handler: HttpLambda };
  const raw = new RawSender(tableName, eventBusName);
  defer(() => raw.destroy());

  // Every timed send goes to an existing customer with no open prompt (as part 1's budget line): each made
  // beforehand, untimed, by a send without a prompt. Otherwise open prompts would pile up on one customer item.
  let sequence = 0;
  const failures: string[] = [];
  const invoke = async (body: unknown): Promise<number> => {
    const event = sendEvent(body, { tenantId, idempotencyKey: `bench-overhead-${sequence++}` });
    const context = lambdaContext('send-message');
    const started = performance.now();
    const result = await handler(event, context);
    const elapsed = performance.now() - started;
    if (result.statusCode !== 202) failures.push(`${result.statusCode} ${result.body}`);
    return elapsed;
  };
  const total = warmUp + iterations;
  const customer = (side: 'h' | 'r', i: number) => ({
    id: `bench-ov-${side}${i}`,
    phone: phoneFor(side === 'h' ? i : total + i),
  });
  const creations = Array.from({ length: 2 * total }, (_, n) => customer(n % 2 === 0 ? 'h' : 'r', Math.floor(n / 2)));
  for (let i = 0; i < creations.length; i += 8) {
    await Promise.all(
      creations.slice(i, i + 8).map((c) => invoke(withoutPrompt(sendBody(c.id, `txn-create-${c.id}`, c.phone)))),
    );
  }
  if (failures.length > 0) throw new Error(`creating customers failed ${failures.length} times: ${failures[0]}`);

  const viaHandler = (i: number) => {
    const c = customer('h', i);
    return invoke(sendBody(c.id, `txn-h${i}`, c.phone));
  };
  const viaRaw = async (i: number): Promise<number> => {
    const c = customer('r', i);
    const input = {
      tenantId,
      customerId: c.id,
      phone: c.phone,
      email: `${c.id}@example.com`,
      from: demoTenant.smsNumber,
      body: benchSmsText,
      reference: `txn-r${i}`,
    };
    const started = performance.now();
    await raw.send(input);
    return performance.now() - started;
  };

  for (let i = 0; i < warmUp; i++) {
    await viaHandler(i);
    await viaRaw(i);
  }
  const handlerTimes: number[] = [];
  const rawTimes: number[] = [];
  for (let i = warmUp; i < total; i++) {
    // Alternate which goes first, so neither always runs right after the other's garbage.
    if (i % 2 === 0) {
      handlerTimes.push(await viaHandler(i));
      rawTimes.push(await viaRaw(i));
    } else {
      rawTimes.push(await viaRaw(i));
      handlerTimes.push(await viaHandler(i));
    }
  }
  if (failures.length > 0) throw new Error(`send handler failed ${failures.length} times: ${failures[0]}`);
  const h = stats(handlerTimes);
  const r = stats(rawTimes);
  const difference = h.p50 - r.p50;
  // The same figure over each third of the run, to show how much of it is noise.
  const third = Math.floor(handlerTimes.length / 3);
  const thirds = [0, 1, 2].map(
    (k) =>
      stats(handlerTimes.slice(k * third, (k + 1) * third)).p50 - stats(rawTimes.slice(k * third, (k + 1) * third)).p50,
  );
  const result: PartResult = {
    part: '2',
    title: 'Send handler overhead (handler invoked directly vs the raw SDK calls it makes)',
    rows: [
      { label: 'send handler p50', value: h.p50, shown: `${num(h.p50)} ms (p90 ${num(h.p90)})` },
      { label: 'raw SDK calls p50', value: r.p50, shown: `${num(r.p50)} ms (p90 ${num(r.p90)})` },
      {
        label: 'handler time beyond its I/O (p50 difference)',
        value: difference,
        shown: `${num(difference)} ms`,
        budget: { max: 1, text: '≤ 1 ms' },
      },
    ],
    notes: [
      `${iterations} interleaved iterations each after ${warmUp} warm-up pairs; same process, same dynalite (in memory) and edges; fresh ids every call`,
      `the same difference over each third of the run: ${thirds.map((d) => `${num(d)} ms`).join(', ')} (its noise)`,
      'each send (handler or raw) goes to its own existing customer with no open prompt, made beforehand (untimed)',
      'raw: PutItem claim, UpdateItem customer (opening the prompt), SNS Publish, PutItem message, PutEvents, with the handler’s item shapes',
    ],
    details: { handler: h, raw: r },
  };
  return result;
});
