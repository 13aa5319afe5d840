/**
 * A recording HTTP proxy in front of dynalite: the handlers' DynamoDB client talks to it (AWS_ENDPOINT_URL_DYNAMODB)
 * and it records every operation (X-Amz-Target) with its request and response. Around each write it reads the
 * item straight from dynalite (outside the recorded traffic) to get the before and after images DynamoDB bills by.
 *
 * Where dynalite answers differently from DynamoDB in a way that changes what the handler does next, the proxy can
 * answer like DynamoDB: a failed conditional write asked for `ReturnValuesOnConditionCheckFailure: ALL_OLD` carries
 * the existing item (dynalite leaves it out).
 */
import { createServer, Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32 } from 'node:zlib';
import { type DynamoDBClient, GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import {
  type IndexSpec,
  indexWrites,
  itemSize,
  readUnitsFor,
  sameItem,
  type WireItem,
  writeUnitsFor,
} from './capacity-units.ts';

export interface WriteImage {
  key: WireItem;
  before?: WireItem;
  after?: WireItem;
}

export interface RecordedOp {
  op: string;
  request: Record<string, unknown>;
  status: number;
  errorType?: string;
  response?: Record<string, unknown>;
  /** Items a write touched, with their images before and after. */
  writes: WriteImage[];
  /** Full items a read touched (re-read in full: DynamoDB bills the whole item whatever the projection). */
  readItems: WireItem[];
  /** Table units dynalite itself reported (it leaves out GSI writes). */
  dynaliteUnits?: number;
  /** The proxy added the existing item to a ConditionalCheckFailedException, as DynamoDB does. */
  emulatedFailureItem?: boolean;
}

export interface OpCost {
  op: string;
  /** What the item is (claim, customer, message, ...), from its key. */
  item: string;
  baseWrite: number;
  gsiWrite: number;
  read: number;
  /** Largest item size involved, bytes. */
  bytes: number;
  failedCondition: boolean;
  dynaliteUnits?: number;
}

const writeOps = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']);
const capacityOps = new Set([
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'GetItem',
  'Query',
  'Scan',
  'BatchGetItem',
  'BatchWriteItem',
]);

/** SDK attribute values carry binaries as bytes; the wire (and the size rules) use base64. */
const toWire = (value: unknown): unknown => {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(toWire);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, toWire(v)]));
  }
  return value;
};

const readBody = async (req: IncomingMessage): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
};

