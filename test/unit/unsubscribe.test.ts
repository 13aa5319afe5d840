import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../../functions/domain/errors.ts';
import { newMessageId } from '../../functions/domain/ids.ts';
import type { Message } from '../../functions/domain/model.ts';
import {
  createAddressUnsubscribeToken,
  createMessageUnsubscribeToken,
  createReplyToken,
  verifyReplyToken,
  verifyUnsubscribeToken,
} from '../../functions/domain/tokens.ts';
import {
  resolveUnsubscribeToken,
  type UnsubscribeDeps,
  unsubscribeEmail,
  unsubscribeLinks,
  unsubscribeRecipientOf,
  unsubscribeTokenFor,
} from '../../functions/domain/unsubscribe.ts';
import {
  FakeClock,
  InMemoryCustomerStore,
  InMemoryMessageStore,
  makeTenant,
  RecordingEventPublisher,
  tenantId,
} from './fakes.ts';

const secret = 'test-secret-0123456789abcdef0123456789';
const messageId = newMessageId(tenantId, 'order-42');
const address = 'ana@example.com';

describe('unsubscribe tokens', () => {
  it('round-trip the tenant and the address, lower case', () => {
    const token = createAddressUnsubscribeToken(secret, tenantId, 'Ana.Lopez+alerts@Example.COM') as string;

    expect(token).toMatch(/^demo-bank\.ana\.lopez\+alerts=example\.com\.[0-9a-z]{16}$/);
    expect(verifyUnsubscribeToken(secret, token)).toEqual({ tenantId, address: 'ana.lopez+alerts@example.com' });
  });

  it('round-trip the tenant and the message id', () => {
    const token = createMessageUnsubscribeToken(secret, tenantId, messageId);

    expect(token).toMatch(/^demo-bank\.[0-9a-z]{42}$/);
    expect(verifyUnsubscribeToken(secret, token)).toEqual({ tenantId, messageId });
  });

  it('are verified whatever the case, as mail servers may change a local part', () => {
    const byAddress = createAddressUnsubscribeToken(secret, tenantId, address) as string;
    const byMessage = createMessageUnsubscribeToken(secret, tenantId, messageId);

    expect(verifyUnsubscribeToken(secret, byAddress.toUpperCase())).toEqual({ tenantId, address });
    expect(verifyUnsubscribeToken(secret, byMessage.toUpperCase())).toEqual({ tenantId, messageId });
  });

  it('cannot carry an address with characters a local part or a path would change', () => {
    for (const unusual of ["o'brien@example.com", 'a=b@example.com', 'a/b@example.com', '"a b"@example.com']) {
      expect(createAddressUnsubscribeToken(secret, tenantId, unusual)).toBeUndefined();
    }
  });

  it('refuse a token moved to another tenant, another address or another message', () => {
    const byAddress = createAddressUnsubscribeToken(secret, tenantId, address) as string;
    const byMessage = createMessageUnsubscribeToken(secret, tenantId, messageId);
    const other = createMessageUnsubscribeToken(secret, tenantId, newMessageId(tenantId, 'order-43'));

    expect(verifyUnsubscribeToken(secret, byAddress.replace(/^demo-bank\./, 'evil-bank.'))).toBeUndefined();
    expect(verifyUnsubscribeToken(secret, byAddress.replace('ana=', 'bob='))).toBeUndefined();
    expect(verifyUnsubscribeToken(secret, `${byMessage.slice(0, 36)}${other.slice(36)}`)).toBeUndefined();
    expect(verifyUnsubscribeToken(secret, `${other.slice(0, 36)}${byMessage.slice(36)}`)).toBeUndefined();
  });

  it('refuse a token signed with another secret, and a reply token', () => {
    expect(
      verifyUnsubscribeToken(secret, createMessageUnsubscribeToken('another-secret', tenantId, messageId)),
    ).toBeUndefined();
    const reply = createReplyToken(secret, tenantId, messageId);
    expect(verifyUnsubscribeToken(secret, reply)).toBeUndefined();
    // And the other way: an unsubscribe token never answers a message.
    expect(
      verifyReplyToken(secret, createAddressUnsubscribeToken(secret, tenantId, address) as string),
    ).toBeUndefined();
  });

  it.each(['', 'demo-bank', 'demo-bank.', '.ana=example.com.0123456789abcdef', 'demo-bank.ana=example.com', 'a..b'])(
    'refuse the malformed token %j',
    (token) => {
      expect(verifyUnsubscribeToken(secret, token)).toBeUndefined();
    },
  );

  it('refuse any changed character (property)', () => {
    const token = createAddressUnsubscribeToken(secret, tenantId, address) as string;
    fc.assert(
      fc.property(
        fc.nat({ max: token.length - 1 }),
        fc.constantFrom(...'0123456789abcdefghjkmnpqrstvwxyz=.+-'),
        (i, c) => {
          fc.pre(token[i] !== c);
          const changed = `${token.slice(0, i)}${c}${token.slice(i + 1)}`;
          expect(verifyUnsubscribeToken(secret, changed)).toBeUndefined();
        },
      ),
    );
  });
});

