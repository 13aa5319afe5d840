import { fork } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceNotFoundException,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { tableSchema } from '../functions/adapters/dynamo/table-schema.ts';

export interface LocalDynamo {
  endpoint: string;
  close(): Promise<void>;
}

const childPath = fileURLToPath(new URL('./dynalite-child.mjs', import.meta.url));

/** Starts dynalite in a child process, on disk under `path` (in memory without one). */
export const startLocalDynamo = async (options: { path?: string; port?: number } = {}): Promise<LocalDynamo> => {
  if (options.path) mkdirSync(options.path, { recursive: true });
  const child = fork(childPath, [String(options.port ?? 0), options.path ?? ''], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message: { ready?: number }) => (message.ready ? resolve(message.ready) : reject()));
    child.once('exit', (code) => reject(new Error(`dynalite exited with code ${code}`)));
    // A child that cannot be started, or an IPC channel that breaks, reports here rather than ending the process.
    child.on('error', (error) => {
      reject(error);
      console.error('[parley] dynalite:', error.message);
    });
  });
  const stop = () => child.kill('SIGTERM');
  process.once('exit', stop);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        process.removeListener('exit', stop);
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
};

export const localDynamoClient = (endpoint: string): DynamoDBClient =>
  new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });

/** Creates the single table with the same keys and indexes as the CDK construct, unless it exists. */
export const ensureTable = async (client: DynamoDBClient, tableName: string): Promise<void> => {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return;
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  const attributes = new Set<string>([tableSchema.partitionKey, tableSchema.sortKey]);
  for (const index of tableSchema.globalSecondaryIndexes) {
    attributes.add(index.partitionKey);
    attributes.add(index.sortKey);
  }
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [...attributes].map((name) => ({ AttributeName: name, AttributeType: 'S' })),
      KeySchema: [
        { AttributeName: tableSchema.partitionKey, KeyType: 'HASH' },
        { AttributeName: tableSchema.sortKey, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: tableSchema.globalSecondaryIndexes.map((index) => ({
        IndexName: index.indexName,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      })),
    }),
  );
  await waitUntilTableExists({ client, maxWaitTime: 30 }, { TableName: tableName });
};
