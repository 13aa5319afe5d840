/**
 * Tenants, the SMS number each one owns (inbound SMS find their tenant by it) and API keys. A number is claimed
 * before the tenant is written, and only by the tenant that has it already or by nobody.
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ApiKeyRecord, Tenant } from '../../domain/model.ts';
import type { TenantStore } from '../../domain/ports.ts';
import { createDocumentClient, queryAll, strip, writeIfCondition } from './dynamo-helpers.ts';
import { keys } from './keys.ts';

export class DynamoTenantStore implements TenantStore {
  constructor(
    private readonly tableName: string,
    private readonly db: DynamoDBDocumentClient = createDocumentClient(),
  ) {}

  async getTenant(tenantId: string): Promise<Tenant | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: keys.tenant(tenantId) }));
    return strip<Tenant>(Item);
  }

  /** Creates or updates a tenant; its SMS number must not belong to another tenant. */
  async putTenant(tenant: Tenant): Promise<void> {
    const numberIsOurs = await writeIfCondition(
      this.db,
      new PutCommand({
        TableName: this.tableName,
        Item: { ...keys.tenantNumber(tenant.smsNumber), tenantId: tenant.tenantId },
        ConditionExpression: 'attribute_not_exists(pk) OR tenantId = :tenantId',
        ExpressionAttributeValues: { ':tenantId': tenant.tenantId },
      }),
    );
    if (!numberIsOurs) throw new Error(`SMS number is already used by another tenant`);
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...keys.tenant(tenant.tenantId), ...keys.tenantListing(tenant.tenantId), ...tenant },
      }),
    );
  }

  async listTenants(): Promise<Tenant[]> {
    const items = await queryAll(this.db, {
      TableName: this.tableName,
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': 'TENANTS' },
    });
    return items.map((item) => strip<Tenant>(item) as Tenant);
  }

  async getTenantIdByNumber(e164: string): Promise<string | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: keys.tenantNumber(e164) }));
    return Item?.tenantId as string | undefined;
  }

  async getApiKey(keyId: string): Promise<ApiKeyRecord | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: keys.apiKey(keyId) }));
    return strip<ApiKeyRecord>(Item);
  }

  async putApiKey(key: ApiKeyRecord): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...keys.apiKey(key.keyId), ...key },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async revokeApiKey(keyId: string, at: string): Promise<boolean> {
    return writeIfCondition(
      this.db,
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.apiKey(keyId),
        UpdateExpression: 'SET revokedAt = if_not_exists(revokedAt, :at)',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':at': at },
      }),
    );
  }
}
