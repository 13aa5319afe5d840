/**
 * DESIGN section 11 through the local gateway, the real handlers and the real SDK clients: faults set with
 * `POST /_local/faults` on the emulated SNS, counted in its outbox.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

const fault = (body: Record<string, unknown>) => h.api('/_local/faults', { body, key: null });
const smsTo = (phone: string) => h.gateway.edges.outbox.list({ to: phone });
const events = async (type: string) => (await h.api(`/_local/events?type=${type}`, { key: null })).body as unknown[];

describe('exactly once at the provider', () => {
  it('an ambiguous answer: exactly 1 SMS however often the backend retries, status unknown, message.unknown', async () => {
    // Prepare
    const phone = '+12025550161';
    expect((await fault({ address: phone, fault: 'ambiguous', times: 1 })).status).toBe(200);
    const send = () =>
      h.api('/v1/messages', {
        body: cardAlert({ customerId: 'amb-1', to: { phone } }),
        headers: { 'idempotency-key': 'ambiguous-1' },
      });

    // Act
    const first = await send();
    const retries = await Promise.all([send(), send(), send()]);

    // Assess
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ status: 'unknown' });
    for (const retry of retries) {
      expect(retry.status).toBe(202);
      expect(retry.body).toEqual(first.body);
      expect(retry.headers.get('idempotent-replayed')).toBe('true');
    }
    expect(smsTo(phone)).toHaveLength(1);
    const message = await h.api(`/v1/messages/${first.body.messageId}`);
    expect(message.body).toMatchObject({ status: 'unknown' });
    const unknown = (await events('message.unknown')) as { detail: { messageId: string } }[];
    expect(unknown.filter((e) => e.detail.messageId === first.body.messageId)).toHaveLength(1);
  });

  it('throttled twice: one SMS and sent', async () => {
    const phone = '+12025550162';
    await fault({ address: phone, fault: 'throttle', times: 2 });

    const response = await h.api('/v1/messages', { body: cardAlert({ customerId: 'thr-1', to: { phone } }) });

    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({ status: 'sent' });
    expect(smsTo(phone)).toHaveLength(1);
  });

  it('unavailable on every try: 503, nothing sent or stored, and the retry with the same key goes through', async () => {
    const phone = '+12025550163';
    await fault({ address: phone, fault: 'unavailable', times: 3 });
    const send = () =>
      h.api('/v1/messages', {
        body: cardAlert({ customerId: 'una-1', to: { phone } }),
        headers: { 'idempotency-key': 'unavailable-1' },
      });

    const refused = await send();
    const retry = await send();

    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('provider_unavailable');
    expect(retry.status).toBe(202);
    expect(retry.body).toMatchObject({ status: 'sent' });
    expect(smsTo(phone)).toHaveLength(1);
  });

  it('a duplicate during a slow first attempt answers 429 with Retry-After in under 5 s, and only one SMS goes', async () => {
    // Prepare: the provider holds its answer for 7 s
    const phone = '+12025550164';
    await fault({ address: phone, fault: 'delay', delayMs: 7000, times: 1 });
    const send = () =>
      h.api('/v1/messages', {
        body: cardAlert({ customerId: 'slow-1', to: { phone } }),
        headers: { 'idempotency-key': 'slow-1' },
      });

    // Act
    const first = send();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const startedAt = Date.now();
    const duplicate = await send();
    const waited = Date.now() - startedAt;

    // Assess
    expect(duplicate.status).toBe(429);
    expect(duplicate.body.error.code).toBe('rate_limited');
    expect(Number(duplicate.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(waited).toBeLessThan(5000);
    expect((await first).status).toBe(202);
    expect(smsTo(phone)).toHaveLength(1);
  }, 20_000);

  it("a lone surrogate from one tenant: 400, and the other tenant's next send in the same process goes out intact", async () => {
    // Act
    const bad = await h.api('/v1/messages', {
      body: { customerId: 'sur-1', to: { phone: '+12025550165' }, body: { sms: 'emoji cut \ud83d' } },
    });
    const good = await h.api('/v1/messages', {
      key: otherTenantKey,
      body: { customerId: 'sur-2', to: { phone: '+12025550166' }, body: { sms: 'Your code is 4242 🙂' } },
    });

    // Assess
    expect(bad.status).toBe(400);
    expect(good.status).toBe(202);
    expect(smsTo('+12025550165')).toHaveLength(0);
    expect(smsTo('+12025550166').map((m) => m.body)).toEqual(['Your code is 4242 🙂']);
  });

  it('20 concurrent sends with one key: 1 SMS and 20 identical answers', async () => {
    const phone = '+12025550167';
    const send = () =>
      h.api('/v1/messages', {
        body: cardAlert({ customerId: 'conc-1', to: { phone } }),
        headers: { 'idempotency-key': 'concurrent-1' },
      });

    const answers = await Promise.all(Array.from({ length: 20 }, send));

    expect(new Set(answers.map((a) => a.status))).toEqual(new Set([202]));
    expect(new Set(answers.map((a) => JSON.stringify(a.body))).size).toBe(1);
    expect(smsTo(phone)).toHaveLength(1);
  });

  it('a reply the provider keeps refusing fails the inbound message visibly, for a redelivery to send it', async () => {
    // Prepare: every try of the HELP reply is throttled
    const phone = '+12025550168';
    await fault({ address: phone, fault: 'throttle', times: 3 });
    const inbound = () =>
      h.api('/_local/sms/inbound', { body: { from: phone, body: 'HELP', inboundMessageId: 'help-thr-1' }, key: null });

    // Act
    const failed = await inbound();
    const again = await inbound();

    // Assess: nothing was sent; the handler failed as Lambda would see it, and the redelivery waits for the lease
    expect(failed.status).toBe(503);
    expect(failed.body.error.code).toBe('provider_unavailable');
    expect(failed.body.error.message).toContain('same inboundMessageId');
    expect(again.status).toBe(429);
    expect(again.headers.get('retry-after')).toBe('30');
    expect(smsTo(phone)).toHaveLength(0);
  });
});
