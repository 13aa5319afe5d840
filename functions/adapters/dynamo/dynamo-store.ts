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

export const isConditionFailure = (error: unknown): boolean =>
  error instanceof ConditionalCheckFailedException ||
  (error as { name?: string } | null)?.name === 'ConditionalCheckFailedException';

/** Sends a conditional write: false when its condition failed (someone else got there first), true when written. */
export const writeIfCondition = async (
  db: DynamoDBDocumentClient,
  command: PutCommand | UpdateCommand | DeleteCommand,
): Promise<boolean> => {
  try {
    await db.send(command as PutCommand);
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
};

/** Drops the key and index attributes an item carries, leaving the domain object. */
export const strip = <T>(item: Record<string, unknown> | undefined): T | undefined => {
  if (!item) return undefined;
  const { pk, sk, gsi1pk, gsi1sk, gsi2pk, gsi2sk, expiresAt, ...rest } = item;
  return rest as T;
};

export const encodeCursor = (key: Record<string, unknown>): string =>
  Buffer.from(JSON.stringify(key)).toString('base64url');

/**
 * The key a cursor encodes, or undefined when it is not one this query handed out: each attribute named must be a
 * string its check accepts, and nothing else may be there. A cursor is only good for the query it came from.
 */
export const decodeKeyCursor = (
  cursor: string,
  checks: Record<string, (value: string) => boolean>,
): Record<string, string> | undefined => {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (!key || typeof key !== 'object' || Object.keys(key).length !== Object.keys(checks).length) return undefined;
    const decoded: Record<string, string> = {};
    for (const [name, check] of Object.entries(checks)) {
      const value = key[name];
      if (typeof value !== 'string' || !check(value)) return undefined;
      decoded[name] = value;
    }
    return decoded;
  } catch {
    return undefined;
  }
};

const decodeCursor = (cursor: string, pk: string): Record<string, unknown> | undefined =>
  decodeKeyCursor(cursor, { pk: (value) => value === pk, sk: (value) => value.startsWith(keys.timelinePrefix) });

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
export class DynamoStore implements TenantStore, TemplateStore, InboundCustomerStore, MessageStore {
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
    const key = keys.customer(tenantId, customerId);
    // One write that also hands back the old item (no read on the send path), and makes sure the preferences map
    // exists for the second write below.
    let before: Customer | undefined;
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          ...update.expression(),
          ConditionExpression: options.create ? undefined : 'attribute_exists(pk)',
          ReturnValues: 'ALL_OLD',
        }),
      );
      before = toCustomer(Attributes);
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
    const preferences = Object.entries(changes.preferences ?? {}).filter(([, value]) => value !== undefined);
    if (preferences.length === 0) return { ...(before && { before }), after: update.apply(before) };
    // Preferences are merged field by field into the map, in place: nothing read, no version to hold, so concurrent
    // updates never conflict and none is lost (a versioned read-modify-write here kept losing under load).
    const sets = ['version = version + :one'];
    const removes: string[] = [];
    const names: Record<string, string> = { '#preferences': 'preferences' };
    const values: Record<string, unknown> = { ':one': 1 };
    preferences.forEach(([field, value], i) => {
      names[`#p${i}`] = field;
      if (value === null) removes.push(`#preferences.#p${i}`);
      else {
        sets.push(`#preferences.#p${i} = :p${i}`);
        values[`:p${i}`] = value;
      }
    });
    const { Attributes } = await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: key,
        UpdateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    return { ...(before && { before }), after: toCustomer(Attributes) as Customer };
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
      for (const field of ['phone', 'email'] as const) {
        const given = update.create[field];
        if (given === undefined) continue;
        const attribute = name(field);
        sets.push(`${attribute} = if_not_exists(${attribute}, ${value(given)})`);
      }
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

  /**
   * Mirrors an address's consent onto a customer that exists, unless a later change is already there: consent
   * follows the newest keyword wherever it is kept, so a late START cannot undo a STOP (DESIGN section 7).
   */
  async setCustomerConsent(tenantId: string, customerId: string, channel: Channel, consent: ConsentRecord) {
    await this.writeIfCondition(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.customer(tenantId, customerId),
        UpdateExpression: 'SET #consent = :consent, version = version + :one',
        ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(#consent) OR #consent.#at <= :at)',
        ExpressionAttributeNames: { '#consent': consentAttribute(channel), '#at': 'at' },
        ExpressionAttributeValues: { ':consent': consent, ':one': 1, ':at': consent.at },
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
        // A string set: an address can belong to several customers (a joint account); `customerId` is the latest.
        UpdateExpression:
          'SET tenantId = :tenantId, channel = :channel, address = :address, customerId = :customerId ADD customerIds :ids',
        ExpressionAttributeValues: {
          ':tenantId': tenantId,
          ':channel': channel,
          ':address': address,
          ':customerId': customerId,
          ':ids': new Set([customerId]),
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
        UpdateExpression: 'DELETE customerIds :ids',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':ids': new Set([customerId]) },
      }),
    );
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
    const others = Item.customerIds instanceof Set ? [...(Item.customerIds as Set<string>)].sort() : [];
    const latest = typeof Item.customerId === 'string' ? Item.customerId : undefined;
    const customerIds = latest ? [latest, ...others.filter((id) => id !== latest)] : others;
    return {
      ...((latest ?? customerIds[0]) !== undefined && { customerId: (latest ?? customerIds[0]) as string }),
      ...(customerIds.length > 0 && { customerIds }),
      ...(Item.consent !== undefined && { consent: Item.consent as ConsentRecord }),
    };
  }

  /**
   * Records consent given from an address, unless a later change is already recorded (a late redelivery); false
   * when a later one is there.
   */
  async setAddressConsent(
    tenantId: string,
    channel: Channel,
    address: string,
    consent: ConsentRecord,
  ): Promise<boolean> {
    return this.writeIfCondition(
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

  // Attention, callbacks and chat live in their own stores (attention-store.ts, callback-store.ts, chat-store.ts).

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
    return this.getMessageAt(claim.tenantId, claim.customerId, claim.timelineId);
  }

  async getMessageAt(tenantId: string, customerId: string, timelineId: string): Promise<Message | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: keys.timelineItem(tenantId, customerId, timelineId) }),
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
