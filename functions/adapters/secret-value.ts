import { HttpRequest } from '@smithy/core/protocols';
import { streamCollector } from '@smithy/core/serde';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import {
  type AwsCredentials,
  environmentCredentials,
  type HttpHandle,
  RetryableAwsError,
  sendSigned,
  signerFor,
  withAwsRetries,
} from './signed-aws-request.ts';

export interface SecretValueOptions {
  region: string;
  credentials: AwsCredentials;
  /** Where Secrets Manager answers instead of AWS (a test server): `http(s)://host[:port]`. */
  endpoint?: string;
  /** Attempts in all, for a 5xx, a 429 or a dropped connection: 3, as the SDK's standard retry mode makes. */
  maxAttempts?: number;
  httpHandler?: HttpHandle;
}

/**
 * Secrets Manager's `GetSecretValue`, one signed JSON request (the `secretsmanager.GetSecretValue` target of its
 * JSON 1.1 protocol) instead of the Secrets Manager client, which was 13 KB of every bundle for one call per cold
 * start. The answer is read as the client reads it: `SecretString`, or a `__type` error.
 */
export const getSecretString = async (secretId: string, options: SecretValueOptions): Promise<string | undefined> => {
  const { region, credentials } = options;
  if (!credentials.accessKeyId || !credentials.secretAccessKey || !region) {
    throw new Error('No AWS credentials or region in the environment to read the secret with');
  }
  const base = new URL(options.endpoint ?? `https://secretsmanager.${region}.amazonaws.com`);
  const signer = signerFor('secretsmanager', region, credentials);
  const http = options.httpHandler ?? new NodeHttpHandler();
  const body = JSON.stringify({ SecretId: secretId });
  return withAwsRetries(options.maxAttempts ?? 3, async () => {
    const request = new HttpRequest({
      method: 'POST',
      protocol: base.protocol,
      hostname: base.hostname,
      ...(base.port && { port: Number(base.port) }),
      path: base.pathname || '/',
      headers: {
        host: base.port ? `${base.hostname}:${base.port}` : base.hostname,
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'secretsmanager.GetSecretValue',
      },
      body,
    });
    const response = await sendSigned(signer, http, request);
    const text = response.body ? Buffer.from(await streamCollector(response.body)).toString('utf8') : '';
    const answer = parseJson(text);
    if (response.statusCode < 200 || response.statusCode >= 300) {
      const type = typeof answer?.__type === 'string' ? answer.__type.split('#').at(-1) : undefined;
      const message = `Secrets Manager GetSecretValue answered ${response.statusCode}${type ? ` ${type}` : ''}`;
      throw response.statusCode >= 500 || response.statusCode === 429 || type === 'ThrottlingException'
        ? new RetryableAwsError(message)
        : new Error(message);
    }
    return typeof answer?.SecretString === 'string' ? answer.SecretString : undefined;
  });
};

const parseJson = (text: string): Record<string, unknown> | undefined => {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
};

/** The options Lambda's environment gives: its credentials and region, `AWS_ENDPOINT_URL_SECRETS_MANAGER` if set. */
export const secretValueOptionsFromEnvironment = (env: NodeJS.ProcessEnv = process.env): SecretValueOptions => {
  const endpoint = env.AWS_ENDPOINT_URL_SECRETS_MANAGER || env.AWS_ENDPOINT_URL;
  return { ...environmentCredentials(env), ...(endpoint && { endpoint }) };
};
