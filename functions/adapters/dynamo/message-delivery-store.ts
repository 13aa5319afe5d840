/**
 * The message reads and writes only delivery status needs (DESIGN section 13), apart from ./message-store.ts so the
 * send path does not bundle them: an SMS found by its number and Publish id, and the fallback recorded on a message.
 */
import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { encodeTime } from 'ulid';
import type { Channel, Message } from '../../domain/model.ts';
import type { DeliveryMessageStore } from '../../domain/ports.ts';
import { strip, writeIfCondition } from './dynamo-helpers.ts';
import { keys } from './keys.ts';
import { DynamoMessageStore } from './message-store.ts';

/**
 * How far past the report's publish time a timeline position may be: the claim (and its time-ordered position) is
 * made before the publish, so the message sits at or before the publish time; this covers clock skew between hosts.
 */
const positionSkewMs = 60_000;
/** Timeline items read per page while looking for an SMS by its provider id, and pages at most. */
const providerSearchPage = 3;
const providerSearchPages = 6;
/** Customers of one number looked at (a joint account, or the same number at several tenants). */
const maxCustomersPerNumber = 10;

export class DynamoDeliveryMessageStore extends DynamoMessageStore implements DeliveryMessageStore {
  async setFallback(message: Message, fallback: { messageId: string; channel: Channel }): Promise<boolean> {
    return writeIfCondition(
      this.db,
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.timelineItem(message.tenantId, message.customerId, message.timelineId),
        UpdateExpression: 'SET fallback = :fallback',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(fallback)',
        ExpressionAttributeValues: { ':fallback': fallback },
      }),
    );
  }

  /**
   * The outbound SMS that SNS published as `providerMessageId` to `destination`: the number's customers (gsi1, every
   * tenant), then each one's timeline newest first from the publish time, a few items a page. A report comes
   * seconds after its publish, so the message is among the first items read: 0.5 RU for the index, 0.5 for a page.
   */
  async findSmsByProviderId(
    destination: string,
    providerMessageId: string,
    publishedAt: number,
  ): Promise<Message | undefined> {
    const { Items: addresses = [] } = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.smsDestinationPartition(destination) },
        Limit: maxCustomersPerNumber,
      }),
    );
    const upTo = `${keys.timelinePrefix}${encodeTime(Math.max(0, publishedAt + positionSkewMs), 10)}~`;
    for (const address of addresses) {
      const tenantId = address.tenantId as string;
      const ids = address.customerIds instanceof Set ? [...(address.customerIds as Set<string>)] : [];
      for (const customerId of ids.slice(0, maxCustomersPerNumber)) {
        let ExclusiveStartKey: Record<string, unknown> | undefined;
        for (let page = 0; page < providerSearchPages; page++) {
          const result = await this.db.send(
            new QueryCommand({
              TableName: this.tableName,
              KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :upTo',
              // Matched here rather than by a filter expression: DynamoDB bills every item a query reads, filtered
              // or not, and the page is a few items.
              ExpressionAttributeValues: {
                ':pk': keys.customer(tenantId, customerId).pk,
                ':from': keys.timelinePrefix,
                ':upTo': upTo,
              },
              ScanIndexForward: false,
              Limit: providerSearchPage,
              ExclusiveStartKey,
            }),
          );
          const found = result.Items?.find((item) => item.providerMessageId === providerMessageId);
          if (found) return strip<Message>(found);
          ExclusiveStartKey = result.LastEvaluatedKey;
          if (!ExclusiveStartKey) break;
        }
      }
    }
    return undefined;
  }
}
