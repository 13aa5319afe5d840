import { describe, expect, it } from 'vitest';
import {
  type ErrorCode,
  InvalidRequestError,
  NotFoundError,
  ParleyError,
  ProviderRejectedError,
  ProviderUnavailableError,
} from '../../functions/domain/errors.ts';

describe('errors', () => {
  it.each([
    ['invalid_request', 400],
    ['unauthorized', 401],
    ['forbidden', 403],
    ['not_found', 404],
    ['idempotency_conflict', 409],
    ['payload_too_large', 413],
    ['recipient_opted_out', 422],
    ['no_reachable_channel', 422],
    ['unknown_template', 422],
    ['message_too_long', 422],
    ['provider_rejected', 422],
    ['rate_limited', 429],
    ['internal', 500],
    ['provider_unavailable', 503],
  ] as [ErrorCode, number][])('maps %s to HTTP %i', (code, status) => {
    expect(new ParleyError(code, 'x').status).toBe(status);
  });

  it('exposes every message but an internal one', () => {
    expect(new ParleyError('internal', 'db password is hunter2').expose).toBe(false);
    expect(new ParleyError('not_found', 'x').expose).toBe(true);
  });

  it('keeps the details and the cause', () => {
    const cause = new Error('root');

    expect(new InvalidRequestError('bad', [{ path: 'to.phone', message: 'nope' }]).details).toEqual([
      { path: 'to.phone', message: 'nope' },
    ]);
    expect(new ProviderUnavailableError(cause).cause).toBe(cause);
    expect(new ProviderRejectedError('InvalidParameter', cause).cause).toBe(cause);
  });

  it('names the kind of each error class and keeps them ParleyErrors', () => {
    const errors = [
      new InvalidRequestError('bad'),
      new NotFoundError('Message'),
      new ProviderRejectedError('x'),
      new ProviderUnavailableError(),
    ];

    expect(errors.map((e) => [e.name, e.code])).toEqual([
      ['InvalidRequestError', 'invalid_request'],
      ['NotFoundError', 'not_found'],
      ['ProviderRejectedError', 'provider_rejected'],
      ['ProviderUnavailableError', 'provider_unavailable'],
    ]);
    for (const error of errors) expect(error).toBeInstanceOf(ParleyError);
    expect(new NotFoundError('Message').message).toBe('Message not found');
  });
});
