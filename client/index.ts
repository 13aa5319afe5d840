/**
 * `parley/client`: a small typed client of Parley's HTTP API (v1), on `fetch` alone, and `verifyWebhook` for the
 * signed webhooks (Standard Webhooks, the specification's own library).
 *
 * The request types are the inputs of the zod schemas the handlers parse with, and the response types are the
 * return types of the domain's view functions (or the domain's view interfaces), all imported as types only: the
 * client cannot drift from the API without failing to compile, and loads none of the server's code at run time.
 * Where no view function is on this branch (the send answer, the webhook routes), the type is written here, and
 * says so.
 */
import { Webhook } from 'standardwebhooks';
import type * as z from 'zod/mini';
import type { sendMessageRequestSchema } from '../functions/domain/contact-schemas.ts';
import type {
  callbackQuerySchema,
  callbackUpdateSchema,
  chatSessionRequestSchema,
  replyRequestSchema,
} from '../functions/domain/conversation-schemas.ts';
import type { conversationQuerySchema, putCustomerRequestSchema } from '../functions/domain/customer-schemas.ts';
import type { conversationView, customerView, messageView } from '../functions/domain/customers.ts';
import type { ErrorCode, ErrorDetail } from '../functions/domain/errors.ts';
import type { listNeedingAttention, replyToCustomer, startChat } from '../functions/domain/escalation.ts';
import type { ParleyEventDetail, ParleyEventType } from '../functions/domain/events.ts';
import type { Callback, Channel, Template } from '../functions/domain/model.ts';
import type { DeliveryStatus } from '../functions/domain/outbound.ts';
import type { StepUpAuditEntry } from '../functions/domain/step-up.ts';
import type { putTemplateRequestSchema } from '../functions/domain/template-schemas.ts';
import type { patchTenantRequestSchema, putKeywordRequestSchema } from '../functions/domain/tenant-schemas.ts';
import type { KeywordView, TenantSettingsView } from '../functions/domain/tenant-settings.ts';
import type { WebhookAttempt, WebhookView } from '../functions/domain/webhook-registry.ts';
import type { createWebhookRequestSchema } from '../functions/domain/webhook-schemas.ts';

export type { ErrorCode, ErrorDetail, ParleyEventDetail, ParleyEventType };

// --- Requests: what the handlers parse, before defaults (z.input) -------------------------------------------------

/** The body of `POST /v1/messages`. */
export type SendMessageInput = z.input<typeof sendMessageRequestSchema>;
/** The body of `PUT /v1/customers/{customerId}`. */
export type PutCustomerInput = z.input<typeof putCustomerRequestSchema>;
/** The query of `GET /v1/customers/{customerId}/conversation`. */
export type ConversationQuery = Partial<z.output<typeof conversationQuerySchema>>;
/** The body of `PUT /v1/templates/{name}`. */
export type PutTemplateInput = z.input<typeof putTemplateRequestSchema>;
/** The body of `PATCH /v1/tenant`: a field given sets it, `null` clears it, a field left out stays. */
export type PatchTenantInput = z.input<typeof patchTenantRequestSchema>;
/** The body of `PUT /v1/keywords/{keyword}`. */
export type PutKeywordInput = z.input<typeof putKeywordRequestSchema>;
/** The body of `POST /v1/customers/{customerId}/messages` (an agent's reply, `agent` scope). */
export type ReplyInput = z.input<typeof replyRequestSchema>;
/** The body of `POST /v1/customers/{customerId}/chat-sessions`. */
export type ChatSessionInput = z.input<typeof chatSessionRequestSchema>;
/** The query of `GET /v1/callbacks`. */
export type CallbackQuery = Partial<z.output<typeof callbackQuerySchema>>;
/** The body of `PATCH /v1/callbacks/{callbackId}`. */
export type CallbackUpdateInput = z.input<typeof callbackUpdateSchema>;

// --- Responses ---------------------------------------------------------------------------------------------------

/**
 * The answer of `POST /v1/messages` (202). Written here: functions/domain/send-message.ts builds it in an unexported
 * `sendResponse`. `status: "unknown"` is not an error: the provider may or may not have taken the message, and
 * Parley never sends it again by itself (decide from your records or the status events).
 */
export interface SendResponse {
  messageId: string;
  customerId: string;
  channel: Channel;
  status: DeliveryStatus;
  segments?: number;
  fallbackReason?: string;
  /** `true` when the answer is the replay of an earlier send with the same `Idempotency-Key` (nothing was sent). */
  replayed: boolean;
}

