/**
 * The local pieces the bench runs the handlers against, started by hand so a part can put its recording proxy in
 * front of dynalite: dynalite (child process), the emulated AWS edges, the table and the demo tenant. The handler
 * environment mirrors local/gateway.ts.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDocumentClient, DynamoStore } from '../../functions/adapters/dynamo/dynamo-store.ts';
import { demoTenant, seedDemo } from '../../local/demo.ts';
import { ensureTable, localDynamoClient, startLocalDynamo } from '../../local/dynamo-local.ts';
import { type AwsEdges, startAwsEdges } from '../../local/edges/aws-edges.ts';

export const tableName = 'parley';
export const eventBusName = 'parley';
export const tenantId = demoTenant.tenantId;

export interface BenchStack {
  dynamoEndpoint: string;
  /** A client straight to dynalite (never through a recording proxy). */
  direct: DynamoDBClient;
  store: DynamoStore;
  edges: AwsEdges;
  apiKey: string;
  close(): Promise<void>;
}

/** dynalite (on disk under `dataDir`, else in memory), the edges, the table and the demo tenant. */
export const startBenchStack = async (options: { dataDir?: string } = {}): Promise<BenchStack> => {
  const dynamo = await startLocalDynamo(options.dataDir ? { path: join(options.dataDir, 'dynamodb') } : {});
  let edges: AwsEdges | undefined;
  let direct: DynamoDBClient | undefined;
  try {
    edges = await startAwsEdges(options.dataDir ? { dataDir: options.dataDir } : {});
    direct = localDynamoClient(dynamo.endpoint);
    await ensureTable(direct, tableName);
    const store = new DynamoStore(tableName, createDocumentClient(direct));
    const { apiKey } = await seedDemo(store, {});
    const started = { edges, direct };
    return {
      dynamoEndpoint: dynamo.endpoint,
      direct,
      store,
      edges,
      apiKey,
      close: async () => {
        started.direct.destroy();
        await started.edges.close();
        await dynamo.close();
      },
    };
  } catch (error) {
    direct?.destroy();
    await edges?.close();
    await dynamo.close();
    throw error;
  }
};

/** The environment the handlers read at import, as local/gateway.ts sets it. */
export const handlerEnv = (endpoints: { dynamodb: string; edges: string }): Record<string, string> => ({
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
  AWS_ENDPOINT_URL_SNS: endpoints.edges,
  AWS_ENDPOINT_URL_SES: endpoints.edges,
  AWS_ENDPOINT_URL_EVENTBRIDGE: endpoints.edges,
  AWS_ENDPOINT_URL_SQS: endpoints.edges,
  PARLEY_DEAD_LETTER_QUEUE_URL: `${endpoints.edges}/000000000000/parley-inbound-sms-dlq`,
  PARLEY_TABLE_NAME: tableName,
  PARLEY_EVENT_BUS_NAME: eventBusName,
  PARLEY_SES_CONFIGURATION_SET: 'parley-local',
  PARLEY_REPLY_DOMAIN: 'reply.parley.localhost',
  PARLEY_TOKEN_SECRET: randomBytes(32).toString('base64url'),
  POWERTOOLS_LOG_LEVEL: 'WARN',
  POWERTOOLS_METRICS_DISABLED: 'true',
  POWERTOOLS_SERVICE_NAME: 'parley',
});
