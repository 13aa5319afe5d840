import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cardAlert, type Harness, startHarness } from './harness.ts';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ logLevel: 'DEBUG' });
});

afterAll(async () => {
  await h.close();
});

/** Collects everything written to stdout and stderr while `action` runs. */
const capture = async (action: () => Promise<void>): Promise<string> => {
  const chunks: string[] = [];
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const record = (chunk: unknown) => {
    chunks.push(String(chunk));
    return true;
  };
  process.stdout.write = record as typeof process.stdout.write;
  process.stderr.write = record as typeof process.stderr.write;
  try {
    await action();
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
  return chunks.join('');
};

describe('logs', () => {
  it('hold no full phone number, email address or message body for a whole send, replay and refusal', async () => {
    const phone = '+12025550143';
    const email = 'ana.secret@example.com';
    const body = cardAlert({ to: { phone, email } });
    const logs = await capture(async () => {
      expect((await h.api('/v1/messages', { body, headers: { 'idempotency-key': 'log-1' } })).status).toBe(202);
      expect((await h.api('/v1/messages', { body, headers: { 'idempotency-key': 'log-1' } })).status).toBe(202);
      h.gateway.edges.faults.set(phone, 'reject');
      expect((await h.api('/v1/messages', { body })).status).toBe(422);
      expect((await h.api('/v1/messages', { body: cardAlert({ to: { phone: '+1202555' } }) })).status).toBe(400);
    });

    expect(logs).toContain('send handled');
    expect(logs).toContain('+1202***0143');
    expect(logs).not.toContain(phone);
    expect(logs).not.toContain('2025550143');
    expect(logs).not.toContain(email);
    expect(logs).not.toContain('$420.00 at ACME');
    expect(logs).not.toContain('Reply Y if this was you');
  });

  it('hold no step-up code, full number or body through a whole verification, and no delivery report detail', async () => {
    const phone = '+12025550144';
    let code = '';
    const logs = await capture(async () => {
      const sent = await h.api('/v1/messages', {
        body: cardAlert({
          customerId: 'cust-log-step-up',
          to: { phone },
          prompt: { type: 'confirm', expiresInSeconds: 900, verify: 'code' },
        }),
      });
      expect(sent.status).toBe(202);
      await h.api('/_local/sms/inbound', { body: { from: phone, body: 'N' }, key: null });
      code = /reply (\d{6})/.exec(h.gateway.edges.outbox.list({ to: phone }).at(-1)?.body ?? '')?.[1] ?? '';
      expect(code).not.toBe('');
      await h.api('/_local/sms/inbound', {
        body: { from: phone, body: '000000' === code ? '111111' : '000000' },
        key: null,
      });
      await h.api('/_local/sms/inbound', { body: { from: phone, body: code }, key: null });
    });

    expect(h.gateway.edges.events.list({ type: 'prompt.answered' }).at(-1)?.detail).toMatchObject({
      customerId: 'cust-log-step-up',
      verification: { method: 'code' },
    });
    expect(logs).toContain('inbound sms handled');
    expect(logs).not.toContain(code);
    // Can fail: the code reply is a real SMS with the code in it, so a log of any body or send input would show it.
    expect(logs).not.toContain(phone);
    expect(logs).not.toContain('2025550144');
    expect(logs).not.toContain('to confirm, reply');
  });
});