/** `GET /v1/messages/{messageId}`: the message, with the step-up audit trail when its prompt asked for a code. */
export type MessageResponse = ReturnType<typeof messageView> & { audit?: StepUpAuditEntry[] };
export type CustomerResponse = ReturnType<typeof customerView>;
export type ConversationResponse = Awaited<ReturnType<typeof conversationView>>;
export type TemplateResponse = Template;
export type KeywordResponse = KeywordView;
export type TenantSettingsResponse = TenantSettingsView;
/** An agent's reply (202): where it went; `replayed` as for `send`. */
export type ReplyResponse = Omit<Awaited<ReturnType<typeof replyToCustomer>>, 'replayed'> & {
  customerId: string;
  replayed: boolean;
};
export type ChatSessionResponse = Awaited<ReturnType<typeof startChat>>;
/** `GET /v1/conversations?needs=attention`: open callbacks, active chats and unanswered free text. */
export type AttentionPage = Awaited<ReturnType<typeof listNeedingAttention>>;
export type CallbackResponse = Callback;
export interface CallbacksPage {
  callbacks: CallbackResponse[];
  nextCursor?: string;
}

/** A webhook endpoint as the API shows it (never a secret). */
export type WebhookResponse = WebhookView;

/** The answer of create and rotate: the endpoint with its new `whsec_…` secret, shown in this answer only. */
export type WebhookWithSecret = WebhookResponse & { secret: string };

/** The body of `POST /v1/webhooks`. */
export type CreateWebhookInput = z.input<typeof createWebhookRequestSchema>;

/** One delivery attempt (`GET /v1/webhooks/{id}/deliveries`, newest first): the attempt without its keys. */
export type WebhookDelivery = Omit<WebhookAttempt, 'tenantId' | 'webhookId'>;

export interface WebhookDeliveriesPage {
  deliveries: WebhookDelivery[];
  nextCursor?: string;
}

/** A webhook's body, typed by the event catalogue: `{type, timestamp, data}`, discriminated by `type`. */
export type WebhookEvent = {
  [T in ParleyEventType]: { type: T; timestamp: string; data: ParleyEventDetail<T> };
}[ParleyEventType];

// --- Errors ------------------------------------------------------------------------------------------------------

/** A non-2xx answer: the API's `{"error": {"code", "message", "details"?}}`, its status and `Retry-After`. */
export class ParleyApiError extends Error {
  override readonly name = 'ParleyApiError';
  /** The HTTP status. */
  readonly status: number;
  /** The API's error code (`invalid_request`, `rate_limited`, …); `http_<status>` when the body held none. */
  readonly code: ErrorCode | (string & {});
  /** Field-level problems, where the API gave them (`path` is the field, e.g. `to.phone`). */
  readonly details: ErrorDetail[] | undefined;
  /** Seconds to wait before retrying, from `Retry-After` (429, 503), when the answer had it. */
  readonly retryAfter: number | undefined;
  /** `true` when the error is the replay of an earlier send with the same `Idempotency-Key`. */
  readonly replayed: boolean;

  constructor(init: {
    status: number;
    code: string;
    message: string;
    details?: ErrorDetail[];
    retryAfter?: number;
    replayed?: boolean;
  }) {
    super(init.message);
    this.status = init.status;
    this.code = init.code;
    this.details = init.details;
    this.retryAfter = init.retryAfter;
    this.replayed = init.replayed ?? false;
  }
}

/** `Retry-After` as seconds: a number of seconds, or an HTTP date (seconds from now, at least 0). */
const parseRetryAfter = (value: string | null): number | undefined => {
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
};

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

// --- The client --------------------------------------------------------------------------------------------------

export interface ParleyOptions {
  /** The API's URL, e.g. `http://127.0.0.1:3000` locally or the stack's `ApiUrl`. */
  baseUrl: string;
  /** An API key (`Authorization: Bearer …`); its scopes decide which methods answer rather than 403. */
  apiKey: string;
  /** A fetch to use instead of the global one (tests, proxies, retries). */
  fetch?: typeof fetch;
}

interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  headers?: Record<string, string>;
}

const segment = (value: string): string => encodeURIComponent(value);

export class Parley {
  readonly #baseUrl: string;
  readonly #apiKey: string;
  readonly #fetch: typeof fetch;

  constructor(options: ParleyOptions) {
    this.#baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#apiKey = options.apiKey;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
  }

