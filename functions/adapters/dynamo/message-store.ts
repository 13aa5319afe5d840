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
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Message, MessageClaim, MessageStatus, StatusChange } from '../../domain/model.ts';
import type { ClaimResult, MessageStore, TimelinePage } from '../../domain/ports.ts';
import { createDocumentClient, isConditionFailure, queryPage, strip, writeIfCondition } from './dynamo-helpers.ts';
import { keys } from './keys.ts';

export class DynamoMessageStore implements MessageStore {
  constructor(
    protected readonly tableName: string,
    protected readonly db: DynamoDBDocumentClient = createDocumentClient(),
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
