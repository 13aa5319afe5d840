import { beforeEach, describe, expect, it } from 'vitest';
import { type AgentReplyDeps, replyToCustomer } from '../../functions/domain/agent-replies.ts';
import type { Customer, Message } from '../../functions/domain/model.ts';
import { type FakeSendDeps, makeTenant, sendDeps, tenantId } from './fakes.ts';

const tenant = makeTenant();
const customerId = 'cust-42';
const phone = '+12025550143';

let fakes: FakeSendDeps;
let deps: AgentReplyDeps;
let pushed: Message[];
let cleared: string[];

const seedCustomer = (overrides: Partial<Customer> = {}) =>
  fakes.customers.seed({ tenantId, customerId, phone, activeChannel: 'sms', ...overrides });

beforeEach(() => {
  fakes = sendDeps();
  pushed = [];
  cleared = [];
  deps = {
    ...fakes,
    getCustomer: (tenant, id) => fakes.customers.getCustomer(tenant, id),
    pushToConnectedChat: async (_customer, message) => {
      pushed.push(message);
      return 'ok';
    },
    clearFreeTextAttention: async (_tenant, id) => {
      cleared.push(id);
    },
  };
});

describe('agent replies (one outbound path)', () => {
  it.each([
    [
      'prefixes the brand name',
      { brandName: 'DB Cards' },
      'Your card is on its way.',
      'DB Cards: Your card is on its way.',
    ],
    ['falls back to the tenant name', {}, 'Your card is on its way.', 'Demo Bank: Your card is on its way.'],
    ['keeps a text that already starts with the brand', { brandName: 'DB Cards' }, 'db cards: hi', 'db cards: hi'],
  ])('an SMS reply %s', async (_case, overrides, body, sent) => {
    seedCustomer();

    await replyToCustomer(deps, { tenant: makeTenant(overrides), customerId, body, channel: 'sms' });

    expect(fakes.sms.sent.map((s) => s.body)).toEqual([sent]);
  });

  it('a chat reply is not prefixed (the chat page shows who it is)', async () => {
    seedCustomer({
      activeChannel: 'chat',
      chat: { sessionId: 's1', connectionId: 'c1', since: '2025-01-01T00:00:00Z' },
    });

    await replyToCustomer(deps, {
      tenant: makeTenant({ brandName: 'DB Cards' }),
      customerId,
      body: 'Hello',
      channel: 'auto',
    });

    expect(pushed.map((m) => m.body)).toEqual(['Hello']);
  });

  it('sends by SMS on the channel the customer last wrote on, stores it and emits message.sent', async () => {
    seedCustomer();

    const reply = await replyToCustomer(deps, {
      tenant,
      customerId,
      body: 'We have blocked the card.',
      channel: 'auto',
    });

    expect(reply).toMatchObject({ channel: 'sms', status: 'sent' });
    expect(fakes.sms.sent.map((s) => s.body)).toEqual(['Demo Bank: We have blocked the card.']);
    expect(await fakes.messages.getMessage(tenantId, reply.messageId)).toMatchObject({
      origin: 'agent',
      status: 'sent',
      segments: 1,
    });
    expect(fakes.events.types()).toEqual(['message.sent']);
    expect(cleared).toEqual([customerId]);
  });

  it("answers by email in the thread of the customer's latest mail, under its subject", async () => {
    // Prepare: the customer wrote by email, after an older email of theirs
    seedCustomer({ email: 'ana@example.com', activeChannel: 'email' });
    const mail = (id: string, at: string, thread: string): Message => ({
      messageId: id,
      tenantId,
      customerId,
      timelineId: `01JX${at.replace(/\D/g, '').padEnd(22, '0')}`,
      direction: 'inbound',
      channel: 'email',
      to: 'reply+x@reply.parley.test',
      from: 'ana@example.com',
      body: 'Is my card blocked?',
      subject: `Re: ${thread}`,
      emailThread: { inReplyTo: `<${thread}@mail.example>`, references: [`<${thread}@mail.example>`] },
      status: 'received',
      statusHistory: [],
      createdAt: at,
    });
    await fakes.messages.putMessage(mail('msg_older', '2025-06-01T10:00:00.000Z', 'older'));
    await fakes.messages.putMessage(mail('msg_latest', '2025-06-02T10:00:00.000Z', 'latest'));

    // Act
    const reply = await replyToCustomer(deps, { tenant, customerId, body: 'Yes, it is.', channel: 'auto' });

    // Assess
    expect(reply).toMatchObject({ channel: 'email', status: 'sent' });
    expect(fakes.email.sent).toEqual([
      expect.objectContaining({
        subject: 'Re: latest',
        thread: { inReplyTo: '<latest@mail.example>', references: ['<latest@mail.example>'] },
      }),
    ]);
    expect(await fakes.messages.getMessage(tenantId, reply.messageId)).toMatchObject({ inReplyTo: 'msg_latest' });
  });

  describe('with an Idempotency-Key', () => {
    it('answers a retry (a second click) with the first reply, replayed, and sends once', async () => {
      // Prepare
      seedCustomer();
      const input = {
        tenant,
        customerId,
        body: 'We have blocked the card.',
        channel: 'auto' as const,
        idempotencyKey: 'k1',
      };

      // Act
      const first = await replyToCustomer(deps, input);
      const again = await replyToCustomer(deps, input);

      // Assess
      expect(first.replayed).toBeUndefined();
      expect(again).toEqual({ ...first, replayed: true });
      expect(fakes.sms.sent).toHaveLength(1);
      expect(fakes.messages.allMessages()).toHaveLength(1);
      expect(fakes.events.types()).toEqual(['message.sent']);
    });

    it('releases the key when the reply was refused before any provider had it: a retry is refused alike, not 429', async () => {
      seedCustomer();
      const input = { tenant, customerId, body: 'Hello', channel: 'chat' as const, idempotencyKey: 'k4' };

      await expect(replyToCustomer(deps, input)).rejects.toMatchObject({ code: 'no_reachable_channel' });
      await expect(replyToCustomer(deps, input)).rejects.toMatchObject({ code: 'no_reachable_channel' });

      expect(fakes.messages.claims.size).toBe(0);
    });

    it('refuses another body under the same key with 409, sending nothing more', async () => {
      seedCustomer();
      await replyToCustomer(deps, { tenant, customerId, body: 'One', channel: 'auto', idempotencyKey: 'k2' });

      const other = replyToCustomer(deps, { tenant, customerId, body: 'Two', channel: 'auto', idempotencyKey: 'k2' });

      await expect(other).rejects.toMatchObject({ code: 'idempotency_conflict', status: 409 });
      expect(fakes.sms.sent.map((s) => s.body)).toEqual(['Demo Bank: One']);
    });

    it('answers 429 while the first is still going, and unknown (never resent) once its attempt died', async () => {
      // Prepare: a first attempt that claimed the key, then died before storing its message (the store is emptied)
      seedCustomer();
      fakes.sms.failNext('lost_answer');
      const input = { tenant, customerId, body: 'Hello', channel: 'sms' as const, idempotencyKey: 'k3' };
      const first = await replyToCustomer(deps, input);
      const stored = fakes.messages.allMessages();
      fakes.messages.messages.clear();

      // Act
      const during = replyToCustomer(deps, input);
      await expect(during).rejects.toMatchObject({ code: 'rate_limited' });
      fakes.clock.advance(60_000);
      const after = await replyToCustomer(deps, input);

      // Assess
      expect(stored).toHaveLength(1);
      expect(after).toMatchObject({ messageId: first.messageId, status: 'unknown', replayed: true });
      expect(fakes.sms.attempts).toHaveLength(1);
    });
  });

  it('refuses a reply over the 6-segment cap with 422 message_too_long, sending and storing nothing', async () => {
    seedCustomer();

    const refused = replyToCustomer(deps, { tenant, customerId, body: 'x'.repeat(11 * 153), channel: 'auto' });

    await expect(refused).rejects.toMatchObject({ code: 'message_too_long', status: 422 });
    expect(fakes.sms.attempts).toEqual([]);
    expect(fakes.messages.allMessages()).toEqual([]);
    expect(fakes.messages.claims.size).toBe(0);
  });

  it('records a reply the provider rejects as failed with message.failed, and answers 422', async () => {
    seedCustomer();
    fakes.sms.failNext('rejected');

    const rejected = replyToCustomer(deps, { tenant, customerId, body: 'Hello', channel: 'sms' });

    await expect(rejected).rejects.toMatchObject({ code: 'provider_rejected', status: 422 });
    expect(fakes.messages.allMessages()).toEqual([expect.objectContaining({ status: 'failed', origin: 'agent' })]);
    expect(fakes.events.types()).toEqual(['message.failed']);
  });

  it('refuses a reply to an opted-out number with 422 recipient_opted_out', async () => {
    seedCustomer({ consent: { sms: { status: 'opted_out', at: '2025-06-01T00:00:00.000Z', keyword: 'STOP' } } });

    const refused = replyToCustomer(deps, { tenant, customerId, body: 'Hello', channel: 'sms' });

    await expect(refused).rejects.toMatchObject({ code: 'recipient_opted_out' });
    expect(fakes.sms.attempts).toEqual([]);
  });

  it('answers unknown when the answer was lost, and keeps the message', async () => {
    seedCustomer();
    fakes.sms.failNext('lost_answer');

    const reply = await replyToCustomer(deps, { tenant, customerId, body: 'Hello', channel: 'sms' });

    expect(reply.status).toBe('unknown');
    expect(fakes.events.types()).toEqual(['message.unknown']);
    expect(fakes.messages.claims.size).toBe(1);
  });

  it('releases the claim when the provider provably did not take it, so nothing is half-recorded', async () => {
    seedCustomer();
    fakes.sms.failNext('unavailable', 3);

    const failed = replyToCustomer(deps, { tenant, customerId, body: 'Hello', channel: 'sms' });

    await expect(failed).rejects.toMatchObject({ code: 'provider_unavailable', status: 503 });
    expect(fakes.messages.claims.size).toBe(0);
    expect(fakes.messages.allMessages()).toEqual([]);
  });

  it('goes to the connected chat, and is readable by id', async () => {
    seedCustomer({ chat: { sessionId: 'chat_1', connectionId: 'conn-1', since: '2025-06-02T11:00:00.000Z' } });

    const reply = await replyToCustomer(deps, { tenant, customerId, body: 'Hi, Sam here', channel: 'auto' });

    expect(reply).toMatchObject({ channel: 'chat', status: 'sent' });
    expect(pushed.map((m) => m.body)).toEqual(['Hi, Sam here']);
    expect(fakes.sms.attempts).toEqual([]);
    expect(await fakes.messages.getMessage(tenantId, reply.messageId)).toMatchObject({ channel: 'chat' });
  });
});