  async #request<T>(method: string, path: string, options: RequestOptions = {}): Promise<{ body: T; res: Response }> {
    const url = new URL(`${this.#baseUrl}${path}`);
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    // Called as a plain function: a browser's `fetch` called as a method of another object throws "Illegal invocation".
    const send = this.#fetch;
    const res = await send(url, {
      method,
      headers: {
        authorization: `Bearer ${this.#apiKey}`,
        accept: 'application/json',
        ...(options.body !== undefined && { 'content-type': 'application/json' }),
        ...options.headers,
      },
      ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
    });
    const text = await res.text();
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = text;
    }
    if (!res.ok) {
      const error = isRecord(body) && isRecord(body.error) ? body.error : {};
      const retryAfter = parseRetryAfter(res.headers.get('retry-after'));
      throw new ParleyApiError({
        status: res.status,
        code: typeof error.code === 'string' ? error.code : `http_${res.status}`,
        message:
          typeof error.message === 'string'
            ? error.message
            : `${method} ${path} answered ${res.status} ${res.statusText}`,
        ...(Array.isArray(error.details) && { details: error.details as ErrorDetail[] }),
        ...(retryAfter !== undefined && { retryAfter }),
        replayed: res.headers.get('idempotent-replayed') === 'true',
      });
    }
    return { body: body as T, res };
  }

  async #call<T>(method: string, path: string, options?: RequestOptions): Promise<T> {
    return (await this.#request<T>(method, path, options)).body;
  }

  /**
   * Sends a templated (`template` + `data`) or literal (`body`) SMS or email. With `idempotencyKey`, a repeat
   * answers the first answer (`replayed: true`) and sends nothing; a different payload under the key is a 409.
   */
  async send(request: SendMessageInput, options: { idempotencyKey?: string } = {}): Promise<SendResponse> {
    const { body, res } = await this.#request<Omit<SendResponse, 'replayed'>>('POST', '/v1/messages', {
      body: request,
      ...(options.idempotencyKey !== undefined && { headers: { 'idempotency-key': options.idempotencyKey } }),
    });
    return { ...body, replayed: res.headers.get('idempotent-replayed') === 'true' };
  }

  readonly messages = {
    /** The message, its status history, prompt, answer and reference. */
    get: (messageId: string): Promise<MessageResponse> => this.#call('GET', `/v1/messages/${segment(messageId)}`),
  };

  readonly customers = {
    /** The profile with consent per channel. */
    get: (customerId: string): Promise<CustomerResponse> => this.#call('GET', `/v1/customers/${segment(customerId)}`),
    /** Creates or updates the profile: a field given sets it, `null` clears it. */
    put: (customerId: string, changes: PutCustomerInput): Promise<CustomerResponse> =>
      this.#call('PUT', `/v1/customers/${segment(customerId)}`, { body: changes }),
    /** An agent's free-form reply, on the channel the customer is on now unless `channel` says (`agent` scope). */
    reply: async (
      customerId: string,
      reply: ReplyInput,
      options: { idempotencyKey?: string } = {},
    ): Promise<ReplyResponse> => {
      const { body, res } = await this.#request<Omit<ReplyResponse, 'replayed'>>(
        'POST',
        `/v1/customers/${segment(customerId)}/messages`,
        {
          body: reply,
          ...(options.idempotencyKey !== undefined && { headers: { 'idempotency-key': options.idempotencyKey } }),
        },
      );
      return { ...body, replayed: res.headers.get('idempotent-replayed') === 'true' };
    },
    /** A signed, expiring chat link for the customer, texted to them with `sendLink: true`. */
    startChat: (customerId: string, request: ChatSessionInput = {}): Promise<ChatSessionResponse> =>
      this.#call('POST', `/v1/customers/${segment(customerId)}/chat-sessions`, { body: request }),
  };

  readonly conversations = {
    /** The conversations needing an agent, most recent first; pass `nextCursor` as `cursor` for the next page. */
    needingAttention: (query: { limit?: number; cursor?: string } = {}): Promise<AttentionPage> =>
      this.#call('GET', '/v1/conversations', {
        query: { needs: 'attention', limit: query.limit, cursor: query.cursor },
      }),
  };

  readonly callbacks = {
    list: (query: CallbackQuery = {}): Promise<CallbacksPage> =>
      this.#call('GET', '/v1/callbacks', { query: { status: query.status, limit: query.limit, cursor: query.cursor } }),
    /** Completes or cancels a callback (`agent` scope). */
    update: (callbackId: string, update: CallbackUpdateInput): Promise<CallbackResponse> =>
      this.#call('PATCH', `/v1/callbacks/${segment(callbackId)}`, { body: update }),
  };

  /** One page of the customer's cross-channel timeline, newest first; pass `nextCursor` as `before` for the next. */
  conversation(customerId: string, query: ConversationQuery = {}): Promise<ConversationResponse> {
    return this.#call('GET', `/v1/customers/${segment(customerId)}/conversation`, {
      query: { limit: query.limit, before: query.before },
    });
  }

  readonly templates = {
    list: async (): Promise<TemplateResponse[]> =>
      (await this.#call<{ templates: TemplateResponse[] }>('GET', '/v1/templates')).templates,
    get: (name: string): Promise<TemplateResponse> => this.#call('GET', `/v1/templates/${segment(name)}`),
    /** Creates or replaces the template (a text that does not parse is a 400 at its field). */
    put: (name: string, template: PutTemplateInput): Promise<TemplateResponse> =>
      this.#call('PUT', `/v1/templates/${segment(name)}`, { body: template }),
    delete: (name: string): Promise<{ name: string; deleted: true }> =>
      this.#call('DELETE', `/v1/templates/${segment(name)}`),
  };

  readonly keywords = {
    list: async (): Promise<KeywordResponse[]> =>
      (await this.#call<{ keywords: KeywordResponse[] }>('GET', '/v1/keywords')).keywords,
    get: (keyword: string): Promise<KeywordResponse> => this.#call('GET', `/v1/keywords/${segment(keyword)}`),
    /** Creates or replaces the keyword (stored upper-case; reserved words are a 400 saying why). `admin` scope. */
    put: (keyword: string, value: PutKeywordInput = {}): Promise<KeywordResponse> =>
      this.#call('PUT', `/v1/keywords/${segment(keyword)}`, { body: value }),
    delete: (keyword: string): Promise<{ keyword: string; deleted: true }> =>
      this.#call('DELETE', `/v1/keywords/${segment(keyword)}`),
  };

  /** The tenant's settings (`admin` scope). */
  readonly tenant = {
    get: (): Promise<TenantSettingsResponse> => this.#call('GET', '/v1/tenant'),
    update: (patch: PatchTenantInput): Promise<TenantSettingsResponse> =>
      this.#call('PATCH', '/v1/tenant', { body: patch }),
  };

  /** Signed webhook endpoints (DESIGN section 15). */
  readonly webhooks = {
    /** Registers an endpoint; the answer's `secret` is shown this once. */
    create: (request: CreateWebhookInput): Promise<WebhookWithSecret> =>
      this.#call('POST', '/v1/webhooks', { body: request }),
    list: async (): Promise<WebhookResponse[]> =>
      (await this.#call<{ webhooks: WebhookResponse[] }>('GET', '/v1/webhooks')).webhooks,
    get: (webhookId: string): Promise<WebhookResponse> => this.#call('GET', `/v1/webhooks/${segment(webhookId)}`),
    delete: (webhookId: string): Promise<{ webhookId: string; deleted: true }> =>
      this.#call('DELETE', `/v1/webhooks/${segment(webhookId)}`),
    /** A new secret, shown this once; the previous one keeps signing for 24 hours beside it. */
    rotate: (webhookId: string): Promise<WebhookWithSecret> =>
      this.#call('POST', `/v1/webhooks/${segment(webhookId)}/rotate-secret`),
    /** The delivery attempts, newest first; pass `nextCursor` as `cursor` for the next page. */
    deliveries: (webhookId: string, query: { limit?: number; cursor?: string } = {}): Promise<WebhookDeliveriesPage> =>
      this.#call('GET', `/v1/webhooks/${segment(webhookId)}/deliveries`, {
        query: { limit: query.limit, cursor: query.cursor },
      }),
  };
}

