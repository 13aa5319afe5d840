import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { customerTagOf } from '../../functions/domain/chat-tokens.ts';
import { addTenant, cardAlert, type Harness, startHarness } from './harness.ts';

let h: Harness;
let otherKey: string;

beforeAll(async () => {
  h = await startHarness({ demoBackend: false });
  otherKey = await addTenant(h, {
    tenantId: 'calls-only',
    name: 'Calls Only Bank',
    smsNumber: '+12065550177',
    chatEnabled: false,
  });
});

afterAll(async () => {
  await h.close();
});

const reply = (from: string, body: string, to?: string) =>
  h.api('/_local/sms/inbound', { body: { from, body, ...(to && { to }) }, key: null });
const outboxBodies = (to: string) => h.gateway.edges.outbox.list({ to }).map((m) => m.body);
const eventsOf = (type: string) =>
  h.gateway.edges.events.list({ type }).map((e) => e.detail as Record<string, unknown>);

/** A chat client: collects frames, resolves waits on the first frame that matches. */
const openChat = async (url: string) => {
  const token = url.split('#')[1] ?? '';
  const socket = new WebSocket(`${h.gateway.wsUrl}?token=${encodeURIComponent(token)}`);
  // biome-ignore lint/suspicious/noExplicitAny: frames are arbitrary JSON that each test asserts on
  type Frame = any;
  const frames: Frame[] = [];
  /** The size of each frame as it came over the wire, in bytes. */
  const sizes: number[] = [];
  socket.on('message', (data: Buffer) => {
    sizes.push(data.length);
    frames.push(JSON.parse(data.toString()));
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('unexpected-response', (_req, res) => reject(new Error(`refused ${res.statusCode}`)));
    socket.once('error', reject);
  });
  const waitFor = async (match: (frame: Frame) => boolean, ms = 5000) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = frames.find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no matching frame; got ${JSON.stringify(frames)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  return { socket, frames, sizes, waitFor };
};

const refusal = (url: string) =>
  new Promise<number>((resolve) => {
    const token = url.split('#')[1] ?? url;
    const socket = new WebSocket(`${h.gateway.wsUrl}?token=${encodeURIComponent(token)}`);
    socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    socket.once('open', () => {
      socket.close();
      resolve(101);
    });
    socket.once('error', () => resolve(-1));
  });

const startChat = async (customerId: string, key?: string) =>
  h.api(`/v1/customers/${customerId}/chat-sessions`, { method: 'POST', body: {}, ...(key && { key }) });

/** A literal email of about `kb` kilobytes to a customer. */
const longEmail = (customerId: string, email: string, kb: number, label: string) =>
  h.api('/v1/messages', {
    body: {
      customerId,
      to: { email },
      channel: 'email',
      body: { email: { subject: `Statement ${label}`, text: `${label}: ${'x'.repeat(kb * 1024)}` } },
    },
  });

const attentionOf = async (customerId: string) =>
  (await h.api('/v1/conversations?needs=attention')).body.conversations.find(
    (c: { customerId: string }) => c.customerId === customerId,
  );

describe('callbacks', () => {
  it('CALL creates one callback with the context, acknowledges it and emits callback.requested', async () => {
    const phone = '+12025550161';
    const alert = await h.api('/v1/messages', { body: cardAlert({ customerId: 'cust-call', to: { phone } }) });
    expect(alert.status).toBe(202);

    await reply(phone, 'call me');
    expect(outboxBodies(phone).at(-1)).toContain('an agent will call you back shortly');
    const [requested] = eventsOf('callback.requested');
    expect(requested).toMatchObject({ customerId: 'cust-call', keyword: 'CALL ME', reference: 'txn-987' });

    await reply(phone, 'CALLBACK');
    expect(outboxBodies(phone).at(-1)).toContain('already with us');
    expect(eventsOf('callback.requested')).toHaveLength(1);

    const listed = await h.api('/v1/callbacks?status=requested');
    const callback = listed.body.callbacks.find((c: { customerId: string }) => c.customerId === 'cust-call');
    expect(callback).toMatchObject({ status: 'requested', phone, keyword: 'CALL ME' });
    expect(callback.context.references).toContain('txn-987');
    expect(callback.context.openPrompts[0]).toMatchObject({ messageId: alert.body.messageId, reference: 'txn-987' });
    expect(callback.context.recentMessages.map((m: { body: string }) => m.body)).toEqual(
      expect.arrayContaining([expect.stringContaining('$420.00 at ACME')]),
    );

    const attention = await h.api('/v1/conversations?needs=attention');
    expect(
      attention.body.conversations.find((c: { customerId: string }) => c.customerId === 'cust-call').reasons,
    ).toContain('callback');

    const foreign = await h.api(`/v1/callbacks/${callback.callbackId}`, {
      method: 'PATCH',
      body: { status: 'completed' },
      key: otherKey,
    });
    expect(foreign.status).toBe(404);
    expect(
      (await h.api(`/v1/callbacks/${callback.callbackId}`, { method: 'PATCH', body: { status: 'done' } })).status,
    ).toBe(400);

    const completed = await h.api(`/v1/callbacks/${callback.callbackId}`, {
      method: 'PATCH',
      body: { status: 'completed', note: 'Called, card blocked' },
      key: h.gateway.agentKey,
    });
    expect(completed.status).toBe(200);
    expect(completed.body).toMatchObject({ status: 'completed', note: 'Called, card blocked' });
    expect(eventsOf('callback.completed').at(-1)).toMatchObject({
      callbackId: callback.callbackId,
      reference: 'txn-987',
    });
    const again = await h.api(`/v1/callbacks/${callback.callbackId}`, {
      method: 'PATCH',
      body: { status: 'cancelled' },
    });
    expect(again.status).toBe(422);
    expect(again.body.error.code).toBe('not_cancellable');

    // Closed: the customer may ask again.
    await reply(phone, 'CALL');
    expect(eventsOf('callback.requested')).toHaveLength(2);
  });

  it('CHAT from a tenant without chat becomes a callback', async () => {
    const phone = '+12025550162';
    await reply(phone, 'chat', '+12065550177');
    expect(outboxBodies(phone).at(-1)).toContain('Calls Only Bank: thanks, an agent will call you back');
    const callbacks = (await h.api('/v1/callbacks', { key: otherKey })).body.callbacks;
    expect(callbacks).toEqual([expect.objectContaining({ customerId: `sms:${phone}`, keyword: 'CHAT' })]);
    // Tenants never see each other's callbacks.
    const demo = (await h.api('/v1/callbacks')).body.callbacks;
    expect(demo.find((c: { customerId: string }) => c.customerId === `sms:${phone}`)).toBeUndefined();
  });

  it('CALL after five 95 KB emails opens a callback whose context keeps 160-character summaries', async () => {
    const phone = '+12025550171';
    const email = 'long-mail@example.com';
    await h.api('/v1/customers/cust-long-mail', { method: 'PUT', body: { phone, email } });
    for (let i = 0; i < 5; i++) expect((await longEmail('cust-long-mail', email, 95, `Mail ${i}`)).status).toBe(202);

    await reply(phone, 'CALL');

    expect(outboxBodies(phone).at(-1)).toContain('an agent will call you back shortly');
    const listed = (await h.api('/v1/callbacks?status=requested')).body.callbacks;
    const callback = listed.find((c: { customerId: string }) => c.customerId === 'cust-long-mail');
    const bodies: string[] = callback.context.recentMessages.map((m: { body: string }) => m.body);
    expect(bodies.filter((body) => body.startsWith('Mail '))).toHaveLength(5);
    for (const body of bodies) expect(body.length).toBeLessThanOrEqual(160);
  });

  it('pages the callback queue and the attention list with a cursor, and refuses a forged cursor', async () => {
    for (const n of [81, 82, 83]) await reply(`+120255501${n}`, 'CALL');

    const first = await h.api('/v1/callbacks?status=requested&limit=2');
    expect(first.status).toBe(200);
    expect(first.body.callbacks).toHaveLength(2);
    const second = await h.api(
      `/v1/callbacks?status=requested&limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`,
    );
    expect(second.status).toBe(200);
    const seen = [...first.body.callbacks, ...second.body.callbacks].map((c: { callbackId: string }) => c.callbackId);
    expect(new Set(seen).size).toBe(seen.length);
    // Newest first.
    expect(first.body.callbacks[0].requestedAt >= first.body.callbacks[1].requestedAt).toBe(true);

    const conversations = await h.api('/v1/conversations?needs=attention&limit=1');
    expect(conversations.body.conversations).toHaveLength(1);
    expect(conversations.body.nextCursor).toEqual(expect.any(String));

    for (const path of ['/v1/callbacks?cursor=', '/v1/conversations?cursor=']) {
      const forged = await h.api(
        `${path}${Buffer.from('{"pk":"T#calls-only#CALLBACKS","sk":"x"}').toString('base64url')}`,
      );
      expect(forged.status).toBe(400);
      expect(forged.body.error.details).toEqual([{ path: 'query.cursor', message: 'invalid cursor' }]);
    }
  });
});

describe('chat', () => {
  it('connect → history → message stored → agent reply pushed, and the answer says chat', async () => {
    const phone = '+12025550163';
    await h.api('/v1/messages', { body: cardAlert({ customerId: 'cust-chat', to: { phone } }) });
    await reply(phone, 'CHAT');
    const link = (outboxBodies(phone).at(-1) ?? '').match(/http\S+\/chat#\S+/)?.[0];
    expect(link).toBeDefined();

    const chat = await openChat(link as string);
    chat.socket.send(JSON.stringify({ type: 'history' }));
    const history = await chat.waitFor((f) => f.type === 'history');
    const bodies = history.messages.map((m: { body: string }) => m.body);
    expect(bodies[0]).toContain('$420.00 at ACME');
    expect(bodies).toContain('CHAT');
    expect(history.messages[0]).toMatchObject({ direction: 'outbound', channel: 'sms', reference: 'txn-987' });
    expect(eventsOf('chat.started').at(-1)).toMatchObject({ customerId: 'cust-chat' });

    chat.socket.send(JSON.stringify({ type: 'message', body: 'I did not make this payment' }));
    const echo = await chat.waitFor((f) => f.type === 'message' && f.message.body === 'I did not make this payment');
    expect(echo.message).toMatchObject({ direction: 'inbound', channel: 'chat' });
    const conversation = await h.api('/v1/customers/cust-chat/conversation');
    expect(conversation.body.activeChannel).toBe('chat');
    expect(conversation.body.messages[0]).toMatchObject({ body: 'I did not make this payment', channel: 'chat' });
    expect(eventsOf('message.received').at(-1)).toMatchObject({ customerId: 'cust-chat', channel: 'chat' });
    const attention = (await h.api('/v1/conversations')).body.conversations.find(
      (c: { customerId: string }) => c.customerId === 'cust-chat',
    );
    expect(attention.reasons).toEqual(expect.arrayContaining(['chat', 'free_text']));

    const agent = await h.api('/v1/customers/cust-chat/messages', {
      body: { body: 'We have blocked the card' },
      key: h.gateway.agentKey,
    });
    expect(agent.status).toBe(202);
    expect(agent.body).toMatchObject({ channel: 'chat', status: 'sent' });
    const pushed = await chat.waitFor((f) => f.type === 'message' && f.message.body === 'We have blocked the card');
    expect(pushed.message).toMatchObject({ direction: 'outbound', channel: 'chat' });
    const after = (await h.api('/v1/conversations')).body.conversations.find(
      (c: { customerId: string }) => c.customerId === 'cust-chat',
    );
    expect(after.reasons).not.toContain('free_text');

    chat.socket.close();
    await expect.poll(async () => (await h.api('/v1/customers/cust-chat/conversation')).body.activeChannel).toBe('sms');
    expect(eventsOf('chat.ended').at(-1)).toMatchObject({ customerId: 'cust-chat' });
  });

  it('texting the chat link leaves the unanswered question in the attention list', async () => {
    const phone = '+12025550172';
    await h.api('/v1/customers/cust-link', { method: 'PUT', body: { phone } });
    await reply(phone, 'Is my card safe?');
    expect((await attentionOf('cust-link')).reasons).toEqual(['free_text']);

    const started = await h.api('/v1/customers/cust-link/chat-sessions', { method: 'POST', body: { sendLink: true } });

    expect(started.status).toBe(201);
    expect(outboxBodies(phone).at(-1)).toContain(started.body.url);
    expect((await attentionOf('cust-link')).reasons).toEqual(['free_text']);
    expect((await h.api(`/v1/messages/${started.body.linkMessageId}`)).body).toMatchObject({ channel: 'sms' });
  });

  it('sends a 190 KB history in frames under 128 KB each, oldest first', async () => {
    const email = 'history@example.com';
    await h.api('/v1/customers/cust-history', { method: 'PUT', body: { phone: '+12025550173', email } });
    await longEmail('cust-history', email, 95, 'First');
    await longEmail('cust-history', email, 95, 'Second');
    const chat = await openChat((await startChat('cust-history')).body.url);

    chat.socket.send(JSON.stringify({ type: 'history' }));

    await expect.poll(() => chat.frames.flatMap((f) => (f.type === 'history' ? f.messages : [])).length).toBe(2);
    for (const size of chat.sizes) expect(size).toBeLessThanOrEqual(128 * 1024);
    const bodies = chat.frames
      .flatMap((f) => (f.type === 'history' ? f.messages : []))
      .map((m: { body: string }) => m.body);
    expect(bodies.map((body: string) => body.split(':')[0])).toEqual(['First', 'Second']);
    chat.socket.close();
  });

  it('answers a malformed chat frame with an error frame and stores nothing', async () => {
    await h.api('/v1/customers/cust-frames', { method: 'PUT', body: { phone: '+12025550168' } });
    const chat = await openChat((await startChat('cust-frames')).body.url);
    for (const frame of [
      'not json',
      JSON.stringify({ type: 'shout' }),
      JSON.stringify({ type: 'message', body: '' }),
    ]) {
      chat.socket.send(frame);
    }
    chat.socket.send(JSON.stringify({ type: 'message', body: 'x'.repeat(2001) }));
    await expect.poll(() => chat.frames.filter((f) => f.type === 'error').length).toBe(4);
    expect(chat.frames.every((f) => f.type !== 'error' || f.error.code === 'invalid_request')).toBe(true);
    const timeline = (await h.api('/v1/customers/cust-frames/conversation')).body.messages;
    expect(timeline).toEqual([]);
    chat.socket.close();
  });

  it('shows in the chat what a chatting customer texts, and the answers it gets', async () => {
    const phone = '+12025550167';
    await h.api('/v1/customers/cust-both', { method: 'PUT', body: { phone } });
    const session = await startChat('cust-both');
    const chat = await openChat(session.body.url);
    await expect
      .poll(async () => (await h.api('/v1/customers/cust-both/conversation')).body.activeChannel)
      .toBe('chat');

    await reply(phone, 'HELP');

    const texted = await chat.waitFor((f) => f.type === 'message' && f.message.body === 'HELP');
    expect(texted.message).toMatchObject({ direction: 'inbound', channel: 'sms' });
    const answer = await chat.waitFor((f) => f.type === 'message' && f.message.direction === 'outbound');
    expect(answer.message.body).toContain('Demo Bank alerts');
    chat.socket.close();
  });

  it('an agent reply to a stale connection (GoneException) falls back to SMS', async () => {
    const phone = '+12025550164';
    await h.api('/v1/customers/cust-stale', { method: 'PUT', body: { phone } });
    const session = await startChat('cust-stale');
    expect(session.status).toBe(201);
    const chat = await openChat(session.body.url);
    await expect.poll(() => h.gateway.webSockets.connectionIds().length).toBeGreaterThan(0);
    const [connectionId] = h.gateway.webSockets.connectionIds().slice(-1);
    h.gateway.webSockets.dropSilently(connectionId as string);
    chat.socket.terminate();

    const agent = await h.api('/v1/customers/cust-stale/messages', { body: { body: 'Are you still there?' } });
    expect(agent.status).toBe(202);
    expect(agent.body.channel).toBe('sms');
    expect(outboxBodies(phone)).toEqual(['Demo Bank: Are you still there?']);
    expect((await h.api('/v1/customers/cust-stale/conversation')).body.activeChannel).toBe('sms');
  });

  it('an agent reply without a chat goes on the channel of the last inbound message', async () => {
    const phone = '+12025550165';
    await h.api('/v1/customers/cust-sms', { method: 'PUT', body: { phone, email: 'sms@example.com' } });
    await reply(phone, 'Is my card safe?');
    const agent = await h.api('/v1/customers/cust-sms/messages', { body: { body: 'Yes it is' } });
    expect(agent.body.channel).toBe('sms');
    // The free text was acknowledged first (the demo tenant's acknowledgement), then the agent answered.
    expect(outboxBodies(phone)).toEqual([
      expect.stringMatching(/^Demo Bank: Thanks, we have your message\. Someone will answer/),
      'Demo Bank: Yes it is',
    ]);
    expect((await h.api('/v1/customers/nobody/messages', { body: { body: 'x' } })).status).toBe(404);
    expect((await h.api('/v1/customers/cust-sms/messages', { body: {} })).status).toBe(400);
  });
});

describe('chat tokens', () => {
  it('refuses tampered, garbage and ended-session tokens without saying which check failed', async () => {
    await h.api('/v1/customers/cust-token', { method: 'PUT', body: { phone: '+12025550166' } });
    const first = await startChat('cust-token');
    // The token names the customer by a short hash: point it at another customer under the same signature.
    const parts = (first.body.url.split('#')[1] as string).split('.');
    parts[2] = customerTagOf('cust-42');
    const tampered = parts.join('.');

    expect(await refusal(tampered)).toBe(403);
    expect(await refusal('garbage')).toBe(403);
    expect(await refusal('')).toBe(403);

    const second = await startChat('cust-token');
    expect(second.body.url).not.toBe(first.body.url);
    // The session of the first link ended when the second began: replaying it is refused too.
    expect(await refusal(first.body.url)).toBe(403);
    const ok = await openChat(second.body.url);
    ok.socket.close();
  });

  it('refuses a chat-session request for a foreign customer (404) and without the send scope (403)', async () => {
    expect((await startChat('cust-token', otherKey)).status).toBe(404);
    expect((await startChat('cust-token', h.gateway.agentKey)).status).toBe(403);
  });
});

describe('customer profile', () => {
  it('takes 20 concurrent PUTs with preferences: no 500, no lost update', async () => {
    await h.api('/v1/customers/cust-busy', { method: 'PUT', body: { phone: '+12025550174' } });

    const puts = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        h.api('/v1/customers/cust-busy', {
          method: 'PUT',
          body:
            i % 2 === 0
              ? { preferences: { channel: 'email' }, timezone: 'Europe/Paris' }
              : { preferences: { quietHours: { start: '22:00', end: '07:00' } } },
        }),
      ),
    );

    expect(puts.map((p) => p.status)).toEqual(Array(20).fill(200));
    const customer = (await h.api('/v1/customers/cust-busy')).body;
    expect(customer).toMatchObject({
      phone: '+12025550174',
      timezone: 'Europe/Paris',
      preferences: { channel: 'email', quietHours: { start: '22:00', end: '07:00' } },
    });
  });
});
