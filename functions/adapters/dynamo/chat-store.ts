/**
 * Chat sessions, the customer's current-session pointer, WebSocket connections and the chat connected on the
 * customer item. A session is written before the pointer that names it, so a crash between leaves a session nobody
 * points at (harmless, it expires) rather than a pointer to nothing; a redelivered start finds its session and
 * moves the pointer again, never back past a newer session.
 */
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ChatSession, Connection } from '../../domain/model.ts';
import type { ChatStore } from '../../domain/ports.ts';
import { DynamoChatConnectionWrites } from './chat-connection-writes.ts';
import { epochSeconds, ifConditionHolds, isExpired, strip, writeIfCondition } from './dynamo-helpers.ts';
import { keys } from './keys.ts';

const day = 24 * 3600 * 1000;
/** API Gateway closes a WebSocket connection after 2 hours; a connection item whose `$disconnect` was lost goes later. */
const connectionKeepMs = day;

export class DynamoChatStore extends DynamoChatConnectionWrites implements ChatStore {
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
}
