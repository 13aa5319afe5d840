/**
 * The tenant reads every function needs: a tenant by id and by the SMS number it owns, an API key. The writes are in
 * ./tenant-store.ts (`DynamoTenantStore` extends this), which only the admin paths bundle.
 */
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ApiKeyRecord, Tenant } from '../../domain/model.ts';
import { createDocumentClient, strip, writeIfCondition } from './dynamo-helpers.ts';
import { keys } from './keys.ts';

/** An API key as stored (its expiry is `keyExpiresAt`: `expiresAt` is the table's TTL attribute). */
export const apiKeyOf = (item: Record<string, unknown> | undefined): ApiKeyRecord | undefined => {
  const record = strip<ApiKeyRecord & { keyExpiresAt?: string }>(item);
  if (!record) return undefined;
  const { keyExpiresAt, ...rest } = record;
  return { ...rest, ...(keyExpiresAt !== undefined && { expiresAt: keyExpiresAt }) };
};

/** The reads every function needs (the tenant, by id and by its number; an API key): apart from the writes, which
 * only the admin paths bundle. */
export class DynamoTenantReader {
  constructor(
    protected readonly tableName: string,
    protected readonly db: DynamoDBDocumentClient = createDocumentClient(),
  ) {}

  async getTenant(tenantId: string): Promise<Tenant | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: keys.tenant(tenantId) }));
    return strip<Tenant>(Item);
  }

  async getTenantIdByNumber(e164: string): Promise<string | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: keys.tenantNumber(e164) }));
    return Item?.tenantId as string | undefined;
  }

  async getApiKey(keyId: string): Promise<ApiKeyRecord | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: keys.apiKey(keyId) }));
    return apiKeyOf(Item);
  }

  /** Records that the key was used now, unless it was within the last minute (then nothing is written). */
  async touchApiKey(keyId: string, at: string): Promise<void> {
    await writeIfCondition(
      this.db,
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.apiKey(keyId),
        UpdateExpression: 'SET lastUsedAt = :at',
        ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(lastUsedAt) OR lastUsedAt < :since)',
        ExpressionAttributeValues: { ':at': at, ':since': new Date(Date.parse(at) - 60_000).toISOString() },
      }),
    );
  }
}
