import { connect } from 'node:net';
import { ApiGatewayManagementApiClient, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { SESClient, SendEmailCommand } from '@aws-sdk/client-ses';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './harness.ts';

let h: Harness;
let sns: SNSClient;
let ses: SESClient;

// One attempt, as Parley's adapters call the two providers: what the SDK reports is what one call got.
const clientConfig = (endpoint: string) => ({
  region: 'us-east-1',
  endpoint,
  credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  maxAttempts: 1,
});

beforeAll(async () => {
  h = await startHarness({ demoBackend: false });
  sns = new SNSClient(clientConfig(h.gateway.edges.url));
  ses = new SESClient(clientConfig(h.gateway.edges.url));
});

afterAll(async () => {
  sns.destroy();
  ses.destroy();
  await h.close();
});

const sms = (phone: string, message = 'Your code is 1234') =>
  sns.send(
    new PublishCommand({
      PhoneNumber: phone,
      Message: message,
      MessageAttributes: {
        'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Transactional' },
        'AWS.MM.SMS.OriginationNumber': { DataType: 'String', StringValue: '+12065550100' },
      },
    }),
  );

const email = (to: string, text = 'Was this you?') =>
  ses.send(
    new SendEmailCommand({
      Source: 'alerts@demo-bank.example',
      Destination: { ToAddresses: [to] },
      Message: { Subject: { Data: 'Card alert' }, Body: { Text: { Data: text } } },
    }),
  );

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    // biome-ignore lint/suspicious/noExplicitAny: SDK errors carry service-specific fields each test asserts on
    (error: any) => error,
  );

const setFault = (body: unknown) => h.api('/_local/faults', { body, key: null });
const outboxOf = (to: string) => h.gateway.edges.outbox.list({ to });