const parseJson = (buffer: Buffer): Record<string, unknown> | undefined => {
  try {
    return JSON.parse(buffer.toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
};

export interface RecordingProxy {
  url: string;
  /** Starts a new recording window. */
  begin(): void;
  /** The operations recorded since `begin`. */
  take(): RecordedOp[];
  /** Answer failed ALL_OLD conditional writes with the existing item, as DynamoDB does (default on). */
  setEmulateFailureItem(on: boolean): void;
  /** Every item of the table, read directly (not recorded): key → item. */
  snapshot(): Promise<Map<string, WireItem>>;
  close(): Promise<void>;
}

export const startRecordingProxy = async (options: {
  target: string;
  direct: DynamoDBClient;
  tableName: string;
  keyAttributes: readonly [string, string];
}): Promise<RecordingProxy> => {
  const target = new URL(options.target);
  const agent = new HttpAgent({ keepAlive: true });
  const [pkName, skName] = options.keyAttributes;
  let records: RecordedOp[] = [];
  let emulateFailureItem = true;

  const keyOf = (item: WireItem): WireItem => {
    const key: WireItem = {};
    const pk = item[pkName];
    const sk = item[skName];
    if (pk) key[pkName] = pk;
    if (sk) key[skName] = sk;
    return key;
  };

  const getItem = async (key: WireItem): Promise<WireItem | undefined> => {
    const { Item } = await options.direct.send(
      // biome-ignore lint/suspicious/noExplicitAny: wire-format attribute values go straight back to the SDK
      new GetItemCommand({ TableName: options.tableName, Key: key as any, ConsistentRead: true }),
    );
    return Item === undefined ? undefined : (toWire(Item) as WireItem);
  };

  /** The keys a write request names. */
  const writtenKeys = (op: string, body: Record<string, unknown>): WireItem[] => {
    if (op === 'PutItem') return [keyOf(body.Item as WireItem)];
    if (op === 'UpdateItem' || op === 'DeleteItem') return [keyOf(body.Key as WireItem)];
    if (op === 'BatchWriteItem') {
      const keys: WireItem[] = [];
      for (const requests of Object.values((body.RequestItems ?? {}) as Record<string, unknown[]>)) {
        for (const entry of requests as { PutRequest?: { Item: WireItem }; DeleteRequest?: { Key: WireItem } }[]) {
          if (entry.PutRequest) keys.push(keyOf(entry.PutRequest.Item));
          if (entry.DeleteRequest) keys.push(keyOf(entry.DeleteRequest.Key));
        }
      }
      return keys;
    }
    return [];
  };

  /** The full items a read returned (re-read by key), or looked for. */
  const readItems = async (op: string, body: Record<string, unknown>, response: Record<string, unknown>) => {
    const items: WireItem[] = [];
    if (op === 'GetItem') {
      const item = await getItem(body.Key as WireItem);
      if (item) items.push(item);
    } else if (op === 'Query' || op === 'Scan') {
      for (const found of (response.Items ?? []) as WireItem[]) {
        const item = await getItem(keyOf(found));
        if (item) items.push(item);
      }
    } else if (op === 'BatchGetItem') {
      for (const found of Object.values((response.Responses ?? {}) as Record<string, WireItem[]>).flat()) {
        const item = await getItem(keyOf(found));
        if (item) items.push(item);
      }
    }
    return items;
  };

  const forward = (req: IncomingMessage, body: Buffer) =>
    new Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }>((resolve, reject) => {
      const upstream = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          agent,
          headers: { ...req.headers, host: target.host, 'content-length': String(body.length) },
        },
        (res) => {
          readBody(res).then(
            (data) => resolve({ status: res.statusCode ?? 500, headers: res.headers, body: data }),
            reject,
          );
        },
      );
      upstream.on('error', reject);
      upstream.end(body);
    });

  const server = createServer((req, res) => {
    (async () => {
      const raw = await readBody(req);
      const targetHeader = String(req.headers['x-amz-target'] ?? '');
      const op = targetHeader.split('.').pop() ?? '';
      const body = parseJson(raw);
      if (!body || !capacityOps.has(op)) {
        const answer = await forward(req, raw);
        res.writeHead(answer.status, answer.headers).end(answer.body);
        records.push({ op, request: body ?? {}, status: answer.status, writes: [], readItems: [] });
        return;
      }
      const isWrite = writeOps.has(op);
      const keys = isWrite ? writtenKeys(op, body) : [];
      const before = await Promise.all(keys.map(getItem));
      const askedCapacity = body.ReturnConsumedCapacity !== undefined && body.ReturnConsumedCapacity !== 'NONE';
      const sent = askedCapacity ? raw : Buffer.from(JSON.stringify({ ...body, ReturnConsumedCapacity: 'INDEXES' }));
      const answer = await forward(req, sent);
      let response = parseJson(answer.body) ?? {};
      const errorType =
        answer.status >= 400
          ? String(response.__type ?? 'unknown')
              .split('#')
              .pop()
          : undefined;
      const after = await Promise.all(keys.map(getItem));
      const record: RecordedOp = {
        op,
        request: body,
        status: answer.status,
        ...(errorType !== undefined && { errorType }),
        response,
        writes: keys.map((key, i) => ({
          key,
          ...(before[i] !== undefined && { before: before[i] }),
          ...(after[i] !== undefined && { after: after[i] }),
        })),
        readItems: errorType === undefined && !isWrite ? await readItems(op, body, response) : [],
      };
      const consumed = response.ConsumedCapacity as { CapacityUnits?: number } | { CapacityUnits?: number }[];
      const units = Array.isArray(consumed)
        ? consumed.reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0)
        : consumed?.CapacityUnits;
      if (units !== undefined) record.dynaliteUnits = units;

      let changed = false;
      if (!askedCapacity && 'ConsumedCapacity' in response) {
        const { ConsumedCapacity: _dropped, ...rest } = response;
        response = rest;
        changed = true;
      }
      if (
        emulateFailureItem &&
        errorType === 'ConditionalCheckFailedException' &&
        body.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' &&
        response.Item === undefined &&
        before[0] !== undefined
      ) {
        response = { ...response, Item: before[0] };
        record.emulatedFailureItem = true;
        changed = true;
      }
      records.push(record);
      if (!changed) {
        res.writeHead(answer.status, answer.headers).end(answer.body);
        return;
      }
      const out = Buffer.from(JSON.stringify(response));
      const headers = { ...answer.headers, 'content-length': String(out.length), 'x-amz-crc32': String(crc32(out)) };
      res.writeHead(answer.status, headers).end(out);
    })().catch((error: unknown) => {
      console.error('[recording-proxy] request failed:', error);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ __type: 'com.amazonaws.dynamodb#InternalServerError', message: 'proxy failure' }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    begin: () => {
      records = [];
    },
    take: () => records,
    setEmulateFailureItem: (on) => {
      emulateFailureItem = on;
    },
    snapshot: async () => {
      const items = new Map<string, WireItem>();
      let ExclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const page = await options.direct.send(
          // biome-ignore lint/suspicious/noExplicitAny: wire-format keys
          new ScanCommand({ TableName: options.tableName, ExclusiveStartKey: ExclusiveStartKey as any }),
        );
        for (const found of page.Items ?? []) {
          const item = toWire(found) as WireItem;
          items.set(JSON.stringify(keyOf(item)), item);
        }
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey);
      return items;
    },
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};