describe('unsubscribe links', () => {
  const config = { tokenSecret: secret, replyDomain: 'reply.parley.test', publicUrl: 'https://api.parley.test' };

  it('give a mailto and a one-click URL with the same token', () => {
    const links = unsubscribeLinks(config, tenantId, address, messageId);

    const token = createAddressUnsubscribeToken(secret, tenantId, address);
    expect(links).toEqual({
      mailto: `unsubscribe+${token}@reply.parley.test`,
      url: `https://api.parley.test/v1/unsubscribe/${token}`,
    });
  });

  it('sign the message id instead when the address would not fit a 64-character local part', () => {
    const long = `${'a'.repeat(30)}@example.com`;

    const { token, fitsMailto } = unsubscribeTokenFor(secret, tenantId, long, messageId);

    expect(token).toBe(createMessageUnsubscribeToken(secret, tenantId, messageId));
    expect(fitsMailto).toBe(true);
    expect(`unsubscribe+${token}`.length).toBeLessThanOrEqual(64);
  });

  it('keep every mailto local part within 64 characters, dropping the mailto rather than exceed it', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9][a-z0-9-]{1,19}$/), fc.emailAddress(), (tenant, to) => {
        const links = unsubscribeLinks(config, tenant, to, newMessageId(tenant));
        const local = links.mailto?.slice(0, links.mailto.lastIndexOf('@'));
        if (local !== undefined) expect(local.length).toBeLessThanOrEqual(64);
        const token = links.url?.split('/').at(-1) as string;
        expect(verifyUnsubscribeToken(secret, token)?.tenantId).toBe(tenant);
        if (links.mailto) expect(links.mailto).toBe(`unsubscribe+${token}@reply.parley.test`);
      }),
    );
  });

  it('give no URL without a public URL, and never a doubled slash', () => {
    expect(unsubscribeLinks({ ...config, publicUrl: undefined }, tenantId, address, messageId).url).toBeUndefined();
    expect(
      unsubscribeLinks({ ...config, publicUrl: 'https://api.parley.test/' }, tenantId, address, messageId).url,
    ).toMatch(/^https:\/\/api\.parley\.test\/v1\/unsubscribe\//);
  });

  it('are read back from a mail to the unsubscribe address, as the inbound email handler reads them', () => {
    const links = unsubscribeLinks(config, tenantId, address, messageId);
    const mailto = links.mailto as string;

    expect(
      unsubscribeRecipientOf(['someone@else.test', mailto.toUpperCase()], {
        tokenSecret: secret,
        replyDomain: 'reply.parley.test',
      }),
    ).toEqual({ tenantId, address, recipient: mailto.toLowerCase() });
    expect(unsubscribeRecipientOf([mailto], { tokenSecret: secret, replyDomain: 'other.test' })).toBeUndefined();
    expect(
      unsubscribeRecipientOf([mailto.replace('unsubscribe+', 'reply+')], {
        tokenSecret: secret,
        replyDomain: 'reply.parley.test',
      }),
    ).toBeUndefined();
  });
});

