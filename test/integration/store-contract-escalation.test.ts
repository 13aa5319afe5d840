import { DeleteCommand, type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoAttentionStore } from '../../functions/adapters/dynamo/attention-store.ts';
import { closedCallbackKeepMs, DynamoCallbackStore } from '../../functions/adapters/dynamo/callback-store.ts';
import { DynamoChatStore } from '../../functions/adapters/dynamo/chat-store.ts';
import { DynamoCustomerStore } from '../../functions/adapters/dynamo/customer-store.ts';
import { createDocumentClient, InvalidCursorError } from '../../functions/adapters/dynamo/dynamo-helpers.ts';
import type { Callback, ChatSession, Customer } from '../../functions/domain/model.ts';
import type { AttentionStore, CallbackStore, ChatStore } from '../../functions/domain/ports.ts';
import { ensureTable, type LocalDynamo, localDynamoClient, startLocalDynamo } from '../../local/dynamo-local.ts';
import {
  FakeClock,
  InMemoryAttention,
  InMemoryCallbackStore,
  InMemoryChatStore,
  InMemoryCustomerStore,
} from '../unit/fakes.ts';

/**
 * The same cases against the in-memory fakes the unit tests use and against the DynamoDB stores on dynalite, so
 * the fakes cannot drift from the stores (REDESIGN item 6).
 */
interface Stores {
  attention: AttentionStore;
  callbacks: CallbackStore;
  chats: ChatStore;
  clock: FakeClock;
  /** The `n`-th write from now fails, as a crash between two writes would. */
  failWrite(n: number): void;
  seedCustomer(tenantId: string, customerId: string): Promise<void>;
  getCustomer(tenantId: string, customerId: string): Promise<Customer | undefined>;
}

let dynamo: LocalDynamo;
let tables = 0;

beforeAll(async () => {
  dynamo = await startLocalDynamo();
});

afterAll(async () => {
  await dynamo.close();
});

const fakes = async (): Promise<Stores> => {
  const clock = new FakeClock();
  const customers = new InMemoryCustomerStore();
  const callbacks = new InMemoryCallbackStore(clock);
  return {
    attention: new InMemoryAttention(),
    callbacks,
    chats: new InMemoryChatStore(customers, clock),
    clock,
    failWrite: (n) => callbacks.failWrite(n),
    seedCustomer: async (tenantId, customerId) => {
      customers.seed({ tenantId, customerId, phone: '+12025550143' });
    },
    getCustomer: (tenantId, customerId) => customers.getCustomer(tenantId, customerId),
  };
};

/** A document client whose `n`-th write from now throws before it reaches the table. */
const crashingClient = (db: DynamoDBDocumentClient) => {
  let writes = 0;
  let crashAt: number | undefined;
  const client = {
    send: (command: unknown) => {
      if (command instanceof PutCommand || command instanceof UpdateCommand || command instanceof DeleteCommand) {
        writes += 1;
        if (writes === crashAt) {
          crashAt = undefined;
          return Promise.reject(new Error('crashed between writes'));
        }
      }
      return db.send(command as PutCommand);
    },
  } as unknown as DynamoDBDocumentClient;
  return { client, failWrite: (n: number) => (crashAt = writes + n) };
};

const dynamoStores = async (): Promise<Stores> => {
  const tableName = `contract-${++tables}`;
  const raw = localDynamoClient(dynamo.endpoint);
  await ensureTable(raw, tableName);
  const db = createDocumentClient(raw);
  const crashing = crashingClient(db);
  const clock = new FakeClock();
  const store = new DynamoCustomerStore(tableName, db);
  return {
    attention: new DynamoAttentionStore(tableName, db),
    callbacks: new DynamoCallbackStore(tableName, crashing.client, clock),
    chats: new DynamoChatStore(tableName, db, clock),
    clock,
    failWrite: crashing.failWrite,
    seedCustomer: async (tenantId, customerId) => {
      await store.upsertCustomer(
        tenantId,
        customerId,
        { phone: '+12025550143' },
        { create: true, now: '2025-01-01T00:00:00.000Z' },
      );
    },
    getCustomer: (tenantId, customerId) => store.getCustomer(tenantId, customerId),
  };
};

const tenantId = 'demo-bank';
const t = (minute: number) => `2025-06-02T12:${String(minute).padStart(2, '0')}:00.000Z`;

const reasonsOf = async (stores: Stores, customerId: string) =>
  Object.keys((await stores.attention.get(tenantId, customerId))?.reasons ?? {}).sort();

/** Every page of a list, in order. */
const allPages = async <T>(read: (cursor?: string) => Promise<{ items: T[]; nextCursor?: string }>) => {
  const items: T[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 20; pages++) {
    const page = await read(cursor);
    items.push(...page.items);
    cursor = page.nextCursor;
    if (!cursor) break;
  }
  return items;
};

