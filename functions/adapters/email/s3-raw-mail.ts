import { HttpRequest } from '@smithy/core/protocols';
import { streamCollector } from '@smithy/core/serde';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { SignatureV4 } from '@smithy/signature-v4';
import {
  type AwsCredentials,
  environmentCredentials,
  type HttpHandle,
  RetryableAwsError,
  sendSigned,
  signerFor,
  withAwsRetries,
} from '../signed-aws-request.ts';
import { UnprocessableInboundError } from '../unprocessable-inbound.ts';

/** SES receives messages up to 40 MB; anything bigger in the bucket is not a received mail. */
export const maxRawMailBytes = 40 * 1024 * 1024;

export interface S3RawMailOptions {
  region: string;
  credentials: AwsCredentials;
  /** Where S3 answers instead of AWS (the local edges, a test server): `http(s)://host[:port]`. */
  endpoint?: string;
  /** `<endpoint>/<bucket>/<key>` rather than `<bucket>.<endpoint host>/<key>`: an emulated S3 has no bucket hosts. */
  forcePathStyle?: boolean;
  /** Attempts in all, for a 5xx, a 429 or a dropped connection: 3, as the SDK's standard retry mode makes. */
  maxAttempts?: number;
  /** The HTTP handler: the SDK's, as its clients build it, unless a test gives one. */
  httpHandler?: HttpHandle;
}

/** An S3 error answer's `<Code>`, or undefined when the body has none (a HEAD-like answer, a proxy's page). */
const errorCode = (body: string): string | undefined => /<Code>([^<]*)<\/Code>/.exec(body)?.[1];

/** Whether the host is an IP address: no bucket can have a host name of its own on one. */
const isIpHost = (hostname: string): boolean => /^\d{1,3}(\.\d{1,3}){3}$/.test(hostname) || hostname.startsWith('[');

/** One path segment as S3's canonical URI has it: percent-encoded per RFC 3986, as the S3 client encodes keys. */
const encodeSegment = (segment: string): string =>
  encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * Reads the raw mail SES's S3 action stored with one SigV4-signed `GetObject`, made with the SDK's own signer and
 * HTTP handler, which the function's other clients bundle anyway, rather than the S3 client: that client, with the
 * S3-only parts of the SDK's core (checksums, the REST-XML protocol, event streams), is about 165 KB read at every
 * cold start, for one GET. Not `fetch` (nor aws4fetch over it): Node loads its fetch implementation on first use,
 * about 50 ms that every cold start would pay on its first mail.
 *
 * A missing object (expired, or deleted by hand) can never be processed: S3's `404 NoSuchKey`. To a caller without
 * `s3:ListBucket`, as `inbound-email` is on AWS, S3 answers a missing key `403 AccessDenied` instead, which cannot be
 * told from a real denial (a changed policy or key): it is thrown as any other failure is, so the delivery is retried
 * and, still failing, reaches the same dead-letter queue (without the reason). So is `404 NoSuchBucket`.
 */
export class S3RawMail {
  private readonly signer: SignatureV4;
  private readonly http: HttpHandle;

  constructor(private readonly options: S3RawMailOptions) {
    // The S3 client's settings: paths signed as encoded (no second encoding), the payload left unsigned.
    this.signer = signerFor('s3', options.region, options.credentials, { uriEscapePath: false, applyChecksum: false });
    this.http = options.httpHandler ?? new NodeHttpHandler();
  }

  /**
   * What the S3 client would be given on Lambda: the function's credentials and region from its environment, and
   * `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL` when one is set (`npm start`, the bench). Missing credentials fail the
   * first read, not init, as the client's do.
   */
  static fromEnvironment(options: { forcePathStyle?: boolean } = {}, env = process.env): S3RawMail {
    const endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL;
    return new S3RawMail({
      ...environmentCredentials(env),
      ...(endpoint && { endpoint }),
      ...(options.forcePathStyle !== undefined && { forcePathStyle: options.forcePathStyle }),
    });
  }

  /** The request, unsigned: virtual-hosted on AWS, path-style when asked or where a bucket host cannot exist. */
  request(bucket: string, key: string): HttpRequest {
    const { endpoint, region } = this.options;
    const base = new URL(endpoint ?? `https://s3.${region}.amazonaws.com`);
    // A bucket name with dots does not match S3's wildcard certificate as a host: the S3 client goes path-style too.
    const pathStyle = this.options.forcePathStyle === true || isIpHost(base.hostname) || bucket.includes('.');
    const hostname = pathStyle ? base.hostname : `${bucket}.${base.hostname}`;
    const segments = [...(pathStyle ? [bucket] : []), ...key.split('/')].map(encodeSegment);
    return new HttpRequest({
      method: 'GET',
      protocol: base.protocol,
      hostname,
      ...(base.port && { port: Number(base.port) }),
      path: `${base.pathname.replace(/\/$/, '')}/${segments.join('/')}`,
      headers: { host: base.port ? `${hostname}:${base.port}` : hostname, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    });
  }

  async read(bucket: string, key: string): Promise<Uint8Array> {
    const { credentials, region } = this.options;
    if (!credentials.accessKeyId || !credentials.secretAccessKey || !region) {
      throw new Error('No AWS credentials or region in the environment to read the stored mail with');
    }
    return withAwsRetries(this.options.maxAttempts ?? 3, () => this.readOnce(bucket, key));
  }

  private async readOnce(bucket: string, key: string): Promise<Uint8Array> {
    const response = await sendSigned(this.signer, this.http, this.request(bucket, key));
    const status = response.statusCode;
    if (status < 200 || status >= 300) {
      const body = response.body ? Buffer.from(await streamCollector(response.body)).toString('utf8') : '';
      const code = errorCode(body);
      if (status === 404 && (code === 'NoSuchKey' || code === undefined)) {
        throw new UnprocessableInboundError('the stored mail is gone');
      }
      const message = `S3 GetObject answered ${status}${code ? ` ${code}` : ''}`;
      throw status >= 500 || status === 429 ? new RetryableAwsError(message) : new Error(message);
    }
    const length = Number(response.headers['content-length'] ?? Number.NaN);
    if (length > maxRawMailBytes) {
      response.body?.destroy?.();
      throw new UnprocessableInboundError(`the stored mail is ${length} bytes, more than SES receives`);
    }
    if (!response.body) throw new UnprocessableInboundError('the stored mail is empty');
    const bytes: Uint8Array = await streamCollector(response.body);
    // Without a Content-Length (a chunked answer) the size is known only once read.
    if (bytes.byteLength > maxRawMailBytes) {
      throw new UnprocessableInboundError(`the stored mail is ${bytes.byteLength} bytes, more than SES receives`);
    }
    return bytes;
  }
}
