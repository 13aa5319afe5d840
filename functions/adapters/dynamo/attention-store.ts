/**
 * Conversations needing attention (DESIGN sections 5 and 8): one item per customer in the tenant's attention
 * partition, each raised reason a top-level map (`free_text`, `callback`, `chat`: `{at, summary?, ref?}`), on the
 * status index while any reason is raised. An entry with nothing raised is deleted, so the list never grows with time.
 */
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type {
  AttentionEntry,
  AttentionMark,
  AttentionReason,
  AttentionStore,
  Page,
  PageRequest,
} from '../../domain/ports.ts';
import { createDocumentClient, ifConditionHolds, queryPage, writeIfCondition } from './dynamo-helpers.ts';
import { keys, statusIndex } from './keys.ts';

const reasons: readonly AttentionReason[] = ['free_text', 'callback', 'chat'];

const nothingRaised = reasons.map((_, i) => `attribute_not_exists(#r${i})`).join(' AND ');
const reasonNames = Object.fromEntries(reasons.map((reason, i) => [`#r${i}`, reason]));

const toEntry = (item: Record<string, unknown> | undefined): AttentionEntry | undefined => {
  if (!item) return undefined;
  const raised: AttentionEntry['reasons'] = {};
  for (const reason of reasons) {
    const mark = item[reason] as AttentionMark | undefined;
    if (mark) raised[reason] = mark;
  }
  // A clear that emptied the entry and died before deleting it: nothing to attend to.
  if (Object.keys(raised).length === 0) return undefined;
  return {
    customerId: item.customerId as string,
    since: item.since as string,
    lastAt: item.lastAt as string,
    reasons: raised,
  };
};

export class DynamoAttentionStore implements AttentionStore {
  constructor(
    private readonly tableName: string,
    private readonly db: DynamoDBDocumentClient = createDocumentClient(),
  ) {}

  async raise(tenantId: string, customerId: string, reason: AttentionReason, mark: AttentionMark): Promise<void> {
    const key = keys.attention(tenantId, customerId);
    const values = {
      ':c': customerId,
      ':mark': {
        at: mark.at,
        ...(mark.summary !== undefined && { summary: mark.summary }),
        ...(mark.ref && { ref: mark.ref }),
      },
      ':at': mark.at,
    };
    const names = { '#r': reason, '#at': 'at' };
    const markIsLatest = '(attribute_not_exists(#r) OR #r.#at <= :at)';
    // Usually one write: the mark, and the entry's place in the list moved up to it.
    const listed = keys.attentionOpen(tenantId, mark.at, customerId);
    const moved = await writeIfCondition(
      this.db,
      new UpdateCommand({
        TableName: this.tableName,
        Key: key,
        UpdateExpression:
          'SET #r = :mark, customerId = :c, since = if_not_exists(since, :at), lastAt = :at, gsi2pk = :gpk, gsi2sk = :gsk',
        ConditionExpression: `(attribute_not_exists(lastAt) OR lastAt <= :at) AND ${markIsLatest}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ...values, ':gpk': listed.gsi2pk, ':gsk': listed.gsi2sk },
      }),
    );
    if (moved) return;
    // A raise that arrived late: its mark still counts unless a later one of its reason is there, but the entry
    // keeps its place (the list is ordered by the latest raise).
    await writeIfCondition(
      this.db,
      new UpdateCommand({
        TableName: this.tableName,
        Key: key,
        UpdateExpression: 'SET #r = :mark, customerId = :c, since = if_not_exists(since, :at)',
        ConditionExpression: `attribute_exists(lastAt) AND ${markIsLatest}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }

  async clear(
    tenantId: string,
    customerId: string,
    reason: AttentionReason,
    options: { at: string; ref?: string },
  ): Promise<void> {
    const key = keys.attention(tenantId, customerId);
    const cleared = await ifConditionHolds(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'REMOVE #r',
          ConditionExpression: `#r.#at <= :at${options.ref !== undefined ? ' AND #r.#ref = :ref' : ''}`,
          ExpressionAttributeNames: { '#r': reason, '#at': 'at', ...(options.ref !== undefined && { '#ref': 'ref' }) },
          ExpressionAttributeValues: { ':at': options.at, ...(options.ref !== undefined && { ':ref': options.ref }) },
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    // Not raised, raised again since, or about another callback or chat: nothing to clear.
    if (!cleared) return;
    if (toEntry(cleared.Attributes)) return;
    // Nothing left raised: the entry goes, unless a raise got in since.
    await writeIfCondition(
      this.db,
      new DeleteCommand({
        TableName: this.tableName,
        Key: key,
        ConditionExpression: nothingRaised,
        ExpressionAttributeNames: reasonNames,
      }),
    );
  }

  async get(tenantId: string, customerId: string): Promise<AttentionEntry | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: keys.attention(tenantId, customerId), ConsistentRead: true }),
    );
    return toEntry(Item);
  }

  async list(tenantId: string, page: PageRequest): Promise<Page<AttentionEntry>> {
    const partition = keys.attentionOpenPartition(tenantId);
    return queryPage(
      this.db,
      {
        TableName: this.tableName,
        IndexName: statusIndex.indexName,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': statusIndex.partitionKey },
        ExpressionAttributeValues: { ':pk': partition },
        ScanIndexForward: false,
      },
      page,
      {
        pk: (value) => value === keys.attentionPartition(tenantId),
        sk: () => true,
        [statusIndex.partitionKey]: (value) => value === partition,
        [statusIndex.sortKey]: () => true,
      },
      toEntry,
    );
  }
}
