/**
 * In-memory fakes of the domain's ports, with the semantics the DynamoDB adapter has (conditional claim, lease
 * compare-and-set, upsert returning before/after), so domain tests exercise the same contract without a network.
 * Stored values are copied in and out, as a database would, so a caller mutating an object afterwards changes nothing.
 */
import {
  ProviderOutcomeUnknownError,
  ProviderRejectedError,
  ProviderUnavailableError,
} from '../../functions/domain/errors.ts';
import type { InboundDeps } from '../../functions/domain/inbound.ts';
import type {
  ApiKeyRecord,
  Channel,
  ConsentRecord,
  Customer,
  Message,
  MessageClaim,
  MessageStatus,
  StatusChange,
  Template,
  Tenant,
  TenantKeyword,
} from '../../functions/domain/model.ts';
import type {
  AddressRecord,
  AttentionMark,
  AttentionReason,
  AttentionStore,
  ClaimResult,
  Clock,
  CustomerChanges,
  CustomerInboundUpdate,
  DeliveryMessageStore,
  EmailSender,
  EventPublisher,
  InboundCustomerStore,
  Page,
  PageRequest,
  ParleyEvent,
  SmsSender,
  StepUpStore,
  TemplateStore,
  TenantSetting,
  TenantStore,
  TimelinePage,
} from '../../functions/domain/ports.ts';
import type { SendDeps } from '../../functions/domain/send-message.ts';
import type { StepUpState } from '../../functions/domain/step-up.ts';
import type { WebhookPostResult } from '../../functions/domain/webhook-delivery.ts';
import type { WebhookAttempt, WebhookEndpoint, WebhookStore } from '../../functions/domain/webhook-registry.ts';

const copy = <T>(value: T): T => structuredClone(value);

export const at = (iso: string): number => Date.parse(iso);

export class FakeClock implements Clock {
  constructor(private current: number = at('2025-06-02T12:00:00.000Z')) {}

  now(): number {
    return this.current;
  }

  set(ms: number): void {
    this.current = ms;
  }

  advance(ms: number): void {
    this.current += ms;
  }
}

const addressFields = ['phone', 'email', 'timezone', 'locale'] as const;

export type ExpectedVersion = Parameters<InboundCustomerStore['updateCustomerAfterInbound']>[3];

export interface InboundUpdateCall {
  customerId: string;
  update: CustomerInboundUpdate;
  expected: ExpectedVersion;
  written: boolean;
}

export class InMemoryCustomerStore implements InboundCustomerStore {
  readonly customers = new Map<string, Customer>();
  /** `${tenantId}/${channel}/${address}` → customerId */
  readonly addresses = new Map<string, string>();
  upserts = 0;
  /** Every customer read, with whether it asked for a consistent read (the adapter's default is consistent). */
  readonly reads: { customerId: string; consistent: boolean }[] = [];
  /** Every `updateCustomerAfterInbound`, with what it expected and whether it was written. */
  readonly inboundUpdates: InboundUpdateCall[] = [];
  /** Concurrent writers to run just before the next inbound updates, one per update. */
  private readonly concurrentWriters: ((customer: Customer) => void)[] = [];

  /** Stores a customer as if it had been created earlier (consent, learned channel and all). */
  seed(customer: Partial<Customer> & Pick<Customer, 'tenantId' | 'customerId'>): Customer {
    const full: Customer = {
      preferences: {},
      consent: {},
      openPrompts: {},
      promptAnswers: {},
      createdAt: '2025-01-01T00:00:00.000Z',
      updatedAt: '2025-01-01T00:00:00.000Z',
      version: 1,
      ...customer,
    };
    this.customers.set(this.key(full.tenantId, full.customerId), copy(full));
    return full;
  }

  async getCustomer(
    tenantId: string,
    customerId: string,
    options: { consistent?: boolean } = {},
  ): Promise<Customer | undefined> {
    this.reads.push({ customerId, consistent: options.consistent ?? true });
    const customer = this.customers.get(this.key(tenantId, customerId));
    return customer && copy(customer);
  }

  /**
   * Another writer gets in between the next inbound read and its write: `change` is applied to the stored
   * customer (created blank if absent) with a version bump, as any versioned write would, so a write conditional
   * on the version read loses and must read again. One call, one interleaved write.
   */
  writeConcurrentlyBeforeNextInboundUpdate(change: (customer: Customer) => void = () => {}): void {
    this.concurrentWriters.push(change);
  }

  async clearAcknowledged(tenantId: string, customerId: string): Promise<void> {
    const customer = this.customers.get(this.key(tenantId, customerId));
    if (customer) delete customer.acknowledgedAt;
  }

  /** As the adapter: conditional on the version read, on absence, or on nothing ('any'); false when it lost. */
  async updateCustomerAfterInbound(
    tenantId: string,
    customerId: string,
    update: CustomerInboundUpdate,
    expected: ExpectedVersion,
  ): Promise<boolean> {
    const key = this.key(tenantId, customerId);
    const concurrent = this.concurrentWriters.shift();
    if (concurrent) {
      const current = this.customers.get(key) ?? this.blankCustomer(tenantId, customerId, update.at);
      concurrent(current);
      current.version += 1;
      this.customers.set(key, current);
    }
    const existing = this.customers.get(key);
    const allowed =
      expected === 'any' ? true : expected === 'absent' ? !existing : existing?.version === expected.version;
    this.inboundUpdates.push({ customerId, update: copy(update), expected: copy(expected), written: allowed });
    if (!allowed) return false;

    const after = existing ? copy(existing) : this.blankCustomer(tenantId, customerId, update.at);
    if (update.create) {
      if (update.create.phone !== undefined) after.phone ??= update.create.phone;
      if (update.create.email !== undefined) after.email ??= update.create.email;
      if (update.create.unknownSender) after.unknownSender ??= true;
    }
    after.updatedAt = update.at;
    after.lastInboundAt = update.at;
    after.activeChannel = update.channel;
    after.learnedChannel = update.channel;
    after.version += 1;
    if (update.consent) after.consent[update.consent.channel] = copy(update.consent.record);
    if (update.acknowledged) after.acknowledgedAt = update.acknowledged;
    for (const [messageId, answer] of Object.entries(update.answers ?? {})) {
      after.promptAnswers[messageId] = copy(answer);
      delete after.openPrompts[messageId];
    }
    for (const messageId of update.dropPrompts ?? []) delete after.openPrompts[messageId];
    for (const messageId of update.dropAnswers ?? []) delete after.promptAnswers[messageId];
    if (update.pendingQuestion === null) delete after.pendingQuestion;
    else if (update.pendingQuestion) after.pendingQuestion = copy(update.pendingQuestion);
    this.customers.set(key, after);
    return true;
  }

