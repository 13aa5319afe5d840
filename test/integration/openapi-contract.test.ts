import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../functions/adapters/dynamo/dynamo-helpers.ts';
import { keys } from '../../functions/adapters/dynamo/keys.ts';
import { httpRoutes } from '../../functions/routes.ts';
import { localDynamoClient } from '../../local/dynamo-local.ts';
import { cardAlert, type Harness, startHarness } from './harness.ts';

/**
 * The OpenAPI document against the real gateway: every route is driven (success and the main refusals) and each
 * real answer (status, headers, body) is checked against what `GET /openapi.json` says, with validators that owe
 * nothing to the code that wrote the document (@seriousme/openapi-schema-validator for the document, Ajv for the
 * bodies).
 */

// biome-ignore lint/suspicious/noExplicitAny: the document is arbitrary JSON, walked by pointer
type Json = any;

const base = 'https://parley.test/openapi.json';
let h: Harness;
let doc: Json;
let ajv: Ajv2020;
const compiled = new Map<string, ValidateFunction>();
/** `METHOD /path status` of every answer checked. */
const seen = new Set<string>();

const escapePointer = (part: string) => part.replaceAll('~', '~0').replaceAll('/', '~1');
const pointerOf = (...parts: string[]) => `/${parts.map(escapePointer).join('/')}`;
const at = (pointer: string): Json =>
  pointer
    .split('/')
    .slice(1)
    .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce((node: Json, part) => node?.[part], doc);

/** Validates a value against the schema at a pointer into the document; returns Ajv's errors, or [] when valid. */
const errorsAt = (pointer: string, value: unknown) => {
  let validate = compiled.get(pointer);
  if (!validate) {
    validate = ajv.compile({ $ref: `${base}#${pointer}` });
    compiled.set(pointer, validate);
  }
  return validate(value) ? [] : (validate.errors ?? []);
};

interface Call {
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
  key?: string | null;
  headers?: Record<string, string>;
  /** The body breaks a rule the document's request schema states: the document must refuse it too. */
  schemaInvalid?: boolean;
}

/** Calls a route and checks the answer against the document; returns it for the test's own assertions. */
const call = async (route: string, init: Call = {}) => {
  const [method = '', template = ''] = route.split(' ');
  const path = template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(init.params?.[name] ?? ''));
  const query = init.query ? `?${new URLSearchParams(init.query)}` : '';
  const response = await h.api(`${path}${query}`, {
    method,
    ...(init.body !== undefined && { body: init.body }),
    ...(init.key !== undefined && { key: init.key }),
    ...(init.headers && { headers: init.headers }),
  });
  const status = String(response.status);
  const opPointer = pointerOf('paths', template, method.toLowerCase());
  const operation = at(opPointer);
  expect(operation, `${route} is documented`).toBeDefined();

  // The request: what the server took, the document must take; what the document says is wrong, the server refuses.
  const requestPointer = `${opPointer}${pointerOf('requestBody', 'content', 'application/json', 'schema')}`;
  if (init.body !== undefined && typeof init.body === 'object' && at(requestPointer)) {
    const requestErrors = errorsAt(requestPointer, init.body);
    if (response.status < 300)
      expect(requestErrors, `${route}: the document refuses a body the server took`).toEqual([]);
    if (init.schemaInvalid) {
      expect(response.status).toBe(400);
      expect(requestErrors.length, `${route}: the document takes a body the server refuses`).toBeGreaterThan(0);
    }
  }

  expect(Object.keys(operation.responses), `${route} documents ${status}`).toContain(status);
  let responsePointer = `${opPointer}${pointerOf('responses', status)}`;
  const ref = at(responsePointer).$ref as string | undefined;
  if (ref) responsePointer = ref.slice(1);
  const documented = at(responsePointer);

  const contentType = (response.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
  expect(Object.keys(documented.content ?? {}), `${route} ${status} content type`).toContain(contentType);
  const bodyErrors = errorsAt(`${responsePointer}${pointerOf('content', contentType, 'schema')}`, response.body);
  expect(bodyErrors, `${route} ${status} body ${JSON.stringify(response.body).slice(0, 2000)}`).toEqual([]);

  for (const [name, header] of Object.entries<Json>(documented.headers ?? {})) {
    const value = response.headers.get(name);
    if (value === null) {
      expect(header.required ?? false, `${route} ${status} header ${name}`).toBe(false);
      continue;
    }
    expect(errorsAt(`${responsePointer}${pointerOf('headers', name, 'schema')}`, value)).toEqual([]);
  }
  seen.add(`${route} ${status}`);
  return response;
};

