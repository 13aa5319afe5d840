import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cardAlert, type Harness, startHarness } from './harness.ts';

/**
 * Step-up confirmation by SMS (DESIGN section 16), as `npm start` runs it: an alert sent with `verify: "code"`,
 * answered from the emulated phone, the code read off the emulated SMS outbox and sent back.
 */
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ demoBackend: false });
});

afterAll(async () => {
  await h.close();
});

type Detail = Record<string, unknown>;
const text = (from: string, body: string) => h.api('/_local/sms/inbound', { body: { from, body }, key: null });
const textsTo = (phone: string) => h.gateway.edges.outbox.list({ to: phone }).map((e) => e.body);
const eventsFor = (type: string, customerId: string) =>
  h.gateway.edges.events
    .list({ type })
    .map((e) => e.detail as Detail)
    .filter((d) => d.customerId === customerId);
const codeIn = (body: string | undefined) => /\b(\d{6})\b/.exec(body ?? '')?.[1] ?? '';
const wrongCode = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

const verifiedAlert = async (customerId: string, phone: string, reference: string) => {
  const sent = await h.api('/v1/messages', {
    body: cardAlert({
      customerId,
      to: { phone },
      reference,
      prompt: { type: 'confirm', expiresInSeconds: 900, verify: 'code' },
    }),
  });
  expect(sent.status).toBe(202);
  return sent.body.messageId as string;
};

