import { ProviderOutcomeUnknownError, ProviderRejectedError, ProviderUnavailableError } from '../domain/errors.ts';

const throttling = new Set(['Throttling', 'ThrottlingException', 'ThrottledException', 'TooManyRequestsException']);

/** Network errors raised before the request could reach the provider: nothing was sent. */
const neverConnected = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);

interface SdkErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $fault?: string;
}

/**
 * Sorts an SDK error from SNS `Publish` or SES `SendEmail` into Parley's three outcomes (DESIGN section 11). Only an
 * error that proves the provider did not take the message may be retried; anything else is `unknown`, and Parley
 * never sends that message again:
 * - rejected: a 4xx the provider will give again (bad number, unverified address, message refused);
 * - unavailable (not taken): throttling, 503, or a connection that never opened;
 * - unknown: a lost answer, a timeout after the request went, a 500, or anything not recognised.
 */
export const classifyProviderError = (
  error: unknown,
): ProviderRejectedError | ProviderUnavailableError | ProviderOutcomeUnknownError => {
  const { name = '', code = '', message = '', $metadata, $fault } = (error ?? {}) as SdkErrorShape;
  const status = $metadata?.httpStatusCode ?? 0;
  if (throttling.has(name) || status === 429) return new ProviderUnavailableError(error);
  if (status === 503) return new ProviderUnavailableError(error);
  if ($fault === 'client' && status >= 400 && status < 500) return new ProviderRejectedError(name || 'rejected', error);
  if (neverConnected.has(code)) return new ProviderUnavailableError(error);
  // The SDK's connection timeout fires before the socket connects; every other timeout came after the request went.
  if (name === 'TimeoutError' && message.includes('did not establish a connection')) {
    return new ProviderUnavailableError(error);
  }
  return new ProviderOutcomeUnknownError(error);
};

/**
 * The SDK's automatic retries would re-send a request whose answer was lost, so SNS and SES clients make one attempt
 * and the domain retries only what provably did not go (DESIGN section 11).
 */
export const singleAttempt = { maxAttempts: 1 } as const;
