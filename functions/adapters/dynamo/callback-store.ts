/**
 * Callbacks (DESIGN sections 5, 8 and 11). A callback record lives in the tenant's callback partition and on the
 * status index (`GET /v1/callbacks?status=`). "One open callback per customer" is a guard item on the customer
 * holding a copy of the callback it guards, written before the record: a crash between the two leaves a guard the
 * next request completes from its copy, never one that blocks the customer for good. Closing updates the record,
 * then frees the guard; a guard left pointing at a closed record is taken over. Closed records expire.
 */
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { RetriesExhaustedError } from '../../domain/errors.ts';
import type { Callback } from '../../domain/model.ts';
import type { CallbackClosing, CallbackStore, Clock, Page, PageRequest } from '../../domain/ports.ts';
import { systemClock } from '../../domain/ports.ts';
import {
  createDocumentClient,
  epochSeconds,
  ifConditionHolds,
  isExpired,
  queryPage,
  strip,
  writeIfCondition,
} from './dynamo-helpers.ts';
import { keys, statusIndex } from './keys.ts';

/** How long a closed callback stays readable (and listed under its status) before it expires. */
export const closedCallbackKeepMs = 30 * 24 * 3600 * 1000;

interface Guard {
  callbackId: string;
  callback: Callback;
}

export class DynamoCallbackStore implements CallbackStore {
  constructor(
    private readonly tableName: string,
    private readonly db: DynamoDBDocumentClient = createDocumentClient(),
    private readonly clock: Clock = systemClock,
  ) {}

  async openCallback(callback: Callback): Promise<{ opened: boolean; callback: Callback }> {
    const { tenantId, customerId } = callback;
    for (let attempt = 0; attempt < 5; attempt++) {
      if (await this.putGuard(callback, undefined)) return this.completeOpening(callback);
      const guard = await this.getGuard(tenantId, customerId);
      if (!guard) continue; // closed in between: try again
      const guarded = await this.getCallback(tenantId, guard.callbackId);
      const ours = guard.callbackId === callback.callbackId;
      if (guarded?.status === 'requested') return { opened: ours, callback: guarded };
      if (!guarded && this.isLive(guard.callback)) {
        // The request that wrote this guard died before its record: complete it, and its follow-ups are due.
        return this.completeOpening(guard.callback);
      }
      // The guarded callback was closed (and the crash came before the guard was freed), or expired long ago.
      if (await this.putGuard(callback, guard.callbackId)) return this.completeOpening(callback);
    }
    throw new RetriesExhaustedError('opening a callback');
  }

