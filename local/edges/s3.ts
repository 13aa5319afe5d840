// S3 object calls over the REST-XML protocol, path-style (`/<bucket>/<key>`): the bucket SES's receipt rule writes
// received mail to and `inbound-email` reads it from (DESIGN.md §3, §12). Only what that path needs is emulated.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { readLimitedBody } from '../http-body.ts';
import { xmlEscape } from './query-protocol.ts';

/**
 * The largest object taken: SES receives mail of up to 40 MB, and its S3 action writes nothing bigger. The margin
 * lets a test store an oversized mail by hand, to see the reader refuse it.
 */
export const MAX_OBJECT_BYTES = 48 * 1024 * 1024;
/** What an aws-chunked upload of the largest object may add: chunk headers, signatures and the trailer. */
const CHUNKING_ALLOWANCE = 1024 * 1024;

export interface StoredObject {
  body: Buffer;
  contentType: string;
  etag: string;
  lastModified: string;
  /** The checksums the writer sent (`x-amz-checksum-crc32` and kin), verified where this edge can. */
  checksums: Record<string, string>;
}

export interface S3Edge {
  /** The object calls (GET, PUT, HEAD, DELETE); the request's path is `/<bucket>/<key>`. */
  answer(req: IncomingMessage, res: ServerResponse, path: string, requestId: string): Promise<void>;
  /** An object as stored, for tests and the local console. */
  get(bucket: string, key: string): StoredObject | undefined;
}

class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Objects in memory, or under `<dataDir>/s3/<bucket>/` (named by a hash of the key, which may be 1,024 bytes). */
class ObjectStore {
  readonly #memory = new Map<string, StoredObject>();
  constructor(readonly dir: string | undefined) {}

  #paths(bucket: string, key: string) {
    const name = createHash('sha256').update(key).digest('hex');
    const folder = join(this.dir as string, bucket);
    return { folder, body: join(folder, `${name}.object`), meta: join(folder, `${name}.json`) };
  }

  put(bucket: string, key: string, object: StoredObject): void {
    if (this.dir === undefined) {
      this.#memory.set(`${bucket}/${key}`, object);
      return;
    }
    const paths = this.#paths(bucket, key);
    mkdirSync(paths.folder, { recursive: true });
    writeFileSync(paths.body, object.body);
    const { body: _body, ...meta } = object;
    writeFileSync(paths.meta, JSON.stringify({ key, ...meta }));
  }

  get(bucket: string, key: string): StoredObject | undefined {
    if (this.dir === undefined) return this.#memory.get(`${bucket}/${key}`);
    const paths = this.#paths(bucket, key);
    try {
      const meta = JSON.parse(readFileSync(paths.meta, 'utf8')) as Omit<StoredObject, 'body'>;
      return { ...meta, body: readFileSync(paths.body) };
    } catch {
      return undefined;
    }
  }

  delete(bucket: string, key: string): void {
    if (this.dir === undefined) {
      this.#memory.delete(`${bucket}/${key}`);
      return;
    }
    const paths = this.#paths(bucket, key);
    rmSync(paths.meta, { force: true });
    rmSync(paths.body, { force: true });
  }
}

/** The checksum headers S3 takes, with how to compute each one this edge verifies. */
const checksumAlgorithms: Record<string, ((body: Buffer) => string) | undefined> = {
  'x-amz-checksum-crc32': (body) => {
    const digest = Buffer.alloc(4);
    digest.writeUInt32BE(crc32(body) >>> 0);
    return digest.toString('base64');
  },
  'x-amz-checksum-sha1': (body) => createHash('sha1').update(body).digest('base64'),
  'x-amz-checksum-sha256': (body) => createHash('sha256').update(body).digest('base64'),
  'x-amz-checksum-crc32c': undefined,
  'x-amz-checksum-crc64nvme': undefined,
};

/**
 * The payload of an `aws-chunked` upload (what the SDK sends for streamed bodies: `<hex size>[;chunk-signature=..]`
 * CRLF data CRLF ..., a zero chunk, then trailing headers such as the checksum), or undefined when it is malformed.
 */
const decodeAwsChunked = (raw: Buffer): { body: Buffer; trailers: Record<string, string> } | undefined => {
  const chunks: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = raw.indexOf('\r\n', at);
    if (lineEnd < 0) return undefined;
    const size = Number.parseInt(raw.subarray(at, lineEnd).toString('latin1').split(';')[0] ?? '', 16);
    if (!Number.isSafeInteger(size) || size < 0) return undefined;
    at = lineEnd + 2;
    if (size === 0) break;
    if (at + size + 2 > raw.length) return undefined;
    chunks.push(raw.subarray(at, at + size));
    at += size + 2;
  }
  const trailers: Record<string, string> = {};
  for (const line of raw.subarray(at).toString('latin1').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { body: Buffer.concat(chunks), trailers };
};

const errorXml = (error: S3Error, requestId: string) =>
  '<?xml version="1.0" encoding="UTF-8"?>\n' +
  `<Error><Code>${xmlEscape(error.code)}</Code><Message>${xmlEscape(error.message)}</Message>` +
  Object.entries(error.extra)
    .map(([name, value]) => `<${name}>${xmlEscape(value)}</${name}>`)
    .join('') +
  `<RequestId>${requestId}</RequestId><HostId>local</HostId></Error>`;

