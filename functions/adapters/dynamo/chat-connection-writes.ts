import { DeleteCommand, type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ChatSession } from '../../domain/model.ts';
import type { Clock, CustomerChat } from '../../domain/ports.ts';
import { systemClock } from '../../domain/ports.ts';
import { createDocumentClient, updateExpression, writeIfCondition } from './dynamo-helpers.ts';
import { keys } from './keys.ts';

/**
 * What ending a stale chat connection writes (a push that found it gone): the session's and the customer's chat
 * cleared, the connection deleted. Apart from the rest of the chat store, so a function that only pushes (a send)
 * bundles only this; `DynamoChatStore` extends it.
 */
export class DynamoChatConnectionWrites {
  constructor(
    protected readonly tableName: string,
    protected readonly db: DynamoDBDocumentClient = createDocumentClient(),
    protected readonly clock: Clock = systemClock,
  ) {}

  async setChatSessionState(
    tenantId: string,
    sessionId: string,
    change: { status?: ChatSession['status']; connectionId?: string | null },
  ): Promise<void> {
    const sets: string[] = [];
    const removes: string[] = [];
    const values: Record<string, unknown> = {};
    if (change.status) {
      sets.push('#status = :status');
      values[':status'] = change.status;
    }
    if (change.connectionId === null) removes.push('connectionId');
    else if (change.connectionId !== undefined) {
      sets.push('connectionId = :connectionId');
      values[':connectionId'] = change.connectionId;
    }
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.chatSession(tenantId, sessionId),
        UpdateExpression: updateExpression(sets, removes),
        ConditionExpression: 'attribute_exists(pk)',
        ...(change.status && { ExpressionAttributeNames: { '#status': 'status' } }),
        ...(Object.keys(values).length > 0 && { ExpressionAttributeValues: values }),
      }),
    );
  }

  async deleteConnection(connectionId: string): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.tableName, Key: keys.connection(connectionId) }));
  }

  async setCustomerChat(
    tenantId: string,
    customerId: string,
    chat: CustomerChat | null,
    clearingConnectionId?: string,
  ): Promise<void> {
    await writeIfCondition(
      this.db,
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.customer(tenantId, customerId),
        UpdateExpression:
          chat === null
            ? 'REMOVE chat SET activeChannel = :sms, version = version + :one'
            : 'SET chat = :chat, activeChannel = :chatChannel, version = version + :one',
        ConditionExpression: chat === null ? 'chat.connectionId = :connectionId' : 'attribute_exists(pk)',
        ExpressionAttributeValues:
          chat === null
            ? { ':sms': 'sms', ':one': 1, ':connectionId': clearingConnectionId }
            : { ':chat': chat, ':chatChannel': 'chat', ':one': 1 },
      }),
    );
  }
}
