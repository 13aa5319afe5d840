import { describe, expect, it } from 'vitest';
import { classifyProviderError } from '../../functions/adapters/provider-errors.ts';
import {
  ProviderOutcomeUnknownError,
  ProviderRejectedError,
  ProviderUnavailableError,
} from '../../functions/domain/errors.ts';

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

  it('classifies ServiceUnavailable (503) as not taken: safe to try again', () => {
    const error = sdkError('ServiceUnavailable', 503, 'server');

    expect(classifyProviderError(error)).toMatchObject({ code: 'provider_unavailable', cause: error });
  });

  it('classifies InternalError (500) as unknown: it does not prove a refusal', () => {
    const error = sdkError('InternalError', 500, 'server');

    const classified = classifyProviderError(error);

    expect(classified).toBeInstanceOf(ProviderOutcomeUnknownError);
    expect(classified.cause).toBe(error);
  });

  it.each(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH'])(
    'classifies %s (the connection never opened) as not taken',
    (code) => {
      const error = Object.assign(new Error(`connect ${code} 127.0.0.1:4566`), { code });

      const classified = classifyProviderError(error);

      expect(classified).toBeInstanceOf(ProviderUnavailableError);
      expect(classified.cause).toBe(error);
    },
  );

  it('classifies a connection timeout before the socket connected as not taken', () => {
    const error = Object.assign(
      new Error('the request socket did not establish a connection with the server within 1000 ms.'),
      { name: 'TimeoutError' },
    );

    expect(classifyProviderError(error)).toBeInstanceOf(ProviderUnavailableError);
  });

  it.each([
    [
      'a connection reset after the request went',
      { name: 'TimeoutError', code: 'ECONNRESET', message: 'read ECONNRESET' },
    ],
    ['a socket hang up', { code: 'ECONNRESET', message: 'socket hang up' }],
    ['a request timeout', { name: 'TimeoutError', code: 'ETIMEDOUT', message: 'a request has exceeded 5000 ms' }],
    ['a broken pipe', { name: 'TimeoutError', code: 'EPIPE', message: 'write EPIPE' }],
    ['an answer that could not be parsed', { name: 'SyntaxError', message: 'Unexpected end of XML' }],
  ])('classifies %s as unknown: the provider may have it', (_what, shape) => {
    const error = Object.assign(new Error(shape.message), shape);

    expect(classifyProviderError(error)).toBeInstanceOf(ProviderOutcomeUnknownError);
  });

  it.each([undefined, null, 'a string'])('classifies the non-error %j as unknown', (thrown) => {
    expect(classifyProviderError(thrown)).toBeInstanceOf(ProviderOutcomeUnknownError);
  });
});