  async getCallback(tenantId: string, callbackId: string): Promise<Callback | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: keys.callback(tenantId, callbackId), ConsistentRead: true }),
    );
    return isExpired(Item, this.clock.now()) ? undefined : strip<Callback>(Item);
  }

  async listCallbacks(
    tenantId: string,
    options: PageRequest & { status?: Callback['status'] },
  ): Promise<Page<Callback>> {
    const partition = keys.callbackPartition(tenantId);
    const byStatus = options.status && keys.callbackStatusPartition(tenantId, options.status);
    return queryPage(
      this.db,
      {
        TableName: this.tableName,
        ...(byStatus && { IndexName: statusIndex.indexName }),
        KeyConditionExpression: '#pk = :pk',
        // Expired but not yet deleted by DynamoDB's TTL (and never, locally): gone.
        FilterExpression: 'attribute_not_exists(expiresAt) OR expiresAt > :now',
        ExpressionAttributeNames: { '#pk': byStatus ? statusIndex.partitionKey : 'pk' },
        ExpressionAttributeValues: { ':pk': byStatus ?? partition, ':now': epochSeconds(this.clock.now()) },
        ScanIndexForward: false,
      },
      options,
      {
        pk: (value) => value === partition,
        sk: () => true,
        ...(byStatus && {
          [statusIndex.partitionKey]: (value: string) => value === byStatus,
          [statusIndex.sortKey]: () => true,
        }),
      },
      (item) => strip<Callback>(item),
    );
  }

  async closeCallback(tenantId: string, callbackId: string, change: CallbackClosing): Promise<Callback | undefined> {
    // Closed callbacks are listed most recently closed first.
    const listed = keys.callbackByStatus(tenantId, change.status, change.at, callbackId);
    const closed = await ifConditionHolds(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.callback(tenantId, callbackId),
          UpdateExpression: `SET #status = :status, closedAt = :at, gsi2pk = :gpk, gsi2sk = :gsk, expiresAt = :expiresAt${change.note !== undefined ? ', note = :note' : ''}`,
          // Not an expired one either: DynamoDB's TTL may not have deleted it yet.
          ConditionExpression: '#status = :requested AND (attribute_not_exists(expiresAt) OR expiresAt > :now)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':status': change.status,
            ':at': change.at,
            ':requested': 'requested',
            ':now': epochSeconds(this.clock.now()),
            ':gpk': listed.gsi2pk,
            ':gsk': listed.gsi2sk,
            ':expiresAt': epochSeconds(Date.parse(change.at) + closedCallbackKeepMs),
            ...(change.note !== undefined && { ':note': change.note }),
          },
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    if (!closed) return undefined;
    const callback = strip<Callback>(closed.Attributes) as Callback;
    await this.freeGuard(callback);
    return callback;
  }

  /** Writes the customer's guard for `callback`: new, or taking over from the guard of `replacing`. */
  private putGuard(callback: Callback, replacing: string | undefined): Promise<boolean> {
    return writeIfCondition(
      this.db,
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...keys.openCallback(callback.tenantId, callback.customerId),
          callbackId: callback.callbackId,
          callback,
        },
        // Our own guard again is a retry of this very request.
        ConditionExpression:
          replacing === undefined ? 'attribute_not_exists(pk) OR callbackId = :ours' : 'callbackId = :replacing',
        ExpressionAttributeValues:
          replacing === undefined ? { ':ours': callback.callbackId } : { ':replacing': replacing },
      }),
    );
  }

  /**
   * Writes a guarded callback's record, unless it is there already (its own request, or a retry, wrote it), and
   * returns the record stored.
   */
  private async putRecord(callback: Callback): Promise<Callback> {
    const written = await writeIfCondition(
      this.db,
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...keys.callback(callback.tenantId, callback.callbackId),
          ...keys.callbackByStatus(callback.tenantId, callback.status, callback.requestedAt, callback.callbackId),
          ...callback,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return written ? callback : ((await this.getCallback(callback.tenantId, callback.callbackId)) ?? callback);
  }

  /** Writes the record of the callback whose guard was just written; a retry that finds it closed frees the guard. */
  private async completeOpening(callback: Callback): Promise<{ opened: boolean; callback: Callback }> {
    const stored = await this.putRecord(callback);
    if (stored.status === 'requested') return { opened: true, callback: stored };
    // A retry of a request whose callback has been closed since: nothing is open.
    await this.freeGuard(callback);
    return { opened: false, callback: stored };
  }

  /** Deletes the customer's guard if it still guards `callback` (another may have taken over since). */
  private async freeGuard(callback: Callback): Promise<void> {
    await writeIfCondition(
      this.db,
      new DeleteCommand({
        TableName: this.tableName,
        Key: keys.openCallback(callback.tenantId, callback.customerId),
        ConditionExpression: 'callbackId = :id',
        ExpressionAttributeValues: { ':id': callback.callbackId },
      }),
    );
  }

  private async getGuard(tenantId: string, customerId: string): Promise<Guard | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: keys.openCallback(tenantId, customerId),
        ConsistentRead: true,
      }),
    );
    return Item ? { callbackId: Item.callbackId as string, callback: Item.callback as Callback } : undefined;
  }

  /**
   * A guard whose record is missing is completed while it is young (its request died between the writes); one
   * older than a closed callback is kept can only have lost its record to expiry after a close that died before
   * freeing it.
   */
  private isLive(callback: Callback): boolean {
    return Date.parse(callback.requestedAt) > this.clock.now() - closedCallbackKeepMs;
  }
}