const inbound = (from: string, body: string) =>
  h.api('/_local/sms/inbound', { body: { from, body, to: h.gateway.smsNumber }, key: null });

beforeAll(async () => {
  h = await startHarness({ demoBackend: false });
  const served = await h.api('/openapi.json', { key: null });
  doc = served.body;
  ajv = new Ajv2020({ allErrors: true, strict: false });
  // ajv-formats is CommonJS with `exports.default`: under NodeNext its default import is typed as the module.
  (formats as unknown as (instance: Ajv2020) => Ajv2020)(ajv);
  ajv.addSchema({ ...doc, $id: base });
});

afterAll(async () => {
  await h.close();
});

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await new Validator().validate(doc);

    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(doc.openapi).toBe('3.1.0');
  });

  it('is checked by a validator that refuses what it should', () => {
    const pointer = pointerOf('components', 'schemas', 'SendMessageResponse');

    expect(errorsAt(pointer, { messageId: 'msg_1', status: 'sent' }).length).toBeGreaterThan(0);
    expect(errorsAt(pointer, { messageId: 'x', customerId: 'c', channel: 'sms', status: 'sent' }).length).toBe(1);
  });

  it('answers itself, publicly, as it says', async () => {
    await call('GET /openapi.json', { key: null });
  });
});

describe('pages', () => {
  it('serves /chat and /agent as text/html', async () => {
    for (const route of ['GET /chat', 'GET /agent']) {
      const page = await call(route, { key: null });

      expect(page.status).toBe(200);
    }
  });
});

describe('unsubscribe', () => {
  it('200 for the page and for one-click (JSON, or a page for a browser), publicly; 404 for a bad token', async () => {
    const email = 'contract-unsubscribe@example.com';
    const sent = await call('POST /v1/messages', {
      body: {
        customerId: 'cust-contract-unsubscribe',
        to: { email },
        channel: 'email',
        body: { email: { subject: 'Statement', text: 'Your statement is ready.' } },
      },
    });
    expect(sent.status).toBe(202);
    const header = h.gateway.edges.outbox.list({ to: email }).at(-1)?.headers?.['List-Unsubscribe'] ?? '';
    const token = /\/v1\/unsubscribe\/([^>]+)>/.exec(header)?.[1] ?? '';
    const form = {
      key: null,
      params: { token },
      body: 'List-Unsubscribe=One-Click',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    };

    expect((await call('GET /v1/unsubscribe/{token}', { key: null, params: { token } })).status).toBe(200);
    expect((await call('POST /v1/unsubscribe/{token}', form)).status).toBe(200);
    const page = await call('POST /v1/unsubscribe/{token}', {
      ...form,
      headers: { ...form.headers, accept: 'text/html' },
    });
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect((await call('GET /v1/unsubscribe/{token}', { key: null, params: { token: 'nonsense' } })).status).toBe(404);
    expect((await call('POST /v1/unsubscribe/{token}', { ...form, params: { token: `${token}x` } })).status).toBe(404);
  });
});

describe('step-up confirmation link', () => {
  it('200 for the page and its button, publicly; 404 for a bad token', async () => {
    const email = 'contract-confirm@example.com';
    const sent = await call('POST /v1/messages', {
      body: cardAlert({
        customerId: 'cust-contract-confirm',
        to: { email },
        channel: 'email',
        prompt: { type: 'confirm', expiresInSeconds: 900, verify: 'code' },
      }),
    });
    expect(sent.status).toBe(202);
    const answered = await h.api('/_local/email/inbound', { body: { from: email, text: 'Y' }, key: null });
    expect(answered.status).toBe(202);
    const body = h.gateway.edges.outbox.list({ to: email }).at(-1)?.body ?? '';
    const token = /\/v1\/confirm\/([A-Za-z0-9._-]+)/.exec(body)?.[1] ?? '';
    const post = {
      key: null,
      params: { token },
      body: '',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    };

    expect((await call('GET /v1/confirm/{token}', { key: null, params: { token } })).status).toBe(200);
    expect((await call('POST /v1/confirm/{token}', post)).status).toBe(200);
    expect((await call('GET /v1/confirm/{token}', { key: null, params: { token: 'nonsense' } })).status).toBe(404);
    expect((await call('POST /v1/confirm/{token}', { ...post, params: { token: `${token}x` } })).status).toBe(404);
  });
});

