import { readFileSync } from 'node:fs';
import type { SNSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snsEventFor } from '../../local/inbound-simulator.ts';
import { lambdaContext } from '../../local/lambda-context.ts';
import { cardAlert, type Harness, startHarness } from './harness.ts';

let h: Harness;
let invokeInbound: (event: SNSEvent) => Promise<unknown>;

const fixturePath = new URL('../fixtures/aws-events/inbound-sms-sns-event.json', import.meta.url);

beforeAll(async () => {
  h = await startHarness();
  const { handler } = await import('../../functions/handlers/inbound-sms.ts');
  invokeInbound = (event) => handler(event, lambdaContext('inbound-sms'));
});

afterAll(async () => {
  await h.close();
});

const reply = (from: string, body: string, extra: Record<string, unknown> = {}) =>
  h.api('/_local/sms/inbound', { body: { from, body, ...extra }, key: null });

const outboxBodies = (to: string) => h.gateway.edges.outbox.list({ to }).map((m) => m.body);
const eventsOf = (type: string) =>
  h.gateway.edges.events.list({ type }).map((e) => e.detail as Record<string, unknown>);

const eventually = async <T>(read: () => T | Promise<T>, ok: (value: T) => boolean, ms = 5000): Promise<T> => {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
};

const conversation = async (customerId: string) =>
  (await h.api(`/v1/customers/${customerId}/conversation?limit=100`)).body;

describe('the card alert loop', () => {
  it('alert → reply N → prompt.answered with the reference, and the demo backend blocks the card', async () => {
    const phone = '+12025550143';
    const sent = await h.api('/v1/messages', { body: cardAlert(), headers: { 'idempotency-key': 'loop-1' } });
    expect(sent.status).toBe(202);

    const answered = await reply(phone, ' n. ');
    expect(answered.status).toBe(202);

    const [event] = eventsOf('prompt.answered');
    expect(event).toMatchObject({
      customerId: 'cust-42',
      promptMessageId: sent.body.messageId,
      answer: 'no',
      raw: ' n. ',
      channel: 'sms',
      reference: 'txn-987',
    });
    const texts = await eventually(
      () => outboxBodies(phone),
      (bodies) => bodies.some((b) => b.includes('blocked your card')),
    );
    expect(texts.at(-1)).toContain('we have blocked your card after payment txn-987');

    const message = await h.api(`/v1/messages/${sent.body.messageId}`);
    expect(message.body.answer).toMatchObject({ value: 'no', raw: ' n. ' });
    const timeline = await conversation('cust-42');
    expect(timeline.openPrompts).toEqual([]);
    const inbound = timeline.messages.find((m: { direction: string }) => m.direction === 'inbound');
    expect(inbound.effect).toEqual({ type: 'prompt_answered', promptMessageId: sent.body.messageId, answer: 'no' });
  });

  it('a second answer to the same prompt is told it was already answered and emits nothing', async () => {
    const before = eventsOf('prompt.answered').length;
    const [alert] = h.gateway.edges.outbox.list({ to: '+12025550143' });
    await reply('+12025550143', 'Y', { replyTo: alert?.providerMessageId });
    expect(eventsOf('prompt.answered')).toHaveLength(before);
    expect(outboxBodies('+12025550143').at(-1)).toContain('already answered');
  });
});

