import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { AttentionStore } from '../../domain/inbound-sms.ts';
import type {
  ApiKeyRecord,
  Channel,
  ConsentRecord,
  Customer,
  Message,
  MessageClaim,
  Template,
  Tenant,
} from '../../domain/model.ts';
import type {
  AddressRecord,
  ClaimResult,
  CustomerChanges,
  CustomerInboundUpdate,
  InboundCustomerStore,
  MessageStore,
  TemplateStore,
  TenantStore,
  TimelinePage,
} from '../../domain/ports.ts';
import {
  consentAttribute,
  customerUpsert,
  openPromptAttribute,
  promptAnswerAttribute,
  toCustomer,
} from './customer-item.ts';
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
export class DynamoStore implements TenantStore, TemplateStore, InboundCustomerStore, MessageStore, AttentionStore {
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

  async getCustomer(
    tenantId: string,
    customerId: string,
    options: { consistent?: boolean } = { consistent: true },
  ): Promise<Customer | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: keys.customer(tenantId, customerId),
        ConsistentRead: options.consistent ?? true,
      }),
    );
    return toCustomer(Item);
  }

  async upsertCustomer(
    tenantId: string,
    customerId: string,
    changes: CustomerChanges,
    options: { create: boolean; now: string },
  ): Promise<{ before?: Customer; after: Customer } | undefined> {
    const update = customerUpsert(tenantId, customerId, changes, options.now);
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
        const before = toCustomer(Attributes);
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
        return { ...(before && { before }), after: toCustomer(Attributes) as Customer };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    }
    throw new Error('customer update kept conflicting');
  }

  /**
   * Applies what an inbound message changed, conditional on the version read (or on the customer not existing
   * yet): false when someone else wrote first, so the caller reads again and re-decides.
   */
  async updateCustomerAfterInbound(
    tenantId: string,
    customerId: string,
    update: CustomerInboundUpdate,
    expected: { version: number } | 'absent' | 'any',
  ): Promise<boolean> {
    const sets = [
      'tenantId = :tenantId',
      'customerId = :customerId',
      'updatedAt = :now',
      'createdAt = if_not_exists(createdAt, :now)',
      'preferences = if_not_exists(preferences, :emptyMap)',
      'version = if_not_exists(version, :zero) + :one',
      'lastInboundAt = :now',
      'activeChannel = :channel',
      'learnedChannel = :channel',
    ];
    const removes: string[] = [];
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {
      ':tenantId': tenantId,
      ':customerId': customerId,
      ':now': update.at,
      ':emptyMap': {},
      ':zero': 0,
      ':one': 1,
      ':channel': update.channel,
    };
    let n = 0;
    const name = (attribute: string) => {
      const placeholder = `#a${n++}`;
      names[placeholder] = attribute;
      return placeholder;
    };
    const value = (v: unknown) => {
      const placeholder = `:v${n++}`;
      values[placeholder] = v;
      return placeholder;
    };
    if (update.create) {
      const phone = name('phone');
      sets.push(`${phone} = if_not_exists(${phone}, ${value(update.create.phone)})`);
      if (update.create.unknownSender) sets.push(`unknownSender = if_not_exists(unknownSender, ${value(true)})`);
    }
    if (update.consent)
      sets.push(`${name(consentAttribute(update.consent.channel))} = ${value(update.consent.record)}`);
    for (const [messageId, answer] of Object.entries(update.answers ?? {})) {
      sets.push(`${name(promptAnswerAttribute(messageId))} = ${value(answer)}`);
      removes.push(name(openPromptAttribute(messageId)));
    }
    for (const messageId of update.dropPrompts ?? []) removes.push(name(openPromptAttribute(messageId)));
    for (const messageId of update.dropAnswers ?? []) removes.push(name(promptAnswerAttribute(messageId)));
    if (update.pendingQuestion === null) removes.push('pendingQuestion');
    else if (update.pendingQuestion) sets.push(`pendingQuestion = ${value(update.pendingQuestion)}`);
    if (typeof expected === 'object') values[':expectedVersion'] = expected.version;
    const condition =
      expected === 'any'
        ? undefined
        : expected === 'absent'
          ? 'attribute_not_exists(pk)'
          : 'version = :expectedVersion';
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.customer(tenantId, customerId),
          UpdateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: condition,
          ...(Object.keys(names).length > 0 && { ExpressionAttributeNames: names }),
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** Mirrors an address's consent onto a customer that exists. */
  async setCustomerConsent(tenantId: string, customerId: string, channel: Channel, consent: ConsentRecord) {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.customer(tenantId, customerId),
          UpdateExpression: 'SET #consent = :consent, version = version + :one',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#consent': consentAttribute(channel) },
          ExpressionAttributeValues: { ':consent': consent, ':one': 1 },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  async dropOpenPrompt(tenantId: string, customerId: string, messageId: string): Promise<void> {
    await this.db
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.customer(tenantId, customerId),
          UpdateExpression: 'REMOVE #prompt',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#prompt': openPromptAttribute(messageId) },
        }),
      )
      .catch((error: unknown) => {
        if (!isConditionFailure(error)) throw error;
      });
  }

  /** Points an address at a customer, keeping the address's consent; returns that consent. */
  async putAddress(
    tenantId: string,
    channel: Channel,
    address: string,
    customerId: string,
  ): Promise<ConsentRecord | undefined> {
    const { Attributes } = await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.address(tenantId, channel, address),
        UpdateExpression: 'SET tenantId = :tenantId, channel = :channel, address = :address, customerId = :customerId',
        ExpressionAttributeValues: {
          ':tenantId': tenantId,
          ':channel': channel,
          ':address': address,
          ':customerId': customerId,
        },
        ReturnValues: 'ALL_OLD',
      }),
    );
    return Attributes?.consent as ConsentRecord | undefined;
  }

  /** Unlinks an address from a customer; its consent stays with the address. */
  async deleteAddress(tenantId: string, channel: Channel, address: string, customerId: string): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.address(tenantId, channel, address),
          UpdateExpression: 'REMOVE customerId',
          // Only if it still points at this customer: another customer may have taken the address since.
          ConditionExpression: 'customerId = :customerId',
          ExpressionAttributeValues: { ':customerId': customerId },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  async getAddress(tenantId: string, channel: Channel, address: string): Promise<AddressRecord | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: keys.address(tenantId, channel, address) }),
    );
    if (!Item) return undefined;
    return {
      ...(typeof Item.customerId === 'string' && { customerId: Item.customerId }),
      ...(Item.consent !== undefined && { consent: Item.consent as ConsentRecord }),
    };
  }

  async setAddressConsent(tenantId: string, channel: Channel, address: string, consent: ConsentRecord): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.address(tenantId, channel, address),
        UpdateExpression: 'SET tenantId = :tenantId, channel = :channel, address = :address, consent = :consent',
        ExpressionAttributeValues: {
          ':tenantId': tenantId,
          ':channel': channel,
          ':address': address,
          ':consent': consent,
        },
      }),
    );
  }

  // Attention

  async markNeedsAttention(
    tenantId: string,
    customerId: string,
    entry: { reason: string; at: string; summary: string },
  ): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.attention(tenantId, customerId),
        UpdateExpression:
          'SET customerId = :c, reason = :r, lastMessageAt = :at, summary = :s, since = if_not_exists(since, :at)',
        ExpressionAttributeValues: { ':c': customerId, ':r': entry.reason, ':at': entry.at, ':s': entry.summary },
      }),
    );
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

  async releaseClaim(claim: MessageClaim): Promise<void> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: keys.messageClaim(claim.tenantId, claim.messageId),
          ConditionExpression: 'leaseUntil = :lease',
          ExpressionAttributeValues: { ':lease': claim.leaseUntil },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
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
