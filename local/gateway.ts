import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join, resolve } from 'node:path';
import type { Duplex } from 'node:stream';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { SqsDeadLetters } from '../functions/adapters/dead-letters/sqs-dead-letters.ts';
import { createDocumentClient } from '../functions/adapters/dynamo/dynamo-helpers.ts';
import { DynamoTemplateStore } from '../functions/adapters/dynamo/template-store.ts';
import { DynamoTenantStore } from '../functions/adapters/dynamo/tenant-store.ts';
import { inboundEmailId } from '../functions/adapters/email/ses-inbound.ts';
import { loadPage } from '../functions/adapters/pages/page-loader.ts';
import * as envNames from '../functions/config/env-names.ts';
import { ParleyError } from '../functions/domain/errors.ts';
import { InboundInProgressError } from '../functions/domain/inbound.ts';
import { createWebhookDeps } from '../functions/handlers/webhooks-wiring.ts';
import { installLocalClock, localClock, parseClockRequest } from './clock.ts';
import { startDeliveryReporter } from './delivery-reporter.ts';
import { type DemoKeys, demoTenant, seedDemo } from './demo.ts';
import { startDemoBackend } from './demo-backend.ts';
import { ensureTable, localDynamoClient, startLocalDynamo } from './dynamo-local.ts';
import { type AwsEdges, startAwsEdges } from './edges/aws-edges.ts';
import { parseFaultRequest } from './edges/faults.ts';
import {
  inboundObjectKeyPrefix,
  maxInboundEmailBodyBytes,
  newSesMessageId,
  prepareInboundEmail,
  receiptNotification,
} from './email-simulator.ts';
import { localAccount, localHandlerEnv, localInboundEmailBucket } from './handler-env.ts';
import { readLimitedBody } from './http-body.ts';
import { createApiRouter, type HttpHandlers, sendJson, type Throttle } from './http-gateway.ts';
import { localTopicArn, parseIsoTime, payloadFromSimple, snsEventFor } from './inbound-simulator.ts';
import { lambdaContext } from './lambda-context.ts';
import { startWebhookDispatcher, type WebhookDispatcherOptions } from './webhook-dispatcher.ts';
import { createWebSocketGateway } from './websocket-gateway.ts';

export interface LocalGatewayOptions {
  port?: number;
  host?: string;
  dataDir?: string;
  /** API stage throttling, as API Gateway applies it (default 500 requests/s, burst 1000). */
  throttle?: Throttle;
  /**
   * The demo backend reacting to the demo tenant's events (default on): from the emulated EventBridge, or with
   * `'webhooks'` from a signed webhook it registers and verifies.
   */
  demoBackend?: boolean | 'webhooks';
  /** Powertools log level for the handlers (default WARN: the terminal stays readable). */
  logLevel?: string;
  /**
   * The emulated SNS and SES report each message's delivery status through the `delivery-status` handler, `delayMs`
   * after the send (default on, 400 ms; what they report per address is set with `POST /_local/faults`).
   */
  deliveryReports?: boolean | { delayMs?: number; retryDelayMs?: number };
  /**
   * Events are delivered to the tenants' registered webhooks, as the `webhook-sender` function does on AWS, with
   * the retry schedule scaled by `retryScale` (default on, 0.01).
   */
  webhooks?: boolean | WebhookDispatcherOptions;
}

export interface LocalInfo {
  baseUrl: string;
  wsUrl: string;
  apiKey: string;
  agentKey: string;
  tenantId: string;
  smsNumber: string;
  emailFrom: string;
  dynamodbEndpoint: string;
  tableName: string;
}

export interface LocalGateway extends LocalInfo {
  dataDir: string;
  webSockets: ReturnType<typeof createWebSocketGateway>;
  edges: AwsEdges;
  /** Tenants and API keys, on the local table. */
  tenants: DynamoTenantStore;
  /** Delivers events to registered webhooks (absent with `webhooks: false`). */
  webhookDispatcher: ReturnType<typeof startWebhookDispatcher> | undefined;
  close(): Promise<void>;
}

const tableName = 'parley';

// zod/mini like the functions' schemas; it has no messages until a locale is set (as functions/domain/schemas.ts does).
z.config(en());

