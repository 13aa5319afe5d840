/**
 * Parley's error hierarchy. `code` and `status` are the public contract (DESIGN section 5); `expose` says whether
 * `message` may reach the caller (internal errors never leak their message).
 */
export interface ErrorDetail {
  path: string;
  message: string;
}

export type ErrorCode =
  | 'invalid_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'idempotency_conflict'
  | 'payload_too_large'
  | 'recipient_opted_out'
  | 'recipient_suppressed'
  | 'no_reachable_channel'
  | 'unknown_template'
  | 'message_too_long'
  | 'provider_rejected'
  | 'not_cancellable'
  | 'rate_limited'
  | 'internal'
  | 'provider_unavailable';

/** Every error code with its HTTP status (DESIGN section 5): a new code does not compile until it is placed. */
export const statusByCode: Readonly<Record<ErrorCode, number>> = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  idempotency_conflict: 409,
  payload_too_large: 413,
  recipient_opted_out: 422,
  recipient_suppressed: 422,
  no_reachable_channel: 422,
  unknown_template: 422,
  message_too_long: 422,
  provider_rejected: 422,
  not_cancellable: 422,
  rate_limited: 429,
  internal: 500,
  provider_unavailable: 503,
};

export class ParleyError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly expose: boolean;
  readonly details: ErrorDetail[] | undefined;
  /** Seconds a client should wait before retrying (the `Retry-After` header), where that is known. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { details?: ErrorDetail[]; cause?: unknown; retryAfterSeconds?: number } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'ParleyError';
    this.code = code;
    this.status = statusByCode[code];
    this.expose = code !== 'internal';
    this.details = options.details;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export class InvalidRequestError extends ParleyError {
  constructor(message: string, details?: ErrorDetail[]) {
    super('invalid_request', message, details ? { details } : {});
    this.name = 'InvalidRequestError';
  }
}

export class NotFoundError extends ParleyError {
  constructor(what: string) {
    super('not_found', `${what} not found`);
    this.name = 'NotFoundError';
  }
}

/** The provider refused this message for good (bad number, suppressed address): retrying will not help. */
export class ProviderRejectedError extends ParleyError {
  constructor(reason: string, cause?: unknown) {
    super('provider_rejected', `The provider rejected the message: ${reason}`, { cause });
    this.name = 'ProviderRejectedError';
  }
}

/**
 * The provider did not take the message, provably (throttled, unavailable before accepting, a connection that never
 * opened): sending again cannot duplicate it.
 */
export class ProviderUnavailableError extends ParleyError {
  constructor(cause?: unknown) {
    super('provider_unavailable', 'The messaging provider is unavailable; retry later', { cause });
    this.name = 'ProviderUnavailableError';
  }
}

/**
 * The request reached the provider and its outcome is not known (a lost answer, a timeout after sending, a 5xx that
 * does not prove a refusal). DESIGN section 11: such a message is never sent again by Parley.
 */
/**
 * An inbound message no tenant's conversation can take for sure (its reply token failed, and it answers no message
 * Parley sent the sender): kept whole on the dead-letter queue, never acted on.
 */
export class UnattributableInboundError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'UnattributableInboundError';
  }
}

export class ProviderOutcomeUnknownError extends Error {
  constructor(cause?: unknown) {
    super('The provider may or may not have taken the message', { cause });
    this.name = 'ProviderOutcomeUnknownError';
  }
}

/** A retry-until-done loop gave up (a record kept changing, a duplicate kept its lease): always a bug or overload. */
export class RetriesExhaustedError extends ParleyError {
  constructor(what: string) {
    super('internal', `Gave up after repeated attempts: ${what}`);
    this.name = 'RetriesExhaustedError';
  }
}
