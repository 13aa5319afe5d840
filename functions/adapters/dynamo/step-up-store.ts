/**
 * Step-up verifications (DESIGN section 16), one item per prompt message beside its claim (`T#<tenant>#MSG#<id>`,
 * `STEPUP`): the pending answer, the code's hash, the tries, and the audit trail `GET /v1/messages/{id}` shows. Every
 * write is conditional on the version read, so two tries at once are judged one after the other.
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { StepUpStore } from '../../domain/ports.ts';
import type { StepUpState } from '../../domain/step-up.ts';
import { createDocumentClient, epochSeconds, strip, writeIfCondition } from './dynamo-helpers.ts';
import { keys } from './keys.ts';

/** Kept as long as its message's audit matters: a year, then DynamoDB's TTL removes it. */
const keepMs = 365 * 24 * 3600 * 1000;

export class DynamoStepUpStore implements StepUpStore {
  constructor(
    private readonly tableName: string,
    private readonly db: DynamoDBDocumentClient = createDocumentClient(),
  ) {}

  async getStepUp(tenantId: string, promptMessageId: string): Promise<StepUpState | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: keys.stepUp(tenantId, promptMessageId),
        ConsistentRead: true,
      }),
    );
    // The state is one attribute: its own `expiresAt` (the code's) must not meet the table's TTL attribute.
    return strip<{ state: StepUpState }>(Item)?.state;
  }

  async putStepUp(state: StepUpState, expected: number | 'absent'): Promise<boolean> {
    return writeIfCondition(
      this.db,
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...keys.stepUp(state.tenantId, state.promptMessageId),
          state,
          version: state.version,
          expiresAt: epochSeconds(Date.parse(state.issuedAt) + keepMs),
        },
        ...(expected === 'absent'
          ? { ConditionExpression: 'attribute_not_exists(pk)' }
          : {
              ConditionExpression: 'version = :expected',
              ExpressionAttributeValues: { ':expected': expected },
            }),
      }),
    );
  }
}
