import { optionalEnv } from '../config/env.ts';
import * as envNames from '../config/env-names.ts';
import { getSecretString, type SecretValueOptions, secretValueOptionsFromEnvironment } from './secret-value.ts';

/**
 * The HMAC secret that signs reply and chat tokens: from Secrets Manager on AWS (`PARLEY_TOKEN_SECRET_ARN`, read
 * once per container, by one signed request: ./secret-value.ts), or given directly (`PARLEY_TOKEN_SECRET`) by the
 * local runtime and tests.
 */
export const loadTokenSecret = async (options: SecretValueOptions = secretValueOptionsFromEnvironment()) => {
  const direct = optionalEnv(envNames.tokenSecret);
  if (direct) return direct;
  const arn = optionalEnv(envNames.tokenSecretArn);
  if (!arn) throw new Error('Missing PARLEY_TOKEN_SECRET_ARN (or PARLEY_TOKEN_SECRET locally)');
  const secret = await getSecretString(arn, options);
  if (!secret || secret.length < 32) throw new Error('The token secret is missing or shorter than 32 chars');
  return secret;
};