// --- Webhooks ----------------------------------------------------------------------------------------------------

/** Headers as a `Headers` object (fetch, Request) or a plain record (Node's `IncomingMessage.headers`, Lambda). */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

const signatureHeaders = (headers: WebhookHeaders): Record<string, string> => {
  const read = (name: string): string => {
    if (headers instanceof Headers) return headers.get(name) ?? '';
    const entry = Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];
    return Array.isArray(entry) ? entry.join(' ') : (entry ?? '');
  };
  return {
    'webhook-id': read('webhook-id'),
    'webhook-timestamp': read('webhook-timestamp'),
    'webhook-signature': read('webhook-signature'),
  };
};

/**
 * Verifies a webhook delivery as the Standard Webhooks specification says (the signature over `id.timestamp.body`
 * with the endpoint's `whsec_…` secret, a timestamp within 5 minutes) and returns its event, typed by the catalogue.
 * `payload` must be the raw body as received (a re-serialised object no longer matches the signature). Several
 * secrets (during a rotation) are tried in turn. Throws `WebhookVerificationError` (from `standardwebhooks`) when
 * no secret verifies it.
 */
export const verifyWebhook = (
  payload: string | Uint8Array,
  headers: WebhookHeaders,
  secret: string | readonly string[],
): WebhookEvent => {
  const secrets = typeof secret === 'string' ? [secret] : secret;
  if (secrets.length === 0) throw new TypeError('verifyWebhook needs a secret');
  const signed = signatureHeaders(headers);
  let failure: unknown;
  for (const candidate of secrets) {
    try {
      return new Webhook(candidate).verify(payload, signed) as WebhookEvent;
    } catch (error) {
      failure = error;
    }
  }
  throw failure;
};

export { WebhookVerificationError } from 'standardwebhooks';