const simpleInboundSchema = z.object({
  from: z.string().check(z.regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 number')),
  body: z.string(),
  to: z.optional(z.string()),
  replyTo: z.optional(z.string()),
  inboundMessageId: z.optional(z.string().check(z.minLength(1), z.maxLength(200))),
});

const invalid = (res: ServerResponse, message: string, details?: unknown[]) =>
  sendJson(res, 400, { error: { code: 'invalid_request', message, ...(details && { details }) } });

/** A local-only route's JSON body: the value, or undefined once it has been answered (413, 400, or gone). */
const readJsonBody = async (
  req: IncomingMessage,
  res: ServerResponse,
  limit: number,
  tooLarge = `The body is over ${limit} bytes`,
): Promise<unknown> => {
  const read = await readLimitedBody(req, limit);
  if (!read.ok) {
    if (read.reason === 'too_large') {
      sendJson(res, 413, { error: { code: 'payload_too_large', message: tooLarge } });
    }
    return undefined;
  }
  try {
    return JSON.parse(read.body.toString('utf8') || 'null') ?? {};
  } catch {
    invalid(res, 'The body is not valid JSON');
    return undefined;
  }
};

/** Before every route answers, anything that arrives is refused at once, never left waiting. */
const notReadyYet = (req: IncomingMessage, res: ServerResponse) => {
  req.resume();
  sendJson(
    res,
    503,
    { error: { code: 'provider_unavailable', message: 'Parley is still starting; retry in a moment' } },
    { 'retry-after': '1' },
  );
};

export class PortInUseError extends Error {
  constructor(readonly port: number) {
    super(`Port ${port} is already in use: stop the other process or start with PORT=<another port>`);
    this.name = 'PortInUseError';
  }
}

const readJson = <T>(path: string): Partial<T> => {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Partial<T>;
  } catch {
    return {};
  }
};

const tokenSecretIn = (dataDir: string): string => {
  const path = join(dataDir, 'token-secret');
  if (!existsSync(path)) writeFileSync(path, randomBytes(32).toString('base64url'), { mode: 0o600 });
  return readFileSync(path, 'utf8').trim();
};

const listen = (server: Server, port: number, host: string): Promise<number> =>
  new Promise((resolvePort, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new PortInUseError(port) : error),
    );
    server.listen(port, host, () => {
      const address = server.address();
      resolvePort(typeof address === 'object' && address ? address.port : port);
    });
  });

/**
 * Runs Parley locally: dynalite on disk, the emulated AWS edges, and one HTTP server for the API, the local-only
 * routes and the pages. The handlers are the Lambda handlers themselves; only their endpoints point here.
 * Handlers read their configuration at import, so one process runs one local gateway.
 */
