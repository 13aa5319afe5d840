/**
 * Part 4: local end-to-end throughput. The local gateway as `npm start` runs it (its own child process, dynalite
 * and edges, temp data dir, log level WARN) vs a bare Node HTTP server doing the same SDK calls (its own child
 * process, its own dynalite and edges on disk): the same process layout, each against its own fresh stack. This
 * process is the load: N concurrent keep-alive HTTP clients, each send with its own Idempotency-Key, spread over
 * a pool of existing customers (a pool, not a handful: each send leaves a prompt open on its customer's item, and a
 * handful of customers would grow items of tens of KB); rounds alternate between the two servers and each side's
 * median round is reported.
 */
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { phoneFor, sendBody } from './lib/api-events.ts';
import { childMain, makeTempDir, removeDir, startChild } from './lib/child.ts';
import { median, num, type PartResult } from './lib/report.ts';

const concurrency = 16;
const sendsPerRound = 400;
const rounds = 3;
const customers = 200;
/** One send per customer: creates them, so the measured sends go to existing customers. */
const warmUpSends = customers;

interface Target {
  name: string;
  baseUrl: string;
  apiKey?: string;
}

interface Round {
  sends: number;
  ms: number;
  rate: number;
  failures: number;
  firstFailure?: string;
}

const post = (agent: Agent, target: Target, body: string, key: string) =>
  new Promise<{ status: number; text: string }>((resolve, reject) => {
    const url = new URL('/v1/messages', target.baseUrl);
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          'idempotency-key': key,
          ...(target.apiKey !== undefined && { authorization: `Bearer ${target.apiKey}` }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });

let keySequence = 0;

const drive = async (target: Target, count: number): Promise<Round> => {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const run = `${process.pid}-${Date.now()}`;
  let next = 0;
  let failures = 0;
  let firstFailure: string | undefined;
  const started = performance.now();
  const client = async () => {
    while (next < count) {
      const n = next++;
      const k = keySequence++;
      const body = JSON.stringify(sendBody(`load-cust-${n % customers}`, `txn-${k}`, phoneFor(n % customers)));
      try {
        const { status, text } = await post(agent, target, body, `bench-${run}-${k}`);
        if (status !== 202) {
          failures++;
          firstFailure ??= `${status} ${text.slice(0, 200)}`;
        }
      } catch (error) {
        failures++;
        firstFailure ??= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  const ms = performance.now() - started;
  agent.destroy();
  return { sends: count, ms, rate: (count / ms) * 1000, failures, ...(firstFailure && { firstFailure }) };
};

childMain(async (defer) => {
  const gatewayDir = makeTempDir('parley-gateway');
  defer(() => removeDir(gatewayDir));
  const bareDir = makeTempDir('parley-bare');
  defer(() => removeDir(bareDir));

  // The send path only: the delivery reports and webhook deliveries each send causes locally run beside it on AWS,
  // in functions of their own (see gateway-server.ts).
  const gatewayChild = startChild<{ baseUrl: string; apiKey: string }>('gateway-server.ts', {
    args: [gatewayDir],
    timeoutMs: 60_000,
    env: { ...process.env, PARLEY_BENCH_SEND_PATH_ONLY: '1' },
  });
  defer(() => gatewayChild.stop());
  const bareChild = startChild<{ baseUrl: string }>('bare-server.ts', { args: [bareDir], timeoutMs: 60_000 });
  defer(() => bareChild.stop());
  const [gatewayInfo, bareInfo] = await Promise.all([gatewayChild.first, bareChild.first]);
  for (const info of [gatewayInfo, bareInfo]) {
    if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(info.baseUrl)) throw new Error(`not a loopback URL: ${info.baseUrl}`);
  }
  const gateway: Target = { name: 'gateway', baseUrl: gatewayInfo.baseUrl, apiKey: gatewayInfo.apiKey };
  const bare: Target = { name: 'bare', baseUrl: bareInfo.baseUrl };

  for (const target of [gateway, bare]) {
    const warm = await drive(target, warmUpSends);
    if (warm.failures > 0) throw new Error(`${target.name} warm-up failed: ${warm.firstFailure}`);
  }
  const results: Record<'gateway' | 'bare', Round[]> = { gateway: [], bare: [] };
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? [bare, gateway] : [gateway, bare];
    for (const target of order) results[target.name as 'gateway' | 'bare'].push(await drive(target, sendsPerRound));
  }
  const gatewayRate = median(results.gateway.map((r) => r.rate));
  const bareRate = median(results.bare.map((r) => r.rate));
  const failures = [...results.gateway, ...results.bare].reduce((sum, r) => sum + r.failures, 0);
  const firstFailure = [...results.gateway, ...results.bare].find((r) => r.firstFailure)?.firstFailure;
  const ratio = gatewayRate / bareRate;
  const result: PartResult = {
    part: '4',
    title: 'Local end-to-end throughput (HTTP, both servers in their own processes)',
    rows: [
      {
        label: 'local gateway (npm start) sends/s',
        value: gatewayRate,
        shown: `${num(gatewayRate, 0)}/s (rounds: ${results.gateway.map((r) => num(r.rate, 0)).join(', ')})`,
      },
      {
        label: 'bare server, same SDK calls, sends/s',
        value: bareRate,
        shown: `${num(bareRate, 0)}/s (rounds: ${results.bare.map((r) => num(r.rate, 0)).join(', ')})`,
      },
      {
        label: 'gateway / bare',
        value: ratio * 100,
        shown: `${num(ratio * 100, 0)}%`,
        budget: { min: 50, text: '≥ 50%' },
      },
      {
        label: 'failed requests',
        value: failures,
        shown: failures === 0 ? '0' : `${failures} (first: ${firstFailure})`,
        budget: { max: 0, text: '0' },
      },
    ],
    notes: [
      `${concurrency} concurrent keep-alive clients, ${sendsPerRound} sends a round (the card-transaction check with a prompt, unique Idempotency-Key, ${customers} customers made by the ${warmUpSends} warm-up sends), ${rounds} rounds each alternating; median round`,
      'each server has its own fresh dynalite (on disk, temp dir) and edges in its own process; the gateway path includes the local authorizer (one GetItem per request, uncached locally)',
    ],
    details: results,
  };
  return result;
});
