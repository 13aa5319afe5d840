import { SESClient, SendRawEmailCommand } from '@aws-sdk/client-ses';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOutboundEmail } from '../../functions/adapters/email/outbound-mime.ts';
import type { OutboxEntry } from '../../local/edges/aws-edges.ts';
import { type Harness, startHarness } from './harness.ts';

/**
 * Outbound email through the real adapter (SES SendRawEmail against the local edge) and the one-click unsubscribe
 * route (DESIGN section 12), end to end: headers as sent, opt-out by POST only, consent everywhere it is kept.
 */

let h: Harness;
let ses: SESClient;

beforeAll(async () => {
  h = await startHarness({ demoBackend: false });
  ses = new SESClient({
    region: 'us-east-1',
    endpoint: h.gateway.edges.url,
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
});

afterAll(async () => {
  ses.destroy();
  await h.close();
});

const sendEmail = (customerId: string, email: string, subject = 'Your statement') =>
  h.api('/v1/messages', {
    body: {
      customerId,
      to: { email },
      channel: 'email',
      body: { email: { subject, text: 'It is ready.', html: '<p>It is <b>ready</b>.</p>' } },
    },
  });

const lastEmailTo = (email: string): OutboxEntry => {
  const entry = h.gateway.edges.outbox.list({ to: email }).at(-1);
  if (!entry) throw new Error(`no email to ${email}`);
  return entry;
};

/** The one-click URL and the mailto of the last email to an address. */
const unsubscribeTargets = (email: string) => {
  const header = lastEmailTo(email).headers?.['List-Unsubscribe'] ?? '';
  const targets = [...header.matchAll(/<([^>]+)>/g)].map((m) => m[1] as string);
  const url = new URL(targets.find((t) => t.startsWith('http')) ?? '');
  return { url, path: url.pathname, mailto: targets.find((t) => t.startsWith('mailto:')) };
};

const oneClick = (path: string, headers: Record<string, string> = {}) =>
  h.api(path, {
    method: 'POST',
    key: null,
    body: 'List-Unsubscribe=One-Click',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  });

const consentEvents = () => h.gateway.edges.events.list({ type: 'consent.changed' });

describe('outbound email', () => {
  it('goes out raw with List-Unsubscribe (mailto and one-click URL), List-Unsubscribe-Post and the signed Reply-To', async () => {
    const response = await sendEmail('cust-unsub-headers', 'headers@example.com');

    expect(response.status).toBe(202);
    const email = lastEmailTo('headers@example.com');
    expect(email).toMatchObject({
      channel: 'email',
      from: h.gateway.emailFrom,
      subject: 'Your statement',
      configurationSet: 'parley-local',
      providerMessageId: expect.any(String),
    });
    expect(email.body.trim()).toBe('It is ready.');
    expect(email.html?.trim()).toBe('<p>It is <b>ready</b>.</p>');
    expect(email.replyTo?.[0]).toMatch(/^reply\+demo-bank\.[0-9a-z]{26}\.[0-9a-z]{16}@reply\.parley\.localhost$/);
    expect(email.headers).toMatchObject({
      'Reply-To': email.replyTo?.[0],
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      'Message-ID': `<${email.providerMessageId}@email.amazonses.com>`,
    });
    const { url, mailto } = unsubscribeTargets('headers@example.com');
    expect(mailto).toMatch(
      /^mailto:unsubscribe\+demo-bank\.headers=example\.com\.[0-9a-z]{16}@reply\.parley\.localhost$/,
    );
    expect(`${url.origin}`).toBe(h.gateway.baseUrl);
    expect(url.pathname).toBe(`/v1/unsubscribe/${mailto?.slice('mailto:unsubscribe+'.length).split('@')[0]}`);
  });

  it('names the message instead of an address too long for the mailto, and the link still works', async () => {
    const long = `${'a-very-long-local-part'.repeat(2)}@example.com`;
    await h.api('/v1/customers/cust-unsub-long', { method: 'PUT', body: { email: long } });
    await sendEmail('cust-unsub-long', long);
    const { path, mailto } = unsubscribeTargets(long);
    expect(path).toMatch(/^\/v1\/unsubscribe\/demo-bank\.[0-9a-z]{42}$/);
    expect(mailto?.split('@')[0]?.length).toBeLessThanOrEqual('mailto:'.length + 64);

    expect((await oneClick(path)).status).toBe(200);

    expect((await h.api('/v1/customers/cust-unsub-long')).body.consent.email).toMatchObject({ status: 'opted_out' });
  });
});

describe('one-click unsubscribe', () => {
  const address = 'oneclick@example.com';
  let path: string;

  beforeAll(async () => {
    await h.api('/v1/customers/cust-unsub-1', { method: 'PUT', body: { email: address } });
    await h.api('/v1/customers/cust-unsub-2', { method: 'PUT', body: { email: address } });
    expect((await sendEmail('cust-unsub-1', address)).status).toBe(202);
    path = unsubscribeTargets(address).path;
  });

  it('GET shows a page with a button that posts, and opts nothing out', async () => {
    const before = consentEvents().length;

    const page = await h.api(path, { key: null });

    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("form-action 'self'");
    expect(page.body).toMatch(/<form method="post">/);
    expect(page.body).toContain('name="List-Unsubscribe" value="One-Click"');
    expect(page.body).toContain('o***@example.com');
    expect(page.body).not.toContain(address);
    expect(consentEvents()).toHaveLength(before);
    expect((await h.api('/v1/customers/cust-unsub-1')).body.consent.email).toBeUndefined();
    expect((await sendEmail('cust-unsub-1', address)).status).toBe(202);
  });

  it('POST opts the address out for every customer of it, with one consent.changed, without an API key', async () => {
    const before = consentEvents().length;

    const response = await oneClick(path);

    expect(response.status).toBe(200);
    expect(response.body).toEqual({ channel: 'email', status: 'opted_out' });
    const events = consentEvents().slice(before);
    expect(events).toHaveLength(1);
    expect(events[0]?.detail).toMatchObject({
      tenantId: 'demo-bank',
      channel: 'email',
      status: 'opted_out',
      reason: 'unsubscribe',
    });
    for (const customerId of ['cust-unsub-1', 'cust-unsub-2']) {
      expect((await h.api(`/v1/customers/${customerId}`)).body.consent.email).toMatchObject({
        status: 'opted_out',
        reason: 'unsubscribe',
      });
    }
  });

  it('the next email to the address answers 422 recipient_opted_out, and nothing goes', async () => {
    const sent = h.gateway.edges.outbox.list({ to: address }).length;

    const response = await sendEmail('cust-unsub-2', address);

    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe('recipient_opted_out');
    expect(h.gateway.edges.outbox.list({ to: address })).toHaveLength(sent);
  });

  it('a second POST answers the same, changes nothing and emits nothing', async () => {
    const before = consentEvents().length;
    const consent = (await h.api('/v1/customers/cust-unsub-1')).body.consent.email;

    const again = await oneClick(path);

    expect(again.status).toBe(200);
    expect(again.body).toEqual({ channel: 'email', status: 'opted_out' });
    expect(consentEvents()).toHaveLength(before);
    expect((await h.api('/v1/customers/cust-unsub-1')).body.consent.email).toEqual(consent);
  });

  it('answers a person who pressed the button with a page', async () => {
    const response = await oneClick(path, { accept: 'text/html,application/xhtml+xml' });

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.body).toContain('You are unsubscribed');
  });

  it('is 404 for a bad or changed token, by GET and POST, and changes nothing', async () => {
    const other = 'untouched@example.com';
    await h.api('/v1/customers/cust-unsub-other', { method: 'PUT', body: { email: other } });
    await sendEmail('cust-unsub-other', other);
    const good = unsubscribeTargets(other).path;
    const flipped = `${good.slice(0, -1)}${good.endsWith('a') ? 'b' : 'a'}`;
    const before = consentEvents().length;

    for (const bad of [flipped, good.replace('demo-bank.', 'other-bank.'), '/v1/unsubscribe/nonsense', `${good}x`]) {
      expect((await oneClick(bad)).status).toBe(404);
      expect((await h.api(bad, { key: null })).status).toBe(404);
    }

    expect(consentEvents()).toHaveLength(before);
    expect((await h.api('/v1/customers/cust-unsub-other')).body.consent.email).toBeUndefined();
    expect((await sendEmail('cust-unsub-other', other)).status).toBe(202);
  });
});

describe('the local SES', () => {
  const raw = (to: string) =>
    buildOutboundEmail({
      to,
      from: 'Demo Bank <alerts@demo-bank.example>',
      replyTo: 'reply+x@reply.parley.localhost',
      subject: 'Paiement à Café Zoë',
      text: 'Répondez O ou N.',
      unsubscribe: { url: 'https://api.parley.test/v1/unsubscribe/t' },
      thread: { inReplyTo: 'CAF=1@mail.example.com', references: ['CAF=1@mail.example.com'] },
    });
  const sendRaw = async (to: string) =>
    ses.send(
      new SendRawEmailCommand({
        Source: 'alerts@demo-bank.example',
        Destinations: [to],
        RawMessage: { Data: await raw(to) },
        ConfigurationSetName: 'parley-local',
      }),
    );

  it('takes SendRawEmail and records the parsed message with its headers', async () => {
    const answer = await sendRaw('raw@example.com');

    const email = lastEmailTo('raw@example.com');
    expect(email).toMatchObject({
      channel: 'email',
      from: 'alerts@demo-bank.example',
      subject: 'Re: Paiement à Café Zoë',
      replyTo: ['reply+x@reply.parley.localhost'],
      providerMessageId: answer.MessageId,
    });
    expect(email.body.trim()).toBe('Répondez O ou N.');
    expect(email.headers).toMatchObject({
      'In-Reply-To': '<CAF=1@mail.example.com>',
      References: '<CAF=1@mail.example.com>',
      'List-Unsubscribe': '<https://api.parley.test/v1/unsubscribe/t>',
    });
  });

  it('applies the faults table to SendRawEmail as to SendEmail', async () => {
    const address = 'raw-faults@example.com';
    await h.api('/_local/faults', { body: { address, fault: 'reject', times: 1 }, key: null });
    await expect(sendRaw(address)).rejects.toMatchObject({ name: 'MessageRejected' });
    await h.api('/_local/faults', { body: { address, fault: 'throttle', times: 1 }, key: null });
    await expect(sendRaw(address)).rejects.toMatchObject({ name: 'Throttling' });
    await h.api('/_local/faults', { body: { address, fault: 'unavailable', times: 1 }, key: null });
    await expect(sendRaw(address)).rejects.toMatchObject({ $metadata: { httpStatusCode: 503 } });
    expect(h.gateway.edges.outbox.list({ to: address })).toHaveLength(0);

    await h.api('/_local/faults', { body: { address, fault: 'ambiguous', times: 1 }, key: null });
    await expect(sendRaw(address)).rejects.toBeDefined();
    // Ambiguous: it went, and the caller never heard.
    expect(h.gateway.edges.outbox.list({ to: address })).toHaveLength(1);
  });

  it('answers a send with a faulted address through the API as SendEmail did: 422 and 503', async () => {
    const address = 'api-faults@example.com';
    await h.api('/_local/faults', { body: { address, fault: 'reject', times: 1 }, key: null });
    const rejected = await sendEmail('cust-api-faults', address);
    await h.api('/_local/faults', { body: { address, fault: 'unavailable', times: 3 }, key: null });
    const unavailable = await sendEmail('cust-api-faults', address);

    expect([rejected.status, rejected.body.error.code]).toEqual([422, 'provider_rejected']);
    expect([unavailable.status, unavailable.body.error.code]).toEqual([503, 'provider_unavailable']);
  });

  it('refuses a raw message that is not there or has no recipient', async () => {
    await expect(ses.send(new SendRawEmailCommand({ RawMessage: { Data: new Uint8Array() } }))).rejects.toMatchObject({
      name: 'InvalidParameterValue',
    });
    const noTo = Buffer.from('From: a@b.example\r\nSubject: x\r\n\r\nhello\r\n');
    await expect(ses.send(new SendRawEmailCommand({ RawMessage: { Data: noTo } }))).rejects.toMatchObject({
      name: 'InvalidParameterValue',
    });
  });
});
