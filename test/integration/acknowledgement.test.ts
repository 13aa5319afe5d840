import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './harness.ts';

/**
 * "Heard, not ignored" (DESIGN section 7, rule 8): free text gets the tenant's acknowledgement with when someone will
 * answer, once per conversation until an agent answers. The demo tenant's hours: weekdays 09:00-17:00 New York.
 */
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ demoBackend: false });
});

afterAll(async () => {
  await h.close();
});

const text = (from: string, body: string, at?: string) =>
  h.api('/_local/sms/inbound', { body: { from, body, ...(at && { at }) }, key: null });
const textsTo = (phone: string) => h.gateway.edges.outbox.list({ to: phone }).map((e) => e.body);

describe('acknowledging free text', () => {
  it('acknowledges three free texts in a row once, naming the next business morning at night', async () => {
    const phone = '+12025550701';
    // Thursday 23:00 in New York
    await text(phone, 'I was charged twice', '2026-12-04T04:00:00Z');
    await text(phone, 'for the same coffee', '2026-12-04T04:01:00Z');
    await text(phone, 'please help', '2026-12-04T04:02:00Z');

    expect(textsTo(phone)).toEqual([
      'Demo Bank: Thanks, we have your message. Someone will answer tomorrow from 09:00.',
    ]);
    expect(h.gateway.edges.events.list({ type: 'message.received' }).length).toBeGreaterThanOrEqual(3);
  });

  it('acknowledges again after an agent answered', async () => {
    const phone = '+12025550702';
    await text(phone, 'Where is my refund?');
    const customerId = `sms:${phone}`;
    const reply = await h.api(`/v1/customers/${encodeURIComponent(customerId)}/messages`, {
      key: h.gateway.agentKey,
      body: { body: 'It is on its way.' },
    });
    expect(reply.status).toBe(202);
    await text(phone, 'Thanks, and the other one?');

    const acknowledgements = textsTo(phone).filter((body) => body.includes('we have your message'));
    expect(acknowledgements).toHaveLength(2);
  });
});
