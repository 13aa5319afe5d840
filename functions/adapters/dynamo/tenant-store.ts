/**
 * Tenants, the SMS number each one owns (inbound SMS find their tenant by it) and API keys. A number is claimed
 * before the tenant is written, and only by the tenant that has it already or by nobody.
 */
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ApiKeyRecord, Tenant, TenantKeyword } from '../../domain/model.ts';
import type { TenantSetting, TenantStore } from '../../domain/ports.ts';
import { ifConditionHolds, queryAll, strip, updateExpression, writeIfCondition } from './dynamo-helpers.ts';
import { keys } from './keys.ts';
import { apiKeyOf, DynamoTenantReader } from './tenant-reader.ts';

export class DynamoTenantStore extends DynamoTenantReader implements TenantStore {
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

  async putApiKey(key: ApiKeyRecord): Promise<void> {
    // `expiresAt` is the table's TTL attribute: a key's expiry is kept apart, so an expired key stays listable.
    const { expiresAt, ...rest } = key;
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...keys.apiKey(key.keyId),
          ...keys.apiKeyListing(key.tenantId, key.keyId),
          ...rest,
          ...(expiresAt !== undefined && { keyExpiresAt: expiresAt }),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async listApiKeys(tenantId: string): Promise<ApiKeyRecord[]> {
    const items = await queryAll(this.db, {
      TableName: this.tableName,
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.apiKeyListingPartition(tenantId) },
    });
    return items.map((item) => apiKeyOf(item) as ApiKeyRecord);
  }

  async updateTenantSettings(
    tenantId: string,
    change: { set: Partial<Pick<Tenant, TenantSetting>>; remove: TenantSetting[] },
  ): Promise<Tenant | undefined> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const sets = Object.entries(change.set).map(([field, value], i) => {
      names[`#s${i}`] = field;
      values[`:s${i}`] = value;
      return `#s${i} = :s${i}`;
    });
    const removes = change.remove.map((field, i) => {
      names[`#r${i}`] = field;
      return `#r${i}`;
    });
    const result = await ifConditionHolds(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.tenant(tenantId),
          UpdateExpression: updateExpression(sets, removes),
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: names,
          ...(Object.keys(values).length > 0 && { ExpressionAttributeValues: values }),
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    return result && strip<Tenant>(result.Attributes);
  }

  async putKeyword(tenantId: string, keyword: string, value: TenantKeyword): Promise<boolean> {
    // A nested SET needs the map to exist: set the one entry, else create the map with it, whichever holds.
    for (let attempt = 0; attempt < 3; attempt++) {
      const intoMap = await writeIfCondition(
        this.db,
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.tenant(tenantId),
          UpdateExpression: 'SET keywords.#k = :v',
          ConditionExpression: 'attribute_exists(keywords)',
          ExpressionAttributeNames: { '#k': keyword },
          ExpressionAttributeValues: { ':v': value },
        }),
      );
      if (intoMap) return true;
      const newMap = await writeIfCondition(
        this.db,
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.tenant(tenantId),
          UpdateExpression: 'SET keywords = :map',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(keywords)',
          ExpressionAttributeValues: { ':map': { [keyword]: value } },
        }),
      );
      if (newMap) return true;
      // Neither: no such tenant, or another write created the map in between (then the first write holds).
      if (!(await this.getTenant(tenantId))) return false;
    }
    throw new Error('Gave up writing a keyword: the tenant kept changing');
  }

  async deleteKeyword(tenantId: string, keyword: string): Promise<boolean> {
    return writeIfCondition(
      this.db,
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.tenant(tenantId),
        UpdateExpression: 'REMOVE keywords.#k',
        ConditionExpression: 'attribute_exists(keywords.#k)',
        ExpressionAttributeNames: { '#k': keyword },
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
