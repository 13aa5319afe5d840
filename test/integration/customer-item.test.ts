import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { itemSize, type WireItem } from '../../bench/lib/capacity-units.ts';
import { DynamoCustomerStore } from '../../functions/adapters/dynamo/customer-store.ts';
import { createDocumentClient } from '../../functions/adapters/dynamo/dynamo-helpers.ts';
import { keys } from '../../functions/adapters/dynamo/keys.ts';
import type { OpenPrompt, PromptAnswer } from '../../functions/domain/model.ts';
import { maxOpenPrompts } from '../../functions/domain/prompt-policy.ts';
import { ensureTable, type LocalDynamo, localDynamoClient, startLocalDynamo } from '../../local/dynamo-local.ts';

/**
 * The customer item as DynamoDB stores it: prompts and answers in their compact form, read back whole, and the
 * item within one write unit with as many of them as the policy keeps (every send writes this item).
 */
let dynamo: LocalDynamo;
let store: DynamoCustomerStore;
let raw: ReturnType<typeof localDynamoClient>;
const tableName = 'customer-items';
const tenantId = 'demo-bank';
const now = '2026-12-03T10:00:00.000Z';

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  raw = localDynamoClient(dynamo.endpoint);
  await ensureTable(raw, tableName);
  store = new DynamoCustomerStore(tableName, createDocumentClient(raw));
});

afterAll(async () => {
  raw.destroy();
  await dynamo.close();
});

const prompt = (i: number, overrides: Partial<OpenPrompt> = {}): OpenPrompt => ({
  messageId: `msg_${String(i).padStart(26, '0')}`,
  type: 'confirm',
  expiresAt: `2026-12-03T10:${String(15 + i).padStart(2, '0')}:00.000Z`,
  reference: `txn-2026-12-03-${String(i).padStart(6, '0')}`,
  summary: 'Demo Bank: did you pay $420.00 at ACM...',
  createdAt: `2026-12-03T10:${String(i).padStart(2, '0')}:00.000Z`,
  ...overrides,
});

const answer = (i: number): PromptAnswer => ({
  answer: 'yes',
  raw: 'Y',
  at: `2026-12-03T09:${String(i).padStart(2, '0')}:30.000Z`,
  channel: 'sms',
  messageId: `msg_${String(100 + i).padStart(26, '0')}`,
  reference: `txn-2026-12-02-${String(i).padStart(6, '0')}`,
});

const storedSize = async (customerId: string) => {
  const { Item } = await raw.send(new GetItemCommand({ TableName: tableName, Key: wireKey(customerId) }));
  return itemSize(Item as WireItem);
};

const wireKey = (customerId: string) => {
  const key = keys.customer(tenantId, customerId);
  return { pk: { S: key.pk }, sk: { S: key.sk } };
};

describe('the customer item', () => {
  it('reads back every field of a prompt and an answer as the domain wrote them', async () => {
    // Prepare
    const choice = prompt(1, {
      type: 'choice',
      options: [
        { key: '1', value: 'block_card' },
        { key: '2', value: 'keep_card' },
      ],
    });
    const withoutReference = prompt(2, { reference: undefined });
    delete withoutReference.reference;

    // Act
    await store.upsertCustomer(
      tenantId,
      'cust-1',
      { phone: '+12025550143', openPrompt: choice },
      { create: true, now },
    );
    await store.upsertCustomer(tenantId, 'cust-1', { openPrompt: withoutReference }, { create: false, now });
    const written = await store.updateCustomerAfterInbound(
      tenantId,
      'cust-1',
      { at: now, channel: 'sms', answers: { [choice.messageId]: answer(1) } },
      'any',
    );

    // Assess
    expect(written).toBe(true);
    const customer = await store.getCustomer(tenantId, 'cust-1');
    expect(customer?.openPrompts).toEqual({ [withoutReference.messageId]: withoutReference });
    expect(customer?.promptAnswers).toEqual({ [choice.messageId]: answer(1) });
  });

  it('still reads prompts and answers stored in the older, spelled-out form', async () => {
    // Prepare: an item as the previous release wrote it
    const old = prompt(3);
    await createDocumentClient(raw).send(
      new PutCommand({
        TableName: tableName,
        Item: {
          ...keys.customer(tenantId, 'cust-old'),
          tenantId,
          customerId: 'cust-old',
          preferences: {},
          version: 1,
          createdAt: now,
          updatedAt: now,
          [`op_${old.messageId}`]: old,
          [`pa_${prompt(4).messageId}`]: answer(4),
        },
      }),
    );

    // Act
    const customer = await store.getCustomer(tenantId, 'cust-old');

    // Assess
    expect(customer?.openPrompts).toEqual({ [old.messageId]: old });
    expect(customer?.promptAnswers).toEqual({ [prompt(4).messageId]: answer(4) });
  });

  it('opens one prompt and closes crowded-out ones in the same write', async () => {
    // Prepare
    await store.upsertCustomer(
      tenantId,
      'cust-2',
      { phone: '+12025550144', openPrompt: prompt(1) },
      { create: true, now },
    );

    // Act
    const result = await store.upsertCustomer(
      tenantId,
      'cust-2',
      { openPrompt: prompt(2), dropPrompts: [prompt(1).messageId, 'msg_gone_already'] },
      { create: false, now },
    );

    // Assess: what the write answered is what is stored
    const stored = await store.getCustomer(tenantId, 'cust-2');
    expect(Object.keys(stored?.openPrompts ?? {})).toEqual([prompt(2).messageId]);
    expect(result?.after.openPrompts).toEqual(stored?.openPrompts);
    expect(result?.before?.openPrompts).toEqual({ [prompt(1).messageId]: prompt(1) });
  });

  it('stays within one write unit however many prompts were opened, once the policy has crowded them out', async () => {
    // Prepare: a customer on both channels who has texted (consent and channel recorded)
    await store.upsertCustomer(
      tenantId,
      'cust-42',
      { phone: '+12025550145', email: 'ana.cruz@example.com' },
      { create: true, now },
    );
    await store.updateCustomerAfterInbound(
      tenantId,
      'cust-42',
      {
        at: now,
        channel: 'sms',
        consent: { channel: 'sms', record: { status: 'opted_in', at: now, keyword: 'START' } },
      },
      'any',
    );

    // Act: twelve prompts of the card check, references of 21 characters, the oldest crowded out as a send does
    const opened: string[] = [];
    for (let i = 0; i < 12; i++) {
      const next = prompt(i);
      const crowded = opened.length >= maxOpenPrompts ? opened.splice(0, opened.length - maxOpenPrompts + 1) : [];
      opened.push(next.messageId);
      await store.upsertCustomer(
        tenantId,
        'cust-42',
        { openPrompt: next, ...(crowded.length > 0 && { dropPrompts: crowded }) },
        { create: false, now },
      );
    }

    // Assess
    const customer = await store.getCustomer(tenantId, 'cust-42');
    expect(Object.keys(customer?.openPrompts ?? {}).sort()).toEqual([...opened].sort());
    expect(Object.keys(customer?.openPrompts ?? {})).toHaveLength(maxOpenPrompts);
    expect(await storedSize('cust-42')).toBeLessThanOrEqual(1024);
  });
});