describe('send', () => {
  it('202 on a send, and 202 with Idempotent-Replayed on its replay', async () => {
    const body = cardAlert({ customerId: 'cust-contract' });
    const headers = { 'idempotency-key': 'contract-1' };

    const first = await call('POST /v1/messages', { body, headers });
    const replay = await call('POST /v1/messages', { body, headers });

    expect(first.status).toBe(202);
    expect(replay.status).toBe(202);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body).toEqual(first.body);
  });

  it('202 for a literal body by email', async () => {
    const response = await call('POST /v1/messages', {
      body: {
        customerId: 'cust-contract-mail',
        to: { email: 'ana@example.com' },
        channel: 'email',
        body: { email: { subject: 'Statement', text: 'Your statement is ready.' } },
      },
    });

    expect(response.status).toBe(202);
  });

  it('400 for what the document refuses: template and body, a bad phone, an unknown field', async () => {
    for (const body of [
      cardAlert({ body: { sms: 'Hi' } }),
      cardAlert({ to: { phone: '2025550143' } }),
      cardAlert({ colour: 'blue' }),
      cardAlert({ template: undefined, data: undefined, body: {} }),
      { ...cardAlert({ template: undefined, body: { sms: 'Hi' } }) },
    ]) {
      const response = await call('POST /v1/messages', { body, schemaInvalid: true });

      expect(response.body.error.code).toBe('invalid_request');
    }
  });

  it('401 without a key and with an unknown key; 403 without the send scope', async () => {
    expect((await call('POST /v1/messages', { body: cardAlert(), key: null })).status).toBe(401);
    expect(
      (await call('POST /v1/messages', { body: cardAlert(), key: `prl_${'a'.repeat(12)}_${'b'.repeat(43)}` })).status,
    ).toBe(401);
    expect((await call('POST /v1/messages', { body: cardAlert(), key: h.gateway.agentKey })).status).toBe(403);
  });

  it('409 for the same key with another payload', async () => {
    const response = await call('POST /v1/messages', {
      body: cardAlert({ customerId: 'cust-contract', reference: 'other' }),
      headers: { 'idempotency-key': 'contract-1' },
    });

    expect(response.body.error.code).toBe('idempotency_conflict');
  });

  it('413 above 256 KB', async () => {
    const response = await call('POST /v1/messages', { body: cardAlert({ reference: 'x'.repeat(300 * 1024) }) });

    expect(response.status).toBe(413);
  });

  it('422 for an unknown template and for an opted-out number; 422 replayed with the header', async () => {
    const unknown = await call('POST /v1/messages', { body: cardAlert({ template: 'no-such-template', data: {} }) });
    expect(unknown.body.error.code).toBe('unknown_template');

    await call('PUT /v1/customers/{customerId}', {
      params: { customerId: 'cust-contract-stop' },
      body: { phone: '+12025550190' },
    });
    await inbound('+12025550190', 'STOP');
    const optedOut = await call('POST /v1/messages', {
      body: cardAlert({ customerId: 'cust-contract-stop', to: undefined, channel: 'sms' }),
    });
    expect(optedOut.body.error.code).toBe('recipient_opted_out');

    h.gateway.edges.faults.set('+12025550112', 'reject');
    const body = cardAlert({ customerId: 'cust-contract-rejected', to: { phone: '+12025550112' } });
    const headers = { 'idempotency-key': 'contract-rejected' };
    expect((await call('POST /v1/messages', { body, headers })).status).toBe(422);
    const replay = await call('POST /v1/messages', { body, headers });
    expect(replay.status).toBe(422);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    h.gateway.edges.faults.set('+12025550112', null);
    const failed = h.gateway.edges.events.list({ type: 'message.failed' }).at(-1)?.detail as { messageId: string };
    const stored = await call('GET /v1/messages/{messageId}', { params: { messageId: failed.messageId } });
    expect(stored.body).toMatchObject({ status: 'failed', failure: { code: 'provider_rejected' } });
  });

  it('503 when the provider is unavailable', async () => {
    h.gateway.edges.faults.set('+12025550123', 'unavailable');
    const response = await call('POST /v1/messages', {
      body: cardAlert({ customerId: 'cust-contract-down', to: { phone: '+12025550123' } }),
    });
    h.gateway.edges.faults.set('+12025550123', null);

    expect(response.body.error.code).toBe('provider_unavailable');
  });

  it('500 without internals when stored data is broken', async () => {
    const db = createDocumentClient(localDynamoClient(h.gateway.dynamodbEndpoint));
    await db.send(
      new UpdateCommand({
        TableName: h.gateway.tableName,
        Key: keys.template('demo-bank', 'contract-broken'),
        UpdateExpression: 'SET #n = :n, sms = :sms',
        ExpressionAttributeNames: { '#n': 'name' },
        ExpressionAttributeValues: { ':n': 'contract-broken', ':sms': 42 },
      }),
    );

    const response = await call('POST /v1/messages', { body: cardAlert({ template: 'contract-broken', data: {} }) });
    await db.send(
      new DeleteCommand({ TableName: h.gateway.tableName, Key: keys.template('demo-bank', 'contract-broken') }),
    );

    expect(response.status).toBe(500);
  });
});

