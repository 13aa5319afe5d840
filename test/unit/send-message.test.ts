import { beforeEach, describe, expect, it } from 'vitest';
import { RecentValues } from '../../functions/adapters/ttl-cache.ts';
import { sendMessageRequestSchema } from '../../functions/domain/contact-schemas.ts';
import { ParleyError, ProviderUnavailableError } from '../../functions/domain/errors.ts';
import { fingerprint, newMessageId } from '../../functions/domain/ids.ts';
import type { Message, MessageClaim, Template } from '../../functions/domain/model.ts';
import { parseWith } from '../../functions/domain/schemas.ts';
import { sendMessage } from '../../functions/domain/send-message.ts';
import { type FakeSendDeps, makeTenant, sendDeps, tenantId } from './fakes.ts';

const tenant = makeTenant();
const phone = '+12025550143';
const email = 'ana@example.com';
const key = 'txn-987-alert';
const messageIdForKey = newMessageId(tenantId, key);

const cardAlert: Template = {
  name: 'card-alert',
  sms: 'Card {{last4}}: {{amount}} at {{merchant}}. Reply Y if this was you, N if not.',
  email: {
    subject: 'Card {{last4}} was used at {{merchant}}',
    text: 'Your card {{last4}} paid {{amount}} at {{merchant}}.',
    html: '<p>Your card {{last4}} paid {{amount}} at <b>{{merchant}}</b>.</p>',
  },
  updatedAt: '2025-01-01T00:00:00.000Z',
};

const data = { last4: '4242', amount: '$420.00', merchant: 'ACME' };

/** A send request as the handler hands it to the domain: parsed, defaults filled in. */
const request = (overrides: Record<string, unknown> = {}) =>
  parseWith(sendMessageRequestSchema, {
    customerId: 'cust-42',
    to: { phone },
    template: 'card-alert',
    data,
    prompt: { type: 'confirm' },
    reference: 'txn-987',
    ...overrides,
  });

const literal = (body: Record<string, unknown>, overrides: Record<string, unknown> = {}) => {
  const { template: _t, data: _d, ...rest } = request(overrides);
  return parseWith(sendMessageRequestSchema, { ...rest, body });
};

const errorOf = async (promise: Promise<unknown>): Promise<ParleyError> => {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ParleyError) return error;
    throw error;
  }
  throw new Error('expected the send to fail');
};

const onlyMessage = (deps: FakeSendDeps): Message => {
  const messages = deps.messages.allMessages();
  expect(messages).toHaveLength(1);
  return messages[0] as Message;
};

/** A claim as an earlier attempt with the same key and body would have written it. */
const earlierClaim = (deps: FakeSendDeps, overrides: Partial<MessageClaim> = {}): MessageClaim => ({
  tenantId,
  messageId: messageIdForKey,
  customerId: 'cust-42',
  timelineId: '01JX0000000000000000000000',
  requestHash: fingerprint(request()),
  leaseUntil: deps.clock.now() + 20_000,
  createdAt: new Date(deps.clock.now() - 10_000).toISOString(),
  ...overrides,
});

