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
  EmailThread,
  Message,
  MessageClaim,
  MessageStatus,
  OpenPrompt,
  PendingQuestion,
  PromptAnswer,
  StatusChange,
  Template,
  Tenant,
  TenantKeyword,
} from './model.ts';
import type { StepUpState } from './step-up.ts';

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
  /** Prompts crowded out by it, closed in the same write (those already gone are no matter). */
  dropPrompts?: string[];
}

/** What an inbound message changes on its customer, written in one versioned update. */
export interface CustomerInboundUpdate {
  at: string;
  channel: Channel;
  /** The free text was acknowledged now (the tenant's acknowledgement went). */
  acknowledged?: string;
  /** Creates the customer (an unknown sender's conversation), with the address it wrote from. */
  create?: { phone?: string; email?: string; unknownSender: boolean };
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
  /** The customer the address was given to last. */
  customerId?: string;
  /** Every customer the address belongs to, the latest first (a joint account, a family phone). */
  customerIds?: string[];
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
  /** The tenant's keys, revoked and expired ones too (only keys written with their tenant listing). */
  listApiKeys(tenantId: string): Promise<ApiKeyRecord[]>;
  /**
   * Sets and removes the tenant's settings in one write; the tenant as it is after, or undefined when there is
   * no such tenant.
   */
  updateTenantSettings(
    tenantId: string,
    change: { set: Partial<Pick<Tenant, TenantSetting>>; remove: TenantSetting[] },
  ): Promise<Tenant | undefined>;
  /** Creates or replaces one keyword of the tenant; false when there is no such tenant. */
  putKeyword(tenantId: string, keyword: string, value: TenantKeyword): Promise<boolean>;
  /** Removes one keyword; false when the tenant had none of that name. */
  deleteKeyword(tenantId: string, keyword: string): Promise<boolean>;
}

/** The settings `PATCH /v1/tenant` changes. */
export type TenantSetting = 'helpText' | 'brandName' | 'acknowledgement';

export interface TemplateStore {
  getTemplate(tenantId: string, name: string): Promise<Template | undefined>;
  putTemplate(tenantId: string, template: Template): Promise<void>;
  listTemplates(tenantId: string): Promise<Template[]>;
  /** Removes it; false when there was none. */
  deleteTemplate(tenantId: string, name: string): Promise<boolean>;
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
  /** Someone answered the customer: their next free text is acknowledged again. */
  clearAcknowledged(tenantId: string, customerId: string): Promise<void>;
  /** Closes prompts: one whose message never went out, or ones long expired or crowded out. */
  dropOpenPrompts(tenantId: string, customerId: string, messageIds: string[]): Promise<void>;
}

export interface InboundCustomerStore extends CustomerStore {
  getAddress(tenantId: string, channel: Channel, address: string): Promise<AddressRecord | undefined>;
  /** False when a later consent change is already recorded for the address (this one arrived late). */
  /** Written unless a later change is recorded (a late arrival); when written, the consent it replaced. */
  setAddressConsent(
    tenantId: string,
    channel: Channel,
    address: string,
    consent: ConsentRecord,
  ): Promise<{ written: false } | { written: true; previous?: ConsentRecord }>;
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
  /**
   * Moves a stored message from status `from` to `change.status`, appending `change` to its history: false when its
   * status is no longer `from` (another report got there first), so the caller reads again and re-decides.
   */
  advanceStatus(message: Message, from: MessageStatus, change: StatusChange): Promise<boolean>;
  getMessageByClaim(claim: MessageClaim): Promise<Message | undefined>;
  /** The message at a position of a customer's timeline (where a prompt or a claim says it is). */
  getMessageAt(tenantId: string, customerId: string, timelineId: string): Promise<Message | undefined>;
  getMessage(tenantId: string, messageId: string): Promise<Message | undefined>;
  listTimeline(
    tenantId: string,
    customerId: string,
    options: { limit: number; before?: string },
  ): Promise<TimelinePage>;
}

/** What every provider sender takes besides the content: Parley's own ids travel with the request where allowed. */
interface OutboundIds {
  /** Parley's message id (an SES message tag; DESIGN section 11). */
  messageId?: string;
  tenantId?: string;
}

/**
 * A channel's sender. Resolves to the provider's message id; throws `ProviderRejectedError` (refused for good),
 * `ProviderUnavailableError` (provably not taken: safe to try again) or `ProviderOutcomeUnknownError` (it may have
 * gone: never send it again).
 */
export interface SmsSender {
  sendSms(input: OutboundIds & { to: string; from: string; body: string; promotional?: boolean }): Promise<{
    providerMessageId: string;
  }>;
}

/** An email's `List-Unsubscribe` targets (RFC 2369, RFC 8058): both opt the address out of email for the tenant. */
export interface UnsubscribeLinks {
  /** `unsubscribe+<token>@<reply domain>`: absent when it would not fit a 64-character local part. */
  mailto?: string;
  /** The one-click URL, `https://<api>/v1/unsubscribe/<token>`, POSTed `List-Unsubscribe=One-Click`. */
  url?: string;
}

