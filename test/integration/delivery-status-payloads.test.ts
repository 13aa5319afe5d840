import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { CloudWatchLogsEvent, SNSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addTenant, cardAlert, type Harness, startHarness } from './harness.ts';

/**
 * The `delivery-status` handler on real-shaped payloads (test/fixtures/delivery-status), against dynalite: a
 * CloudWatch Logs subscription event (base64 gzip) of SNS SMS delivery log entries, and SES events through SNS,
 * delivered twice, out of order, and before the message they are about was stored. The emulated providers'
 * own reports are off here, so every report is the test's.
 */
let h: Harness;
let handle: (event: CloudWatchLogsEvent | SNSEvent) => Promise<void>;

const fixture = (name: string) =>
  JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/delivery-status', name), 'utf8'));

beforeAll(async () => {
  h = await startHarness({ demoBackend: false });
  // The handler reads its settings at import: only once the harness has set them.
  const module = await import('../../functions/handlers/delivery-status.ts');
  handle = (event) => module.handleDeliveryStatus(event);
});

afterAll(async () => {
  await h.close();
});

type Outboxed = { to: string; providerMessageId: string; at: string; tags?: Record<string, string> };
const lastTo = (address: string) => h.gateway.edges.outbox.list({ to: address }).at(-1) as Outboxed;

/** A subscription batch of SNS delivery log entries about `sent`, as Lambda receives it. */
const smsBatch = (sent: Outboxed, entries: { status: 'SUCCESS' | 'FAILURE'; providerResponse?: string }[]) => {
  const success = fixture('sms-delivery-success.json');
  const failure = fixture('sms-delivery-failure.json');
  const batch = {
    ...fixture('cloudwatch-logs-data-message.json'),
    logEvents: entries.map((entry, i) => {
      const base = entry.status === 'SUCCESS' ? success : failure;
      const logEntry = {
        ...base,
        notification: {
          messageId: sent.providerMessageId,
          timestamp: new Date(sent.at).toISOString().replace('T', ' ').replace('Z', ''),
        },
        delivery: {
          ...base.delivery,
          destination: sent.to,
          ...(entry.providerResponse && { providerResponse: entry.providerResponse }),
        },
      };
      return { id: `${Date.now()}${i}`, timestamp: Date.now(), message: JSON.stringify(logEntry) };
    }),
  };
  return { awslogs: { data: gzipSync(JSON.stringify(batch)).toString('base64') } } as CloudWatchLogsEvent;
};

/** SES's event of `type` about `sent` (its tags as the send set them), in an SNS record. */
const sesEvent = (sent: Outboxed, file: string): SNSEvent => {
  const event = fixture(file);
  event.mail = {
    ...event.mail,
    messageId: sent.providerMessageId,
    destination: [sent.to],
    tags: {
      ...event.mail.tags,
      ...Object.fromEntries(Object.entries(sent.tags ?? {}).map(([k, v]) => [k, [v]])),
    },
  };
  for (const list of ['bouncedRecipients', 'complainedRecipients']) {
    const holder = event.bounce ?? event.complaint;
    if (holder?.[list]) holder[list] = [{ ...holder[list][0], emailAddress: sent.to }];
  }
  if (event.delivery) event.delivery.recipients = [sent.to];
  const envelope = fixture('ses-event-sns-envelope.json');
  envelope.Records[0].Sns.Message = JSON.stringify(event);
  return envelope;
};

const message = async (id: string) => (await h.api(`/v1/messages/${id}`)).body;
const events = (type: string, messageId: string) =>
  h.gateway.edges.events.list({ type }).filter((e) => (e.detail as { messageId?: string }).messageId === messageId);

