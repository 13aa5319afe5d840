/**
 * A pass-through HTTP proxy that logs every request it forwards: put in front of the emulated edges for one
 * service (its AWS_ENDPOINT_URL_<SERVICE>), it counts the calls a handler makes there, e.g. the S3 GetObject of
 * `inbound-email`. Bodies stream through untouched; the edges have no request log of their own.
 */
import { createServer, Agent as HttpAgent, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LoggedRequest {
  method: string;
  /** The request path, without the query. */
  path: string;
  /** The S3 object operation a path-style call is (GetObject, PutObject, ...), else the method. */
  op: string;
  /** Known once the answer has been forwarded. */
  status?: number;
  /** Bytes of the answer's body. */
  bytes: number;
}

export interface RequestLog {
  url: string;
  /** Starts a new logging window. */
  begin(): void;
  /** The requests logged since `begin`. */
  take(): LoggedRequest[];
  close(): Promise<void>;
}

/** The operation of a path-style S3 call: `/<bucket>/<key>` is an object, `/<bucket>` the bucket. */
const s3Op = (method: string, path: string, copy: boolean): string => {
  const onObject = path.indexOf('/', 1) > 0 && path.indexOf('/', 1) < path.length - 1;
  if (!onObject) return method === 'GET' ? 'ListObjects' : method === 'HEAD' ? 'HeadBucket' : method;
  if (method === 'GET') return 'GetObject';
  if (method === 'HEAD') return 'HeadObject';
  if (method === 'PUT') return copy ? 'CopyObject' : 'PutObject';
  if (method === 'DELETE') return 'DeleteObject';
  return method;
};

export const startRequestLog = async (options: { target: string }): Promise<RequestLog> => {
  const target = new URL(options.target);
  const agent = new HttpAgent({ keepAlive: true });
  let entries: LoggedRequest[] = [];

  const server = createServer((req, res) => {
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const entry: LoggedRequest = {
      method,
      path,
      op: s3Op(method, path, req.headers['x-amz-copy-source'] !== undefined),
      bytes: 0,
    };
    // Logged as it arrives, so a count taken once the handler has returned never misses a call in flight.
    entries.push(entry);
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method, path: req.url, agent, headers: req.headers },
      (answer) => {
        entry.status = answer.statusCode ?? 502;
        answer.on('data', (chunk: Buffer) => {
          entry.bytes += chunk.length;
        });
        res.writeHead(entry.status, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', (error) => {
      console.error('[request-log] forwarding failed:', error.message);
      entry.status = 502;
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end('request-log: forwarding failed');
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    begin: () => {
      entries = [];
    },
    take: () => entries,
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
