/**
 * A tenant's webhook endpoints as the API manages them (`/v1/webhooks`, DESIGN section 15): registration with the
 * URL policy, the secret shown once, rotation (both secrets sign for 24 h), deletion and the attempts listed. The
 * delivery itself is ./webhook-delivery.ts.
 */
import { InvalidRequestError, NotFoundError, ParleyError } from './errors.ts';
import type { ParleyEventType } from './events.ts';
import { newUlid } from './ids.ts';
import type { Clock, Page, PageRequest } from './ports.ts';
import type { CreateWebhookRequest } from './webhook-schemas.ts';
import { maxWebhooksPerTenant } from './webhook-schemas.ts';
import { rotateWebhookSecrets, signingSecrets, type WebhookSecret } from './webhooks.ts';

/** A registered endpoint as stored: with its secrets, which only registration and rotation ever show. */
export interface WebhookEndpoint {
  webhookId: string;
  tenantId: string;
  url: string;
  events: ParleyEventType[];
  /** `disabled` after the endpoint answered 410 Gone: nothing more is sent to it. */
  status: 'enabled' | 'disabled';
  disabledReason?: string;
  createdAt: string;
  secrets: WebhookSecret[];
  /** Bumped by every change, for compare-and-set. */
  version: number;
}

/** An endpoint as the API shows it: never a secret. */
export interface WebhookView {
  webhookId: string;
  url: string;
  events: ParleyEventType[];
  status: WebhookEndpoint['status'];
  disabledReason?: string;
  createdAt: string;
  /** When the secret replaced by the last rotation stops signing (absent when only one secret signs). */
  previousSecretRetiresAt?: string;
}

/** One delivery attempt, as `GET /v1/webhooks/{webhookId}/deliveries` lists it, newest first. */
export interface WebhookAttempt {
  tenantId: string;
  webhookId: string;
  /** The `webhook-id` header: the same on every attempt of one event's delivery. */
  deliveryId: string;
  eventType: ParleyEventType;
  /** 1 for the first attempt. */
  attempt: number;
  attemptedAt: string;
  durationMs: number;
  /** `delivered`; `retrying` (another attempt is due at `nextAttemptAt`); `failed` (given up: dead-lettered). */
  outcome: 'delivered' | 'retrying' | 'failed';
  /** The endpoint's HTTP status, when it answered. */
  statusCode?: number;
  /** Why the attempt failed without a 2xx: `timeout`, `connection`, `url_refused: ...`, `http_status`, `gone`. */
  error?: string;
  nextAttemptAt?: string;
}

/** The port the registry and the sender need; adapters/dynamo/webhook-store.ts implements it. */
export interface WebhookStore {
  /** Writes a new endpoint; false when the id is taken. */
  createWebhook(endpoint: WebhookEndpoint): Promise<boolean>;
  getWebhook(tenantId: string, webhookId: string): Promise<WebhookEndpoint | undefined>;
  /** Every endpoint of the tenant (at most `maxWebhooksPerTenant`, so one small query). */
  listWebhooks(tenantId: string): Promise<WebhookEndpoint[]>;
  deleteWebhook(tenantId: string, webhookId: string): Promise<boolean>;
  /** Replaces the endpoint if its version is still `expectedVersion` (bumping it); false otherwise. */
  replaceWebhook(endpoint: WebhookEndpoint, expectedVersion: number): Promise<boolean>;
  recordAttempt(attempt: WebhookAttempt): Promise<void>;
  listAttempts(tenantId: string, webhookId: string, page: PageRequest): Promise<Page<WebhookAttempt>>;
}

/** The URL policy with DNS, an adapter (adapters/webhooks/resolve-and-check.ts). */
export type WebhookUrlCheck = (url: string) => Promise<{ ok: true } | { ok: false; reason: string }>;

export interface WebhookRegistryDeps {
  store: WebhookStore;
  checkUrl: WebhookUrlCheck;
  /** A new `whsec_...` secret (adapters/webhooks/signer.ts). */
  newSecret: () => string;
  clock: Clock;
}

