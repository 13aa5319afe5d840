import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateApiKey } from '../../functions/domain/api-keys.ts';
import type { Tenant } from '../../functions/domain/model.ts';
import type { Scope } from '../../functions/domain/scopes.ts';
import { type LocalGateway, type LocalGatewayOptions, startLocalGateway } from '../../local/gateway.ts';

export interface Harness {
  gateway: LocalGateway;
  /** fetch against the gateway with the demo API key unless `key` says otherwise (null: no Authorization). */
  api(
    path: string,
    init?: { method?: string; body?: unknown; key?: string | null; headers?: Record<string, string> },
    // biome-ignore lint/suspicious/noExplicitAny: response bodies are arbitrary JSON that each test asserts on
  ): Promise<{ status: number; headers: Headers; body: any }>;
  close(): Promise<void>;
}

/** Starts a local gateway on a random port with its own data directory (one per test file: one per process). */
export const startHarness = async (options: Omit<LocalGatewayOptions, 'port' | 'dataDir'> = {}): Promise<Harness> => {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-test-'));
  const gateway = await startLocalGateway({
    port: 0,
    dataDir,
    logLevel: 'ERROR',
    // Off unless a test asks: the reports' events would land in the middle of other tests' event lists.
    deliveryReports: false,
    ...options,
  });
  return {
    gateway,
    async api(path, init = {}) {
      const key = init.key === undefined ? gateway.apiKey : init.key;
      const response = await fetch(`${gateway.baseUrl}${path}`, {
        method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
        headers: {
          ...(key !== null && { authorization: `Bearer ${key}` }),
          ...(init.body !== undefined && { 'content-type': 'application/json' }),
          ...init.headers,
        },
        ...(init.body !== undefined && { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }),
      });
      const text = await response.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      return { status: response.status, headers: response.headers, body };
    },
    async close() {
      await gateway.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
};

/** Another tenant beside the demo one, with a key of the given scopes (default send, read, agent); its key. */
export const addTenant = async (
  h: Harness,
  tenant: Omit<Tenant, 'createdAt'>,
  scopes: Scope[] = ['send', 'read', 'agent'],
): Promise<string> => {
  const createdAt = new Date().toISOString();
  await h.gateway.tenants.putTenant({ ...tenant, createdAt });
  const key = generateApiKey();
  await h.gateway.tenants.putApiKey({ ...key, tenantId: tenant.tenantId, scopes, createdAt });
  return key.apiKey;
};

export const cardAlert = (overrides: Record<string, unknown> = {}) => ({
  customerId: 'cust-42',
  to: { phone: '+12025550143', email: 'ana@example.com' },
  template: 'card-transaction-alert',
  data: { amount: '$420.00', merchant: 'ACME' },
  urgency: 'high',
  prompt: { type: 'confirm', expiresInSeconds: 900 },
  reference: 'txn-987',
  ...overrides,
});