/** The emulated S3 for the given buckets (a call to any other bucket is answered `NoSuchBucket`, as S3 does). */
export const createS3Edge = (options: { dataDir?: string; buckets: readonly string[] }): S3Edge => {
  const store = new ObjectStore(options.dataDir === undefined ? undefined : join(options.dataDir, 's3'));
  const buckets = new Set(options.buckets);

  const objectHeaders = (object: StoredObject, withChecksums: boolean): Record<string, string> => ({
    'content-type': object.contentType,
    'content-length': String(object.body.length),
    etag: object.etag,
    'last-modified': new Date(object.lastModified).toUTCString(),
    'accept-ranges': 'bytes',
    ...(withChecksums && object.checksums),
  });

  const putObject = async (req: IncomingMessage, res: ServerResponse, bucket: string, key: string) => {
    if (req.headers['x-amz-copy-source'] !== undefined) {
      throw new S3Error(501, 'NotImplemented', 'CopyObject is not emulated locally');
    }
    const read = await readLimitedBody(req, MAX_OBJECT_BYTES + CHUNKING_ALLOWANCE);
    if (!read.ok) {
      if (read.reason === 'aborted') return;
      throw new S3Error(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', {
        MaxSizeAllowed: String(MAX_OBJECT_BYTES),
      });
    }
    let body = read.body;
    const given: Record<string, string> = {};
    const chunked =
      String(req.headers['content-encoding'] ?? '').includes('aws-chunked') ||
      String(req.headers['x-amz-content-sha256'] ?? '').startsWith('STREAMING-');
    if (chunked) {
      const decoded = decodeAwsChunked(body);
      if (!decoded) throw new S3Error(400, 'IncompleteBody', 'The aws-chunked body is malformed');
      body = decoded.body;
      Object.assign(given, decoded.trailers);
    }
    if (body.length > MAX_OBJECT_BYTES) {
      throw new S3Error(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', {
        MaxSizeAllowed: String(MAX_OBJECT_BYTES),
      });
    }
    for (const [name, value] of Object.entries(req.headers)) {
      if (name in checksumAlgorithms && typeof value === 'string') given[name] = value;
    }
    const checksums: Record<string, string> = {};
    for (const [name, value] of Object.entries(given)) {
      if (!(name in checksumAlgorithms)) continue;
      const compute = checksumAlgorithms[name];
      if (compute && compute(body) !== value) {
        const algorithm = name.slice('x-amz-checksum-'.length).toUpperCase();
        throw new S3Error(400, 'BadDigest', `The ${algorithm} you specified did not match the calculated checksum.`);
      }
      checksums[name] = value;
    }
    const md5 = createHash('md5').update(body);
    const contentMd5 = req.headers['content-md5'];
    if (typeof contentMd5 === 'string' && md5.copy().digest('base64') !== contentMd5) {
      throw new S3Error(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.');
    }
    const object: StoredObject = {
      body,
      contentType: String(req.headers['content-type'] ?? 'binary/octet-stream'),
      etag: `"${md5.digest('hex')}"`,
      lastModified: new Date().toISOString(),
      checksums,
    };
    store.put(bucket, key, object);
    res.writeHead(200, { etag: object.etag, ...checksums }).end();
  };

  const answerObject = async (req: IncomingMessage, res: ServerResponse, bucket: string, key: string) => {
    const method = req.method;
    if (method === 'PUT') return putObject(req, res, bucket, key);
    // Nothing else takes a body: read it off the socket so the connection stays usable.
    const read = await readLimitedBody(req, 64 * 1024);
    if (!read.ok) return;
    if (method === 'DELETE') {
      store.delete(bucket, key);
      res.writeHead(204).end();
      return;
    }
    const object = store.get(bucket, key);
    if (method === 'HEAD') {
      // HEAD answers carry no body: the SDK names a missing object NotFound from the status alone.
      if (!object) return void res.writeHead(404).end();
      res.writeHead(200, objectHeaders(object, req.headers['x-amz-checksum-mode'] === 'ENABLED')).end();
      return;
    }
    if (!object) throw new S3Error(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key });
    res.writeHead(200, objectHeaders(object, req.headers['x-amz-checksum-mode'] === 'ENABLED')).end(object.body);
  };

  return {
    async answer(req, res, path, requestId) {
      res.setHeader('x-amz-request-id', requestId);
      res.setHeader('x-amz-id-2', 'local');
      try {
        const slash = path.indexOf('/', 1);
        const bucket = path.slice(1, slash < 0 ? undefined : slash);
        let key: string;
        try {
          key = slash < 0 ? '' : decodeURIComponent(path.slice(slash + 1));
        } catch {
          throw new S3Error(400, 'InvalidURI', "Couldn't parse the specified URI.");
        }
        if (!buckets.has(bucket)) {
          throw new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });
        }
        if (key === '') {
          if (req.method === 'HEAD') return void res.writeHead(200).end();
          throw new S3Error(501, 'NotImplemented', 'Only object calls are emulated locally (GET, PUT, HEAD, DELETE)');
        }
        if (Buffer.byteLength(key, 'utf8') > 1024) throw new S3Error(400, 'KeyTooLongError', 'Your key is too long');
        await answerObject(req, res, bucket, key);
      } catch (error) {
        if (!(error instanceof S3Error)) throw error;
        if (res.headersSent) return void res.end();
        // Answer before the rest of an oversized upload arrives; the body reader discards it.
        res.writeHead(error.status, { 'content-type': 'application/xml' });
        res.end(req.method === 'HEAD' ? undefined : errorXml(error, requestId));
      }
    },
    get: (bucket, key) => store.get(bucket, key),
  };
};
