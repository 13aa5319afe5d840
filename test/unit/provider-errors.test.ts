import { describe, expect, it } from 'vitest';
import { classifyProviderError } from '../../functions/adapters/provider-errors.ts';
import { ProviderRejectedError, ProviderUnavailableError } from '../../functions/domain/errors.ts';

/** An error shaped like an AWS SDK v3 service exception. */
const sdkError = (name: string, httpStatusCode: number, fault: 'client' | 'server') =>
  Object.assign(new Error(`${name} happened`), { name, $fault: fault, $metadata: { httpStatusCode } });

describe('provider errors', () => {
  it.each([
    ['InvalidParameter', 400],
    ['InvalidParameterValue', 400],
    ['MessageRejected', 400],
    ['AuthorizationError', 403],
    ['NotFound', 404],
  ])('classifies the client error %s (%i) as rejected, naming it', (name, status) => {
    // Prepare
    const error = sdkError(name, status, 'client');

    // Act
    const classified = classifyProviderError(error);

    // Assess
    expect(classified).toBeInstanceOf(ProviderRejectedError);
    expect(classified).toMatchObject({ code: 'provider_rejected', status: 422, cause: error });
    expect(classified.message).toContain(name);
  });

  it.each(['Throttling', 'ThrottlingException', 'ThrottledException', 'TooManyRequestsException'])(
    'classifies throttling (%s) as unavailable even though it is a 4xx',
    (name) => {
      const classified = classifyProviderError(sdkError(name, 400, 'client'));

      expect(classified).toBeInstanceOf(ProviderUnavailableError);
      expect(classified).toMatchObject({ code: 'provider_unavailable', status: 503 });
    },
  );

  it.each([
    ['InternalError', 500],
    ['ServiceUnavailable', 503],
  ])('classifies the server error %s (%i) as unavailable', (name, status) => {
    const error = sdkError(name, status, 'server');

    expect(classifyProviderError(error)).toMatchObject({ code: 'provider_unavailable', cause: error });
  });

  it('classifies a network error without SDK metadata as unavailable', () => {
    const error = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4566'), { code: 'ECONNREFUSED' });

    const classified = classifyProviderError(error);

    expect(classified).toBeInstanceOf(ProviderUnavailableError);
    expect(classified.cause).toBe(error);
  });

  it('classifies a client fault without an HTTP status as unavailable', () => {
    const error = Object.assign(new Error('TimeoutError'), { name: 'TimeoutError', $fault: 'client' });

    expect(classifyProviderError(error)).toBeInstanceOf(ProviderUnavailableError);
  });

  it.each([undefined, null, 'a string'])('classifies the non-error %j as unavailable', (thrown) => {
    expect(classifyProviderError(thrown)).toBeInstanceOf(ProviderUnavailableError);
  });
});