describe('prompts', () => {
  it('answers the prompt named by previousPublishedMessageId when two are open', async () => {
    const phone = '+12025550144';
    const first = await h.api('/v1/messages', {
      body: cardAlert({ customerId: 'cust-two', to: { phone }, reference: 'txn-1' }),
    });
    const second = await h.api('/v1/messages', {
      body: cardAlert({
        customerId: 'cust-two',
        to: { phone },
        reference: 'txn-2',
        data: { amount: '$9', merchant: 'B' },
      }),
    });
    const [firstSms] = h.gateway.edges.outbox.list({ to: phone });

    await reply(phone, 'Yes', { replyTo: firstSms?.providerMessageId });

    const event = eventsOf('prompt.answered').find((e) => e.customerId === 'cust-two');
    expect(event).toMatchObject({ promptMessageId: first.body.messageId, reference: 'txn-1', answer: 'yes' });
    const open = (await conversation('cust-two')).openPrompts.map((p: { messageId: string }) => p.messageId);
    expect(open).toEqual([second.body.messageId]);
  });

  it('asks which one for a bare answer with two open prompts, then resolves the numbered reply', async () => {
    const phone = '+12025550145';
    for (const reference of ['txn-a', 'txn-b']) {
      await h.api('/v1/messages', {
        body: cardAlert({
          customerId: 'cust-ask',
          to: { phone },
          reference,
          data: { amount: reference, merchant: 'M' },
        }),
      });
    }
    // Neither outbound message is named: the customer's phone did not say which one they answer.
    await reply(phone, 'N', { replyTo: 'not-a-known-message' });
    const question = outboxBodies(phone).at(-1) ?? '';
    expect(question).toMatch(/which request is your "N" for\? Reply 1 for .*txn-b.*Reply 2 for .*txn-a/);
    expect(eventsOf('prompt.answered').filter((e) => e.customerId === 'cust-ask')).toHaveLength(0);

    await reply(phone, '2', { replyTo: 'not-a-known-message' });
    const answered = eventsOf('prompt.answered').filter((e) => e.customerId === 'cust-ask');
    expect(answered).toEqual([expect.objectContaining({ reference: 'txn-a', answer: 'no' })]);
  });

  it('tells a late reply the request expired and emits prompt.expired', async () => {
    const phone = '+12025550146';
    await h.api('/v1/messages', {
      body: cardAlert({ customerId: 'cust-late', to: { phone }, prompt: { type: 'confirm', expiresInSeconds: 1 } }),
    });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await reply(phone, 'Y');
    expect(outboxBodies(phone).at(-1)).toContain('this request has expired');
    expect(eventsOf('prompt.expired').filter((e) => e.customerId === 'cust-late')).toHaveLength(1);
    expect(eventsOf('prompt.answered').filter((e) => e.customerId === 'cust-late')).toHaveLength(0);
  });

  it('answers a choice prompt by key and hints at the keys for a bad option', async () => {
    const phone = '+12025550147';
    await h.api('/v1/messages', {
      body: {
        customerId: 'cust-choice',
        to: { phone },
        body: { sms: 'Card paused. Reply 1 to unblock, 2 to keep it blocked.' },
        prompt: {
          type: 'choice',
          options: [
            { key: '1', value: 'unblock' },
            { key: '2', value: 'keep_blocked' },
          ],
        },
        reference: 'card-7',
      },
    });
    await reply(phone, '3');
    expect(outboxBodies(phone).at(-1)).toContain('Please reply 1 or 2');
    await reply(phone, '2');
    expect(eventsOf('prompt.answered').find((e) => e.customerId === 'cust-choice')).toMatchObject({
      answer: 'keep_blocked',
      raw: '2',
      reference: 'card-7',
    });
  });
});

describe('consent', () => {
  it('STOP opts out with one confirmation and consent.changed; a send is then recipient_opted_out; START opts back in', async () => {
    const phone = '+12025550148';
    await h.api('/v1/customers/cust-stop', { method: 'PUT', body: { phone } });

    await reply(phone, 'stop please');
    expect(outboxBodies(phone)).toEqual([expect.stringContaining('you are unsubscribed')]);
    expect(eventsOf('consent.changed').at(-1)).toMatchObject({
      customerId: 'cust-stop',
      channel: 'sms',
      status: 'opted_out',
      keyword: 'STOP',
    });
    const refused = await h.api('/v1/messages', { body: { customerId: 'cust-stop', body: { sms: 'hello' } } });
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('recipient_opted_out');
    expect((await h.api('/v1/customers/cust-stop')).body.consent.sms).toMatchObject({
      status: 'opted_out',
      keyword: 'STOP',
    });

    await reply(phone, 'START');
    const allowed = await h.api('/v1/messages', { body: { customerId: 'cust-stop', body: { sms: 'hello again' } } });
    expect(allowed.status).toBe(202);
  });

  it('keeps an unknown number opted out when a backend later gives it to a customer', async () => {
    const phone = '+12025550149';
    await reply(phone, 'UNSUBSCRIBE');
    const sent = await h.api('/v1/messages', {
      body: { customerId: 'cust-new-owner', to: { phone }, body: { sms: 'Welcome' }, channel: 'sms' },
    });
    expect(sent.status).toBe(422);
    expect(sent.body.error.code).toBe('recipient_opted_out');
    expect(outboxBodies(phone)).toEqual([expect.stringContaining('you are unsubscribed')]);
  });

  it('answers HELP from a number Parley has never texted, and stores its free text for agents', async () => {
    const phone = '+12025550150';
    await reply(phone, 'help');
    expect(outboxBodies(phone)).toEqual([expect.stringContaining('Demo Bank alerts: reply STOP to opt out')]);
    await reply(phone, 'Who is this?');
    const timeline = await conversation(`sms:${phone}`);
    expect(timeline.messages.map((m: { body: string }) => m.body)).toEqual([
      // Free text is acknowledged (the demo tenant's acknowledgement).
      expect.stringContaining('we have your message'),
      'Who is this?',
      expect.stringContaining('Demo Bank alerts'),
      'help',
    ]);
    expect(eventsOf('message.received').at(-1)).toMatchObject({ customerId: `sms:${phone}`, body: 'Who is this?' });
    const attention = (await h.api('/v1/conversations?needs=attention')).body.conversations;
    expect(attention.find((c: { customerId: string }) => c.customerId === `sms:${phone}`)).toMatchObject({
      reasons: ['free_text'],
      summary: 'Who is this?',
    });
  });
});

