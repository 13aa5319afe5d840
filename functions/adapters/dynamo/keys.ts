/**
 * Every item's key, written once. Tenant-owned items start with `T#<tenantId>#`, so a foreign id can only ever
 * miss (404), never read another tenant's item.
 */
import type { Channel } from '../../domain/model.ts';
import { tableSchema } from './table-schema.ts';

export interface ItemKey {
  pk: string;
  sk: string;
}

const tenantPrefix = (tenantId: string) => `T#${tenantId}#`;
const callbackStatusPartition = (tenantId: string, status: string) => `${tenantPrefix(tenantId)}CALLBACKS#${status}`;
const webhookAttemptPartition = (tenantId: string, webhookId: string) => `${tenantPrefix(tenantId)}WH#${webhookId}`;
const webhookAttemptPrefix = 'ATT#';
const attentionOpenPartition = (tenantId: string) => `${tenantPrefix(tenantId)}ATTENTION#open`;

export const keys = {
  tenant: (tenantId: string): ItemKey => ({ pk: `TENANT#${tenantId}`, sk: 'TENANT' }),
  /** Lists tenants on gsi1. */
  tenantListing: (tenantId: string) => ({ gsi1pk: 'TENANTS', gsi1sk: tenantId }),
  /** A tenant's SMS number, unique across tenants: inbound SMS find their tenant by it. */
  tenantNumber: (e164: string): ItemKey => ({ pk: `SMSNUMBER#${e164}`, sk: 'SMSNUMBER' }),
  apiKey: (keyId: string): ItemKey => ({ pk: `APIKEY#${keyId}`, sk: 'APIKEY' }),
  /** Lists a tenant's API keys on gsi1 (`parley key list`). */
  apiKeyListing: (tenantId: string, keyId: string) => ({ gsi1pk: `APIKEYS#${tenantId}`, gsi1sk: keyId }),
  apiKeyListingPartition: (tenantId: string) => `APIKEYS#${tenantId}`,
  template: (tenantId: string, name: string): ItemKey => ({ pk: `${tenantPrefix(tenantId)}TEMPLATES`, sk: name }),
  templates: (tenantId: string) => `${tenantPrefix(tenantId)}TEMPLATES`,
  customer: (tenantId: string, customerId: string): ItemKey => ({
    pk: `${tenantPrefix(tenantId)}C#${customerId}`,
    sk: 'PROFILE',
  }),
  /** (tenant, channel, address) → customer, for inbound messages. */
  address: (tenantId: string, channel: Channel, address: string): ItemKey => ({
    pk: `${tenantPrefix(tenantId)}ADDR#${channel}#${address.toLowerCase()}`,
    sk: 'ADDRESS',
  }),
  /**
   * An SMS address on gsi1 by the bare number, across tenants: an SNS delivery log names only the destination
   * number and the Publish message id, so the number leads to the customers whose timelines hold the message.
   */
  smsDestination: (e164: string, tenantId: string) => ({ gsi1pk: `SMSTO#${e164}`, gsi1sk: tenantId }),
  smsDestinationPartition: (e164: string) => `SMSTO#${e164}`,
  /** The idempotency claim and message-id → timeline pointer. */
  messageClaim: (tenantId: string, messageId: string): ItemKey => ({
    pk: `${tenantPrefix(tenantId)}MSG#${messageId}`,
    sk: 'MESSAGE',
  }),
  /** A prompt's step-up verification, beside the prompt message's claim. */
  stepUp: (tenantId: string, promptMessageId: string): ItemKey => ({
    pk: `${tenantPrefix(tenantId)}MSG#${promptMessageId}`,
    sk: 'STEPUP',
  }),
  timelineItem: (tenantId: string, customerId: string, timelineId: string): ItemKey => ({
    pk: `${tenantPrefix(tenantId)}C#${customerId}`,
    sk: `MSG#${timelineId}`,
  }),
  timelinePrefix: 'MSG#',
  /** Conversations needing an agent's attention, one item per customer in the tenant's attention partition. */
  attention: (tenantId: string, customerId: string): ItemKey => ({
    pk: `${tenantPrefix(tenantId)}ATTENTION`,
    sk: customerId,
  }),
  attentionPartition: (tenantId: string) => `${tenantPrefix(tenantId)}ATTENTION`,
  callback: (tenantId: string, callbackId: string): ItemKey => ({
    pk: `${tenantPrefix(tenantId)}CALLBACKS`,
    sk: callbackId,
  }),
  callbackPartition: (tenantId: string) => `${tenantPrefix(tenantId)}CALLBACKS`,
  /** Guards "one open callback per customer" with a conditional create. */
  openCallback: (tenantId: string, customerId: string): ItemKey => ({
    pk: `${tenantPrefix(tenantId)}C#${customerId}`,
    sk: 'OPENCALLBACK',
  }),
  /** The customer's current chat session: a new one ends the previous one. */
  currentChatSession: (tenantId: string, customerId: string): ItemKey => ({
    pk: `${tenantPrefix(tenantId)}C#${customerId}`,
    sk: 'CHATSESSION',
  }),
  chatSession: (tenantId: string, sessionId: string): ItemKey => ({
    pk: `${tenantPrefix(tenantId)}CHAT#${sessionId}`,
    sk: 'CHAT',
  }),
  /** WebSocket connection id → tenant, customer, session (connection ids are global to the API). */
  connection: (connectionId: string): ItemKey => ({ pk: `WSCONN#${connectionId}`, sk: 'CONNECTION' }),
  /**
   * A callback on the status index: `GET /v1/callbacks?status=` lists newest first by `at` (requested callbacks by
   * when they were asked for, closed ones by when they were closed).
   */
  callbackByStatus: (tenantId: string, status: string, at: string, callbackId: string) => ({
    gsi2pk: callbackStatusPartition(tenantId, status),
    gsi2sk: `${at}#${callbackId}`,
  }),
  callbackStatusPartition,
  /**
   * A conversation with a reason raised, on the status index, most recent first: `GET /v1/conversations`. Only open
   * entries are on it: an entry with nothing left raised is deleted.
   */
  attentionOpen: (tenantId: string, lastAt: string, customerId: string) => ({
    gsi2pk: attentionOpenPartition(tenantId),
    gsi2sk: `${lastAt}#${customerId}`,
  }),
  attentionOpenPartition,
  /** A tenant's webhook endpoints: one small partition (at most `maxWebhooksPerTenant` items). */
  webhook: (tenantId: string, webhookId: string): ItemKey => ({
    pk: `${tenantPrefix(tenantId)}WEBHOOKS`,
    sk: webhookId,
  }),
  webhooks: (tenantId: string) => `${tenantPrefix(tenantId)}WEBHOOKS`,
  /**
   * One delivery attempt, in a partition per endpoint, sorted by time: `GET /v1/webhooks/{id}/deliveries` is one
   * Query on it, newest first, paged. Attempts expire.
   */
  webhookAttempt: (tenantId: string, webhookId: string, attemptedAt: string, deliveryId: string, attempt: number) => ({
    pk: webhookAttemptPartition(tenantId, webhookId),
    sk: `${webhookAttemptPrefix}${attemptedAt}#${deliveryId}#${String(attempt).padStart(2, '0')}`,
  }),
  webhookAttemptPartition: (tenantId: string, webhookId: string) => webhookAttemptPartition(tenantId, webhookId),
  webhookAttemptPrefix,
};

/** The index that lists items by status (callbacks, conversations needing attention): `gsi2` of the table. */
export const statusIndex = tableSchema.globalSecondaryIndexes[1];
