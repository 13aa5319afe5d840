/**
 * Messages: the idempotency claim of each message id (which also points at the message's place in the timeline)
 * and the message itself on its customer's timeline, newest first.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { encodeTime } from 'ulid';
import type { Channel, Message, MessageClaim, MessageStatus, StatusChange } from '../../domain/model.ts';
import type { ClaimResult, MessageStore, TimelinePage } from '../../domain/ports.ts';
import { createDocumentClient, isConditionFailure, queryPage, strip, writeIfCondition } from './dynamo-helpers.ts';
import { keys } from './keys.ts';

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

export class DynamoMessageStore implements MessageStore {
  constructor(
    private readonly tableName: string,
    private readonly db: DynamoDBDocumentClient = createDocumentClient(),
  ) {}

  async claimMessage(claim: MessageClaim): Promise<ClaimResult> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.messageClaim(claim.tenantId, claim.messageId), ...claim },
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { claimed: true };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // DynamoDB hands back the existing item on a failed condition, in its wire format (the document client does
      // not convert error payloads); emulators that leave it out cost one read.
      const raw = (error as { Item?: Record<string, AttributeValue> }).Item;
      const existing = raw
        ? strip<MessageClaim>(unmarshall(raw))
        : await this.getClaim(claim.tenantId, claim.messageId);
      if (!existing) return this.claimMessage(claim);
      return { claimed: false, existing };
    }
  }

  async renewClaim(claim: MessageClaim, previousLeaseUntil: number): Promise<boolean> {
    return writeIfCondition(
      this.db,
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.messageClaim(claim.tenantId, claim.messageId),
        UpdateExpression: 'SET leaseUntil = :lease',
        ConditionExpression: 'leaseUntil = :previous',
        ExpressionAttributeValues: { ':lease': claim.leaseUntil, ':previous': previousLeaseUntil },
      }),
    );
  }

  async releaseClaim(claim: MessageClaim): Promise<void> {
    await writeIfCondition(
      this.db,
      new DeleteCommand({
        TableName: this.tableName,
        Key: keys.messageClaim(claim.tenantId, claim.messageId),
        ConditionExpression: 'leaseUntil = :lease',
        ExpressionAttributeValues: { ':lease': claim.leaseUntil },
      }),
    );
  }

  async getClaim(tenantId: string, messageId: string): Promise<MessageClaim | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: keys.messageClaim(tenantId, messageId) }),
    );
    return strip<MessageClaim>(Item);
  }

  async putMessage(message: Message): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...keys.timelineItem(message.tenantId, message.customerId, message.timelineId), ...message },
      }),
    );
  }

  async advanceStatus(message: Message, from: MessageStatus, change: StatusChange): Promise<boolean> {
    return writeIfCondition(
      this.db,
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.timelineItem(message.tenantId, message.customerId, message.timelineId),
        UpdateExpression: 'SET #status = :to, statusHistory = list_append(statusHistory, :change)',
        ConditionExpression: '#status = :from',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':to': change.status, ':from': from, ':change': [change] },
      }),
    );
  }

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

  async getMessageByClaim(claim: MessageClaim): Promise<Message | undefined> {
    return this.getMessageAt(claim.tenantId, claim.customerId, claim.timelineId);
  }

  async getMessageAt(tenantId: string, customerId: string, timelineId: string): Promise<Message | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: keys.timelineItem(tenantId, customerId, timelineId) }),
    );
    return strip<Message>(Item);
  }

  async getMessage(tenantId: string, messageId: string): Promise<Message | undefined> {
    const claim = await this.getClaim(tenantId, messageId);
    return claim ? this.getMessageByClaim(claim) : undefined;
  }

  async listTimeline(
    tenantId: string,
    customerId: string,
    options: { limit: number; before?: string },
  ): Promise<TimelinePage> {
    // The timeline is in the customer's partition: its items are the ones whose sort key starts with MSG#.
    const { pk } = keys.customer(tenantId, customerId);
    const { items: messages, nextCursor } = await queryPage(
      this.db,
      {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': pk, ':prefix': keys.timelinePrefix },
        ScanIndexForward: false,
      },
      { limit: options.limit, cursor: options.before },
      { pk: (value) => value === pk, sk: (value) => value.startsWith(keys.timelinePrefix) },
      (item) => strip<Message>(item),
    );
    return nextCursor ? { messages, nextCursor } : { messages };
  }
}
