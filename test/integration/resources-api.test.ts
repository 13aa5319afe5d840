import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addTenant, type Harness, startHarness } from './harness.ts';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await h.close();
});

describe('customers', () => {
  it('creates (201), reads and updates (200) a profile, normalising nothing silently', async () => {
    const created = await h.api('/v1/customers/cust-7', {
      method: 'PUT',
      body: {
        phone: '+447911123456',
        email: 'li@example.com',
        timezone: 'Europe/London',
        locale: 'en-GB',
        preferences: { channel: 'email', quietHours: { start: '22:00', end: '07:00' } },
      },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      customerId: 'cust-7',
      phone: '+447911123456',
      preferences: { channel: 'email' },
      consent: {},
    });

    const updated = await h.api('/v1/customers/cust-7', {
      method: 'PUT',
      body: { email: null, preferences: { channel: null } },
    });
    expect(updated.status).toBe(200);
    expect(updated.body.email).toBeUndefined();
    expect(updated.body.preferences).toEqual({ quietHours: { start: '22:00', end: '07:00' } });

    const read = await h.api('/v1/customers/cust-7');
    expect(read.body).toEqual(updated.body);
  });

  it('refuses consent (read-only), bad time zones and bad locales with 400', async () => {
    for (const body of [{ consent: { sms: 'opted_in' } }, { timezone: 'Mars/Base' }, { locale: 'not a locale' }]) {
      const response = await h.api('/v1/customers/cust-8', { method: 'PUT', body });
      expect(response.status).toBe(400);
    }
    expect((await h.api('/v1/customers/cust-8')).status).toBe(404);
  });

  it('answers 404 for an unknown customer and 400 for an id with a bad character', async () => {
    expect((await h.api('/v1/customers/nobody')).status).toBe(404);
    expect((await h.api('/v1/customers/a%23b')).status).toBe(400);
  });
});

describe('conversation', () => {
  it('pages the timeline newest first with a cursor, and refuses a forged cursor', async () => {
    for (let i = 0; i < 5; i++) {
      const sent = await h.api('/v1/messages', {
        body: { customerId: 'cust-page', to: { phone: '+12025550133' }, body: { sms: `message ${i}` } },
      });
      expect(sent.status).toBe(202);
    }
    const first = await h.api('/v1/customers/cust-page/conversation?limit=2');
    expect(first.status).toBe(200);
    expect(first.body.messages.map((m: { body: string }) => m.body)).toEqual(['message 4', 'message 3']);
    expect(first.body.activeChannel).toBe('sms');
    const second = await h.api(`/v1/customers/cust-page/conversation?limit=2&before=${first.body.nextCursor}`);
    expect(second.body.messages.map((m: { body: string }) => m.body)).toEqual(['message 2', 'message 1']);
    const third = await h.api(`/v1/customers/cust-page/conversation?limit=2&before=${second.body.nextCursor}`);
    expect(third.body.messages.map((m: { body: string }) => m.body)).toEqual(['message 0']);

    const forged = Buffer.from(JSON.stringify({ pk: 'T#other-bank#C#x', sk: 'MSG#1' })).toString('base64url');
    expect((await h.api(`/v1/customers/cust-page/conversation?before=${forged}`)).status).toBe(400);
    expect((await h.api('/v1/customers/cust-page/conversation?limit=0')).status).toBe(400);
  });
});

describe('templates', () => {
  it('creates, lists and renders a new template in a send', async () => {
    const put = await h.api('/v1/templates/otp', { method: 'PUT', body: { sms: 'Code {{code}}' } });
    expect(put.status).toBe(201);
    expect((await h.api('/v1/templates/otp')).body).toMatchObject({ name: 'otp', sms: 'Code {{code}}' });
    const names = (await h.api('/v1/templates')).body.templates.map((t: { name: string }) => t.name);
    expect(names).toEqual(expect.arrayContaining(['otp', 'card-transaction-alert']));
    const sent = await h.api('/v1/messages', {
      body: { customerId: 'cust-otp', to: { phone: '+12025550134' }, template: 'otp', data: { code: 987654 } },
    });
    expect(sent.status).toBe(202);
    expect(h.gateway.edges.outbox.list({ to: '+12025550134' })[0]?.body).toBe('Code 987654');
  });

  it('refuses a template without content or with a bad name', async () => {
    expect((await h.api('/v1/templates/empty', { method: 'PUT', body: {} })).status).toBe(400);
    expect((await h.api('/v1/templates/Bad%20Name', { method: 'PUT', body: { sms: 'x' } })).status).toBe(400);
    expect((await h.api('/v1/templates/missing')).status).toBe(404);
  });

  it('deletes a template (200), then answers 404 for it, for a second delete and for another tenant', async () => {
    // Prepare: a template of the demo tenant, and another tenant with a key of its own
    await h.api('/v1/templates/to-go', { method: 'PUT', body: { sms: 'Bye {{name}}' } });
    await h.api('/v1/templates/kept', { method: 'PUT', body: { sms: 'Still here' } });
    const otherKey = await addTenant(h, { tenantId: 'other-bank', name: 'Other Bank', smsNumber: '+12065550199' }, [
      'send',
      'read',
      'admin',
    ]);

    // Act
    const foreign = await h.api('/v1/templates/kept', { method: 'DELETE', key: otherKey });
    const deleted = await h.api('/v1/templates/to-go', { method: 'DELETE' });
    const again = await h.api('/v1/templates/to-go', { method: 'DELETE' });

    // Assess
    expect(foreign.status).toBe(404);
    expect((await h.api('/v1/templates/kept')).status).toBe(200);
    expect(deleted).toMatchObject({ status: 200, body: { name: 'to-go', deleted: true } });
    expect(again.status).toBe(404);
    expect((await h.api('/v1/templates/to-go')).status).toBe(404);
    const names = (await h.api('/v1/templates')).body.templates.map((t: { name: string }) => t.name);
    expect(names).not.toContain('to-go');
    expect((await h.api('/v1/templates/kept', { method: 'DELETE', key: h.gateway.agentKey })).status).toBe(403);
  });

  it('needs the send scope to write and the read scope to list', async () => {
    expect(
      (await h.api('/v1/templates/x', { method: 'PUT', body: { sms: 'x' }, key: h.gateway.agentKey })).status,
    ).toBe(403);
    expect((await h.api('/v1/templates', { key: h.gateway.agentKey })).status).toBe(200);
  });
});

describe('openapi.json', () => {
  it('is public and describes every route with the send schema', async () => {
    const response = await h.api('/openapi.json', { key: null });
    expect(response.status).toBe(200);
    expect(response.body.openapi).toBe('3.1.0');
    expect(response.body.paths['/v1/messages'].post.requestBody.content['application/json'].schema.$ref).toBe(
      '#/components/schemas/SendMessageRequest',
    );
    expect(response.body.components.schemas.SendMessageRequest.additionalProperties).toBe(false);
  });

  it('unknown API routes are 404 in the error envelope', async () => {
    const response = await h.api('/v1/nothing-here');
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe('not_found');
  });
});
