import { createHash, createHmac } from 'node:crypto';
import { Readable } from 'node:stream';
import type { HttpRequest, HttpResponse } from '@smithy/core/protocols';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { maxRawMailBytes, S3RawMail, type S3RawMailOptions } from '../../functions/adapters/email/s3-raw-mail.ts';
import { UnprocessableInboundError } from '../../functions/adapters/unprocessable-inbound.ts';

/**
 * SigV4 written out from the specification, independently of the SDK's signer the reader uses, for the requests the
 * reader makes (no query, no body). Checked against AWS's own worked example first.
 */
const referenceSignature = (input: {
  method: string;
  host: string;
  path: string;
  headers: Record<string, string>;
  payloadHash: string;
  secretAccessKey: string;
  region: string;
  amzDate: string;
}) => {
  const sha = (text: string) => createHash('sha256').update(text).digest('hex');
  const hmac = (key: string | Buffer, text: string) => createHmac('sha256', key).update(text).digest();
  const headers: Record<string, string> = { host: input.host, ...input.headers };
  const names = Object.keys(headers).sort();
  const canonical = [
    input.method,
    input.path,
    '',
    ...names.map((name) => `${name}:${headers[name]?.trim()}`),
    '',
    names.join(';'),
    input.payloadHash,
  ].join('\n');
  const scope = `${input.amzDate.slice(0, 8)}/${input.region}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', input.amzDate, scope, sha(canonical)].join('\n');
  let key = hmac(`AWS4${input.secretAccessKey}`, input.amzDate.slice(0, 8));
  for (const part of [input.region, 's3', 'aws4_request']) key = hmac(key, part);
  return { signedHeaders: names.join(';'), signature: createHmac('sha256', key).update(toSign).digest('hex') };
};

interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** An HTTP handler that records each request and answers as told (a thrown error is a dropped connection). */
const fakeHttp = (...answers: (Answer | Error)[]) => {
  const requests: HttpRequest[] = [];
  const bodies: Readable[] = [];
  const handler = {
    handle: async (request: HttpRequest) => {
      requests.push(request);
      const answer = answers[Math.min(requests.length, answers.length) - 1] ?? { status: 500 };
      if (answer instanceof Error) throw answer;
      const body = Readable.from(answer.body === undefined ? [] : [Buffer.from(answer.body)]);
      bodies.push(body);
      return {
        response: { statusCode: answer.status, headers: answer.headers ?? {}, body } as unknown as HttpResponse,
      };
    },
  };
  return { handler, requests, bodies };
};

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'session-token' };
const readerWith = (http: ReturnType<typeof fakeHttp>, options: Partial<S3RawMailOptions> = {}) =>
  new S3RawMail({ region: 'eu-west-1', credentials, httpHandler: http.handler, ...options });

const mail = 'From: ana@example.com\r\nSubject: Re: alert\r\n\r\nY\r\n';
const s3Error = (code: string) => `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code></Error>`;

afterEach(() => {
  vi.useRealTimers();
});

describe('the reference signature', () => {
  it("reproduces AWS's worked example (GET Object, S3 SigV4 documentation)", () => {
    expect(
      referenceSignature({
        method: 'GET',
        host: 'examplebucket.s3.amazonaws.com',
        path: '/test.txt',
        headers: {
          range: 'bytes=0-9',
          'x-amz-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
          'x-amz-date': '20130524T000000Z',
        },
        payloadHash: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
        secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
        region: 'us-east-1',
        amzDate: '20130524T000000Z',
      }).signature,
    ).toBe('f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41');
  });
});

describe("inbound-email's reader of the stored mail", () => {
  it('makes one GET of the object, virtual-hosted on AWS, signed as S3 checks it', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-03-01T12:34:56Z'));
    const http = fakeHttp({ status: 200, headers: { 'content-length': String(mail.length) }, body: mail });

    const bytes = await readerWith(http).read('parley-mail', "inbound/a b+c/ü(1)!*'");

    expect(Buffer.from(bytes).toString()).toBe(mail);
    expect(http.requests).toHaveLength(1);
    const request = http.requests[0] as HttpRequest;
    expect(request).toMatchObject({
      method: 'GET',
      protocol: 'https:',
      hostname: 'parley-mail.s3.eu-west-1.amazonaws.com',
      path: '/inbound/a%20b%2Bc/%C3%BC%281%29%21%2A%27',
    });
    expect(request.headers).toMatchObject({
      'x-amz-date': '20260301T123456Z',
      'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
      'x-amz-security-token': 'session-token',
    });
    const expected = referenceSignature({
      method: 'GET',
      host: 'parley-mail.s3.eu-west-1.amazonaws.com',
      path: request.path,
      headers: {
        'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
        'x-amz-date': '20260301T123456Z',
        'x-amz-security-token': 'session-token',
      },
      payloadHash: 'UNSIGNED-PAYLOAD',
      secretAccessKey: 'secret',
      region: 'eu-west-1',
      amzDate: '20260301T123456Z',
    });
    expect(request.headers.authorization).toBe(
      `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260301/eu-west-1/s3/aws4_request, ` +
        `SignedHeaders=${expected.signedHeaders}, Signature=${expected.signature}`,
    );
  });

  it('goes path-style where asked, on an IP address, and for a bucket name with dots', () => {
    const http = fakeHttp();
    const local = readerWith(http, { endpoint: 'http://localhost:4566', forcePathStyle: true }).request('b', 'k/1');
    expect(local).toMatchObject({ protocol: 'http:', hostname: 'localhost', port: 4566, path: '/b/k/1' });
    expect(local.headers.host).toBe('localhost:4566');
    expect(readerWith(http, { endpoint: 'http://127.0.0.1:9' }).request('b', 'k')).toMatchObject({
      hostname: '127.0.0.1',
      path: '/b/k',
    });
    expect(readerWith(http).request('mail.example', 'k')).toMatchObject({
      hostname: 's3.eu-west-1.amazonaws.com',
      path: '/mail.example/k',
    });
    expect(readerWith(http, { endpoint: 'https://s3.example.test' }).request('b', 'k')).toMatchObject({
      hostname: 'b.s3.example.test',
      path: '/k',
    });
  });

  it.each([
    ['404 NoSuchKey', { status: 404, body: s3Error('NoSuchKey') }],
    ['a 404 without a body', { status: 404 }],
  ])('treats %s as a mail that is gone: never processable, not retried', async (_what, answer) => {
    const http = fakeHttp(answer);
    const refused = await readerWith(http)
      .read('b', 'inbound/gone')
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(UnprocessableInboundError);
    expect((refused as Error).message).toBe('the stored mail is gone');
    expect(http.requests).toHaveLength(1);
  });

  it.each([
    // What S3 answers a missing key without s3:ListBucket, and a real denial alike: it cannot tell them apart.
    ['403 AccessDenied', { status: 403, body: s3Error('AccessDenied') }, /403 AccessDenied/],
    ['404 NoSuchBucket', { status: 404, body: s3Error('NoSuchBucket') }, /404 NoSuchBucket/],
    ['400 ExpiredToken', { status: 400, body: s3Error('ExpiredToken') }, /400 ExpiredToken/],
  ])('throws %s as it is, for the delivery to be retried, after one attempt', async (_what, answer, message) => {
    const http = fakeHttp(answer);
    const refused = await readerWith(http)
      .read('b', 'inbound/mail')
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(Error);
    expect(refused).not.toBeInstanceOf(UnprocessableInboundError);
    expect((refused as Error).message).toMatch(message);
    expect(http.requests).toHaveLength(1);
  });

  it('tries a 5xx, a 429 or a dropped connection again, three attempts in all, then throws', async () => {
    const dropped = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const recovered = fakeHttp({ status: 503, body: s3Error('SlowDown') }, dropped, { status: 200, body: mail });
    expect(Buffer.from(await readerWith(recovered).read('b', 'k')).toString()).toBe(mail);
    expect(recovered.requests).toHaveLength(3);

    const failing = fakeHttp({ status: 500, body: s3Error('InternalError') });
    await expect(readerWith(failing).read('b', 'k')).rejects.toThrow(/500 InternalError/);
    expect(failing.requests).toHaveLength(3);

    const throttled = fakeHttp({ status: 429 });
    await expect(readerWith(throttled, { maxAttempts: 1 }).read('b', 'k')).rejects.toThrow(/429/);
    expect(throttled.requests).toHaveLength(1);
  });

  it('refuses an object over 40 MB by its Content-Length, without reading it', async () => {
    const http = fakeHttp({ status: 200, headers: { 'content-length': String(maxRawMailBytes + 1) }, body: 'x' });
    const refused = await readerWith(http)
      .read('b', 'k')
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(UnprocessableInboundError);
    expect((refused as Error).message).toMatch(/more than SES receives/);
    expect(http.bodies[0]?.destroyed).toBe(true);
  });

  it('takes its region, credentials and endpoint from the environment, AWS_ENDPOINT_URL_S3 first', async () => {
    const reader = S3RawMail.fromEnvironment(
      { forcePathStyle: true },
      {
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'id',
        AWS_SECRET_ACCESS_KEY: 'key',
        AWS_ENDPOINT_URL: 'http://127.0.0.1:1',
        AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:2',
      },
    );
    expect(reader.request('b', 'k')).toMatchObject({ hostname: '127.0.0.1', port: 2, path: '/b/k' });
    expect(
      S3RawMail.fromEnvironment({}, { AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: 'http://127.0.0.1:1' }).request(
        'b',
        'k',
      ),
    ).toMatchObject({ port: 1 });
    expect(S3RawMail.fromEnvironment({}, { AWS_REGION: 'ap-south-1' }).request('b', 'k').hostname).toBe(
      'b.s3.ap-south-1.amazonaws.com',
    );
  });

  it('fails the read, not init, without credentials, and retryably', async () => {
    const reader = S3RawMail.fromEnvironment({}, { AWS_REGION: 'us-east-1' });
    const refused = await reader.read('b', 'k').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(Error);
    expect(refused).not.toBeInstanceOf(UnprocessableInboundError);
  });
});