describe('step-up confirmation by SMS', () => {
  it('answers only after the right code: N, two wrong codes, then the right one', async () => {
    // Prepare
    const phone = '+12025550601';
    const alertId = await verifiedAlert('cust-su-1', phone, 'txn-su-1');

    // Act: the answer
    expect((await text(phone, 'N')).status).toBe(202);

    // Assess: a code by SMS, and nothing answered yet
    const codeSms = textsTo(phone).at(-1);
    expect(codeSms).toMatch(/^Demo Bank: to confirm, reply \d{6}\. The code is valid for 5 minutes/);
    const code = codeIn(codeSms);
    expect(eventsFor('prompt.answered', 'cust-su-1')).toEqual([]);

    // Act: two wrong codes, then the right one
    await text(phone, wrongCode(code));
    expect(textsTo(phone).at(-1)).toContain('2 tries left');
    await text(phone, wrongCode(wrongCode(code)));
    expect(textsTo(phone).at(-1)).toContain('1 try left');
    await text(phone, code);

    // Assess
    const answered = eventsFor('prompt.answered', 'cust-su-1');
    expect(answered).toHaveLength(1);
    expect(answered[0]).toMatchObject({
      promptMessageId: alertId,
      answer: 'no',
      reference: 'txn-su-1',
      channel: 'sms',
      verification: { method: 'code' },
    });
    const message = (await h.api(`/v1/messages/${alertId}`)).body;
    expect(message.prompt.verify).toBe('code');
    expect(message.audit.map((entry: { step: string }) => entry.step)).toEqual([
      'answer_received',
      'code_issued',
      'code_sent',
      'try',
      'try',
      'try',
      'completed',
    ]);
    expect(message.audit[0]).toMatchObject({ address: expect.stringMatching(/\*/), answer: 'no', raw: 'N' });
    // The code is in no stored message: neither the reply that carried it nor the customer's answer with it.
    const timeline = (await h.api('/v1/customers/cust-su-1/conversation?limit=50')).body.messages;
    for (const entry of timeline) expect(entry.body).not.toContain(code);
    expect(timeline.some((entry: { body: string }) => entry.body.includes('reply ******'))).toBe(true);
  });

  it('fails after three wrong codes with prompt.verification_failed, approving nothing', async () => {
    const phone = '+12025550602';
    const alertId = await verifiedAlert('cust-su-2', phone, 'txn-su-2');
    await text(phone, 'Y');
    const code = codeIn(textsTo(phone).at(-1));

    for (const attempt of [1, 2, 3]) await text(phone, String((Number(code) + attempt) % 1_000_000).padStart(6, '0'));
    await text(phone, code);

    expect(eventsFor('prompt.answered', 'cust-su-2')).toEqual([]);
    expect(eventsFor('prompt.verification_failed', 'cust-su-2')).toEqual([
      expect.objectContaining({ promptMessageId: alertId, reason: 'wrong_code', attempts: 3, reference: 'txn-su-2' }),
    ]);
    const message = (await h.api(`/v1/messages/${alertId}`)).body;
    expect(message.audit.at(-1)).toMatchObject({ step: 'failed', reason: 'wrong_code' });
    expect(message.answer).toBeUndefined();
  });

  it('changes nothing when a try is redelivered, and counts tries sent at once one by one', async () => {
    const phone = '+12025550603';
    await verifiedAlert('cust-su-3', phone, 'txn-su-3');
    await text(phone, 'Y');
    const code = codeIn(textsTo(phone).at(-1));
    const wrong = wrongCode(code);

    // The same inbound message twice (SNS redelivers), then five different wrong tries at once
    const redelivered = { from: phone, body: wrong, inboundMessageId: 'su3-try-1' };
    await h.api('/_local/sms/inbound', { body: redelivered, key: null });
    await h.api('/_local/sms/inbound', { body: redelivered, key: null });
    const sentBefore = textsTo(phone).length;
    await Promise.all(
      [2, 3, 4, 5, 6].map((n) =>
        h.api('/_local/sms/inbound', {
          body: { from: phone, body: String((Number(code) + n) % 1_000_000).padStart(6, '0') },
          key: null,
        }),
      ),
    );
    await text(phone, code);

    // One counted try from the redelivered pair; of the five at once, two more count and the rest come after the end
    const tries = (
      await h.api(`/v1/messages/${eventsFor('prompt.verification_failed', 'cust-su-3')[0]?.promptMessageId}`)
    ).body.audit.filter((entry: { step: string; counted?: boolean }) => entry.step === 'try' && entry.counted);
    expect(tries).toHaveLength(3);
    expect(eventsFor('prompt.verification_failed', 'cust-su-3')).toHaveLength(1);
    expect(eventsFor('prompt.answered', 'cust-su-3')).toEqual([]);
    // Only the two counted tries are answered ("1 try left", then the failure); the rest, and the code after the end,
    // get nothing.
    // (The right code after the end is free text: it gets the tenant's acknowledgement, not a verification reply.)
    const answers = textsTo(phone)
      .slice(sentBefore)
      .filter((body) => !body.includes('we have your message'));
    expect(answers).toHaveLength(2);
    expect(answers).toEqual(
      expect.arrayContaining([expect.stringContaining('1 try left'), expect.stringContaining('no tries are left')]),
    );
  });

  it('lets STOP win over a pending verification, and a new answer restart it with a new code', async () => {
    const phone = '+12025550604';
    await verifiedAlert('cust-su-4', phone, 'txn-su-4');
    await text(phone, 'Y');
    const first = codeIn(textsTo(phone).at(-1));
    await text(phone, 'N');
    const second = codeIn(textsTo(phone).at(-1));
    expect(second).not.toBe('');

    await text(phone, first);
    expect(eventsFor('prompt.answered', 'cust-su-4')).toEqual([]);
    await text(phone, second);
    expect(eventsFor('prompt.answered', 'cust-su-4')).toEqual([expect.objectContaining({ answer: 'no' })]);

    const phone2 = '+12025550605';
    await verifiedAlert('cust-su-5', phone2, 'txn-su-5');
    await text(phone2, 'Y');
    const code = codeIn(textsTo(phone2).at(-1));
    await text(phone2, 'STOP');
    await text(phone2, code);
    expect(eventsFor('prompt.answered', 'cust-su-5')).toEqual([]);
    expect(eventsFor('consent.changed', 'cust-su-5')).toEqual([expect.objectContaining({ status: 'opted_out' })]);
  });

  it('answers at once, as before, a prompt that did not ask for a code', async () => {
    const phone = '+12025550606';
    await h.api('/v1/messages', { body: cardAlert({ customerId: 'cust-su-6', to: { phone }, reference: 'txn-su-6' }) });
    await text(phone, 'Y');
    expect(eventsFor('prompt.answered', 'cust-su-6')).toEqual([
      expect.not.objectContaining({ verification: expect.anything() }),
    ]);
  });

  it('sends a new code on the retry when the provider provably refused the first (throttled), never none', async () => {
    // Prepare: the alert goes, then the number is throttled for the three tries of the code reply
    const phone = '+12025550608';
    await verifiedAlert('cust-su-8', phone, 'txn-su-8');
    await h.api('/_local/faults', { body: { address: phone, fault: 'throttle', times: 3 }, key: null });
    const answer = { from: phone, body: 'N', inboundMessageId: 'su8-answer' };

    // Act: the answer fails (no code went); Lambda's retry comes after the delivery's lease (30 s, by the clock)
    const first = await h.api('/_local/sms/inbound', { body: answer, key: null });
    await h.api('/_local/clock', { body: { advanceSeconds: 31 }, key: null });
    const retry = await h.api('/_local/sms/inbound', { body: answer, key: null });

    // Assess: exactly one code SMS, and it completes the answer
    expect(first.status).toBe(503);
    expect(retry.status).toBe(202);
    const codes = textsTo(phone).filter((body) => /to confirm, reply \d{6}/.test(body));
    expect(codes).toHaveLength(1);
    await text(phone, codeIn(codes[0]));
    expect(eventsFor('prompt.answered', 'cust-su-8')).toEqual([expect.objectContaining({ answer: 'no' })]);
  });

  // Last: it moves the local clock forward for the rest of this file.
  it('refuses the code after 5 minutes (POST /_local/clock), with prompt.verification_failed expired', async () => {
    const phone = '+12025550607';
    const alertId = await verifiedAlert('cust-su-7', phone, 'txn-su-7');
    await text(phone, 'N');
    const code = codeIn(textsTo(phone).at(-1));
    const before = (await h.api('/_local/clock', { key: null })).body;

    const moved = await h.api('/_local/clock', { body: { advanceSeconds: 301 }, key: null });
    await text(phone, code);

    expect(moved.status).toBe(200);
    expect(Date.parse(moved.body.now) - Date.parse(before.now)).toBeGreaterThanOrEqual(301_000);
    expect(eventsFor('prompt.answered', 'cust-su-7')).toEqual([]);
    expect(eventsFor('prompt.verification_failed', 'cust-su-7')).toEqual([
      expect.objectContaining({ promptMessageId: alertId, reason: 'expired' }),
    ]);
    expect(textsTo(phone).at(-1)).toMatch(/expired/i);
    const back = await h.api('/_local/clock', { body: { advanceSeconds: -10 }, key: null });
    expect(back.status).toBe(400);
    expect(back.body.error.message).toBe('The local clock only moves forward');
    expect((await h.api('/_local/clock', { body: { advanceSeconds: 1, to: moved.body.now }, key: null })).status).toBe(
      400,
    );
  });
});
