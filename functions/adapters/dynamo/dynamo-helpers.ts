/**
 * What every store of the single table shares: the document client, conditional writes, update expressions, item
 * expiry and paging with opaque cursors.
 */
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  type DeleteCommand,
  DynamoDBDocumentClient,
  type PutCommand,
  QueryCommand,
  type QueryCommandInput,
  type UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Page } from '../../domain/ports.ts';

export const createDocumentClient = (client: DynamoDBClient = new DynamoDBClient({})): DynamoDBDocumentClient =>
  DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });

// Conditional writes

export const isConditionFailure = (error: unknown): boolean =>
  error instanceof ConditionalCheckFailedException ||
  (error as { name?: string } | null)?.name === 'ConditionalCheckFailedException';

/**
 * What a conditional write answered, or undefined when its condition failed (someone else got there first):
 * `ifConditionHolds(db.send(new UpdateCommand({ …, ReturnValues: 'ALL_NEW' })))`.
 */
export const ifConditionHolds = async <Output>(write: Promise<Output>): Promise<Output | undefined> => {
  try {
    return await write;
  } catch (error) {
    if (isConditionFailure(error)) return undefined;
    throw error;
  }
};

/** Sends a conditional write: false when its condition failed (someone else got there first), true when written. */
export const writeIfCondition = async (
  db: DynamoDBDocumentClient,
  command: PutCommand | UpdateCommand | DeleteCommand,
): Promise<boolean> => (await ifConditionHolds(db.send(command as PutCommand))) !== undefined;

/** `SET …` and `REMOVE …` clauses of an update, each left out when it has nothing. */
export const updateExpression = (sets: readonly string[], removes: readonly string[] = []): string =>
  [sets.length > 0 ? `SET ${sets.join(', ')}` : '', removes.length > 0 ? `REMOVE ${removes.join(', ')}` : '']
    .filter(Boolean)
    .join(' ');

// Items

/** Drops the key and index attributes an item carries, leaving the domain object. */
export const strip = <T>(item: Record<string, unknown> | undefined): T | undefined => {
  if (!item) return undefined;
  const { pk, sk, gsi1pk, gsi1sk, gsi2pk, gsi2sk, expiresAt, ...rest } = item;
  return rest as T;
};

/** A time as DynamoDB's TTL reads it (`expiresAt`). */
export const epochSeconds = (ms: number): number => Math.floor(ms / 1000);

/** Past its `expiresAt`: gone for reads, though DynamoDB's TTL may not have deleted it yet (and never does locally). */
export const isExpired = (item: Record<string, unknown> | undefined, nowMs: number): boolean =>
  typeof item?.expiresAt === 'number' && item.expiresAt * 1000 <= nowMs;

// Paging

export class InvalidCursorError extends Error {
  constructor() {
    super('invalid cursor');
    this.name = 'InvalidCursorError';
  }
}

export const encodeCursor = (key: Record<string, unknown>): string =>
  Buffer.from(JSON.stringify(key)).toString('base64url');

/**
 * The key a cursor encodes, or undefined when it is not one this query handed out: each attribute named must be a
 * string its check accepts, and nothing else may be there. A cursor is only good for the query it came from.
 */
export const decodeKeyCursor = (
  cursor: string,
  checks: Record<string, (value: string) => boolean>,
): Record<string, string> | undefined => {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (!key || typeof key !== 'object' || Object.keys(key).length !== Object.keys(checks).length) return undefined;
    const decoded: Record<string, string> = {};
    for (const [name, check] of Object.entries(checks)) {
      const value = key[name];
      if (typeof value !== 'string' || !check(value)) return undefined;
      decoded[name] = value;
    }
    return decoded;
  } catch {
    return undefined;
  }
};

/**
 * One page of a query, from the cursor an earlier page of the same query handed out: `cursorKey` checks each
 * attribute of the key such a cursor holds, and any other cursor is refused with `InvalidCursorError`. Items
 * `toItem` maps to undefined are left out of the page.
 */
export const queryPage = async <T>(
  db: DynamoDBDocumentClient,
  input: Omit<QueryCommandInput, 'Limit' | 'ExclusiveStartKey'>,
  page: { limit: number; cursor?: string },
  cursorKey: Record<string, (value: string) => boolean>,
  toItem: (item: Record<string, unknown>) => T | undefined,
): Promise<Page<T>> => {
  let ExclusiveStartKey: Record<string, string> | undefined;
  if (page.cursor !== undefined) {
    ExclusiveStartKey = decodeKeyCursor(page.cursor, cursorKey);
    if (!ExclusiveStartKey) throw new InvalidCursorError();
  }
  const result = await db.send(new QueryCommand({ ...input, Limit: page.limit, ExclusiveStartKey }));
  const items = (result.Items ?? []).flatMap((item) => toItem(item) ?? []);
  return result.LastEvaluatedKey ? { items, nextCursor: encodeCursor(result.LastEvaluatedKey) } : { items };
};

/** Every item a query matches, page after page (for small partitions: tenants, a tenant's templates). */
export const queryAll = async (
  db: DynamoDBDocumentClient,
  input: Omit<QueryCommandInput, 'ExclusiveStartKey'>,
): Promise<Record<string, unknown>[]> => {
  const items: Record<string, unknown>[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await db.send(new QueryCommand({ ...input, ExclusiveStartKey }));
    items.push(...(page.Items ?? []));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return items;
};
