import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cardAlert, type Harness, startHarness } from './harness.ts';

/**
 * The whole loop by email with the demo backend on, as `npm start` runs it: the card alert by email, the customer
 * answers "N" with the alert quoted below, and the backend's answer (a send naming the customer's mail in
 * `inReplyTo`) arrives by email in the customer's thread.
 */
let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await h.close();
});

type Outboxed = { subject?: string; headers?: Record<string, string>; body?: string };

const mailsTo = (address: string) => h.gateway.edges.outbox.list({ to: address }) as Outboxed[];

const waitFor = async <T>(read: () => T | undefined | Promise<T | undefined>, what: string): Promise<T> => {
  for (let i = 0; i < 100; i++) {
    const value = await read();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`gave up waiting for ${what}`);
};

describe('the demo loop by email', () => {
  it("answers an emailed card alert answered N by email, threaded under the customer's reply", async () => {
    // Prepare: the alert by email
    const address = 'ana.thread@example.com';
    const sent = await h.api('/v1/messages', {
      body: cardAlert({ customerId: 'cust-thread', to: { email: address }, channel: 'email', reference: 'txn-th-1' }),
    });
    expect(sent.status).toBe(202);
    expect(mailsTo(address)).toHaveLength(1);

    // Act: the customer's "N", as their mail client sends it (the console's Reply: alert quoted, In-Reply-To set)
    const answered = await h.api('/_local/email/inbound', {
      body: { from: `Ana <${address}>`, text: 'N' },
      key: null,
    });
    expect(answered.status).toBe(202);

    // Assess: the answer reached the backend, and its reply came back by email in the same thread
    const answer = h.gateway.edges.events
      .list({ type: 'prompt.answered' })
      .map((e) => e.detail as Record<string, unknown>)
      .find((d) => d.customerId === 'cust-thread');
    expect(answer).toMatchObject({ answer: 'no', channel: 'email', reference: 'txn-th-1' });
    const reply = await waitFor(() => mailsTo(address)[1], "the demo backend's email");
    const customerMail = await h.api(`/v1/messages/${answer?.messageId}`);
    expect(customerMail.status).toBe(200);
    expect(reply.subject).toBe('Re: Did you pay $420.00 at ACME?');
    expect(reply.body).toContain('We have blocked your card after payment txn-th-1');
    const inReplyTo = reply.headers?.['In-Reply-To'];
    expect(inReplyTo).toMatch(/^<.+@example\.com>$/);
    expect(reply.headers?.References).toContain(inReplyTo);
    // No SMS: the customer answered by email.
    expect(h.gateway.edges.outbox.list().filter((e) => (e as { channel?: string }).channel === 'sms')).toEqual([]);
    // The send stores its message just after the provider took it.
    const timeline = await waitFor(async () => {
      const body = (await h.api('/v1/customers/cust-thread/conversation')).body;
      return body.messages.length === 3 ? body : undefined;
    }, 'the stored reply');
    expect(timeline.messages[0]).toMatchObject({ direction: 'outbound', channel: 'email', reference: 'txn-th-1' });
    const backendReply = await h.api(`/v1/messages/${timeline.messages[0].messageId}`);
    expect(backendReply.body).toMatchObject({ inReplyTo: answer?.messageId });
  });
});
