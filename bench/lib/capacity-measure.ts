/**
 * One measured request of part 1 (bench/capacity.ts and the inbound lines beside it): the DynamoDB operations the
 * recording proxy saw, billed by DynamoDB's rules, the SMS/email and events the edges received, and a table scan
 * before and after that shows every changed item was a recorded write.
 */
import { tableSchema } from '../../functions/adapters/dynamo/table-schema.ts';
import type { AwsEdges } from '../../local/edges/aws-edges.ts';
import { changedKeys, costOf, type OpCost, type RecordingProxy, writtenKeySet } from './recording-proxy.ts';
import { num, stats } from './report.ts';

const indexes = tableSchema.globalSecondaryIndexes;

export interface Measurement {
  status: number;
  replayed: boolean;
  costs: OpCost[];
  base: number;
  gsi: number;
  write: number;
  read: number;
  /** SMS and email the edges received during the request. */
  sends: number;
  events: number;
  /** Items that changed in the table. */
  changed: number;
  /** Items that changed in the table without a recorded write (should be none). */
  unaccounted: string[];
  dynaliteUnits: number;
}

export interface CapacityContext {
  proxy: RecordingProxy;
  edges: AwsEdges;
  outboxSize(): number;
  eventCount(): number;
  /** Sends through the send handler, measured. */
  send(idempotencyKey: string, body: unknown): Promise<Measurement>;
}

export const measure = async (
  context: CapacityContext,
  run: () => Promise<{ status: number; replayed: boolean }>,
): Promise<Measurement> => {
  const before = await context.proxy.snapshot();
  const outboxBefore = context.outboxSize();
  const eventsBefore = context.eventCount();
  context.proxy.begin();
  const outcome = await run();
  const records = [...context.proxy.take()];
  const after = await context.proxy.snapshot();
  const written = writtenKeySet(records);
  const changed = changedKeys(before, after);
  const costs = records.map((record) => costOf(record, indexes));
  const base = costs.reduce((sum, c) => sum + c.baseWrite, 0);
  const gsi = costs.reduce((sum, c) => sum + c.gsiWrite, 0);
  return {
    ...outcome,
    costs,
    base,
    gsi,
    write: base + gsi,
    read: costs.reduce((sum, c) => sum + c.read, 0),
    sends: context.outboxSize() - outboxBefore,
    events: context.eventCount() - eventsBefore,
    changed: changed.length,
    unaccounted: changed.filter((key) => !written.has(key)),
    dynaliteUnits: costs.reduce((sum, c) => sum + (c.dynaliteUnits ?? 0), 0),
  };
};

/**
 * "PutItem claim: 1 WU (301 B)" for each distinct operation, largest item seen; "2x GetItem claim: ..." when one
 * request makes it more than once (two different claims read, say), with the units of one.
 */
export const breakdown = (measurements: Measurement[]): string => {
  const keyOf = (cost: OpCost) => `${cost.op} ${cost.item}${cost.failedCondition ? ' (condition failed)' : ''}`;
  const byOp = new Map<string, OpCost>();
  const timesPerRequest = new Map<string, number>();
  for (const measurement of measurements) {
    const times = new Map<string, number>();
    for (const cost of measurement.costs) {
      const key = keyOf(cost);
      times.set(key, (times.get(key) ?? 0) + 1);
      const seen = byOp.get(key);
      if (
        !seen ||
        cost.baseWrite + cost.gsiWrite + cost.read > seen.baseWrite + seen.gsiWrite + seen.read ||
        cost.bytes > seen.bytes
      ) {
        byOp.set(key, cost);
      }
    }
    for (const [key, count] of times) timesPerRequest.set(key, Math.max(timesPerRequest.get(key) ?? 0, count));
  }
  return [...byOp.entries()]
    .map(([key, c]) => {
      const units = [
        c.baseWrite > 0 ? `${num(c.baseWrite)} WU` : '',
        c.gsiWrite > 0 ? `+${num(c.gsiWrite)} GSI WU` : '',
        c.read > 0 ? `${num(c.read)} RU` : '',
      ]
        .filter(Boolean)
        .join(' ');
      const times = timesPerRequest.get(key) ?? 1;
      return `${times > 1 ? `${times}x ` : ''}${key}: ${units || '0'} (${c.bytes} B)`;
    })
    .join('; ');
};

export const writeShown = (ms: Measurement[]): string => {
  const w = stats(ms.map((m) => m.write));
  const base = stats(ms.map((m) => m.base));
  const gsi = stats(ms.map((m) => m.gsi));
  return `max ${num(w.max)} WU (mean ${num(w.mean)}: base ${num(base.mean)} + GSI ${num(gsi.mean)})`;
};

export const sumOf = <M extends Measurement>(ms: M[], pick: (m: M) => number): number =>
  ms.reduce((total, m) => total + pick(m), 0);
