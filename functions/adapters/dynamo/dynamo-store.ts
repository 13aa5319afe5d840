import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { ApiKeyRecord, Channel, Customer, Message, MessageClaim, Template, Tenant } from '../../domain/model.ts';
import type {
  ClaimResult,
  CustomerChanges,
  CustomerStore,
  MessageStore,
  TemplateStore,
  TenantStore,
  TimelinePage,
} from '../../domain/ports.ts';
import { keys } from './keys.ts';

export const createDocumentClient = (client: DynamoDBClient = new DynamoDBClient({})): DynamoDBDocumentClient =>
  DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });

const isConditionFailure = (error: unknown): boolean =>
  error instanceof ConditionalCheckFailedException ||
  (error as { name?: string } | null)?.name === 'ConditionalCheckFailedException';

/** Drops the key and index attributes an item carries, leaving the domain object. */
const strip = <T>(item: Record<string, unknown> | undefined): T | undefined => {
  if (!item) return undefined;
  const { pk, sk, gsi1pk, gsi1sk, gsi2pk, gsi2sk, expiresAt, ...rest } = item;
  return rest as T;
};

const encodeCursor = (key: Record<string, unknown>): string => Buffer.from(JSON.stringify(key)).toString('base64url');

const decodeCursor = (cursor: string, pk: string): Record<string, unknown> | undefined => {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>;
    // A cursor is only good for the partition it came from.
    if (key.pk !== pk || typeof key.sk !== 'string' || !key.sk.startsWith(keys.timelinePrefix)) return undefined;
    return { pk: key.pk, sk: key.sk };
  } catch {
    return undefined;
  }
};

export class InvalidCursorError extends Error {
  constructor() {
    super('invalid cursor');
    this.name = 'InvalidCursorError';
  }
}

/**
 * The single-table DynamoDB adapter behind every store port. No transactions and no streams (DESIGN section 8):
 * conditional writes and versioned updates instead.
 */
export class DynamoStore implements TenantStore, TemplateStore, CustomerStore, MessageStore {
  constructor(
    private readonly tableName: string,
    private readonly db: DynamoDBDocumentClient = createDocumentClient(),
  ) {}

  // Tenants and keys

