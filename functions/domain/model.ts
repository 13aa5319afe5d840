/** Parley's own types: what the domain reads and writes, independent of DynamoDB's item shapes. */

import type { ErrorCode } from './errors.ts';
import type { Scope } from './scopes.ts';

export type Channel = 'sms' | 'email';
/** Where a message was exchanged: the addressable channels, and chat. */
export type MessageChannel = Channel | 'chat';
export type Urgency = 'critical' | 'high' | 'normal' | 'low';
export type Category = 'transactional' | 'marketing';
/**
 * DESIGN section 5. `sending`: handed to the provider now (the claim's lease covers it); `unknown`: the provider may
 * or may not have taken it (section 11), never sent again by Parley.
 */
export type MessageStatus =
  | 'scheduled'
  | 'queued'
  | 'sending'
  | 'sent'
  | 'delivered'
  | 'failed'
  | 'unknown'
  | 'cancelled'
  | 'received';

export interface Tenant {
  tenantId: string;
  name: string;
  smsNumber: string;
  emailFrom?: string;
  helpText?: string;
  /** The name customers see in replies (HELP, confirmations, agent texts); the tenant's `name` when unset. */
  brandName?: string;
  /** What free text is answered with, and when someone is there (`PATCH /v1/tenant`). */
  acknowledgement?: Acknowledgement;
  /** Whether CHAT/AGENT/HUMAN get a chat link (default) or, when false, a callback. */
  chatEnabled?: boolean;
  /**
   * Tenant keywords (e.g. BAL, STMT) by upper-case name, managed with `/v1/keywords`: an optional auto-reply
   * template, and whether `keyword.received` is emitted (`emitEvent`, default true).
   */
  keywords?: Record<string, TenantKeyword>;
  createdAt: string;
}

export interface TenantKeyword {
  autoReplyTemplate?: string;
  /** `false`: no `keyword.received` (an auto-reply only). Unset means true. */
  emitEvent?: boolean;
}

export interface BusinessHours {
  /** IANA time zone, e.g. Europe/London. */
  timezone: string;
  /** ISO weekdays, 1 (Monday) to 7 (Sunday). */
  days: number[];
  /** `HH:MM`, 24 h, in `timezone`. */
  start: string;
  end: string;
}

export interface Acknowledgement {
  text: string;
  businessHours?: BusinessHours;
}

export interface ApiKeyRecord {
  keyId: string;
  tenantId: string;
  /** Hex SHA-256 of the whole key; the key itself is never stored. */
  keyHash: string;
  scopes: Scope[];
  createdAt: string;
  revokedAt?: string;
  /** After this the key is refused (the authorizer's cached answer aside). */
  expiresAt?: string;
  /** When the authorizer last let it in, to the minute (API Gateway's cache of its answer aside). */
  lastUsedAt?: string;
}

export interface Principal {
  tenantId: string;
  keyId: string;
  scopes: Scope[];
}

export interface ConsentRecord {
  /** `suppressed`: email only, after a permanent bounce (DESIGN section 13); sends to the address answer 422. */
  status: 'opted_in' | 'opted_out' | 'suppressed';
  at: string;
  keyword?: string;
  /** Why it changed when no keyword says it (email: a one-click unsubscribe, a complaint, a permanent bounce). */
  reason?: 'unsubscribe' | 'complaint' | 'bounce';
}

/** Where an email reply goes in the customer's thread: the ids of the mail answered and of its thread. */
export interface EmailThread {
  /** The `Message-ID` of the mail answered (with or without angle brackets). */
  inReplyTo: string;
  /** Its thread, oldest first, ending with `inReplyTo`. */
  references: string[];
}

export interface CustomerPreferences {
  channel?: Channel;
  quietHours?: { start: string; end: string };
}

