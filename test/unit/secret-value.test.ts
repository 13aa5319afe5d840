import { Readable } from 'node:stream';
import type { HttpRequest, HttpResponse } from '@smithy/core/protocols';
import { describe, expect, it } from 'vitest';
import { getSecretString, secretValueOptionsFromEnvironment } from '../../functions/adapters/secret-value.ts';

interface Answer {
  status: number;
  body?: unknown;
}

/** An HTTP handler that records each request and answers as told (a thrown error is a dropped connection). */
const fakeHttp = (...answers: (Answer | Error)[]) => {
  const requests: HttpRequest[] = [];
  return {
    requests,
    handler: {
      handle: async (request: HttpRequest) => {
        requests.push(request);
        const answer = answers[Math.min(requests.length, answers.length) - 1] ?? { status: 500 };
        if (answer instanceof Error) throw answer;
        const body = Readable.from(answer.body === undefined ? [] : [Buffer.from(JSON.stringify(answer.body))]);
        return { response: { statusCode: answer.status, headers: {}, body } as unknown as HttpResponse };
      },
    },
  };
};

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'session-token' };
const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:parley-token-AbCdEf';
const read = (http: ReturnType<typeof fakeHttp>) =>
  getSecretString(arn, { region: 'eu-west-1', credentials, httpHandler: http.handler });

describe('GetSecretValue without the Secrets Manager client', () => {
  it('sends one signed JSON 1.1 request for the secret and answers its SecretString', async () => {
    // Prepare
    const http = fakeHttp({ status: 200, body: { ARN: arn, SecretString: 's'.repeat(48), VersionId: 'v1' } });

    // Act
    const value = await read(http);

    // Assess
    expect(value).toBe('s'.repeat(48));
    expect(http.requests).toHaveLength(1);
    const request = http.requests[0] as HttpRequest;
    expect(request).toMatchObject({
      method: 'POST',
      protocol: 'https:',
      hostname: 'secretsmanager.eu-west-1.amazonaws.com',
      path: '/',
      body: JSON.stringify({ SecretId: arn }),
    });
    expect(request.headers).toMatchObject({
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'secretsmanager.GetSecretValue',
      'x-amz-security-token': 'session-token',
    });
    expect(request.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/secretsmanager\/aws4_request, SignedHeaders=[a-z0-9;-]*x-amz-target[a-z0-9;-]*, Signature=[0-9a-f]{64}$/,
    );
  });

  it('answers undefined for a secret that holds binary only', async () => {
    const value = await read(fakeHttp({ status: 200, body: { ARN: arn, SecretBinary: 'AAEC' } }));

    expect(value).toBeUndefined();
  });

  it('fails at once on a refusal, naming the error (not found, access denied)', async () => {
    // Prepare
    const http = fakeHttp({ status: 400, body: { __type: 'ResourceNotFoundException', Message: 'no such secret' } });

    // Act
    const outcome = read(http);

    // Assess
    await expect(outcome).rejects.toThrow('Secrets Manager GetSecretValue answered 400 ResourceNotFoundException');
    expect(http.requests).toHaveLength(1);
  });

  it('tries again on a 5xx, throttling or a dropped connection, three attempts in all', async () => {
    // Prepare
    const dropped = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const recovering = fakeHttp(
      { status: 500 },
      { status: 400, body: { __type: 'com.amazonaws.secretsmanager#ThrottlingException' } },
      { status: 200, body: { SecretString: 'x'.repeat(40) } },
    );
    const failing = fakeHttp(
      dropped,
      { status: 503 },
      { status: 503 },
      { status: 200, body: { SecretString: 'late' } },
    );

    // Act
    const value = await read(recovering);
    const outcome = read(failing);

    // Assess
    expect(value).toBe('x'.repeat(40));
    expect(recovering.requests).toHaveLength(3);
    await expect(outcome).rejects.toThrow('answered 503');
    expect(failing.requests).toHaveLength(3);
  });

  it('refuses to sign without credentials, before any request', async () => {
    const http = fakeHttp({ status: 200, body: { SecretString: 'never' } });

    const outcome = getSecretString(arn, {
      region: 'eu-west-1',
      credentials: { accessKeyId: '', secretAccessKey: '' },
      httpHandler: http.handler,
    });

    await expect(outcome).rejects.toThrow('No AWS credentials');
    expect(http.requests).toEqual([]);
  });

  it("reads Lambda's environment, and an endpoint override as the SDK's clients do", () => {
    const options = secretValueOptionsFromEnvironment({
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKID',
      AWS_SECRET_ACCESS_KEY: 'key',
      AWS_SESSION_TOKEN: 'token',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:4566',
    });

    expect(options).toEqual({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKID', secretAccessKey: 'key', sessionToken: 'token' },
      endpoint: 'http://127.0.0.1:4566',
    });
  });
});
