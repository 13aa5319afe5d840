/**
 * Conversations needing attention (DESIGN sections 5 and 8): one item per customer in the tenant's attention
 * partition, each raised reason a top-level map (`free_text`, `callback`, `chat`: `{at, summary?, ref?}`), on the
 * status index while any reason is raised. An entry with nothing raised is deleted, so the list never grows with time.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type {
  AttentionEntry,
  AttentionMark,
  AttentionReason,
  AttentionStore,
  Page,
  PageRequest,
} from '../../domain/ports.ts';
import { DynamoAttentionClearer, toEntry } from './attention-clearer.ts';
import { queryPage, writeIfCondition } from './dynamo-helpers.ts';
import { keys, statusIndex } from './keys.ts';

export class DynamoAttentionStore extends DynamoAttentionClearer implements AttentionStore {
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
