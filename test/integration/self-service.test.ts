import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../functions/domain/api-keys.ts';
import { addTenant, type Harness, startHarness } from './harness.ts';

/** Tenant self-service through the local gateway: keywords, settings, template edits, the admin scope. */

let h: Harness;
let sendReadAgentKey: string;
let otherKey: string;

beforeAll(async () => {
  h = await startHarness({ demoBackend: false });
  sendReadAgentKey = await addTenant(h, { tenantId: 'plain-bank', name: 'Plain Bank', smsNumber: '+12065550177' });
  otherKey = await addTenant(h, { tenantId: 'other-bank', name: 'Other Bank', smsNumber: '+12065550188' }, [
    'send',
    'read',
    'agent',
    'admin',
  ]);
});

afterAll(async () => {
  await h.close();
});

const text = (from: string, body: string) =>
  h.api('/_local/sms/inbound', { body: { from, body, to: h.gateway.smsNumber }, key: null });
const lastTextTo = (phone: string) => h.gateway.edges.outbox.list({ to: phone }).at(-1)?.body;
const eventsOf = (type: string) =>
  h.gateway.edges.events.list({ type }).map((e) => e.detail as Record<string, unknown>);

describe('the admin scope', () => {
  it('is needed to change settings and keywords; a read key lists keywords', async () => {
    const key = sendReadAgentKey;

    expect((await h.api('/v1/tenant', { method: 'PATCH', body: { brandName: 'X' }, key })).status).toBe(403);
    expect((await h.api('/v1/tenant', { key })).status).toBe(403);
    expect((await h.api('/v1/keywords/PIN', { method: 'PUT', body: {}, key })).status).toBe(403);
    expect((await h.api('/v1/keywords/BAL', { method: 'DELETE', key })).status).toBe(403);
    expect((await h.api('/v1/keywords', { key })).status).toBe(200);
    expect((await h.api('/v1/keywords', { key: null })).status).toBe(401);
  });

  it('an expired key is refused, as an unknown one', async () => {
    const key = generateApiKey();
    await h.gateway.tenants.putApiKey({
      ...key,
      tenantId: 'other-bank',
      scopes: ['read'],
      createdAt: '2025-01-01T00:00:00.000Z',
      expiresAt: new Date(Date.now() - 1000).toISOString(),
    });

    expect((await h.api('/v1/keywords', { key: key.apiKey })).status).toBe(401);
    expect((await h.gateway.tenants.getApiKey(key.keyId))?.expiresAt).toBeDefined();
  });

  it("is on the demo's main key", async () => {
    expect((await h.api('/v1/tenant')).status).toBe(200);
  });
});