/** What an item is, from its key (keys.ts): for the per-operation breakdown. */
export const itemKind = (key: WireItem): string => {
  const pk = key.pk?.S ?? '';
  const sk = key.sk?.S ?? '';
  if (sk === 'MESSAGE') return 'claim';
  if (sk === 'PROFILE') return 'customer';
  if (sk.startsWith('MSG#')) return 'message';
  if (sk === 'ADDRESS') return 'address';
  if (sk === 'TENANT') return 'tenant';
  if (sk === 'APIKEY') return 'api key';
  if (pk.endsWith('#TEMPLATES')) return 'template';
  return sk || pk || '?';
};

/** DynamoDB's bill for one recorded operation. */
export const costOf = (record: RecordedOp, indexes: readonly IndexSpec[]): OpCost => {
  const failedCondition = record.errorType === 'ConditionalCheckFailedException';
  const cost: OpCost = {
    op: record.op,
    item: '',
    baseWrite: 0,
    gsiWrite: 0,
    read: 0,
    bytes: 0,
    failedCondition,
    ...(record.dynaliteUnits !== undefined && { dynaliteUnits: record.dynaliteUnits }),
  };
  const firstKey = record.writes[0]?.key ?? (record.request.Key as WireItem | undefined);
  cost.item = firstKey ? itemKind(firstKey) : record.op === 'Query' ? String(record.request.IndexName ?? 'table') : '';
  if (record.errorType !== undefined && !failedCondition) return cost; // DynamoDB bills no rejected request
  if (writeOps.has(record.op)) {
    for (const write of record.writes) {
      if (failedCondition) {
        // Nothing changed, yet the write is billed by the existing item's size (at least 1 WU); no GSI write.
        cost.baseWrite += writeUnitsFor(itemSize(write.before));
        cost.bytes = Math.max(cost.bytes, itemSize(write.before));
        continue;
      }
      const bytes = Math.max(itemSize(write.before), itemSize(write.after));
      cost.bytes = Math.max(cost.bytes, bytes);
      cost.baseWrite += writeUnitsFor(bytes);
      cost.gsiWrite += indexWrites(write.before, write.after, indexes).reduce((sum, w) => sum + w.units, 0);
    }
    return cost;
  }
  const indexRead = typeof record.request.IndexName === 'string';
  const consistent = record.request.ConsistentRead === true && !indexRead;
  if (record.op === 'BatchGetItem') {
    const requested = Object.values((record.request.RequestItems ?? {}) as Record<string, { Keys?: unknown[] }>)
      .map((r) => r.Keys?.length ?? 0)
      .reduce((a, b) => a + b, 0);
    const missing = Math.max(0, requested - record.readItems.length);
    cost.read =
      record.readItems.reduce((sum, item) => sum + readUnitsFor(itemSize(item), consistent), 0) +
      missing * readUnitsFor(0, consistent);
  } else {
    const bytes = record.readItems.reduce((sum, item) => sum + itemSize(item), 0);
    cost.bytes = bytes;
    cost.read = readUnitsFor(bytes, consistent);
  }
  return cost;
};

/** Keys an item write in `records` touched (JSON of the key), for the scan cross-check. */
export const writtenKeySet = (records: RecordedOp[]): Set<string> =>
  new Set(records.flatMap((r) => r.writes.map((w) => JSON.stringify(w.key))));

/** Keys whose item differs between two snapshots. */
export const changedKeys = (before: Map<string, WireItem>, after: Map<string, WireItem>): string[] => {
  const changed: string[] = [];
  for (const key of new Set([...before.keys(), ...after.keys()])) {
    if (!sameItem(before.get(key), after.get(key))) changed.push(key);
  }
  return changed;
};
