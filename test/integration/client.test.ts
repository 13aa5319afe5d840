import { Parley, ParleyApiError, verifyWebhook, WebhookVerificationError } from 'parley/client';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main as walkthrough } from '../../examples/walkthrough.ts';
import type { ParleyEvent } from '../../functions/domain/events.ts';
import { serializeWebhookBody } from '../../functions/domain/webhooks.ts';
import { httpRoutes } from '../../functions/routes.ts';
import { cardAlert, type Harness, startHarness } from './harness.ts';

/** `parley/client` against the local gateway: every call through the real client, the real handlers behind it. */

let h: Harness;
let parley: Parley;

beforeAll(async () => {
  h = await startHarness({ demoBackend: false });
  parley = new Parley({ baseUrl: h.gateway.baseUrl, apiKey: h.gateway.apiKey });
});

afterAll(async () => {
  await h.close();
});

/** Catches what `promise` throws, to look at it (a test fails when it does not throw). */
const thrown = async (promise: Promise<unknown>): Promise<unknown> => {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
};

const alert = (overrides: Record<string, unknown> = {}) => cardAlert(overrides) as Parameters<Parley['send']>[0];

describe('send', () => {
  it('sends, and a repeat under the same Idempotency-Key is a replay that sends nothing', async () => {
    const request = alert({ customerId: 'cust-client-1', to: { phone: '+12025550161' } });
    const first = await parley.send(request, { idempotencyKey: 'client-001' });
    expect(first).toMatchObject({ customerId: 'cust-client-1', channel: 'sms', status: 'sent', replayed: false });
    expect(first.messageId).toMatch(/^msg_[0-9A-Z]{26}$/);
    const sentTexts = h.gateway.edges.outbox.list({ to: '+12025550161' }).length;

    const replay = await parley.send(request, { idempotencyKey: 'client-001' });
    expect(replay).toEqual({ ...first, replayed: true });
    expect(h.gateway.edges.outbox.list({ to: '+12025550161' })).toHaveLength(sentTexts);

    const message = await parley.messages.get(first.messageId);
    expect(message).toMatchObject({ messageId: first.messageId, reference: 'txn-987', prompt: { type: 'confirm' } });
  });

  it('a different payload under a used key is a 409 ParleyApiError', async () => {
    const request = alert({ customerId: 'cust-client-2', to: { phone: '+12025550162' } });
    await parley.send(request, { idempotencyKey: 'client-002' });
    const error = await thrown(parley.send({ ...request, reference: 'other' }, { idempotencyKey: 'client-002' }));
    expect(error).toBeInstanceOf(ParleyApiError);
    expect(error).toMatchObject({ status: 409, code: 'idempotency_conflict' });
  });

  it('a 422 is a ParleyApiError with its status, code and message', async () => {
    const error = await thrown(
      parley.send(alert({ customerId: 'cust-client-3', to: { phone: '+12025550163' }, template: 'no-such-template' })),
    );
    expect(error).toBeInstanceOf(ParleyApiError);
    expect(error).toMatchObject({ status: 422, code: 'unknown_template', retryAfter: undefined });
    expect((error as ParleyApiError).message).toContain('no-such-template');
  });

  it('a 400 carries the details of each field', async () => {
    const error = await thrown(parley.send(alert({ customerId: 'cust-client-4', to: { phone: '12' } })));
    expect(error).toMatchObject({ status: 400, code: 'invalid_request' });
    expect((error as ParleyApiError).details).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: 'to.phone' })]),
    );
  });

  it('a key that is not valid is a 401 ParleyApiError', async () => {
    const stranger = new Parley({ baseUrl: h.gateway.baseUrl, apiKey: 'pk_nope' });
    expect(await thrown(stranger.messages.get('msg_00000000000000000000000000'))).toMatchObject({ status: 401 });
  });
});

describe('customers and the conversation', () => {
  it('puts and reads a customer, and pages the conversation newest first', async () => {
    const customer = await parley.customers.put('cust-client-5', { phone: '+12025550165', timezone: 'Europe/London' });
    expect(customer).toMatchObject({ customerId: 'cust-client-5', phone: '+12025550165', timezone: 'Europe/London' });
    expect(await parley.customers.get('cust-client-5')).toEqual(customer);

    const first = await parley.send({ customerId: 'cust-client-5', body: { sms: 'One' } });
    const second = await parley.send({ customerId: 'cust-client-5', body: { sms: 'Two' } });
    const page = await parley.conversation('cust-client-5', { limit: 1 });
    expect(page.messages.map((m) => m.messageId)).toEqual([second.messageId]);
    expect(page.nextCursor).toBeDefined();
    const next = await parley.conversation('cust-client-5', { limit: 1, before: page.nextCursor });
    expect(next.messages.map((m) => m.messageId)).toEqual([first.messageId]);

    expect(await thrown(parley.customers.get('cust-client-nobody'))).toMatchObject({
      status: 404,
      code: 'not_found',
    });
  });
});

