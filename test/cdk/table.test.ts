import type { CfnElement } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { tableSchema } from '../../functions/adapters/dynamo/table-schema.ts';
import { synthGateway } from './gateway-app.ts';

const { stack, template } = synthGateway();

describe('the single table', () => {
  it('is on-demand, with point-in-time recovery and the shared key shape', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      DeletionProtectionEnabled: true,
    });
  });

  it('is encrypted with a customer-managed key that rotates', () => {
    const keyLogicalId = stack.getLogicalId(stack.gateway.table.key.node.defaultChild as CfnElement);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [keyLogicalId, 'Arn'] } },
    });
    const keys = template.findResources('AWS::KMS::Key', { Properties: { EnableKeyRotation: true } });
    expect(Object.keys(keys)).toContain(keyLogicalId);
  });

  it('has both generic GSIs, string keys, all attributes projected', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      GlobalSecondaryIndexes: tableSchema.globalSecondaryIndexes.map((index) => ({
        IndexName: index.indexName,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      })),
      AttributeDefinitions: Match.arrayWith(
        ['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk'].map((name) => ({
          AttributeName: name,
          AttributeType: 'S',
        })),
      ),
    });
  });

  it('and its key outlive the stack', () => {
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    const keyLogicalId = stack.getLogicalId(stack.gateway.table.key.node.defaultChild as CfnElement);
    expect(template.toJSON().Resources[keyLogicalId]).toMatchObject({ DeletionPolicy: 'Retain' });
  });
});
