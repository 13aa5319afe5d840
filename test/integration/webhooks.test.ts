import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addTenant, cardAlert, type Harness, startHarness } from './harness.ts';

/**
 * Signed webhooks through the local gateway: registered over the API, delivered by the local runtime with the
 * sender's own code, and received by a real HTTP endpoint on 127.0.0.1 that verifies every delivery with the
 * Standard Webhooks library, independent of Parley's signer.
 */

interface Received {
  headers: Record<string, string>;
  body: string;
  // biome-ignore lint/suspicious/noExplicitAny: the delivery body is JSON the tests assert on
  json: any;
  answered: number;
}

/** An endpoint that records every POST and answers the statuses given in turn (then 200). */
const startReceiver = async () => {
  const received: Received[] = [];
  const statuses: number[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const answered = statuses.shift() ?? 200;
      received.push({
        headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])),
        body,
        json: JSON.parse(body),
        answered,
      });
      res.writeHead(answered).end();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    /** The next answers, in order. */
    answer: (...next: number[]) => statuses.push(...next),
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
};

type Receiver = Awaited<ReturnType<typeof startReceiver>>;

/** Verifies with the specification's own library: throws unless a signature in the header is the secret's. */
const verify = (secret: string, delivery: Received) => new Webhook(secret).verify(delivery.body, delivery.headers);

let h: Harness;
const receivers: Receiver[] = [];

const newReceiver = async () => {
  const receiver = await startReceiver();
  receivers.push(receiver);
  return receiver;
};

const register = async (url: string, events: string[], key?: string) =>
  h.api('/v1/webhooks', { body: { url, events }, ...(key !== undefined && { key }) });

/** Waits until every delivery under way is delivered or given up. */
const settled = () => h.gateway.webhookDispatcher?.idle();

beforeAll(async () => {
  // The retry schedule a thousand times faster: 5 ms, 300 ms, 1.8 s, ...
  h = await startHarness({ demoBackend: false, webhooks: { retryScale: 0.001 } });
});

afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  await h.close();
});

describe('webhook registration', () => {
  it('answers 201 with a whsec_ secret once; reads and lists never show it', async () => {
    const receiver = await newReceiver();

    const created = await register(receiver.url, ['message.sent']);

    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      webhookId: expect.stringMatching(/^wh_[0-9A-Z]{26}$/),
      url: receiver.url,
      events: ['message.sent'],
      status: 'enabled',
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]+=*$/),
    });
    const read = await h.api(`/v1/webhooks/${created.body.webhookId}`);
    expect(read.status).toBe(200);
    expect(read.body.secret).toBeUndefined();
    expect(read.body.webhookId).toBe(created.body.webhookId);
    const list = await h.api('/v1/webhooks');
    expect(list.body.webhooks.map((w: { webhookId: string }) => w.webhookId)).toContain(created.body.webhookId);
    expect(JSON.stringify(list.body)).not.toContain('whsec_');
  });

  it.each([
    'http://169.254.169.254/',
    'https://10.0.0.1/',
    'http://[fd00::1]/',
    'http://192.168.1.10/hook',
    'http://[::ffff:10.0.0.1]/',
    'ftp://127.0.0.1/',
    'http://user:pw@127.0.0.1/',
    'https://intranet/hook',
  ])('refuses %s with 400 and stores nothing', async (url) => {
    const before = (await h.api('/v1/webhooks')).body.webhooks.length;

    const refused = await register(url, ['message.sent']);

    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('invalid_request');
    expect(refused.body.error.details[0].path).toBe('url');
    expect((await h.api('/v1/webhooks')).body.webhooks).toHaveLength(before);
  });

  it('refuses unknown event types and an empty list with 400', async () => {
    const receiver = await newReceiver();
    expect((await register(receiver.url, ['message.teleported'])).status).toBe(400);
    expect((await register(receiver.url, [])).status).toBe(400);
  });

  it("answers 404 for another tenant's webhook on every route, and lists only the tenant's own", async () => {
    const receiver = await newReceiver();
    const ours = (await register(receiver.url, ['message.sent'])).body.webhookId as string;
    const betaKey = await addTenant(h, { tenantId: 'beta-bank', name: 'Beta', smsNumber: '+12025550188' }, [
      'send',
      'read',
      'admin',
    ]);

    expect((await h.api(`/v1/webhooks/${ours}`, { key: betaKey })).status).toBe(404);
    expect((await h.api(`/v1/webhooks/${ours}/deliveries`, { key: betaKey })).status).toBe(404);
    expect((await h.api(`/v1/webhooks/${ours}/rotate-secret`, { method: 'POST', key: betaKey })).status).toBe(404);
    expect((await h.api(`/v1/webhooks/${ours}`, { method: 'DELETE', key: betaKey })).status).toBe(404);
    expect((await h.api('/v1/webhooks', { key: betaKey })).body.webhooks).toEqual([]);
    expect((await h.api(`/v1/webhooks/${ours}`)).status).toBe(200);
  });

  it('needs the admin scope: a read and agent key, and a send key, get 403', async () => {
    const listed = await h.api('/v1/webhooks', { key: h.gateway.agentKey });
    expect(listed.status).toBe(403);
    const sendKey = await addTenant(h, { tenantId: 'delta-bank', name: 'Delta', smsNumber: '+12025550187' }, ['send']);
    expect((await h.api('/v1/webhooks', { key: sendKey })).status).toBe(403);
  });

  it('deletes a webhook: 200, then 404', async () => {
    const receiver = await newReceiver();
    const id = (await register(receiver.url, ['message.sent'])).body.webhookId as string;

    expect((await h.api(`/v1/webhooks/${id}`, { method: 'DELETE' })).body).toEqual({ webhookId: id, deleted: true });
    expect((await h.api(`/v1/webhooks/${id}`)).status).toBe(404);
    expect((await h.api(`/v1/webhooks/${id}`, { method: 'DELETE' })).status).toBe(404);
  });
});

