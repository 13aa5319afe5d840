import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../functions/adapters/dynamo/dynamo-helpers.ts';
import { DynamoMessageStore } from '../../functions/adapters/dynamo/message-store.ts';
import type { Message } from '../../functions/domain/model.ts';
import { ensureTable, type LocalDynamo, localDynamoClient, startLocalDynamo } from '../../local/dynamo-local.ts';

/** A message's status moves forward with one conditional write on dynalite, as delivery reports need. */
let dynamo: LocalDynamo;
let raw: ReturnType<typeof localDynamoClient>;
let store: DynamoMessageStore;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  raw = localDynamoClient(dynamo.endpoint);
  await ensureTable(raw, 'message-status');
  store = new DynamoMessageStore('message-status', createDocumentClient(raw));
});

afterAll(async () => {
  raw.destroy();
  await dynamo.close();
});

const message: Message = {
  messageId: 'msg_01JXSTATUS0000000000000001',
  tenantId: 'demo-bank',
  customerId: 'cust-42',
  timelineId: '01JXSTATUS0000000000000001',
  direction: 'outbound',
  channel: 'sms',
  to: '+12025550143',
  from: '+12065550100',
  body: 'Reply Y if this was you.',
  status: 'sent',
  statusHistory: [{ status: 'sent', at: '2025-06-02T12:00:00.000Z' }],
  createdAt: '2025-06-02T12:00:00.000Z',
};

describe('advancing a stored message status', () => {
  it('moves it forward and appends the change, then refuses a second move from the old status', async () => {
    // Prepare
    await store.putMessage(message);
    const delivered = { status: 'delivered' as const, at: '2025-06-02T12:00:02.000Z', detail: { priceInUsd: 0.00581 } };

    // Act
    const first = await store.advanceStatus(message, 'sent', delivered);
    const second = await store.advanceStatus(message, 'sent', { status: 'failed', at: '2025-06-02T12:00:03.000Z' });

    // Assess
    expect([first, second]).toEqual([true, false]);
    const stored = await store.getMessageAt(message.tenantId, message.customerId, message.timelineId);
    expect(stored?.status).toBe('delivered');
    expect(stored?.statusHistory).toEqual([...message.statusHistory, delivered]);
  });
});