describe('POST /_local/faults: the send call, as the SDK sees it', () => {
  it('throttle answers each service’s real throttling error, as often as `times` says, and sends nothing', async () => {
    const phone = '+12025550301';
    const address = 'throttled@example.com';
    expect((await setFault({ address: phone, fault: 'throttle', times: 2 })).status).toBe(200);
    const set = await setFault({ address, fault: 'throttle', times: 1 });
    expect(set.body).toEqual({
      address,
      fault: { fault: 'throttle', times: 1 },
      delivery: { delivery: 'delivered' },
    });

    for (let call = 0; call < 2; call++) {
      const error = await failure(sms(phone));
      expect(error).toMatchObject({
        name: 'Throttling',
        message: 'Rate exceeded',
        $fault: 'client',
        $metadata: { httpStatusCode: 400, attempts: 1 },
      });
    }
    const emailError = await failure(email(address));
    expect(emailError).toMatchObject({
      name: 'Throttling',
      message: 'Maximum sending rate exceeded.',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });
    expect(outboxOf(phone)).toEqual([]);
    expect(outboxOf(address)).toEqual([]);

    // `times` used up: the fault cleared itself.
    expect((await sms(phone)).MessageId).toBeDefined();
    expect((await email(address)).MessageId).toBeDefined();
    expect(outboxOf(phone)).toHaveLength(1);
    expect(outboxOf(address)).toHaveLength(1);
  });

  it('reject answers the provider’s refusal of the address, until cleared', async () => {
    const phone = '+12025550302';
    const address = 'Refused@Example.com';
    await setFault({ address: phone, fault: 'reject' });
    await setFault({ address, fault: 'reject' });
    for (let call = 0; call < 2; call++) {
      expect(await failure(sms(phone))).toMatchObject({
        name: 'InvalidParameterException',
        Code: 'InvalidParameter',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
      });
    }
    expect(await failure(email('refused@example.com'))).toMatchObject({
      name: 'MessageRejected',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });
    expect(outboxOf(phone)).toEqual([]);

    expect((await setFault({ address: phone, fault: null })).body).toMatchObject({ fault: null });
    await sms(phone);
    expect(outboxOf(phone)).toHaveLength(1);
  });

  it('unavailable answers 503 ServiceUnavailable and sends nothing', async () => {
    const phone = '+12025550303';
    const address = 'down@example.com';
    await setFault({ address: phone, fault: 'unavailable', times: 1 });
    await setFault({ address, fault: 'unavailable', times: 1 });
    for (const error of [await failure(sms(phone)), await failure(email(address))]) {
      expect(error).toMatchObject({
        name: 'ServiceUnavailable',
        $fault: 'server',
        $metadata: { httpStatusCode: 503, attempts: 1 },
      });
    }
    expect(outboxOf(phone)).toEqual([]);
    expect(outboxOf(address)).toEqual([]);
  });

  it('ambiguous sends the message once and then drops the answer: the SDK sees a reset connection', async () => {
    const phone = '+12025550304';
    const address = 'lost-answer@example.com';
    await setFault({ address: phone, fault: 'ambiguous', times: 1 });
    await setFault({ address, fault: 'ambiguous', times: 1 });

    for (const error of [await failure(sms(phone, 'sent, answer lost')), await failure(email(address))]) {
      // A network error, not a service error: no HTTP status, no $fault from a response. The SDK's Node handler
      // names ECONNRESET, EPIPE and ETIMEDOUT errors `TimeoutError`; the code tells which it was.
      expect(error).toMatchObject({ name: 'TimeoutError', code: 'ECONNRESET', message: 'socket hang up' });
      expect(error.$metadata?.httpStatusCode).toBeUndefined();
      expect(error.$fault).toBeUndefined();
    }
    expect(outboxOf(phone).map((entry) => entry.body)).toEqual(['sent, answer lost']);
    expect(outboxOf(address)).toHaveLength(1);

    // Used up: the next call is answered.
    expect((await sms(phone, 'answered')).MessageId).toBe(outboxOf(phone).at(-1)?.providerMessageId);
    expect(outboxOf(phone)).toHaveLength(2);
  });

  it('delay holds the answer back, then answers normally; a client that gives up first does not know', async () => {
    const phone = '+12025550305';
    await setFault({ address: phone, fault: 'delay', delayMs: 400 });
    const started = Date.now();
    const out = await sms(phone);
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);
    expect(out.$metadata.httpStatusCode).toBe(200);
    expect(outboxOf(phone).map((entry) => entry.providerMessageId)).toEqual([out.MessageId]);

    // The adapters' view of a timeout: the request went, the message is out, the answer never came.
    const impatient = new SNSClient({
      ...clientConfig(h.gateway.edges.url),
      requestHandler: { requestTimeout: 100, throwOnRequestTimeout: true },
    });
    try {
      const error = await failure(
        impatient.send(new PublishCommand({ PhoneNumber: phone, Message: 'slow', MessageAttributes: {} })),
      );
      expect(error).toMatchObject({ name: 'TimeoutError', code: 'ETIMEDOUT' });
      expect(error.$metadata?.httpStatusCode).toBeUndefined();
    } finally {
      impatient.destroy();
    }
    expect(outboxOf(phone)).toHaveLength(2);
  });

  it('keeps the delivery status per address beside the send fault; "fault": null clears both', async () => {
    const phone = '+12025550306';
    expect(h.gateway.edges.deliveryFor(phone)).toEqual({ delivery: 'delivered' });
    const failed = await setFault({ address: phone, delivery: 'failed' });
    expect(failed.status).toBe(200);
    expect(failed.body.delivery).toEqual({ delivery: 'failed', reason: 'carrier_unreachable' });
    await setFault({ address: phone, fault: 'throttle' });
    expect(h.gateway.edges.deliveryFor(phone)).toEqual({ delivery: 'failed', reason: 'carrier_unreachable' });

    await setFault({ address: 'Bounced@Example.com', delivery: 'bounce', reason: 'bounce' });
    expect(h.gateway.edges.deliveryFor('bounced@example.com')).toEqual({ delivery: 'bounce', reason: 'bounce' });

    const cleared = await setFault({ address: phone, fault: null });
    expect(cleared.body).toEqual({ address: phone, fault: null, delivery: { delivery: 'delivered' } });
    expect(h.gateway.edges.deliveryFor(phone)).toEqual({ delivery: 'delivered' });
    expect((await sms(phone)).MessageId).toBeDefined();
  });

  it('refuses a bad body with 400 invalid_request and changes nothing', async () => {
    const phone = '+12025550307';
    for (const body of [
      {},
      { address: phone },
      { address: 'not an address', fault: 'reject' },
      { address: phone, fault: 'explode' },
      { address: phone, fault: 'reject', times: 0 },
      { address: phone, fault: 'reject', times: 1.5 },
      { address: phone, fault: 'delay' },
      { address: phone, fault: 'delay', delayMs: -1 },
      { address: phone, fault: 'throttle', delayMs: 100 },
      { address: phone, delivery: 'lost' },
      { address: phone, delivery: 'failed', reason: 'Not A Reason!' },
      { address: phone, delivery: 'delivered', reason: 'blocked' },
      { address: phone, fault: null, delivery: 'failed' },
      { address: phone, fault: 'reject', colour: 'red' },
      [],
      'reject',
    ]) {
      const response = await setFault(body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error).toMatchObject({ code: 'invalid_request', message: expect.any(String) });
    }
    const notJson = await h.api('/_local/faults', { body: '{"address":', key: null });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.code).toBe('invalid_request');
    expect(h.gateway.edges.faults.get(phone)).toBeUndefined();
    expect((await sms(phone)).MessageId).toBeDefined();
  });
});