describe('SMS delivery logs through CloudWatch Logs', () => {
  it('records a report that arrives before its message is stored, once the retry finds it', async () => {
    // Prepare: SNS takes the SMS but answers slowly, so the report can overtake the write of the message
    const phone = '+12025550501';
    await h.api('/_local/faults', { body: { address: phone, fault: 'delay', delayMs: 800, times: 1 }, key: null });
    const sending = h.api('/v1/messages', { body: cardAlert({ customerId: 'cust-early', to: { phone } }) });
    let sent: Outboxed | undefined;
    while (!sent) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      sent = lastTo(phone);
    }

    // Act: the delivery log, before the send has stored its message; then Lambda's retry after it has
    await expect(handle(smsBatch(sent, [{ status: 'SUCCESS' }]))).rejects.toThrow(/not recorded yet/);
    const accepted = await sending;
    await handle(smsBatch(sent, [{ status: 'SUCCESS' }]));

    // Assess
    const stored = await message(accepted.body.messageId);
    expect(stored.status).toBe('delivered');
    expect(stored.statusHistory.map((s: { status: string }) => s.status)).toEqual(['sending', 'sent', 'delivered']);
    expect(events('message.delivered', accepted.body.messageId)).toHaveLength(1);
  });

  it('takes the same batch twice into one history, and a late failure changes nothing after delivery', async () => {
    const phone = '+12025550502';
    const accepted = await h.api('/v1/messages', {
      body: cardAlert({ customerId: 'cust-twice', to: { phone }, channel: 'sms' }),
    });
    const sent = lastTo(phone);

    await handle(smsBatch(sent, [{ status: 'SUCCESS' }]));
    await handle(smsBatch(sent, [{ status: 'SUCCESS' }]));
    await handle(smsBatch(sent, [{ status: 'FAILURE' }]));

    const stored = await message(accepted.body.messageId);
    expect(stored.status).toBe('delivered');
    expect(stored.statusHistory.filter((s: { status: string }) => s.status === 'delivered')).toHaveLength(1);
    expect(events('message.failed', accepted.body.messageId)).toEqual([]);
  });

  it('reads the rest of a batch past an entry it cannot read, which goes to the dead-letter queue', async () => {
    const phone = '+12025550503';
    const accepted = await h.api('/v1/messages', {
      body: cardAlert({ customerId: 'cust-batch', to: { phone }, channel: 'sms' }),
    });
    const sent = lastTo(phone);
    const good = JSON.parse(
      gunzipData(smsBatch(sent, [{ status: 'FAILURE', providerResponse: 'Invalid phone number' }])),
    );
    good.logEvents.unshift({ id: 'bad-1', timestamp: Date.now(), message: '{"notification":' });
    const deadLetters = h.gateway.edges.deadLetters.list().length;

    await handle({ awslogs: { data: gzipSync(JSON.stringify(good)).toString('base64') } });

    expect((await message(accepted.body.messageId)).status).toBe('failed');
    expect(events('message.failed', accepted.body.messageId)[0]?.detail).toMatchObject({ reason: 'invalid_number' });
    expect(h.gateway.edges.deadLetters.list()).toHaveLength(deadLetters + 1);
  });

  it('does nothing for the control message CloudWatch Logs sends when the subscription is made', async () => {
    const before = h.gateway.edges.events.list().length;
    const control = fixture('cloudwatch-logs-control-message.json');

    await handle({ awslogs: { data: gzipSync(JSON.stringify(control)).toString('base64') } });

    expect(h.gateway.edges.events.list()).toHaveLength(before);
  });

  it("finds the right tenant's message when two tenants text the same number", async () => {
    // Prepare: another tenant's customer has the same phone, and both tenants text it
    const phone = '+12025550504';
    const otherKey = await addTenant(h, { tenantId: 'other-bank', name: 'Other Bank', smsNumber: '+12025550999' });
    const ours = await h.api('/v1/messages', { body: cardAlert({ customerId: 'cust-shared', to: { phone } }) });
    const oursSent = lastTo(phone);
    const theirs = await h.api('/v1/messages', {
      key: otherKey,
      body: { customerId: 'their-cust', to: { phone }, body: { sms: 'Other Bank: your code is 1234' } },
    });
    expect(theirs.status).toBe(202);
    const theirsSent = lastTo(phone);
    expect(theirsSent.providerMessageId).not.toBe(oursSent.providerMessageId);

    // Act
    await handle(smsBatch(theirsSent, [{ status: 'SUCCESS' }]));

    // Assess
    expect((await message(ours.body.messageId)).status).toBe('sent');
    const theirMessage = await h.api(`/v1/messages/${theirs.body.messageId}`, { key: otherKey });
    expect(theirMessage.body.status).toBe('delivered');
  });
});

describe('SES events through SNS', () => {
  it('keeps delivered when the Send event arrives after the Delivery, and the same Delivery again adds nothing', async () => {
    const email = 'order@example.com';
    const accepted = await h.api('/v1/messages', {
      body: cardAlert({ customerId: 'cust-order', to: { email }, channel: 'email' }),
    });
    const sent = lastTo(email);
    expect(sent.tags).toMatchObject({ 'parley-message-id': accepted.body.messageId, 'parley-tenant-id': 'demo-bank' });

    await handle(sesEvent(sent, 'ses-delivery.json'));
    await handle(sesEvent(sent, 'ses-send.json'));
    await handle(sesEvent(sent, 'ses-delivery.json'));

    const stored = await message(accepted.body.messageId);
    expect(stored.status).toBe('delivered');
    expect(stored.statusHistory.map((s: { status: string }) => s.status)).toEqual(['sending', 'sent', 'delivered']);
    expect(stored.statusHistory.at(-1).detail.smtpResponse).toMatch(/^250 2\.0\.0 OK/);
  });

  it('suppresses the address on a bounce that comes after the delivery, leaving the message delivered', async () => {
    const email = 'late.bounce@example.com';
    const accepted = await h.api('/v1/messages', {
      body: cardAlert({ customerId: 'cust-late-bounce', to: { email }, channel: 'email' }),
    });
    const sent = lastTo(email);

    await handle(sesEvent(sent, 'ses-delivery.json'));
    await handle(sesEvent(sent, 'ses-bounce-permanent.json'));

    expect((await message(accepted.body.messageId)).status).toBe('delivered');
    const customer = (await h.api('/v1/customers/cust-late-bounce')).body;
    expect(customer.consent.email).toMatchObject({ status: 'suppressed', reason: 'bounce' });
    expect(events('consent.changed', accepted.body.messageId)).toHaveLength(1);
  });

  it('records nothing for an event whose tags name another tenant; an old one goes to the dead-letter queue', async () => {
    const email = 'spoof@example.com';
    const accepted = await h.api('/v1/messages', {
      body: cardAlert({ customerId: 'cust-spoof', to: { email }, channel: 'email' }),
    });
    const sent = lastTo(email);

    const spoofed = sesEvent(
      { ...sent, tags: { ...sent.tags, 'parley-tenant-id': 'other-bank' } },
      'ses-bounce-permanent.json',
    );
    const deadLetters = h.gateway.edges.deadLetters.list().length;
    // The fixture's event is hours old: past the time its message could still be stored, it is dead-lettered.
    await handle(spoofed);

    expect(h.gateway.edges.deadLetters.list()).toHaveLength(deadLetters + 1);

    expect((await message(accepted.body.messageId)).status).toBe('sent');
    expect((await h.api('/v1/customers/cust-spoof')).body.consent.email).toBeUndefined();
  });
});

function gunzipData(event: CloudWatchLogsEvent): string {
  return gunzipSync(Buffer.from(event.awslogs.data, 'base64')).toString('utf8');
}