describe('send message', () => {
  let deps: FakeSendDeps;

  beforeEach(() => {
    deps = sendDeps();
    deps.putTemplate(tenantId, cardAlert);
  });

  describe('a first send', () => {
    it('claims, sends one SMS, stores the message as sent and answers 202', async () => {
      // Act
      const result = await sendMessage(deps, tenant, request(), key);

      // Assess
      expect(result).toEqual({
        statusCode: 202,
        body: { messageId: messageIdForKey, customerId: 'cust-42', channel: 'sms', status: 'sent', segments: 1 },
        replayed: false,
        messageId: messageIdForKey,
        channel: 'sms',
        status: 'sent',
      });
      expect(deps.sms.sent).toEqual([
        {
          to: phone,
          from: tenant.smsNumber,
          body: 'Card 4242: $420.00 at ACME. Reply Y if this was you, N if not.',
          messageId: messageIdForKey,
          tenantId,
        },
      ]);
      expect(deps.email.attempts).toEqual([]);
      expect(deps.messages.calls).toEqual(['claimMessage', 'putMessage']);
      expect(deps.messages.claims.get(`${tenantId}/${messageIdForKey}`)).toMatchObject({
        messageId: messageIdForKey,
        customerId: 'cust-42',
        requestHash: fingerprint(request()),
        leaseUntil: deps.clock.now() + deps.claimLeaseMs,
      });
    });

    it('stores the message with its provider id, status history, prompt, reference and response', async () => {
      // Prepare
      const now = deps.clock.now();

      // Act
      const result = await sendMessage(deps, tenant, request(), key);

      // Assess
      const message = onlyMessage(deps);
      expect(message).toMatchObject({
        messageId: messageIdForKey,
        tenantId,
        customerId: 'cust-42',
        direction: 'outbound',
        channel: 'sms',
        to: phone,
        from: tenant.smsNumber,
        status: 'sent',
        providerMessageId: 'sns-1',
        template: 'card-alert',
        urgency: 'normal',
        category: 'transactional',
        segments: 1,
        encoding: 'GSM-7',
        reference: 'txn-987',
        prompt: { type: 'confirm', expiresAt: new Date(now + 3600_000).toISOString() },
        response: { statusCode: 202, body: result.body },
      });
      expect(message.statusHistory.map((s) => s.status)).toEqual(['sending', 'sent']);
      expect(await deps.messages.getMessage(tenantId, messageIdForKey)).toEqual(message);
    });

    it('creates the customer from `to` and points the address at them', async () => {
      // Act
      await sendMessage(deps, tenant, request({ to: { phone, email } }), key);

      // Assess
      expect(await deps.customers.getCustomer(tenantId, 'cust-42')).toMatchObject({ phone, email, version: 1 });
      expect(deps.customers.customerIdByAddress(tenantId, 'sms', phone)).toBe('cust-42');
      expect(deps.customers.customerIdByAddress(tenantId, 'email', email)).toBe('cust-42');
    });

    it('moves the address pointer when `to` gives a known customer a new number', async () => {
      // Prepare
      const oldPhone = '+12025550199';
      deps.customers.seed({ tenantId, customerId: 'cust-42', phone: oldPhone });
      await deps.customers.putAddress(tenantId, 'sms', oldPhone, 'cust-42');

      // Act
      await sendMessage(deps, tenant, request(), key);

      // Assess
      expect(deps.sms.sent[0]?.to).toBe(phone);
      expect(deps.customers.customerIdByAddress(tenantId, 'sms', phone)).toBe('cust-42');
      expect(deps.customers.customerIdByAddress(tenantId, 'sms', oldPhone)).toBeUndefined();
    });

    it('reaches a known customer without `to`', async () => {
      deps.customers.seed({ tenantId, customerId: 'cust-42', phone });

      const result = await sendMessage(deps, tenant, request({ to: undefined }), key);

      expect(result.statusCode).toBe(202);
      expect(deps.sms.sent.map((s) => s.to)).toEqual([phone]);
    });

    it('emits message.sent with the message id, reference and channel', async () => {
      await sendMessage(deps, tenant, request(), key);

      expect(deps.events.events).toEqual([
        {
          type: 'message.sent',
          detail: {
            tenantId,
            customerId: 'cust-42',
            occurredAt: new Date(deps.clock.now()).toISOString(),
            messageId: messageIdForKey,
            reference: 'txn-987',
            channel: 'sms',
            providerMessageId: 'sns-1',
          },
        },
      ]);
    });

    it('stores the options and expiry of a choice prompt', async () => {
      // Prepare
      const options = [
        { key: '1', value: 'block_card' },
        { key: '2', value: 'keep_card' },
      ];

      // Act
      await sendMessage(deps, tenant, request({ prompt: { type: 'choice', options, expiresInSeconds: 900 } }), key);

      // Assess
      expect(onlyMessage(deps).prompt).toEqual({
        type: 'choice',
        options,
        expiresAt: new Date(deps.clock.now() + 900_000).toISOString(),
      });
    });

    it('sends a literal body without a template', async () => {
      const result = await sendMessage(deps, tenant, literal({ sms: 'Your code is 123456' }), key);

      expect(result.statusCode).toBe(202);
      expect(deps.sms.sent.map((s) => s.body)).toEqual(['Your code is 123456']);
      expect(onlyMessage(deps).template).toBeUndefined();
    });

    it('answers with the fallback reason when SMS is opted out and auto falls back to email', async () => {
      // Prepare
      deps.customers.seed({
        tenantId,
        customerId: 'cust-42',
        phone,
        email,
        consent: { sms: { status: 'opted_out', at: '2025-05-01T00:00:00.000Z', keyword: 'STOP' } },
      });

      // Act
      const result = await sendMessage(deps, tenant, request({ to: undefined }), key);

      // Assess
      expect(result.body).toMatchObject({ channel: 'email', status: 'sent', fallbackReason: 'sms_opted_out' });
      expect(deps.sms.attempts).toEqual([]);
      expect(deps.email.sent.map((e) => e.to)).toEqual([email]);
      expect(onlyMessage(deps).fallbackReason).toBe('sms_opted_out');
    });
  });

  describe('a prompt', () => {
    it('opens on the customer in the same write, with its reference and a summary', async () => {
      await sendMessage(deps, tenant, request(), key);

      const customer = await deps.customers.getCustomer(tenantId, 'cust-42');
      expect(customer?.openPrompts[messageIdForKey]).toMatchObject({
        type: 'confirm',
        reference: 'txn-987',
        summary: expect.stringContaining('$420.00'),
        createdAt: onlyMessage(deps).createdAt,
      });
      expect(deps.customers.upserts).toBe(1);
    });

    it('keeps the customer item small: crowded-out and long-expired prompts are removed in one extra write', async () => {
      // Prepare: five live prompts and one that expired more than a week ago
      const now = deps.clock.now();
      const prompt = (id: string, createdAt: number, expiresAt: number) => ({
        messageId: id,
        timelineId: '01JX0000000000000000000000',
        type: 'confirm' as const,
        expiresAt: new Date(expiresAt).toISOString(),
        summary: id,
        createdAt: new Date(createdAt).toISOString(),
      });
      const openPrompts = Object.fromEntries(
        [
          prompt('msg_old_expired', now - 30 * 86_400_000, now - 8 * 86_400_000),
          ...[1, 2, 3, 4, 5].map((i) => prompt(`msg_live_${i}`, now - i * 60_000, now + 3_600_000)),
        ].map((p) => [p.messageId, p]),
      );
      deps.customers.seed({ tenantId, customerId: 'cust-42', phone, openPrompts });

      // Act
      await sendMessage(deps, tenant, request(), key);

      // Assess: the new prompt and the four newest live ones stay
      const open = Object.keys((await deps.customers.getCustomer(tenantId, 'cust-42'))?.openPrompts ?? {}).sort();
      expect(open).toEqual([messageIdForKey, 'msg_live_1', 'msg_live_2', 'msg_live_3', 'msg_live_4'].sort());
    });

    it('crowds out the oldest prompt in its own write once the container has seen the customer', async () => {
      // Prepare: a container that remembers what it saw
      deps.openPromptMemory = new RecentValues(60_000, () => deps.clock.now());
      const keys = Array.from({ length: 8 }, (_, i) => `alert-${i}`);

      // Act: eight prompts to one customer, none answered
      for (const k of keys) {
        deps.clock.advance(1_000);
        await sendMessage(deps, tenant, request({ reference: k }), k);
      }

      // Assess: the five newest are open, and no send needed a write of its own to close the older ones
      const open = Object.keys((await deps.customers.getCustomer(tenantId, 'cust-42'))?.openPrompts ?? {}).sort();
      expect(open).toEqual(
        keys
          .slice(3)
          .map((k) => newMessageId(tenantId, k))
          .sort(),
      );
      expect(deps.customers.promptDrops).toBe(0);
      expect(deps.customers.upserts).toBe(8);
    });

    it('closes crowded-out prompts in one more write when it has not seen the customer (a cold container)', async () => {
      // Prepare: the same eight prompts, each sent by a fresh container
      const keys = Array.from({ length: 8 }, (_, i) => `alert-${i}`);

      // Act
      for (const k of keys) {
        deps.clock.advance(1_000);
        deps.openPromptMemory = new RecentValues(60_000, () => deps.clock.now());
        await sendMessage(deps, tenant, request({ reference: k }), k);
      }

      // Assess: the same five stay open; sends 6, 7 and 8 each closed one in a write of its own
      const open = Object.keys((await deps.customers.getCustomer(tenantId, 'cust-42'))?.openPrompts ?? {}).sort();
      expect(open).toEqual(
        keys
          .slice(3)
          .map((k) => newMessageId(tenantId, k))
          .sort(),
      );
      expect(deps.customers.promptDrops).toBe(3);
    });

    it('closes again when the provider rejects the message', async () => {
      deps.sms.failNext('rejected');

      await sendMessage(deps, tenant, request(), key);

      expect((await deps.customers.getCustomer(tenantId, 'cust-42'))?.openPrompts).toEqual({});
    });
  });

  describe('email', () => {
    it("sends with the tenant's emailFrom and a Reply-To from replyAddress, escaping only the html", async () => {
      // Prepare
      const merchant = 'Tom & Jerry <Shop>';

      // Act
      const result = await sendMessage(
        deps,
        tenant,
        request({ to: { email }, channel: 'email', data: { ...data, merchant } }),
        key,
      );

      // Assess
      expect(result).toMatchObject({ statusCode: 202, channel: 'email' });
      expect(deps.email.sent).toEqual([
        {
          to: email,
          from: 'alerts@demo-bank.example',
          replyTo: deps.replyAddress(tenantId, messageIdForKey),
          subject: 'Card 4242 was used at Tom & Jerry <Shop>',
          text: 'Your card 4242 paid $420.00 at Tom & Jerry <Shop>.',
          html: '<p>Your card 4242 paid $420.00 at <b>Tom &amp; Jerry &lt;Shop&gt;</b>.</p>',
          unsubscribe: deps.unsubscribeLinks(tenantId, email, messageIdForKey),
          messageId: messageIdForKey,
          tenantId,
        },
      ]);
      expect(deps.sms.attempts).toEqual([]);
    });

    describe('answering a message (inReplyTo)', () => {
      const customerMail: Message = {
        messageId: 'msg_01JX0000000000000000000001',
        tenantId,
        customerId: 'cust-42',
        timelineId: '01JX0000000000000000000001',
        direction: 'inbound',
        channel: 'email',
        to: 'reply+token@reply.parley.test',
        from: email,
        body: 'N',
        subject: 'RE: Card 4242 was used at ACME',
        emailThread: { inReplyTo: '<ana-1@mail.example>', references: ['<alert@ses>', '<ana-1@mail.example>'] },
        status: 'received',
        statusHistory: [],
        createdAt: '2025-06-02T12:00:00.000Z',
      };

      /** As the inbound pipeline leaves it: claimed by its id, stored in the timeline. */
      const store = async (message: Message) => {
        await deps.messages.claimMessage({
          tenantId,
          messageId: message.messageId,
          customerId: message.customerId,
          timelineId: message.timelineId,
          requestHash: 'inbound',
          leaseUntil: 0,
          createdAt: message.createdAt,
        });
        await deps.messages.putMessage(message);
      };

      it("joins the customer's mail thread, under its subject", async () => {
        // Prepare
        await store(customerMail);

        // Act
        await sendMessage(
          deps,
          tenant,
          request({ to: { email }, channel: 'email', prompt: undefined, inReplyTo: customerMail.messageId }),
          key,
        );

        // Assess
        expect(deps.email.sent).toHaveLength(1);
        expect(deps.email.sent[0]).toMatchObject({
          subject: 'RE: Card 4242 was used at ACME',
          thread: customerMail.emailThread,
        });
        const sent = deps.messages.allMessages().find((m) => m.messageId === messageIdForKey);
        expect(sent).toMatchObject({ inReplyTo: customerMail.messageId, emailThread: customerMail.emailThread });
      });

      it('names the message it answers but sends no thread by SMS', async () => {
        // Prepare
        await store(customerMail);

        // Act
        await sendMessage(deps, tenant, request({ channel: 'sms', inReplyTo: customerMail.messageId }), key);

        // Assess
        expect(deps.email.sent).toEqual([]);
        const sent = deps.messages.allMessages().find((m) => m.messageId === messageIdForKey);
        expect(sent).toMatchObject({ channel: 'sms', inReplyTo: customerMail.messageId });
        expect(sent?.emailThread).toBeUndefined();
      });

      it.each([
        ['no message', 'msg_01JX0000000000000000000009', 'cust-42'],
        ["another customer's message", customerMail.messageId, 'cust-other'],
      ])('refuses %s before writing anything', async (_case, inReplyTo, customerId) => {
        // Prepare
        await store(customerMail);

        // Act
        const error = await errorOf(sendMessage(deps, tenant, request({ customerId, to: { email }, inReplyTo }), key));

        // Assess
        expect(error.code).toBe('invalid_request');
        expect(deps.customers.upserts).toBe(0);
        expect(deps.messages.allMessages()).toHaveLength(1);
        expect(deps.email.sent).toEqual([]);
        expect(deps.sms.attempts).toEqual([]);
      });
    });

    it('stores the email with its subject and no segment count', async () => {
      const result = await sendMessage(deps, tenant, request({ to: { email } }), key);

      const message = onlyMessage(deps);
      expect(message).toMatchObject({
        channel: 'email',
        to: email,
        from: tenant.emailFrom,
        subject: 'Card 4242 was used at ACME',
        status: 'sent',
        providerMessageId: 'ses-1',
      });
      expect(result.body).not.toHaveProperty('segments');
    });

    it('is no_reachable_channel for a tenant without emailFrom, and releases the claim', async () => {
      const error = await errorOf(
        sendMessage(deps, makeTenant({ emailFrom: undefined }), request({ to: { email } }), key),
      );

      expect(error.code).toBe('no_reachable_channel');
      expect(deps.email.attempts).toEqual([]);
      expect(deps.messages.claims.size).toBe(0);
    });
  });

  describe('a replay', () => {
    it('answers the first response again with replayed: true and sends nothing', async () => {
      // Prepare
      const first = await sendMessage(deps, tenant, request(), key);

      // Act
      const replay = await sendMessage(deps, tenant, request(), key);

      // Assess
      expect(replay).toEqual({ ...first, replayed: true });
      expect(deps.sms.attempts).toHaveLength(1);
      expect(deps.events.events).toHaveLength(1);
      expect(deps.messages.allMessages()).toHaveLength(1);
    });

    it('is an idempotency_conflict for the same key with a different body, sending nothing', async () => {
      // Prepare
      await sendMessage(deps, tenant, request(), key);

      // Act
      const error = await errorOf(sendMessage(deps, tenant, request({ data: { ...data, amount: '$1.00' } }), key));

      // Assess
      expect(error).toMatchObject({ code: 'idempotency_conflict', status: 409 });
      expect(deps.sms.attempts).toHaveLength(1);
      expect(onlyMessage(deps).body).toContain('$420.00');
    });

    it('is an idempotency_conflict for the same key used for another customer', async () => {
      await sendMessage(deps, tenant, request(), key);

      const error = await errorOf(sendMessage(deps, tenant, request({ customerId: 'cust-43' }), key));

      expect(error.code).toBe('idempotency_conflict');
      expect(deps.sms.attempts).toHaveLength(1);
    });

    it('keeps keys of different tenants apart', async () => {
      deps.putTemplate('other-bank', cardAlert);
      await sendMessage(deps, tenant, request(), key);

      const other = await sendMessage(deps, makeTenant({ tenantId: 'other-bank' }), request(), key);

      expect(other.replayed).toBe(false);
      expect(other.messageId).not.toBe(messageIdForKey);
      expect(deps.sms.sent).toHaveLength(2);
    });

    it('waits for a duplicate still in flight and replays its answer', async () => {
      // Prepare: the first attempt holds a live claim and stores its answer after two polls
      const claim = earlierClaim(deps);
      await deps.messages.claimMessage(claim);
      const firstAnswer = { messageId: messageIdForKey, customerId: 'cust-42', channel: 'sms', status: 'sent' };
      deps.sleep = async (ms) => {
        deps.slept.push(ms);
        if (deps.slept.length === 2) {
          await deps.messages.putMessage({
            messageId: messageIdForKey,
            tenantId,
            customerId: 'cust-42',
            timelineId: claim.timelineId,
            direction: 'outbound',
            channel: 'sms',
            to: phone,
            from: tenant.smsNumber,
            body: 'Card 4242: $420.00 at ACME.',
            status: 'sent',
            statusHistory: [{ status: 'sent', at: claim.createdAt }],
            createdAt: claim.createdAt,
            response: { statusCode: 202, body: firstAnswer },
          });
        }
      };

      // Act
      const result = await sendMessage(deps, tenant, request(), key);

      // Assess
      expect(result).toEqual({
        statusCode: 202,
        body: firstAnswer,
        replayed: true,
        messageId: messageIdForKey,
        channel: 'sms',
        status: 'sent',
      });
      expect(deps.slept).toEqual([deps.replayPoll.intervalMs, deps.replayPoll.intervalMs]);
      expect(deps.sms.attempts).toEqual([]);
      expect(deps.messages.calls).not.toContain('renewClaim');
    });

    it('takes over a claim whose lease expired and records the message as unknown, never sending it', async () => {
      // Prepare: the first attempt died holding the claim: it may have reached the provider
      const claim = earlierClaim(deps, { leaseUntil: deps.clock.now() - 1 });
      await deps.messages.claimMessage(claim);

      // Act
      const result = await sendMessage(deps, tenant, request(), key);

      // Assess
      expect(result).toMatchObject({ statusCode: 202, replayed: false, messageId: messageIdForKey });
      expect(result.body).toMatchObject({ status: 'unknown' });
      expect(deps.sms.attempts).toHaveLength(0);
      expect(onlyMessage(deps)).toMatchObject({
        messageId: messageIdForKey,
        timelineId: claim.timelineId,
        status: 'unknown',
      });
      expect(deps.events.types()).toEqual(['message.unknown']);
      expect(deps.messages.claims.get(`${tenantId}/${messageIdForKey}`)?.leaseUntil).toBe(
        deps.clock.now() + deps.claimLeaseMs,
      );
      expect(deps.slept).toEqual([]);
    });

    it('takes over when the lease of the first attempt runs out while the duplicate polls', async () => {
      // Prepare: a live claim with 150 ms left; each poll waits 100 ms
      const claim = earlierClaim(deps, { leaseUntil: deps.clock.now() + 150 });
      await deps.messages.claimMessage(claim);

      // Act
      const result = await sendMessage(deps, tenant, request(), key);

      // Assess
      expect(deps.slept).toEqual([100, 100]);
      expect(result).toMatchObject({ statusCode: 202, replayed: false, messageId: messageIdForKey });
      expect(deps.sms.attempts).toHaveLength(0);
      expect(onlyMessage(deps)).toMatchObject({ timelineId: claim.timelineId, status: 'unknown' });
    });

    it('never sends beside a first attempt that still holds a live lease, however long it polls', async () => {
      // Prepare: a live claim with a long lease and no answer ever stored
      const claim = earlierClaim(deps, { leaseUntil: deps.clock.now() + 30_000 });
      await deps.messages.claimMessage(claim);

      // Act
      const error = await errorOf(sendMessage(deps, tenant, request(), key));

      // Assess
      expect(error.code).toBe('rate_limited');
      expect(deps.sms.attempts).toEqual([]);
      expect(deps.messages.claims.get(`${tenantId}/${messageIdForKey}`)?.leaseUntil).toBe(claim.leaseUntil);
    });

    it('claims afresh when the first attempt released its claim while the duplicate waited', async () => {
      // Prepare: a live claim that disappears at the first poll (the first attempt failed and released it)
      await deps.messages.claimMessage(earlierClaim(deps));
      deps.sleep = async (ms) => {
        deps.slept.push(ms);
        const live = await deps.messages.getClaim(tenantId, messageIdForKey);
        if (live) await deps.messages.releaseClaim(live);
      };

      // Act
      const result = await sendMessage(deps, tenant, request(), key);

      // Assess
      expect(result).toMatchObject({ statusCode: 202, replayed: false, messageId: messageIdForKey });
      expect(deps.sms.sent).toHaveLength(1);
    });
  });

  describe('when the provider rejects the message', () => {
    it('stores it as failed with the reason, emits message.failed and answers 422 provider_rejected', async () => {
      // Prepare
      deps.sms.failNext('rejected');

      // Act
      const result = await sendMessage(deps, tenant, request(), key);

      // Assess
      const reason = 'The provider rejected the message: InvalidParameter';
      expect(result).toEqual({
        statusCode: 422,
        body: { error: { code: 'provider_rejected', message: reason } },
        replayed: false,
        messageId: messageIdForKey,
        channel: 'sms',
        status: 'failed',
      });
      const message = onlyMessage(deps);
      expect(message).toMatchObject({
        status: 'failed',
        failure: { code: 'provider_rejected', reason },
        response: { statusCode: 422, body: result.body },
      });
      expect(message.providerMessageId).toBeUndefined();
      expect(message.statusHistory.at(-1)).toMatchObject({ status: 'failed', reason });
      expect(deps.events.events).toEqual([
        {
          type: 'message.failed',
          detail: expect.objectContaining({
            messageId: messageIdForKey,
            reference: 'txn-987',
            channel: 'sms',
            reason: 'rejected',
            description: reason,
          }),
        },
      ]);
    });

    it('replays the same 422 on a retry without trying again', async () => {
      // Prepare
      deps.sms.failNext('rejected');
      const first = await sendMessage(deps, tenant, request(), key);

      // Act
      const retry = await sendMessage(deps, tenant, request(), key);

      // Assess
      expect(retry).toEqual({ ...first, replayed: true });
      expect(deps.sms.attempts).toHaveLength(1);
      expect(deps.events.types()).toEqual(['message.failed']);
    });
  });

  describe('when the outcome at the provider is not known (DESIGN section 11)', () => {
    it('records unknown, emits message.unknown, answers 202 unknown and never sends it again', async () => {
      // Prepare: the provider took it and the answer was lost
      deps.sms.failNext('lost_answer');

      // Act
      const first = await sendMessage(deps, tenant, request(), key);
      const retries = [];
      for (let i = 0; i < 3; i++) retries.push(await sendMessage(deps, tenant, request(), key));

      // Assess
      expect(first).toMatchObject({ statusCode: 202, status: 'unknown', replayed: false });
      expect(first.body).toMatchObject({ messageId: messageIdForKey, status: 'unknown' });
      for (const retry of retries) expect(retry).toMatchObject({ statusCode: 202, body: first.body, replayed: true });
      expect(deps.sms.attempts).toHaveLength(1);
      expect(deps.sms.sent).toHaveLength(1);
      expect(onlyMessage(deps).statusHistory.map((s) => s.status)).toEqual(['sending', 'unknown']);
      expect(deps.events.types()).toEqual(['message.unknown']);
    });

    it('keeps the prompt open: the customer may have the message and answer it', async () => {
      deps.sms.failNext('unknown');

      await sendMessage(deps, tenant, request({ prompt: { type: 'confirm', expiresInSeconds: 900 } }), key);

      const customer = await deps.customers.getCustomer(tenantId, 'cust-42');
      expect(Object.keys(customer?.openPrompts ?? {})).toEqual([messageIdForKey]);
    });

    it('never sends again after a crash between the provider call and storing the message', async () => {
      // Prepare: the message went, then storing it failed (the function died there)
      const putMessage = deps.messages.putMessage.bind(deps.messages);
      let crash = true;
      deps.messages.putMessage = async (message) => {
        if (crash) {
          crash = false;
          throw new Error('the function crashed');
        }
        return putMessage(message);
      };
      await expect(sendMessage(deps, tenant, request(), key)).rejects.toThrow('the function crashed');

      // Act: retries before and after the lease ran out
      const during = await errorOf(sendMessage(deps, tenant, request(), key));
      deps.clock.advance(deps.claimLeaseMs + 1);
      const after = await sendMessage(deps, tenant, request(), key);
      const replay = await sendMessage(deps, tenant, request(), key);

      // Assess
      expect(during).toMatchObject({ code: 'rate_limited', status: 429 });
      expect((during as ParleyError).retryAfterSeconds).toBeGreaterThan(0);
      expect(after.body).toMatchObject({ status: 'unknown' });
      expect(replay).toMatchObject({ replayed: true, body: after.body });
      expect(deps.sms.sent).toHaveLength(1);
    });

    it('refuses ill-formed text before it can reach a sender, even from a template stored before checks existed', async () => {
      deps.putTemplate(tenantId, { name: 'legacy', sms: 'emoji cut \ud83d', updatedAt: '2025-01-01T00:00:00.000Z' });

      const error = await errorOf(sendMessage(deps, tenant, request({ template: 'legacy', data: {} }), key));

      expect(error).toMatchObject({ code: 'invalid_request', status: 400 });
      expect(deps.sms.attempts).toHaveLength(0);
      expect(deps.messages.claims.size).toBe(0);
    });
  });

  describe('when the provider is unavailable', () => {
    it.each(['unavailable', 'error'] as const)(
      'throws provider_unavailable, stores nothing and releases the claim (%s)',
      async (failure) => {
        // Prepare: provably not taken on every try
        deps.sms.failNext(failure, 3);

        // Act
        const error = await errorOf(sendMessage(deps, tenant, request(), key));

        // Assess
        expect(error).toBeInstanceOf(ProviderUnavailableError);
        expect(error).toMatchObject({ code: 'provider_unavailable', status: 503 });
        expect(deps.messages.claims.size).toBe(0);
        expect(deps.messages.allMessages()).toEqual([]);
        expect(deps.events.events).toEqual([]);
      },
    );

    it('keeps the underlying error as the cause of a plain failure', async () => {
      deps.sms.failNext('error');

      const error = await errorOf(sendMessage(deps, tenant, request(), key));

      expect((error.cause as Error).message).toBe('serializer failed');
    });

    it('retries a throttled call within the request and sends once', async () => {
      // Prepare: throttled twice, then taken
      deps.sms.failNext('unavailable', 2);

      // Act
      const result = await sendMessage(deps, tenant, request(), key);

      // Assess
      expect(result).toMatchObject({ statusCode: 202, status: 'sent' });
      expect(deps.sms.attempts).toHaveLength(3);
      expect(deps.sms.sent).toHaveLength(1);
      expect(deps.slept).toHaveLength(2);
    });

    it('lets a retry with the same key go through and send', async () => {
      // Prepare
      deps.sms.failNext('unavailable', 3);
      await errorOf(sendMessage(deps, tenant, request(), key));

      // Act
      const retry = await sendMessage(deps, tenant, request(), key);

      // Assess
      expect(retry).toMatchObject({ statusCode: 202, replayed: false, messageId: messageIdForKey });
      expect(deps.sms.attempts).toHaveLength(4);
      expect(deps.sms.sent).toHaveLength(1);
      expect(onlyMessage(deps).status).toBe('sent');
    });
  });

  describe('bad input', () => {
    it('is unknown_template with no claim written and nothing sent', async () => {
      const error = await errorOf(sendMessage(deps, tenant, request({ template: 'no-such-template' }), key));

      expect(error).toMatchObject({ code: 'unknown_template', status: 422 });
      expect(error.message).toContain('no-such-template');
      expect(deps.messages.calls).toEqual([]);
      expect(deps.customers.upserts).toBe(0);
      expect(deps.sms.attempts).toEqual([]);
    });

    it('is invalid_request naming a missing template variable, before any write', async () => {
      const { merchant: _, ...withoutMerchant } = data;

      const error = await errorOf(sendMessage(deps, tenant, request({ data: withoutMerchant }), key));

      expect(error).toMatchObject({ code: 'invalid_request', details: [{ path: 'data.merchant' }] });
      expect(deps.messages.calls).toEqual([]);
      expect(deps.customers.upserts).toBe(0);
      expect(deps.sms.attempts).toEqual([]);
    });

    it('is no_reachable_channel for an unknown customer without `to`, releasing the claim', async () => {
      const error = await errorOf(sendMessage(deps, tenant, request({ to: undefined }), key));

      expect(error).toMatchObject({ code: 'no_reachable_channel', status: 422 });
      expect(error.message).toContain('cust-42');
      expect(deps.messages.calls).toEqual(['claimMessage', 'releaseClaim']);
      expect(deps.messages.claims.size).toBe(0);
      expect(await deps.customers.getCustomer(tenantId, 'cust-42')).toBeUndefined();
      expect(deps.sms.attempts).toEqual([]);
    });

    it('is recipient_opted_out for an explicit SMS to an opted-out number, releasing the claim', async () => {
      deps.customers.seed({
        tenantId,
        customerId: 'cust-42',
        phone,
        consent: { sms: { status: 'opted_out', at: '2025-05-01T00:00:00.000Z', keyword: 'STOP' } },
      });

      const error = await errorOf(sendMessage(deps, tenant, request({ channel: 'sms' }), key));

      expect(error.code).toBe('recipient_opted_out');
      expect(deps.messages.claims.size).toBe(0);
      expect(deps.sms.attempts).toEqual([]);
    });

    it('is message_too_long for an SMS over the segment limit, releasing the claim', async () => {
      // Prepare: 919 GSM-7 characters are 7 segments of 153
      const body = { sms: 'a'.repeat(919) };

      // Act
      const error = await errorOf(sendMessage(deps, tenant, literal(body), key));

      // Assess
      expect(error).toMatchObject({ code: 'message_too_long', status: 422 });
      expect(error.message).toContain('7 segments');
      expect(deps.messages.claims.size).toBe(0);
      expect(deps.messages.allMessages()).toEqual([]);
      expect(deps.sms.attempts).toEqual([]);
    });

    it('sends an SMS of exactly the segment limit', async () => {
      const result = await sendMessage(deps, tenant, literal({ sms: 'a'.repeat(918) }), key);

      expect(result.body).toMatchObject({ status: 'sent', segments: 6 });
    });

    it('does not apply the SMS limit when the message goes by email', async () => {
      const body = { sms: 'a'.repeat(919), email: { subject: 'Statement', text: 'Long statement' } };

      const result = await sendMessage(deps, tenant, literal(body, { to: { phone, email }, channel: 'email' }), key);

      expect(result).toMatchObject({ statusCode: 202, channel: 'email' });
    });
  });

  describe('when publishing the event fails', () => {
    it('still stores the sent message; the error surfaces and a retry replays without resending', async () => {
      // Prepare
      deps.events.failWith = new Error('event bus unavailable');

      // Act
      const outcome = await sendMessage(deps, tenant, request(), key).then(
        () => 'resolved',
        (error: Error) => error.message,
      );
      deps.events.failWith = undefined;
      const retry = await sendMessage(deps, tenant, request(), key);

      // Assess
      expect(outcome).toBe('event bus unavailable');
      expect(onlyMessage(deps)).toMatchObject({ status: 'sent', providerMessageId: 'sns-1' });
      expect(retry).toMatchObject({ statusCode: 202, replayed: true, messageId: messageIdForKey });
      expect(deps.sms.attempts).toHaveLength(1);
    });
  });

  describe('without an idempotency key', () => {
    it('sends two identical requests twice, under different message ids', async () => {
      // Act
      const first = await sendMessage(deps, tenant, request());
      const second = await sendMessage(deps, tenant, request());

      // Assess
      expect(first.replayed).toBe(false);
      expect(second.replayed).toBe(false);
      expect(second.messageId).not.toBe(first.messageId);
      expect(first.messageId).toMatch(/^msg_[0-9A-HJKMNP-TV-Z]{26}$/);
      expect(deps.sms.sent).toHaveLength(2);
      expect(
        deps.messages
          .allMessages()
          .map((m) => m.messageId)
          .sort(),
      ).toEqual([first.messageId, second.messageId].sort());
    });
  });
});