  private blankCustomer(tenantId: string, customerId: string, at: string): Customer {
    return {
      tenantId,
      customerId,
      preferences: {},
      consent: {},
      openPrompts: {},
      promptAnswers: {},
      createdAt: at,
      updatedAt: at,
      version: 0,
    };
  }

  async upsertCustomer(
    tenantId: string,
    customerId: string,
    changes: CustomerChanges,
    options: { create: boolean; now: string },
  ): Promise<{ before?: Customer; after: Customer } | undefined> {
    this.upserts++;
    const key = this.key(tenantId, customerId);
    const before = this.customers.get(key);
    if (!before && !options.create) return undefined;
    const previous = copy(before);
    const after: Customer = {
      preferences: {},
      consent: {},
      createdAt: options.now,
      ...previous,
      openPrompts: { ...previous?.openPrompts },
      promptAnswers: { ...previous?.promptAnswers },
      tenantId,
      customerId,
      updatedAt: options.now,
      version: (before?.version ?? 0) + 1,
    };
    for (const field of addressFields) {
      const value = changes[field];
      if (value === null) delete after[field];
      else if (value !== undefined) after[field] = value;
    }
    const preferences: Record<string, unknown> = { ...after.preferences };
    for (const [name, value] of Object.entries(changes.preferences ?? {})) {
      if (value === null) delete preferences[name];
      else if (value !== undefined) preferences[name] = value;
    }
    after.preferences = preferences as Customer['preferences'];
    for (const messageId of changes.dropPrompts ?? []) delete after.openPrompts[messageId];
    if (changes.openPrompt) after.openPrompts[changes.openPrompt.messageId] = changes.openPrompt;
    this.customers.set(key, copy(after));
    return { ...(before && { before: copy(before) }), after: copy(after) };
  }

  /** `${tenantId}/${channel}/${address}` → consent given from that address */
  readonly addressConsent = new Map<string, ConsentRecord>();
  /** `${tenantId}/${channel}/${address}` → every customer the address was given to (a joint account) */
  readonly addressCustomers = new Map<string, Set<string>>();

  async putAddress(
    tenantId: string,
    channel: Channel,
    address: string,
    customerId: string,
  ): Promise<ConsentRecord | undefined> {
    const key = `${tenantId}/${channel}/${address}`;
    this.addresses.set(key, customerId);
    this.addressCustomers.set(key, new Set([...(this.addressCustomers.get(key) ?? []), customerId]));
    return this.addressConsent.get(key);
  }

  /** As the adapter: never over a later change already kept on the customer. */
  async setCustomerConsent(tenantId: string, customerId: string, channel: Channel, consent: ConsentRecord) {
    const customer = this.customers.get(this.key(tenantId, customerId));
    if (!customer) return;
    const kept = customer.consent[channel];
    if (kept && kept.at > consent.at) return;
    customer.consent[channel] = copy(consent);
    // The adapter's write bumps the version, so an inbound update that read before it loses and reads again.
    customer.version += 1;
  }

  async getAddress(tenantId: string, channel: Channel, address: string): Promise<AddressRecord | undefined> {
    const key = `${tenantId}/${channel}/${address}`;
    const customerId = this.addresses.get(key);
    const consent = this.addressConsent.get(key);
    const others = [...(this.addressCustomers.get(key) ?? [])].sort();
    const customerIds = customerId ? [customerId, ...others.filter((id) => id !== customerId)] : others;
    if (customerIds.length === 0 && consent === undefined) return undefined;
    return {
      ...((customerId ?? customerIds[0]) !== undefined && { customerId: (customerId ?? customerIds[0]) as string }),
      ...(customerIds.length > 0 && { customerIds }),
      ...(consent && { consent: copy(consent) }),
    };
  }

  /** As the adapter: written only when the address has no consent yet or its consent is not later than this one. */
  async setAddressConsent(tenantId: string, channel: Channel, address: string, consent: ConsentRecord) {
    const key = `${tenantId}/${channel}/${address}`;
    const stored = this.addressConsent.get(key);
    if (stored && stored.at > consent.at) return { written: false as const };
    this.addressConsent.set(key, copy(consent));
    return { written: true as const, ...(stored && { previous: stored }) };
  }

  /** Writes made only to close prompts. */
  promptDrops = 0;

  async dropOpenPrompts(tenantId: string, customerId: string, messageIds: string[]): Promise<void> {
    this.promptDrops++;
    const customer = this.customers.get(this.key(tenantId, customerId));
    if (!customer) return;
    for (const messageId of messageIds) delete customer.openPrompts[messageId];
    customer.version += 1;
  }

  async deleteAddress(tenantId: string, channel: Channel, address: string, customerId: string): Promise<void> {
    const key = `${tenantId}/${channel}/${address}`;
    this.addressCustomers.get(key)?.delete(customerId);
    // Only while it still points at this customer, as the adapter's conditional delete.
    if (this.addresses.get(key) === customerId) this.addresses.delete(key);
  }

  customerIdByAddress(tenantId: string, channel: Channel, address: string): string | undefined {
    return this.addresses.get(`${tenantId}/${channel}/${address}`);
  }

  private key(tenantId: string, customerId: string): string {
    return `${tenantId}/${customerId}`;
  }
}

export class InMemoryMessageStore implements DeliveryMessageStore {
  readonly claims = new Map<string, MessageClaim>();
  /** `${tenantId}/${customerId}/${timelineId}` → message, as the timeline item the adapter writes. */
  readonly messages = new Map<string, Message>();
  /** Every call by name, in order, to assert what was (not) written. */
  readonly calls: string[] = [];

