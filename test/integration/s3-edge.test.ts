import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxRawMailBytes, S3RawMail } from '../../functions/adapters/email/s3-raw-mail.ts';
import { UnprocessableInboundError } from '../../functions/adapters/unprocessable-inbound.ts';
import { type AwsEdges, startAwsEdges } from '../../local/edges/aws-edges.ts';

const bucket = 'parley-inbound-email';
const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };
const clientFor = (endpoint: string) =>
  new S3Client({ region: 'us-east-1', endpoint, credentials, forcePathStyle: true, maxAttempts: 1 });

/** The SDK's error for a refused call, for asserting on its name and status. */
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (error: { name: string; $metadata?: { httpStatusCode?: number } }) => ({
      name: error.name,
      status: error.$metadata?.httpStatusCode,
    }),
  );

describe('the emulated S3 (path-style object calls)', () => {
  let dataDir: string;
  let edges: AwsEdges;
  let s3: S3Client;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'parley-s3-'));
    edges = await startAwsEdges({ dataDir });
    s3 = clientFor(edges.url);
  });

  afterAll(async () => {
    s3.destroy();
    await edges.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers GetObject as the SDK expects: the bytes, Content-Length, ETag and the checksum it was written with', async () => {
    const body = Buffer.from('From: ana@example.com\r\nSubject: Re: alert\r\n\r\nY\r\n');
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'inbound/a b+c/ü', Body: body }));
    expect(put.ETag).toMatch(/^"[0-9a-f]{32}"$/);

    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'inbound/a b+c/ü' }));
    expect(got.ContentLength).toBe(body.length);
    expect(got.ETag).toBe(put.ETag);
    expect(got.LastModified).toBeInstanceOf(Date);
    expect(
      Buffer.from(await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray()),
    ).toEqual(body);
    expect(edges.s3.get(bucket, 'inbound/a b+c/ü')?.body).toEqual(body);
  });

  it('takes a streamed (aws-chunked) upload and stores the decoded bytes', async () => {
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'inbound/streamed',
        Body: Readable.from([Buffer.from('hello '), Buffer.from('world')]),
        ContentLength: 11,
      }),
    );
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'inbound/streamed' }));
    expect(await got.Body?.transformToString()).toBe('hello world');
  });

  it('answers a missing key 404 NoSuchKey (HEAD: NotFound), an unknown bucket NoSuchBucket', async () => {
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'inbound/none' })))).toEqual({
      name: 'NoSuchKey',
      status: 404,
    });
    expect(await failure(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'inbound/none' })))).toEqual({
      name: 'NotFound',
      status: 404,
    });
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: 'someone-else', Key: 'k' })))).toEqual({
      name: 'NoSuchBucket',
      status: 404,
    });
  });

  it('refuses a body that does not match its checksum, and stores nothing', async () => {
    const refused = await failure(
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'inbound/bad', Body: 'abc', ChecksumCRC32: 'AAAAAA==' })),
    );
    expect(refused).toEqual({ name: 'BadDigest', status: 400 });
    expect(edges.s3.get(bucket, 'inbound/bad')).toBeUndefined();
  });

  it('deletes, and keeps objects on disk across a restart', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'inbound/kept', Body: 'kept' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'inbound/gone', Body: 'gone' }));
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'inbound/gone' }));

    const again = await startAwsEdges({ dataDir });
    const client = clientFor(again.url);
    try {
      const kept = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'inbound/kept' }));
      expect(await kept.Body?.transformToString()).toBe('kept');
      expect(await failure(client.send(new GetObjectCommand({ Bucket: bucket, Key: 'inbound/gone' })))).toMatchObject({
        name: 'NoSuchKey',
      });
    } finally {
      client.destroy();
      await again.close();
    }
  });

  it("serves inbound-email's reader: the mail's bytes, and a gone object as never processable", async () => {
    const reader = new S3RawMail({ region: 'us-east-1', credentials, endpoint: edges.url, forcePathStyle: true });
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'inbound/mail', Body: 'Subject: hi\r\n\r\nY\r\n' }));
    expect(Buffer.from(await reader.read(bucket, 'inbound/mail')).toString()).toBe('Subject: hi\r\n\r\nY\r\n');
    // A key the S3 client would encode: the reader's signed path names the same object.
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'inbound/a b+c/ü(1)', Body: 'Subject: odd\r\n\r\nN\r\n' }),
    );
    expect(Buffer.from(await reader.read(bucket, 'inbound/a b+c/ü(1)')).toString()).toBe('Subject: odd\r\n\r\nN\r\n');
    await expect(reader.read(bucket, 'inbound/expired')).rejects.toBeInstanceOf(UnprocessableInboundError);
    // An unknown bucket is a configuration fault, not a gone mail: thrown, so the delivery is retried.
    await expect(reader.read('someone-else', 'inbound/mail')).rejects.toThrow(/404 NoSuchBucket/);
  });

  it("refuses, as inbound-email's reader, an object bigger than SES receives, without reading it", async () => {
    const reader = new S3RawMail({ region: 'us-east-1', credentials, endpoint: edges.url, forcePathStyle: true });
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'inbound/huge', Body: Buffer.alloc(maxRawMailBytes + 1, 0x41) }),
    );
    const refused = await reader.read(bucket, 'inbound/huge').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(UnprocessableInboundError);
    expect((refused as Error).message).toMatch(/more than SES receives/);
  });
});
