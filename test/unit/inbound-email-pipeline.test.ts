import { beforeEach, describe, expect, it } from 'vitest';
import { type ReceivedMail, toInboundEmail } from '../../functions/adapters/email/ses-inbound.ts';
import type { EmailReceipt, ReceiptVerdicts } from '../../functions/adapters/email/ses-receipt.ts';
import { UnattributableInboundError } from '../../functions/domain/errors.ts';
import { handleInbound, type InboundMessage } from '../../functions/domain/inbound.ts';
import type { Customer, OpenPrompt, Tenant } from '../../functions/domain/model.ts';
import { createReplyToken } from '../../functions/domain/tokens.ts';
import { unsubscribeTokenFor } from '../../functions/domain/unsubscribe.ts';
import { type FakeInboundDeps, inboundDeps, makeTenant, tenantId } from './fakes.ts';

const secret = 'test-token-secret';
const replyDomain = 'reply.demo-bank.example';
const email = 'ada@example.com';
const customerId = 'cust-email';
const promptId = 'msg_01JWPROMPTEMAIL000000000001';
const tenant: Tenant = makeTenant({});

let deps: FakeInboundDeps;

const passing: ReceiptVerdicts = { spam: 'PASS', virus: 'PASS', spf: 'PASS', dkim: 'PASS', dmarc: 'PASS' };
const receipt = (overrides: Partial<EmailReceipt> = {}): EmailReceipt => ({
  sesMessageId: 'ses-received-1',
  recipients: [`reply+${createReplyToken(secret, tenantId, promptId)}@${replyDomain}`],
  verdicts: passing,
  object: { bucket: 'inbound', key: 'mail/ses-received-1' },
  receivedAt: '2025-06-02T11:05:00.000Z',
  ...overrides,
});
const mail = (overrides: Partial<ReceivedMail> = {}): ReceivedMail => ({
  messageId: 'CAF=abc@mail.gmail.com',
  inReplyTo: ['0100018f-alert@email.amazonses.com'],
  references: ['0100018f-alert@email.amazonses.com'],
  from: email,
  subject: 'Re: Card alert',
  text: 'N\n\nOn Mon, 2 Jun 2025, Demo Bank wrote:\n> Reply Y if this was you',
  reply: 'N',
  firstLine: 'N',
  ...overrides,
});

/** The inbound message the adapter makes of a receipt and a mail, as the handler hands it over. */
const inboundOf = (r: EmailReceipt, m: ReceivedMail): InboundMessage => {
  const parsed = toInboundEmail(r, m, { tokenSecret: secret, replyDomain });
  if (!parsed.ok) throw new Error(parsed.reason);
  expect(parsed.tenantId).toBe(tenantId);
  return { ...parsed.inbound, tenant };
};

const knownCustomer = (id = customerId, address = email): Customer => {
  deps.customers.addresses.set(`${tenantId}/email/${address}`, id);
  return deps.customers.seed({ tenantId, customerId: id, email: address });
};

/** The emailed card alert with its prompt open, claimed under the customer it was sent to. */
const sentPrompt = async (owner = customerId) => {
  const createdAt = '2025-06-02T11:00:00.000Z';
  const timelineId = '01JWTLPROMPTEMAIL00000000001';
  const prompt: OpenPrompt = {
    messageId: promptId,
    type: 'confirm',
    expiresAt: '2025-06-02T13:00:00.000Z',
    reference: 'txn-8842',
    summary: 'Card 4242 alert',
    createdAt,
  };
  await deps.messages.claimMessage({
    tenantId,
    messageId: promptId,
    customerId: owner,
    timelineId,
    requestHash: 'send',
    leaseUntil: 0,
    createdAt,
  });
  await deps.messages.putMessage({
    messageId: promptId,
    tenantId,
    customerId: owner,
    timelineId,
    direction: 'outbound',
    channel: 'email',
    to: email,
    from: 'alerts@demo-bank.example',
    subject: 'Card alert',
    body: 'Reply Y if this was you',
    status: 'sent',
    statusHistory: [],
    providerMessageId: '0100018f-alert',
    createdAt,
  });
  const stored = deps.customers.customers.get(`${tenantId}/${owner}`);
  if (!stored) throw new Error('seed the customer first');
  stored.openPrompts[promptId] = prompt;
};

