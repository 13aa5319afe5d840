import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ParleyError } from '../../functions/domain/errors.ts';
import { newMessageId } from '../../functions/domain/ids.ts';
import {
  handleInbound,
  InboundInProgressError,
  type InboundMessage,
  unknownSenderId,
} from '../../functions/domain/inbound.ts';
import type { Customer, Message, OpenPrompt, Tenant } from '../../functions/domain/model.ts';
import { type FakeInboundDeps, inboundDeps, makeTenant, tenantId } from './fakes.ts';

const phone = '+12025550143';
const customerId = 'cust-42';
const helpText = 'Demo Bank alerts: help at demo-bank.example/help or 1-800-555-0100. Reply STOP to opt out.';

const tenant: Tenant = makeTenant({
  helpText,
  keywords: { BAL: {}, STMT: { autoReplyTemplate: 'stmt-reply' } },
});

const inboundMessageIdOf = (inboundId: string) => newMessageId(tenantId, `inbound:${inboundId}`);

let deps: FakeInboundDeps;
let sequence = 0;

/** An inbound SMS as the handler hands it over: a fresh provider id unless told otherwise. */
const sms = (body: string, overrides: Partial<InboundMessage> = {}): InboundMessage => ({
  tenant,
  channel: 'sms',
  from: phone,
  to: tenant.smsNumber,
  body,
  inboundMessageId: `in-${++sequence}`,
  receivedAt: new Date(deps.clock.now()).toISOString(),
  ...overrides,
});

/** What the customer received, without the ids that travel with each provider call. */
const contentOf = (sent: { to: string; from: string; body: string }[]) =>
  sent.map(({ to, from, body }) => ({ to, from, body }));

/** A customer Parley already sends to: the number points at them. */
const knownCustomer = (overrides: Partial<Customer> = {}): Customer => {
  deps.customers.addresses.set(`${tenantId}/sms/${phone}`, customerId);
  return deps.customers.seed({ tenantId, customerId, phone, ...overrides });
};

interface PromptSpec {
  messageId: string;
  createdAt?: string;
  expiresAt?: string;
  type?: OpenPrompt['type'];
  options?: OpenPrompt['options'];
  summary?: string;
}

/** An outbound prompt as a send leaves it: the claimed, sent message and the prompt open on the customer. */
const sentPrompt = async (spec: PromptSpec): Promise<{ prompt: OpenPrompt; providerMessageId: string }> => {
  const createdAt = spec.createdAt ?? '2025-06-02T11:00:00.000Z';
  const timelineId = `01JWTL${spec.messageId.toUpperCase().padEnd(20, '0')}`;
  const prompt: OpenPrompt = {
    messageId: spec.messageId,
    type: spec.type ?? 'confirm',
    ...(spec.options && { options: spec.options }),
    expiresAt: spec.expiresAt ?? '2025-06-02T13:00:00.000Z',
    reference: `ref-${spec.messageId}`,
    summary: spec.summary ?? `Card 4242 alert ${spec.messageId}`,
    createdAt,
  };
  const providerMessageId = `sns-out-${spec.messageId}`;
  await deps.messages.claimMessage({
    tenantId,
    messageId: prompt.messageId,
    customerId,
    timelineId,
    requestHash: 'send',
    leaseUntil: Date.parse(createdAt) + 30_000,
    createdAt,
  });
  await deps.messages.putMessage({
    messageId: prompt.messageId,
    tenantId,
    customerId,
    timelineId,
    direction: 'outbound',
    channel: 'sms',
    to: phone,
    from: tenant.smsNumber,
    body: prompt.summary,
    status: 'sent',
    statusHistory: [{ status: 'sent', at: createdAt }],
    providerMessageId,
    createdAt,
  });
  const stored = deps.customers.customers.get(`${tenantId}/${customerId}`);
  if (!stored) throw new Error('seed the customer first');
  stored.openPrompts[prompt.messageId] = prompt;
  return { prompt, providerMessageId };
};

const customer = async (id = customerId): Promise<Customer | undefined> => deps.customers.getCustomer(tenantId, id);

const inboundMessages = (): Message[] => deps.messages.allMessages().filter((m) => m.direction === 'inbound');

/** Auto-replies Parley stored in the conversation, oldest first. */
const replies = (): Message[] =>
  deps.messages
    .allMessages()
    .filter((m) => m.direction === 'outbound' && m.inReplyTo !== undefined)
    .sort((a, b) => (a.timelineId < b.timelineId ? -1 : 1));

const sentBodies = () => deps.sms.sent.map((s) => s.body);