describe('messages and customers', () => {
  it('200 for a message, with its prompt and, once answered, the answer', async () => {
    const sent = await call('POST /v1/messages', {
      body: cardAlert({ customerId: 'cust-contract-answer', to: { phone: '+12025550144' } }),
    });
    await inbound('+12025550144', 'Y');

    const message = await call('GET /v1/messages/{messageId}', { params: { messageId: sent.body.messageId } });

    expect(message.status).toBe(200);
    expect(message.body.answer).toMatchObject({ value: 'yes' });
  });

  it('404 for an unknown message id and for one that is not an id', async () => {
    for (const messageId of [`msg_${'0'.repeat(26)}`, 'nope']) {
      expect((await call('GET /v1/messages/{messageId}', { params: { messageId } })).status).toBe(404);
    }
  });

  it('201 for a new customer, 200 for a replaced one, 400 for a bad phone', async () => {
    const params = { customerId: 'cust-contract-new' };
    const body = { phone: '+447911123456', timezone: 'Europe/London', preferences: { channel: 'sms' } };

    expect((await call('PUT /v1/customers/{customerId}', { params, body })).status).toBe(201);
    expect((await call('PUT /v1/customers/{customerId}', { params, body })).status).toBe(200);
    await call('PUT /v1/customers/{customerId}', { params, body: { phone: '12345' }, schemaInvalid: true });
    await call('PUT /v1/customers/{customerId}', { params, body: { consent: {} }, schemaInvalid: true });
  });

  it('200 for a customer (with consent), 404 for an unknown one, 400 for a bad id', async () => {
    expect(
      (await call('GET /v1/customers/{customerId}', { params: { customerId: 'cust-contract-stop' } })).body,
    ).toMatchObject({ consent: { sms: { status: 'opted_out' } } });
    expect((await call('GET /v1/customers/{customerId}', { params: { customerId: 'nobody' } })).status).toBe(404);
    expect((await call('GET /v1/customers/{customerId}', { params: { customerId: 'a#b' } })).status).toBe(400);
  });

  it('200 for a conversation, 400 for a bad limit or cursor, 404 for an unknown customer', async () => {
    const params = { customerId: 'cust-contract-answer' };

    const conversation = await call('GET /v1/customers/{customerId}/conversation', { params, query: { limit: '1' } });
    expect(conversation.body.messages.length).toBe(1);
    await call('GET /v1/customers/{customerId}/conversation', {
      params,
      query: { before: conversation.body.nextCursor },
    });
    expect((await call('GET /v1/customers/{customerId}/conversation', { params, query: { limit: '0' } })).status).toBe(
      400,
    );
    expect(
      (await call('GET /v1/customers/{customerId}/conversation', { params, query: { before: 'forged' } })).status,
    ).toBe(400);
    expect(
      (await call('GET /v1/customers/{customerId}/conversation', { params: { customerId: 'nobody' } })).status,
    ).toBe(404);
  });
});

