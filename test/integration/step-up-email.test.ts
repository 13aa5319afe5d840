import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cardAlert, type Harness, startHarness } from './harness.ts';

/**
 * Step-up confirmation by email (DESIGN section 16): the code email carries the code and a signed, expiring link to a
 * confirmation page; opening the page confirms nothing, only its button's POST does, once.
 */
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ demoBackend: false });
});

afterAll(async () => {
  await h.close();
});

type Detail = Record<string, unknown>;
const mailsTo = (address: string) => h.gateway.edges.outbox.list({ to: address });
const reply = (from: string, text: string) => h.api('/_local/email/inbound', { body: { from, text }, key: null });
const answersOf = (customerId: string) =>
  h.gateway.edges.events
    .list({ type: 'prompt.answered' })
    .map((e) => e.detail as Detail)
    .filter((d) => d.customerId === customerId);

const verifiedEmailAlert = async (customerId: string, email: string) => {
  const sent = await h.api('/v1/messages', {
    body: cardAlert({
      customerId,
      to: { email },
      channel: 'email',
      reference: `txn-${customerId}`,
      prompt: { type: 'confirm', expiresInSeconds: 900, verify: 'code' },
    }),
  });
  expect(sent.status).toBe(202);
  return sent.body.messageId as string;
};

/** The path of the confirmation link in the newest mail to `email`. */
const linkIn = (email: string) => {
  const body = mailsTo(email).at(-1)?.body ?? '';
  return { body, path: /https?:\/\/[^\s/]+(\/v1\/confirm\/[A-Za-z0-9._-]+)/.exec(body)?.[1] ?? '' };
};

const page = (path: string, method: 'GET' | 'POST') =>
  fetch(`${h.gateway.baseUrl}${path}`, {
    method,
    headers: { accept: 'text/html', ...(method === 'POST' && { 'content-type': 'application/x-www-form-urlencoded' }) },
  });

describe('step-up confirmation by email', () => {
  it('confirms by the link only on the POST, once; GET shows what is confirmed and changes nothing', async () => {
    // Prepare: the alert, answered N by email
    const email = 'step.link@example.com';
    const alertId = await verifiedEmailAlert('cust-sul-1', email);
    expect((await reply(email, 'N')).status).toBe(202);
    const { body, path } = linkIn(email);
    expect(body).toMatch(/reply \d{6}/);
    expect(path).not.toBe('');

    // Act: a mail scanner opens the link
    const opened = await page(path, 'GET');
    const html = await opened.text();

    // Assess: a page that says what is confirmed, with a button; nothing confirmed yet
    expect(opened.status).toBe(200);
    expect(opened.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(html).toContain('Confirm your answer to Demo Bank');
    expect(html).toContain('<strong>No</strong>');
    expect(html).toContain('<form method="post">');
    expect(answersOf('cust-sul-1')).toEqual([]);

    // Act: the button, twice
    const confirmed = await page(path, 'POST');
    const again = await page(path, 'POST');

    // Assess
    expect(confirmed.status).toBe(200);
    expect(await confirmed.text()).toContain('Confirmed');
    expect(again.status).toBe(200);
    expect(answersOf('cust-sul-1')).toEqual([
      expect.objectContaining({
        promptMessageId: alertId,
        answer: 'no',
        channel: 'email',
        verification: { method: 'code', verifiedAt: expect.any(String) },
      }),
    ]);
    const audit = (await h.api(`/v1/messages/${alertId}`)).body.audit;
    expect(audit.map((entry: { step: string }) => entry.step).slice(-2)).toEqual(['link_confirmed', 'completed']);
    // Once confirmed, the link shows the refusal page.
    expect((await page(path, 'GET')).status).toBe(404);
    // The stored code email holds neither the code nor the link.
    const timeline = (await h.api('/v1/customers/cust-sul-1/conversation')).body.messages;
    const codeMail = timeline.find((m: { body: string }) => m.body.includes('to confirm'));
    expect(codeMail.body).toContain('reply ******');
    expect(codeMail.body).not.toContain('/v1/confirm/');
  });

  it('refuses a tampered link with 404, confirming nothing', async () => {
    const email = 'step.tamper@example.com';
    await verifiedEmailAlert('cust-sul-2', email);
    await reply(email, 'Y');
    const { path } = linkIn(email);
    const tampered = path.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));

    expect((await page(tampered, 'GET')).status).toBe(404);
    expect((await page(tampered, 'POST')).status).toBe(404);
    expect((await page('/v1/confirm/nonsense', 'POST')).status).toBe(404);
    expect(answersOf('cust-sul-2')).toEqual([]);
  });

  it('completes by the code sent back in an email reply too', async () => {
    const email = 'step.code@example.com';
    await verifiedEmailAlert('cust-sul-3', email);
    await reply(email, 'Y');
    const code = /reply (\d{6})/.exec(linkIn(email).body)?.[1] ?? '';

    await reply(email, code);

    expect(answersOf('cust-sul-3')).toEqual([expect.objectContaining({ answer: 'yes', channel: 'email' })]);
  });

  // Last: it moves the local clock forward for the rest of this file.
  it('refuses the link once it has expired', async () => {
    const email = 'step.expired@example.com';
    await verifiedEmailAlert('cust-sul-4', email);
    await reply(email, 'Y');
    const { path } = linkIn(email);

    await h.api('/_local/clock', { body: { advanceSeconds: 301 }, key: null });

    expect((await page(path, 'GET')).status).toBe(404);
    expect((await page(path, 'POST')).status).toBe(404);
    expect(answersOf('cust-sul-4')).toEqual([]);
  });
});
