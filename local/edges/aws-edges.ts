// Wire-level stand-ins for the AWS services Parley calls (DESIGN.md §3): the real SDK clients reach them through
// their `endpoint` setting, so the production adapters run unchanged against one local port.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerEventBridge } from './eventbridge.ts';
import { Journal } from './journal.ts';
import { addressKey, answerQuery } from './sns-ses.ts';
import { answerSqs, type DeadLetter } from './sqs.ts';

export interface OutboxEntry {
  channel: 'sms' | 'email';
  to: string;
  from: string;
  body: string;
  subject?: string;
  html?: string;
  replyTo?: string[];
  configurationSet?: string;
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

export type Fault = 'reject' | 'unavailable';

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
  faults: { set(address: string, fault: Fault | null): void };
  connections: { setHandler(fn: ConnectionHandler | null, onDelete?: DisconnectHandler | null): void };
  /** Messages sent to SQS queues: the dead-letter queues. */
  deadLetters: { list(): DeadLetter[] };
  close(): Promise<void>;
}

export type { DeadLetter };

const MAX_BODY_BYTES = 10 * 1024 * 1024; // SES's own limit, the largest of the emulated APIs

export async function startAwsEdges(
  options: { port?: number; host?: string; dataDir?: string } = {},
): Promise<AwsEdges> {
  const host = options.host ?? '127.0.0.1';
  // It accepts any credentials, so it must never be reachable from another machine.
  if (!/^(127\.\d+\.\d+\.\d+|::1|localhost)$/.test(host))
    throw new Error(`aws-edges binds to loopback only, not ${host}`);

  const outbox = new Journal<OutboxEntry>(options.dataDir, 'outbox.jsonl');
  const events = new Journal<CapturedEvent>(options.dataDir, 'events.jsonl');
  const deadLetters = new Journal<DeadLetter>(options.dataDir, 'dead-letters.jsonl');
  const faults = new Map<string, Fault>();
  let onPost: ConnectionHandler | null = null;
  let onDelete: DisconnectHandler | null = null;
  const messaging = { outbox, faultFor: (address: string) => faults.get(addressKey(address)) };

  function connection(method: string | undefined, id: string, data: Buffer): { status: number; gone: boolean } {
    if (method === 'POST') return onPost?.(id, data) ? { status: 200, gone: false } : { status: 410, gone: true };
    if (method === 'DELETE') return onDelete?.(id) ? { status: 204, gone: false } : { status: 410, gone: true };
    return { status: 405, gone: false };
  }

  async function handle(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    const body = await readBody(req);
    if (body === null) return sendJson(res, 413, { message: 'Request entity too large' }, 'PayloadTooLargeException');
    const path = new URL(req.url ?? '/', 'http://edges').pathname;

    // API Gateway Management API (restJson); any stage prefix before /@connections is accepted.
    const match = /\/@connections\/([^/]+)$/.exec(path);
    if (match?.[1] !== undefined) {
      const id = safeDecode(match[1]);
      if (id === null) return sendJson(res, 400, { message: 'Invalid connection id' }, 'BadRequestException');
      const { status, gone } = connection(req.method, id, body);
      if (gone) return sendJson(res, 410, { message: 'GoneException' }, 'GoneException');
      if (status === 405) return sendJson(res, 405, { message: 'Method not allowed' }, 'MethodNotAllowedException');
      res.writeHead(status).end();
      return;
    }

    const target = req.headers['x-amz-target'];
    if (typeof target === 'string' && target.startsWith('AmazonSQS.')) {
      const answer = answerSqs(target, body.toString('utf8'), deadLetters);
      return sendJson(res, answer.status, answer.body, answer.errorType, 'application/x-amz-json-1.0');
    }
    if (typeof target === 'string') {
      const answer = answerEventBridge(target, body.toString('utf8'), events);
      return sendJson(res, answer.status, answer.body, answer.errorType, 'application/x-amz-json-1.1');
    }

    if (req.method === 'POST') {
      const { status, xml } = answerQuery(body.toString('utf8'), messaging, requestId);
      res.writeHead(status, { 'content-type': 'text/xml' }).end(xml);
      return;
    }
    sendJson(res, 404, { message: 'Not Found' }, 'NotFoundException');
  }

  const server = createServer((req, res) => {
    const requestId = randomUUID();
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
      set: (address, fault) => {
        if (fault === null) faults.delete(addressKey(address));
        else faults.set(addressKey(address), fault);
      },
    },
    connections: {
      setHandler: (fn, deleteFn = null) => {
        onPost = fn;
        onDelete = deleteFn;
      },
    },
    deadLetters: { list: () => deadLetters.list() },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // The SDK keeps connections alive; without this close() would wait for them to idle out.
        server.closeAllConnections();
      }),
  };
}

/** The whole request body, or null when it exceeds MAX_BODY_BYTES. */
async function readBody(req: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    // Keep draining rather than breaking out: leaving the loop destroys the socket before we can answer.
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  }
  return size > MAX_BODY_BYTES ? null : Buffer.concat(chunks);
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
