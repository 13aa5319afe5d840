/**
 * Chat sessions, the customer's current-session pointer, WebSocket connections and the chat connected on the
 * customer item. A session is written before the pointer that names it, so a crash between leaves a session nobody
 * points at (harmless, it expires) rather than a pointer to nothing; a redelivered start finds its session and
 * moves the pointer again, never back past a newer session.
 */
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { ChatSession, Connection } from '../../domain/model.ts';
import type { ChatStore, Clock, CustomerChat } from '../../domain/ports.ts';
import { systemClock } from '../../domain/ports.ts';
import {
  createDocumentClient,
  epochSeconds,
  ifConditionHolds,
  isExpired,
  strip,
  updateExpression,
  writeIfCondition,
} from './dynamo-helpers.ts';
import { keys } from './keys.ts';

const day = 24 * 3600 * 1000;
/** API Gateway closes a WebSocket connection after 2 hours; a connection item whose `$disconnect` was lost goes later. */
const connectionKeepMs = day;

export class DynamoChatStore implements ChatStore {
  constructor(
    private readonly tableName: string,
    private readonly db: DynamoDBDocumentClient = createDocumentClient(),
    private readonly clock: Clock = systemClock,
  ) {}

  async putChatSession(session: ChatSession): Promise<{ session: ChatSession; replaced?: string }> {
    const created = await writeIfCondition(
      this.db,
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...keys.chatSession(session.tenantId, session.sessionId),
          ...session,
          // Gone for good a day after it expires (DynamoDB TTL; reads treat it as gone at expiry).
          expiresAt: epochSeconds(Date.parse(session.expiresAt) + day),
          sessionExpiresAt: session.expiresAt,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    const stored = created ? session : ((await this.getChatSession(session.tenantId, session.sessionId)) ?? session);
    const moved = await ifConditionHolds(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.currentChatSession(session.tenantId, session.customerId),
          UpdateExpression: 'SET sessionId = :id, createdAt = :createdAt',
          // Never back to an older session: a late redelivery must not end the link sent since.
          ConditionExpression: 'attribute_not_exists(createdAt) OR createdAt <= :createdAt',
          ExpressionAttributeValues: { ':id': stored.sessionId, ':createdAt': stored.createdAt },
          ReturnValues: 'ALL_OLD',
        }),
      ),
    );
    const previous = moved?.Attributes?.sessionId as string | undefined;
    return previous !== undefined && previous !== stored.sessionId
      ? { session: stored, replaced: previous }
      : { session: stored };
  }

  async getChatSession(tenantId: string, sessionId: string): Promise<ChatSession | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: keys.chatSession(tenantId, sessionId), ConsistentRead: true }),
    );
    if (!Item) return undefined;
    const { sessionExpiresAt, ...rest } = strip<Record<string, unknown>>(Item) as Record<string, unknown>;
    return { ...(rest as unknown as ChatSession), expiresAt: sessionExpiresAt as string };
  }

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

  async putConnection(connection: Connection): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...keys.connection(connection.connectionId),
          ...connection,
          expiresAt: epochSeconds(Date.parse(connection.connectedAt) + connectionKeepMs),
        },
      }),
    );
  }

  async getConnection(connectionId: string): Promise<Connection | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: keys.connection(connectionId), ConsistentRead: true }),
    );
    return isExpired(Item, this.clock.now()) ? undefined : strip<Connection>(Item);
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