  async claimMessage(claim: MessageClaim): Promise<ClaimResult> {
    this.calls.push('claimMessage');
    const existing = this.claims.get(this.claimKey(claim.tenantId, claim.messageId));
    if (existing) return { claimed: false, existing: copy(existing) };
    this.claims.set(this.claimKey(claim.tenantId, claim.messageId), copy(claim));
    return { claimed: true };
  }

  async renewClaim(claim: MessageClaim, previousLeaseUntil: number): Promise<boolean> {
    this.calls.push('renewClaim');
    const existing = this.claims.get(this.claimKey(claim.tenantId, claim.messageId));
    if (!existing || existing.leaseUntil !== previousLeaseUntil) return false;
    existing.leaseUntil = claim.leaseUntil;
    return true;
  }

  async releaseClaim(claim: MessageClaim): Promise<void> {
    this.calls.push('releaseClaim');
    const key = this.claimKey(claim.tenantId, claim.messageId);
    // Only our own claim, as the adapter's conditional delete: a taken-over one has another lease.
    if (this.claims.get(key)?.leaseUntil === claim.leaseUntil) this.claims.delete(key);
  }

  async getClaim(tenantId: string, messageId: string): Promise<MessageClaim | undefined> {
    this.calls.push('getClaim');
    const claim = this.claims.get(this.claimKey(tenantId, messageId));
    return claim && copy(claim);
  }

  async putMessage(message: Message): Promise<void> {
    this.calls.push('putMessage');
    this.messages.set(this.messageKey(message.tenantId, message.customerId, message.timelineId), copy(message));
  }

  /** As the adapter: only while the stored status is still `from`. */
  async advanceStatus(message: Message, from: MessageStatus, change: StatusChange): Promise<boolean> {
    const key = this.messageKey(message.tenantId, message.customerId, message.timelineId);
    const stored = this.messages.get(key);
    if (!stored || stored.status !== from) return false;
    this.messages.set(key, {
      ...stored,
      status: change.status,
      statusHistory: [...stored.statusHistory, copy(change)],
    });
    return true;
  }

  async setFallback(message: Message, fallback: { messageId: string; channel: Channel }): Promise<boolean> {
    this.calls.push('setFallback');
    const stored = this.messages.get(this.messageKey(message.tenantId, message.customerId, message.timelineId));
    if (!stored || stored.fallback) return false;
    stored.fallback = copy(fallback);
    return true;
  }

  /** As the adapter, without its index: any tenant's outbound SMS to that number with that provider id. */
  async findSmsByProviderId(destination: string, providerMessageId: string): Promise<Message | undefined> {
    this.calls.push('findSmsByProviderId');
    const found = [...this.messages.values()].find(
      (m) => m.channel === 'sms' && m.to === destination && m.providerMessageId === providerMessageId,
    );
    return found && copy(found);
  }

  async getMessageByClaim(claim: MessageClaim): Promise<Message | undefined> {
    this.calls.push('getMessageByClaim');
    const message = this.messages.get(this.messageKey(claim.tenantId, claim.customerId, claim.timelineId));
    return message && copy(message);
  }

  async getMessageAt(tenantId: string, customerId: string, timelineId: string): Promise<Message | undefined> {
    this.calls.push('getMessageAt');
    const message = this.messages.get(this.messageKey(tenantId, customerId, timelineId));
    return message && copy(message);
  }

  async getMessage(tenantId: string, messageId: string): Promise<Message | undefined> {
    const claim = this.claims.get(this.claimKey(tenantId, messageId));
    if (!claim) return undefined;
    const message = this.messages.get(this.messageKey(tenantId, claim.customerId, claim.timelineId));
    return message && copy(message);
  }

  async listTimeline(
    tenantId: string,
    customerId: string,
    options: { limit: number; before?: string },
  ): Promise<TimelinePage> {
    const newestFirst = [...this.messages.values()]
      .filter((m) => m.tenantId === tenantId && m.customerId === customerId)
      .filter((m) => options.before === undefined || m.timelineId < options.before)
      .sort((a, b) => (a.timelineId < b.timelineId ? 1 : -1));
    const messages = newestFirst.slice(0, options.limit).map(copy);
    const last = messages.at(-1);
    return newestFirst.length > options.limit && last ? { messages, nextCursor: last.timelineId } : { messages };
  }

  /** Every stored message, whatever the customer. */
  allMessages(): Message[] {
    return [...this.messages.values()].map(copy);
  }

  private claimKey(tenantId: string, messageId: string): string {
    return `${tenantId}/${messageId}`;
  }

  private messageKey(tenantId: string, customerId: string, timelineId: string): string {
    return `${tenantId}/${customerId}/${timelineId}`;
  }
}

/**
 * `rejected`: refused for good; `unavailable`: provably not taken (throttled); `unknown`: the request went and no
 * answer came, and nothing was sent; `lost_answer`: the provider took it (the customer gets it) and the answer was
 * lost; `error`: a bug on our side of the call.
 */
export type ProviderFailure = 'rejected' | 'unavailable' | 'unknown' | 'lost_answer' | 'error';

const providerFailure = (kind: ProviderFailure): Error => {
  switch (kind) {
    case 'rejected':
      return new ProviderRejectedError('InvalidParameter');
    case 'unavailable':
      return new ProviderUnavailableError(new Error('Throttling'));
    case 'unknown':
    case 'lost_answer':
      return new ProviderOutcomeUnknownError(new Error('socket hang up'));
    case 'error':
      return new Error('serializer failed');
  }
};

/** Shared by both senders: records each call, succeeds with a fresh provider id, or throws what it was told to. */
class RecordingSender<Input> {
  /** Every call, including those that were made to fail. */
  readonly attempts: Input[] = [];
  /** The calls that succeeded: what a customer received. */
  readonly sent: Input[] = [];
  private readonly failures: ProviderFailure[] = [];

  constructor(private readonly idPrefix: string) {}

  /** The next `times` calls throw; later calls succeed again. */
  failNext(kind: ProviderFailure, times = 1): void {
    for (let i = 0; i < times; i++) this.failures.push(kind);
  }

  protected async record(input: Input): Promise<{ providerMessageId: string }> {
    this.attempts.push(copy(input));
    const failure = this.failures.shift();
    if (failure === 'lost_answer') this.sent.push(copy(input));
    if (failure) throw providerFailure(failure);
    this.sent.push(copy(input));
    return { providerMessageId: `${this.idPrefix}-${this.sent.length}` };
  }
}

