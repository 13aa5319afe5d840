// Wire-level stand-ins for the AWS services Parley calls (DESIGN.md §3): the real SDK clients reach them through
// their `endpoint` setting, so the production adapters run unchanged against one local port.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { localInboundEmailBucket } from '../handler-env.ts';
import { readLimitedBody } from '../http-body.ts';
import { answerEventBridge } from './eventbridge.ts';
import {
  addressKey,
  type Delivery,
  type DeliveryRule,
  type FaultRequest,
  FaultTable,
  type SendFault,
  type SendFaultRule,
} from './faults.ts';
import { Journal } from './journal.ts';
import { QueryError, queryErrorResponse } from './query-protocol.ts';
import { createS3Edge, type S3Edge } from './s3.ts';
import { answerQuery } from './sns-ses.ts';
import { answerSqs, type DeadLetter } from './sqs.ts';

export interface OutboxEntry {
  channel: 'sms' | 'email';
  to: string;
  from: string;
  body: string;
  subject?: string;
  html?: string;
  replyTo?: string[];
  /** Email sent raw (`SendRawEmail`): every header as it went out, `Message-ID` and `Date` as SES sets them. */
  headers?: Record<string, string>;
  configurationSet?: string;
  /** SES message tags as sent (Parley's message and tenant ids). */
  tags?: Record<string, string>;
  smsType?: string;
  providerMessageId: string;
  at: string;
}

export interface CapturedEvent {
  type: string;
  source: string;
  bus: string;
  detail: unknown;
  time: string;
}

/** What the emulated SNS and SES do to a send call to one address (DESIGN.md §3, `POST /_local/faults`). */
export type Fault = SendFault;
export type { Delivery, DeliveryRule, FaultRequest, SendFault, SendFaultRule };

/** Delivers PostToConnection data; returns false when the connection is gone. */
export type ConnectionHandler = (id: string, data: Buffer) => boolean;
/** Closes a connection for DeleteConnection; returns false when it is already gone. */
export type DisconnectHandler = (id: string) => boolean;

export interface AwsEdges {
  url: string;
  outbox: { list(filter?: { to?: string }): OutboxEntry[]; onEntry(listener: (e: OutboxEntry) => void): () => void };
  events: {
    list(filter?: { type?: string }): CapturedEvent[];
    onEvent(listener: (e: CapturedEvent) => void): () => void;
  };
  faults: {
    /** Sets a send fault (for `times` calls, else until cleared); `null` clears it and the delivery status. */
    set(address: string, fault: Fault | null, options?: { times?: number; delayMs?: number }): void;
    /** Sets the status the provider reports for the address after a send. */
    setDelivery(address: string, delivery: Delivery, reason?: string): void;
    /** Applies a validated `POST /_local/faults` body. */
    apply(request: FaultRequest): void;
    /** The send fault as it stands (`times` is what is left), without counting a call. */
    get(address: string): SendFaultRule | undefined;
  };
  /** The delivery status set for the address (`delivered` unless set; failures carry a reason). */
  deliveryFor(address: string): DeliveryRule;
  connections: { setHandler(fn: ConnectionHandler | null, onDelete?: DisconnectHandler | null): void };
  /** Messages sent to SQS queues: the dead-letter queues. */
  deadLetters: { list(): DeadLetter[] };
  /** The emulated S3 buckets (path-style object calls): received mail, as SES's receipt rule stores it. */
  s3: Pick<S3Edge, 'get'>;
  close(): Promise<void>;
}

export type { DeadLetter };

/**
 * The largest request body read at all: a 10 MB SES message, form-encoded (up to three bytes a byte). The APIs'
 * own limits (SNS 256 KB, SES 10 MB) are checked on the decoded values and answered in their own error shapes.
 */
const MAX_BODY_BYTES = 32 * 1024 * 1024;
/** API Gateway: PostToConnection data is at most 128 KB, the WebSocket message limit. */
const MAX_CONNECTION_DATA_BYTES = 128 * 1024;

/** The buckets the emulated S3 has unless told otherwise: the one the local inbound email path writes to. */
export const defaultBuckets = [localInboundEmailBucket];

