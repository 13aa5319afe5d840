import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addTenant, type Harness, startHarness } from './harness.ts';

/** `parley key list` shows when a key was last used: the authorizer records it, at most once a minute a key. */
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ demoBackend: false });
});

afterAll(async () => {
  await h.close();
});

describe('when an API key was last used', () => {
  it('is recorded by the authorizer on a request, and not for a key that was never used', async () => {
    const usedKey = await addTenant(h, { tenantId: 'used-bank', name: 'Used', smsNumber: '+12025550801' }, ['read']);
    await addTenant(h, { tenantId: 'idle-bank', name: 'Idle', smsNumber: '+12025550802' }, ['read']);
    const before = Date.now();

    expect((await h.api('/v1/templates', { key: usedKey })).status).toBe(200);
    expect((await h.api('/v1/templates', { key: usedKey })).status).toBe(200);

    const [used] = await h.gateway.tenants.listApiKeys('used-bank');
    const [idle] = await h.gateway.tenants.listApiKeys('idle-bank');
    expect(Date.parse(used?.lastUsedAt ?? '')).toBeGreaterThanOrEqual(before - 1000);
    expect(idle?.lastUsedAt).toBeUndefined();
  });
});