export type SmsInput = Parameters<SmsSender['sendSms']>[0];
export type EmailInput = Parameters<EmailSender['sendEmail']>[0];

/** `List-Unsubscribe` targets as the real ones are shaped, unsigned: the unit tests read them back, never verify. */
export const fakeUnsubscribeLinks = (tenant: string, _address: string, messageId: string) => ({
  mailto: `unsubscribe+${tenant}.${messageId.toLowerCase()}@reply.parley.test`,
  url: `https://api.parley.test/v1/unsubscribe/${tenant}.${messageId.toLowerCase()}`,
});

export class RecordingSmsSender extends RecordingSender<SmsInput> implements SmsSender {
  constructor() {
    super('sns');
  }

  sendSms(input: SmsInput): Promise<{ providerMessageId: string }> {
    return this.record(input);
  }
}

export class RecordingEmailSender extends RecordingSender<EmailInput> implements EmailSender {
  constructor() {
    super('ses');
  }

  sendEmail(input: EmailInput): Promise<{ providerMessageId: string }> {
    return this.record(input);
  }
}

export class RecordingEventPublisher implements EventPublisher {
  readonly events: ParleyEvent[] = [];
  /** When set, every publish throws it (after nothing was recorded). */
  failWith: Error | undefined;

  async publish(events: ParleyEvent[]): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.events.push(...copy(events));
  }

  types(): string[] {
    return this.events.map((e) => e.type);
  }
}

export const tenantId = 'demo-bank';

export const makeTenant = (overrides: Partial<Tenant> = {}): Tenant => ({
  tenantId,
  name: 'Demo Bank',
  smsNumber: '+12025550100',
  emailFrom: 'alerts@demo-bank.example',
  createdAt: '2025-01-01T00:00:00.000Z',
  ...overrides,
});

export interface FakeSendDeps extends SendDeps {
  templates: Map<string, Template>;
  customers: InMemoryCustomerStore;
  messages: InMemoryMessageStore;
  sms: RecordingSmsSender;
  email: RecordingEmailSender;
  events: RecordingEventPublisher;
  clock: FakeClock;
  /** Every sleep the domain asked for, in ms; sleeping is instant and advances `clock` by that much. */
  slept: number[];
  putTemplate(tenantId: string, template: Template): void;
}

/** A `SendDeps` on fakes: small replay polling, instant sleep, a Reply-To that names tenant and message. */
export const sendDeps = (): FakeSendDeps => {
  const templates = new Map<string, Template>();
  const slept: number[] = [];
  const clock = new FakeClock();
  const sms = new RecordingSmsSender();
  const email = new RecordingEmailSender();
  return {
    templates,
    getTemplate: async (tenant, name) => {
      const template = templates.get(`${tenant}/${name}`);
      return template && copy(template);
    },
    putTemplate: (tenant, template) => {
      templates.set(`${tenant}/${template.name}`, copy(template));
    },
    customers: new InMemoryCustomerStore(),
    messages: new InMemoryMessageStore(),
    sms,
    email,
    senders: { sms, email },
    events: new RecordingEventPublisher(),
    clock,
    replyAddress: (tenant, messageId) => `reply+${tenant}.${messageId.toLowerCase()}@reply.parley.test`,
    unsubscribeLinks: fakeUnsubscribeLinks,
    maxSmsSegments: 6,
    claimLeaseMs: 30_000,
    replayPoll: { intervalMs: 100, attempts: 3 },
    slept,
    // Instant, but time moves on as it would: a lease can run out while a duplicate polls.
    sleep: async (ms) => {
      slept.push(ms);
      clock.advance(ms);
    },
  };
};

export interface AttentionEntry {
  customerId: string;
  reason: string;
  summary: string;
  /** When the conversation first needed attention; kept across marks, as the adapter's `if_not_exists`. */
  since: string;
  lastMessageAt: string;
}

/** Records every reason the inbound pipeline raises, and keeps the latest per conversation. */
export class InMemoryAttentionStore implements Pick<AttentionStore, 'raise'> {
  /** `${tenantId}/${customerId}` → the conversation's latest mark. */
  readonly entries = new Map<string, AttentionEntry>();
  /** Every mark, in order. */
  readonly marks: { tenantId: string; customerId: string; reason: string; at: string; summary: string }[] = [];

  async raise(tenantId: string, customerId: string, reason: AttentionReason, mark: AttentionMark): Promise<void> {
    const summary = mark.summary ?? '';
    this.marks.push({ tenantId, customerId, reason, at: mark.at, summary });
    const key = `${tenantId}/${customerId}`;
    const since = this.entries.get(key)?.since ?? mark.at;
    this.entries.set(key, { customerId, reason, summary, since, lastMessageAt: mark.at });
  }
}

export type EscalationInput = Parameters<InboundDeps['escalate']>[0];

export interface FakeInboundDeps extends InboundDeps {
  customers: InMemoryCustomerStore;
  messages: InMemoryMessageStore;
  attention: InMemoryAttentionStore;
  sms: RecordingSmsSender;
  email: RecordingEmailSender;
  events: RecordingEventPublisher;
  clock: FakeClock;
  templates: Map<string, Template>;
  /** Every back-off the domain asked for, in ms; sleeping is instant and advances `clock` by that much. */
  slept: number[];
  /** Every CALL/CHAT escalation asked for; each acknowledges with a fixed reply. */
  escalations: EscalationInput[];
  putTemplate(tenantId: string, template: Template): void;
}

const day = 24 * 3600 * 1000;

