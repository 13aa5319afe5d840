/**
 * The single table's physical shape, shared by the CDK construct and the local runtime's table creation.
 * Generic key names: item types give them meaning in keys.ts.
 */
export const tableSchema = {
  partitionKey: 'pk',
  sortKey: 'sk',
  timeToLiveAttribute: 'expiresAt',
  globalSecondaryIndexes: [
    { indexName: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
    // Lists by status (callbacks by status, conversations needing attention): see `statusIndex` in keys.ts.
    { indexName: 'gsi2', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
  ],
} as const;
