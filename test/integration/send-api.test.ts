import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../functions/adapters/dynamo/dynamo-helpers.ts';
import { keys } from '../../functions/adapters/dynamo/keys.ts';
import { generateApiKey } from '../../functions/domain/api-keys.ts';
import { localDynamoClient } from '../../local/dynamo-local.ts';
import { addTenant, cardAlert, type Harness, startHarness } from './harness.ts';

let h: Harness;
let otherTenantKey: string;

beforeAll(async () => {
  h = await startHarness();
  otherTenantKey = await addTenant(h, { tenantId: 'other-bank', name: 'Other', smsNumber: '+12065550199' });
});

afterAll(async () => {
  await h.close();
});

const outboxFor = (to: string) => h.gateway.edges.outbox.list({ to });

describe('POST /v1/messages', () => {
  it('sends the demo card alert by SMS, stores it and emits message.sent with the reference', async () => {
    const response = await h.api('/v1/messages', { body: cardAlert(), headers: { 'idempotency-key': 'alert-1' } });

    expect(response.status).toBe(202);
    expect(response.body).toEqual({
      messageId: expect.stringMatching(/^msg_[0-9A-Z]{26}$/),
      customerId: 'cust-42',
      channel: 'sms',
      status: 'sent',
      segments: 1,
    });
    const sms = outboxFor('+12025550143');
    expect(sms).toHaveLength(1);
    expect(sms[0]).toMatchObject({ from: h.gateway.smsNumber, smsType: 'Transactional' });
    expect(sms[0]?.body).toContain('$420.00 at ACME');
    const events = h.gateway.edges.events.list({ type: 'message.sent' });
    expect(events.at(-1)?.detail).toMatchObject({
      tenantId: 'demo-bank',
      customerId: 'cust-42',
      messageId: response.body.messageId,
      reference: 'txn-987',
    });

    const stored = await h.api(`/v1/messages/${response.body.messageId}`);
    expect(stored.status).toBe(200);
    expect(stored.body).toMatchObject({
      status: 'sent',
      channel: 'sms',
      reference: 'txn-987',
      prompt: { type: 'confirm' },
      statusHistory: [{ status: 'sending' }, { status: 'sent' }],
    });
  });

  it('answers a replay with the first response and Idempotent-Replayed, sending nothing', async () => {
    const before = outboxFor('+12025550143').length;
    const first = await h.api('/v1/messages', { body: cardAlert(), headers: { 'idempotency-key': 'alert-1' } });
    expect(first.status).toBe(202);
    expect(first.headers.get('idempotent-replayed')).toBe('true');
    expect(outboxFor('+12025550143')).toHaveLength(before);
  });

  it('gives 20 concurrent identical sends one SMS and 20 identical answers', async () => {
    const body = cardAlert({ customerId: 'cust-concurrent', to: { phone: '+12025550150' } });
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => h.api('/v1/messages', { body, headers: { 'idempotency-key': 'burst-1' } })),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(202));
    expect(new Set(responses.map((r) => JSON.stringify(r.body))).size).toBe(1);
    expect(responses.filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(19);
    expect(outboxFor('+12025550150')).toHaveLength(1);
  });

  it('sends email with the configuration set and a signed Reply-To when the channel is email', async () => {
    const response = await h.api('/v1/messages', {
      body: cardAlert({ customerId: 'cust-mail', to: { email: 'bo@example.com' }, channel: 'email' }),
    });
    expect(response.status).toBe(202);
    expect(response.body.channel).toBe('email');
    const [email] = outboxFor('bo@example.com');
    expect(email).toMatchObject({ from: h.gateway.emailFrom, configurationSet: 'parley-local' });
    expect(email?.subject).toBe('Did you pay $420.00 at ACME?');
    expect(email?.replyTo?.[0]).toMatch(/^reply\+demo-bank\.[0-9a-z]{26}\.[0-9a-z]{16}@reply\.parley\.localhost$/);
  });

  it('HTML-escapes template values in the email HTML part', async () => {
    const response = await h.api('/v1/messages', {
      body: cardAlert({
        customerId: 'cust-html',
        to: { email: 'esc@example.com' },
        channel: 'email',
        data: { amount: '<b>1</b>', merchant: 'A&B' },
      }),
    });
    expect(response.status).toBe(202);
    const [email] = outboxFor('esc@example.com');
    expect(email?.html).toContain('&lt;b&gt;1&lt;/b&gt;');
    expect(email?.html).toContain('A&amp;B');
    expect(email?.body).toContain('<b>1</b>');
  });

  it('sends a literal body without a template', async () => {
    const response = await h.api('/v1/messages', {
      body: { customerId: 'cust-literal', to: { phone: '+12025550160' }, body: { sms: 'Your code is 1234' } },
    });
    expect(response.status).toBe(202);
    expect(outboxFor('+12025550160')[0]?.body).toBe('Your code is 1234');
  });
});