describe('the emulated providers’ own limits', () => {
  it('SNS refuses an SMS over 1,600 characters and any message over 256 KB with InvalidParameter', async () => {
    const phone = '+12025550311';
    expect((await sms(phone, 'x'.repeat(1600))).MessageId).toBeDefined();
    for (const message of ['x'.repeat(1601), 'é'.repeat(140_000)]) {
      expect(await failure(sms(phone, message))).toMatchObject({
        name: 'InvalidParameterException',
        Code: 'InvalidParameter',
        message: 'Invalid parameter: Message too long',
        $metadata: { httpStatusCode: 400 },
      });
    }
    expect(outboxOf(phone)).toHaveLength(1);
  });

  it('SES refuses a message over 10 MB with InvalidParameterValue', async () => {
    const address = 'big@example.com';
    const error = await failure(email(address, 'x'.repeat(10 * 1024 * 1024)));
    expect(error).toMatchObject({ name: 'InvalidParameterValue', $metadata: { httpStatusCode: 400 } });
    expect(error.message).toMatch(/^Message length is more than 10485760 bytes long/);
    expect((await email(address, 'x'.repeat(9 * 1024 * 1024))).MessageId).toBeDefined();
    expect(outboxOf(address)).toHaveLength(1);
  });

  it('PostToConnection refuses data over 128 KB with 413 PayloadTooLargeException', async () => {
    const client = new ApiGatewayManagementApiClient(clientConfig(h.gateway.edges.url));
    const received: number[] = [];
    h.gateway.edges.connections.setHandler((_id, data) => received.push(data.length) > 0);
    try {
      await client.send(new PostToConnectionCommand({ ConnectionId: 'c1', Data: Buffer.alloc(128 * 1024, 'a') }));
      const error = await failure(
        client.send(new PostToConnectionCommand({ ConnectionId: 'c1', Data: Buffer.alloc(128 * 1024 + 1, 'a') })),
      );
      expect(error).toMatchObject({ name: 'PayloadTooLargeException', $metadata: { httpStatusCode: 413 } });
      expect(received).toEqual([128 * 1024]);
    } finally {
      client.destroy();
      // Give the socket hook back to the WebSocket gateway.
      h.gateway.edges.connections.setHandler(null);
    }
  });
});