let callbackCount = 0;
const callbackFor = (stores: Stores, customerId: string, overrides: Partial<Callback> = {}): Callback => ({
  callbackId: `cb_01JX${String(++callbackCount).padStart(22, '0')}`,
  tenantId,
  customerId,
  status: 'requested',
  requestedAt: new Date(stores.clock.now()).toISOString(),
  keyword: 'CALL',
  context: { recentMessages: [], openPrompts: [], answeredPrompts: [], references: [] },
  ...overrides,
});

const sessionFor = (customerId: string, sessionId: string, createdAt: string): ChatSession => ({
  sessionId,
  tenantId,
  customerId,
  createdAt,
  expiresAt: new Date(Date.parse(createdAt) + 3600_000).toISOString(),
  status: 'open',
});

describe.each([
  ['the in-memory fakes', fakes],
  ['the DynamoDB stores on dynalite', dynamoStores],
] as const)('escalation stores: %s', (_name, make) => {
  describe('attention', () => {
    it('lists raised conversations most recent first and keeps when each began', async () => {
      const stores = await make();
      await stores.attention.raise(tenantId, 'a', 'free_text', { at: t(1), summary: 'Is my card safe?' });
      await stores.attention.raise(tenantId, 'b', 'callback', { at: t(2), ref: 'cb_1' });
      await stores.attention.raise(tenantId, 'a', 'chat', { at: t(3), ref: 'chat_1' });

      const listed = (await stores.attention.list(tenantId, { limit: 10 })).items;

      expect(listed.map((e) => e.customerId)).toEqual(['a', 'b']);
      expect(listed[0]).toEqual({
        customerId: 'a',
        since: t(1),
        lastAt: t(3),
        reasons: { free_text: { at: t(1), summary: 'Is my card safe?' }, chat: { at: t(3), ref: 'chat_1' } },
      });
    });

    it('settles out-of-order raises by time: a late raise neither moves the entry back nor replaces a later mark', async () => {
      const stores = await make();
      await stores.attention.raise(tenantId, 'a', 'free_text', { at: t(5), summary: 'newer' });
      await stores.attention.raise(tenantId, 'a', 'free_text', { at: t(4), summary: 'older' });
      await stores.attention.raise(tenantId, 'a', 'callback', { at: t(2), ref: 'cb_1' });

      const entry = await stores.attention.get(tenantId, 'a');

      expect(entry?.lastAt).toBe(t(5));
      expect(entry?.reasons.free_text).toEqual({ at: t(5), summary: 'newer' });
      expect(entry?.reasons.callback).toEqual({ at: t(2), ref: 'cb_1' });
    });

    it('clears one reason at a time; the entry goes with the last one', async () => {
      const stores = await make();
      await stores.attention.raise(tenantId, 'a', 'free_text', { at: t(1) });
      await stores.attention.raise(tenantId, 'a', 'callback', { at: t(2), ref: 'cb_1' });

      await stores.attention.clear(tenantId, 'a', 'free_text', { at: t(3) });
      expect(await reasonsOf(stores, 'a')).toEqual(['callback']);

      await stores.attention.clear(tenantId, 'a', 'callback', { at: t(3), ref: 'cb_1' });
      expect(await stores.attention.get(tenantId, 'a')).toBeUndefined();
      expect((await stores.attention.list(tenantId, { limit: 10 })).items).toEqual([]);

      // Raised again later: it begins again.
      await stores.attention.raise(tenantId, 'a', 'free_text', { at: t(9) });
      expect((await stores.attention.get(tenantId, 'a'))?.since).toBe(t(9));
    });

    it('does not clear a mark raised after the clear, nor one about another callback or chat', async () => {
      const stores = await make();
      await stores.attention.raise(tenantId, 'a', 'free_text', { at: t(5) });
      await stores.attention.raise(tenantId, 'a', 'chat', { at: t(5), ref: 'chat_new' });

      await stores.attention.clear(tenantId, 'a', 'free_text', { at: t(4) });
      await stores.attention.clear(tenantId, 'a', 'chat', { at: t(6), ref: 'chat_old' });
      await stores.attention.clear(tenantId, 'a', 'callback', { at: t(6) });

      expect(await reasonsOf(stores, 'a')).toEqual(['chat', 'free_text']);
    });

    it('pages with a cursor, and refuses a cursor it did not hand out', async () => {
      const stores = await make();
      for (let i = 0; i < 5; i++) await stores.attention.raise(tenantId, `c${i}`, 'free_text', { at: t(i) });
      await stores.attention.raise('other-bank', 'x', 'free_text', { at: t(30) });

      const first = await stores.attention.list(tenantId, { limit: 2 });
      const all = await allPages((cursor) =>
        stores.attention.list(tenantId, { limit: 2, ...(cursor !== undefined && { cursor }) }),
      );

      expect(first.items).toHaveLength(2);
      expect(all.map((e) => e.customerId)).toEqual(['c4', 'c3', 'c2', 'c1', 'c0']);
      await expect(stores.attention.list(tenantId, { limit: 2, cursor: 'garbage' })).rejects.toThrow(
        InvalidCursorError,
      );
      await expect(
        stores.attention.list('other-bank', { limit: 2, cursor: first.nextCursor as string }),
      ).rejects.toThrow(InvalidCursorError);
    });
  });

  describe('callbacks', () => {
    it('opens one callback per customer: another request gets the open one', async () => {
      const stores = await make();
      const first = callbackFor(stores, 'a');

      expect(await stores.callbacks.openCallback(first)).toEqual({ opened: true, callback: first });
      stores.clock.advance(60_000);
      expect(await stores.callbacks.openCallback(callbackFor(stores, 'a'))).toEqual({ opened: false, callback: first });
      // A retry of the first request is the first request.
      expect(await stores.callbacks.openCallback(first)).toEqual({ opened: true, callback: first });
      expect((await stores.callbacks.listCallbacks(tenantId, { limit: 10 })).items).toEqual([first]);
    });

    it('completes a guard whose record a crash left unwritten, instead of blocking the customer', async () => {
      // Prepare: the guard is written, then the process dies before the record.
      const stores = await make();
      const lost = callbackFor(stores, 'a');
      stores.failWrite(2);
      await expect(stores.callbacks.openCallback(lost)).rejects.toThrow();

      // Act: the customer asks again, with a new request.
      stores.clock.advance(60_000);
      const again = await stores.callbacks.openCallback(callbackFor(stores, 'a'));

      // Assess: the callback exists, once, and its follow-ups are due.
      expect(again).toEqual({ opened: true, callback: lost });
      expect(await stores.callbacks.getCallback(tenantId, lost.callbackId)).toEqual(lost);
      const requested = await stores.callbacks.listCallbacks(tenantId, { limit: 10, status: 'requested' });
      expect(requested.items.map((c) => c.callbackId)).toEqual([lost.callbackId]);
    });

    it('takes over a guard whose record is long gone', async () => {
      const stores = await make();
      stores.failWrite(2);
      await expect(stores.callbacks.openCallback(callbackFor(stores, 'a'))).rejects.toThrow();

      stores.clock.advance(closedCallbackKeepMs + 60_000);
      const fresh = callbackFor(stores, 'a');

      expect(await stores.callbacks.openCallback(fresh)).toEqual({ opened: true, callback: fresh });
    });

    it('closes a requested callback once, frees the customer, and takes over a guard a crashed close left', async () => {
      const stores = await make();
      const first = callbackFor(stores, 'a');
      await stores.callbacks.openCallback(first);

      const closed = await stores.callbacks.closeCallback(tenantId, first.callbackId, {
        status: 'completed',
        note: 'Called',
        at: t(30),
      });
      expect(closed).toEqual({ ...first, status: 'completed', note: 'Called', closedAt: t(30) });
      expect(await stores.callbacks.closeCallback(tenantId, first.callbackId, { status: 'cancelled', at: t(31) })).toBe(
        undefined,
      );
      const second = callbackFor(stores, 'a');
      expect((await stores.callbacks.openCallback(second)).opened).toBe(true);

      // This close dies between closing the record and freeing the guard.
      stores.failWrite(2);
      await expect(
        stores.callbacks.closeCallback(tenantId, second.callbackId, { status: 'cancelled', at: t(32) }),
      ).rejects.toThrow();
      const third = callbackFor(stores, 'a');
      expect(await stores.callbacks.openCallback(third)).toEqual({ opened: true, callback: third });
    });

    it('lists by status newest first, pages with a cursor, and drops expired closed callbacks', async () => {
      const stores = await make();
      const opened: Callback[] = [];
      for (const customerId of ['a', 'b', 'c']) {
        const callback = callbackFor(stores, customerId);
        await stores.callbacks.openCallback(callback);
        opened.push(callback);
        stores.clock.advance(60_000);
      }
      await stores.callbacks.closeCallback(tenantId, opened[0]?.callbackId as string, {
        status: 'completed',
        at: new Date(stores.clock.now()).toISOString(),
      });

      const requested = await allPages((cursor) =>
        stores.callbacks.listCallbacks(tenantId, {
          limit: 1,
          status: 'requested',
          ...(cursor !== undefined && { cursor }),
        }),
      );
      expect(requested.map((c) => c.customerId)).toEqual(['c', 'b']);
      const completed = await stores.callbacks.listCallbacks(tenantId, { limit: 10, status: 'completed' });
      expect(completed.items.map((c) => c.customerId)).toEqual(['a']);
      const all = await allPages((cursor) =>
        stores.callbacks.listCallbacks(tenantId, { limit: 2, ...(cursor !== undefined && { cursor }) }),
      );
      expect(all.map((c) => c.customerId)).toEqual(['c', 'b', 'a']);
      await expect(
        stores.callbacks.listCallbacks(tenantId, { limit: 1, status: 'completed', cursor: 'garbage' }),
      ).rejects.toThrow(InvalidCursorError);

      // Past its keeping time a closed callback is gone, whether or not DynamoDB's TTL has deleted it yet.
      stores.clock.advance(closedCallbackKeepMs + 60_000);
      expect(await stores.callbacks.getCallback(tenantId, opened[0]?.callbackId as string)).toBeUndefined();
      expect((await stores.callbacks.listCallbacks(tenantId, { limit: 10, status: 'completed' })).items).toEqual([]);
      expect((await stores.callbacks.listCallbacks(tenantId, { limit: 10, status: 'requested' })).items).toHaveLength(
        2,
      );
    });
  });

  describe('chat', () => {
    it('makes a new session current and names the one it replaced', async () => {
      const stores = await make();
      const first = sessionFor('a', 'chat_1', t(1));
      const second = sessionFor('a', 'chat_2', t(2));

      expect(await stores.chats.putChatSession(first)).toEqual({ session: first });
      expect(await stores.chats.putChatSession(second)).toEqual({ session: second, replaced: 'chat_1' });
      expect(await stores.chats.getChatSession(tenantId, 'chat_2')).toEqual(second);
    });

    it('returns the stored session when the same one is started again, and never goes back to an older one', async () => {
      const stores = await make();
      const first = sessionFor('a', 'chat_1', t(1));
      await stores.chats.putChatSession(first);

      // A redelivered start: same id, built a little later.
      const again = await stores.chats.putChatSession(sessionFor('a', 'chat_1', t(3)));
      expect(again).toEqual({ session: first });

      await stores.chats.putChatSession(sessionFor('a', 'chat_2', t(5)));
      const late = await stores.chats.putChatSession(first);
      expect(late).toEqual({ session: first });
      const newest = await stores.chats.putChatSession(sessionFor('a', 'chat_3', t(6)));
      expect(newest.replaced).toBe('chat_2');
    });

    it('keeps the connection state on the session and the chat on the customer', async () => {
      const stores = await make();
      await stores.seedCustomer(tenantId, 'a');
      await stores.chats.putChatSession(sessionFor('a', 'chat_1', t(1)));
      const connection = { connectionId: 'conn-1', tenantId, customerId: 'a', sessionId: 'chat_1', connectedAt: t(2) };

      await stores.chats.putConnection(connection);
      await stores.chats.setChatSessionState(tenantId, 'chat_1', { connectionId: 'conn-1' });
      await stores.chats.setCustomerChat(tenantId, 'a', { sessionId: 'chat_1', connectionId: 'conn-1', since: t(2) });

      expect(await stores.chats.getConnection('conn-1')).toEqual(connection);
      expect((await stores.chats.getChatSession(tenantId, 'chat_1'))?.connectionId).toBe('conn-1');
      expect(await stores.getCustomer(tenantId, 'a')).toMatchObject({
        activeChannel: 'chat',
        chat: { connectionId: 'conn-1' },
      });

      await stores.chats.setCustomerChat(tenantId, 'a', null, 'conn-other');
      expect((await stores.getCustomer(tenantId, 'a'))?.chat?.connectionId).toBe('conn-1');
      await stores.chats.setCustomerChat(tenantId, 'a', null, 'conn-1');
      const after = await stores.getCustomer(tenantId, 'a');
      expect(after?.chat).toBeUndefined();
      expect(after?.activeChannel).toBe('sms');

      await stores.chats.setChatSessionState(tenantId, 'chat_1', { status: 'ended', connectionId: null });
      expect(await stores.chats.getChatSession(tenantId, 'chat_1')).toMatchObject({ status: 'ended' });
      expect((await stores.chats.getChatSession(tenantId, 'chat_1'))?.connectionId).toBeUndefined();
      await expect(stores.chats.setChatSessionState(tenantId, 'chat_none', { status: 'ended' })).rejects.toThrow();

      await stores.chats.deleteConnection('conn-1');
      expect(await stores.chats.getConnection('conn-1')).toBeUndefined();
    });

    it('treats a connection whose $disconnect was lost as gone a day later', async () => {
      const stores = await make();
      const connectedAt = new Date(stores.clock.now()).toISOString();
      await stores.chats.putConnection({
        connectionId: 'conn-1',
        tenantId,
        customerId: 'a',
        sessionId: 's',
        connectedAt,
      });

      stores.clock.advance(24 * 3600 * 1000);

      expect(await stores.chats.getConnection('conn-1')).toBeUndefined();
    });
  });
});