describe('error codes', () => {
  it('401 unauthorized without a key, with a malformed key and with an unknown key', async () => {
    for (const key of [null, 'nonsense', 'prl_aaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb']) {
      const response = await h.api('/v1/messages', { body: cardAlert(), key });
      expect(response.status).toBe(401);
      expect(response.body.error.code).toBe('unauthorized');
    }
  });

  it('401 at once after a key is revoked (locally there is no authorizer cache)', async () => {
    const key = generateApiKey();
    await h.gateway.tenants.putApiKey({
      ...key,
      tenantId: 'demo-bank',
      scopes: ['read'],
      createdAt: new Date().toISOString(),
    });
    expect((await h.api('/v1/templates', { key: key.apiKey })).status).toBe(200);
    await h.gateway.tenants.revokeApiKey(key.keyId, new Date().toISOString());
    expect((await h.api('/v1/templates', { key: key.apiKey })).status).toBe(401);
  });

  it('403 forbidden when the key lacks the scope (the agent key cannot send)', async () => {
    const response = await h.api('/v1/messages', { body: cardAlert(), key: h.gateway.agentKey });
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('forbidden');
  });

  it("404 not_found for another tenant's message and customer", async () => {
    const sent = await h.api('/v1/messages', {
      body: cardAlert({ customerId: 'cust-private', to: { phone: '+12025550170' } }),
    });
    expect(sent.status).toBe(202);
    const foreignMessage = await h.api(`/v1/messages/${sent.body.messageId}`, { key: otherTenantKey });
    expect(foreignMessage.status).toBe(404);
    expect(foreignMessage.body.error.code).toBe('not_found');
    expect((await h.api('/v1/customers/cust-private', { key: otherTenantKey })).status).toBe(404);
    expect((await h.api('/v1/customers/cust-private/conversation', { key: otherTenantKey })).status).toBe(404);
    expect((await h.api('/v1/customers/cust-private')).status).toBe(200);
  });

  it('400 invalid_request with details for a bad phone number and an unknown field, storing nothing', async () => {
    const response = await h.api('/v1/messages', {
      body: cardAlert({ customerId: 'cust-bad', to: { phone: '+1202555' }, colour: 'red' }),
    });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('invalid_request');
    const paths = response.body.error.details.map((d: { path: string }) => d.path);
    expect(paths).toContain('to.phone');
    expect(JSON.stringify(response.body.error.details)).toContain('colour');
    expect((await h.api('/v1/customers/cust-bad')).status).toBe(404);
  });

  it('400 invalid_request naming a missing template variable', async () => {
    const response = await h.api('/v1/messages', {
      body: cardAlert({ customerId: 'cust-var', data: { amount: '$1' } }),
    });
    expect(response.status).toBe(400);
    expect(response.body.error.details).toEqual([{ path: 'data.merchant', message: 'required by the template' }]);
  });

  it('400 invalid_request for a body that is not JSON and for a bad Idempotency-Key', async () => {
    expect((await h.api('/v1/messages', { body: '{"customerId":' })).body.error.code).toBe('invalid_request');
    const badKey = await h.api('/v1/messages', { body: cardAlert(), headers: { 'idempotency-key': 'tab\there' } });
    expect(badKey.status).toBe(400);
  });

  it('409 idempotency_conflict for the same key with another payload', async () => {
    const response = await h.api('/v1/messages', {
      body: cardAlert({ reference: 'txn-other' }),
      headers: { 'idempotency-key': 'alert-1' },
    });
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe('idempotency_conflict');
  });

  it('413 payload_too_large above 256 KB', async () => {
    const response = await h.api('/v1/messages', { body: cardAlert({ reference: 'x'.repeat(300 * 1024) }) });
    expect(response.status).toBe(413);
    expect(response.body.error.code).toBe('payload_too_large');
  });

  it('422 unknown_template, storing nothing', async () => {
    const response = await h.api('/v1/messages', {
      body: cardAlert({ customerId: 'cust-tpl', template: 'no-such-template' }),
    });
    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe('unknown_template');
    expect((await h.api('/v1/customers/cust-tpl')).status).toBe(404);
  });

  it('422 no_reachable_channel for an unknown customer without an address', async () => {
    const response = await h.api('/v1/messages', { body: cardAlert({ customerId: 'cust-unknown', to: undefined }) });
    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe('no_reachable_channel');
  });

  it('422 message_too_long above 6 segments', async () => {
    const response = await h.api('/v1/messages', {
      body: { customerId: 'cust-long', to: { phone: '+12025550180' }, body: { sms: 'a'.repeat(153 * 6 + 1) } },
    });
    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe('message_too_long');
    expect(outboxFor('+12025550180')).toHaveLength(0);
  });

  it('422 recipient_opted_out when SMS consent is withdrawn, and falls back to email under auto', async () => {
    const db = createDocumentClient(localDynamoClient(h.gateway.dynamodbEndpoint));
    await h.api('/v1/customers/cust-stop', {
      method: 'PUT',
      body: { phone: '+12025550190', email: 'stop@example.com' },
    });
    await db.send(
      new UpdateCommand({
        TableName: h.gateway.tableName,
        Key: keys.customer('demo-bank', 'cust-stop'),
        UpdateExpression: 'SET consentSms = :c',
        ExpressionAttributeValues: { ':c': { status: 'opted_out', at: new Date().toISOString(), keyword: 'STOP' } },
      }),
    );
    const smsOnly = await h.api('/v1/messages', {
      body: cardAlert({ customerId: 'cust-stop', to: undefined, channel: 'sms' }),
    });
    expect(smsOnly.status).toBe(422);
    expect(smsOnly.body.error.code).toBe('recipient_opted_out');
    const auto = await h.api('/v1/messages', { body: cardAlert({ customerId: 'cust-stop', to: undefined }) });
    expect(auto.status).toBe(202);
    expect(auto.body).toMatchObject({ channel: 'email', fallbackReason: 'sms_opted_out' });
    expect(outboxFor('+12025550190')).toHaveLength(0);
  });

  it('422 provider_rejected: stored failed with the reason, message.failed emitted, replayed the same', async () => {
    h.gateway.edges.faults.set('+12025550111', 'reject');
    const body = cardAlert({ customerId: 'cust-rejected', to: { phone: '+12025550111' } });
    const response = await h.api('/v1/messages', { body, headers: { 'idempotency-key': 'rejected-1' } });
    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe('provider_rejected');
    const failed = h.gateway.edges.events.list({ type: 'message.failed' }).at(-1);
    expect(failed?.detail).toMatchObject({ customerId: 'cust-rejected', reference: 'txn-987' });
    const messageId = (failed?.detail as { messageId?: string } | undefined)?.messageId;
    expect(messageId).toMatch(/^msg_/);
    const stored = await h.api(`/v1/messages/${messageId}`);
    expect(stored.body).toMatchObject({ status: 'failed', failure: { code: 'provider_rejected' } });
    const replay = await h.api('/v1/messages', { body, headers: { 'idempotency-key': 'rejected-1' } });
    expect(replay.status).toBe(422);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
  });

  it('503 provider_unavailable releases the claim so the retry goes through', async () => {
    h.gateway.edges.faults.set('+12025550122', 'unavailable');
    const body = cardAlert({ customerId: 'cust-down', to: { phone: '+12025550122' } });
    const down = await h.api('/v1/messages', { body, headers: { 'idempotency-key': 'down-1' } });
    expect(down.status).toBe(503);
    expect(down.body.error.code).toBe('provider_unavailable');
    h.gateway.edges.faults.set('+12025550122', null);
    const retry = await h.api('/v1/messages', { body, headers: { 'idempotency-key': 'down-1' } });
    expect(retry.status).toBe(202);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
    expect(outboxFor('+12025550122')).toHaveLength(1);
  });

  it('500 internal without leaking internals when stored data is broken', async () => {
    const db = createDocumentClient(localDynamoClient(h.gateway.dynamodbEndpoint));
    await db.send(
      new UpdateCommand({
        TableName: h.gateway.tableName,
        Key: keys.template('demo-bank', 'broken'),
        UpdateExpression: 'SET #n = :n, sms = :sms',
        ExpressionAttributeNames: { '#n': 'name' },
        ExpressionAttributeValues: { ':n': 'broken', ':sms': 42 },
      }),
    );
    const response = await h.api('/v1/messages', { body: cardAlert({ template: 'broken', data: {} }) });
    expect(response.status).toBe(500);
    expect(response.body).toEqual({ error: { code: 'internal', message: 'Internal error' } });
  });
});
