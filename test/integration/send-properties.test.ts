import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../functions/adapters/dynamo/dynamo-helpers.ts';
import { localDynamoClient } from '../../local/dynamo-local.ts';
import { type Harness, startHarness } from './harness.ts';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await h.close();
});

const itemCount = async () => {
  const db = createDocumentClient(localDynamoClient(h.gateway.dynamodbEndpoint));
  const { Count } = await db.send(new ScanCommand({ TableName: h.gateway.tableName, Select: 'COUNT' }));
  return Count ?? 0;
};

/** Bodies that look like send requests but are almost always wrong somewhere. */
const nearlyValidBody = fc.record(
  {
    customerId: fc.oneof(fc.string(), fc.constant('cust-prop'), fc.integer()),
    to: fc.oneof(
      fc.record({ phone: fc.oneof(fc.string(), fc.constant('+1202555')) }, { requiredKeys: [] }),
      fc.record({ email: fc.string() }),
      fc.anything(),
    ),
    channel: fc.oneof(fc.constantFrom('sms', 'email', 'auto', 'fax'), fc.anything()),
    template: fc.oneof(fc.constantFrom('card-transaction-alert', 'nope', ''), fc.anything()),
    data: fc.oneof(fc.dictionary(fc.string(), fc.string()), fc.anything()),
    body: fc.anything(),
    urgency: fc.oneof(fc.constantFrom('critical', 'urgent'), fc.anything()),
    prompt: fc.oneof(fc.record({ type: fc.constantFrom('confirm', 'choice', 'poll') }), fc.anything()),
    reference: fc.anything(),
    extra: fc.anything(),
  },
  { requiredKeys: [] },
);

describe('POST /v1/messages with random bodies', () => {
  it('never answers 5xx, and a refused body stores nothing and sends nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(nearlyValidBody, fc.jsonValue()), async (body) => {
        const itemsBefore = await itemCount();
        const outboxBefore = h.gateway.edges.outbox.list().length;
        const response = await h.api('/v1/messages', { body: JSON.stringify(body) });
        expect(response.status).toBeLessThan(500);
        if (response.status >= 400) {
          expect(response.body.error.code).toEqual(expect.any(String));
          expect(await itemCount()).toBe(itemsBefore);
          expect(h.gateway.edges.outbox.list()).toHaveLength(outboxBefore);
        }
      }),
      { numRuns: 150 },
    );
  });
});
