/**
 * Which table the `parley` CLI works on: the running local gateway (named by `$PARLEY_DATA_DIR/local.json`) unless
 * `--table` names one, then that table on AWS with the caller's default credentials and region.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { TargetOptions } from './args.ts';

export interface Target {
  kind: 'local' | 'aws';
  tableName: string;
  /** Where the table is, for messages: an endpoint URL, or "AWS" with the region when one was given. */
  where: string;
  client: DynamoDBClient;
}

/** A problem with where to work (no target, unreadable local.json): reported as `parley: <message>`, exit 1. */
export class TargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TargetError';
  }
}

/** A missing target can be fixed with an argument: reported with the usage, exit 2. */
export class NoTargetError extends TargetError {}

export const localConfigPath = (env: NodeJS.ProcessEnv, cwd: string): string =>
  resolve(cwd, env.PARLEY_DATA_DIR || '.parley', 'local.json');

const readLocalConfig = (path: string): { dynamodbEndpoint: string; tableName: string } => {
  let config: unknown;
  try {
    config = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new TargetError(`cannot read ${path}: ${(error as Error).message}`);
  }
  const { dynamodbEndpoint, tableName } = (config ?? {}) as Record<string, unknown>;
  if (typeof dynamodbEndpoint !== 'string' || typeof tableName !== 'string' || !tableName) {
    throw new TargetError(`${path} does not name "dynamodbEndpoint" and "tableName": restart the local gateway`);
  }
  return { dynamodbEndpoint, tableName };
};

export const resolveTarget = (options: TargetOptions, env: NodeJS.ProcessEnv, cwd: string): Target => {
  if (options.table !== undefined) {
    const client = new DynamoDBClient({
      ...(options.region !== undefined && { region: options.region }),
      ...(options.endpoint !== undefined && { endpoint: options.endpoint }),
      requestHandler: { connectionTimeout: 5_000, requestTimeout: 10_000 },
    });
    const where = options.endpoint ?? (options.region !== undefined ? `AWS ${options.region}` : 'AWS');
    return { kind: 'aws', tableName: options.table, where, client };
  }
  const path = localConfigPath(env, cwd);
  if (!existsSync(path)) {
    throw new NoTargetError(
      `no table to work on: pass --table <name> for a table on AWS, or start the local gateway (npm start) so that ${path} exists`,
    );
  }
  const { dynamodbEndpoint, tableName } = readLocalConfig(path);
  const client = new DynamoDBClient({
    endpoint: dynamodbEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 2_000, requestTimeout: 10_000 },
  });
  return { kind: 'local', tableName, where: dynamodbEndpoint, client };
};

const networkCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH']);

/** One line saying what went wrong with the table and, where it helps, what to do. */
export const describeTargetError = (error: unknown, target: Target): string | undefined => {
  const failure = (error instanceof AggregateError && error.errors[0]) || error;
  const { name, code, message } = (failure ?? {}) as { name?: string; code?: string; message?: string };
  const text = message || code || name || 'unknown error';
  if (name === 'ResourceNotFoundException') {
    return `table '${target.tableName}' not found at ${target.where}${target.kind === 'aws' ? ' (check --table and --region)' : ': restart the local gateway'}`;
  }
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(text)) {
    return 'no AWS credentials found: configure them (AWS_PROFILE, aws sso login, AWS_ACCESS_KEY_ID...) or leave out --table to use the local gateway';
  }
  if (/region is missing/i.test(text)) return 'no AWS region: pass --region or set AWS_REGION';
  if ((code !== undefined && networkCodes.has(code)) || name === 'TimeoutError') {
    const hint = target.kind === 'local' ? ': is the local gateway running (npm start)?' : '';
    return `cannot reach DynamoDB at ${target.where} (${text})${hint}`;
  }
  return undefined;
};
