import { randomBytes } from 'node:crypto';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cardAlert, type Harness, startHarness } from './harness.ts';

/**
 * `POST /_local/email/inbound` runs SES's receipt path: the raw mail in the emulated bucket, the Received
 * notification, the real `inbound-email` handler. The demo backend is off so nothing reacts behind the tests' backs.
 */
let h: Harness;
let s3: S3Client;
const bucket = 'parley-inbound-email';

beforeAll(async () => {
  h = await startHarness({ demoBackend: false });
  s3 = new S3Client({
    region: 'us-east-1',
    endpoint: h.gateway.edges.url,
    forcePathStyle: true,
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
});

afterAll(async () => {
  s3.destroy();
  await h.close();
});

const receive = (body: unknown) => h.api('/_local/email/inbound', { body, key: null });

const eventsOf = (type: string, customerId: string) =>
  h.gateway.edges.events
    .list({ type })
    .map((e) => e.detail as Record<string, unknown>)
    .filter((detail) => detail.customerId === customerId);

/** The card alert by email, its prompt open; the email as the outbox captured it. */
const emailedAlert = async (customerId: string, email: string, reference: string) => {
  const sent = await h.api('/v1/messages', {
    body: cardAlert({ customerId, to: { email }, channel: 'email', reference }),
  });
  expect(sent.status).toBe(202);
  const email_ = h.gateway.edges.outbox.list({ to: email }).at(-1);
  if (!email_) throw new Error('no email in the outbox');
  const headers = (email_ as { headers?: Record<string, string> }).headers ?? {};
  const replyTo = headers['Reply-To'] ?? email_.replyTo?.[0];
  expect(replyTo).toMatch(/^reply\+[a-z0-9._-]+@reply\.parley\.localhost$/);
  return { messageId: sent.body.messageId as string, email: email_, replyTo: replyTo as string };
};

const storedMail = async (sesMessageId: string) => {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `inbound/${sesMessageId}` }));
  return { length: object.ContentLength, text: (await object.Body?.transformToString()) ?? '' };
};

const conversation = async (customerId: string) =>
  (await h.api(`/v1/customers/${customerId}/conversation?limit=100`)).body;

/** Everything an inbound mail could change, to compare before and after. */
const snapshot = async (customerId: string, email: string) => ({
  events: h.gateway.edges.events.list().length,
  outbox: h.gateway.edges.outbox.list({ to: email }).length,
  deadLetters: h.gateway.edges.deadLetters.list().length,
  conversation: await conversation(customerId),
});

