import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { optionalEnv } from '../config/env.ts';

/**
 * The HMAC secret that signs reply and chat tokens: from Secrets Manager on AWS (`PARLEY_TOKEN_SECRET_ARN`, read
 * once per container), or given directly (`PARLEY_TOKEN_SECRET`) by the local runtime and tests.
 */
export const loadTokenSecret = async (client?: SecretsManagerClient): Promise<string> => {
  const direct = optionalEnv('PARLEY_TOKEN_SECRET');
  if (direct) return direct;
  const arn = optionalEnv('PARLEY_TOKEN_SECRET_ARN');
  if (!arn) throw new Error('Missing PARLEY_TOKEN_SECRET_ARN (or PARLEY_TOKEN_SECRET locally)');
  const { SecretString } = await (client ?? new SecretsManagerClient({})).send(
    new GetSecretValueCommand({ SecretId: arn }),
  );
  if (!SecretString || SecretString.length < 32)
    throw new Error('The token secret is missing or shorter than 32 chars');
  return SecretString;
};