describe('agents: replies, chat sessions, callbacks and the attention list', () => {
  it('replies to a customer, starts a chat, lists and completes a callback', async () => {
    await parley.customers.put('cust-client-8', { phone: '+12025550168' });
    const reply = await parley.customers.reply('cust-client-8', { body: 'We are on it.' }, { idempotencyKey: 'r-1' });
    expect(reply).toMatchObject({ customerId: 'cust-client-8', channel: 'sms', replayed: false });
    expect(h.gateway.edges.outbox.list({ to: '+12025550168' }).at(-1)?.body).toContain('We are on it.');
    const again = await parley.customers.reply('cust-client-8', { body: 'We are on it.' }, { idempotencyKey: 'r-1' });
    expect(again).toEqual({ ...reply, replayed: true });

    const chat = await parley.customers.startChat('cust-client-8');
    expect(chat.url).toContain('/chat');
    expect(chat.linkMessageId).toBeUndefined();

    // The customer asks for a callback by text.
    const inbound = await h.api('/_local/sms/inbound', {
      body: { from: '+12025550168', body: 'CALL', to: h.gateway.smsNumber },
      key: null,
    });
    expect(inbound.status).toBeLessThan(300);
    const { callbacks } = await parley.callbacks.list({ status: 'requested' });
    const callback = callbacks.find((c) => c.customerId === 'cust-client-8');
    expect(callback).toBeDefined();
    const attention = await parley.conversations.needingAttention({ limit: 50 });
    expect(attention.conversations.map((c) => c.customerId)).toContain('cust-client-8');

    const closed = await parley.callbacks.update(callback?.callbackId ?? '', { status: 'completed', note: 'Called.' });
    expect(closed).toMatchObject({ callbackId: callback?.callbackId, status: 'completed' });
    expect(await thrown(parley.callbacks.update('cb_nope', { status: 'completed' }))).toMatchObject({ status: 404 });
  });
});

describe('templates', () => {
  it('put, get, list and delete', async () => {
    const saved = await parley.templates.put('client-note', { description: 'A note', sms: 'Hi {{name}}' });
    expect(saved).toMatchObject({ name: 'client-note', sms: 'Hi {{name}}' });
    expect(await parley.templates.get('client-note')).toEqual(saved);
    expect((await parley.templates.list()).map((t) => t.name)).toContain('client-note');

    const sent = await parley.send({
      customerId: 'cust-client-6',
      to: { phone: '+12025550166' },
      template: 'client-note',
      data: { name: 'Ana' },
    });
    expect(h.gateway.edges.outbox.list({ to: '+12025550166' }).at(-1)?.body).toContain('Hi Ana');
    expect(sent.status).toBe('sent');

    expect(await parley.templates.delete('client-note')).toEqual({ name: 'client-note', deleted: true });
    expect(await thrown(parley.templates.get('client-note'))).toMatchObject({ status: 404 });
  });

  it('a template that does not parse is a 400 at its field', async () => {
    const error = await thrown(parley.templates.put('client-broken', { sms: 'Hi {{name' }));
    expect(error).toMatchObject({ status: 400, code: 'invalid_request' });
    expect((error as ParleyApiError).details?.[0]?.path).toBe('sms');
  });
});

describe('keywords', () => {
  it('put, get, list and delete; a reserved word is refused', async () => {
    await parley.templates.put('client-pin-reply', { sms: '{{brandName}}: a PIN reminder is on its way.' });
    expect(await parley.keywords.put('pin', { autoReplyTemplate: 'client-pin-reply' })).toEqual({
      keyword: 'PIN',
      autoReplyTemplate: 'client-pin-reply',
      emitEvent: true,
    });
    expect(await parley.keywords.get('PIN')).toMatchObject({ keyword: 'PIN' });
    expect((await parley.keywords.list()).map((k) => k.keyword)).toContain('PIN');
    expect(await parley.keywords.delete('PIN')).toEqual({ keyword: 'PIN', deleted: true });
    expect(await thrown(parley.keywords.get('PIN'))).toMatchObject({ status: 404 });

    const reserved = await thrown(parley.keywords.put('STOP'));
    expect(reserved).toMatchObject({ status: 400, code: 'invalid_request' });
    expect((reserved as ParleyApiError).message).toContain('STOP is reserved');
  });
});

describe('tenant settings', () => {
  it('reads and merges a change; null clears a field', async () => {
    const before = await parley.tenant.get();
    expect(before.tenantId).toBe(h.gateway.tenantId);

    const updated = await parley.tenant.update({ brandName: 'Client Bank', helpText: 'Client Bank: call us.' });
    expect(updated).toMatchObject({
      tenantId: before.tenantId,
      brandName: 'Client Bank',
      helpText: 'Client Bank: call us.',
    });
    expect(await parley.tenant.get()).toEqual(updated);

    const cleared = await parley.tenant.update({ helpText: null });
    expect(cleared.helpText).toBeUndefined();
    expect(cleared.brandName).toBe('Client Bank');

    expect(await thrown(parley.tenant.update({ nope: 1 } as never))).toMatchObject({ status: 400 });
  });
});

