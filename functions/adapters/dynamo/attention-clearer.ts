/**
 * The attention entry's layout (see ./attention-store.ts) and the one write that clears a reason from it.
 */
import { DeleteCommand, type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AttentionEntry, AttentionMark, AttentionReason } from '../../domain/ports.ts';
import { createDocumentClient, ifConditionHolds, writeIfCondition } from './dynamo-helpers.ts';
import { keys } from './keys.ts';

/** Every reason an entry can be raised for. */
export const reasons: readonly AttentionReason[] = ['free_text', 'callback', 'chat'];

const nothingRaised = reasons.map((_, i) => `attribute_not_exists(#r${i})`).join(' AND ');
const reasonNames = Object.fromEntries(reasons.map((reason, i) => [`#r${i}`, reason]));

/** The entry an item holds, or undefined when nothing is raised on it. */
export const toEntry = (item: Record<string, unknown> | undefined): AttentionEntry | undefined => {
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

/**
 * Clearing a reason from a conversation's attention entry, apart from the rest of the attention store so a function
 * that only clears (a send ending a stale chat) bundles only this; `DynamoAttentionStore` extends it.
 */
export class DynamoAttentionClearer {
  constructor(
    protected readonly tableName: string,
    protected readonly db: DynamoDBDocumentClient = createDocumentClient(),
  ) {}

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
}