describe('the HTTP API holds API Gateway’s limits and survives malformed requests', () => {
  it('answers 413 for a body over 10 MB, declared or streamed, without waiting for the rest', async () => {
    const big = await h.api('/v1/messages', { body: 'x'.repeat(10 * 1024 * 1024 + 1) });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('payload_too_large');

    // A chunked body that never ends: the 413 comes as soon as it passes 10 MB, and a client that keeps sending
    // after it is cut off rather than read from forever.
    const outcome = await new Promise<{ answer: string; cutOff: boolean }>((resolve) => {
      const socket = connect(Number(new URL(h.gateway.baseUrl).port), '127.0.0.1');
      let answer = '';
      const giveUp = setTimeout(() => {
        socket.destroy();
        resolve({ answer, cutOff: false });
      }, 20_000);
      socket.on('data', (data) => {
        answer += String(data);
      });
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearTimeout(giveUp);
        resolve({ answer, cutOff: true });
      });
      socket.write(
        'POST /v1/messages HTTP/1.1\r\nHost: local\r\nContent-Type: application/json\r\n' +
          `Authorization: Bearer ${h.gateway.apiKey}\r\nTransfer-Encoding: chunked\r\n\r\n`,
      );
      const chunk = Buffer.concat([Buffer.from('40000\r\n'), Buffer.alloc(0x40000, 'x'), Buffer.from('\r\n')]);
      const pump = () => {
        while (!socket.destroyed && socket.write(chunk));
        if (!socket.destroyed) socket.once('drain', pump);
      };
      pump();
    });
    expect(outcome.cutOff).toBe(true);
    expect(outcome.answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(outcome.answer).toContain('"payload_too_large"');
  });

  it('answers a malformed request target or path with 400 and keeps serving', async () => {
    const raw = (text: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(Number(new URL(h.gateway.baseUrl).port), '127.0.0.1');
        let answer = '';
        socket.on('data', (chunk) => {
          answer += String(chunk);
        });
        socket.on('end', () => resolve(answer));
        socket.on('error', reject);
        socket.write(text);
      });
    expect(await raw('GET //[ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 /);
    expect(await raw('NOT HTTP AT ALL\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 /);
    const badPath = await h.api('/v1/messages/%E0%A4%A');
    expect(badPath.status).toBe(400);
    expect(badPath.body.error.code).toBe('invalid_request');
    expect((await h.api('/openapi.json', { key: null })).status).toBe(200);
  });
});

describe('POST /_local/sms/inbound: at and inboundMessageId', () => {
  const phone = '+12025550321';

  beforeAll(async () => {
    await h.api('/v1/customers/cust-inbound-at', { method: 'PUT', body: { phone } });
  });

  const inbound = (body: unknown) => h.api('/_local/sms/inbound', { body, key: null });
  const timeline = async () =>
    (await h.api('/v1/customers/cust-inbound-at/conversation')).body.messages as {
      direction: string;
      body: string;
      createdAt: string;
    }[];

  it('stamps the reply with `at` (the SNS Timestamp), so a late reply keeps its own time', async () => {
    const answered = await inbound({ from: phone, body: 'late news', at: '2024-05-01T10:00:00+02:00' });
    expect(answered.status).toBe(202);
    const received = (await timeline()).find((m) => m.body === 'late news');
    expect(received).toMatchObject({ direction: 'inbound', createdAt: '2024-05-01T08:00:00.000Z' });

    // A full payload takes `at` beside it, and the payload reaches the handler without it.
    const full = await inbound({
      originationNumber: phone,
      destinationNumber: h.gateway.smsNumber,
      messageBody: 'full form',
      inboundMessageId: 'full-form-1',
      at: '2024-05-01T09:00:00Z',
    });
    expect(full.status).toBe(202);
    expect(full.body).toEqual({ inboundMessageId: 'full-form-1' });
    expect((await timeline()).find((m) => m.body === 'full form')).toMatchObject({
      createdAt: '2024-05-01T09:00:00.000Z',
    });
  });

  it('reuses a given inboundMessageId: a redelivered reply changes nothing and sends nothing', async () => {
    const first = await inbound({ from: phone, body: 'HELP', inboundMessageId: 'redelivered-1' });
    expect(first.body).toEqual({ inboundMessageId: 'redelivered-1' });
    const replies = outboxOf(phone).length;
    expect(replies).toBeGreaterThan(0);
    const again = await inbound({ from: phone, body: 'HELP', inboundMessageId: 'redelivered-1' });
    expect(again.status).toBe(202);
    expect(again.body).toEqual({ inboundMessageId: 'redelivered-1' });
    expect(outboxOf(phone)).toHaveLength(replies);
    expect((await timeline()).filter((m) => m.body === 'HELP')).toHaveLength(1);

    const fresh = await inbound({ from: phone, body: 'HELP' });
    expect(fresh.body.inboundMessageId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses an `at` that is not an ISO time with 400 and runs nothing', async () => {
    const before = (await timeline()).length;
    for (const at of ['yesterday', '2024-05-01', '2024-02-30T10:00:00Z', '2024-05-01T10:00:00', 1714557600000, '']) {
      const response = await inbound({ from: phone, body: 'never stored', at });
      expect(response.status, String(at)).toBe(400);
      expect(response.body.error.code).toBe('invalid_request');
    }
    const full = await inbound({
      originationNumber: phone,
      destinationNumber: h.gateway.smsNumber,
      messageBody: 'never stored',
      inboundMessageId: 'bad-at',
      at: 'soon',
    });
    expect(full.status).toBe(400);
    expect((await inbound({ from: phone, body: 'x', inboundMessageId: '' })).status).toBe(400);
    expect(await timeline()).toHaveLength(before);
  });
});
