import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cardAlert, type Harness, startHarness } from './harness.ts';

/**
 * Delivery status end to end, as `npm start` runs it: the emulated SNS and SES report each message a moment after
 * it leaves, in AWS's shapes (a CloudWatch Logs subscription event; SES events through SNS), through the real
 * `delivery-status` handler, against dynalite. What they report per address is set with `POST /_local/faults`.
 */
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ demoBackend: false, deliveryReports: { delayMs: 30, retryDelayMs: 200 } });
});

afterAll(async () => {
  await h.close();
});

const waitFor = async <T>(read: () => T | undefined | Promise<T | undefined>, what: string): Promise<T> => {
  for (let i = 0; i < 200; i++) {
    const value = await read();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`gave up waiting for ${what}`);
};

type Detail = Record<string, unknown>;
const eventsOf = (type: string, messageId: string) =>
  h.gateway.edges.events
    .list({ type })
    .map((e) => e.detail as Detail)
    .filter((d) => d.messageId === messageId);
const waitForEvent = (type: string, messageId: string) =>
  waitFor(() => eventsOf(type, messageId)[0], `${type} of ${messageId}`);
const setDelivery = (address: string, delivery: string, reason?: string) =>
  h.api('/_local/faults', { body: { address, delivery, ...(reason && { reason }) }, key: null });
const outboxTo = (address: string) => h.gateway.edges.outbox.list({ to: address });

