import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './harness.ts';

/**
 * The demo backend on webhooks (`PARLEY_DEMO_WEBHOOKS=1 npm start`): it registers its own receiver, hears the demo
 * tenant's events only by signed webhook, verifies each with the Standard Webhooks library, and answers.
 */
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ demoBackend: 'webhooks', webhooks: { retryScale: 0.001 } });
});

afterAll(async () => {
  await h.close();
});

describe('the demo backend on webhooks', () => {
  it('registers one webhook for keyword.received and prompt.answered on a loopback receiver', async () => {
    const { webhooks } = (await h.api('/v1/webhooks')).body;

    expect(webhooks).toEqual([
      expect.objectContaining({
        url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/parley-demo-backend\/webhooks$/),
        events: ['keyword.received', 'prompt.answered'],
      }),
    ]);
  });

  it('blocks the card after a signed prompt.answered N, and answers BAL', async () => {
    const phone = '+12025550171';
    const alert = await h.api('/v1/messages', {
      body: {
        customerId: 'cust-demo-hook',
        to: { phone },
        template: 'card-transaction-alert',
        data: { amount: '$9.00', merchant: 'ACME' },
        prompt: { type: 'confirm' },
        reference: 'txn-hook-1',
      },
    });
    expect(alert.status).toBe(202);

    await h.api('/_local/sms/inbound', { body: { from: phone, body: 'N' }, key: null });
    await h.gateway.webhookDispatcher?.idle();
    await h.api('/_local/sms/inbound', { body: { from: phone, body: 'BAL' }, key: null });
    await h.gateway.webhookDispatcher?.idle();

    const webhookId = (await h.api('/v1/webhooks')).body.webhooks[0].webhookId;
    const attempts = (await h.api(`/v1/webhooks/${webhookId}/deliveries`)).body.deliveries;
    expect(attempts.map((a: { eventType: string; statusCode: number }) => [a.eventType, a.statusCode])).toEqual([
      ['keyword.received', 204],
      ['prompt.answered', 204],
    ]);
    // The answers go out through the public send API, after the deliveries: wait for them.
    let texts: string[] = [];
    for (let i = 0; i < 50 && texts.length < 3; i++) {
      texts = (await h.api(`/_local/outbox?to=${encodeURIComponent(phone)}`, { key: null })).body.map(
        (m: { body: string }) => m.body,
      );
      await new Promise((done) => setTimeout(done, 50));
    }
    expect(texts).toHaveLength(3);
    expect(texts[1]).toMatch(/blocked/i);
    expect(texts[2]).toContain('$1,234.56');
  });
});
