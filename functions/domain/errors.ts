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
  | 'no_reachable_channel'
  | 'unknown_template'
  | 'message_too_long'
  | 'provider_rejected'
  | 'rate_limited'
  | 'internal'
  | 'provider_unavailable';

const statusByCode: Record<ErrorCode, number> = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  idempotency_conflict: 409,
  payload_too_large: 413,
  recipient_opted_out: 422,
  no_reachable_channel: 422,
  unknown_template: 422,
  message_too_long: 422,
  provider_rejected: 422,
  rate_limited: 429,
  internal: 500,
  provider_unavailable: 503,
};

export class ParleyError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly expose: boolean;
  readonly details: ErrorDetail[] | undefined;

  constructor(code: ErrorCode, message: string, options: { details?: ErrorDetail[]; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'ParleyError';
    this.code = code;
    this.status = statusByCode[code];
    this.expose = code !== 'internal';
    this.details = options.details;
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

/** The provider could not be reached even after the SDK's retries: a later retry may succeed. */
export class ProviderUnavailableError extends ParleyError {
  constructor(cause?: unknown) {
    super('provider_unavailable', 'The messaging provider is unavailable; retry later', { cause });
    this.name = 'ProviderUnavailableError';
  }
}
