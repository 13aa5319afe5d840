/**
 * The ports the domain needs. Adapters in functions/adapters implement them with the AWS SDK; unit tests use
 * in-memory fakes.
 */
import type {
  ApiKeyRecord,
  Channel,
  ConsentRecord,
  Customer,
  CustomerPreferences,
  Message,
  MessageClaim,
  OpenPrompt,
  PendingQuestion,
  PromptAnswer,
  Template,
  Tenant,
} from './model.ts';

export type ClaimResult = { claimed: true } | { claimed: false; existing: MessageClaim };

export interface CustomerChanges {
  phone?: string | null;
  email?: string | null;
  timezone?: string | null;
  locale?: string | null;
  preferences?: {
    channel?: CustomerPreferences['channel'] | null;
    quietHours?: CustomerPreferences['quietHours'] | null;
  };
  /** A prompt the send opens, recorded in the same write. */
  openPrompt?: OpenPrompt;
}

/** What an inbound message changes on its customer, written in one versioned update. */
export interface CustomerInboundUpdate {
  at: string;
  channel: Channel;
  /** Creates the customer (an unknown sender's conversation). */
  create?: { phone: string; unknownSender: boolean };
  consent?: { channel: Channel; record: ConsentRecord };
  /** Prompts answered now: each moves from open to answered. */
  answers?: Record<string, PromptAnswer>;
  /** Open prompts and answers past their keeping time. */
  dropPrompts?: string[];
  dropAnswers?: string[];
  /** null clears it. */
  pendingQuestion?: PendingQuestion | null;
}

/** (tenant, channel, address): the customer it belongs to and the consent given from it. */
export interface AddressRecord {
  customerId?: string;
  consent?: ConsentRecord;
}

export interface TimelinePage {
  messages: Message[];
  nextCursor?: string;
}

export interface TenantStore {
  getTenant(tenantId: string): Promise<Tenant | undefined>;
  putTenant(tenant: Tenant): Promise<void>;
  listTenants(): Promise<Tenant[]>;
  getApiKey(keyId: string): Promise<ApiKeyRecord | undefined>;
  putApiKey(key: ApiKeyRecord): Promise<void>;
  revokeApiKey(keyId: string, at: string): Promise<boolean>;
}

export interface TemplateStore {
  getTemplate(tenantId: string, name: string): Promise<Template | undefined>;
  putTemplate(tenantId: string, template: Template): Promise<void>;
  listTemplates(tenantId: string): Promise<Template[]>;
}

export interface CustomerStore {
  getCustomer(tenantId: string, customerId: string, options?: { consistent?: boolean }): Promise<Customer | undefined>;
  /**
   * Applies changes (creating the customer when `create` is true) and returns the customer before and after, in
   * one write. Returns undefined when the customer does not exist and `create` is false.
   */
  upsertCustomer(
    tenantId: string,
    customerId: string,
    changes: CustomerChanges,
    options: { create: boolean; now: string },
  ): Promise<{ before?: Customer; after: Customer } | undefined>;
  /** Points (tenant, channel, address) at a customer, for inbound lookups; returns the address's consent. */
  putAddress(
    tenantId: string,
    channel: Channel,
    address: string,
    customerId: string,
  ): Promise<ConsentRecord | undefined>;
  deleteAddress(tenantId: string, channel: Channel, address: string, customerId: string): Promise<void>;
  setCustomerConsent(tenantId: string, customerId: string, channel: Channel, consent: ConsentRecord): Promise<void>;
  /** Closes prompts: one whose message never went out, or ones long expired or crowded out. */
  dropOpenPrompts(tenantId: string, customerId: string, messageIds: string[]): Promise<void>;
}

export interface InboundCustomerStore extends CustomerStore {
  getAddress(tenantId: string, channel: Channel, address: string): Promise<AddressRecord | undefined>;
  setAddressConsent(tenantId: string, channel: Channel, address: string, consent: ConsentRecord): Promise<void>;
  updateCustomerAfterInbound(
    tenantId: string,
    customerId: string,
    update: CustomerInboundUpdate,
    /** 'any': no condition, for changes that do not depend on what was read. */
    expected: { version: number } | 'absent' | 'any',
  ): Promise<boolean>;
}

export interface MessageStore {
  /** Conditional write: claims the message id, or returns the existing claim. */
  claimMessage(claim: MessageClaim): Promise<ClaimResult>;
  /** Takes over a claim whose lease has expired (the first attempt died); false when someone else holds it. */
  renewClaim(claim: MessageClaim, previousLeaseUntil: number): Promise<boolean>;
  /** Deletes the claim if it is still the one given (same lease): a taken-over claim is not ours to release. */
  releaseClaim(claim: MessageClaim): Promise<void>;
  getClaim(tenantId: string, messageId: string): Promise<MessageClaim | undefined>;
  putMessage(message: Message): Promise<void>;
  getMessageByClaim(claim: MessageClaim): Promise<Message | undefined>;
  getMessage(tenantId: string, messageId: string): Promise<Message | undefined>;
  listTimeline(
    tenantId: string,
    customerId: string,
    options: { limit: number; before?: string },
  ): Promise<TimelinePage>;
}

export interface SmsSender {
  /** Resolves to the provider's message id; throws ProviderRejectedError or ProviderUnavailableError. */
  sendSms(input: { to: string; from: string; body: string }): Promise<{ providerMessageId: string }>;
}

export interface EmailSender {
  sendEmail(input: {
    to: string;
    from: string;
    replyTo: string;
    subject: string;
    text: string;
    html?: string;
  }): Promise<{ providerMessageId: string }>;
}

export interface ParleyEvent {
  type: string;
  detail: { tenantId: string; customerId: string; occurredAt: string; messageId?: string; reference?: string } & Record<
    string,
    unknown
  >;
}

export interface EventPublisher {
  publish(events: ParleyEvent[]): Promise<void>;
}

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