/** An `InboundDeps` on fakes, with the keeping times and lease the Lambda handler uses. */
export const inboundDeps = (): FakeInboundDeps => {
  const templates = new Map<string, Template>();
  const slept: number[] = [];
  const escalations: EscalationInput[] = [];
  const clock = new FakeClock();
  const sms = new RecordingSmsSender();
  const email = new RecordingEmailSender();
  return {
    templates,
    getTemplate: async (tenant, name) => {
      const template = templates.get(`${tenant}/${name}`);
      return template && copy(template);
    },
    putTemplate: (tenant, template) => {
      templates.set(`${tenant}/${template.name}`, copy(template));
    },
    escalations,
    escalate: async (input) => {
      escalations.push(copy(input));
      return input.kind === 'callback'
        ? {
            effect: { type: 'callback_requested', callbackId: `cb-${escalations.length}`, keyword: input.keyword },
            reply: `${input.tenant.name}: we will call you back shortly.`,
          }
        : {
            effect: { type: 'chat_requested', keyword: input.keyword },
            reply: `${input.tenant.name}: chat with us at https://chat.parley.test/c/${escalations.length}`,
          };
    },
    customers: new InMemoryCustomerStore(),
    messages: new InMemoryMessageStore(),
    attention: new InMemoryAttentionStore(),
    sms,
    email,
    senders: { sms, email },
    replyAddress: (tenant, messageId) => `reply+${tenant}.${messageId.toLowerCase()}@reply.parley.test`,
    unsubscribeLinks: fakeUnsubscribeLinks,
    maxSmsSegments: 6,
    events: new RecordingEventPublisher(),
    clock,
    expiredPromptKeepMs: 7 * day,
    answerKeepMs: 30 * day,
    claimLeaseMs: 30_000,
    slept,
    // Instant; the clock moves on by whole milliseconds, as Date.now() does.
    sleep: async (ms) => {
      slept.push(ms);
      clock.advance(Math.ceil(ms));
    },
  };
};

// Escalation: attention, callbacks and chat (the ports at the end of domain/ports.ts), with the semantics of
// attention-store.ts, callback-store.ts and chat-store.ts; test/integration/store-contract-escalation.test.ts runs the
// same cases against both.

import { InvalidCursorError } from '../../functions/adapters/dynamo/dynamo-helpers.ts';

type AttentionPort = import('../../functions/domain/ports.ts').AttentionStore;
type AttentionReasonOf = import('../../functions/domain/ports.ts').AttentionReason;
type AttentionMarkOf = import('../../functions/domain/ports.ts').AttentionMark;
type AttentionEntryOf = import('../../functions/domain/ports.ts').AttentionEntry;
type CallbackPort = import('../../functions/domain/ports.ts').CallbackStore;
type ChatPort = import('../../functions/domain/ports.ts').ChatStore;
type PusherPort = import('../../functions/domain/ports.ts').ConnectionPusher;
type PageOf<T> = import('../../functions/domain/ports.ts').Page<T>;
type PageRequestOf = import('../../functions/domain/ports.ts').PageRequest;
type CallbackOf = import('../../functions/domain/model.ts').Callback;
type ChatSessionOf = import('../../functions/domain/model.ts').ChatSession;
type ConnectionOf = import('../../functions/domain/model.ts').Connection;
type EscalationDepsOf = import('../../functions/domain/escalation.ts').EscalationDeps;

const encodeFakeCursor = (key: Record<string, string>) => Buffer.from(JSON.stringify(key)).toString('base64url');

/** The key a fake's cursor holds, when it was handed out for this very query (as the adapter checks its cursors). */
const decodeFakeCursor = (cursor: string, query: Record<string, string>): string => {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, string>;
    const matches = Object.entries(query).every(([name, value]) => key[name] === value);
    if (matches && typeof key.after === 'string') return key.after;
  } catch {
    // not a cursor
  }
  throw new InvalidCursorError();
};

/**
 * One page of `sorted` (highest sort key first) after `cursor`, as DynamoDB pages a query: `limit` items are read,
 * then those `keep` refuses are dropped (a filter), and a cursor is handed out whenever the read stopped at `limit`.
 */
const fakePage = <T>(
  sorted: { sortKey: string; item: T }[],
  page: PageRequestOf,
  query: Record<string, string>,
  keep: (item: T) => boolean = () => true,
): PageOf<T> => {
  const after = page.cursor === undefined ? undefined : decodeFakeCursor(page.cursor, query);
  const read = sorted.filter((entry) => after === undefined || entry.sortKey < after).slice(0, page.limit);
  const items = read.filter((entry) => keep(entry.item)).map((entry) => copy(entry.item));
  const last = read.at(-1);
  return read.length === page.limit && last
    ? { items, nextCursor: encodeFakeCursor({ ...query, after: last.sortKey }) }
    : { items };
};

const highestFirst = <T>(entries: { sortKey: string; item: T }[]) =>
  entries.sort((a, b) => (a.sortKey < b.sortKey ? 1 : a.sortKey > b.sortKey ? -1 : 0));

const attentionReasonsOf = ['free_text', 'callback', 'chat'] as const;

export class InMemoryAttention implements AttentionPort {
  /** `${tenantId}/${customerId}` → the conversation's entry. */
  readonly entries = new Map<string, AttentionEntryOf>();

  async raise(tenantId: string, customerId: string, reason: AttentionReasonOf, mark: AttentionMarkOf): Promise<void> {
    const key = `${tenantId}/${customerId}`;
    const entry = this.entries.get(key);
    const current = entry?.reasons[reason];
    // A later mark of its reason stays; the entry's place only moves up.
    if (current && current.at > mark.at) return;
    const next: AttentionEntryOf = entry ? copy(entry) : { customerId, since: mark.at, lastAt: mark.at, reasons: {} };
    next.reasons[reason] = {
      at: mark.at,
      ...(mark.summary !== undefined && { summary: mark.summary }),
      ...(mark.ref && { ref: mark.ref }),
    };
    if (next.lastAt < mark.at) next.lastAt = mark.at;
    this.entries.set(key, next);
  }

  async clear(
    tenantId: string,
    customerId: string,
    reason: AttentionReasonOf,
    options: { at: string; ref?: string },
  ): Promise<void> {
    const key = `${tenantId}/${customerId}`;
    const entry = this.entries.get(key);
    const mark = entry?.reasons[reason];
    if (!entry || !mark || mark.at > options.at || (options.ref !== undefined && mark.ref !== options.ref)) return;
    delete entry.reasons[reason];
    if (Object.keys(entry.reasons).length === 0) this.entries.delete(key);
  }

  async get(tenantId: string, customerId: string): Promise<AttentionEntryOf | undefined> {
    const entry = this.entries.get(`${tenantId}/${customerId}`);
    return entry && copy(entry);
  }