describe('delivery status from the emulated providers', () => {
  it('records a delivered SMS with the carrier detail and announces message.delivered', async () => {
    const sent = await h.api('/v1/messages', {
      body: cardAlert({ customerId: 'cust-ok', to: { phone: '+12025550401' }, reference: 'txn-ok' }),
    });
    expect(sent.status).toBe(202);

    const delivered = await waitForEvent('message.delivered', sent.body.messageId);

    expect(delivered).toMatchObject({ customerId: 'cust-ok', channel: 'sms', reference: 'txn-ok' });
    expect(delivered.providerMessageId).toBe(outboxTo('+12025550401')[0]?.providerMessageId);
    const message = (await h.api(`/v1/messages/${sent.body.messageId}`)).body;
    expect(message.status).toBe('delivered');
    // The local console shows what the emulated provider reported beside each text.
    const outbox = (await h.api('/_local/outbox?to=%2B12025550401', { key: null })).body;
    expect(outbox[0].reported).toEqual({ delivery: 'delivered' });
    expect(message.statusHistory.map((s: { status: string }) => s.status)).toEqual(['sending', 'sent', 'delivered']);
    expect(message.statusHistory.at(-1).detail).toMatchObject({
      providerResponse: 'Message has been accepted by phone carrier',
      carrier: 'Local Wireless',
      priceInUsd: 0.00645,
      mcc: 310,
    });
  });

  it('fails an unreachable SMS over to email under auto, and the moved prompt is answered by email', async () => {
    // Prepare
    const phone = '+12025550402';
    const email = 'ana.failover@example.com';
    expect((await setDelivery(phone, 'failed', 'unreachable')).status).toBe(200);

    // Act
    const sent = await h.api('/v1/messages', {
      body: cardAlert({ customerId: 'cust-failover', to: { phone, email }, reference: 'txn-fo' }),
    });
    expect(sent.status).toBe(202);
    expect(sent.body.channel).toBe('sms');
    const failed = await waitForEvent('message.failed', sent.body.messageId);

    // Assess: the SMS failed with the carrier's reason, and the same text went by email, once
    const fallback = failed.fallback as { messageId: string; channel: string };
    expect(failed).toMatchObject({ reason: 'phone_unreachable', reference: 'txn-fo', channel: 'sms' });
    expect(fallback.channel).toBe('email');
    const mails = await waitFor(() => (outboxTo(email).length > 0 ? outboxTo(email) : undefined), 'the email');
    expect(mails).toHaveLength(1);
    expect(mails[0]?.body).toContain(outboxTo(phone)[0]?.body);
    const fallbackSent = await waitForEvent('message.sent', fallback.messageId);
    expect(fallbackSent).toMatchObject({ fallbackFor: sent.body.messageId, channel: 'email', reference: 'txn-fo' });
    const original = (await h.api(`/v1/messages/${sent.body.messageId}`)).body;
    expect(original).toMatchObject({ status: 'failed', fallback });
    expect(original.statusHistory.at(-1)).toMatchObject({ status: 'failed', reason: 'phone_unreachable' });
    const moved = (await h.api(`/v1/messages/${fallback.messageId}`)).body;
    expect(moved).toMatchObject({ channel: 'email', fallbackFor: sent.body.messageId });
    await waitForEvent('message.delivered', fallback.messageId);

    // Act: the customer answers the email
    const answered = await h.api('/_local/email/inbound', { body: { from: email, text: 'Y' }, key: null });
    expect(answered.status).toBe(202);

    // Assess: the prompt is answered, on the message it moved to, with the backend's reference
    const answer = await waitFor(
      () =>
        h.gateway.edges.events
          .list({ type: 'prompt.answered' })
          .map((e) => e.detail as Detail)
          .find((d) => d.customerId === 'cust-failover'),
      'prompt.answered',
    );
    expect(answer).toMatchObject({
      promptMessageId: fallback.messageId,
      answer: 'yes',
      channel: 'email',
      reference: 'txn-fo',
    });
    // One SMS, one email, one fallback: the redelivered and later reports sent nothing more.
    expect(outboxTo(phone)).toHaveLength(1);
    expect(eventsOf('message.failed', sent.body.messageId)).toHaveLength(1);
  });

  it('lets the customer answer a moved prompt by SMS too, once it came back by email', async () => {
    const phone = '+12025550405';
    const email = 'ana.sms.answer@example.com';
    await setDelivery(phone, 'failed', 'ttl_expired');
    const sent = await h.api('/v1/messages', {
      body: cardAlert({ customerId: 'cust-fo-sms', to: { phone, email }, reference: 'txn-fo-sms' }),
    });
    const failed = await waitForEvent('message.failed', sent.body.messageId);
    expect(failed).toMatchObject({ reason: 'ttl_expired', fallback: { channel: 'email' } });

    const answered = await h.api('/_local/sms/inbound', { body: { from: phone, body: 'N' }, key: null });
    expect(answered.status).toBe(202);

    const answer = await waitFor(
      () =>
        h.gateway.edges.events
          .list({ type: 'prompt.answered' })
          .map((e) => e.detail as Detail)
          .find((d) => d.customerId === 'cust-fo-sms'),
      'prompt.answered',
    );
    expect(answer).toMatchObject({
      promptMessageId: (failed.fallback as { messageId: string }).messageId,
      answer: 'no',
      channel: 'sms',
      reference: 'txn-fo-sms',
    });
  });

  it('suppresses an address that bounced: the next email send answers 422 recipient_suppressed', async () => {
    const email = 'gone@example.com';
    await setDelivery(email, 'bounce');
    const sent = await h.api('/v1/messages', {
      body: cardAlert({ customerId: 'cust-bounce', to: { email }, channel: 'email', reference: 'txn-b' }),
    });
    expect(sent.status).toBe(202);

    const failed = await waitForEvent('message.failed', sent.body.messageId);
    const consent = await waitForEvent('consent.changed', sent.body.messageId);

    expect(failed).toMatchObject({ reason: 'bounce', description: 'smtp; 550 5.1.1 user unknown (local)' });
    expect(failed).not.toHaveProperty('fallback');
    expect(consent).toMatchObject({
      customerId: 'cust-bounce',
      channel: 'email',
      status: 'suppressed',
      reason: 'bounce',
    });
    const again = await h.api('/v1/messages', {
      body: cardAlert({ customerId: 'cust-bounce', channel: 'email', reference: 'txn-b2' }),
    });
    expect(again.status).toBe(422);
    expect(again.body.error.code).toBe('recipient_suppressed');
    expect(outboxTo(email)).toHaveLength(1);
    const customer = (await h.api('/v1/customers/cust-bounce')).body;
    expect(customer.consent.email).toMatchObject({ status: 'suppressed', reason: 'bounce' });
  });

  it('sends a bounced low-urgency email by SMS under auto, and later sends go by SMS', async () => {
    const email = 'bounced.auto@example.com';
    const phone = '+12025550403';
    await setDelivery(email, 'bounce');
    const sent = await h.api('/v1/messages', {
      body: cardAlert({ customerId: 'cust-bounce-auto', to: { phone, email }, urgency: 'low', reference: 'txn-ba' }),
    });
    expect(sent.body.channel).toBe('email');

    const failed = await waitForEvent('message.failed', sent.body.messageId);

    expect(failed.fallback).toMatchObject({ channel: 'sms' });
    const texts = await waitFor(() => (outboxTo(phone).length > 0 ? outboxTo(phone) : undefined), 'the SMS');
    expect(texts[0]?.body).toContain('$420.00');
    const next = await h.api('/v1/messages', {
      body: cardAlert({ customerId: 'cust-bounce-auto', urgency: 'low', reference: 'txn-ba2' }),
    });
    expect(next.status).toBe(202);
    expect(next.body).toMatchObject({ channel: 'sms', fallbackReason: 'email_suppressed' });
  });

  it('opts out an address that complained, with consent.changed; the next email send answers 422', async () => {
    const email = 'angry@example.com';
    await setDelivery(email, 'complaint');
    const sent = await h.api('/v1/messages', {
      body: cardAlert({ customerId: 'cust-complaint', to: { email }, channel: 'email', reference: 'txn-c' }),
    });

    const consent = await waitForEvent('consent.changed', sent.body.messageId);

    expect(consent).toMatchObject({ channel: 'email', status: 'opted_out', reason: 'complaint' });
    // A complaint comes after the delivery: the message stays delivered.
    await waitForEvent('message.delivered', sent.body.messageId);
    expect((await h.api(`/v1/messages/${sent.body.messageId}`)).body.status).toBe('delivered');
    const again = await h.api('/v1/messages', {
      body: cardAlert({ customerId: 'cust-complaint', channel: 'email', reference: 'txn-c2' }),
    });
    expect(again.status).toBe(422);
    expect(again.body.error.code).toBe('recipient_opted_out');
  });
});