  async getTenant(tenantId: string): Promise<Tenant | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: keys.tenant(tenantId) }));
    return strip<Tenant>(Item);
  }

  /** Creates or updates a tenant; its SMS number must not belong to another tenant. */
  async putTenant(tenant: Tenant): Promise<void> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.tenantNumber(tenant.smsNumber), tenantId: tenant.tenantId },
          ConditionExpression: 'attribute_not_exists(pk) OR tenantId = :tenantId',
          ExpressionAttributeValues: { ':tenantId': tenant.tenantId },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new Error(`SMS number is already used by another tenant`);
      throw error;
    }
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...keys.tenant(tenant.tenantId), ...keys.tenantListing(tenant.tenantId), ...tenant },
      }),
    );
  }

  async listTenants(): Promise<Tenant[]> {
    const tenants: Tenant[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: 'gsi1',
          KeyConditionExpression: 'gsi1pk = :pk',
          ExpressionAttributeValues: { ':pk': 'TENANTS' },
          ExclusiveStartKey,
        }),
      );
      for (const item of page.Items ?? []) tenants.push(strip<Tenant>(item) as Tenant);
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return tenants;
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
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.apiKey(keyId),
          UpdateExpression: 'SET revokedAt = if_not_exists(revokedAt, :at)',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':at': at },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  // Templates

  async getTemplate(tenantId: string, name: string): Promise<Template | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: keys.template(tenantId, name) }),
    );
    return strip<Template>(Item);
  }

  async putTemplate(tenantId: string, template: Template): Promise<void> {
    await this.db.send(
      new PutCommand({ TableName: this.tableName, Item: { ...keys.template(tenantId, template.name), ...template } }),
    );
  }

  async listTemplates(tenantId: string): Promise<Template[]> {
    const { Items } = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.templates(tenantId) },
      }),
    );
    return (Items ?? []).map((item) => strip<Template>(item) as Template);
  }

  // Customers

  async getCustomer(tenantId: string, customerId: string): Promise<Customer | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: keys.customer(tenantId, customerId), ConsistentRead: true }),
    );
    return strip<Customer>(Item);
  }

  async upsertCustomer(
    tenantId: string,
    customerId: string,
    changes: CustomerChanges,
    options: { create: boolean; now: string },
  ): Promise<{ before?: Customer; after: Customer } | undefined> {
    const update = customerUpdate(tenantId, customerId, changes, options.now);
    const preferences = changes.preferences ?? {};
    if (preferences.channel === undefined && preferences.quietHours === undefined) {
      // One write that also hands back the old item: no read on the send path.
      try {
        const { Attributes } = await this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: keys.customer(tenantId, customerId),
            ...update.expression(),
            ConditionExpression: options.create ? undefined : 'attribute_exists(pk)',
            ReturnValues: 'ALL_OLD',
          }),
        );
        const before = strip<Customer>(Attributes);
        return { ...(before && { before }), after: update.apply(before) };
      } catch (error) {
        if (isConditionFailure(error)) return undefined;
        throw error;
      }
    }
    // Preferences are a nested map merged field by field: a versioned read-modify-write, retried on conflict.
    for (let attempt = 0; attempt < 5; attempt++) {
      const before = await this.getCustomer(tenantId, customerId);
      if (!before && !options.create) return undefined;
      const merged: Record<string, unknown> = { ...(before?.preferences ?? {}) };
      for (const [key, value] of Object.entries(preferences)) {
        if (value === null) delete merged[key];
        else if (value !== undefined) merged[key] = value;
      }
      try {
        const { Attributes } = await this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: keys.customer(tenantId, customerId),
            ...update.expression({ preferences: merged, expectedVersion: before?.version }),
            ConditionExpression: before ? 'version = :expectedVersion' : 'attribute_not_exists(pk)',
            ReturnValues: 'ALL_NEW',
          }),
        );
        return { ...(before && { before }), after: strip<Customer>(Attributes) as Customer };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    }
    throw new Error('customer update kept conflicting');
  }

  async putAddress(tenantId: string, channel: Channel, address: string, customerId: string): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...keys.address(tenantId, channel, address), tenantId, channel, address, customerId },
      }),
    );
  }

  async deleteAddress(tenantId: string, channel: Channel, address: string, customerId: string): Promise<void> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: keys.address(tenantId, channel, address),
          // Only if it still points at this customer: another customer may have taken the address since.
          ConditionExpression: 'customerId = :customerId',
          ExpressionAttributeValues: { ':customerId': customerId },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  async getCustomerIdByAddress(tenantId: string, channel: Channel, address: string): Promise<string | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: keys.address(tenantId, channel, address) }),
    );
    return Item?.customerId as string | undefined;
  }

  // Messages

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
      // DynamoDB hands back the existing item on a failed condition; emulators that do not, cost one read.
      const existing =
        strip<MessageClaim>((error as { Item?: Record<string, unknown> }).Item) ??
        (await this.getClaim(claim.tenantId, claim.messageId));
      if (!existing) return this.claimMessage(claim);
      return { claimed: false, existing };
    }
  }

  async renewClaim(claim: MessageClaim, previousLeaseUntil: number): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.messageClaim(claim.tenantId, claim.messageId),
          UpdateExpression: 'SET leaseUntil = :lease',
          ConditionExpression: 'leaseUntil = :previous',
          ExpressionAttributeValues: { ':lease': claim.leaseUntil, ':previous': previousLeaseUntil },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async releaseClaim(tenantId: string, messageId: string): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.tableName, Key: keys.messageClaim(tenantId, messageId) }));
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

  async getMessageByClaim(claim: MessageClaim): Promise<Message | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: keys.timelineItem(claim.tenantId, claim.customerId, claim.timelineId),
      }),
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
    const { pk } = keys.customer(tenantId, customerId);
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    if (options.before !== undefined) {
      ExclusiveStartKey = decodeCursor(options.before, pk);
      if (!ExclusiveStartKey) throw new InvalidCursorError();
    }
    const page = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': pk, ':prefix': keys.timelinePrefix },
        ScanIndexForward: false,
        Limit: options.limit,
        ExclusiveStartKey,
      }),
    );
    const messages = (page.Items ?? []).map((item) => strip<Message>(item) as Message);
    return page.LastEvaluatedKey
      ? { messages, nextCursor: encodeCursor({ pk: page.LastEvaluatedKey.pk, sk: page.LastEvaluatedKey.sk }) }
      : { messages };
  }
}

/** Builds the UpdateExpression for a customer upsert, and applies the same changes to a known old item. */
const customerUpdate = (tenantId: string, customerId: string, changes: CustomerChanges, now: string) => {
  const fields = ['phone', 'email', 'timezone', 'locale'] as const;
  return {
    expression(extra: { preferences?: Record<string, unknown>; expectedVersion?: number | undefined } = {}) {
      const sets = [
        'tenantId = :tenantId',
        'customerId = :customerId',
        'updatedAt = :now',
        'createdAt = if_not_exists(createdAt, :now)',
        'consent = if_not_exists(consent, :emptyMap)',
        'version = if_not_exists(version, :zero) + :one',
        extra.preferences ? 'preferences = :preferences' : 'preferences = if_not_exists(preferences, :emptyMap)',
      ];
      const removes: string[] = [];
      const names: Record<string, string> = {};
      const values: Record<string, unknown> = {
        ':tenantId': tenantId,
        ':customerId': customerId,
        ':now': now,
        ':emptyMap': {},
        ':zero': 0,
        ':one': 1,
      };
      if (extra.preferences) values[':preferences'] = extra.preferences;
      if (extra.expectedVersion !== undefined) values[':expectedVersion'] = extra.expectedVersion;
      for (const field of fields) {
        const value = changes[field];
        if (value === undefined) continue;
        names[`#${field}`] = field;
        if (value === null) removes.push(`#${field}`);
        else {
          sets.push(`#${field} = :${field}`);
          values[`:${field}`] = value;
        }
      }
      return {
        UpdateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
        ...(Object.keys(names).length > 0 && { ExpressionAttributeNames: names }),
        ExpressionAttributeValues: values,
      };
    },
    apply(before: Customer | undefined): Customer {
      const after = {
        preferences: {},
        consent: {},
        createdAt: now,
        ...before,
        tenantId,
        customerId,
        updatedAt: now,
        version: (before?.version ?? 0) + 1,
      } as Customer;
      for (const field of fields) {
        const value = changes[field];
        if (value === null) delete after[field];
        else if (value !== undefined) after[field] = value;
      }
      return after;
    },
  };
};