export const startLocalGateway = async (options: LocalGatewayOptions = {}): Promise<LocalGateway> => {
  const host = options.host ?? '127.0.0.1';
  const dataDir = resolve(options.dataDir ?? '.parley');
  mkdirSync(dataDir, { recursive: true });

  // Claim the port first, so a second start on a busy port fails at once and touches nothing. Until every
  // handler is attached it answers 503 (HTTP and WebSocket upgrades alike), so nothing that arrives hangs.
  const server = createServer();
  let serve: ((req: IncomingMessage, res: ServerResponse) => Promise<void>) | undefined;
  let upgrade: ((req: IncomingMessage, socket: Duplex, head: Buffer) => void) | undefined;
  server.on('request', (req, res) => {
    res.on('error', (error) => console.error('[parley] response failed', error.message));
    if (!serve) return notReadyYet(req, res);
    serve(req, res).catch((error: unknown) => console.error('[parley] request failed', error));
  });
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    if (upgrade) return upgrade(req, socket, head);
    socket.end('HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  installLocalClock();
  const port = await listen(server, options.port ?? 3000, host);
  server.on('error', (error) => console.error('[parley] server error', error.message));
  const baseUrl = `http://${host}:${port}`;

  const dynamo = await startLocalDynamo({ path: join(dataDir, 'dynamodb') });
  const edges = await startAwsEdges({ dataDir });
  const dynamoClient = localDynamoClient(dynamo.endpoint);
  await ensureTable(dynamoClient, tableName);
  const db = createDocumentClient(dynamoClient);
  const tenants = new DynamoTenantStore(tableName, db);

  Object.assign(process.env, {
    ...localHandlerEnv({
      dynamodbEndpoint: dynamo.endpoint,
      edgesUrl: edges.url,
      tableName,
      eventBusName: 'parley',
      tokenSecret: tokenSecretIn(dataDir),
      logLevel: options.logLevel ?? process.env[envNames.logLevel] ?? 'WARN',
    }),
    [envNames.wsCallbackUrl]: edges.url,
    [envNames.wsUrl]: `ws://${host}:${port}/ws`,
    [envNames.publicUrl]: baseUrl,
  });

  const localJsonPath = join(dataDir, 'local.json');
  const keys: DemoKeys = await seedDemo(
    { tenants, templates: new DynamoTemplateStore(tableName, db) },
    readJson<DemoKeys>(localJsonPath),
  );
  const info: LocalInfo = {
    baseUrl,
    wsUrl: `ws://${host}:${port}/ws`,
    ...keys,
    tenantId: demoTenant.tenantId,
    smsNumber: demoTenant.smsNumber,
    emailFrom: demoTenant.emailFrom as string,
    dynamodbEndpoint: dynamo.endpoint,
    tableName,
  };

  const handlers: HttpHandlers = {
    authorizer: (await import('../functions/handlers/authorizer.ts')).handler as HttpHandlers['authorizer'],
    routes: {
      'send-message': (await import('../functions/handlers/send-message.ts')).handler,
      messages: (await import('../functions/handlers/messages.ts')).handler,
      customers: (await import('../functions/handlers/customers.ts')).handler,
      templates: (await import('../functions/handlers/templates.ts')).handler,
      openapi: (await import('../functions/handlers/openapi.ts')).handler,
      conversations: (await import('../functions/handlers/conversations.ts')).handler,
      callbacks: (await import('../functions/handlers/callbacks.ts')).handler,
      pages: (await import('../functions/handlers/pages.ts')).handler,
      unsubscribe: (await import('../functions/handlers/unsubscribe.ts')).handler,
      confirm: (await import('../functions/handlers/confirm.ts')).handler,
      'tenant-settings': (await import('../functions/handlers/tenant-settings.ts')).handler,
      webhooks: (await import('../functions/handlers/webhooks.ts')).handler,
    } as HttpHandlers['routes'],
  };
  const apiRouter = createApiRouter(handlers, options.throttle);
  const inboundSms = (await import('../functions/handlers/inbound-sms.ts')).handler;
  // A handler that fails to load leaves its route answering 503 with the reason, and the rest of `npm start` running.
  const inboundEmail = await import('../functions/handlers/inbound-email.ts').then(
    (module) => ({ handler: module.handler, error: undefined }),
    (error: unknown) => {
      console.error('[parley] the inbound-email handler did not load:', error);
      return { handler: undefined, error };
    },
  );
  const deliveryOptions = options.deliveryReports ?? true;
  const deliveryReporter =
    deliveryOptions === false
      ? undefined
      : startDeliveryReporter(edges, (await import('../functions/handlers/delivery-status.ts')).handler, {
          context: (name) => lambdaContext(name),
          ...(typeof deliveryOptions === 'object' && deliveryOptions),
        });
  // Stands in for SES's S3 action: the mail goes into the emulated bucket over the wire, as the handler reads it.
  const s3 = new S3Client({ endpoint: edges.url, forcePathStyle: true });
  const webSockets = createWebSocketGateway(edges, {
    connect: (await import('../functions/handlers/ws-connect.ts')).handler,
    message: (await import('../functions/handlers/ws-message.ts')).handler,
    disconnect: (await import('../functions/handlers/ws-disconnect.ts')).handler,
  });
  const inboundLog: {
    channel: 'sms' | 'email';
    from: string;
    to: string;
    subject?: string;
    body: string;
    at: string;
    inboundMessageId: string;
  }[] = [];
  const webhookOptions = options.webhooks ?? true;
  const webhookDispatcher =
    webhookOptions === false
      ? undefined
      : startWebhookDispatcher(
          edges,
          {
            ...createWebhookDeps(tableName, db),
            deadLetters: new SqsDeadLetters(`${edges.url}/${localAccount}/parley-webhook-dlq`),
          },
          typeof webhookOptions === 'object' ? webhookOptions : {},
        );
  const demoBackend =
    options.demoBackend === false
      ? undefined
      : startDemoBackend({
          edges,
          baseUrl,
          apiKey: keys.apiKey,
          tenantId: demoTenant.tenantId,
          webhooks: options.demoBackend === 'webhooks',
        });

  /**
   * POST /_local/demo/card-alert {"phone", "email"?, "verify"?}: the demo card alert to the demo customer of that
   * phone, sent with the demo key; with an email address it goes by email; with `verify: true` the answer needs a
   * step-up code (DESIGN section 16).
   */
  const sendDemoAlert = async (req: IncomingMessage, res: ServerResponse) => {
    const input = await readJsonBody(req, res, 16 * 1024);
    if (input === undefined) return;
    const { phone, email, verify } = (typeof input === 'object' && input !== null ? input : {}) as Record<
      string,
      unknown
    >;
    if (
      typeof phone !== 'string' ||
      (email !== undefined && typeof email !== 'string') ||
      (verify !== undefined && typeof verify !== 'boolean')
    ) {
      return sendJson(res, 400, {
        error: {
          code: 'invalid_request',
          message: 'Give {"phone": "+1..."} and, to send by email, "email"; "verify": true asks for a code',
        },
      });
    }
    const reference = `txn-${Date.now().toString().slice(-6)}`;
    if (verify) demoBackend?.expectVerification(reference);
    const response = await fetch(`${baseUrl}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${keys.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        customerId: `demo-${phone.replace(/\D/g, '')}`,
        to: { phone, ...(email !== undefined && { email }) },
        ...(email !== undefined && { channel: 'email' }),
        template: 'card-transaction-alert',
        data: { amount: '$420.00', merchant: 'ACME' },
        urgency: 'high',
        prompt: { type: 'confirm', expiresInSeconds: 900, ...(verify === true && { verify: 'code' }) },
        reference,
      }),
    });
    res.writeHead(response.status, { 'content-type': 'application/json' });
    res.end(await response.text());
  };

  /** POST /_local/faults: what the emulated SNS and SES do for one address (DESIGN.md §3). */
  const setFault = async (req: IncomingMessage, res: ServerResponse) => {
    const input = await readJsonBody(req, res, 16 * 1024);
    if (input === undefined) return;
    const parsed = parseFaultRequest(input);
    if (!parsed.ok) {
      return invalid(
        res,
        'Give {"address", "fault": "throttle"|"reject"|"unavailable"|"ambiguous"|"delay", "times"?, "delayMs"?}, ' +
          '{"address", "delivery": "delivered"|"failed"|"bounce"|"complaint", "reason"?}, or {"address", "fault": null}',
        parsed.issues.map((message) => ({ message })),
      );
    }
    edges.faults.apply(parsed.value);
    const { address } = parsed.value;
    sendJson(res, 200, {
      address,
      fault: edges.faults.get(address) ?? null,
      delivery: edges.deliveryFor(address),
    });
  };

  /** POST /_local/sms/inbound: the simple form or a full End User Messaging payload, through the real handler. */
  const simulateInbound = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readJsonBody(req, res, 64 * 1024);
    if (body === undefined) return;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return invalid(res, 'Give {"from": "+1...", "body": "..."} or a full End User Messaging payload');
    }
    const { at: atInput, ...input } = body as Record<string, unknown>;
    // `at` is the SNS envelope's Timestamp: set it to rehearse replies that arrive late or out of order.
    const at = atInput === undefined ? new Date() : parseIsoTime(atInput);
    if (at === undefined) {
      return invalid(res, '"at" must be an ISO 8601 time with an offset, such as 2024-05-01T10:00:00Z', [
        { path: 'at', message: 'not an ISO 8601 date-time' },
      ]);
    }
    let message: string;
    let inboundMessageId: unknown;
    if ('originationNumber' in input) {
      // A full payload goes through as given (without `at`), malformed or not: the handler decides.
      message = JSON.stringify(input);
      inboundMessageId = input.inboundMessageId;
    } else {
      const parsed = simpleInboundSchema.safeParse(input);
      if (!parsed.success) {
        return sendJson(res, 400, {
          error: {
            code: 'invalid_request',
            message:
              'Give {"from": "+1...", "body": "..."} (and optionally "to", "replyTo", "at", "inboundMessageId"), ' +
              'or a full payload',
            details: parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(root)', message: i.message })),
          },
        });
      }
      const payload = payloadFromSimple(
        {
          from: parsed.data.from,
          body: parsed.data.body,
          ...(parsed.data.to && { to: parsed.data.to }),
          ...(parsed.data.replyTo && { replyTo: parsed.data.replyTo }),
          ...(parsed.data.inboundMessageId && { inboundMessageId: parsed.data.inboundMessageId }),
        },
        { tenantNumber: demoTenant.smsNumber, edges },
      );
      message = JSON.stringify(payload);
      inboundMessageId = payload.inboundMessageId;
    }
    try {
      const logged = JSON.parse(message) as Record<string, string>;
      inboundLog.push({
        channel: 'sms',
        from: logged.originationNumber ?? '',
        to: logged.destinationNumber ?? '',
        body: logged.messageBody ?? '',
        at: at.toISOString(),
        inboundMessageId: logged.inboundMessageId ?? '',
      });
    } catch {
      // not JSON: nothing to show in the console's thread
    }
    const deadLettersBefore = edges.deadLetters.list().length;
    try {
      await inboundSms(snsEventFor(message, at), lambdaContext('inbound-sms'));
    } catch (error) {
      return inboundFailed(res, error, inboundMessageId);
    }
    const deadLettered = edges.deadLetters.list().length > deadLettersBefore;
    sendJson(res, 202, { inboundMessageId, ...(deadLettered && { deadLettered: true }) });
  };

  /**
   * The handler threw: on AWS, Lambda would run the same event again (twice), then dead-letter it. Locally the
   * caller is told so, and rehearses the redelivery by posting the same inboundMessageId again.
   */
  const inboundFailed = (
    res: ServerResponse,
    error: unknown,
    inboundMessageId: unknown,
    again = { handler: 'inbound-sms', rehearse: 'Send it again with the same inboundMessageId to rehearse that.' },
  ) => {
    const inProgress = error instanceof InboundInProgressError;
    const reason = error instanceof ParleyError && error.expose ? error.message : (error as Error).name;
    sendJson(
      res,
      inProgress ? 429 : 503,
      {
        error: {
          code: inProgress ? 'rate_limited' : error instanceof ParleyError && error.expose ? error.code : 'internal',
          message: inProgress
            ? 'Another delivery of this inbound message holds its lease: send it again once the lease is over'
            : `The ${again.handler} handler failed (${reason}); on AWS, Lambda delivers the event again. ${again.rehearse}`,
        },
        inboundMessageId,
      },
      { 'retry-after': inProgress ? '30' : '1' },
    );
  };

  /**
   * POST /_local/email/inbound: a raw mail, or the simple form built into one, through SES's receipt path: the
   * object in the emulated bucket, the Received notification on the inbound-email topic, the real handler.
   */
  const simulateInboundEmail = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readJsonBody(
      req,
      res,
      maxInboundEmailBodyBytes,
      `POST /_local/email/inbound takes at most ${maxInboundEmailBodyBytes} bytes of JSON (a raw mail of about 7 MB); ` +
        'SES itself receives mail up to 40 MB',
    );
    if (body === undefined) return;
    const at = new Date();
    const mail = prepareInboundEmail(body, {
      edges,
      replyDomain: process.env[envNames.replyDomain] ?? '',
      now: at,
    });
    if (!mail.ok) {
      const code = mail.status === 413 ? 'payload_too_large' : 'invalid_request';
      return sendJson(res, mail.status, {
        error: { code, message: mail.message, ...(mail.details && { details: mail.details }) },
      });
    }
    const sesMessageId = newSesMessageId();
    const inboundMessageId = inboundEmailId(mail.messageId, sesMessageId);
    if (!inboundEmail.handler) {
      const reason = inboundEmail.error instanceof Error ? inboundEmail.error.message : String(inboundEmail.error);
      return sendJson(res, 503, {
        error: {
          code: 'internal',
          message: `The inbound-email handler did not load (${reason}); see the npm start log`,
        },
      });
    }
    const objectKey = `${inboundObjectKeyPrefix}${sesMessageId}`;
    await s3.send(new PutObjectCommand({ Bucket: localInboundEmailBucket, Key: objectKey, Body: mail.raw }));
    inboundLog.push({ channel: 'email', ...mail.summary, at: at.toISOString(), inboundMessageId });
    const topic = 'parley-inbound-email';
    const notification = receiptNotification({
      mail,
      sesMessageId,
      at,
      bucketName: localInboundEmailBucket,
      objectKey,
      topicArn: localTopicArn(topic),
    });
    const deadLettersBefore = edges.deadLetters.list().length;
    try {
      await inboundEmail.handler(
        snsEventFor(notification, at, { name: topic, subject: 'Amazon SES Email Receipt Notification' }),
        lambdaContext('inbound-email'),
      );
    } catch (error) {
      return inboundFailed(res, error, inboundMessageId, {
        handler: 'inbound-email',
        rehearse: 'Post the same mail again (the same Message-ID) to rehearse that.',
      });
    }
    const deadLettered = edges.deadLetters.list().length > deadLettersBefore;
    sendJson(res, 202, { inboundMessageId, sesMessageId, ...(deadLettered && { deadLettered: true }) });
  };

  const route = async (req: IncomingMessage, res: ServerResponse) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', baseUrl);
    } catch {
      return sendJson(res, 400, { error: { code: 'invalid_request', message: 'The request target is malformed' } });
    }
    try {
      if (await apiRouter(req, res, url)) return;
      if (req.method === 'POST' && url.pathname === '/_local/sms/inbound') return await simulateInbound(req, res);
      if (req.method === 'POST' && url.pathname === '/_local/email/inbound') {
        return await simulateInboundEmail(req, res);
      }
      if (req.method === 'POST' && url.pathname === '/_local/faults') return await setFault(req, res);
      if (url.pathname === '/_local/clock' && (req.method === 'GET' || req.method === 'POST')) {
        if (req.method === 'POST') {
          const input = await readJsonBody(req, res, 4 * 1024);
          if (input === undefined) return;
          const parsed = parseClockRequest(input, localClock.now());
          if (!parsed.ok) return sendJson(res, 400, { error: { code: 'invalid_request', message: parsed.message } });
          localClock.advance(parsed.advanceMs);
        }
        return sendJson(res, 200, { now: new Date(localClock.now()).toISOString(), offsetMs: localClock.offsetMs() });
      }
      if (req.method === 'GET' && url.pathname === '/_local/inbound') {
        const from = url.searchParams.get('from');
        return sendJson(res, 200, from ? inboundLog.filter((m) => m.from === from) : inboundLog);
      }
      if (req.method === 'POST' && url.pathname === '/_local/demo/card-alert') return await sendDemoAlert(req, res);
      if (req.method === 'GET' && url.pathname === '/') {
        const page = loadPage('console', { wsUrl: info.wsUrl });
        res.writeHead(200, page.headers);
        res.end(page.body);
        return;
      }
      if (req.method === 'GET' && url.pathname === '/_local/outbox') {
        const to = url.searchParams.get('to') ?? undefined;
        // Each with what the emulated provider reported for it, once it has (`reported`).
        return sendJson(
          res,
          200,
          edges.outbox.list(to ? { to } : undefined).map((entry) => {
            const reported = deliveryReporter?.reportedFor(entry.providerMessageId);
            return reported ? { ...entry, reported } : entry;
          }),
        );
      }
      if (req.method === 'GET' && url.pathname === '/_local/events') {
        const type = url.searchParams.get('type') ?? undefined;
        return sendJson(res, 200, edges.events.list(type ? { type } : undefined));
      }
      sendJson(res, 404, { error: { code: 'not_found', message: 'No such route' } });
    } catch (error) {
      console.error('[parley] request failed', error);
      if (!res.headersSent) sendJson(res, 500, { error: { code: 'internal', message: 'Internal error' } });
      else res.end();
    }
  };

  // Every route answers from here on: only now is the runtime ready, and only now is local.json written.
  serve = route;
  upgrade = webSockets.handleUpgrade;
  await demoBackend
    ?.afterReady()
    .catch((error: unknown) => console.error('[parley] the demo backend did not start:', (error as Error).message));
  writeFileSync(localJsonPath, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });

  return {
    ...info,
    dataDir,
    edges,
    tenants,
    webSockets,
    webhookDispatcher,
    close: async () => {
      await demoBackend?.stop();
      webhookDispatcher?.stop();
      await deliveryReporter?.stop();
      webSockets.close();
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
      await edges.close();
      dynamoClient.destroy();
      s3.destroy();
      await dynamo.close();
    },
  };
};
