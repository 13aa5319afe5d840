import { Parley, ParleyApiError } from 'parley/client';
import { describe, expect, it } from 'vitest';

/** The client's HTTP edge with an injected fetch: what it sends, and how it reads answers that are not 2xx. */

const recording = (answer: () => Response) => {
  const calls: { url: string; init: RequestInit | undefined }[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    calls.push({ url: String(input), init });
    return answer();
  };
  return { calls, fetch };
};

const failure = async (promise: Promise<unknown>): Promise<ParleyApiError> => {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ParleyApiError) return error;
    throw error;
  }
  throw new Error('expected a ParleyApiError');
};

describe('Parley client', () => {
  it('sends the key, JSON and the Idempotency-Key; encodes path segments and the query', async () => {
    const { calls, fetch } = recording(() =>
      Response.json(
        { messageId: 'msg_01', customerId: 'c/1', channel: 'sms', status: 'unknown' },
        { status: 202, headers: { 'idempotent-replayed': 'true' } },
      ),
    );
    const parley = new Parley({ baseUrl: 'https://api.example/', apiKey: 'pk_test', fetch });
    const sent = await parley.send({ customerId: 'c/1', body: { sms: 'Hi' } }, { idempotencyKey: 'k-1' });
    // 202 unknown is an answer, not an error.
    expect(sent).toEqual({ messageId: 'msg_01', customerId: 'c/1', channel: 'sms', status: 'unknown', replayed: true });
    expect(calls[0]?.url).toBe('https://api.example/v1/messages');
    expect(calls[0]?.init?.method).toBe('POST');
    expect(calls[0]?.init?.headers).toMatchObject({
      authorization: 'Bearer pk_test',
      'content-type': 'application/json',
      'idempotency-key': 'k-1',
    });
    expect(JSON.parse(String(calls[0]?.init?.body))).toEqual({ customerId: 'c/1', body: { sms: 'Hi' } });

    await parley.conversation('c/1', { limit: 5, before: 'x y' });
    expect(calls[1]?.url).toBe('https://api.example/v1/customers/c%2F1/conversation?limit=5&before=x+y');
    expect(calls[1]?.init?.body).toBeUndefined();
  });

  it('throws ParleyApiError with the code, details and Retry-After of the answer', async () => {
    const { fetch } = recording(() =>
      Response.json(
        { error: { code: 'rate_limited', message: 'Slow down', details: [{ path: 'x', message: 'y' }] } },
        { status: 429, headers: { 'retry-after': '3' } },
      ),
    );
    const error = await failure(new Parley({ baseUrl: 'https://api.example', apiKey: 'k', fetch }).tenant.get());
    expect(error).toMatchObject({
      name: 'ParleyApiError',
      status: 429,
      code: 'rate_limited',
      message: 'Slow down',
      details: [{ path: 'x', message: 'y' }],
      retryAfter: 3,
      replayed: false,
    });
  });

  it('an answer that is not the API error shape still throws, with http_<status>', async () => {
    const { fetch } = recording(() => new Response('Bad gateway', { status: 502, statusText: 'Bad Gateway' }));
    const error = await failure(new Parley({ baseUrl: 'https://api.example', apiKey: 'k', fetch }).keywords.list());
    expect(error).toMatchObject({ status: 502, code: 'http_502', details: undefined, retryAfter: undefined });
    expect(error.message).toContain('502');
  });

  it('reads a Retry-After given as an HTTP date', async () => {
    const later = new Date(Date.now() + 10_000).toUTCString();
    const { fetch } = recording(() =>
      Response.json(
        { error: { code: 'provider_unavailable', message: 'x' } },
        { status: 503, headers: { 'retry-after': later } },
      ),
    );
    const error = await failure(new Parley({ baseUrl: 'https://api.example', apiKey: 'k', fetch }).messages.get('m'));
    expect(error.retryAfter).toBeGreaterThanOrEqual(8);
    expect(error.retryAfter).toBeLessThanOrEqual(11);
  });
});
