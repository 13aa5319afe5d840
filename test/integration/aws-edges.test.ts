import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SESClient, SendEmailCommand } from '@aws-sdk/client-ses';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsEdges, type OutboxEntry, startAwsEdges } from '../../local/edges/aws-edges.ts';

const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };
const clientConfig = (endpoint: string) => ({ region: 'us-east-1', endpoint, credentials, maxAttempts: 2 });

function smsCommand(phone: string, message: string) {
  return new PublishCommand({
    PhoneNumber: phone,
    Message: message,
    MessageAttributes: {
      'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Transactional' },
      'AWS.MM.SMS.OriginationNumber': { DataType: 'String', StringValue: '+15550001111' },
    },
  });
}

function emailCommand(to: string[]) {
  return new SendEmailCommand({
    Source: '"Demo Bank" <alerts@demo-bank.test>',
    Destination: { ToAddresses: to },
    Message: {
      Subject: { Data: 'Card alert' },
      Body: { Text: { Data: 'Was this you?' }, Html: { Data: '<p>Was this <b>you</b>?</p>' } },
    },
    ReplyToAddresses: ['replies@demo-bank.test'],
    ConfigurationSetName: 'parley-events',
  });
}

describe('aws edges', () => {
  let edges: AwsEdges;
  let sns: SNSClient;
  let ses: SESClient;
  let eventBridge: EventBridgeClient;
  let apiGateway: ApiGatewayManagementApiClient;

  beforeAll(async () => {
    edges = await startAwsEdges();
    sns = new SNSClient(clientConfig(edges.url));
    ses = new SESClient(clientConfig(edges.url));
    eventBridge = new EventBridgeClient(clientConfig(edges.url));
    apiGateway = new ApiGatewayManagementApiClient(clientConfig(edges.url));
  });

  afterAll(async () => {
    for (const client of [sns, ses, eventBridge, apiGateway]) client.destroy();
    await edges.close();
  });

  it('binds to loopback on a random port', () => {
    expect(edges.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(edges.url).not.toMatch(/:0$/);
  });

  it('refuses a non-loopback host', async () => {
    await expect(startAwsEdges({ host: '0.0.0.0' })).rejects.toThrow(/loopback/);
  });

  it('records an SNS SMS publish with its attributes and returns its MessageId', async () => {
    const seen: OutboxEntry[] = [];
    const unsubscribe = edges.outbox.onEntry((e) => seen.push(e));
    const out = await sns.send(smsCommand('+15557654321', 'Your code is 1234'));
    unsubscribe();

    expect(out.MessageId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(out.$metadata.httpStatusCode).toBe(200);
    expect(out.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
    const entries = edges.outbox.list({ to: '+15557654321' });
    expect(entries).toEqual([
      {
        channel: 'sms',
        to: '+15557654321',
        from: '+15550001111',
        body: 'Your code is 1234',
        smsType: 'Transactional',
        providerMessageId: out.MessageId,
        at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      },
    ]);
    expect(seen).toEqual(entries);
  });

  it('falls back to the SNS origination number attribute', async () => {
    await sns.send(
      new PublishCommand({
        PhoneNumber: '+15557650000',
        Message: 'hi',
        MessageAttributes: { 'AWS.SNS.SMS.OriginationNumber': { DataType: 'String', StringValue: '+15550002222' } },
      }),
    );
    expect(edges.outbox.list({ to: '+15557650000' }).map((e) => e.from)).toEqual(['+15550002222']);
  });

  it('answers Publish to a topic with an SDK-parsable error', async () => {
    const err = await sns
      .send(new PublishCommand({ TopicArn: 'arn:aws:sns:us-east-1:123456789012:t', Message: 'x' }))
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'NotFoundException', $metadata: { httpStatusCode: 404 } });
  });

  it('records an SES email for every recipient with reply-to and configuration set', async () => {
    const out = await ses.send(emailCommand(['ann@example.test', 'bob@example.test']));

    expect(out.MessageId).toMatch(/^0100[0-9a-f]{12}-[0-9a-f-]{36}-000000$/);
    const ann = edges.outbox.list({ to: 'ann@example.test' });
    expect(ann).toEqual([
      {
        channel: 'email',
        to: 'ann@example.test',
        from: '"Demo Bank" <alerts@demo-bank.test>',
        subject: 'Card alert',
        body: 'Was this you?',
        html: '<p>Was this <b>you</b>?</p>',
        replyTo: ['replies@demo-bank.test'],
        configurationSet: 'parley-events',
        providerMessageId: out.MessageId,
        at: expect.any(String),
      },
    ]);
    expect(edges.outbox.list({ to: 'BOB@example.test' }).map((e) => e.providerMessageId)).toEqual([out.MessageId]);
  });

  it('captures PutEvents entries and reports bad ones per entry', async () => {
    const received: string[] = [];
    const unsubscribe = edges.events.onEvent((e) => received.push(e.type));
    const out = await eventBridge.send(
      new PutEventsCommand({
        Entries: [
          {
            Source: 'parley',
            DetailType: 'message.delivered',
            Detail: JSON.stringify({ messageId: 'm1' }),
            EventBusName: 'parley-bus',
            Time: new Date('2024-05-01T10:00:00Z'),
          },
          { Source: 'parley', DetailType: 'message.failed', Detail: 'not json' },
          { Source: 'parley', DetailType: 'message.inbound', Detail: '{"from":"+15557654321"}' },
        ],
      }),
    );
    unsubscribe();

    expect(out.FailedEntryCount).toBe(1);
    expect(out.Entries?.[0]?.EventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(out.Entries?.[1]).toMatchObject({ ErrorCode: 'MalformedDetail' });
    expect(received).toEqual(['message.delivered', 'message.inbound']);
    expect(edges.events.list({ type: 'message.delivered' })).toEqual([
      {
        type: 'message.delivered',
        source: 'parley',
        bus: 'parley-bus',
        detail: { messageId: 'm1' },
        time: '2024-05-01T10:00:00.000Z',
      },
    ]);
    expect(edges.events.list({ type: 'message.inbound' })[0]).toMatchObject({ bus: 'default' });
  });

  it("turns a 'reject' fault into a non-retried InvalidParameter / MessageRejected error", async () => {
    edges.faults.set('+15550009999', 'reject');
    edges.faults.set('Blocked@Example.test', 'reject');
    const smsError = await sns.send(smsCommand('+15550009999', 'x')).catch((e: unknown) => e);
    const emailError = await ses.send(emailCommand(['blocked@example.test'])).catch((e: unknown) => e);

    // The wire code is SNS's real `InvalidParameter`; the SDK maps it to its modeled InvalidParameterException.
    expect(smsError).toMatchObject({
      name: 'InvalidParameterException',
      Code: 'InvalidParameter',
      $metadata: { httpStatusCode: 400, attempts: 1 },
    });
    expect(emailError).toMatchObject({ name: 'MessageRejected', $metadata: { httpStatusCode: 400, attempts: 1 } });
    expect(edges.outbox.list({ to: '+15550009999' })).toEqual([]);
    expect(edges.outbox.list({ to: 'blocked@example.test' })).toEqual([]);

    edges.faults.set('+15550009999', null);
    await sns.send(smsCommand('+15550009999', 'after clearing'));
    expect(edges.outbox.list({ to: '+15550009999' })).toHaveLength(1);
  });

  it("turns an 'unavailable' fault into a 503 the SDK retries before giving up", async () => {
    edges.faults.set('+15550008888', 'unavailable');
    edges.faults.set('down@example.test', 'unavailable');
    const smsError = await sns.send(smsCommand('+15550008888', 'x')).catch((e: unknown) => e);
    const emailError = await ses.send(emailCommand(['down@example.test'])).catch((e: unknown) => e);

    for (const err of [smsError, emailError]) {
      expect(err).toMatchObject({ name: 'ServiceUnavailable', $fault: 'server', $metadata: { httpStatusCode: 503 } });
      expect((err as { $metadata: { attempts: number } }).$metadata.attempts).toBe(2);
    }
    expect(edges.outbox.list({ to: '+15550008888' })).toEqual([]);
    expect(edges.outbox.list({ to: 'down@example.test' })).toEqual([]);
  });

  it('delivers PostToConnection to the hook and raises GoneException for unknown connections', async () => {
    const delivered: Array<[string, string]> = [];
    const closed: string[] = [];
    edges.connections.setHandler(
      (id, data) => {
        if (id !== 'abc=') return false;
        delivered.push([id, data.toString('utf8')]);
        return true;
      },
      (id) => closed.push(id) > 0 && id === 'abc=',
    );

    await apiGateway.send(new PostToConnectionCommand({ ConnectionId: 'abc=', Data: Buffer.from('{"hello":1}') }));
    expect(delivered).toEqual([['abc=', '{"hello":1}']]);

    const gone = await apiGateway
      .send(new PostToConnectionCommand({ ConnectionId: 'missing', Data: Buffer.from('x') }))
      .catch((e: unknown) => e);
    expect(gone).toMatchObject({ name: 'GoneException', $metadata: { httpStatusCode: 410 } });

    await apiGateway.send(new DeleteConnectionCommand({ ConnectionId: 'abc=' }));
    const deleteGone = await apiGateway
      .send(new DeleteConnectionCommand({ ConnectionId: 'other' }))
      .catch((e: unknown) => e);
    expect(closed).toEqual(['abc=', 'other']);
    expect(deleteGone).toMatchObject({ name: 'GoneException' });

    edges.connections.setHandler(null);
    const noHook = await apiGateway
      .send(new PostToConnectionCommand({ ConnectionId: 'abc=', Data: Buffer.from('x') }))
      .catch((e: unknown) => e);
    expect(noHook).toMatchObject({ name: 'GoneException' });
  });

  it('keeps answering when a listener throws', async () => {
    const unsubscribe = edges.outbox.onEntry(() => {
      throw new Error('listener bug');
    });
    const out = await sns.send(smsCommand('+15550007777', 'still sent'));
    unsubscribe();
    expect(edges.outbox.list({ to: '+15550007777' })[0]?.providerMessageId).toBe(out.MessageId);
  });

  it('answers malformed requests with a 400 and keeps serving', async () => {
    const post = (body: string, headers: Record<string, string> = {}) =>
      fetch(edges.url, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      });

    const missingPhone = await post('Action=Publish&Version=2010-03-31&Message=hi');
    expect(missingPhone.status).toBe(400);
    expect(await missingPhone.text()).toMatch(/<Code>InvalidParameter<\/Code>/);

    const badPhone = await post('Action=Publish&Version=2010-03-31&PhoneNumber=<script>&Message=hi');
    expect(badPhone.status).toBe(400);
    expect(await badPhone.text()).toContain('&#60;script&#62;');

    const unknown = await post('Action=DeleteTopic&Version=2010-03-31');
    expect(unknown.status).toBe(400);
    expect(await unknown.text()).toMatch(/<Code>InvalidAction<\/Code>/);

    const garbage = await post('%%%\u0000&&==');
    expect(garbage.status).toBe(400);

    const badEmail = await post('Action=SendEmail&Version=2010-12-01&Source=nobody');
    expect(badEmail.status).toBe(400);
    expect(await badEmail.text()).toMatch(
      /xmlns="http:\/\/ses\.amazonaws\.com\/doc\/2010-12-01\/".*InvalidParameterValue/,
    );

    const badJson = await post('{"Entries": [', {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'AWSEvents.PutEvents',
    });
    expect(badJson.status).toBe(400);
    expect(badJson.headers.get('x-amzn-errortype')).toBe('SerializationException');

    const noEntries = await post('{"Entries": "x"}', { 'x-amz-target': 'AWSEvents.PutEvents' });
    expect(noEntries.status).toBe(400);

    const badId = await fetch(`${edges.url}/@connections/%E0%A4%A`, { method: 'POST', body: 'x' });
    expect(badId.status).toBe(400);

    const out = await sns.send(smsCommand('+15550006666', 'still alive'));
    expect(out.MessageId).toBeDefined();
  });
});

describe('aws edges persistence', () => {
  it('reloads the outbox and events from dataDir after a restart', async () => {
    const root = mkdtempSync(join(tmpdir(), 'parley-edges-'));
    const dataDir = join(root, 'nested'); // created on start
    try {
      const first = await startAwsEdges({ dataDir });
      const sns = new SNSClient(clientConfig(first.url));
      const eventBridge = new EventBridgeClient(clientConfig(first.url));
      const { MessageId } = await sns.send(smsCommand('+15557654321', 'persist me'));
      await eventBridge.send(
        new PutEventsCommand({ Entries: [{ Source: 'parley', DetailType: 'message.sent', Detail: '{"n":1}' }] }),
      );
      sns.destroy();
      eventBridge.destroy();
      await first.close();
      expect(readFileSync(join(dataDir, 'outbox.jsonl'), 'utf8').trim().split('\n')).toHaveLength(1);

      const second = await startAwsEdges({ dataDir });
      try {
        expect(second.outbox.list().map((e) => [e.providerMessageId, e.body])).toEqual([[MessageId, 'persist me']]);
        expect(second.events.list()).toMatchObject([{ type: 'message.sent', detail: { n: 1 } }]);

        const again = new SNSClient(clientConfig(second.url));
        await again.send(smsCommand('+15557654321', 'second run'));
        again.destroy();
        expect(second.outbox.list().map((e) => e.body)).toEqual(['persist me', 'second run']);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('drops a torn last line and appends cleanly after it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'parley-edges-'));
    try {
      const good = { type: 't', source: 's', bus: 'default', detail: {}, time: '2024-01-01T00:00:00.000Z' };
      writeFileSync(join(dataDir, 'events.jsonl'), `${JSON.stringify(good)}\n{"type":"tor`);
      const edges = await startAwsEdges({ dataDir });
      const eventBridge = new EventBridgeClient(clientConfig(edges.url));
      await eventBridge.send(new PutEventsCommand({ Entries: [{ Source: 's', DetailType: 'u', Detail: '{}' }] }));
      eventBridge.destroy();
      expect(edges.events.list().map((e) => e.type)).toEqual(['t', 'u']);
      await edges.close();

      const reopened = await startAwsEdges({ dataDir });
      expect(reopened.events.list().map((e) => e.type)).toEqual(['t', 'u']);
      await reopened.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('keeps data in memory only without a dataDir', async () => {
    const first = await startAwsEdges();
    const sns = new SNSClient(clientConfig(first.url));
    await sns.send(smsCommand('+15557654321', 'ephemeral'));
    sns.destroy();
    expect(first.outbox.list()).toHaveLength(1);
    await first.close();

    const second = await startAwsEdges();
    expect(second.outbox.list()).toEqual([]);
    await second.close();
  });
});