const unsubscribeDeps = () => {
  const customers = new InMemoryCustomerStore();
  const messages = new InMemoryMessageStore();
  const events = new RecordingEventPublisher();
  const clock = new FakeClock(Date.parse('2025-06-01T12:00:00.000Z'));
  const deps: UnsubscribeDeps = {
    tokenSecret: secret,
    customers,
    messages,
    events,
    clock,
    getTenant: async (id) => (id === tenantId ? makeTenant() : undefined),
  };
  return { deps, customers, messages, events, clock };
};

const sentEmail = (overrides: Partial<Message> = {}): Message => ({
  messageId,
  tenantId,
  customerId: 'cust-1',
  timelineId: '01HZ0000000000000000000000',
  direction: 'outbound',
  channel: 'email',
  to: address,
  from: 'alerts@demo-bank.example',
  body: 'Your statement',
  status: 'sent',
  statusHistory: [],
  createdAt: '2025-06-01T11:00:00.000Z',
  ...overrides,
});

/** A message as a send leaves it: the claim that names it and the timeline item. */
const storeMessage = async (messages: InMemoryMessageStore, message: Message) => {
  await messages.claimMessage({
    tenantId: message.tenantId,
    messageId: message.messageId,
    customerId: message.customerId,
    timelineId: message.timelineId,
    requestHash: 'h',
    leaseUntil: 0,
    createdAt: message.createdAt,
  });
  await messages.putMessage(message);
};