  async list(tenantId: string, page: PageRequestOf): Promise<PageOf<AttentionEntryOf>> {
    const sorted = highestFirst(
      [...this.entries.entries()]
        .filter(([key]) => key.startsWith(`${tenantId}/`))
        .map(([, entry]) => ({ sortKey: `${entry.lastAt}#${entry.customerId}`, item: entry })),
    );
    return fakePage(sorted, page, { tenantId, list: 'attention' });
  }

  /** The reasons raised for a customer, in the order the API shows them. */
  async reasonsOf(tenantId: string, customerId: string): Promise<AttentionReasonOf[]> {
    const entry = await this.get(tenantId, customerId);
    return attentionReasonsOf.filter((reason) => entry?.reasons[reason] !== undefined);
  }
}

/** As `closedCallbackKeepMs` in callback-store.ts. */
const closedCallbackKeepMsOf = 30 * 24 * 3600 * 1000;

export class InMemoryCallbackStore implements CallbackPort {
  /** `${tenantId}/${callbackId}` → the record, and when it expires (closed ones), epoch seconds. */
  readonly records = new Map<string, { callback: CallbackOf; expiresAt?: number }>();
  /** `${tenantId}/${customerId}` → the customer's guard: the callback it guards, and a copy of it. */
  readonly guards = new Map<string, { callbackId: string; callback: CallbackOf }>();
  /** Every write, by name, in order. */
  readonly writes: string[] = [];
  private crashAt: number | undefined;

  constructor(private readonly clock: Clock = new FakeClock()) {}

  /** The `n`-th write from now throws, as a crash (or a refused write) between two writes would. */
  failWrite(n = 1): void {
    this.crashAt = this.writes.length + n;
  }

  async openCallback(callback: CallbackOf): Promise<{ opened: boolean; callback: CallbackOf }> {
    const guard = this.guards.get(`${callback.tenantId}/${callback.customerId}`);
    if (!guard || guard.callbackId === callback.callbackId) {
      this.putGuard(callback);
      return this.completeOpening(callback);
    }
    const guarded = await this.getCallback(callback.tenantId, guard.callbackId);
    if (guarded?.status === 'requested') return { opened: false, callback: guarded };
    // A guard whose record is missing: completed while young, taken over once older than closed callbacks are kept.
    if (!guarded && Date.parse(guard.callback.requestedAt) > this.clock.now() - closedCallbackKeepMsOf) {
      return this.completeOpening(copy(guard.callback));
    }
    this.putGuard(callback);
    return this.completeOpening(callback);
  }

  async getCallback(tenantId: string, callbackId: string): Promise<CallbackOf | undefined> {
    const record = this.records.get(`${tenantId}/${callbackId}`);
    if (!record || this.isExpired(record)) return undefined;
    return copy(record.callback);
  }

  async listCallbacks(
    tenantId: string,
    options: PageRequestOf & { status?: CallbackOf['status'] },
  ): Promise<PageOf<CallbackOf>> {
    const records = [...this.records.values()].filter(
      (record) =>
        record.callback.tenantId === tenantId &&
        (options.status === undefined || record.callback.status === options.status),
    );
    const sorted = highestFirst(
      records.map((record) => ({
        sortKey:
          options.status === undefined
            ? record.callback.callbackId
            : `${record.callback.closedAt ?? record.callback.requestedAt}#${record.callback.callbackId}`,
        item: record,
      })),
    );
    const page = fakePage(
      sorted,
      options,
      { tenantId, status: options.status ?? '' },
      (record) => !this.isExpired(record),
    );
    return { ...page, items: page.items.map((record) => record.callback) };
  }

  async closeCallback(
    tenantId: string,
    callbackId: string,
    change: { status: 'completed' | 'cancelled'; note?: string; at: string },
  ): Promise<CallbackOf | undefined> {
    const record = this.records.get(`${tenantId}/${callbackId}`);
    if (!record || this.isExpired(record) || record.callback.status !== 'requested') return undefined;
    this.write('closeRecord');
    const closed: CallbackOf = {
      ...record.callback,
      status: change.status,
      closedAt: change.at,
      ...(change.note !== undefined && { note: change.note }),
    };
    this.records.set(`${tenantId}/${callbackId}`, {
      callback: copy(closed),
      expiresAt: Math.floor((Date.parse(change.at) + closedCallbackKeepMsOf) / 1000),
    });
    this.freeGuard(closed);
    return copy(closed);
  }

  private completeOpening(callback: CallbackOf): { opened: boolean; callback: CallbackOf } {
    const key = `${callback.tenantId}/${callback.callbackId}`;
    if (!this.records.has(key)) {
      this.write('putRecord');
      this.records.set(key, { callback: copy(callback) });
    }
    const stored = copy((this.records.get(key) as { callback: CallbackOf }).callback);
    if (stored.status === 'requested') return { opened: true, callback: stored };
    this.freeGuard(stored);
    return { opened: false, callback: stored };
  }

  private putGuard(callback: CallbackOf): void {
    this.write('putGuard');
    this.guards.set(`${callback.tenantId}/${callback.customerId}`, {
      callbackId: callback.callbackId,
      callback: copy(callback),
    });
  }

  private freeGuard(callback: CallbackOf): void {
    const key = `${callback.tenantId}/${callback.customerId}`;
    if (this.guards.get(key)?.callbackId !== callback.callbackId) return;
    this.write('deleteGuard');
    this.guards.delete(key);
  }

  private write(name: string): void {
    this.writes.push(name);
    if (this.writes.length === this.crashAt) {
      this.crashAt = undefined;
      throw new Error(`crashed at ${name}`);
    }
  }

  private isExpired(record: { expiresAt?: number }): boolean {
    return record.expiresAt !== undefined && record.expiresAt * 1000 <= this.clock.now();
  }
}

export class InMemoryChatStore implements ChatPort {
  /** `${tenantId}/${sessionId}` → session */
  readonly sessions = new Map<string, ChatSessionOf>();
  /** `${tenantId}/${customerId}` → the customer's current session */
  readonly current = new Map<string, { sessionId: string; createdAt: string }>();
  readonly connections = new Map<string, ConnectionOf>();