const rawReply = (input: { from: string; to: string; messageId: string; inReplyTo: string; text: string }) =>
  [
    `From: Bo <${input.from}>`,
    `To: ${input.to}`,
    'Subject: Re: Did you pay $420.00 at ACME?',
    `Date: ${new Date().toUTCString()}`,
    `Message-ID: <${input.messageId}>`,
    `In-Reply-To: ${input.inReplyTo}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    input.text,
    '',
  ].join('\r\n');

describe('inbound email through the local receipt path', () => {
  it('answers the emailed prompt with "N": prompt.answered, answer no, channel email, the reference', async () => {
    const alert = await emailedAlert('cust-mail-n', 'ana.n@example.com', 'txn-mail-n');

    // The simple form: the console's Reply, to the alert's Reply-To, the alert quoted below.
    const answered = await receive({ from: 'Ana Lima <ana.n@example.com>', text: 'N' });
    expect(answered.status).toBe(202);
    expect(answered.body.inboundMessageId).toMatch(/^email:[^<>]+@example\.com$/);
    expect(answered.body.deadLettered).toBeUndefined();

    expect(eventsOf('prompt.answered', 'cust-mail-n')).toEqual([
      expect.objectContaining({
        promptMessageId: alert.messageId,
        answer: 'no',
        channel: 'email',
        reference: 'txn-mail-n',
      }),
    ]);
    // What the mail client sent, as SES stored it.
    const mail = await storedMail(answered.body.sesMessageId);
    expect(mail.text).toContain(`To: ${alert.replyTo}`);
    expect(mail.text).toContain(`In-Reply-To: <${alert.email.providerMessageId}@email.amazonses.com>`);
    expect(mail.text).toMatch(/Subject: Re: Did you pay \$420\.00 at ACME\?/);
    expect(mail.text).toMatch(/^On .+, alerts@demo-bank\.example wrote:\r$/m);
    expect(mail.text).toContain('> We saw a card payment of $420.00 at ACME.');

    const timeline = await conversation('cust-mail-n');
    expect(timeline.openPrompts).toEqual([]);
    const inbound = timeline.messages.find((m: { direction: string }) => m.direction === 'inbound');
    expect(inbound).toMatchObject({ channel: 'email', body: 'N' });
    expect(inbound.fullText).toContain('> We saw a card payment');
  });

  it('takes the same raw mail twice and changes nothing the second time', async () => {
    const alert = await emailedAlert('cust-mail-dup', 'bo.dup@example.com', 'txn-mail-dup');
    const raw = rawReply({
      from: 'bo.dup@example.com',
      to: alert.replyTo,
      messageId: `dup-${randomBytes(4).toString('hex')}@example.com`,
      inReplyTo: `<${alert.email.providerMessageId}@email.amazonses.com>`,
      text: 'Y',
    });

    const first = await receive({ raw });
    expect(first.status).toBe(202);
    expect(eventsOf('prompt.answered', 'cust-mail-dup')).toEqual([
      expect.objectContaining({ promptMessageId: alert.messageId, answer: 'yes', channel: 'email' }),
    ]);
    const before = await snapshot('cust-mail-dup', 'bo.dup@example.com');

    const second = await receive({ raw });
    expect(second.status).toBe(202);
    expect(second.body.inboundMessageId).toBe(first.body.inboundMessageId);
    // A new delivery to SES (its own id and object), one mail to Parley.
    expect(second.body.sesMessageId).not.toBe(first.body.sesMessageId);
    expect(await snapshot('cust-mail-dup', 'bo.dup@example.com')).toEqual(before);
  });

  it('acts on no out-of-office reply (Auto-Submitted: auto-replied): nothing answered, nothing sent back', async () => {
    const alert = await emailedAlert('cust-mail-ooo', 'cy.ooo@example.com', 'txn-mail-ooo');
    const before = await snapshot('cust-mail-ooo', 'cy.ooo@example.com');

    const ooo = await receive({
      from: 'cy.ooo@example.com',
      subject: 'Automatic reply: Did you pay $420.00 at ACME?',
      text: 'Y\nI am out of the office until Monday.',
      headers: { 'Auto-Submitted': 'auto-replied' },
    });
    expect(ooo.status).toBe(202);

    expect(eventsOf('prompt.answered', 'cust-mail-ooo')).toEqual([]);
    expect(eventsOf('keyword.received', 'cust-mail-ooo')).toEqual([]);
    expect(h.gateway.edges.outbox.list({ to: 'cy.ooo@example.com' })).toHaveLength(before.outbox);
    const after = await conversation('cust-mail-ooo');
    expect(after.openPrompts.map((p: { messageId: string }) => p.messageId)).toEqual([alert.messageId]);
  });

  it('receives a 5 MB reply with an attachment through the bucket', async () => {
    const alert = await emailedAlert('cust-mail-big', 'di.big@example.com', 'txn-mail-big');
    const attachment = randomBytes(5 * 1024 * 1024)
      .toString('base64')
      .replace(/.{76}/g, '$&\r\n');
    const boundary = `b-${randomBytes(6).toString('hex')}`;
    const raw = [
      'From: di.big@example.com',
      `To: "Demo Bank" <${alert.replyTo}>`,
      'Subject: Re: Did you pay $420.00 at ACME?',
      `Message-ID: <big-${randomBytes(4).toString('hex')}@example.com>`,
      'MIME-Version: 1.0',
      `Content-Type: multipart/mixed; boundary="${boundary}"`,
      '',
      `--${boundary}`,
      'Content-Type: text/plain; charset=utf-8',
      '',
      'Y',
      '',
      'It was me; the receipt is attached.',
      '',
      `--${boundary}`,
      'Content-Type: application/pdf; name="receipt.pdf"',
      'Content-Disposition: attachment; filename="receipt.pdf"',
      'Content-Transfer-Encoding: base64',
      '',
      attachment,
      `--${boundary}--`,
      '',
    ].join('\r\n');

    const received = await receive({ raw });
    expect(received.status).toBe(202);
    const stored = await storedMail(received.body.sesMessageId);
    expect(stored.length).toBeGreaterThan(5 * 1024 * 1024);
    expect(eventsOf('prompt.answered', 'cust-mail-big')).toEqual([
      expect.objectContaining({ promptMessageId: alert.messageId, answer: 'yes', channel: 'email' }),
    ]);
    const inbound = (await conversation('cust-mail-big')).messages.find(
      (m: { direction: string }) => m.direction === 'inbound',
    );
    expect(inbound.body).toBe('Y\n\nIt was me; the receipt is attached.');
  });

  it('acts on nothing whose spam verdict is FAIL', async () => {
    const alert = await emailedAlert('cust-mail-spam', 'ed.spam@example.com', 'txn-mail-spam');
    const spam = await receive({ from: 'ed.spam@example.com', text: 'Y', verdicts: { spam: 'FAIL' } });
    expect(spam.status).toBe(202);
    expect(eventsOf('prompt.answered', 'cust-mail-spam')).toEqual([]);
    const after = await conversation('cust-mail-spam');
    expect(after.openPrompts.map((p: { messageId: string }) => p.messageId)).toEqual([alert.messageId]);
  });

  it('takes a reply whose token fails its signature as the answer to the alert its In-Reply-To names', async () => {
    // Prepare: the alert, and its reply token with the signature changed (as a rotated secret would leave it)
    const alert = await emailedAlert('cust-mail-rotated', 'gus.rot@example.com', 'txn-mail-rot');
    const forged = alert.replyTo.replace(/\.[a-z0-9]+@/, '.aaaaaaaaaaaaaaaa@');
    const raw = rawReply({
      from: 'gus.rot@example.com',
      to: forged,
      messageId: `rot-${randomBytes(4).toString('hex')}@example.com`,
      inReplyTo: `<${alert.email.providerMessageId}@email.amazonses.com>`,
      text: 'Y',
    });

    // Act
    const answered = await receive({ raw });

    // Assess
    expect(answered.status).toBe(202);
    expect(answered.body.deadLettered).toBeUndefined();
    expect(eventsOf('prompt.answered', 'cust-mail-rotated')).toEqual([
      expect.objectContaining({ promptMessageId: alert.messageId, answer: 'yes', channel: 'email' }),
    ]);
  });

  it('dead-letters a mail whose reply token does not verify, and says so', async () => {
    const answered = await receive({
      from: 'fay@example.com',
      to: 'reply+demo-bank.forged.token@reply.parley.localhost',
      subject: 'Re: hello',
      text: 'Y',
    });
    expect(answered.status).toBe(202);
    expect(answered.body.deadLettered).toBe(true);
  });
});

describe('POST /_local/email/inbound refuses what SES would not take, clearly', () => {
  it.each([
    [{}, /Give/],
    [{ raw: '' }, /raw/],
    [{ raw: 'hello there' }, /not an RFC 5322 message/],
    [{ raw: 'From: a@example.com\r\nTo: b@example.com\r\n\r\nY' }, /reply domain reply\.parley\.localhost/],
    [{ from: 'nobody.yet@example.com', text: 'Y' }, /no email to nobody\.yet@example\.com yet.*"to"/],
    [{ from: 'not an address', to: 'reply+x@reply.parley.localhost', subject: 's', text: 'Y' }, /Give/],
    [{ from: 'a@example.com', to: 'reply+x@reply.parley.localhost', subject: 'a\r\nBcc: x', text: 'Y' }, /Give/],
    [
      {
        from: 'a@example.com',
        to: 'reply+x@reply.parley.localhost',
        subject: 's',
        text: 'Y',
        verdicts: { spam: 'MAYBE' },
      },
      /Give/,
    ],
    [
      {
        from: 'a@example.com',
        to: 'reply+x@reply.parley.localhost',
        subject: 's',
        text: 'Y',
        headers: { 'Content-Type': 'text/html' },
      },
      /Give/,
    ],
  ])('400 for %j', async (body, message) => {
    const refused = await receive(body);
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('invalid_request');
    expect(refused.body.error.message).toMatch(message);
  });

  it('names the field in the details', async () => {
    const refused = await receive({
      from: 'a@example.com',
      to: 'reply+x@reply.parley.localhost',
      subject: 's',
      text: 'Y',
      verdicts: { spam: 'MAYBE' },
    });
    expect(refused.body.error.details).toContainEqual(expect.objectContaining({ path: 'verdicts.spam' }));
  });

  it('413 for a body over 10 MB, and the runtime keeps answering', async () => {
    const huge = await h.api('/_local/email/inbound', {
      body: JSON.stringify({ raw: 'x'.repeat(11 * 1024 * 1024) }),
      key: null,
    });
    expect(huge.status).toBe(413);
    expect(huge.body.error).toMatchObject({ code: 'payload_too_large' });
    expect(huge.body.error.message).toMatch(/40 MB/);
    expect((await receive({})).status).toBe(400);
  });

  it('400 for JSON that is not an object, or not JSON', async () => {
    expect((await receive([1, 2])).status).toBe(400);
    expect((await h.api('/_local/email/inbound', { body: '{"raw": ', key: null })).status).toBe(400);
  });
});

describe('email at the provider boundary (DESIGN section 11)', () => {
  const fault = (body: Record<string, unknown>) => h.api('/_local/faults', { body, key: null });

  it('ambiguous SendRawEmail: exactly 1 email however often the backend retries, status unknown', async () => {
    const email = 'amb.mail@example.com';
    await fault({ address: email, fault: 'ambiguous', times: 1 });
    const send = () =>
      h.api('/v1/messages', {
        body: cardAlert({ customerId: 'cust-mail-amb', to: { email }, channel: 'email' }),
        headers: { 'idempotency-key': 'mail-ambiguous-1' },
      });

    const first = await send();
    const retries = await Promise.all([send(), send()]);

    expect([first.status, first.body.status]).toEqual([202, 'unknown']);
    for (const retry of retries) expect(retry.body).toEqual(first.body);
    expect(h.gateway.edges.outbox.list({ to: email })).toHaveLength(1);
    expect(
      h.gateway.edges.events
        .list({ type: 'message.unknown' })
        .filter((e) => (e.detail as { messageId?: string }).messageId === first.body.messageId),
    ).toHaveLength(1);
  });

  it('a reply by email the provider throttles fails the delivery (503), sends nothing, and is kept for the retry', async () => {
    const email = 'thr.mail@example.com';
    await emailedAlert('cust-mail-thr', email, 'txn-mail-thr');
    const before = h.gateway.edges.outbox.list({ to: email }).length;
    const deadLettered = h.gateway.edges.deadLetters.list().length;
    // HELP is answered by email; every try of this delivery is throttled.
    await fault({ address: email, fault: 'throttle', times: 3 });
    const messageId = `thr-${randomBytes(4).toString('hex')}@example.com`;
    const deliver = () => receive({ from: email, text: 'HELP', headers: { 'Message-ID': `<${messageId}>` } });

    const first = await deliver();
    // Lambda delivers it again after its backoff; inside the first delivery's lease it is told to wait.
    const tooSoon = await deliver();

    expect(first.status).toBe(503);
    expect(tooSoon.status).toBe(429);
    expect(h.gateway.edges.outbox.list({ to: email })).toHaveLength(before);
    const timeline = await conversation('cust-mail-thr');
    expect(timeline.messages.filter((m: { direction: string }) => m.direction === 'inbound')).toEqual([]);
    expect(h.gateway.edges.deadLetters.list()).toHaveLength(deadLettered);
  });
});