describe('one-click unsubscribe', () => {
  it('opts the address out for every customer of it, with one consent.changed (email, unsubscribe)', async () => {
    const { deps, customers, events } = unsubscribeDeps();
    for (const id of ['cust-1', 'cust-2']) {
      customers.seed({ tenantId, customerId: id, email: address });
      await customers.putAddress(tenantId, 'email', address, id);
    }
    const subject = await resolveUnsubscribeToken(
      deps,
      createAddressUnsubscribeToken(secret, tenantId, address) as string,
    );

    const result = await unsubscribeEmail(deps, subject);

    expect(result).toEqual({ changed: true });
    const record = { status: 'opted_out', at: '2025-06-01T12:00:00.000Z', reason: 'unsubscribe' };
    expect(customers.addressConsent.get(`${tenantId}/email/${address}`)).toEqual(record);
    for (const id of ['cust-1', 'cust-2']) {
      expect((await customers.getCustomer(tenantId, id))?.consent.email).toEqual(record);
    }
    expect(events.events).toEqual([
      {
        type: 'consent.changed',
        detail: {
          tenantId,
          customerId: 'cust-2',
          occurredAt: '2025-06-01T12:00:00.000Z',
          channel: 'email',
          status: 'opted_out',
          reason: 'unsubscribe',
        },
      },
    ]);
  });

  it('changes nothing and announces nothing the second time', async () => {
    const { deps, customers, events, clock } = unsubscribeDeps();
    customers.seed({ tenantId, customerId: 'cust-1', email: address });
    await customers.putAddress(tenantId, 'email', address, 'cust-1');
    const subject = await resolveUnsubscribeToken(
      deps,
      createAddressUnsubscribeToken(secret, tenantId, address) as string,
    );
    await unsubscribeEmail(deps, subject);
    const before = await customers.getCustomer(tenantId, 'cust-1');
    clock.advance(60_000);

    const again = await unsubscribeEmail(deps, subject);

    expect(again).toEqual({ changed: false });
    expect(events.events).toHaveLength(1);
    expect(await customers.getCustomer(tenantId, 'cust-1')).toEqual(before);
    expect(customers.addressConsent.get(`${tenantId}/email/${address}`)?.at).toBe('2025-06-01T12:00:00.000Z');
  });

  it('announces once when two clicks arrive together (both read the address before either wrote)', async () => {
    // Prepare: each click reads the clock a moment after the other
    const { deps, customers, events, clock } = unsubscribeDeps();
    customers.seed({ tenantId, customerId: 'cust-1', email: address });
    await customers.putAddress(tenantId, 'email', address, 'cust-1');
    const subject = await resolveUnsubscribeToken(
      deps,
      createAddressUnsubscribeToken(secret, tenantId, address) as string,
    );
    let ticks = 0;
    deps.clock = { now: () => clock.now() + ticks++ };

    // Act
    const results = await Promise.all([unsubscribeEmail(deps, subject), unsubscribeEmail(deps, subject)]);

    // Assess
    expect(results.filter((r) => r.changed)).toHaveLength(1);
    expect(events.events.map((e) => e.type)).toEqual(['consent.changed']);
    expect(customers.addressConsent.get(`${tenantId}/email/${address}`)?.status).toBe('opted_out');
  });

  it('brings a customer in line that an earlier attempt left out, still without announcing', async () => {
    const { deps, customers, events } = unsubscribeDeps();
    customers.seed({ tenantId, customerId: 'cust-1', email: address });
    await customers.putAddress(tenantId, 'email', address, 'cust-1');
    // The address was opted out, and the attempt stopped before the customer was written.
    await customers.setAddressConsent(tenantId, 'email', address, {
      status: 'opted_out',
      at: '2025-06-01T11:59:00.000Z',
      reason: 'unsubscribe',
    });
    const subject = await resolveUnsubscribeToken(
      deps,
      createAddressUnsubscribeToken(secret, tenantId, address) as string,
    );

    expect(await unsubscribeEmail(deps, subject)).toEqual({ changed: false });

    expect((await customers.getCustomer(tenantId, 'cust-1'))?.consent.email?.status).toBe('opted_out');
    expect(events.events).toEqual([]);
  });

  it('reads the address and the customer from the message a message-id token names', async () => {
    const { deps, customers, messages, events } = unsubscribeDeps();
    customers.seed({ tenantId, customerId: 'cust-1', email: address });
    await customers.putAddress(tenantId, 'email', address, 'cust-1');
    await storeMessage(messages, sentEmail());

    const subject = await resolveUnsubscribeToken(deps, createMessageUnsubscribeToken(secret, tenantId, messageId));
    await unsubscribeEmail(deps, subject);

    expect(subject).toMatchObject({ address, customerId: 'cust-1', messageId });
    expect(events.events[0]?.detail).toMatchObject({ customerId: 'cust-1', messageId, channel: 'email' });
  });

  it('is not found for a bad token, a foreign one, an unknown tenant or a message that is not an email sent', async () => {
    const { deps, messages } = unsubscribeDeps();
    await storeMessage(messages, sentEmail({ channel: 'sms', to: '+12025550143' }));
    const inboundId = newMessageId(tenantId, 'inbound:1');
    await storeMessage(
      messages,
      sentEmail({ messageId: inboundId, timelineId: '01HZ0000000000000000000001', direction: 'inbound' }),
    );

    for (const token of [
      'nonsense',
      createAddressUnsubscribeToken('another-deployment-secret', tenantId, address) as string,
      createAddressUnsubscribeToken(secret, 'gone-bank', address) as string,
      createMessageUnsubscribeToken(secret, tenantId, messageId),
      createMessageUnsubscribeToken(secret, tenantId, inboundId),
      createMessageUnsubscribeToken(secret, tenantId, newMessageId(tenantId, 'never-sent')),
    ]) {
      await expect(resolveUnsubscribeToken(deps, token)).rejects.toBeInstanceOf(NotFoundError);
    }
  });
});