describe('tenant settings and keywords', () => {
  it('200 for the settings and a patch; 400 for an unknown field or a bad time zone; 403 without admin', async () => {
    expect((await call('GET /v1/tenant')).status).toBe(200);
    const acknowledgement = {
      text: 'Thanks, we have your message.',
      businessHours: { timezone: 'Europe/London', days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' },
    };
    expect((await call('PATCH /v1/tenant', { body: { brandName: 'Demo Bank', acknowledgement } })).status).toBe(200);
    expect((await call('PATCH /v1/tenant', { body: { acknowledgement: null } })).status).toBe(200);
    await call('PATCH /v1/tenant', { body: { quietHours: {} }, schemaInvalid: true });
    await call('PATCH /v1/tenant', {
      body: { acknowledgement: { text: 'x', businessHours: { ...acknowledgement.businessHours, days: [9] } } },
      schemaInvalid: true,
    });
    expect((await call('PATCH /v1/tenant', { body: {}, key: h.gateway.agentKey })).status).toBe(403);
  });

  it('201 for a new keyword, 200 replaced, read, listed and deleted; 400 reserved or malformed; 404 unknown', async () => {
    const params = { keyword: 'contract1' };
    expect((await call('PUT /v1/keywords/{keyword}', { params, body: { emitEvent: false } })).status).toBe(201);
    expect(
      (await call('PUT /v1/keywords/{keyword}', { params, body: { autoReplyTemplate: 'statement-reply' } })).status,
    ).toBe(200);
    expect((await call('GET /v1/keywords/{keyword}', { params })).body.keyword).toBe('CONTRACT1');
    expect((await call('GET /v1/keywords')).body.keywords.length).toBeGreaterThan(2);
    expect((await call('DELETE /v1/keywords/{keyword}', { params })).status).toBe(200);
    expect((await call('DELETE /v1/keywords/{keyword}', { params })).status).toBe(404);
    expect((await call('GET /v1/keywords/{keyword}', { params })).status).toBe(404);
    expect((await call('PUT /v1/keywords/{keyword}', { params: { keyword: 'STOP' }, body: {} })).status).toBe(400);
    expect((await call('GET /v1/keywords/{keyword}', { params: { keyword: 'no-dash' } })).status).toBe(400);
    await call('PUT /v1/keywords/{keyword}', { params, body: { emitEvent: 'no' }, schemaInvalid: true });
    expect(
      (await call('DELETE /v1/keywords/{keyword}', { params: { keyword: 'BAL' }, key: h.gateway.agentKey })).status,
    ).toBe(403);
  });
});

describe('templates', () => {
  it('201 for a new template, 200 for a replaced one, 400 without content', async () => {
    const params = { name: 'contract-template' };

    expect((await call('PUT /v1/templates/{name}', { params, body: { sms: 'Hi {{name}}' } })).status).toBe(201);
    expect(
      (
        await call('PUT /v1/templates/{name}', {
          params,
          body: { description: 'Greeting', email: { subject: 'Hi', text: 'Hi {{name}}', html: '<p>Hi</p>' } },
        })
      ).status,
    ).toBe(200);
    await call('PUT /v1/templates/{name}', { params, body: {}, schemaInvalid: true });
    await call('PUT /v1/templates/{name}', { params, body: { sms: 'x', extra: 1 }, schemaInvalid: true });
  });

  it('200 for the list and for one template; 404 for an unknown one; 400 for a bad name', async () => {
    expect((await call('GET /v1/templates')).body.templates.length).toBeGreaterThan(0);
    expect((await call('GET /v1/templates/{name}', { params: { name: 'contract-template' } })).status).toBe(200);
    expect((await call('GET /v1/templates/{name}', { params: { name: 'missing' } })).status).toBe(404);
    expect((await call('GET /v1/templates/{name}', { params: { name: 'Bad Name' } })).status).toBe(400);
  });

  it('200 for a delete, then 404; 400 for a bad name', async () => {
    const params = { name: 'contract-delete' };
    await call('PUT /v1/templates/{name}', { params, body: { sms: 'Soon gone' } });
    expect((await call('DELETE /v1/templates/{name}', { params })).status).toBe(200);
    expect((await call('DELETE /v1/templates/{name}', { params })).status).toBe(404);
    expect((await call('DELETE /v1/templates/{name}', { params: { name: 'Bad Name' } })).status).toBe(400);
  });
});

describe('agents: replies, chat sessions, conversations, callbacks', () => {
  it('202 for a reply, 400 for an empty one, 404 for an unknown customer, 422 when unreachable', async () => {
    const params = { customerId: 'cust-contract-answer' };

    const reply = await call('POST /v1/customers/{customerId}/messages', {
      params,
      body: { body: 'We blocked the card.' },
      key: h.gateway.agentKey,
    });
    expect(reply.status).toBe(202);
    await call('POST /v1/customers/{customerId}/messages', { params, body: { body: '' }, schemaInvalid: true });
    const unknown = await call('POST /v1/customers/{customerId}/messages', {
      params: { customerId: 'nobody' },
      body: { body: 'Hello' },
    });
    expect(unknown.status).toBe(404);
    const noChat = await call('POST /v1/customers/{customerId}/messages', {
      params,
      body: { body: 'Hello', channel: 'chat' },
    });
    expect(noChat.status).toBe(422);
  });

  it('201 for a new chat session (texted or not), 404 for an unknown customer, 403 without the send scope', async () => {
    const params = { customerId: 'cust-contract-answer' };

    expect((await call('POST /v1/customers/{customerId}/chat-sessions', { params, body: {} })).status).toBe(201);
    const texted = await call('POST /v1/customers/{customerId}/chat-sessions', { params, body: { sendLink: true } });
    expect(texted.body.linkMessageId).toMatch(/^msg_/);
    expect(
      (await call('POST /v1/customers/{customerId}/chat-sessions', { params: { customerId: 'nobody' }, body: {} }))
        .status,
    ).toBe(404);
    expect(
      (await call('POST /v1/customers/{customerId}/chat-sessions', { params, body: {}, key: h.gateway.agentKey }))
        .status,
    ).toBe(403);
  });

  it('200 for the conversations needing attention, 400 for another filter', async () => {
    await call('PUT /v1/customers/{customerId}', {
      params: { customerId: 'cust-contract-talk' },
      body: { phone: '+12025550177' },
    });
    await inbound('+12025550177', 'Is my card still blocked?');
    await inbound('+12025550177', 'CALL');

    const list = await call('GET /v1/conversations', { query: { needs: 'attention' } });

    expect(list.body.conversations).toContainEqual(expect.objectContaining({ customerId: 'cust-contract-talk' }));
    const timeline = await call('GET /v1/customers/{customerId}/conversation', {
      params: { customerId: 'cust-contract-talk' },
    });
    expect(timeline.body.messages.map((m: { effect?: { type: string } }) => m.effect?.type)).toContain(
      'callback_requested',
    );
    expect((await call('GET /v1/conversations', { query: { needs: 'everything' } })).status).toBe(400);
  });

  it('pages both lists with a cursor that the document describes', async () => {
    for (const [customerId, phone] of [
      ['cust-contract-page-1', '+12025550178'],
      ['cust-contract-page-2', '+12025550179'],
    ] as const) {
      await call('PUT /v1/customers/{customerId}', { params: { customerId }, body: { phone } });
      await inbound(phone, 'CALL');
    }

    const conversations = await call('GET /v1/conversations', { query: { needs: 'attention', limit: '1' } });
    const callbacks = await call('GET /v1/callbacks', { query: { status: 'requested', limit: '1' } });

    expect(conversations.body.nextCursor).toEqual(expect.any(String));
    expect(callbacks.body.nextCursor).toEqual(expect.any(String));
    const next = await call('GET /v1/callbacks', {
      query: { status: 'requested', limit: '1', cursor: callbacks.body.nextCursor },
    });
    expect(next.body.callbacks[0]?.callbackId).not.toBe(callbacks.body.callbacks[0]?.callbackId);
  });

  it('200 for callbacks, for closing one and for the same close again; 422 for another; 404 for an unknown one', async () => {
    const { callbacks } = (await call('GET /v1/callbacks', { query: { status: 'requested' } })).body;
    const callback = callbacks.find((c: { customerId: string }) => c.customerId === 'cust-contract-talk');
    expect(callback).toBeDefined();
    const params = { callbackId: callback.callbackId };

    expect(
      (await call('PATCH /v1/callbacks/{callbackId}', { params, body: { status: 'completed', note: 'Done' } })).status,
    ).toBe(200);
    expect((await call('PATCH /v1/callbacks/{callbackId}', { params, body: { status: 'completed' } })).status).toBe(
      200,
    );
    expect((await call('PATCH /v1/callbacks/{callbackId}', { params, body: { status: 'cancelled' } })).status).toBe(
      422,
    );
    await call('PATCH /v1/callbacks/{callbackId}', { params, body: { status: 'done' }, schemaInvalid: true });
    expect(
      (
        await call('PATCH /v1/callbacks/{callbackId}', {
          params: { callbackId: `cb_${'0'.repeat(26)}` },
          body: { status: 'cancelled' },
        })
      ).status,
    ).toBe(404);
    expect((await call('GET /v1/callbacks', { query: { status: 'lost' } })).status).toBe(400);
    await call('GET /v1/callbacks');
  });
});

describe('webhook routes', () => {
  it('201 to register, 200 to read, list, rotate, list attempts and delete; 400 and 404 for the refusals', async () => {
    const receiver = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((done) => receiver.listen(0, '127.0.0.1', done));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    try {
      const created = await call('POST /v1/webhooks', { body: { url, events: ['message.sent'] } });
      expect(created.status).toBe(201);
      const params = { webhookId: created.body.webhookId };
      await call('POST /v1/webhooks', { body: { url: 'http://169.254.169.254/', events: ['message.sent'] } });
      await call('POST /v1/webhooks', { body: { url, events: ['nope'] }, schemaInvalid: true });
      expect((await call('GET /v1/webhooks')).status).toBe(200);
      expect((await call('GET /v1/webhooks/{webhookId}', { params })).status).toBe(200);
      expect((await call('POST /v1/webhooks/{webhookId}/rotate-secret', { params })).status).toBe(200);
      await h.api('/v1/messages', {
        body: { customerId: 'cust-contract-hook', to: { phone: '+12025550177' }, body: { sms: 'Hook' } },
      });
      await h.gateway.webhookDispatcher?.idle();
      const attempts = await call('GET /v1/webhooks/{webhookId}/deliveries', { params, query: { limit: '5' } });
      expect(attempts.body.deliveries).toHaveLength(1);
      await call('GET /v1/webhooks/{webhookId}/deliveries', { params, query: { limit: '0' } });
      expect((await call('DELETE /v1/webhooks/{webhookId}', { params })).status).toBe(200);
      for (const route of [
        'GET /v1/webhooks/{webhookId}',
        'DELETE /v1/webhooks/{webhookId}',
        'POST /v1/webhooks/{webhookId}/rotate-secret',
        'GET /v1/webhooks/{webhookId}/deliveries',
      ]) {
        expect((await call(route, { params })).status).toBe(404);
      }
    } finally {
      await new Promise<void>((done) => receiver.close(() => done()));
    }
  });
});

describe('coverage', () => {
  it('drove every route to each of its documented success statuses', () => {
    const missing = httpRoutes.flatMap((route) => {
      const operation = at(pointerOf('paths', route.path, route.method.toLowerCase()));
      return Object.keys(operation.responses)
        .filter((status) => status.startsWith('2'))
        .map((status) => `${route.method} ${route.path} ${status}`)
        .filter((answer) => !seen.has(answer));
    });

    expect(missing).toEqual([]);
  });

  it('drove the main refusals', () => {
    const statuses = new Set([...seen].map((answer) => answer.split(' ').at(-1)));

    expect([...statuses].sort()).toEqual(
      expect.arrayContaining(['400', '401', '403', '404', '409', '413', '422', '500', '503']),
    );
  });
});

describe('webhooks', () => {
  it('describes every event the gateway emitted during these calls', () => {
    const events = h.gateway.edges.events.list({});
    expect(events.length).toBeGreaterThan(0);

    const wrong = events.flatMap((event): { type: string; detail?: unknown; errors: unknown }[] => {
      const webhook = doc.webhooks[event.type];
      if (!webhook) return [{ type: event.type, errors: 'not in the webhooks section' }];
      const body = { type: event.type, timestamp: new Date().toISOString(), data: event.detail };
      const pointer = pointerOf('webhooks', event.type, 'post', 'requestBody', 'content', 'application/json', 'schema');
      const errors = errorsAt(pointer, body);
      return errors.length > 0 ? [{ type: event.type, detail: event.detail, errors }] : [];
    });

    expect(wrong).toEqual([]);
  });
});