export const webhookView = (endpoint: WebhookEndpoint, now: number): WebhookView => {
  const previous = signingSecrets(endpoint.secrets, now).find((s) => s.retiresAt !== undefined);
  return {
    webhookId: endpoint.webhookId,
    url: endpoint.url,
    events: endpoint.events,
    status: endpoint.status,
    ...(endpoint.disabledReason !== undefined && { disabledReason: endpoint.disabledReason }),
    createdAt: endpoint.createdAt,
    ...(previous?.retiresAt !== undefined && { previousSecretRetiresAt: new Date(previous.retiresAt).toISOString() }),
  };
};

const refusedUrl = (reason: string) =>
  new InvalidRequestError('The webhook URL is refused', [{ path: 'url', message: reason }]);

/** Registers an endpoint: the URL checked (with DNS), a new secret, shown in this answer only. */
export const registerWebhook = async (
  deps: WebhookRegistryDeps,
  tenantId: string,
  request: CreateWebhookRequest,
): Promise<WebhookView & { secret: string }> => {
  const verdict = await deps.checkUrl(request.url);
  if (!verdict.ok) throw refusedUrl(verdict.reason);
  if ((await deps.store.listWebhooks(tenantId)).length >= maxWebhooksPerTenant) {
    throw new ParleyError('invalid_request', `A tenant has at most ${maxWebhooksPerTenant} webhooks`);
  }
  const now = deps.clock.now();
  const secret = deps.newSecret();
  const endpoint: WebhookEndpoint = {
    webhookId: `wh_${newUlid(now)}`,
    tenantId,
    url: request.url,
    events: [...new Set(request.events)] as ParleyEventType[],
    status: 'enabled',
    createdAt: new Date(now).toISOString(),
    secrets: [{ secret, createdAt: now }],
    version: 1,
  };
  if (!(await deps.store.createWebhook(endpoint))) throw new Error('A new webhook id was already taken');
  return { ...webhookView(endpoint, now), secret };
};

export const readWebhook = async (
  deps: Pick<WebhookRegistryDeps, 'store' | 'clock'>,
  tenantId: string,
  webhookId: string,
): Promise<WebhookView> => webhookView(await requireWebhook(deps.store, tenantId, webhookId), deps.clock.now());

export const listWebhooks = async (
  deps: Pick<WebhookRegistryDeps, 'store' | 'clock'>,
  tenantId: string,
): Promise<WebhookView[]> => {
  const now = deps.clock.now();
  return (await deps.store.listWebhooks(tenantId))
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
    .map((endpoint) => webhookView(endpoint, now));
};

export const deleteWebhook = async (
  deps: Pick<WebhookRegistryDeps, 'store'>,
  tenantId: string,
  webhookId: string,
): Promise<void> => {
  if (!(await deps.store.deleteWebhook(tenantId, webhookId))) throw new NotFoundError('Webhook');
};

/**
 * A new secret, shown once; the ones signing now keep signing for 24 h beside it, so the receiver can roll its
 * configuration without losing a delivery.
 */
export const rotateWebhookSecret = async (
  deps: Pick<WebhookRegistryDeps, 'store' | 'clock' | 'newSecret'>,
  tenantId: string,
  webhookId: string,
): Promise<WebhookView & { secret: string }> => {
  for (let attempt = 0; attempt < 5; attempt++) {
    const endpoint = await requireWebhook(deps.store, tenantId, webhookId);
    const now = deps.clock.now();
    const secret = deps.newSecret();
    const rotated = { ...endpoint, secrets: rotateWebhookSecrets(endpoint.secrets, secret, now) };
    if (await deps.store.replaceWebhook(rotated, endpoint.version)) {
      return { ...webhookView(rotated, now), secret };
    }
  }
  throw new ParleyError('rate_limited', 'The webhook is being changed by another request; retry', {
    retryAfterSeconds: 1,
  });
};

export const listWebhookAttempts = async (
  deps: Pick<WebhookRegistryDeps, 'store'>,
  tenantId: string,
  webhookId: string,
  page: PageRequest,
): Promise<Page<WebhookAttempt>> => {
  await requireWebhook(deps.store, tenantId, webhookId);
  return deps.store.listAttempts(tenantId, webhookId, page);
};

const requireWebhook = async (store: WebhookStore, tenantId: string, webhookId: string) => {
  const endpoint = await store.getWebhook(tenantId, webhookId);
  if (!endpoint) throw new NotFoundError('Webhook');
  return endpoint;
};
