/**
 * Webhook endpoints and their delivery attempts (DESIGN sections 8 and 15). Endpoints sit in the tenant's webhook
 * partition (a handful, read whole by the sender for each event); attempts in a partition per endpoint sorted by
 * time, expiring after 30 days, so the deliveries list is one paged Query, never a filter over a partition.
 */
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Clock, Page, PageRequest } from '../../domain/ports.ts';
import { systemClock } from '../../domain/ports.ts';
import type { WebhookAttempt, WebhookEndpoint, WebhookStore } from '../../domain/webhook-registry.ts';
import { createDocumentClient, epochSeconds, queryAll, queryPage, strip, writeIfCondition } from './dynamo-helpers.ts';
import { keys } from './keys.ts';

/** How long an attempt stays listed. */
export const webhookAttemptKeepMs = 30 * 24 * 3_600_000;

export class DynamoWebhookStore implements WebhookStore {
  constructor(
    private readonly tableName: string,
    private readonly db: DynamoDBDocumentClient = createDocumentClient(),
    private readonly clock: Clock = systemClock,
  ) {}

  createWebhook(endpoint: WebhookEndpoint): Promise<boolean> {
    return writeIfCondition(
      this.db,
      new PutCommand({
        TableName: this.tableName,
        Item: { ...keys.webhook(endpoint.tenantId, endpoint.webhookId), ...endpoint },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async getWebhook(tenantId: string, webhookId: string): Promise<WebhookEndpoint | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: keys.webhook(tenantId, webhookId), ConsistentRead: true }),
    );
    return strip<WebhookEndpoint>(Item);
  }

  async listWebhooks(tenantId: string): Promise<WebhookEndpoint[]> {
    const items = await queryAll(this.db, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.webhooks(tenantId) },
    });
    return items.map((item) => strip<WebhookEndpoint>(item) as WebhookEndpoint);
  }

  async deleteWebhook(tenantId: string, webhookId: string): Promise<boolean> {
    const { Attributes } = await this.db.send(
      new DeleteCommand({
        TableName: this.tableName,
        Key: keys.webhook(tenantId, webhookId),
        ReturnValues: 'ALL_OLD',
      }),
    );
    return Attributes !== undefined;
  }

  replaceWebhook(endpoint: WebhookEndpoint, expectedVersion: number): Promise<boolean> {
    return writeIfCondition(
      this.db,
      new PutCommand({
        TableName: this.tableName,
        Item: { ...keys.webhook(endpoint.tenantId, endpoint.webhookId), ...endpoint, version: expectedVersion + 1 },
        ConditionExpression: 'version = :expected',
        ExpressionAttributeValues: { ':expected': expectedVersion },
      }),
    );
  }

  async recordAttempt(attempt: WebhookAttempt): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...keys.webhookAttempt(
            attempt.tenantId,
            attempt.webhookId,
            attempt.attemptedAt,
            attempt.deliveryId,
            attempt.attempt,
          ),
          ...attempt,
          expiresAt: epochSeconds(Date.parse(attempt.attemptedAt) + webhookAttemptKeepMs),
        },
      }),
    );
  }

  listAttempts(tenantId: string, webhookId: string, page: PageRequest): Promise<Page<WebhookAttempt>> {
    const partition = keys.webhookAttemptPartition(tenantId, webhookId);
    return queryPage(
      this.db,
      {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        // Expired but not yet deleted by DynamoDB's TTL (and never, locally): gone.
        FilterExpression: 'expiresAt > :now',
        ExpressionAttributeValues: {
          ':pk': partition,
          ':prefix': keys.webhookAttemptPrefix,
          ':now': epochSeconds(this.clock.now()),
        },
        ScanIndexForward: false,
      },
      page,
      { pk: (value) => value === partition, sk: (value) => value.startsWith(keys.webhookAttemptPrefix) },
      (item) => strip<WebhookAttempt>(item),
    );
  }
}
