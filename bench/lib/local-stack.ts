/**
 * The local pieces the bench runs the handlers against, started by hand so a part can put its recording proxy in
 * front of dynalite: dynalite (child process), the emulated AWS edges, the table and the demo tenant. The handler
 * environment mirrors local/gateway.ts.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDocumentClient } from '../../functions/adapters/dynamo/dynamo-helpers.ts';
import { DynamoTemplateStore } from '../../functions/adapters/dynamo/template-store.ts';
import { DynamoTenantStore } from '../../functions/adapters/dynamo/tenant-store.ts';
import { demoTenant, seedDemo } from '../../local/demo.ts';
import { ensureTable, localDynamoClient, startLocalDynamo } from '../../local/dynamo-local.ts';
import { type AwsEdges, startAwsEdges } from '../../local/edges/aws-edges.ts';
import { localHandlerEnv } from '../../local/handler-env.ts';

export const tableName = 'parley';
export const eventBusName = 'parley';
export const tenantId = demoTenant.tenantId;

export interface BenchStack {
  dynamoEndpoint: string;
  /** A client straight to dynalite (never through a recording proxy). */
  direct: DynamoDBClient;
  tenants: DynamoTenantStore;
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
    const db = createDocumentClient(direct);
    const tenants = new DynamoTenantStore(tableName, db);
    const { apiKey } = await seedDemo({ tenants, templates: new DynamoTemplateStore(tableName, db) }, {});
    const started = { edges, direct };
    return {
      dynamoEndpoint: dynamo.endpoint,
      direct,
      tenants,
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

/** The environment the handlers read at import: the one local/gateway.ts sets. */
export const handlerEnv = (endpoints: { dynamodb: string; edges: string }): Record<string, string> =>
  localHandlerEnv({
    dynamodbEndpoint: endpoints.dynamodb,
    edgesUrl: endpoints.edges,
    tableName,
    eventBusName,
    tokenSecret: randomBytes(32).toString('base64url'),
    logLevel: 'WARN',
  });