describe('webhooks', () => {
  const hasWebhookRoutes = httpRoutes.some((route) => route.path === '/v1/webhooks');

  it('create, list, get, rotate, deliveries and delete (or, before the webhook routes, a 404)', async () => {
    if (!hasWebhookRoutes) {
      // The routes come with the webhooks branch: until then every method answers the gateway's 404.
      expect(await thrown(parley.webhooks.list())).toMatchObject({ status: 404 });
      return;
    }
    const created = await parley.webhooks.create({ url: 'http://127.0.0.1:9/hooks', events: ['chat.ended'] });
    expect(created.secret).toMatch(/^whsec_/);
    expect(created).toMatchObject({ url: 'http://127.0.0.1:9/hooks', events: ['chat.ended'], status: 'enabled' });
    const { secret: _secret, ...view } = created;
    expect(await parley.webhooks.get(created.webhookId)).toEqual(view);
    expect((await parley.webhooks.list()).map((w) => w.webhookId)).toContain(created.webhookId);

    const rotated = await parley.webhooks.rotate(created.webhookId);
    expect(rotated.secret).not.toBe(created.secret);
    expect(rotated.previousSecretRetiresAt).toBeDefined();
    expect(await parley.webhooks.deliveries(created.webhookId, { limit: 10 })).toEqual({ deliveries: [] });

    expect(await parley.webhooks.delete(created.webhookId)).toEqual({ webhookId: created.webhookId, deleted: true });
    expect(await thrown(parley.webhooks.get(created.webhookId))).toMatchObject({ status: 404 });
  });
});

describe('verifyWebhook', () => {
  const secret = `whsec_${Buffer.from('a test secret of thirty-two bytes').toString('base64')}`;

  const signed = (body: string, signWith = secret, at = new Date()) => {
    const id = 'whmsg_01JB2K3M4N5P6Q7R8S9T0V1W2X';
    return {
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': new Webhook(signWith).sign(id, at, body),
    };
  };

  it('returns the typed event of a body signed by the Standard Webhooks library, and refuses a tampered one', async () => {
    await parley.send(alert({ customerId: 'cust-client-7', to: { phone: '+12025550167' }, reference: 'txn-hook' }));
    const captured = h.gateway.edges.events
      .list({ type: 'message.sent' })
      .find((e) => (e.detail as { reference?: string }).reference === 'txn-hook');
    expect(captured).toBeDefined();
    const event = { type: 'message.sent', detail: captured?.detail } as ParleyEvent;
    const body = serializeWebhookBody(event);
    const headers = signed(body);

    const verified = verifyWebhook(body, headers, secret);
    expect(verified.type).toBe('message.sent');
    if (verified.type !== 'message.sent') throw new Error('unreachable');
    expect(verified.data.reference).toBe('txn-hook');
    expect(verified.timestamp).toBe(verified.data.occurredAt);

    // A Headers object, as a fetch-style server hands it over, and several secrets during a rotation.
    const other = `whsec_${Buffer.from('another secret, thirty-two bytes').toString('base64')}`;
    expect(verifyWebhook(body, new Headers(headers), [other, secret]).type).toBe('message.sent');

    const tampered = body.replace('txn-hook', 'txn-evil');
    expect(() => verifyWebhook(tampered, headers, secret)).toThrow(WebhookVerificationError);
    expect(() => verifyWebhook(body, headers, other)).toThrow(WebhookVerificationError);
    const stale = signed(body, secret, new Date(Date.now() - 10 * 60_000));
    expect(() => verifyWebhook(body, stale, secret)).toThrow(WebhookVerificationError);
  });
});

describe('the walk-through example', () => {
  it("runs the README's curl walk-through through the client", async () => {
    const steps: string[] = [];
    const result = await walkthrough({
      baseUrl: h.gateway.baseUrl,
      apiKey: h.gateway.apiKey,
      log: (title) => steps.push(title),
    });
    expect(steps).toHaveLength(6);
    expect(result.sent).toMatchObject({ customerId: 'cust-42', channel: 'sms', status: 'sent', replayed: false });
    expect(result.replay).toEqual({ ...result.sent, replayed: true });
    expect(result.outbox).toEqual(
      expect.arrayContaining([expect.objectContaining({ body: expect.stringContaining('$420.00') })]),
    );
    expect(result.events).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'message.sent', detail: expect.objectContaining({ reference: 'txn-987' }) }),
      ]),
    );
    expect(result.conversation.messages[0]?.messageId).toBe(result.sent.messageId);
    expect(result.message).toMatchObject({ messageId: result.sent.messageId, reference: 'txn-987' });
  });
});