export interface EmailSender {
  sendEmail(
    input: OutboundIds & {
      to: string;
      from: string;
      replyTo: string;
      subject: string;
      text: string;
      html?: string;
      unsubscribe?: UnsubscribeLinks;
      /** A reply to a customer's email goes out in its thread, its subject `Re: ` once. */
      thread?: EmailThread;
    },
  ): Promise<{ providerMessageId: string }>;
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

// Escalation: attention, callbacks and chat (DESIGN sections 5 and 8). The stores behind these ports serve their
// lists from the status index, paged: a cursor a store did not hand out is refused with `InvalidCursorError` (400).

type Callback = import('./model.ts').Callback;
type ChatSession = import('./model.ts').ChatSession;
type Connection = import('./model.ts').Connection;

/** One page of a list, and the cursor of the next page when there is one. */
export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

export interface PageRequest {
  limit: number;
  cursor?: string;
}

/** Why a conversation needs an agent: unanswered free text, an open callback, a connected chat. */
export type AttentionReason = 'free_text' | 'callback' | 'chat';

/** One raised reason: when, a short summary for the agent (at most 160 characters), and what it names. */
export interface AttentionMark {
  at: string;
  summary?: string;
  /** The callback id or chat session id the reason is about. */
  ref?: string;
}

/** A conversation that needs attention, and why. */
export interface AttentionEntry {
  customerId: string;
  /** When it began to need attention: kept while any reason stays raised. */
  since: string;
  /** The latest raise; lists are ordered by it, most recent first. */
  lastAt: string;
  reasons: Partial<Record<AttentionReason, AttentionMark>>;
}

/**
 * Conversations needing attention, one entry per customer with a reason per kind. Marks are ordered by `at`, so
 * events that arrive out of order settle the same way: a raise never replaces a later mark of its reason, and a
 * clear only clears a mark raised at or before it.
 */
export interface AttentionStore {
  /** Raises one reason; the conversation is listed until every reason is cleared. */
  raise(tenantId: string, customerId: string, reason: AttentionReason, mark: AttentionMark): Promise<void>;
  /** Clears one reason raised at or before `at`; with `ref`, only the mark naming it (a newer chat stays). */
  clear(
    tenantId: string,
    customerId: string,
    reason: AttentionReason,
    options: { at: string; ref?: string },
  ): Promise<void>;
  get(tenantId: string, customerId: string): Promise<AttentionEntry | undefined>;
  /** Conversations with a reason raised, most recent first. */
  list(tenantId: string, page: PageRequest): Promise<Page<AttentionEntry>>;
}

/** The change closing a requested callback. */
export interface CallbackClosing {
  status: 'completed' | 'cancelled';
  note?: string;
  at: string;
}

/**
 * Callbacks, with at most one open (`requested`) per customer, kept by a guard item on the customer that holds a
 * copy of the callback it guards. A closed callback expires after a while; reads treat it as gone from then on.
 */
export interface CallbackStore {
  /**
   * Opens `callback` unless the customer has one open, and returns the customer's open callback. `opened` says the
   * returned callback became open through this call (or an earlier attempt of the same callback id), so its
   * follow-ups (attention, `callback.requested`) are due; false when another request already had it open. A guard
   * whose callback record is missing (a crash between the writes) is completed from its copy; one pointing at a
   * closed or long-gone callback is taken over.
   */
  openCallback(callback: Callback): Promise<{ opened: boolean; callback: Callback }>;
  getCallback(tenantId: string, callbackId: string): Promise<Callback | undefined>;
  /** Newest first: by status from the status index, or every status. */
  listCallbacks(tenantId: string, options: PageRequest & { status?: Callback['status'] }): Promise<Page<Callback>>;
  /** Closes a requested callback and frees the customer's guard; undefined when it is unknown or already closed. */
  closeCallback(tenantId: string, callbackId: string, change: CallbackClosing): Promise<Callback | undefined>;
}

/** The chat connected right now, as kept on the customer. */
export interface CustomerChat {
  sessionId: string;
  connectionId: string;
  since: string;
}

/** Chat sessions, the customer's current session, WebSocket connections and the chat connected on the customer. */
export interface ChatStore {
  /**
   * Stores a session unless one with its id exists (a redelivered start: the stored one is returned), then makes it
   * the customer's current session unless a newer one is; `replaced` names the session it took over from.
   */
  putChatSession(session: ChatSession): Promise<{ session: ChatSession; replaced?: string }>;
  getChatSession(tenantId: string, sessionId: string): Promise<ChatSession | undefined>;
  setChatSessionState(
    tenantId: string,
    sessionId: string,
    change: { status?: ChatSession['status']; connectionId?: string | null },
  ): Promise<void>;
  putConnection(connection: Connection): Promise<void>;
  getConnection(connectionId: string): Promise<Connection | undefined>;
  deleteConnection(connectionId: string): Promise<void>;
  /**
   * Records the chat connected now on the customer (active channel chat), or clears it when `chat` is null and the
   * connection named is still the customer's (active channel back to SMS).
   */
  setCustomerChat(
    tenantId: string,
    customerId: string,
    chat: CustomerChat | null,
    clearingConnectionId?: string,
  ): Promise<void>;
}

/** Pushes a frame to a WebSocket connection; 'gone' when the connection no longer exists. */
export interface ConnectionPusher {
  push(connectionId: string, frame: unknown): Promise<'ok' | 'gone'>;
}

/** Step-up verifications (DESIGN section 16), written on a condition on the version read. */
export interface StepUpStore {
  getStepUp(tenantId: string, promptMessageId: string): Promise<StepUpState | undefined>;
  /** False when the stored version is not `expected` (or, for `absent`, when one exists already). */
  putStepUp(state: StepUpState, expected: number | 'absent'): Promise<boolean>;
}

/** The message store as delivery status uses it (DESIGN section 13). */
export interface DeliveryMessageStore extends MessageStore {
  /** Records the message that took over on the other channel, once: false when one is recorded already. */
  setFallback(message: Message, fallback: { messageId: string; channel: Channel }): Promise<boolean>;
  /**
   * The outbound SMS the provider took as `providerMessageId` to `destination` around `publishedAt` (epoch ms), in
   * whichever tenant: how an SMS delivery report, which names nothing of Parley's, finds its message.
   */
  findSmsByProviderId(
    destination: string,
    providerMessageId: string,
    publishedAt: number,
  ): Promise<Message | undefined>;
}
