import { describe, expect, it } from 'vitest';
import { verifyChatToken } from '../../functions/domain/chat-tokens.ts';
import {
  callbackContext,
  closeCallback,
  connectChat,
  disconnectChat,
  escalateFromInbound,
  historyFrames,
  listNeedingAttention,
  maxChatFrameBytes,
  messageFrame,
  pushToChat,
  receiveChatFrame,
  requestCallback,
  startChat,
  startChatSession,
} from '../../functions/domain/escalation.ts';
import { newTimelineId } from '../../functions/domain/ids.ts';
import type { Customer, Message } from '../../functions/domain/model.ts';
import { at, escalationDeps, type FakeEscalationDeps, makeTenant, tenantId } from './fakes.ts';

const tenant = makeTenant();
const customerId = 'cust-42';
const phone = '+12025550143';

let messageCount = 0;
/** Stores a message in the customer's timeline, `minutesAgo` before the fake clock's now. */
const seedMessage = async (
  deps: FakeEscalationDeps,
  overrides: Partial<Message> & { minutesAgo?: number } = {},
): Promise<Message> => {
  const { minutesAgo = 5, ...fields } = overrides;
  const ms = deps.clock.now() - minutesAgo * 60_000 + messageCount++;
  const message: Message = {
    messageId: `msg_${String(messageCount).padStart(26, '0')}`,
    tenantId,
    customerId,
    timelineId: newTimelineId(ms),
    direction: 'inbound',
    channel: 'sms',
    to: tenant.smsNumber,
    from: phone,
    body: 'hello',
    status: 'received',
    statusHistory: [],
    createdAt: new Date(ms).toISOString(),
    ...fields,
  };
  await deps.messages.putMessage(message);
  return message;
};

const seedCustomer = (deps: FakeEscalationDeps, overrides: Partial<Customer> = {}) =>
  deps.customers.seed({ tenantId, customerId, phone, ...overrides });

const now = (deps: FakeEscalationDeps) => new Date(deps.clock.now()).toISOString();

const call = (deps: FakeEscalationDeps, inboundMessageId?: string) =>
  requestCallback(deps, {
    tenant,
    customerId,
    keyword: 'CALL',
    at: now(deps),
    ...(inboundMessageId !== undefined && { idempotencyKey: inboundMessageId }),
  });

/** Starts a session, connects a WebSocket to it and returns the connection id. */
const connected = async (deps: FakeEscalationDeps, connectionId = 'conn-1') => {
  const session = await startChatSession(deps, { tenant, customerId });
  const result = await connectChat(deps, { connectionId, token: session.token });
  expect(result.connected).toBe(true);
  return { connectionId, session };
};

