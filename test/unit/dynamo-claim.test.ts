import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoMessageStore } from '../../functions/adapters/dynamo/message-store.ts';
import type { MessageClaim } from '../../functions/domain/model.ts';

const claim: MessageClaim = {
  tenantId: 'demo-bank',
  messageId: 'msg_0000000000000000000000000A',
  customerId: 'cust-42',
  timelineId: '01JX0000000000000000000000',
  requestHash: 'hash-1',
  leaseUntil: 1_800_000_000_000,
  createdAt: '2026-11-25T12:00:00.000Z',
};

/** A document client whose every call fails the way DynamoDB fails a conditional put with ALL_OLD. */
const failingClient = (item: Record<string, unknown> | undefined, calls: string[]) =>
  ({
    send: async (command: { constructor: { name: string } }) => {
      calls.push(command.constructor.name);
      if (command.constructor.name === 'GetCommand') return { Item: item };
      const error = new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
      if (item) Object.assign(error, { Item: marshall(item) });
      throw error;
    },
  }) as unknown as DynamoDBDocumentClient;

describe('DynamoMessageStore.claimMessage', () => {
  it('reads the existing claim from the failed condition (DynamoDB wire format) without another read', async () => {
    const calls: string[] = [];
    const existing = { pk: 'T#demo-bank#MSG#x', sk: 'MESSAGE', ...claim };
    const store = new DynamoMessageStore('parley', failingClient(existing, calls));

    const result = await store.claimMessage({ ...claim, requestHash: 'hash-2' });

    expect(result).toEqual({ claimed: false, existing: claim });
    expect(calls).toEqual(['PutCommand']);
  });

  it('falls back to one read when the failure carries no item (as dynalite answers)', async () => {
    const calls: string[] = [];
    const store = new DynamoMessageStore('parley', {
      send: async (command: { constructor: { name: string } }) => {
        calls.push(command.constructor.name);
        if (command.constructor.name === 'GetCommand') return { Item: { pk: 'p', sk: 's', ...claim } };
        throw new ConditionalCheckFailedException({ message: 'failed', $metadata: {} });
      },
    } as unknown as DynamoDBDocumentClient);

    const result = await store.claimMessage(claim);

    expect(result).toEqual({ claimed: false, existing: claim });
    expect(calls).toEqual(['PutCommand', 'GetCommand']);
  });
});