/** A prompt awaiting its answer, kept on the customer so an inbound reply finds it in the same read. */
export interface OpenPrompt {
  messageId: string;
  type: 'confirm' | 'choice';
  options?: { key: string; value: string }[];
  expiresAt: string;
  reference?: string;
  /** A short excerpt of the message, to tell prompts apart when asking which one an answer is for. */
  summary: string;
  createdAt: string;
  /** An answer needs a step-up code before it counts (DESIGN section 16). */
  verify?: 'code';
}

export interface PromptAnswer {
  answer: string;
  raw: string;
  at: string;
  channel: Channel;
  /** The inbound message that answered. */
  messageId: string;
  /** The prompt's reference, kept so the answer can be announced again on a redelivery. */
  reference?: string;
}

/** "Which request is your answer for?" — asked when an answer fits several open prompts. */
export interface PendingQuestion {
  answerText: string;
  candidates: string[];
  askedAt: string;
}

export interface Customer {
  tenantId: string;
  customerId: string;
  /** Set for a conversation with a number no backend has named (an inbound SMS from an unknown sender). */
  unknownSender?: boolean;
  phone?: string;
  email?: string;
  timezone?: string;
  locale?: string;
  preferences: CustomerPreferences;
  consent: Partial<Record<Channel, ConsentRecord>>;
  /** The channel the customer answers on, learned from inbound messages. */
  learnedChannel?: Channel;
  /** The channel of the customer's latest inbound message (chat while a chat is connected). */
  activeChannel?: MessageChannel;
  /** The chat connected right now, if any. */
  chat?: { sessionId: string; connectionId: string; since: string };
  lastInboundAt?: string;
  openPrompts: Record<string, OpenPrompt>;
  promptAnswers: Record<string, PromptAnswer>;
  pendingQuestion?: PendingQuestion;
  /**
   * When the customer's free text was last acknowledged (DESIGN section 7, rule 8): once per conversation until
   * someone answers, which clears it.
   */
  acknowledgedAt?: string;
  createdAt: string;
  updatedAt: string;
  version: number;
}

/** What an inbound message did, shown in the conversation. */
export type InboundEffect =
  | { type: 'opted_out'; keyword: string }
  | { type: 'opted_in'; keyword: string }
  | { type: 'help'; keyword: string }
  | { type: 'callback_requested'; callbackId: string; keyword: string }
  | { type: 'chat_requested'; keyword: string }
  | { type: 'prompt_answered'; promptMessageId: string; answer: string }
  | { type: 'prompt_expired'; promptMessageId: string }
  | { type: 'prompt_already_answered'; promptMessageId: string }
  | { type: 'prompt_question'; candidates: string[] }
  | { type: 'prompt_hint'; promptMessageId: string }
  /** A message read by the step-up of a prompt with `verify: "code"`: what it did to the verification. */
  | {
      type: 'prompt_verification';
      promptMessageId: string;
      step: 'code_sent' | 'wrong_code' | 'completed' | 'failed' | 'ignored';
    }
  | { type: 'keyword'; keyword: string }
  | { type: 'free_text' }
  /**
   * Never acted on or answered: a message from the tenant's own number or address (a loop), or mail Parley must not
   * trust or answer (DESIGN section 12), which is kept and flagged for an agent.
   */
  | { type: 'ignored'; reason: IgnoredReason };

/** Why an inbound message was kept but never acted on or answered. */
export const ignoredReasons = ['own_address', 'spam', 'virus', 'dmarc_fail', 'automatic', 'wrong_sender'] as const;
export type IgnoredReason = (typeof ignoredReasons)[number];

export interface Template {
  name: string;
  description?: string;
  sms?: string;
  email?: { subject: string; text: string; html?: string };
  updatedAt: string;
}

export interface PromptSpec {
  type: 'confirm' | 'choice';
  options?: { key: string; value: string }[];
  expiresAt: string;
  /** An answer needs a step-up code (DESIGN section 16) before it counts. */
  verify?: 'code';
}

export interface StatusChange {
  status: MessageStatus;
  at: string;
  reason?: string;
  /** The provider's own detail of a delivery report (carrier response, price, bounce diagnostic). */
  detail?: { readonly [name: string]: string | number | undefined };
}

