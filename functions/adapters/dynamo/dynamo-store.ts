import { type AttributeValue, ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttentionStore } from '../../domain/inbound-sms.ts';

/** A conversation an agent should look at, and why. */
export interface AttentionEntry {
  customerId: string;
  since: string;
  lastMessageAt: string;
  summary?: string;
  freeTextAt?: string;
  callbackId?: string;
  chatSessionId?: string;
}

import type {
  ApiKeyRecord,
  Callback,
  Channel,
  ChatSession,
  Connection,
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

  /** Sends a conditional write: false when its condition failed (someone else got there first), true when written. */
  private async writeIfCondition(command: PutCommand | UpdateCommand | DeleteCommand): Promise<boolean> {
    try {
      await this.db.send(command as PutCommand);
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** Every item a query matches, page after page (for small partitions: tenants, attention, callbacks). */
  private async queryAll(
    input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>,
  ): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(new QueryCommand({ ...input, TableName: this.tableName, ExclusiveStartKey }));
      items.push(...(page.Items ?? []));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return items;
  }

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
    const items = await this.queryAll({
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
    return this.writeIfCondition(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.apiKey(keyId),
        UpdateExpression: 'SET revokedAt = if_not_exists(revokedAt, :at)',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':at': at },
      }),
    );
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
    return this.writeIfCondition(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.customer(tenantId, customerId),
        UpdateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
        ConditionExpression: condition,
        ...(Object.keys(names).length > 0 && { ExpressionAttributeNames: names }),
        ExpressionAttributeValues: values,
      }),
    );
  }

  /** Mirrors an address's consent onto a customer that exists. */
  async setCustomerConsent(tenantId: string, customerId: string, channel: Channel, consent: ConsentRecord) {
    await this.writeIfCondition(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.customer(tenantId, customerId),
        UpdateExpression: 'SET #consent = :consent, version = version + :one',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#consent': consentAttribute(channel) },
        ExpressionAttributeValues: { ':consent': consent, ':one': 1 },
      }),
    );
  }

  async dropOpenPrompts(tenantId: string, customerId: string, messageIds: string[]): Promise<void> {
    if (messageIds.length === 0) return;
    const names = Object.fromEntries(messageIds.map((id, i) => [`#p${i}`, openPromptAttribute(id)]));
    await this.writeIfCondition(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.customer(tenantId, customerId),
        UpdateExpression: `REMOVE ${Object.keys(names).join(', ')} SET version = version + :one`,
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ':one': 1 },
      }),
    );
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
    await this.writeIfCondition(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.address(tenantId, channel, address),
        UpdateExpression: 'REMOVE customerId',
        // Only if it still points at this customer: another customer may have taken the address since.
        ConditionExpression: 'customerId = :customerId',
        ExpressionAttributeValues: { ':customerId': customerId },
      }),
    );
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

  /** Records consent given from an address, unless a later change is already recorded (a late redelivery). */
  async setAddressConsent(tenantId: string, channel: Channel, address: string, consent: ConsentRecord): Promise<void> {
    await this.writeIfCondition(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.address(tenantId, channel, address),
        UpdateExpression: 'SET tenantId = :tenantId, channel = :channel, address = :address, consent = :consent',
        ConditionExpression: 'attribute_not_exists(consent) OR consent.#at <= :at',
        ExpressionAttributeNames: { '#at': 'at' },
        ExpressionAttributeValues: {
          ':tenantId': tenantId,
          ':channel': channel,
          ':address': address,
          ':consent': consent,
          ':at': consent.at,
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
          'SET customerId = :c, reason = :r, lastMessageAt = :at, freeTextAt = :at, summary = :s, since = if_not_exists(since, :at)',
        ExpressionAttributeValues: { ':c': customerId, ':r': entry.reason, ':at': entry.at, ':s': entry.summary },
      }),
    );
  }

  /** Sets or clears one reason a conversation needs attention (free text, a callback, a chat). */
  async setAttentionReason(
    tenantId: string,
    customerId: string,
    reason: 'freeTextAt' | 'callbackId' | 'chatSessionId',
    value: string | null,
    at: string,
  ): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.attention(tenantId, customerId),
        UpdateExpression:
          value === null
            ? 'REMOVE #reason'
            : 'SET #reason = :value, customerId = :c, lastMessageAt = :at, since = if_not_exists(since, :at)',
        ExpressionAttributeNames: { '#reason': reason },
        ...(value !== null && { ExpressionAttributeValues: { ':value': value, ':c': customerId, ':at': at } }),
      }),
    );
  }

  async listAttention(tenantId: string): Promise<AttentionEntry[]> {
    const items = await this.queryAll({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.attentionPartition(tenantId) },
    });
    return items
      .map((item) => strip<AttentionEntry>(item) as AttentionEntry)
      .filter((entry) => entry.freeTextAt || entry.callbackId || entry.chatSessionId)
      .sort((a, b) => (a.lastMessageAt < b.lastMessageAt ? 1 : -1));
  }

  // Callbacks

  /** Creates a callback unless the customer has one open: then returns that one (`created: false`). */
  async createCallback(callback: Callback): Promise<{ created: boolean; callback: Callback }> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.openCallback(callback.tenantId, callback.customerId), callbackId: callback.callbackId },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const { Item } = await this.db.send(
        new GetCommand({
          TableName: this.tableName,
          Key: keys.openCallback(callback.tenantId, callback.customerId),
          ConsistentRead: true,
        }),
      );
      const existing = Item && (await this.getCallback(callback.tenantId, Item.callbackId as string));
      if (existing) return { created: false, callback: existing };
      return { created: false, callback };
    }
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...keys.callback(callback.tenantId, callback.callbackId), ...callback },
      }),
    );
    return { created: true, callback };
  }

  async getCallback(tenantId: string, callbackId: string): Promise<Callback | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: keys.callback(tenantId, callbackId), ConsistentRead: true }),
    );
    return strip<Callback>(Item);
  }

  async listCallbacks(tenantId: string, status?: Callback['status']): Promise<Callback[]> {
    const items = await this.queryAll({
      KeyConditionExpression: 'pk = :pk',
      ...(status && { FilterExpression: '#status = :status', ExpressionAttributeNames: { '#status': 'status' } }),
      ExpressionAttributeValues: { ':pk': keys.callbackPartition(tenantId), ...(status && { ':status': status }) },
      ScanIndexForward: false,
    });
    return items.map((item) => strip<Callback>(item) as Callback);
  }

  /** Closes a requested callback; undefined when it is unknown or already closed. */
  async closeCallback(
    tenantId: string,
    callbackId: string,
    change: { status: 'completed' | 'cancelled'; note?: string; at: string },
  ): Promise<Callback | undefined> {
    let updated: Record<string, unknown> | undefined;
    try {
      ({ Attributes: updated } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.callback(tenantId, callbackId),
          UpdateExpression: `SET #status = :status, closedAt = :at${change.note !== undefined ? ', note = :note' : ''}`,
          ConditionExpression: '#status = :requested',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':status': change.status,
            ':at': change.at,
            ':requested': 'requested',
            ...(change.note !== undefined && { ':note': change.note }),
          },
          ReturnValues: 'ALL_NEW',
        }),
      ));
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
    const callback = strip<Callback>(updated) as Callback;
    await this.writeIfCondition(
      new DeleteCommand({
        TableName: this.tableName,
        Key: keys.openCallback(tenantId, callback.customerId),
        ConditionExpression: 'callbackId = :id',
        ExpressionAttributeValues: { ':id': callbackId },
      }),
    );
    return callback;
  }

  // Chat

  /** Stores a new session as the customer's current one; returns the session it replaces, if any. */
  async putChatSession(session: ChatSession): Promise<string | undefined> {
    const { Attributes } = await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...keys.currentChatSession(session.tenantId, session.customerId), sessionId: session.sessionId },
        ReturnValues: 'ALL_OLD',
      }),
    );
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...keys.chatSession(session.tenantId, session.sessionId),
          ...session,
          // Gone for good a day after it expires (DynamoDB TTL; reads treat it as gone at expiry).
          expiresAt: Math.floor(Date.parse(session.expiresAt) / 1000) + 86_400,
          sessionExpiresAt: session.expiresAt,
        },
      }),
    );
    return Attributes?.sessionId as string | undefined;
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
        UpdateExpression: [
          sets.length ? `SET ${sets.join(', ')}` : '',
          removes.length ? `REMOVE ${removes.join(', ')}` : '',
        ]
          .filter(Boolean)
          .join(' '),
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
        Item: { ...keys.connection(connection.connectionId), ...connection },
      }),
    );
  }

  async getConnection(connectionId: string): Promise<Connection | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: keys.connection(connectionId), ConsistentRead: true }),
    );
    return strip<Connection>(Item);
  }

  async deleteConnection(connectionId: string): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.tableName, Key: keys.connection(connectionId) }));
  }

  /**
   * Records the chat connected now on the customer (active channel chat), or clears it when `chat` is null and
   * the connection given is still the customer's (active channel back to SMS).
   */
  async setCustomerChat(
    tenantId: string,
    customerId: string,
    chat: { sessionId: string; connectionId: string; since: string } | null,
    clearingConnectionId?: string,
  ): Promise<void> {
    await this.writeIfCondition(
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
    return this.writeIfCondition(
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
    await this.writeIfCondition(
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
