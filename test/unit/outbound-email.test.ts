import { beforeEach, describe, expect, it } from 'vitest';
import { handleInbound } from '../../functions/domain/inbound.ts';
import type { Message } from '../../functions/domain/model.ts';
import { deliver } from '../../functions/domain/outbound.ts';
import {
  type FakeInboundDeps,
  type FakeSendDeps,
  fakeUnsubscribeLinks,
  inboundDeps,
  makeTenant,
  sendDeps,
  tenantId,
} from './fakes.ts';

const messageId = 'msg_01HZ0000000000000000000000';
const thread = {
  inReplyTo: 'CAF=reply@mail.example.com',
  references: ['alert@email.amazonses.com', 'CAF=reply@mail.example.com'],
};

const draft = (overrides: Partial<Message> = {}): Message => ({
  messageId,
  tenantId,
  customerId: 'cust-1',
  timelineId: '01HZ0000000000000000000000',
  direction: 'outbound',
  channel: 'email',
  to: 'ana@example.com',
  from: 'alerts@demo-bank.example',
  subject: 'Your statement',
  body: 'It is ready.',
  status: 'sending',
  statusHistory: [],
  createdAt: '2025-06-02T12:00:00.000Z',
  ...overrides,
});

describe('outbound email', () => {
  let deps: FakeSendDeps;
  beforeEach(() => {
    deps = sendDeps();
  });

  it('goes with the List-Unsubscribe targets for its tenant, address and message', async () => {
    await deliver(deps, draft());

    expect(deps.email.sent).toHaveLength(1);
    expect(deps.email.sent[0]?.unsubscribe).toEqual(fakeUnsubscribeLinks(tenantId, 'ana@example.com', messageId));
    expect(deps.email.sent[0]?.thread).toBeUndefined();
    expect(deps.email.sent[0]?.subject).toBe('Your statement');
  });

  it('goes threaded when it answers a customer email, its subject (as sent and as stored) with Re: once', async () => {
    const first = await deliver(deps, draft({ emailThread: thread }));
    const again = await deliver(
      deps,
      draft({ messageId: 'msg_01HZ0000000000000000000001', subject: 'Re: Your statement', emailThread: thread }),
    );

    expect(deps.email.sent.map((e) => [e.subject, e.thread])).toEqual([
      ['Re: Your statement', thread],
      ['Re: Your statement', thread],
    ]);
    expect(first.message.subject).toBe('Re: Your statement');
    expect(again.message.subject).toBe('Re: Your statement');
  });

  it.each(['Hello\r\nBcc: victim@example.com', 'Hello\nthere', 'Tab\there'])(
    'refuses a subject that is not one line (%j) before the provider is called',
    async (subject) => {
      await expect(deliver(deps, draft({ subject }))).rejects.toMatchObject({ code: 'invalid_request' });

      expect(deps.email.attempts).toEqual([]);
    },
  );
});

describe('a reply to a customer email', () => {
  let deps: FakeInboundDeps;
  beforeEach(() => {
    deps = inboundDeps();
  });

  it('goes out in the customer thread, adding no second Re:, the breaks of the received subject gone', async () => {
    deps.customers.seed({ tenantId, customerId: 'cust-1', email: 'ana@example.com' });
    await deps.customers.putAddress(tenantId, 'email', 'ana@example.com', 'cust-1');

    await handleInbound(deps, {
      tenant: makeTenant(),
      channel: 'email',
      from: 'ana@example.com',
      to: 'reply+token@reply.parley.test',
      body: 'HELP',
      subject: 'Re:\tRE: card\r\n alert',
      inboundMessageId: 'email:CAF=reply@mail.example.com',
      receivedAt: '2025-06-02T11:00:00.000Z',
      replyThread: thread,
    });

    expect(deps.email.sent).toHaveLength(1);
    expect(deps.email.sent[0]).toMatchObject({ to: 'ana@example.com', subject: 'Re: RE: card alert', thread });
  });
});