describe('escalation', () => {
  describe('callbacks', () => {
    it('opens a callback with the context, raises it for attention and emits callback.requested', async () => {
      // Prepare
      const deps = escalationDeps();
      seedCustomer(deps);
      await seedMessage(deps, {
        direction: 'outbound',
        body: 'Card used: $420.00 at ACME. Reply Y if this was you',
        reference: 'txn-987',
      });

      // Act
      const { callback, created } = await call(deps);

      // Assess
      expect(created).toBe(true);
      expect(callback).toMatchObject({ tenantId, customerId, status: 'requested', keyword: 'CALL', phone });
      expect(callback.callbackId).toMatch(/^cb_[0-9A-Z]{26}$/);
      expect(callback.context.references).toEqual(['txn-987']);
      expect(await deps.callbacks.getCallback(tenantId, callback.callbackId)).toEqual(callback);
      expect(await deps.attention.get(tenantId, customerId)).toMatchObject({
        reasons: { callback: { ref: callback.callbackId } },
      });
      expect(deps.events.types()).toEqual(['callback.requested']);
      expect(deps.events.events[0]?.detail).toMatchObject({ callbackId: callback.callbackId, reference: 'txn-987' });
    });

    it('keeps one open callback per customer: asking again returns it, with no second event', async () => {
      const deps = escalationDeps();
      seedCustomer(deps);
      const first = await call(deps);
      deps.clock.advance(60_000);

      const second = await call(deps);

      expect(second).toEqual({ callback: first.callback, created: false });
      expect((await deps.callbacks.listCallbacks(tenantId, { limit: 10, status: 'requested' })).items).toHaveLength(1);
      expect(deps.events.types()).toEqual(['callback.requested']);
    });

    it('repairs a crash between the guard and the record on the next request, instead of blocking the customer', async () => {
      // Prepare: the first request dies after its first write.
      const deps = escalationDeps();
      seedCustomer(deps);
      deps.callbacks.failWrite(2);
      await expect(call(deps)).rejects.toThrow('crashed');

      // Act: the customer texts CALL again.
      deps.clock.advance(60_000);
      const retried = await call(deps);

      // Assess: a callback exists, is listed once, and the customer is told it is on its way.
      expect(retried.created).toBe(true);
      const listed = (await deps.callbacks.listCallbacks(tenantId, { limit: 10, status: 'requested' })).items;
      expect(listed.map((c) => c.callbackId)).toEqual([retried.callback.callbackId]);
      expect(await deps.attention.reasonsOf(tenantId, customerId)).toEqual(['callback']);
      expect(deps.events.types()).toEqual(['callback.requested']);
    });

    it('names the same callback on a redelivery of the same inbound message, and finishes its follow-ups', async () => {
      const deps = escalationDeps();
      seedCustomer(deps);
      // The first delivery stored the callback, then died before its event went.
      deps.events.failWith = new Error('EventBridge down');
      await expect(call(deps, 'inbound-1')).rejects.toThrow('EventBridge down');
      deps.events.failWith = undefined;
      const [first] = (await deps.callbacks.listCallbacks(tenantId, { limit: 10 })).items;

      const again = await call(deps, 'inbound-1');

      expect(again.callback.callbackId).toBe(first?.callbackId);
      expect(again.created).toBe(true);
      expect(deps.events.types()).toEqual(['callback.requested']);
      expect((await deps.callbacks.listCallbacks(tenantId, { limit: 10 })).items).toHaveLength(1);
    });

    it('keeps summaries of at most 160 characters a message in the context, cut on whole characters', async () => {
      // Prepare: five long emails (95 KB each) and a message whose cut falls inside an emoji.
      const deps = escalationDeps();
      seedCustomer(deps);
      for (let i = 0; i < 5; i++) {
        await seedMessage(deps, { channel: 'email', body: `Email ${i}: ${'x'.repeat(95 * 1024)}`, minutesAgo: 10 - i });
      }
      const emoji = `${'a'.repeat(158)}😀 and more`;
      await seedMessage(deps, { body: emoji, minutesAgo: 1 });

      // Act
      const { callback } = await call(deps);

      // Assess
      const bodies = callback.context.recentMessages.map((m) => m.body);
      expect(bodies).toHaveLength(6);
      for (const body of bodies) expect(body.length).toBeLessThanOrEqual(160);
      // Newest first: the emoji is not split, the emails are cut.
      expect(bodies[0]).toBe(`${'a'.repeat(157)}...`);
      expect(bodies.at(-1)).toMatch(/^Email 0: x+\.\.\.$/);
      expect(Buffer.byteLength(JSON.stringify(callback))).toBeLessThan(8 * 1024);
    });

    it('summarises open prompts in the context too', () => {
      const context = callbackContext(
        {
          tenantId,
          customerId,
          preferences: {},
          consent: {},
          openPrompts: {
            p: {
              messageId: 'p',
              type: 'confirm',
              expiresAt: '2025-06-02T13:00:00.000Z',
              summary: 'y'.repeat(500),
              createdAt: '2025-06-02T12:00:00.000Z',
            },
          },
          promptAnswers: {},
          createdAt: '2025-01-01T00:00:00.000Z',
          updatedAt: '2025-01-01T00:00:00.000Z',
          version: 1,
        },
        [],
      );

      expect(context.openPrompts[0]?.summary).toHaveLength(160);
    });

    it('closing clears the callback from the attention list, emits callback.completed, and lets the customer ask again', async () => {
      const deps = escalationDeps();
      seedCustomer(deps);
      const { callback } = await call(deps);
      deps.clock.advance(60_000);

      const closed = await closeCallback(deps, {
        tenantId,
        callbackId: callback.callbackId,
        status: 'completed',
        note: 'Called back',
      });

      expect(closed).toMatchObject({ status: 'completed', note: 'Called back', closedAt: now(deps) });
      expect(await deps.attention.get(tenantId, customerId)).toBeUndefined();
      expect(deps.events.types()).toEqual(['callback.requested', 'callback.completed']);
      await expect(
        closeCallback(deps, { tenantId, callbackId: callback.callbackId, status: 'cancelled' }),
      ).rejects.toMatchObject({ code: 'not_cancellable' });
      deps.clock.advance(60_000);
      const next = await call(deps);
      expect(next.created).toBe(true);
      expect(next.callback.callbackId).not.toBe(callback.callbackId);
    });

    it('the same close again finishes a close that crashed before clearing attention, and changes nothing else', async () => {
      const deps = escalationDeps();
      seedCustomer(deps);
      const { callback } = await call(deps);
      deps.clock.advance(60_000);
      const closedAt = now(deps);
      const clear = deps.attention.clear.bind(deps.attention);
      let crash = true;
      deps.attention.clear = async (...args) => {
        if (crash) {
          crash = false;
          throw new Error('crashed');
        }
        return clear(...args);
      };
      const input = { tenantId, callbackId: callback.callbackId, status: 'completed' as const, note: 'Called back' };
      await expect(closeCallback(deps, input)).rejects.toThrow('crashed');
      expect(await deps.attention.get(tenantId, customerId)).toBeDefined();
      expect(deps.events.types()).toEqual(['callback.requested']);

      deps.clock.advance(60_000);
      const again = await closeCallback(deps, input);

      expect(again).toMatchObject({ status: 'completed', closedAt });
      expect(await deps.attention.get(tenantId, customerId)).toBeUndefined();
      expect(deps.events.types()).toEqual(['callback.requested', 'callback.completed']);
    });

    it('takes over a guard left on a closed callback (a close that died before freeing it)', async () => {
      const deps = escalationDeps();
      seedCustomer(deps);
      const { callback } = await call(deps);
      deps.callbacks.failWrite(2); // the close's second write: freeing the guard
      await expect(
        closeCallback(deps, { tenantId, callbackId: callback.callbackId, status: 'cancelled' }),
      ).rejects.toThrow('crashed');

      deps.clock.advance(60_000);
      const next = await call(deps);

      expect(next.created).toBe(true);
      expect(next.callback.callbackId).not.toBe(callback.callbackId);
    });

    it('answers not_found for an unknown or malformed callback id', async () => {
      const deps = escalationDeps();
      for (const callbackId of ['cb_00000000000000000000000000', 'nope']) {
        await expect(closeCallback(deps, { tenantId, callbackId, status: 'completed' })).rejects.toMatchObject({
          code: 'not_found',
        });
      }
    });

    it('CALL by SMS acknowledges a new callback, then says it is already with us', async () => {
      const deps = escalationDeps();
      seedCustomer(deps);
      const input = { tenant, customerId, kind: 'callback' as const, keyword: 'CALL', at: now(deps) };

      const first = await escalateFromInbound(deps, { ...input, inboundMessageId: 'in-1' });
      const second = await escalateFromInbound(deps, { ...input, inboundMessageId: 'in-2' });

      expect(first.reply).toContain('an agent will call you back shortly');
      expect(second.reply).toContain('already with us');
      expect(second.effect).toEqual(first.effect);
    });
  });

  describe('chat sessions', () => {
    it('signs a link bound to tenant, customer and session, and a new session ends the previous one', async () => {
      const deps = escalationDeps();
      seedCustomer(deps);

      const first = await startChatSession(deps, { tenant, customerId });
      deps.clock.advance(1000);
      const second = await startChatSession(deps, { tenant, customerId });

      expect(first.url).toBe(`https://chat.parley.test/chat#${first.token}`);
      expect(verifyChatToken(deps.tokenSecret, first.token, deps.clock.now())).toMatchObject({
        tenantId,
        sessionId: first.sessionId,
      });
      expect(second.sessionId).not.toBe(first.sessionId);
      expect((await deps.chats.getChatSession(tenantId, first.sessionId))?.status).toBe('ended');
      expect((await connectChat(deps, { connectionId: 'c1', token: first.token })).connected).toBe(false);
      expect((await connectChat(deps, { connectionId: 'c2', token: second.token })).connected).toBe(true);
    });

    it('a redelivered CHAT (the same inbound message) returns the same session and link, which still connects', async () => {
      // Prepare
      const deps = escalationDeps();
      seedCustomer(deps);
      const chat = {
        tenant,
        customerId,
        kind: 'chat' as const,
        keyword: 'CHAT',
        at: now(deps),
        inboundMessageId: 'in-7',
      };
      const first = await escalateFromInbound(deps, chat);

      // Act: SNS delivers the same message again, a little later.
      deps.clock.advance(30_000);
      const again = await escalateFromInbound(deps, chat);

      // Assess
      expect(again.reply).toBe(first.reply);
      const token = first.reply.split('#')[1] as string;
      expect((await connectChat(deps, { connectionId: 'c1', token })).connected).toBe(true);
      expect(deps.chats.sessions.size).toBe(1);
    });

    it('a different CHAT starts a new session', async () => {
      const deps = escalationDeps();
      seedCustomer(deps);
      const chat = { tenant, customerId, kind: 'chat' as const, keyword: 'CHAT', at: now(deps) };

      const first = await escalateFromInbound(deps, { ...chat, inboundMessageId: 'in-1' });
      deps.clock.advance(1000);
      const second = await escalateFromInbound(deps, { ...chat, inboundMessageId: 'in-2' });

      expect(second.reply).not.toBe(first.reply);
    });

    it('CHAT to a tenant without chat becomes a callback', async () => {
      const deps = escalationDeps();
      seedCustomer(deps);

      const result = await escalateFromInbound(deps, {
        tenant: makeTenant({ chatEnabled: false }),
        customerId,
        kind: 'chat',
        keyword: 'CHAT',
        at: now(deps),
      });

      expect(result.effect.type).toBe('callback_requested');
      expect(deps.chats.sessions.size).toBe(0);
    });

    it('texting the link leaves the unanswered question in the attention list', async () => {
      // Prepare: the customer asked something; nobody has answered.
      const deps = escalationDeps();
      seedCustomer(deps, { activeChannel: 'sms' });
      await deps.attention.raise(tenantId, customerId, 'free_text', { at: now(deps), summary: 'Is my card safe?' });
      deps.clock.advance(1000);

      // Act
      const started = await startChat(deps, { tenant, customerId, sendLink: true });

      // Assess
      expect(await deps.attention.reasonsOf(tenantId, customerId)).toEqual(['free_text']);
      expect(deps.sms.sent).toEqual([
        expect.objectContaining({ to: phone, body: `Demo Bank: chat with us here: ${started.url}` }),
      ]);
      const link = await deps.messages.getMessage(tenantId, started.linkMessageId as string);
      expect(link).toMatchObject({ channel: 'sms', status: 'sent', direction: 'outbound' });
      expect(deps.events.types()).toEqual(['message.sent']);
    });

    it('texts the link by email to a customer last seen on email, and refuses a customer it cannot reach', async () => {
      const deps = escalationDeps();
      seedCustomer(deps, { phone: undefined, email: 'ana@example.com', activeChannel: 'email' });

      await startChat(deps, { tenant, customerId, sendLink: true });
      expect(deps.email.sent).toEqual([expect.objectContaining({ to: 'ana@example.com' })]);

      deps.customers.seed({ tenantId, customerId: 'cust-nowhere' });
      await expect(startChat(deps, { tenant, customerId: 'cust-nowhere', sendLink: true })).rejects.toMatchObject({
        code: 'no_reachable_channel',
      });
      await expect(startChat(deps, { tenant, customerId: 'nobody', sendLink: false })).rejects.toMatchObject({
        code: 'not_found',
      });
    });
  });

  describe('chat connections', () => {
    it('connects a valid token: the customer is on chat, the conversation needs attention, chat.started', async () => {
      const deps = escalationDeps();
      seedCustomer(deps);

      const { connectionId, session } = await connected(deps);

      const customer = await deps.customers.getCustomer(tenantId, customerId);
      expect(customer?.chat).toMatchObject({ sessionId: session.sessionId, connectionId });
      expect(customer?.activeChannel).toBe('chat');
      expect(await deps.attention.reasonsOf(tenantId, customerId)).toEqual(['chat']);
      expect(deps.events.types()).toEqual(['chat.started']);
    });

    it('refuses a tampered, garbage or expired token', async () => {
      const deps = escalationDeps();
      seedCustomer(deps);
      const session = await startChatSession(deps, { tenant, customerId });
      const tampered = `${session.token.slice(0, -2)}AA`;

      for (const token of [tampered, 'garbage', '']) {
        expect((await connectChat(deps, { connectionId: 'c', token })).connected).toBe(false);
      }
      deps.clock.advance(deps.chatSessionTtlMs + 1000);
      expect((await connectChat(deps, { connectionId: 'c', token: session.token })).connected).toBe(false);
      expect(deps.chats.connections.size).toBe(0);
    });

    it('disconnecting puts the customer back on SMS, clears the chat from attention and emits chat.ended', async () => {
      const deps = escalationDeps();
      seedCustomer(deps);
      const { connectionId } = await connected(deps);
      deps.clock.advance(1000);

      await disconnectChat(deps, connectionId);

      const customer = await deps.customers.getCustomer(tenantId, customerId);
      expect(customer?.chat).toBeUndefined();
      expect(customer?.activeChannel).toBe('sms');
      expect(await deps.attention.get(tenantId, customerId)).toBeUndefined();
      expect(deps.events.types()).toEqual(['chat.started', 'chat.ended']);
      expect(deps.chats.connections.size).toBe(0);
    });

    it("a late disconnect of the previous session leaves the new session's chat in the attention list", async () => {
      const deps = escalationDeps();
      seedCustomer(deps);
      await connected(deps, 'old');
      deps.clock.advance(1000);
      await connected(deps, 'new');
      deps.clock.advance(1000);

      await disconnectChat(deps, 'old');

      expect(await deps.attention.reasonsOf(tenantId, customerId)).toEqual(['chat']);
      expect((await deps.customers.getCustomer(tenantId, customerId))?.chat?.connectionId).toBe('new');
    });
  });

  describe('push to chat', () => {
    it('pushes a new message to the connected chat', async () => {
      const deps = escalationDeps();
      seedCustomer(deps);
      const { connectionId } = await connected(deps);
      const customer = await deps.customers.getCustomer(tenantId, customerId);
      const message = await seedMessage(deps, { body: 'New alert' });

      expect(await pushToChat(deps, customer, message)).toBe('ok');

      expect(deps.pusher.framesTo(connectionId)).toEqual([
        { type: 'message', message: expect.objectContaining({ body: 'New alert', channel: 'sms' }) },
      ]);
    });

    it('a stale connection (gone) ends the chat: the customer is back on SMS', async () => {
      const deps = escalationDeps();
      seedCustomer(deps);
      const { connectionId } = await connected(deps);
      deps.pusher.gone.add(connectionId);
      const customer = await deps.customers.getCustomer(tenantId, customerId);

      expect(await pushToChat(deps, customer, await seedMessage(deps))).toBe('gone');

      const after = await deps.customers.getCustomer(tenantId, customerId);
      expect(after?.chat).toBeUndefined();
      expect(after?.activeChannel).toBe('sms');
      expect(deps.events.types()).toEqual(['chat.started', 'chat.ended']);
    });

    it('does nothing for a customer without a chat', async () => {
      const deps = escalationDeps();
      const customer = seedCustomer(deps);

      expect(await pushToChat(deps, customer, await seedMessage(deps))).toBe('none');
      expect(deps.pusher.pushed).toEqual([]);
    });
  });

  describe('chat frames', () => {
    it('keeps every history frame under 128 KB, paging long messages, oldest first', async () => {
      // Prepare: two 95 KB emails, 190 KB together.
      const deps = escalationDeps();
      seedCustomer(deps);
      const { connectionId } = await connected(deps);
      await seedMessage(deps, { channel: 'email', body: `first ${'a'.repeat(95 * 1024)}`, minutesAgo: 3 });
      await seedMessage(deps, { channel: 'email', body: `second ${'b'.repeat(95 * 1024)}`, minutesAgo: 2 });
      await seedMessage(deps, { body: 'short', minutesAgo: 1 });

      // Act
      expect(await receiveChatFrame(deps, { connectionId, frame: { type: 'history' } })).toBe('ok');

      // Assess
      const frames = deps.pusher.pushed.filter((p) => (p.frame as { type: string }).type === 'history');
      for (const frame of frames) expect(frame.bytes).toBeLessThanOrEqual(maxChatFrameBytes);
      const messages = frames.flatMap((f) => (f.frame as { messages: { body: string }[] }).messages);
      expect(messages.map((m) => m.body.slice(0, 6))).toEqual(['first ', 'second', 'short']);
      // They fit a frame each: nothing was cut.
      expect(messages[0]?.body).toHaveLength(6 + 95 * 1024);
    });

    it('cuts a message too long for any frame, with a marker; the stored message stays whole', async () => {
      const deps = escalationDeps();
      seedCustomer(deps);
      const stored = await seedMessage(deps, { channel: 'email', body: '👍🏽'.repeat(40_000) });

      const [frame] = historyFrames([stored], undefined);
      const live = messageFrame(stored);

      for (const sent of [frame, live])
        expect(Buffer.byteLength(JSON.stringify(sent))).toBeLessThanOrEqual(maxChatFrameBytes);
      const entry = frame?.messages[0];
      expect(entry?.truncated).toBe(true);
      // Whole characters: the thumb keeps its skin tone.
      expect(entry?.body.endsWith('👍🏽...')).toBe(true);
      expect(live.message.body.endsWith('👍🏽...')).toBe(true);
      expect(live.message.truncated).toBe(true);
      expect(deps.messages.allMessages()[0]?.body).toBe(stored.body);
    });

    it('answers an empty conversation with one empty history frame', () => {
      expect(historyFrames([], undefined)).toEqual([{ type: 'history', messages: [] }]);
    });

    it('answers an ended chat and an unknown frame with error frames', async () => {
      const deps = escalationDeps();
      seedCustomer(deps);
      const { connectionId } = await connected(deps);

      expect(await receiveChatFrame(deps, { connectionId, frame: undefined })).toBe('invalid');
      expect(await receiveChatFrame(deps, { connectionId: 'unknown', frame: { type: 'history' } })).toBe('ended');
      deps.clock.advance(deps.chatSessionTtlMs);
      expect(await receiveChatFrame(deps, { connectionId, frame: { type: 'message', body: 'hi' } })).toBe('ended');

      expect(deps.pusher.framesTo(connectionId).map((f) => f.error?.code)).toEqual(['invalid_request', 'unauthorized']);
      expect(deps.messages.allMessages()).toEqual([]);
    });
  });

  describe('chat messages', () => {
    it('stores what the customer typed, flags it for an agent with a summary, announces and echoes it', async () => {
      const deps = escalationDeps();
      seedCustomer(deps);
      const { connectionId } = await connected(deps);
      const body = `I did not make this payment ${'!'.repeat(300)}`;

      expect(await receiveChatFrame(deps, { connectionId, frame: { type: 'message', body } })).toBe('ok');

      const [stored] = deps.messages.allMessages();
      expect(stored).toMatchObject({ direction: 'inbound', channel: 'chat', body, effect: { type: 'free_text' } });
      const entry = await deps.attention.get(tenantId, customerId);
      expect(Object.keys(entry?.reasons ?? {}).sort()).toEqual(['chat', 'free_text']);
      expect(entry?.reasons.free_text?.summary).toHaveLength(160);
      expect(deps.events.types()).toEqual(['chat.started', 'message.received']);
      expect(deps.pusher.framesTo(connectionId).at(-1)).toMatchObject({ type: 'message', message: { body } });
    });
  });

  describe('attention list', () => {
    it('lists conversations most recent first, with their reasons, summary and callback', async () => {
      const deps = escalationDeps();
      await deps.attention.raise(tenantId, 'older', 'free_text', { at: '2025-06-02T10:00:00.000Z', summary: 'Hi' });
      await deps.attention.raise(tenantId, 'newer', 'callback', {
        at: '2025-06-02T11:00:00.000Z',
        summary: 'Callback requested (CALL)',
        ref: 'cb_1',
      });
      await deps.attention.raise(tenantId, 'newer', 'chat', { at: '2025-06-02T11:30:00.000Z', ref: 'chat_1' });

      const first = await listNeedingAttention(deps, { tenantId, limit: 1 });
      const second = await listNeedingAttention(deps, { tenantId, limit: 1, cursor: first.nextCursor as string });

      expect(first.conversations).toEqual([
        {
          customerId: 'newer',
          since: '2025-06-02T11:00:00.000Z',
          lastMessageAt: '2025-06-02T11:30:00.000Z',
          reasons: ['callback', 'chat'],
          summary: 'Callback requested (CALL)',
          callbackId: 'cb_1',
        },
      ]);
      expect(second.conversations.map((c) => c.customerId)).toEqual(['older']);
      expect(at(second.conversations[0]?.lastMessageAt ?? '')).toBe(at('2025-06-02T10:00:00.000Z'));
    });
  });
});