describe('inbound email through the one pipeline', () => {
  beforeEach(() => {
    deps = inboundDeps();
    deps.clock.set(Date.parse('2025-06-02T11:05:00.000Z'));
  });

  it('an "N" above the quoted alert answers the prompt of the message the token names, by email, threaded', async () => {
    knownCustomer();
    await sentPrompt();

    const outcome = await handleInbound(deps, inboundOf(receipt(), mail()));

    expect(outcome.effect).toEqual({ type: 'prompt_answered', promptMessageId: promptId, answer: 'no' });
    const answered = deps.events.events.filter((e) => e.type === 'prompt.answered');
    expect(answered).toHaveLength(1);
    expect(answered[0]?.detail).toMatchObject({ answer: 'no', raw: 'N', channel: 'email', reference: 'txn-8842' });
    const stored = deps.messages.allMessages().find((m) => m.direction === 'inbound');
    expect(stored).toMatchObject({ channel: 'email', body: 'N', subject: 'Re: Card alert' });
    expect(stored?.fullText).toContain('> Reply Y if this was you');
    expect(deps.sms.sent).toHaveLength(0);
  });

  it('STOP in the subject opts the address out of email, with consent.changed and a confirmation by email', async () => {
    knownCustomer();

    await handleInbound(deps, inboundOf(receipt(), mail({ subject: 'STOP', reply: 'please', firstLine: 'please' })));

    expect((await deps.customers.getAddress(tenantId, 'email', email))?.consent?.status).toBe('opted_out');
    expect(deps.events.events.map((e) => e.type)).toContain('consent.changed');
    expect(deps.email.sent).toHaveLength(1);
    expect(deps.email.sent[0]).toMatchObject({ to: email, subject: 'Re: STOP' });
  });

  for (const [why, r, m] of [
    ['spam FAIL', receipt({ verdicts: { ...passing, spam: 'FAIL' } }), mail()],
    ['a virus', receipt({ verdicts: { ...passing, virus: 'FAIL' } }), mail()],
    ['DMARC FAIL', receipt({ verdicts: { ...passing, dmarc: 'FAIL' } }), mail()],
    ['an out-of-office', receipt(), mail({ automatic: 'out_of_office' })],
  ] as const) {
    it(`mail with ${why} answers nothing, changes no prompt, and is kept and flagged for an agent`, async () => {
      knownCustomer();
      await sentPrompt();
      const before = structuredClone(await deps.customers.getCustomer(tenantId, customerId));

      const outcome = await handleInbound(deps, inboundOf(r, m));

      expect(outcome.effect).toMatchObject({ type: 'ignored' });
      expect(deps.email.sent).toHaveLength(0);
      expect(deps.events.events).toEqual([]);
      const after = await deps.customers.getCustomer(tenantId, customerId);
      expect(after?.openPrompts).toEqual(before?.openPrompts);
      expect(after?.promptAnswers).toEqual({});
      expect(deps.attention.marks).toEqual([
        expect.objectContaining({ customerId, reason: 'free_text', summary: expect.stringMatching(/^Not acted on/) }),
      ]);
      const stored = deps.messages.allMessages().find((msg) => msg.direction === 'inbound');
      expect(stored?.effect).toMatchObject({ type: 'ignored' });
      if (why === 'a virus') expect(stored?.body).not.toContain('N');
    });
  }

  it('mail answering a customer from an address not theirs is kept with that customer, never acted on', async () => {
    knownCustomer();
    await sentPrompt();

    const outcome = await handleInbound(deps, inboundOf(receipt(), mail({ from: 'mallory@evil.example' })));

    expect(outcome).toMatchObject({ customerId, effect: { type: 'ignored', reason: 'wrong_sender' } });
    expect(deps.email.sent).toHaveLength(0);
    expect(deps.events.events).toEqual([]);
    expect((await deps.customers.getCustomer(tenantId, customerId))?.openPrompts[promptId]).toBeDefined();
    expect(await deps.customers.getAddress(tenantId, 'email', 'mallory@evil.example')).toBeUndefined();
  });

  it('the same mail delivered twice (one Message-ID, two SES receipts) changes nothing the second time', async () => {
    knownCustomer();
    await sentPrompt();
    await handleInbound(deps, inboundOf(receipt(), mail()));
    const events = deps.events.events.length;
    const messages = deps.messages.allMessages().length;

    const again = await handleInbound(deps, inboundOf(receipt({ sesMessageId: 'ses-received-2' }), mail()));

    expect(again.status).toBe('duplicate');
    expect(deps.events.events).toHaveLength(events);
    expect(deps.messages.allMessages()).toHaveLength(messages);
  });

  it('mail to the List-Unsubscribe mailto opts the address the token names out of email, once', async () => {
    knownCustomer();
    const { token } = unsubscribeTokenFor(secret, tenantId, email, promptId);
    const unsubscribe = receipt({ recipients: [`unsubscribe+${token}@${replyDomain}`] });
    // Mail clients send the mailto with a subject of their own, often from another address of the customer's.
    const sent = mail({ from: 'ada.private@example.net', subject: 'unsubscribe', reply: '', firstLine: '' });

    const outcome = await handleInbound(deps, inboundOf(unsubscribe, sent));
    const again = await handleInbound(deps, inboundOf({ ...unsubscribe, sesMessageId: 'ses-2' }, sent));

    expect(outcome.effect).toMatchObject({ type: 'opted_out' });
    expect(again.status).toBe('duplicate');
    expect((await deps.customers.getAddress(tenantId, 'email', email))?.consent?.status).toBe('opted_out');
    expect(deps.events.events.filter((e) => e.type === 'consent.changed')).toHaveLength(1);
  });

  it('a token that fails its signature, or a recipient outside the reply domain, is no token', () => {
    const good = receipt().recipients[0] as string;
    const forged = good.replace(/\.[a-z0-9]+@/, '.aaaaaaaaaaaaaaaa@');
    const unthreaded = mail({ inReplyTo: [], references: ['CAF=older@mail.gmail.com'] });
    for (const [recipients, m] of [
      [[forged], unthreaded],
      [[good.replace(replyDomain, 'other.example')], mail()],
      [['someone@example.com'], mail()],
    ] as const) {
      expect(toInboundEmail(receipt({ recipients: [...recipients] }), m, { tokenSecret: secret, replyDomain })).toEqual(
        {
          ok: false,
          reason: 'no recipient carries a valid reply or unsubscribe token',
        },
      );
    }
  });

  describe('a token that fails its signature, with In-Reply-To (a rotated secret, a mangled address)', () => {
    const forgedReceipt = () => {
      const good = receipt().recipients[0] as string;
      return receipt({ recipients: [good.replace(/\.[a-z0-9]+@/, '.aaaaaaaaaaaaaaaa@')] });
    };

    it('claims the tenant the token names and the SES id the mail answers, in-reply-to first', () => {
      // Act
      const parsed = toInboundEmail(
        forgedReceipt(),
        mail({
          inReplyTo: ['CAF=x@mail.gmail.com'],
          references: ['0100018f-old@eu-west-1.amazonses.com', 'CAF=x@mail.gmail.com'],
        }),
        { tokenSecret: secret, replyDomain },
      );

      // Assess: no In-Reply-To from SES, so the newest SES id in References
      expect(parsed).toMatchObject({
        ok: true,
        tenantId,
        inbound: { answering: { providerMessageId: '0100018f-old', tenantUnverified: true } },
      });
    });

    it('answers the prompt whose email In-Reply-To names, when it was sent to this very sender', async () => {
      // Prepare
      knownCustomer();
      await sentPrompt();

      // Act
      const outcome = await handleInbound(deps, inboundOf(forgedReceipt(), mail()));

      // Assess
      expect(outcome.effect).toEqual({ type: 'prompt_answered', promptMessageId: promptId, answer: 'no' });
      expect(deps.events.events.filter((e) => e.type === 'prompt.answered')).toHaveLength(1);
    });

    it('takes nothing when In-Reply-To names no prompt sent to the sender: dead-lettered, nothing stored', async () => {
      // Prepare
      knownCustomer();
      await sentPrompt();
      const messagesBefore = deps.messages.allMessages().length;

      // Act
      const outcome = handleInbound(
        deps,
        inboundOf(forgedReceipt(), mail({ inReplyTo: ['0100018f-someone-else@email.amazonses.com'], references: [] })),
      );

      // Assess
      await expect(outcome).rejects.toBeInstanceOf(UnattributableInboundError);
      expect(deps.messages.allMessages()).toHaveLength(messagesBefore);
      expect(deps.events.events).toEqual([]);
      expect(Object.keys((await deps.customers.getCustomer(tenantId, customerId))?.openPrompts ?? {})).toEqual([
        promptId,
      ]);
    });
  });
});
