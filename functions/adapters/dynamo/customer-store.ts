import {
  type DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  type PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Channel, ConsentRecord, Customer } from '../../domain/model.ts';
import type {
  AddressRecord,
  CustomerChanges,
  CustomerInboundUpdate,
  InboundCustomerStore,
} from '../../domain/ports.ts';
import {
  consentAttribute,
  customerUpsert,
  openPromptAttribute,
  promptAnswerAttribute,
  storedAnswer,
  toCustomer,
} from './customer-item.ts';
import { createDocumentClient, isConditionFailure, writeIfCondition } from './dynamo-helpers.ts';
import { keys } from './keys.ts';

/**
 * Customers and their addresses. No transactions and no streams (DESIGN section 8): conditional writes and
 * versioned updates instead. Tenants and API keys, templates, messages, attention, callbacks and chat each have a
 * store of their own (tenant-store.ts, template-store.ts, message-store.ts, attention-store.ts, callback-store.ts,
 * chat-store.ts); the helpers they share are in dynamo-helpers.ts.
 */
export class DynamoCustomerStore implements InboundCustomerStore {
  constructor(
    private readonly tableName: string,
    private readonly db: DynamoDBDocumentClient = createDocumentClient(),
  ) {}

  /** Sends a conditional write: false when its condition failed (someone else got there first), true when written. */
  private writeIfCondition(command: PutCommand | UpdateCommand | DeleteCommand): Promise<boolean> {
    return writeIfCondition(this.db, command);
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
    return toCustomer(Item, tenantId, customerId);
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
      before = toCustomer(Attributes, tenantId, customerId);
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
    return { ...(before && { before }), after: toCustomer(Attributes, tenantId, customerId) as Customer };
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
      sets.push(`${name(promptAnswerAttribute(messageId))} = ${value(storedAnswer(answer))}`);
      removes.push(name(openPromptAttribute(messageId)));
    }
    for (const messageId of update.dropPrompts ?? []) removes.push(name(openPromptAttribute(messageId)));
    for (const messageId of update.dropAnswers ?? []) removes.push(name(promptAnswerAttribute(messageId)));
    if (update.acknowledged) sets.push(`acknowledgedAt = ${value(update.acknowledged)}`);
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

  async clearAcknowledged(tenantId: string, customerId: string): Promise<void> {
    await this.writeIfCondition(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.customer(tenantId, customerId),
        UpdateExpression: 'REMOVE acknowledgedAt',
        // Only when there is one: most agent replies find none, and a failed condition writes nothing.
        ConditionExpression: 'attribute_exists(acknowledgedAt)',
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
        // A number is also indexed by itself, for its delivery reports (keys.smsDestination).
        UpdateExpression:
          'SET tenantId = :tenantId, channel = :channel, address = :address, customerId = :customerId' +
          (channel === 'sms' ? ', gsi1pk = :gsi1pk, gsi1sk = :gsi1sk' : '') +
          ' ADD customerIds :ids',
        ExpressionAttributeValues: {
          ':tenantId': tenantId,
          ':channel': channel,
          ':address': address,
          ':customerId': customerId,
          ':ids': new Set([customerId]),
          ...(channel === 'sms' && {
            ':gsi1pk': keys.smsDestination(address, tenantId).gsi1pk,
            ':gsi1sk': keys.smsDestination(address, tenantId).gsi1sk,
          }),
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
   * Records consent given from an address, unless a later change is already recorded (a late redelivery); with the
   * consent it replaced, so that only a change of status is announced.
   */
  async setAddressConsent(
    tenantId: string,
    channel: Channel,
    address: string,
    consent: ConsentRecord,
  ): Promise<{ written: false } | { written: true; previous?: ConsentRecord }> {
    try {
      const { Attributes } = await this.db.send(
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
          ReturnValues: 'UPDATED_OLD',
        }),
      );
      const previous = Attributes?.consent as ConsentRecord | undefined;
      return { written: true, ...(previous && { previous }) };
    } catch (error) {
      if (isConditionFailure(error)) return { written: false };
      throw error;
    }
  }
}
