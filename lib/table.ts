import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { tableSchema } from '../functions/adapters/dynamo/table-schema.ts';

const itemReadActions = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem'];
const itemWriteActions = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];
const keyReadWriteActions = [
  'kms:Decrypt',
  'kms:DescribeKey',
  'kms:Encrypt',
  'kms:GenerateDataKey',
  'kms:GenerateDataKeyWithoutPlaintext',
];

/**
 * The single table (section 8 of the design) and the customer-managed key that encrypts it. The table is retained
 * and deletion-protected: it holds consent records, which outlive any one deployment.
 */
export class ParleyTable extends Construct {
  readonly table: dynamodb.Table;
  /** Customer-managed, rotated yearly. Also encrypts the chat-token secret. */
  readonly key: kms.Key;

  constructor(scope: Construct, id: string) {
    super(scope, id);

    this.key = new kms.Key(this, 'Key', {
      description: 'Parley data: the single table and the chat-token secret',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: tableSchema.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: tableSchema.sortKey, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: tableSchema.timeToLiveAttribute,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const index of tableSchema.globalSecondaryIndexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: index.sortKey, type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }
  }

  /** `dynamodb:GetItem` on the base table only, and use of the key through DynamoDB. */
  grantGetItem(grantee: iam.IGrantable): void {
    this.grant(grantee, ['dynamodb:GetItem'], [this.table.tableArn], ['kms:Decrypt', 'kms:DescribeKey']);
  }

  /**
   * `dynamodb:UpdateItem` on API key items only (`APIKEY#…` partitions): the authorizer records when a key was last
   * used, and can change nothing else.
   */
  grantApiKeyUse(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:UpdateItem'],
      resourceArns: [this.table.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['APIKEY#*'] } },
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: keyReadWriteActions,
      resourceArns: [this.key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${Stack.of(this).region}.amazonaws.com` } },
    });
  }

  /**
   * Item reads and writes on the table and each named index; no Scan, no table-level actions. Spelled out rather
   * than `Table.grantReadWriteData`, which adds `index/*` and `kms:*` action wildcards.
   */
  grantReadWriteItems(grantee: iam.IGrantable): void {
    const indexArns = tableSchema.globalSecondaryIndexes.map(
      (index) => `${this.table.tableArn}/index/${index.indexName}`,
    );
    this.grant(
      grantee,
      [...itemReadActions, ...itemWriteActions],
      [this.table.tableArn, ...indexArns],
      keyReadWriteActions,
    );
  }

  /**
   * `GetItem`, `Query`, `PutItem`, `UpdateItem` and `DeleteItem` on the base table only: no index, no batch, no
   * Scan. For a handler that never lists across partitions (inbound SMS).
   */
  grantReadWriteBaseTableItems(grantee: iam.IGrantable): void {
    this.grant(
      grantee,
      ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      [this.table.tableArn],
      keyReadWriteActions,
    );
  }

  /**
   * `dynamodb:Query` on one index only (no base table, no write), beside `grantReadWriteBaseTableItems`: for a
   * handler that lists by status from the status index (`gsi2`: callbacks, conversations needing attention).
   */
  grantQueryIndex(
    grantee: iam.IGrantable,
    indexName: (typeof tableSchema.globalSecondaryIndexes)[number]['indexName'],
  ): void {
    this.grant(
      grantee,
      ['dynamodb:Query'],
      [`${this.table.tableArn}/index/${indexName}`],
      ['kms:Decrypt', 'kms:DescribeKey'],
    );
  }

  /**
   * Reads of endpoints and writes of their attempts, and nothing else of the table: `GetItem`, `Query` and
   * `PutItem` on the base table, only on items whose partition key is a tenant's webhook partition
   * (`T#<tenant>#WEBHOOKS`) or an endpoint's attempt partition (`T#<tenant>#WH#<id>`). Tenant and customer ids hold
   * no `#`, so no other item's key matches.
   */
  grantWebhookItems(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem'],
      resourceArns: [this.table.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['T#*#WEBHOOKS', 'T#*#WH#*'] } },
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: keyReadWriteActions,
      resourceArns: [this.key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${Stack.of(this).region}.amazonaws.com` } },
    });
  }

  private grant(grantee: iam.IGrantable, actions: string[], resourceArns: string[], keyActions: string[]): void {
    iam.Grant.addToPrincipal({ grantee, actions, resourceArns });
    // The key serves DynamoDB here; the secret's reader gets its own grant, through Secrets Manager.
    iam.Grant.addToPrincipal({
      grantee,
      actions: keyActions,
      resourceArns: [this.key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${Stack.of(this).region}.amazonaws.com` } },
    });
  }
}