describe('webhook delivery', () => {
  it('delivers message.sent and prompt.answered as {type, timestamp, data}, signed and verified', async () => {
    const receiver = await newReceiver();
    const { secret, webhookId } = (await register(receiver.url, ['message.sent', 'prompt.answered'])).body;
    const customerId = 'cust-webhook-answer';

    const sent = await h.api('/v1/messages', { body: cardAlert({ customerId, to: { phone: '+12025550161' } }) });
    expect(sent.status).toBe(202);
    const answered = await h.api('/_local/sms/inbound', { body: { from: '+12025550161', body: 'Y' } });
    expect(answered.status).toBe(202);
    await settled();

    const ours = receiver.received.filter((r) => r.json.data.customerId === customerId);
    expect(ours.map((r) => r.json.type)).toEqual(['message.sent', 'prompt.answered']);
    for (const delivery of ours) {
      expect(verify(secret, delivery)).toEqual(delivery.json);
      expect(delivery.headers['webhook-id']).toMatch(/^whmsg_/);
      expect(Object.keys(delivery.json)).toEqual(['type', 'timestamp', 'data']);
      expect(delivery.json.timestamp).toBe(delivery.json.data.occurredAt);
    }
    expect(ours[0]?.json.data).toMatchObject({ messageId: sent.body.messageId, reference: 'txn-987' });
    expect(ours[1]?.json.data).toMatchObject({ promptMessageId: sent.body.messageId, answer: 'yes' });
    // Another secret does not verify it: the check above can fail.
    expect(() => verify(`whsec_${Buffer.alloc(32, 1).toString('base64')}`, ours[0] as Received)).toThrow();
    const deliveries = (await h.api(`/v1/webhooks/${webhookId}/deliveries`)).body.deliveries;
    expect(deliveries.filter((d: { outcome: string }) => d.outcome === 'delivered').length).toBeGreaterThanOrEqual(2);
  });

  it('retries an endpoint answering 500 twice: the event arrives on the third attempt, before the next one', async () => {
    const receiver = await newReceiver();
    const { secret, webhookId } = (await register(receiver.url, ['message.sent'])).body;
    const customerId = 'cust-webhook-retry';
    receiver.answer(500, 500);

    const first = await h.api('/v1/messages', {
      body: { customerId, to: { phone: '+12025550162' }, body: { sms: 'First' } },
    });
    const second = await h.api('/v1/messages', { body: { customerId, body: { sms: 'Second' } } });
    expect([first.status, second.status]).toEqual([202, 202]);
    await settled();

    expect(receiver.received.map((r) => [r.json.data.messageId, r.answered])).toEqual([
      [first.body.messageId, 500],
      [first.body.messageId, 500],
      [first.body.messageId, 200],
      [second.body.messageId, 200],
    ]);
    const ids = receiver.received.map((r) => r.headers['webhook-id']);
    expect(new Set(ids.slice(0, 3)).size).toBe(1);
    expect(ids[3]).not.toBe(ids[0]);
    for (const delivery of receiver.received) expect(verify(secret, delivery)).toEqual(delivery.json);

    const listed = await h.api(`/v1/webhooks/${webhookId}/deliveries`);
    expect(listed.status).toBe(200);
    expect(
      listed.body.deliveries.map((d: { deliveryId: string; attempt: number; outcome: string; statusCode: number }) => [
        d.deliveryId,
        d.attempt,
        d.outcome,
        d.statusCode,
      ]),
    ).toEqual([
      [ids[3], 1, 'delivered', 200],
      [ids[0], 3, 'delivered', 200],
      [ids[0], 2, 'retrying', 500],
      [ids[0], 1, 'retrying', 500],
    ]);
    const retrying = listed.body.deliveries[3];
    expect(retrying).toMatchObject({ eventType: 'message.sent', error: 'http_status' });
    expect(Date.parse(retrying.nextAttemptAt)).toBeGreaterThan(Date.parse(retrying.attemptedAt));
  });

  it('pages the deliveries newest first with a cursor, and refuses a cursor it did not hand out', async () => {
    const receiver = await newReceiver();
    const { webhookId } = (await register(receiver.url, ['message.sent'])).body;
    const customerId = 'cust-webhook-pages';
    await h.api('/v1/messages', { body: { customerId, to: { phone: '+12025550163' }, body: { sms: 'One' } } });
    await h.api('/v1/messages', { body: { customerId, body: { sms: 'Two' } } });
    await settled();

    const page1 = await h.api(`/v1/webhooks/${webhookId}/deliveries?limit=1`);
    const page2 = await h.api(
      `/v1/webhooks/${webhookId}/deliveries?limit=1&cursor=${encodeURIComponent(page1.body.nextCursor)}`,
    );

    expect(page1.body.deliveries).toHaveLength(1);
    expect(page2.body.deliveries).toHaveLength(1);
    expect(page2.body.deliveries[0].deliveryId).not.toBe(page1.body.deliveries[0].deliveryId);
    expect(page1.body.deliveries[0].attemptedAt >= page2.body.deliveries[0].attemptedAt).toBe(true);
    expect((await h.api(`/v1/webhooks/${webhookId}/deliveries?cursor=bogus`)).status).toBe(400);
  });

  it('signs with both the old and the new secret after a rotation', async () => {
    const receiver = await newReceiver();
    const created = (await register(receiver.url, ['message.sent'])).body;

    const rotated = await h.api(`/v1/webhooks/${created.webhookId}/rotate-secret`, { method: 'POST' });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(created.secret);
    const retiresAt = Date.parse(rotated.body.previousSecretRetiresAt);
    expect(Math.abs(retiresAt - (Date.now() + 24 * 3_600_000))).toBeLessThan(60_000);
    await h.api('/v1/messages', {
      body: { customerId: 'cust-webhook-rotate', to: { phone: '+12025550164' }, body: { sms: 'Rotated' } },
    });
    await settled();

    const [delivery] = receiver.received;
    expect(delivery).toBeDefined();
    expect(delivery?.headers['webhook-signature']?.split(' ')).toHaveLength(2);
    expect(verify(rotated.body.secret, delivery as Received)).toEqual(delivery?.json);
    expect(verify(created.secret, delivery as Received)).toEqual(delivery?.json);
  });

  it("never delivers one tenant's events to another tenant's webhook", async () => {
    const receiver = await newReceiver();
    const gammaKey = await addTenant(h, { tenantId: 'gamma-bank', name: 'Gamma', smsNumber: '+12025550189' }, [
      'send',
      'read',
      'admin',
    ]);
    expect((await register(receiver.url, ['message.sent'], gammaKey)).status).toBe(201);

    await h.api('/v1/messages', {
      body: { customerId: 'cust-webhook-other', to: { phone: '+12025550165' }, body: { sms: 'Demo only' } },
    });
    await settled();

    expect(receiver.received).toEqual([]);
  });
});