describe('keywords', () => {
  it('the demo seeds BAL and STMT as ordinary keywords', async () => {
    const { body } = await h.api('/v1/keywords');

    expect(body.keywords).toEqual([
      { keyword: 'BAL', emitEvent: true },
      { keyword: 'STMT', autoReplyTemplate: 'statement-reply', emitEvent: true },
    ]);
  });

  it('creates a keyword upper-case (201), replaces it (200), reads and deletes it', async () => {
    await h.api('/v1/templates/pin-reply', {
      method: 'PUT',
      body: { sms: '{{brandName}}: your PIN reminder is on its way.' },
    });

    const created = await h.api('/v1/keywords/pin', { method: 'PUT', body: { autoReplyTemplate: 'pin-reply' } });
    const replaced = await h.api('/v1/keywords/PIN', {
      method: 'PUT',
      body: { autoReplyTemplate: 'pin-reply', emitEvent: true },
    });

    expect(created.status).toBe(201);
    expect(created.body).toEqual({ keyword: 'PIN', autoReplyTemplate: 'pin-reply', emitEvent: true });
    expect(replaced.status).toBe(200);
    expect((await h.api('/v1/keywords/Pin')).body).toEqual(created.body);

    await h.api('/v1/keywords/GONE', { method: 'PUT', body: {} });
    expect((await h.api('/v1/keywords/gone', { method: 'DELETE' })).body).toEqual({ keyword: 'GONE', deleted: true });
    expect((await h.api('/v1/keywords/GONE', { method: 'DELETE' })).status).toBe(404);
    expect((await h.api('/v1/keywords/GONE')).status).toBe(404);
  });

  it.each([
    'STOP',
    'stop',
    'START',
    'HELP',
    'UNSTOP',
    'CANCEL',
    'END',
    'QUIT',
    'UNSUBSCRIBE',
    'STOPALL',
    'YES',
    'NO',
    'Y',
    'N',
    'CALL',
    'CHAT',
    'INFO',
    'AGENT',
  ])('refuses the reserved word %s with 400, saying why', async (word) => {
    const response = await h.api(`/v1/keywords/${word}`, { method: 'PUT', body: {} });

    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('invalid_request');
    expect(response.body.error.message).toContain('reserved');
    expect((await h.api('/v1/keywords')).body.keywords.map((k: { keyword: string }) => k.keyword)).not.toContain(
      word.toUpperCase(),
    );
  });

  it.each([
    ['a name too long', 'A'.repeat(21), {}],
    ['a name with a dash', 'PIN-1', {}],
    ['an unknown field', 'OK1', { reply: 'x' }],
    ['a template that is not there', 'OK2', { autoReplyTemplate: 'no-such-template' }],
    ['emitEvent not a boolean', 'OK3', { emitEvent: 'yes' }],
  ])('refuses %s with 400', async (_case, keyword, body) => {
    const response = await h.api(`/v1/keywords/${keyword}`, { method: 'PUT', body });

    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('invalid_request');
  });

  it("another tenant's keyword is a 404, and its list is its own", async () => {
    expect((await h.api('/v1/keywords/BAL', { key: otherKey })).status).toBe(404);
    expect((await h.api('/v1/keywords/BAL', { method: 'DELETE', key: otherKey })).status).toBe(404);
    expect((await h.api('/v1/keywords', { key: otherKey })).body).toEqual({ keywords: [] });
    expect((await h.api('/v1/keywords/BAL')).status).toBe(200);
  });

  it('keeps every one of concurrent first keywords of a tenant that had none', async () => {
    const words = ['ONE', 'TWO', 'THREE', 'FOUR', 'FIVE'];

    const answers = await Promise.all(
      words.map((word) => h.api(`/v1/keywords/${word}`, { method: 'PUT', body: {}, key: otherKey })),
    );

    expect(answers.map((a) => a.status)).toEqual([201, 201, 201, 201, 201]);
    const listed = (await h.api('/v1/keywords', { key: otherKey })).body.keywords.map(
      (k: { keyword: string }) => k.keyword,
    );
    expect(listed).toEqual([...words].sort());
    for (const word of words) await h.api(`/v1/keywords/${word}`, { method: 'DELETE', key: otherKey });
  });

  it('an SMS "pin" gets the rendered auto-reply and keyword.received, through the inbound rules', async () => {
    const phone = '+12025550161';
    const before = eventsOf('keyword.received').length;

    expect((await text(phone, 'pin')).status).toBe(202);

    expect(lastTextTo(phone)).toBe('Demo Bank: your PIN reminder is on its way.');
    const events = eventsOf('keyword.received').slice(before);
    expect(events).toEqual([expect.objectContaining({ keyword: 'PIN', raw: 'pin', channel: 'sms' })]);
  });

  it('with emitEvent false the keyword is answered and no event is emitted', async () => {
    const phone = '+12025550162';
    await h.api('/v1/keywords/QUIET1', { method: 'PUT', body: { autoReplyTemplate: 'pin-reply', emitEvent: false } });
    const before = eventsOf('keyword.received').length;

    await text(phone, 'Quiet1');

    expect(lastTextTo(phone)).toBe('Demo Bank: your PIN reminder is on its way.');
    expect(eventsOf('keyword.received').length).toBe(before);
  });

  it('a deleted keyword is free text again at once', async () => {
    const phone = '+12025550163';
    await h.api('/v1/keywords/TEMP1', { method: 'PUT', body: {} });
    await text(phone, 'TEMP1');
    await h.api('/v1/keywords/TEMP1', { method: 'DELETE' });
    const before = eventsOf('message.received').length;

    await text(phone, 'TEMP1');

    expect(eventsOf('message.received').slice(before)).toEqual([expect.objectContaining({ body: 'TEMP1' })]);
  });
});

