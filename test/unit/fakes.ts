/**
 * In-memory fakes of the domain's ports, with the semantics the DynamoDB adapter has (conditional claim, lease
 * compare-and-set, upsert returning before/after), so domain tests exercise the same contract without a network.
 * Stored values are copied in and out, as a database would, so a caller mutating an object afterwards changes nothing.
 */
import { ProviderRejectedError, ProviderUnavailableError } from '../../functions/domain/errors.ts';
import type { AttentionStore, InboundDeps } from '../../functions/domain/inbound-sms.ts';
import type {
  Channel,
  ConsentRecord,
  Customer,
  Message,
  MessageClaim,
  Template,
  Tenant,
} from '../../functions/domain/model.ts';
import type {
  AddressRecord,
  ClaimResult,
  Clock,
  CustomerChanges,
  CustomerInboundUpdate,
  EmailSender,
  EventPublisher,
  InboundCustomerStore,
  MessageStore,
  ParleyEvent,
  SmsSender,
  TimelinePage,
} from '../../functions/domain/ports.ts';
import type { SendDeps } from '../../functions/domain/send-message.ts';

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
      after.phone ??= update.create.phone;
      if (update.create.unknownSender) after.unknownSender ??= true;
    }
    after.updatedAt = update.at;
    after.lastInboundAt = update.at;
    after.activeChannel = update.channel;
    after.learnedChannel = update.channel;
    after.version += 1;
    if (update.consent) after.consent[update.consent.channel] = copy(update.consent.record);
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
    if (changes.openPrompt) after.openPrompts[changes.openPrompt.messageId] = changes.openPrompt;
    this.customers.set(key, copy(after));
    return { ...(before && { before: copy(before) }), after: copy(after) };
  }

  /** `${tenantId}/${channel}/${address}` → consent given from that address */
  readonly addressConsent = new Map<string, ConsentRecord>();

  async putAddress(
    tenantId: string,
    channel: Channel,
    address: string,
    customerId: string,
  ): Promise<ConsentRecord | undefined> {
    this.addresses.set(`${tenantId}/${channel}/${address}`, customerId);
    return this.addressConsent.get(`${tenantId}/${channel}/${address}`);
  }

  async setCustomerConsent(tenantId: string, customerId: string, channel: Channel, consent: ConsentRecord) {
    const customer = this.customers.get(this.key(tenantId, customerId));
    if (!customer) return;
    customer.consent[channel] = copy(consent);
    // The adapter's write bumps the version, so an inbound update that read before it loses and reads again.
    customer.version += 1;
  }

  async getAddress(tenantId: string, channel: Channel, address: string): Promise<AddressRecord | undefined> {
    const key = `${tenantId}/${channel}/${address}`;
    const customerId = this.addresses.get(key);
    const consent = this.addressConsent.get(key);
    if (customerId === undefined && consent === undefined) return undefined;
    return { ...(customerId !== undefined && { customerId }), ...(consent && { consent: copy(consent) }) };
  }

  /** As the adapter: written only when the address has no consent yet or its consent is not later than this one. */
  async setAddressConsent(tenantId: string, channel: Channel, address: string, consent: ConsentRecord) {
    const key = `${tenantId}/${channel}/${address}`;
    const stored = this.addressConsent.get(key);
    if (stored && stored.at > consent.at) return;
    this.addressConsent.set(key, copy(consent));
  }

  async dropOpenPrompts(tenantId: string, customerId: string, messageIds: string[]): Promise<void> {
    const customer = this.customers.get(this.key(tenantId, customerId));
    if (!customer) return;
    for (const messageId of messageIds) delete customer.openPrompts[messageId];
    customer.version += 1;
  }

  async deleteAddress(tenantId: string, channel: Channel, address: string, customerId: string): Promise<void> {
    const key = `${tenantId}/${channel}/${address}`;
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

export class InMemoryMessageStore implements MessageStore {
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

  async getMessageByClaim(claim: MessageClaim): Promise<Message | undefined> {
    this.calls.push('getMessageByClaim');
    const message = this.messages.get(this.messageKey(claim.tenantId, claim.customerId, claim.timelineId));
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

export type ProviderFailure = 'rejected' | 'unavailable' | 'error';

const providerFailure = (kind: ProviderFailure): Error => {
  switch (kind) {
    case 'rejected':
      return new ProviderRejectedError('InvalidParameter');
    case 'unavailable':
      return new ProviderUnavailableError(new Error('socket hang up'));
    case 'error':
      return new Error('ECONNRESET');
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
    if (failure) throw providerFailure(failure);
    this.sent.push(copy(input));
    return { providerMessageId: `${this.idPrefix}-${this.sent.length}` };
  }
}

export type SmsInput = Parameters<SmsSender['sendSms']>[0];
export type EmailInput = Parameters<EmailSender['sendEmail']>[0];

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
    sms: new RecordingSmsSender(),
    email: new RecordingEmailSender(),
    events: new RecordingEventPublisher(),
    clock,
    replyAddress: (tenant, messageId) => `reply+${tenant}.${messageId.toLowerCase()}@reply.parley.test`,
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

export class InMemoryAttentionStore implements AttentionStore {
  /** `${tenantId}/${customerId}` → the conversation's attention item. */
  readonly entries = new Map<string, AttentionEntry>();
  /** Every mark, in order. */
  readonly marks: { tenantId: string; customerId: string; reason: string; at: string; summary: string }[] = [];

  async markNeedsAttention(
    tenantId: string,
    customerId: string,
    entry: { reason: string; at: string; summary: string },
  ): Promise<void> {
    this.marks.push({ tenantId, customerId, ...entry });
    const key = `${tenantId}/${customerId}`;
    const since = this.entries.get(key)?.since ?? entry.at;
    this.entries.set(key, {
      customerId,
      reason: entry.reason,
      summary: entry.summary,
      since,
      lastMessageAt: entry.at,
    });
  }
}

export type EscalationInput = Parameters<InboundDeps['escalate']>[0];

export interface FakeInboundDeps extends InboundDeps {
  customers: InMemoryCustomerStore;
  messages: InMemoryMessageStore;
  attention: InMemoryAttentionStore;
  sms: RecordingSmsSender;
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
    sms: new RecordingSmsSender(),
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