describe('inbound SMS', () => {
  beforeEach(() => {
    deps = inboundDeps();
    deps.putTemplate(tenantId, {
      name: 'stmt-reply',
      sms: 'Demo Bank: your statement is ready in the app.',
      updatedAt: '2025-01-01T00:00:00.000Z',
    });
  });

  describe('opt-out and opt-in', () => {
    it('confirms a second STOP too, but announces consent.changed only for the first (the status changed once)', async () => {
      // Prepare
      knownCustomer();
      await handleInbound(deps, sms('STOP'));
      deps.clock.advance(60_000);

      // Act
      await handleInbound(deps, sms('STOP'));

      // Assess
      expect(sentBodies()).toHaveLength(2);
      expect(deps.events.events.filter((e) => e.type === 'consent.changed')).toHaveLength(1);
    });

    it('records consent on the address before it claims the inbound message', async () => {
      // Prepare
      knownCustomer();
      const setConsent = vi.spyOn(deps.customers, 'setAddressConsent');
      const claim = vi.spyOn(deps.messages, 'claimMessage');

      // Act
      await handleInbound(deps, sms('STOP'));

      // Assess
      expect(setConsent).toHaveBeenCalledTimes(1);
      const consentOrder = setConsent.mock.invocationCallOrder[0] ?? Number.POSITIVE_INFINITY;
      const claimOrder = claim.mock.invocationCallOrder[0] ?? Number.NEGATIVE_INFINITY;
      expect(consentOrder).toBeLessThan(claimOrder);
    });

    it('keeps the opt-out on the address even when the message store fails right after', async () => {
      // Prepare
      knownCustomer();
      const inbound = sms('stop please');
      vi.spyOn(deps.messages, 'claimMessage').mockRejectedValue(new Error('ProvisionedThroughputExceededException'));

      // Act
      const handling = handleInbound(deps, inbound);

      // Assess
      await expect(handling).rejects.toThrow('ProvisionedThroughputExceededException');
      expect(await deps.customers.getAddress(tenantId, 'sms', phone)).toEqual({
        customerId,
        customerIds: [customerId],
        consent: { status: 'opted_out', at: inbound.receivedAt, keyword: 'STOP' },
      });
      expect(deps.sms.attempts).toEqual([]);
    });

    it('STOP opts out: consent on address and customer, one confirmation, consent.changed, effect opted_out', async () => {
      // Prepare
      knownCustomer();
      const inbound = sms('Stop.');
      const consent = { status: 'opted_out', at: inbound.receivedAt, keyword: 'STOP' };

      // Act
      const outcome = await handleInbound(deps, inbound);

      // Assess
      const messageId = inboundMessageIdOf(inbound.inboundMessageId);
      expect(outcome).toEqual({
        status: 'processed',
        messageId,
        customerId,
        effect: { type: 'opted_out', keyword: 'STOP' },
      });
      expect((await deps.customers.getAddress(tenantId, 'sms', phone))?.consent).toEqual(consent);
      expect((await customer())?.consent.sms).toEqual(consent);
      expect(contentOf(deps.sms.sent)).toEqual([
        {
          to: phone,
          from: tenant.smsNumber,
          body: 'Demo Bank: you are unsubscribed and will get no more messages. Reply START to resubscribe.',
        },
      ]);
      expect(deps.events.events).toEqual([
        {
          type: 'consent.changed',
          detail: {
            tenantId,
            customerId,
            occurredAt: inbound.receivedAt,
            messageId,
            channel: 'sms',
            status: 'opted_out',
            keyword: 'STOP',
          },
        },
      ]);
      expect(inboundMessages()).toEqual([
        expect.objectContaining({
          messageId,
          customerId,
          direction: 'inbound',
          from: phone,
          to: tenant.smsNumber,
          body: 'Stop.',
          status: 'received',
          inboundMessageId: inbound.inboundMessageId,
          effect: { type: 'opted_out', keyword: 'STOP' },
        }),
      ]);
      expect(deps.attention.marks).toEqual([]);
    });

    it('stores the confirmation in the conversation as a sent reply to the inbound message', async () => {
      // Prepare
      knownCustomer();
      const inbound = sms('UNSUBSCRIBE');

      // Act
      await handleInbound(deps, inbound);

      // Assess
      expect(replies()).toEqual([
        expect.objectContaining({
          customerId,
          direction: 'outbound',
          channel: 'sms',
          to: phone,
          from: tenant.smsNumber,
          status: 'sent',
          providerMessageId: 'sns-1',
          inReplyTo: inboundMessageIdOf(inbound.inboundMessageId),
          body: expect.stringContaining('you are unsubscribed'),
        }),
      ]);
    });

    it('START opts back in after STOP, with its own confirmation and consent.changed', async () => {
      // Prepare
      knownCustomer();
      await handleInbound(deps, sms('STOP'));
      deps.clock.advance(60_000);
      const start = sms('start');

      // Act
      const outcome = await handleInbound(deps, start);

      // Assess
      const consent = { status: 'opted_in', at: start.receivedAt, keyword: 'START' };
      expect(outcome.effect).toEqual({ type: 'opted_in', keyword: 'START' });
      expect((await deps.customers.getAddress(tenantId, 'sms', phone))?.consent).toEqual(consent);
      expect((await customer())?.consent.sms).toEqual(consent);
      expect(sentBodies()).toEqual([
        'Demo Bank: you are unsubscribed and will get no more messages. Reply START to resubscribe.',
        'Demo Bank: you are subscribed again. Reply HELP for help, STOP to opt out.',
      ]);
      expect(deps.events.events.map((e) => [e.type, e.detail.status, e.detail.keyword])).toEqual([
        ['consent.changed', 'opted_out', 'STOP'],
        ['consent.changed', 'opted_in', 'START'],
      ]);
    });

    it('opts out on "Cancel my order" (first word CANCEL) even with a prompt open', async () => {
      // Prepare
      knownCustomer();
      const { prompt } = await sentPrompt({ messageId: 'msg_a' });

      // Act
      const outcome = await handleInbound(deps, sms('Cancel my order'));

      // Assess
      expect(outcome.effect).toEqual({ type: 'opted_out', keyword: 'CANCEL' });
      expect((await customer())?.openPrompts[prompt.messageId]).toEqual(prompt);
      expect(deps.events.types()).toEqual(['consent.changed']);
    });

    it('keeps the later START when the earlier STOP is redelivered late', async () => {
      // Prepare
      knownCustomer();
      const stop = sms('STOP');
      await handleInbound(deps, stop);
      deps.clock.advance(60_000);
      const start = sms('START');
      await handleInbound(deps, start);
      deps.clock.advance(60_000);

      // Act
      const late = await handleInbound(deps, stop);

      // Assess
      const optedIn = { status: 'opted_in', at: start.receivedAt, keyword: 'START' };
      expect(stop.receivedAt < start.receivedAt).toBe(true);
      expect(late.status).toBe('duplicate');
      expect((await deps.customers.getAddress(tenantId, 'sms', phone))?.consent).toEqual(optedIn);
      expect((await customer())?.consent.sms).toEqual(optedIn);
      expect(deps.events.types()).toEqual(['consent.changed', 'consent.changed']);
    });
  });

  describe('HELP', () => {
    it("replies with the tenant's help text and emits nothing", async () => {
      // Prepare
      knownCustomer();

      // Act
      const outcome = await handleInbound(deps, sms(' Help! '));

      // Assess
      expect(outcome.effect).toEqual({ type: 'help', keyword: 'HELP' });
      expect(contentOf(deps.sms.sent)).toEqual([{ to: phone, from: tenant.smsNumber, body: helpText }]);
      expect(deps.events.events).toEqual([]);
      expect(deps.attention.marks).toEqual([]);
      expect(inboundMessages()).toHaveLength(1);
    });

    it('replies with a default help text naming the tenant when it has none', async () => {
      // Prepare
      knownCustomer();
      const { helpText: _none, ...withoutHelp } = tenant;

      // Act
      await handleInbound(deps, sms('INFO', { tenant: withoutHelp }));

      // Assess
      expect(sentBodies()).toEqual([
        'Demo Bank: for help, reply here or write to alerts@demo-bank.example. Msg&data rates may apply. ' +
          'Reply STOP to opt out, START to opt back in.',
      ]);
    });

    it('names the brand, not the tenant name, in the default help text when the tenant has one', async () => {
      // Prepare
      knownCustomer();
      const { helpText: _none, ...withoutHelp } = tenant;

      // Act
      await handleInbound(deps, sms('HELP', { tenant: { ...withoutHelp, brandName: 'DB Cards' } }));

      // Assess
      expect(sentBodies()).toEqual([expect.stringMatching(/^DB Cards: for help, reply here or write to alerts@/)]);
    });

    it('names the sender address of a tenant whose emailFrom has a display name, and no email for one without', async () => {
      // Prepare
      knownCustomer();
      const { helpText: _none, emailFrom: _from, ...bare } = tenant;

      // Act
      await handleInbound(deps, sms('HELP', { tenant: { ...bare, emailFrom: 'Demo Bank <care@demo-bank.example>' } }));
      await handleInbound(deps, sms('HELP', { tenant: bare }));

      // Assess
      expect(sentBodies()).toEqual([
        expect.stringContaining('write to care@demo-bank.example. Msg&data rates may apply.'),
        'Demo Bank: for help, reply here. Msg&data rates may apply. Reply STOP to opt out, START to opt back in.',
      ]);
    });
  });

  describe('a number Parley has never seen', () => {
    const stranger = '+14155550199';
    const strangerId = unknownSenderId('sms', stranger);

    it('handles STOP: consent on the address and on a new unknown-sender conversation', async () => {
      // Prepare
      const inbound = sms('STOP', { from: stranger });

      // Act
      const outcome = await handleInbound(deps, inbound);

      // Assess
      const consent = { status: 'opted_out', at: inbound.receivedAt, keyword: 'STOP' };
      expect(strangerId).toBe('sms:+14155550199');
      expect(outcome).toMatchObject({ status: 'processed', customerId: strangerId });
      expect(await deps.customers.getAddress(tenantId, 'sms', stranger)).toEqual({ consent });
      expect(await customer(strangerId)).toMatchObject({
        customerId: strangerId,
        phone: stranger,
        unknownSender: true,
        consent: { sms: consent },
      });
      expect(contentOf(deps.sms.sent)).toEqual([
        expect.objectContaining({ to: stranger, body: expect.stringContaining('you are unsubscribed') }),
      ]);
      expect(deps.events.events[0]?.detail.customerId).toBe(strangerId);
    });

    it('handles HELP with the help text', async () => {
      // Act
      const outcome = await handleInbound(deps, sms('help', { from: stranger }));

      // Assess
      expect(outcome).toMatchObject({ customerId: strangerId, effect: { type: 'help', keyword: 'HELP' } });
      expect(contentOf(deps.sms.sent)).toEqual([{ to: stranger, from: tenant.smsNumber, body: helpText }]);
    });

    it('stores its free text under sms:<number>, flagged unknownSender, for an agent to see', async () => {
      // Prepare
      const inbound = sms('Who is this? I never signed up', { from: stranger });

      // Act
      await handleInbound(deps, inbound);

      // Assess
      expect(inboundMessages()).toEqual([
        expect.objectContaining({ customerId: strangerId, from: stranger, effect: { type: 'free_text' } }),
      ]);
      expect(await customer(strangerId)).toMatchObject({
        phone: stranger,
        unknownSender: true,
        lastInboundAt: inbound.receivedAt,
        activeChannel: 'sms',
      });
      expect(deps.events.types()).toEqual(['message.received']);
      expect(deps.events.events[0]?.detail.customerId).toBe(strangerId);
      expect(deps.attention.entries.get(`${tenantId}/${strangerId}`)).toMatchObject({ reason: 'free_text' });
      expect(deps.sms.attempts).toEqual([]);
    });
  });

  describe('prompt answers', () => {
    it('records the answer: prompt.answered with the prompt, answer, raw text, channel and reference', async () => {
      // Prepare
      knownCustomer();
      const { prompt } = await sentPrompt({ messageId: 'msg_a' });
      const inbound = sms(' y. ');

      // Act
      const outcome = await handleInbound(deps, inbound);

      // Assess
      const messageId = inboundMessageIdOf(inbound.inboundMessageId);
      expect(outcome.effect).toEqual({ type: 'prompt_answered', promptMessageId: 'msg_a', answer: 'yes' });
      expect(deps.events.events).toEqual([
        {
          type: 'prompt.answered',
          detail: {
            tenantId,
            customerId,
            occurredAt: inbound.receivedAt,
            messageId,
            promptMessageId: prompt.messageId,
            reference: 'ref-msg_a',
            raw: ' y. ',
            channel: 'sms',
            answer: 'yes',
          },
        },
      ]);
      expect(deps.sms.attempts).toEqual([]);
      expect(deps.attention.marks).toEqual([]);
    });

    it('moves the answered prompt from openPrompts to promptAnswers', async () => {
      // Prepare
      knownCustomer();
      await sentPrompt({ messageId: 'msg_a', type: 'choice', options: [{ key: 'A', value: 'approve' }] });
      const inbound = sms('a');

      // Act
      await handleInbound(deps, inbound);

      // Assess
      const after = await customer();
      expect(after?.openPrompts).toEqual({});
      expect(after?.promptAnswers).toEqual({
        msg_a: {
          answer: 'approve',
          raw: 'a',
          at: inbound.receivedAt,
          channel: 'sms',
          messageId: inboundMessageIdOf(inbound.inboundMessageId),
          reference: 'ref-msg_a',
        },
      });
      expect(after?.version).toBe(2);
    });

    it('tells a second answer to the same prompt it was already answered, and emits nothing more', async () => {
      // Prepare
      knownCustomer();
      const { providerMessageId } = await sentPrompt({ messageId: 'msg_a' });
      await handleInbound(deps, sms('Y', { answering: { providerMessageId: providerMessageId } }));
      const firstAnswer = (await customer())?.promptAnswers.msg_a;

      // Act
      const outcome = await handleInbound(deps, sms('N', { answering: { providerMessageId: providerMessageId } }));

      // Assess
      expect(outcome.effect).toEqual({ type: 'prompt_already_answered', promptMessageId: 'msg_a' });
      expect(sentBodies()).toEqual(['Demo Bank: you have already answered this request.']);
      expect(deps.events.types()).toEqual(['prompt.answered']);
      expect((await customer())?.promptAnswers.msg_a).toEqual(firstAnswer);
      expect(deps.attention.marks).toEqual([]);
    });

    it('answers the prompt named by previousPublishedMessageId when two are open', async () => {
      // Prepare
      knownCustomer();
      const older = await sentPrompt({ messageId: 'msg_a', createdAt: '2025-06-02T10:00:00.000Z' });
      await sentPrompt({ messageId: 'msg_b', createdAt: '2025-06-02T11:00:00.000Z' });

      // Act
      const outcome = await handleInbound(
        deps,
        sms('no', { answering: { providerMessageId: older.providerMessageId } }),
      );

      // Assess
      expect(outcome.effect).toEqual({ type: 'prompt_answered', promptMessageId: 'msg_a', answer: 'no' });
      const after = await customer();
      expect(Object.keys(after?.openPrompts ?? {})).toEqual(['msg_b']);
      expect(Object.keys(after?.promptAnswers ?? {})).toEqual(['msg_a']);
      expect(deps.sms.attempts).toEqual([]);
    });

    it('asks which request a bare Y is for when two are open, then answers the first listed on "1"', async () => {
      // Prepare
      knownCustomer();
      await sentPrompt({
        messageId: 'msg_a',
        createdAt: '2025-06-02T10:00:00.000Z',
        summary: 'Card 4242: $12 at Cafe',
      });
      await sentPrompt({
        messageId: 'msg_b',
        createdAt: '2025-06-02T11:00:00.000Z',
        summary: 'Card 4242: $420 at ACME',
      });
      const bareYes = sms('Y');

      // Act
      const asked = await handleInbound(deps, bareYes);
      const askedState = await customer();
      deps.clock.advance(30_000);
      const resolved = await handleInbound(deps, sms('1'));

      // Assess
      expect(asked.effect).toEqual({ type: 'prompt_question', candidates: ['msg_b', 'msg_a'] });
      expect(askedState?.pendingQuestion).toEqual({
        answerText: 'Y',
        candidates: ['msg_b', 'msg_a'],
        askedAt: bareYes.receivedAt,
      });
      expect(sentBodies()).toEqual([
        'Demo Bank: which request is your "Y" for? Reply 1 for "Card 4242: $420 at ACME"; ' +
          'Reply 2 for "Card 4242: $12 at Cafe".',
      ]);
      expect(resolved.effect).toEqual({ type: 'prompt_answered', promptMessageId: 'msg_b', answer: 'yes' });
      const after = await customer();
      expect(after?.pendingQuestion).toBeUndefined();
      expect(Object.keys(after?.openPrompts ?? {})).toEqual(['msg_a']);
      expect(after?.promptAnswers.msg_b).toMatchObject({ answer: 'yes', raw: '1' });
      expect(deps.events.events).toEqual([
        expect.objectContaining({
          type: 'prompt.answered',
          detail: expect.objectContaining({ promptMessageId: 'msg_b', answer: 'yes', raw: '1' }),
        }),
      ]);
    });

    it('tells a late reply the request has expired and emits prompt.expired', async () => {
      // Prepare
      knownCustomer();
      const { prompt } = await sentPrompt({ messageId: 'msg_a', expiresAt: '2025-06-02T11:30:00.000Z' });
      const late = sms('yes');

      // Act
      const outcome = await handleInbound(deps, late);

      // Assess
      expect(outcome.effect).toEqual({ type: 'prompt_expired', promptMessageId: 'msg_a' });
      expect(sentBodies()).toEqual([
        'Demo Bank: this request has expired, so your answer was not recorded. Reply HELP for help.',
      ]);
      expect(deps.events.events).toEqual([
        {
          type: 'prompt.expired',
          detail: {
            tenantId,
            customerId,
            occurredAt: late.receivedAt,
            messageId: inboundMessageIdOf(late.inboundMessageId),
            promptMessageId: prompt.messageId,
            reference: 'ref-msg_a',
            raw: 'yes',
            channel: 'sms',
          },
        },
      ]);
      const after = await customer();
      expect(after?.promptAnswers).toEqual({});
      expect(after?.openPrompts.msg_a).toEqual(prompt);
    });

    it('hints at the keys when a reply looks like an answer but fits no option', async () => {
      // Prepare
      knownCustomer();
      await sentPrompt({
        messageId: 'msg_a',
        type: 'choice',
        options: [
          { key: '1', value: 'pay_now' },
          { key: '2', value: 'pay_later' },
        ],
      });

      // Act
      const outcome = await handleInbound(deps, sms('3'));

      // Assess
      expect(outcome.effect).toEqual({ type: 'prompt_hint', promptMessageId: 'msg_a' });
      expect(sentBodies()).toEqual(['Demo Bank: Please reply 1 or 2.']);
      expect(deps.events.events).toEqual([]);
      expect(Object.keys((await customer())?.openPrompts ?? {})).toEqual(['msg_a']);
    });

    it('drops prompts expired beyond their keeping time and answers beyond theirs, keeping the rest', async () => {
      // Prepare
      const day = 24 * 3600 * 1000;
      const now = deps.clock.now();
      knownCustomer({
        promptAnswers: {
          msg_old_answer: {
            answer: 'yes',
            raw: 'Y',
            at: new Date(now - 31 * day).toISOString(),
            channel: 'sms',
            messageId: 'x',
          },
          msg_recent_answer: {
            answer: 'no',
            raw: 'N',
            at: new Date(now - day).toISOString(),
            channel: 'sms',
            messageId: 'y',
          },
        },
      });
      await sentPrompt({ messageId: 'msg_stale', expiresAt: new Date(now - 8 * day).toISOString() });
      await sentPrompt({ messageId: 'msg_late', expiresAt: new Date(now - 2 * day).toISOString() });

      // Act
      await handleInbound(deps, sms('Thanks for the heads up'));

      // Assess
      const after = await customer();
      expect(Object.keys(after?.openPrompts ?? {})).toEqual(['msg_late']);
      expect(Object.keys(after?.promptAnswers ?? {})).toEqual(['msg_recent_answer']);
    });

    it('keeps the newest five answers only: answering a sixth prompt drops the oldest answer', async () => {
      // Prepare: five answers from the last few days, and one prompt open
      const hour = 3600 * 1000;
      const now = deps.clock.now();
      const answered = (i: number) => ({
        answer: 'yes',
        raw: 'Y',
        at: new Date(now - (10 - i) * hour).toISOString(),
        channel: 'sms' as const,
        messageId: `in_${i}`,
      });
      knownCustomer({
        promptAnswers: Object.fromEntries([1, 2, 3, 4, 5].map((i) => [`msg_answered_${i}`, answered(i)])),
      });
      await sentPrompt({ messageId: 'msg_new' });

      // Act
      await handleInbound(deps, sms('Y'));

      // Assess
      const after = await customer();
      expect(Object.keys(after?.promptAnswers ?? {}).sort()).toEqual(
        ['msg_answered_2', 'msg_answered_3', 'msg_answered_4', 'msg_answered_5', 'msg_new'].sort(),
      );
    });
  });

  describe('tenant keywords', () => {
    it('BAL emits keyword.received and replies nothing', async () => {
      // Prepare
      knownCustomer();
      const inbound = sms('bal');

      // Act
      const outcome = await handleInbound(deps, inbound);

      // Assess
      expect(outcome.effect).toEqual({ type: 'keyword', keyword: 'BAL' });
      expect(deps.events.events).toEqual([
        {
          type: 'keyword.received',
          detail: {
            tenantId,
            customerId,
            occurredAt: inbound.receivedAt,
            messageId: inboundMessageIdOf(inbound.inboundMessageId),
            keyword: 'BAL',
            raw: 'bal',
            channel: 'sms',
          },
        },
      ]);
      expect(deps.sms.attempts).toEqual([]);
      expect(deps.attention.marks).toEqual([]);
    });

    it('STMT sends its auto-reply template and emits keyword.received', async () => {
      // Prepare
      knownCustomer();

      // Act
      const outcome = await handleInbound(deps, sms('Stmt.'));

      // Assess
      expect(outcome.effect).toEqual({ type: 'keyword', keyword: 'STMT' });
      expect(contentOf(deps.sms.sent)).toEqual([
        { to: phone, from: tenant.smsNumber, body: 'Demo Bank: your statement is ready in the app.' },
      ]);
      expect(replies()).toEqual([expect.objectContaining({ status: 'sent', body: deps.sms.sent[0]?.body })]);
      expect(deps.events.types()).toEqual(['keyword.received']);
    });

    it('a keyword with emitEvent false sends its auto-reply and emits nothing', async () => {
      // Prepare
      knownCustomer();
      const quiet = { ...tenant, keywords: { STMT: { autoReplyTemplate: 'stmt-reply', emitEvent: false } } };

      // Act
      const outcome = await handleInbound(deps, sms('stmt', { tenant: quiet }));

      // Assess
      expect(outcome.effect).toEqual({ type: 'keyword', keyword: 'STMT' });
      expect(sentBodies()).toEqual(['Demo Bank: your statement is ready in the app.']);
      expect(deps.events.types()).toEqual([]);
    });

    it('renders brandName in an auto-reply template', async () => {
      // Prepare
      knownCustomer();
      deps.putTemplate(tenantId, {
        name: 'pin-reply',
        sms: '{{brandName}}: PIN sent.',
        updatedAt: '2025-01-01T00:00:00Z',
      });
      const withPin = { ...tenant, brandName: 'DB Cards', keywords: { PIN: { autoReplyTemplate: 'pin-reply' } } };

      // Act
      await handleInbound(deps, sms('pin', { tenant: withPin }));

      // Assess
      expect(sentBodies()).toEqual(['DB Cards: PIN sent.']);
      expect(deps.events.types()).toEqual(['keyword.received']);
    });

    it('sends no reply for a keyword whose auto-reply template does not exist', async () => {
      // Prepare
      knownCustomer();
      deps.templates.clear();

      // Act
      const outcome = await handleInbound(deps, sms('STMT'));

      // Assess
      expect(outcome.effect).toEqual({ type: 'keyword', keyword: 'STMT' });
      expect(deps.sms.attempts).toEqual([]);
      expect(deps.events.types()).toEqual(['keyword.received']);
    });

    it('BAL is the keyword, not a hint, while a confirm prompt is open', async () => {
      // Prepare
      knownCustomer();
      const { prompt } = await sentPrompt({ messageId: 'msg_a' });
      const inbound = sms('Bal');

      // Act
      const outcome = await handleInbound(deps, inbound);

      // Assess
      expect(outcome.effect).toEqual({ type: 'keyword', keyword: 'BAL' });
      expect(deps.events.events).toEqual([
        {
          type: 'keyword.received',
          detail: {
            tenantId,
            customerId,
            occurredAt: inbound.receivedAt,
            messageId: inboundMessageIdOf(inbound.inboundMessageId),
            keyword: 'BAL',
            raw: 'Bal',
            channel: 'sms',
          },
        },
      ]);
      expect(deps.sms.attempts).toEqual([]);
      expect((await customer())?.openPrompts).toEqual({ msg_a: prompt });
    });

    it('still takes a keyword whose auto-reply template needs a variable, sending no reply', async () => {
      // Prepare
      knownCustomer();
      deps.putTemplate(tenantId, { name: 'stmt-reply', sms: 'Hi {{name}}', updatedAt: '2025-01-01T00:00:00.000Z' });
      const inbound = sms('STMT');

      // Act
      const outcome = await handleInbound(deps, inbound);

      // Assess
      const messageId = inboundMessageIdOf(inbound.inboundMessageId);
      expect(outcome).toEqual({
        status: 'processed',
        messageId,
        customerId,
        effect: { type: 'keyword', keyword: 'STMT' },
      });
      expect(deps.events.types()).toEqual(['keyword.received']);
      expect(deps.sms.attempts).toEqual([]);
      expect(replies()).toEqual([]);
      expect(inboundMessages()).toEqual([
        expect.objectContaining({ messageId, body: 'STMT', effect: { type: 'keyword', keyword: 'STMT' } }),
      ]);
    });
  });

  describe('CALL and CHAT', () => {
    it.each([
      ['call me', 'callback', 'CALL ME', 'Demo Bank: we will call you back shortly.'],
      ['Agent', 'chat', 'AGENT', 'Demo Bank: chat with us at https://chat.parley.test/c/1'],
    ] as const)('%j escalates as a %s once and sends its acknowledgement', async (body, kind, keyword, reply) => {
      // Prepare
      knownCustomer();
      const inbound = sms(body);

      // Act
      const outcome = await handleInbound(deps, inbound);

      // Assess
      expect(deps.escalations).toEqual([
        {
          tenant,
          customerId,
          kind,
          keyword,
          at: inbound.receivedAt,
          channel: 'sms',
          inboundMessageId: inbound.inboundMessageId,
        },
      ]);
      expect(outcome.effect?.type).toBe(kind === 'callback' ? 'callback_requested' : 'chat_requested');
      expect(sentBodies()).toEqual([reply]);
      expect(inboundMessages()).toEqual([expect.objectContaining({ effect: outcome.effect })]);
      expect(deps.attention.marks).toEqual([]);
    });

    it('does not escalate "Call center was rude": free text for an agent instead', async () => {
      // Prepare
      knownCustomer();

      // Act
      const outcome = await handleInbound(deps, sms('Call center was rude'));

      // Assess
      expect(outcome.effect).toEqual({ type: 'free_text' });
      expect(deps.escalations).toEqual([]);
      expect(deps.events.types()).toEqual(['message.received']);
    });
  });

  describe('defects found by adversarial tries (issue: one message pipeline)', () => {
    it('keeps the customer opted out when an older START arrives after a STOP', async () => {
      // Prepare: START sent at t0, STOP at t1; the carrier delivers STOP first
      knownCustomer();
      const startedAt = new Date(deps.clock.now()).toISOString();
      deps.clock.advance(60_000);
      await handleInbound(deps, sms('STOP'));

      // Act
      const late = await handleInbound(deps, sms('START', { receivedAt: startedAt }));

      // Assess
      expect(late.effect).toEqual({ type: 'opted_in', keyword: 'START' });
      const customer = await deps.customers.getCustomer(tenantId, customerId);
      expect(customer?.consent.sms?.status).toBe('opted_out');
      expect((await deps.customers.getAddress(tenantId, 'sms', phone))?.consent?.status).toBe('opted_out');
      expect(deps.events.types()).toEqual(['consent.changed']);
      expect(sentBodies()).toHaveLength(1);
    });

    it('files a reply from a shared number under the customer whose alert it answers (a joint account)', async () => {
      // Prepare: two customers share a phone; cust-42 has the alert open; the address was given to cust-43 last
      knownCustomer();
      await deps.customers.putAddress(tenantId, 'sms', phone, customerId);
      const { providerMessageId } = await sentPrompt({ messageId: 'msg_a' });
      deps.customers.seed({ tenantId, customerId: 'cust-43', phone });
      await deps.customers.putAddress(tenantId, 'sms', phone, 'cust-43');

      // Act
      const outcome = await handleInbound(deps, sms('Y', { answering: { providerMessageId } }));

      // Assess
      expect(outcome).toMatchObject({ customerId, effect: { type: 'prompt_answered', promptMessageId: 'msg_a' } });
      expect(deps.events.types()).toEqual(['prompt.answered']);
    });

    it('opts out every customer of a shared number', async () => {
      knownCustomer();
      await deps.customers.putAddress(tenantId, 'sms', phone, customerId);
      deps.customers.seed({ tenantId, customerId: 'cust-43', phone });
      await deps.customers.putAddress(tenantId, 'sms', phone, 'cust-43');

      await handleInbound(deps, sms('STOP'));

      for (const id of [customerId, 'cust-43']) {
        expect((await deps.customers.getCustomer(tenantId, id))?.consent.sms?.status).toBe('opted_out');
      }
    });

    it.each(['BAL', 'OK', 'HI'])(
      'reads %s sent to an already-answered alert as a keyword or free text, not "already answered"',
      async (text) => {
        // Prepare: the alert was answered; another is open; the customer texts again in the first thread
        knownCustomer();
        const { providerMessageId } = await sentPrompt({ messageId: 'msg_a' });
        await sentPrompt({ messageId: 'msg_b' });
        await handleInbound(deps, sms('Y', { answering: { providerMessageId } }));
        deps.events.events.length = 0;

        // Act
        const outcome = await handleInbound(deps, sms(text, { answering: { providerMessageId } }));

        // Assess
        expect(outcome.effect?.type).not.toBe('prompt_already_answered');
        expect(deps.events.types()).toEqual([text === 'BAL' ? 'keyword.received' : 'message.received']);
      },
    );

    it("never answers a message from the tenant's own number (no loops)", async () => {
      const outcome = await handleInbound(deps, sms('HELP', { from: tenant.smsNumber }));

      expect(outcome.effect).toEqual({ type: 'ignored', reason: 'own_address' });
      expect(deps.sms.attempts).toEqual([]);
      expect(deps.events.events).toEqual([]);
      expect(inboundMessages()).toHaveLength(1);
    });

    it('names unknown senders by channel and address', () => {
      expect(unknownSenderId('sms', '+14155550199')).toBe('sms:+14155550199');
      expect(unknownSenderId('email', 'ana@example.com')).toBe('email:ana@example.com');
    });
  });

  describe('free text', () => {
    it('emits message.received and marks the conversation as needing attention', async () => {
      // Prepare
      knownCustomer();
      const body = `I did not make this payment. ${'Please help. '.repeat(20)}`;
      const inbound = sms(body);

      // Act
      const outcome = await handleInbound(deps, inbound);

      // Assess
      expect(outcome.effect).toEqual({ type: 'free_text' });
      expect(deps.events.events).toEqual([
        {
          type: 'message.received',
          detail: {
            tenantId,
            customerId,
            occurredAt: inbound.receivedAt,
            messageId: inboundMessageIdOf(inbound.inboundMessageId),
            channel: 'sms',
            body,
          },
        },
      ]);
      expect(deps.attention.marks).toEqual([
        { tenantId, customerId, reason: 'free_text', at: inbound.receivedAt, summary: `${body.slice(0, 157)}...` },
      ]);
      expect(deps.sms.attempts).toEqual([]);
      expect(inboundMessages()).toEqual([expect.objectContaining({ body, effect: { type: 'free_text' } })]);
    });

    it('treats "Help me understand this charge" as free text, not HELP', async () => {
      // Prepare
      knownCustomer();

      // Act
      const outcome = await handleInbound(deps, sms('Help me understand this charge'));

      // Assess
      expect(outcome.effect).toEqual({ type: 'free_text' });
      expect(deps.sms.attempts).toEqual([]);
      expect(deps.attention.marks).toHaveLength(1);
    });
  });

  describe('redelivery', () => {
    it('the same inbound delivered 3 times: one stored message, one reply, one event', async () => {
      // Prepare
      knownCustomer();
      const inbound = sms('STOP');

      // Act
      const outcomes = [
        await handleInbound(deps, inbound),
        await handleInbound(deps, inbound),
        await handleInbound(deps, inbound),
      ];

      // Assess
      expect(outcomes.map((o) => o.status)).toEqual(['processed', 'duplicate', 'duplicate']);
      expect(new Set(outcomes.map((o) => o.messageId))).toEqual(
        new Set([inboundMessageIdOf(inbound.inboundMessageId)]),
      );
      expect(inboundMessages()).toHaveLength(1);
      expect(deps.sms.attempts).toHaveLength(1);
      expect(replies()).toHaveLength(1);
      expect(deps.events.types()).toEqual(['consent.changed']);
    });

    it('a redelivered prompt answer records nothing more and emits nothing more', async () => {
      // Prepare
      knownCustomer();
      await sentPrompt({ messageId: 'msg_a' });
      const inbound = sms('Y');
      await handleInbound(deps, inbound);
      const afterFirst = await customer();

      // Act
      const again = await handleInbound(deps, inbound);

      // Assess
      expect(again.status).toBe('duplicate');
      expect(await customer()).toEqual(afterFirst);
      expect(deps.customers.inboundUpdates).toHaveLength(1);
      expect(deps.events.types()).toEqual(['prompt.answered']);
    });

    it('throws InboundInProgressError while another delivery holds a live claim and has stored nothing', async () => {
      // Prepare
      knownCustomer();
      const inbound = sms('Is my card blocked?');
      deps.events.failWith = new Error('EventBridge throttled');
      await expect(handleInbound(deps, inbound)).rejects.toThrow('EventBridge throttled');
      deps.events.failWith = undefined;
      deps.clock.advance(deps.claimLeaseMs - 1);

      // Act
      const handling = handleInbound(deps, inbound);

      // Assess
      await expect(handling).rejects.toBeInstanceOf(InboundInProgressError);
      expect(inboundMessages()).toEqual([]);
      expect(deps.events.events).toEqual([]);
      expect(deps.attention.marks).toHaveLength(1);
    });

    it('takes over a claim whose lease has run out and completes the message once', async () => {
      // Prepare
      knownCustomer();
      const inbound = sms('Is my card blocked?');
      deps.events.failWith = new Error('EventBridge throttled');
      await expect(handleInbound(deps, inbound)).rejects.toThrow('EventBridge throttled');
      deps.events.failWith = undefined;
      deps.clock.advance(deps.claimLeaseMs + 1);

      // Act
      const outcome = await handleInbound(deps, inbound);
      const redelivered = await handleInbound(deps, inbound);

      // Assess
      const messageId = inboundMessageIdOf(inbound.inboundMessageId);
      expect(outcome).toEqual({ status: 'processed', messageId, customerId, effect: { type: 'free_text' } });
      expect(redelivered.status).toBe('duplicate');
      expect(deps.messages.calls.filter((c) => c === 'renewClaim')).toHaveLength(1);
      expect(deps.messages.claims.get(`${tenantId}/${messageId}`)?.leaseUntil).toBe(
        deps.clock.now() + deps.claimLeaseMs,
      );
      expect(inboundMessages()).toEqual([
        expect.objectContaining({ messageId, inboundMessageId: inbound.inboundMessageId }),
      ]);
      expect(deps.events.types()).toEqual(['message.received']);
    });

    it('after a takeover, publishes the event the first delivery lost but does not send its reply twice', async () => {
      // Prepare
      knownCustomer();
      const inbound = sms('STOP');
      deps.events.failWith = new Error('EventBridge throttled');
      await expect(handleInbound(deps, inbound)).rejects.toThrow('EventBridge throttled');
      deps.events.failWith = undefined;
      deps.clock.advance(deps.claimLeaseMs + 1);

      // Act
      const outcome = await handleInbound(deps, inbound);

      // Assess
      expect(outcome.effect).toEqual({ type: 'opted_out', keyword: 'STOP' });
      expect(deps.sms.attempts).toHaveLength(1);
      expect(replies()).toHaveLength(1);
      expect(deps.events.types()).toEqual(['consent.changed']);
      expect(inboundMessages()).toHaveLength(1);
    });

    it('re-publishes prompt.answered once when a delivery that recorded the answer died before publishing', async () => {
      // Prepare
      knownCustomer();
      await sentPrompt({ messageId: 'msg_a' });
      const inbound = sms(' y. ');
      deps.events.failWith = new Error('EventBridge throttled');
      await expect(handleInbound(deps, inbound)).rejects.toThrow('EventBridge throttled');
      const afterCrash = await customer();
      deps.events.failWith = undefined;
      deps.clock.advance(deps.claimLeaseMs + 1);

      // Act
      const outcome = await handleInbound(deps, inbound);
      const redelivered = await handleInbound(deps, inbound);

      // Assess
      const messageId = inboundMessageIdOf(inbound.inboundMessageId);
      expect(afterCrash?.promptAnswers.msg_a).toMatchObject({ answer: 'yes', messageId });
      expect(outcome).toEqual({
        status: 'processed',
        messageId,
        customerId,
        effect: { type: 'prompt_answered', promptMessageId: 'msg_a', answer: 'yes' },
      });
      expect(redelivered.status).toBe('duplicate');
      expect(deps.events.events).toEqual([
        {
          type: 'prompt.answered',
          detail: {
            tenantId,
            customerId,
            occurredAt: inbound.receivedAt,
            messageId,
            promptMessageId: 'msg_a',
            reference: 'ref-msg_a',
            raw: ' y. ',
            channel: 'sms',
            answer: 'yes',
          },
        },
      ]);
      expect((await customer())?.promptAnswers).toEqual(afterCrash?.promptAnswers);
      expect(deps.sms.attempts).toEqual([]);
      expect(inboundMessages()).toEqual([expect.objectContaining({ messageId, effect: outcome.effect })]);
    });

    it('re-publishes the answer to "which request?" on a takeover of the "1", without a hint', async () => {
      // Prepare
      knownCustomer();
      await sentPrompt({ messageId: 'msg_a', createdAt: '2025-06-02T10:00:00.000Z' });
      await sentPrompt({ messageId: 'msg_b', createdAt: '2025-06-02T11:00:00.000Z' });
      await handleInbound(deps, sms('Y'));
      deps.clock.advance(30_000);
      const one = sms('1');
      deps.events.failWith = new Error('EventBridge throttled');
      await expect(handleInbound(deps, one)).rejects.toThrow('EventBridge throttled');
      deps.events.failWith = undefined;
      deps.clock.advance(deps.claimLeaseMs + 1);

      // Act
      const outcome = await handleInbound(deps, one);

      // Assess
      const messageId = inboundMessageIdOf(one.inboundMessageId);
      expect(outcome.effect).toEqual({ type: 'prompt_answered', promptMessageId: 'msg_b', answer: 'yes' });
      expect(deps.events.events).toEqual([
        {
          type: 'prompt.answered',
          detail: {
            tenantId,
            customerId,
            occurredAt: one.receivedAt,
            messageId,
            promptMessageId: 'msg_b',
            reference: 'ref-msg_b',
            raw: '1',
            channel: 'sms',
            answer: 'yes',
          },
        },
      ]);
      expect(sentBodies()).toEqual([expect.stringContaining('which request is your "Y" for?')]);
      const after = await customer();
      expect(Object.keys(after?.openPrompts ?? {})).toEqual(['msg_a']);
      expect(after?.promptAnswers.msg_b).toMatchObject({ answer: 'yes', raw: '1', messageId });
      expect(inboundMessages().filter((m) => m.messageId === messageId)).toHaveLength(1);
    });
  });

  describe('concurrent customer updates', () => {
    it('retries a version conflict on the answer with a consistent read, and records the answer once', async () => {
      // Prepare
      knownCustomer();
      const target = await sentPrompt({ messageId: 'msg_a', createdAt: '2025-06-02T10:00:00.000Z' });
      const concurrentPrompt: OpenPrompt = {
        ...target.prompt,
        messageId: 'msg_c',
        createdAt: '2025-06-02T11:59:00.000Z',
      };
      // A send opens another prompt between this message's read and its write.
      deps.customers.writeConcurrentlyBeforeNextInboundUpdate((c) => {
        c.openPrompts.msg_c = concurrentPrompt;
      });

      // Act
      const outcome = await handleInbound(
        deps,
        sms('Yes', { answering: { providerMessageId: target.providerMessageId } }),
      );

      // Assess
      expect(outcome.effect).toEqual({ type: 'prompt_answered', promptMessageId: 'msg_a', answer: 'yes' });
      expect(deps.customers.inboundUpdates.map((u) => [u.expected, u.written])).toEqual([
        [{ version: 1 }, false],
        [{ version: 2 }, true],
      ]);
      expect(deps.customers.reads.filter((r) => r.customerId === customerId).map((r) => r.consistent)).toEqual([
        false,
        true,
      ]);
      expect(deps.slept).toHaveLength(1);
      const after = await customer();
      expect(Object.keys(after?.promptAnswers ?? {})).toEqual(['msg_a']);
      expect(after?.openPrompts).toEqual({ msg_c: concurrentPrompt });
      expect(deps.events.types()).toEqual(['prompt.answered']);
      expect(inboundMessages()).toHaveLength(1);
    });

    it('re-decides on the fresh read: a conflicting write that answered the prompt first wins', async () => {
      // Prepare
      knownCustomer();
      const { providerMessageId } = await sentPrompt({ messageId: 'msg_a' });
      deps.customers.writeConcurrentlyBeforeNextInboundUpdate((c) => {
        delete c.openPrompts.msg_a;
        c.promptAnswers.msg_a = {
          answer: 'no',
          raw: 'N',
          at: '2025-06-02T11:59:59.000Z',
          channel: 'sms',
          messageId: 'msg_OTHER',
        };
      });

      // Act
      const outcome = await handleInbound(deps, sms('Y', { answering: { providerMessageId: providerMessageId } }));

      // Assess
      expect(outcome.effect).toEqual({ type: 'prompt_already_answered', promptMessageId: 'msg_a' });
      expect((await customer())?.promptAnswers.msg_a).toMatchObject({ answer: 'no', messageId: 'msg_OTHER' });
      expect(deps.events.events).toEqual([]);
      expect(sentBodies()).toEqual(['Demo Bank: you have already answered this request.']);
    });

    it('writes a decision that did not read prompt state without a version condition, so it never retries', async () => {
      // Prepare
      knownCustomer();
      deps.customers.writeConcurrentlyBeforeNextInboundUpdate((c) => {
        c.email = 'ana@example.com';
      });

      // Act
      await handleInbound(deps, sms('Thanks!'));

      // Assess
      expect(deps.customers.inboundUpdates.map((u) => [u.expected, u.written])).toEqual([['any', true]]);
      expect(deps.slept).toEqual([]);
      expect(await customer()).toMatchObject({ email: 'ana@example.com', version: 3 });
    });

    it('gives up with an internal error after 8 conflicts, having sent and stored nothing', async () => {
      // Prepare
      knownCustomer();
      await sentPrompt({ messageId: 'msg_a' });
      for (let i = 0; i < 8; i++) deps.customers.writeConcurrentlyBeforeNextInboundUpdate();

      // Act
      const handling = handleInbound(deps, sms('Y'));

      // Assess
      await expect(handling).rejects.toSatisfy((e) => e instanceof ParleyError && e.code === 'internal');
      expect(deps.customers.inboundUpdates.filter((u) => u.written)).toEqual([]);
      expect(deps.customers.inboundUpdates).toHaveLength(8);
      expect(deps.sms.attempts).toEqual([]);
      expect(deps.events.events).toEqual([]);
      expect(inboundMessages()).toEqual([]);
    });
  });

  describe('auto-reply failures', () => {
    it('retries a throttled auto-reply within the delivery and sends it once', async () => {
      // Prepare
      knownCustomer();
      deps.sms.failNext('unavailable', 2);

      // Act
      const outcome = await handleInbound(deps, sms('HELP'));

      // Assess
      expect(outcome).toMatchObject({ status: 'processed', effect: { type: 'help', keyword: 'HELP' } });
      expect(deps.sms.attempts).toHaveLength(3);
      expect(contentOf(deps.sms.sent)).toEqual([{ to: phone, from: tenant.smsNumber, body: helpText }]);
      expect(replies()).toEqual([expect.objectContaining({ status: 'sent', body: helpText })]);
    });

    it('sends a HELP reply the provider did not take on the redelivery, not never (at least once)', async () => {
      // Prepare: throttled on every try of the first delivery
      knownCustomer();
      deps.sms.failNext('unavailable', 3);
      const inbound = sms('HELP');
      await expect(handleInbound(deps, inbound)).rejects.toMatchObject({ code: 'provider_unavailable' });
      expect(inboundMessages()).toEqual([]);

      // Act: SNS delivers it again once the first delivery's lease is over
      deps.clock.advance(deps.claimLeaseMs + 1);
      const outcome = await handleInbound(deps, inbound);

      // Assess
      expect(outcome).toMatchObject({ status: 'processed', effect: { type: 'help', keyword: 'HELP' } });
      expect(contentOf(deps.sms.sent)).toEqual([{ to: phone, from: tenant.smsNumber, body: helpText }]);
      expect(replies()).toEqual([expect.objectContaining({ status: 'sent', body: helpText })]);
      expect(inboundMessages()).toHaveLength(1);
    });

    it('sends the STOP confirmation after a crash before the call, and never twice after one after it', async () => {
      // Prepare: the first delivery dies after the confirmation went (storing the inbound message fails)
      knownCustomer();
      const inbound = sms('STOP');
      const putMessage = deps.messages.putMessage.bind(deps.messages);
      deps.messages.putMessage = async (message) => {
        if (message.direction === 'inbound') throw new Error('the function crashed');
        return putMessage(message);
      };
      await expect(handleInbound(deps, inbound)).rejects.toThrow('the function crashed');
      deps.messages.putMessage = putMessage;

      // Act: redelivered twice
      deps.clock.advance(deps.claimLeaseMs + 1);
      await handleInbound(deps, inbound);
      await handleInbound(deps, inbound);

      // Assess
      expect(deps.sms.sent).toHaveLength(1);
      expect(inboundMessages()).toHaveLength(1);
      expect(replies()).toHaveLength(1);
    });

    it('records a refused auto-reply as failed with message.failed, and still completes the inbound message', async () => {
      // Prepare: a help text far over the segment cap
      knownCustomer();
      const longHelp = 'Demo Bank help. '.repeat(80);

      // Act
      const outcome = await handleInbound(deps, sms('HELP', { tenant: { ...tenant, helpText: longHelp } }));

      // Assess
      expect(outcome).toMatchObject({ status: 'processed', effect: { type: 'help', keyword: 'HELP' } });
      expect(deps.sms.attempts).toEqual([]);
      expect(replies()).toEqual([
        expect.objectContaining({ status: 'failed', failure: expect.objectContaining({ code: 'message_too_long' }) }),
      ]);
      expect(deps.events.events).toEqual([
        expect.objectContaining({
          type: 'message.failed',
          detail: expect.objectContaining({ reason: 'message_too_long' }),
        }),
      ]);
      expect(inboundMessages()).toHaveLength(1);
    });

    it('records a reply whose outcome is unknown as unknown with message.unknown, never resending it', async () => {
      // Prepare
      knownCustomer();
      deps.sms.failNext('lost_answer');
      const inbound = sms('STOP');

      // Act
      await handleInbound(deps, inbound);
      await handleInbound(deps, inbound);

      // Assess
      expect(deps.sms.attempts).toHaveLength(1);
      expect(replies()).toEqual([expect.objectContaining({ status: 'unknown' })]);
      expect(deps.events.types()).toEqual(['message.unknown', 'consent.changed']);
      expect(inboundMessages()).toHaveLength(1);
    });
  });
});