export async function startAwsEdges(
  options: { port?: number; host?: string; dataDir?: string; buckets?: readonly string[] } = {},
): Promise<AwsEdges> {
  const host = options.host ?? '127.0.0.1';
  // It accepts any credentials, so it must never be reachable from another machine.
  if (!/^(127\.\d+\.\d+\.\d+|::1|localhost)$/.test(host))
    throw new Error(`aws-edges binds to loopback only, not ${host}`);

  const outbox = new Journal<OutboxEntry>(options.dataDir, 'outbox.jsonl');
  const events = new Journal<CapturedEvent>(options.dataDir, 'events.jsonl');
  const deadLetters = new Journal<DeadLetter>(options.dataDir, 'dead-letters.jsonl');
  const faults = new FaultTable();
  const s3 = createS3Edge({
    buckets: options.buckets ?? defaultBuckets,
    ...(options.dataDir && { dataDir: options.dataDir }),
  });
  let onPost: ConnectionHandler | null = null;
  let onDelete: DisconnectHandler | null = null;
  const messaging = { outbox, takeFault: (address: string) => faults.take(address) };

  function connection(method: string | undefined, id: string, data: Buffer): { status: number; gone: boolean } {
    if (method === 'POST') return onPost?.(id, data) ? { status: 200, gone: false } : { status: 410, gone: true };
    if (method === 'DELETE') return onDelete?.(id) ? { status: 204, gone: false } : { status: 410, gone: true };
    return { status: 405, gone: false };
  }

  async function handle(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    const path = safePath(req.url);
    // API Gateway Management API (restJson); any stage prefix before /@connections is accepted.
    const match = path === null ? null : /\/@connections\/([^/]+)$/.exec(path);
    const target = req.headers['x-amz-target'];
    // S3 is the only REST service here without a target header: its object calls read their own bodies.
    if (path !== null && !match && target === undefined && isS3Method(req.method)) {
      return s3.answer(req, res, path, requestId);
    }
    const read = await readLimitedBody(req, match ? MAX_CONNECTION_DATA_BYTES : MAX_BODY_BYTES);
    if (!read.ok) {
      if (read.reason === 'aborted') return;
      if (match) return sendJson(res, 413, { message: 'Payload too large' }, 'PayloadTooLargeException');
      if (typeof target === 'string') {
        return sendJson(res, 413, { message: 'Request entity too large' }, 'RequestEntityTooLargeException');
      }
      const error = new QueryError(413, 'RequestEntityTooLarge', 'Request entity too large');
      res.writeHead(413, { 'content-type': 'text/xml' }).end(queryErrorResponse(SNS_XMLNS, error, requestId));
      return;
    }
    const body = read.body;
    if (path === null) return sendJson(res, 400, { message: 'Malformed request path' }, 'BadRequestException');

    if (match?.[1] !== undefined) {
      const id = safeDecode(match[1]);
      if (id === null) return sendJson(res, 400, { message: 'Invalid connection id' }, 'BadRequestException');
      const { status, gone } = connection(req.method, id, body);
      if (gone) return sendJson(res, 410, { message: 'GoneException' }, 'GoneException');
      if (status === 405) return sendJson(res, 405, { message: 'Method not allowed' }, 'MethodNotAllowedException');
      res.writeHead(status).end();
      return;
    }

    if (typeof target === 'string' && target.startsWith('AmazonSQS.')) {
      const answer = answerSqs(target, body.toString('utf8'), deadLetters);
      return sendJson(res, answer.status, answer.body, answer.errorType, 'application/x-amz-json-1.0');
    }
    if (typeof target === 'string') {
      const answer = answerEventBridge(target, body.toString('utf8'), events);
      return sendJson(res, answer.status, answer.body, answer.errorType, 'application/x-amz-json-1.1');
    }

    if (req.method === 'POST') {
      const answer = await answerQuery(body.toString('utf8'), messaging, requestId);
      if (answer.drop) {
        // `ambiguous`: the message went out, and the caller never hears so (a reset after the request went).
        req.socket.destroy();
        return;
      }
      if (answer.delayMs) await new Promise((done) => setTimeout(done, answer.delayMs).unref());
      res.writeHead(answer.status, { 'content-type': 'text/xml' }).end(answer.xml);
      return;
    }
    sendJson(res, 404, { message: 'Not Found' }, 'NotFoundException');
  }

  const server = createServer((req, res) => {
    const requestId = randomUUID();
    res.on('error', (err) => console.error('[aws-edges] response failed:', err.message));
    res.setHeader('x-amzn-RequestId', requestId);
    handle(req, res, requestId).catch((err: unknown) => {
      console.error('[aws-edges] request failed:', err);
      if (!res.headersSent) sendJson(res, 500, { message: 'Internal error' }, 'InternalFailure');
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      server.on('error', (err) => console.error('[aws-edges] server error:', err.message));
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    outbox: {
      list: (filter) => {
        const to = filter?.to === undefined ? undefined : addressKey(filter.to);
        return outbox.list(to === undefined ? undefined : (e) => addressKey(e.to) === to);
      },
      onEntry: (listener) => outbox.subscribe(listener),
    },
    events: {
      list: (filter) => events.list(filter?.type === undefined ? undefined : (e) => e.type === filter.type),
      onEvent: (listener) => events.subscribe(listener),
    },
    faults: {
      set: (address, fault, faultOptions) => faults.set(address, fault, faultOptions),
      setDelivery: (address, delivery, reason) => faults.setDelivery(address, delivery, reason),
      apply: (request) => faults.apply(request),
      get: (address) => faults.peek(address),
    },
    deliveryFor: (address) => faults.deliveryFor(address),
    connections: {
      setHandler: (fn, deleteFn = null) => {
        onPost = fn;
        onDelete = deleteFn;
      },
    },
    deadLetters: { list: () => deadLetters.list() },
    s3: { get: (bucket, key) => s3.get(bucket, key) },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // The SDK keeps connections alive; without this close() would wait for them to idle out.
        server.closeAllConnections();
      }),
  };
}

const SNS_XMLNS = 'http://sns.amazonaws.com/doc/2010-03-31/';

const isS3Method = (method: string | undefined) =>
  method === 'GET' || method === 'PUT' || method === 'HEAD' || method === 'DELETE';

/** The request's path, or null when the target cannot be parsed. */
function safePath(url: string | undefined): string | null {
  try {
    return new URL(url ?? '/', 'http://edges').pathname;
  } catch {
    return null;
  }
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  errorType?: string,
  contentType = 'application/json',
): void {
  const headers: Record<string, string> = { 'content-type': contentType };
  if (errorType !== undefined) headers['x-amzn-ErrorType'] = errorType;
  res.writeHead(status, headers).end(JSON.stringify(body));
}

function safeDecode(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}