/** Why Parley sent a message itself, as an answer to the customer's own message (DESIGN section 7). */
export type ReplyKind =
  | 'consent_confirmation'
  | 'help'
  | 'prompt_expired'
  | 'prompt_already_answered'
  | 'prompt_question'
  | 'prompt_hint'
  | 'keyword_reply'
  | 'callback_ack'
  | 'chat_link';

/** What a send answered, kept so an idempotent replay can answer the same thing. */
export interface StoredResponse {
  statusCode: number;
  body: unknown;
}

export interface Message {
  messageId: string;
  tenantId: string;
  customerId: string;
  /** Sort key of the message in the customer's timeline (time-ordered). */
  timelineId: string;
  direction: 'outbound' | 'inbound';
  channel: MessageChannel;
  to: string;
  from: string;
  body: string;
  subject?: string;
  html?: string;
  status: MessageStatus;
  statusHistory: StatusChange[];
  template?: string;
  urgency?: Urgency;
  category?: Category;
  segments?: number;
  encoding?: 'GSM-7' | 'UCS-2';
  prompt?: PromptSpec;
  reference?: string;
  providerMessageId?: string;
  failure?: { code: ErrorCode | string; reason: string };
  fallbackReason?: string;
  /** Outbound sends: the channel the send asked for (only `auto` fails over to the other channel). */
  requested?: Channel | 'auto';
  /** The message that took over on the other channel after this one failed (DESIGN section 13). */
  fallback?: { messageId: string; channel: Channel };
  /** A fallback: the failed message whose content it carries. */
  fallbackFor?: string;
  /** Inbound email only: the whole text as received (`body` is the reply without quoted history or signature). */
  fullText?: string;
  /** Inbound only: what the message did. */
  effect?: InboundEffect;
  /** Inbound only: the provider's id of the inbound message. */
  inboundMessageId?: string;
  /** Outbound: the message it answers (an auto-reply's inbound message, a send's `inReplyTo`). */
  inReplyTo?: string;
  /**
   * Outbound email answering a customer's email: sent threaded (`In-Reply-To`, `References`, `Re:` subject).
   * Inbound email: the thread an answer to it joins.
   */
  emailThread?: EmailThread;
  /** Outbound: who wrote it (a backend's send, an agent, or Parley answering the customer). */
  origin?: 'send' | 'agent' | 'reply';
  createdAt: string;
  response?: StoredResponse;
}

/** The idempotency claim on a message id, written before anything is published. */
export interface MessageClaim {
  tenantId: string;
  messageId: string;
  customerId: string;
  timelineId: string;
  requestHash: string;
  leaseUntil: number;
  createdAt: string;
}

/** What an agent needs to know before calling back, captured when the customer asked. */
export interface CallbackContext {
  recentMessages: {
    direction: 'outbound' | 'inbound';
    channel: MessageChannel;
    body: string;
    createdAt: string;
    reference?: string;
  }[];
  openPrompts: { messageId: string; summary: string; reference?: string; expiresAt: string }[];
  answeredPrompts: { messageId: string; answer: string; at: string; reference?: string }[];
  references: string[];
}

export interface Callback {
  callbackId: string;
  tenantId: string;
  customerId: string;
  status: 'requested' | 'completed' | 'cancelled';
  requestedAt: string;
  /** What the customer texted (CALL, CALLBACK, AGENT...), or `api`. */
  keyword: string;
  phone?: string;
  context: CallbackContext;
  note?: string;
  closedAt?: string;
}

export interface ChatSession {
  sessionId: string;
  tenantId: string;
  customerId: string;
  createdAt: string;
  expiresAt: string;
  status: 'open' | 'ended';
  connectionId?: string;
}

export interface Connection {
  connectionId: string;
  tenantId: string;
  customerId: string;
  sessionId: string;
  connectedAt: string;
}
