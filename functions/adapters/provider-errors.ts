import { ProviderRejectedError, ProviderUnavailableError } from '../domain/errors.ts';

const throttling = new Set(['Throttling', 'ThrottlingException', 'ThrottledException', 'TooManyRequestsException']);

/**
 * Sorts an SDK error from a provider into Parley's two outcomes: a 4xx the provider will give again (rejected,
 * for good) or anything else after the SDK's own retries (unavailable, a later retry may work).
 */
export const classifyProviderError = (error: unknown): ProviderRejectedError | ProviderUnavailableError => {
  const { name, $metadata, $fault } = (error ?? {}) as {
    name?: string;
    $metadata?: { httpStatusCode?: number };
    $fault?: string;
  };
  const status = $metadata?.httpStatusCode ?? 0;
  if ($fault === 'client' && status >= 400 && status < 500 && !throttling.has(name ?? '')) {
    return new ProviderRejectedError(name ?? 'rejected', error);
  }
  return new ProviderUnavailableError(error);
};