describe('keywords and free text', () => {
  it('BAL emits keyword.received and the demo backend answers with the balance', async () => {
    const phone = '+12025550151';
    await h.api('/v1/customers/cust-bal', { method: 'PUT', body: { phone } });
    await reply(phone, 'bal');
    expect(eventsOf('keyword.received').at(-1)).toMatchObject({ customerId: 'cust-bal', keyword: 'BAL', raw: 'bal' });
    const bodies = await eventually(
      () => outboxBodies(phone),
      (b) => b.length > 0,
    );
    expect(bodies).toEqual(['Demo Bank: your available balance is $1,234.56.']);
  });

  it('STMT sends its auto-reply template', async () => {
    const phone = '+12025550152';
    await reply(phone, 'STMT');
    expect(outboxBodies(phone)).toEqual(['Demo Bank: your latest statement is on its way by email.']);
  });
});

describe('delivery', () => {
  it('the same inbound event delivered 3 times: one stored message, one reply, one event', async () => {
    const phone = '+12025550153';
    const payload = {
      originationNumber: phone,
      destinationNumber: h.gateway.smsNumber,
      messageKeyword: 'KEYWORD_1',
      messageBody: 'STOP',
      inboundMessageId: 'dup-inbound-1',
    };
    const event = snsEventFor(JSON.stringify(payload));
    for (let i = 0; i < 3; i++) await invokeInbound(event);
    const changes = eventsOf('consent.changed').filter((e) => e.customerId === `sms:${phone}`);
    expect(changes).toHaveLength(1);
    expect(outboxBodies(phone)).toHaveLength(1);
    const stored = (await conversation(`sms:${phone}`)).messages.filter(
      (m: { direction: string }) => m.direction === 'inbound',
    );
    expect(stored).toHaveLength(1);
  });

  it('20 concurrent replies from one customer all land in the conversation', async () => {
    const phone = '+12025550154';
    await h.api('/v1/customers/cust-busy', { method: 'PUT', body: { phone } });
    await Promise.all(Array.from({ length: 20 }, (_, i) => reply(phone, `message number ${i}`)));
    const bodies = (await conversation('cust-busy')).messages
      .filter((m: { direction: string }) => m.direction === 'inbound')
      .map((m: { body: string }) => m.body);
    expect(bodies).toHaveLength(20);
    expect(new Set(bodies).size).toBe(20);
    expect(eventsOf('message.received').filter((e) => e.customerId === 'cust-busy')).toHaveLength(20);
    // Twenty free texts at once are acknowledged once: the acknowledgement is decided on the customer's version.
    expect(outboxBodies(phone).filter((body: string) => body.includes('we have your message'))).toHaveLength(1);
  });

  it('handles the AWS fixture event shape', async () => {
    const fixture = JSON.parse(readFileSync(fixturePath, 'utf8')) as SNSEvent;
    const record = fixture.Records[0];
    if (!record) throw new Error('fixture has no record');
    const message = JSON.parse(record.Sns.Message) as Record<string, string>;
    record.Sns.Message = JSON.stringify({ ...message, destinationNumber: h.gateway.smsNumber, messageBody: 'INFO' });
    await invokeInbound(fixture);
    expect(outboxBodies(message.originationNumber as string)).toEqual([expect.stringContaining('Demo Bank alerts')]);
  });
});

describe('malformed events', () => {
  const cases: [string, string][] = [
    ['a Message that is not JSON', 'this is not json'],
    ['missing fields', JSON.stringify({ originationNumber: '+12025550160', messageBody: 'hi' })],
    [
      'an unknown destination number',
      JSON.stringify({
        originationNumber: '+12025550160',
        destinationNumber: '+12125550101',
        messageBody: 'hi',
        inboundMessageId: 'unknown-destination',
      }),
    ],
    [
      'a 5 KB body',
      JSON.stringify({
        originationNumber: '+12025550160',
        destinationNumber: '+12065550100',
        messageBody: 'x'.repeat(5 * 1024),
        inboundMessageId: 'too-long',
      }),
    ],
  ];

  it.each(cases)('dead-letters %s with a reason, stores nothing and does not throw', async (_, message) => {
    const before = h.gateway.edges.deadLetters.list().length;
    await expect(invokeInbound(snsEventFor(message))).resolves.toBeUndefined();
    const letters = h.gateway.edges.deadLetters.list();
    expect(letters).toHaveLength(before + 1);
    expect(letters.at(-1)?.attributes.reason).toEqual(expect.any(String));
    expect(JSON.parse(letters.at(-1)?.body ?? '{}').Sns.Message).toBe(message);
    expect(h.gateway.edges.outbox.list({ to: '+12025550160' })).toEqual([]);
    expect((await h.api('/v1/customers/sms:+12025550160')).status).toBe(404);
  });
});