describe('tenant settings', () => {
  it('PATCH merges, and the next HELP carries the new text at once', async () => {
    const phone = '+12025550171';
    await text(phone, 'HELP');
    expect(lastTextTo(phone)).toContain('Demo Bank alerts');

    const patched = await h.api('/v1/tenant', {
      method: 'PATCH',
      body: { helpText: 'Demo Bank: help at +1 206 555 0100. Reply STOP to opt out.' },
    });
    await text(phone, 'help');

    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ tenantId: 'demo-bank', name: 'Demo Bank', helpText: expect.any(String) });
    expect(lastTextTo(phone)).toBe('Demo Bank: help at +1 206 555 0100. Reply STOP to opt out.');
  });

  it('a brand name and a cleared help text give a default HELP naming the brand and a contact', async () => {
    const phone = '+12025550172';
    const patched = await h.api('/v1/tenant', {
      method: 'PATCH',
      body: { brandName: 'DemoBank Cards', helpText: null },
    });
    await text(phone, 'HELP');

    expect(patched.body.helpText).toBeUndefined();
    expect(patched.body.brandName).toBe('DemoBank Cards');
    expect(lastTextTo(phone)).toMatch(/^DemoBank Cards: for help, reply here or write to alerts@demo-bank\.example\./);
  });

  it('an agent text carries the brand', async () => {
    const phone = '+12025550173';
    await h.api('/v1/customers/cust-brand', { method: 'PUT', body: { phone } });
    await text(phone, 'I lost my card');

    const sent = await h.api('/v1/customers/cust-brand/messages', { body: { body: 'We are on it.' } });
    const again = await h.api('/v1/customers/cust-brand/messages', { body: { body: 'DemoBank Cards: done.' } });

    expect(sent.status).toBe(202);
    expect(again.status).toBe(202);
    const bodies = h.gateway.edges.outbox.list({ to: phone }).map((m) => m.body);
    expect(bodies).toContain('DemoBank Cards: We are on it.');
    expect(bodies).toContain('DemoBank Cards: done.');
  });

  it('stores an acknowledgement with business hours, and null clears it', async () => {
    const acknowledgement = {
      text: 'Thanks, we have your message.',
      businessHours: { timezone: 'Europe/London', days: [1, 2, 3, 4, 5], start: '09:00', end: '17:30' },
    };

    const set = await h.api('/v1/tenant', { method: 'PATCH', body: { acknowledgement } });
    const kept = await h.api('/v1/tenant', { method: 'PATCH', body: { brandName: 'Demo Bank' } });
    const cleared = await h.api('/v1/tenant', { method: 'PATCH', body: { acknowledgement: null } });

    expect(set.body.acknowledgement).toEqual(acknowledgement);
    expect(kept.body.acknowledgement).toEqual(acknowledgement);
    expect(cleared.body.acknowledgement).toBeUndefined();
    expect((await h.api('/v1/tenant')).body.brandName).toBe('Demo Bank');
  });

  it.each([
    ['an unknown field', { quietHours: { start: '21:00', end: '08:00' } }],
    [
      'a time zone that is not IANA',
      {
        acknowledgement: {
          text: 'x',
          businessHours: { timezone: 'Mars/Base', days: [1], start: '09:00', end: '17:00' },
        },
      },
    ],
    [
      'a day 8',
      { acknowledgement: { text: 'x', businessHours: { timezone: 'UTC', days: [8], start: '09:00', end: '17:00' } } },
    ],
    [
      'a time not HH:MM',
      { acknowledgement: { text: 'x', businessHours: { timezone: 'UTC', days: [1], start: '9am', end: '17:00' } } },
    ],
    ['an empty help text', { helpText: '' }],
    ['a brand name of two lines', { brandName: 'A\nB' }],
  ])('refuses %s with 400', async (_case, body) => {
    const response = await h.api('/v1/tenant', { method: 'PATCH', body });

    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('invalid_request');
  });

  it('shows each tenant only its own settings', async () => {
    expect((await h.api('/v1/tenant', { key: otherKey })).body).toMatchObject({
      tenantId: 'other-bank',
      name: 'Other Bank',
    });
  });
});

describe('templates', () => {
  it('an edit is used by the very next send', async () => {
    const send = () =>
      h.api('/v1/messages', {
        body: { customerId: 'cust-tpl', to: { phone: '+12025550181' }, channel: 'sms', template: 'edited', data: {} },
      });
    await h.api('/v1/templates/edited', { method: 'PUT', body: { sms: 'Demo Bank: first text.' } });
    expect((await send()).status).toBe(202);

    await h.api('/v1/templates/edited', { method: 'PUT', body: { sms: 'Demo Bank: second text.' } });
    expect((await send()).status).toBe(202);

    expect(lastTextTo('+12025550181')).toBe('Demo Bank: second text.');
    await h.api('/v1/templates/edited', { method: 'DELETE' });
    expect((await send()).body.error.code).toBe('unknown_template');
  });

  it.each(['Hi {{name', 'Hi {{}}', 'Hi {{ }} there'])('refuses %j with 400', async (sms) => {
    const response = await h.api('/v1/templates/broken', { method: 'PUT', body: { sms } });

    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('invalid_request');
  });
});