  constructor(
    private readonly customers: InMemoryCustomerStore,
    private readonly clock: Clock = new FakeClock(),
  ) {}

  async putChatSession(session: ChatSessionOf): Promise<{ session: ChatSessionOf; replaced?: string }> {
    const key = `${session.tenantId}/${session.sessionId}`;
    if (!this.sessions.has(key)) this.sessions.set(key, copy(session));
    const stored = copy(this.sessions.get(key) as ChatSessionOf);
    const pointerKey = `${session.tenantId}/${session.customerId}`;
    const pointer = this.current.get(pointerKey);
    // Never back to an older session.
    if (pointer && pointer.createdAt > stored.createdAt) return { session: stored };
    this.current.set(pointerKey, { sessionId: stored.sessionId, createdAt: stored.createdAt });
    return pointer && pointer.sessionId !== stored.sessionId
      ? { session: stored, replaced: pointer.sessionId }
      : { session: stored };
  }

  async getChatSession(tenantId: string, sessionId: string): Promise<ChatSessionOf | undefined> {
    const session = this.sessions.get(`${tenantId}/${sessionId}`);
    return session && copy(session);
  }

  async setChatSessionState(
    tenantId: string,
    sessionId: string,
    change: { status?: ChatSessionOf['status']; connectionId?: string | null },
  ): Promise<void> {
    const session = this.sessions.get(`${tenantId}/${sessionId}`);
    // As the adapter's conditional update on a session that is not there.
    if (!session) throw new Error('ConditionalCheckFailedException');
    if (change.status) session.status = change.status;
    if (change.connectionId === null) delete session.connectionId;
    else if (change.connectionId !== undefined) session.connectionId = change.connectionId;
  }

  async putConnection(connection: ConnectionOf): Promise<void> {
    this.connections.set(connection.connectionId, copy(connection));
  }

  async getConnection(connectionId: string): Promise<ConnectionOf | undefined> {
    const connection = this.connections.get(connectionId);
    // As the adapter: a connection item outlives its $disconnect by at most a day.
    if (!connection || Date.parse(connection.connectedAt) + 24 * 3600 * 1000 <= this.clock.now()) return undefined;
    return copy(connection);
  }

  async deleteConnection(connectionId: string): Promise<void> {
    this.connections.delete(connectionId);
  }

  async setCustomerChat(
    tenantId: string,
    customerId: string,
    chat: { sessionId: string; connectionId: string; since: string } | null,
    clearingConnectionId?: string,
  ): Promise<void> {
    const customer = this.customers.customers.get(`${tenantId}/${customerId}`);
    if (!customer) return;
    if (chat === null) {
      if (customer.chat?.connectionId !== clearingConnectionId) return;
      delete customer.chat;
      customer.activeChannel = 'sms';
    } else {
      customer.chat = copy(chat);
      customer.activeChannel = 'chat';
    }
    customer.version += 1;
  }
}

/** Records every frame pushed; connections in `gone` answer as API Gateway does for a stale one. */
export class RecordingPusher implements PusherPort {
  readonly pushed: { connectionId: string; frame: unknown; bytes: number }[] = [];
  readonly gone = new Set<string>();

  async push(connectionId: string, frame: unknown): Promise<'ok' | 'gone'> {
    if (this.gone.has(connectionId)) return 'gone';
    this.pushed.push({ connectionId, frame: copy(frame), bytes: Buffer.byteLength(JSON.stringify(frame)) });
    return 'ok';
  }

  // biome-ignore lint/suspicious/noExplicitAny: frames are arbitrary JSON that each test asserts on
  framesTo(connectionId: string): any[] {
    return this.pushed.filter((p) => p.connectionId === connectionId).map((p) => p.frame);
  }
}

export interface FakeEscalationDeps extends EscalationDepsOf {
  customers: InMemoryCustomerStore;
  messages: InMemoryMessageStore;
  attention: InMemoryAttention;
  callbacks: InMemoryCallbackStore;
  chats: InMemoryChatStore;
  pusher: RecordingPusher;
  sms: RecordingSmsSender;
  email: RecordingEmailSender;
  events: RecordingEventPublisher;
  clock: FakeClock;
  /** The tenants `getTenant` knows. */
  tenants: Map<string, Tenant>;
}

/** An `EscalationDeps` on fakes: the demo tenant known, a fixed token secret, chat links on chat.parley.test. */
export const escalationDeps = (): FakeEscalationDeps => {
  const clock = new FakeClock();
  const customers = new InMemoryCustomerStore();
  const messages = new InMemoryMessageStore();
  const attention = new InMemoryAttention();
  const sms = new RecordingSmsSender();
  const email = new RecordingEmailSender();
  const events = new RecordingEventPublisher();
  const tenants = new Map<string, Tenant>([[tenantId, makeTenant()]]);
  const replyAddress = (tenant: string, messageId: string) =>
    `reply+${tenant}.${messageId.toLowerCase()}@reply.parley.test`;
  return {
    customers,
    messages,
    attention,
    callbacks: new InMemoryCallbackStore(clock),
    chats: new InMemoryChatStore(customers, clock),
    pusher: new RecordingPusher(),
    sms,
    email,
    outbound: {
      senders: { sms, email },
      messages,
      events,
      clock,
      sleep: async (ms) => clock.advance(ms),
      replyAddress,
      unsubscribeLinks: fakeUnsubscribeLinks,
      maxSmsSegments: 6,
    },
    events,
    clock,
    tenants,
    getTenant: async (id) => {
      const tenant = tenants.get(id);
      return tenant && copy(tenant);
    },
    tokenSecret: 'test-token-secret-0123456789abcdef',
    publicBaseUrl: 'https://chat.parley.test',
    chatSessionTtlMs: 24 * 3600 * 1000,
    replyAddress,
  };
};

/** Step-up verifications in memory, with the adapter's version condition. */
export class InMemoryStepUpStore implements StepUpStore {
  readonly states = new Map<string, StepUpState>();
  /** Conflicting writers to run just before the next put (each once): a concurrent try. */
  readonly beforeNextPut: (() => void)[] = [];

  async getStepUp(tenantId: string, promptMessageId: string): Promise<StepUpState | undefined> {
    const state = this.states.get(`${tenantId}/${promptMessageId}`);
    return state && copy(state);
  }

