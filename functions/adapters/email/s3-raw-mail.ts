import { GetObjectCommand, type GetObjectCommandOutput, S3Client } from '@aws-sdk/client-s3';
import { UnprocessableInboundError } from '../unprocessable-inbound.ts';

/** SES receives messages up to 40 MB; anything bigger in the bucket is not a received mail. */
export const maxRawMailBytes = 40 * 1024 * 1024;

/**
 * Reads the raw mail SES's S3 action stored. A missing object (expired, or deleted by hand) can never be processed;
 * any other failure is thrown as is, so the delivery is retried.
 */
export class S3RawMail {
  constructor(private readonly s3: S3Client = new S3Client({})) {}

  async read(bucket: string, key: string): Promise<Uint8Array> {
    let response: GetObjectCommandOutput;
    try {
      response = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    } catch (error) {
      const name = (error as { name?: string } | null)?.name;
      if (name === 'NoSuchKey' || name === 'NotFound') throw new UnprocessableInboundError('the stored mail is gone');
      throw error;
    }
    const length = response.ContentLength;
    if (length !== undefined && length > maxRawMailBytes) {
      throw new UnprocessableInboundError(`the stored mail is ${length} bytes, more than SES receives`);
    }
    if (!response.Body) throw new UnprocessableInboundError('the stored mail is empty');
    return response.Body.transformToByteArray();
  }
}
