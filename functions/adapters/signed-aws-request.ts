import { Sha256 } from '@smithy/core/checksum';
import type { HttpRequest } from '@smithy/core/protocols';
import type { NodeHttpHandler } from '@smithy/node-http-handler';
import { SignatureV4 } from '@smithy/signature-v4';

/**
 * One AWS API call signed with the SDK's own SigV4 signer, for the few calls a function makes once (the stored mail's
 * `GetObject`, the token secret's `GetSecretValue`) where the service's whole client would be most of a bundle. The
 * signer, the SHA-256 and the Node HTTP handler are in every bundle anyway, for the other clients.
 */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** The function's credentials and region as Lambda puts them in its environment (what the SDK's clients read). */
export const environmentCredentials = (env: NodeJS.ProcessEnv = process.env) => ({
  region: env.AWS_REGION ?? '',
  credentials: {
    accessKeyId: env.AWS_ACCESS_KEY_ID ?? '',
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? '',
    ...(env.AWS_SESSION_TOKEN && { sessionToken: env.AWS_SESSION_TOKEN }),
  } satisfies AwsCredentials,
});

export const signerFor = (
  service: string,
  region: string,
  credentials: AwsCredentials,
  options: { uriEscapePath?: boolean; applyChecksum?: boolean } = {},
) => new SignatureV4({ service, region, credentials, sha256: Sha256, ...options });

/** A connection that dropped or was refused before an answer: the SDK retries these too. */
export const isDroppedConnection = (error: unknown): boolean =>
  ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT'].includes((error as { code?: string } | null)?.code ?? '');

/** A failure worth another attempt within this invocation (a 5xx, a 429), as the SDK's retry strategy sees it. */
export class RetryableAwsError extends Error {
  override name = 'RetryableAwsError';
}

/**
 * Runs `call` up to `attempts` times while it fails with a retryable error or a dropped connection, with full jitter
 * on 100 ms doubling, as the SDK's standard retry mode starts.
 */
export const withAwsRetries = async <T>(attempts: number, call: () => Promise<T>): Promise<T> => {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof RetryableAwsError || isDroppedConnection(error)) || attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 100 * 2 ** (attempt - 1)));
    }
  }
};

export type HttpHandle = Pick<NodeHttpHandler, 'handle'>;

/** Signs and sends; the answer's status, headers and body stream, for the caller to read. */
export const sendSigned = async (signer: SignatureV4, http: HttpHandle, request: HttpRequest) => {
  const signed = await signer.sign(request);
  return (await http.handle(signed as HttpRequest)).response;
};