  async putStepUp(state: StepUpState, expected: number | 'absent'): Promise<boolean> {
    this.beforeNextPut.shift()?.();
    const key = `${state.tenantId}/${state.promptMessageId}`;
    const stored = this.states.get(key);
    if (expected === 'absent' ? stored !== undefined : stored?.version !== expected) return false;
    this.states.set(key, copy(state));
    return true;
  }
}
/** A `TenantStore` in memory, with the store's semantics: copies in and out, writes only to a tenant that exists. */
export class InMemoryTenantStore implements TenantStore {
  readonly tenants = new Map<string, Tenant>();
  readonly keys = new Map<string, ApiKeyRecord>();

  async getTenant(id: string) {
    const tenant = this.tenants.get(id);
    return tenant && copy(tenant);
  }
  async putTenant(tenant: Tenant) {
    this.tenants.set(tenant.tenantId, copy(tenant));
  }
  async listTenants() {
    return [...this.tenants.values()].map(copy);
  }
  async getApiKey(keyId: string) {
    const key = this.keys.get(keyId);
    return key && copy(key);
  }
  async putApiKey(key: ApiKeyRecord) {
    if (this.keys.has(key.keyId)) throw new Error('ConditionalCheckFailed');
    this.keys.set(key.keyId, copy(key));
  }
  async revokeApiKey(keyId: string, at: string) {
    const key = this.keys.get(keyId);
    if (!key) return false;
    key.revokedAt ??= at;
    return true;
  }
  async listApiKeys(id: string) {
    return [...this.keys.values()].filter((key) => key.tenantId === id).map(copy);
  }
  async updateTenantSettings(
    id: string,
    change: { set: Partial<Pick<Tenant, TenantSetting>>; remove: TenantSetting[] },
  ) {
    const tenant = this.tenants.get(id);
    if (!tenant) return undefined;
    Object.assign(tenant, copy(change.set));
    for (const field of change.remove) delete tenant[field];
    return copy(tenant);
  }
  async putKeyword(id: string, keyword: string, value: TenantKeyword) {
    const tenant = this.tenants.get(id);
    if (!tenant) return false;
    tenant.keywords = { ...tenant.keywords, [keyword]: copy(value) };
    return true;
  }
  async deleteKeyword(id: string, keyword: string) {
    const tenant = this.tenants.get(id);
    if (!tenant?.keywords?.[keyword]) return false;
    delete tenant.keywords[keyword];
    return true;
  }
}

/** A `TemplateStore` in memory. */
export class InMemoryTemplateStore implements TemplateStore {
  readonly templates = new Map<string, Template>();

  async getTemplate(tenant: string, name: string) {
    const template = this.templates.get(`${tenant}/${name}`);
    return template && copy(template);
  }
  async putTemplate(tenant: string, template: Template) {
    this.templates.set(`${tenant}/${template.name}`, copy(template));
  }
  async listTemplates(tenant: string) {
    return [...this.templates.entries()].filter(([key]) => key.startsWith(`${tenant}/`)).map(([, t]) => copy(t));
  }
  async deleteTemplate(tenant: string, name: string) {
    return this.templates.delete(`${tenant}/${name}`);
  }
}

// Webhooks (DESIGN section 15)

/** The webhook store with the DynamoDB store's semantics: conditional create, compare-and-set on `version`. */
export class InMemoryWebhookStore implements WebhookStore {
  readonly endpoints = new Map<string, WebhookEndpoint>();
  readonly attempts: WebhookAttempt[] = [];
  /** Runs before a compare-and-set, as a concurrent writer would (tests of the retry). */
  beforeReplace: (() => void) | undefined;

  private key = (tenantId: string, webhookId: string) => `${tenantId}\n${webhookId}`;

  async createWebhook(endpoint: WebhookEndpoint): Promise<boolean> {
    const key = this.key(endpoint.tenantId, endpoint.webhookId);
    if (this.endpoints.has(key)) return false;
    this.endpoints.set(key, copy(endpoint));
    return true;
  }

  async getWebhook(tenantId: string, webhookId: string): Promise<WebhookEndpoint | undefined> {
    const found = this.endpoints.get(this.key(tenantId, webhookId));
    return found && copy(found);
  }

  async listWebhooks(tenantId: string): Promise<WebhookEndpoint[]> {
    return [...this.endpoints.values()].filter((e) => e.tenantId === tenantId).map(copy);
  }

  async deleteWebhook(tenantId: string, webhookId: string): Promise<boolean> {
    return this.endpoints.delete(this.key(tenantId, webhookId));
  }

  async replaceWebhook(endpoint: WebhookEndpoint, expectedVersion: number): Promise<boolean> {
    this.beforeReplace?.();
    const key = this.key(endpoint.tenantId, endpoint.webhookId);
    if (this.endpoints.get(key)?.version !== expectedVersion) return false;
    this.endpoints.set(key, { ...copy(endpoint), version: expectedVersion + 1 });
    return true;
  }

  async recordAttempt(attempt: WebhookAttempt): Promise<void> {
    this.attempts.push(copy(attempt));
  }

  async listAttempts(tenantId: string, webhookId: string, page: PageRequest): Promise<Page<WebhookAttempt>> {
    const all = this.attempts
      .filter((a) => a.tenantId === tenantId && a.webhookId === webhookId)
      .sort((a, b) => b.attemptedAt.localeCompare(a.attemptedAt));
    const start = page.cursor === undefined ? 0 : Number(page.cursor);
    const items = all.slice(start, start + page.limit).map(copy);
    return start + page.limit < all.length ? { items, nextCursor: String(start + page.limit) } : { items };
  }
}

/** An endpoint that answers the results given in turn (then 200), recording what it was sent. */
export class ScriptedWebhookEndpoint {
  readonly requests: { url: string; body: string; headers: Record<string, string> }[] = [];
  constructor(private readonly results: WebhookPostResult[] = []) {}

  post = async (request: { url: string; body: string; headers: Record<string, string> }) => {
    this.requests.push({ url: request.url, body: request.body, headers: { ...request.headers } });
    return this.results.shift() ?? { status: 200 };
  };
}
