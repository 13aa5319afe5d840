import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { authenticate, bearerToken, generateApiKey, hashApiKey, keyIdOf } from '../../functions/domain/api-keys.ts';
import type { ApiKeyRecord } from '../../functions/domain/model.ts';

const recordFor = (generated: ReturnType<typeof generateApiKey>, overrides: Partial<ApiKeyRecord> = {}) => ({
  keyId: generated.keyId,
  tenantId: 'demo-bank',
  keyHash: generated.keyHash,
  scopes: ['send', 'read'] as ApiKeyRecord['scopes'],
  createdAt: '2025-01-01T00:00:00.000Z',
  ...overrides,
});

/** A lookup over a fixed set of records, counting its calls. */
const lookupOf = (...records: ApiKeyRecord[]) => {
  const lookup = async (keyId: string) => {
    lookup.calls.push(keyId);
    return records.find((r) => r.keyId === keyId);
  };
  lookup.calls = [] as string[];
  return lookup;
};

describe('API keys', () => {
  it('generates a prl_ key whose id can be read back from the key', () => {
    // Act
    const generated = generateApiKey();

    // Assess
    expect(generated.keyId).toMatch(/^[0-9a-z]{12}$/);
    expect(generated.apiKey.startsWith(`prl_${generated.keyId}_`)).toBe(true);
    expect(keyIdOf(generated.apiKey)).toBe(generated.keyId);
  });

  it('generates a different key and id each time', () => {
    const first = generateApiKey();
    const second = generateApiKey();

    expect(second.apiKey).not.toBe(first.apiKey);
    expect(second.keyId).not.toBe(first.keyId);
  });

  it('stores the hex SHA-256 of the whole key', () => {
    const generated = generateApiKey();

    expect(generated.keyHash).toBe(createHash('sha256').update(generated.apiKey).digest('hex'));
    expect(hashApiKey(generated.apiKey)).toBe(generated.keyHash);
    expect(generated.keyHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each([
    ['no prefix', 'abc_0123456789ab_secretsecretsecretsecret'],
    ['too short', 'prl_0123456789ab_short'],
    ['upper-case key id', 'prl_0123456789AB_secretsecretsecretsecret'],
    ['no separator after the id', 'prl_0123456789abXsecretsecretsecretsecret'],
    ['too long', `prl_0123456789ab_${'s'.repeat(200)}`],
  ])('reads no key id from a malformed key (%s)', (_, apiKey) => {
    expect(keyIdOf(apiKey)).toBeUndefined();
  });

  it.each([
    ['Bearer abc', 'abc'],
    ['bearer abc', 'abc'],
    ['Bearer   abc  ', 'abc'],
    ['abc', undefined],
    ['Basic abc', undefined],
    ['Bearer a b', undefined],
    ['', undefined],
  ])('reads the bearer token of %j as %j', (header, token) => {
    expect(bearerToken(header)).toBe(token);
  });

  describe('authenticate', () => {
    it('accepts a valid key and names its tenant, key and scopes', async () => {
      // Prepare
      const generated = generateApiKey();
      const lookup = lookupOf(recordFor(generated));

      // Act
      const principal = await authenticate(`Bearer ${generated.apiKey}`, lookup);

      // Assess
      expect(principal).toEqual({ tenantId: 'demo-bank', keyId: generated.keyId, scopes: ['send', 'read'] });
      expect(lookup.calls).toEqual([generated.keyId]);
    });

    it('refuses a revoked key', async () => {
      const generated = generateApiKey();
      const lookup = lookupOf(recordFor(generated, { revokedAt: '2025-02-01T00:00:00.000Z' }));

      expect(await authenticate(`Bearer ${generated.apiKey}`, lookup)).toBeUndefined();
    });

    it('refuses a key from the moment it expires, and accepts it before', async () => {
      const generated = generateApiKey();
      const lookup = lookupOf(recordFor(generated, { expiresAt: '2025-03-01T00:00:00.000Z' }));
      const header = `Bearer ${generated.apiKey}`;

      expect(await authenticate(header, lookup, new Date('2025-02-28T23:59:59.999Z'))).toMatchObject({
        keyId: generated.keyId,
      });
      expect(await authenticate(header, lookup, new Date('2025-03-01T00:00:00.000Z'))).toBeUndefined();
      expect(await authenticate(header, lookup, new Date('2026-01-01T00:00:00.000Z'))).toBeUndefined();
    });

    it('refuses an unknown key', async () => {
      const known = generateApiKey();
      const unknown = generateApiKey();

      expect(await authenticate(`Bearer ${unknown.apiKey}`, lookupOf(recordFor(known)))).toBeUndefined();
    });

    it('refuses a malformed key without looking it up', async () => {
      const lookup = lookupOf();

      expect(await authenticate('Bearer not-a-parley-key-at-all-really', lookup)).toBeUndefined();
      expect(lookup.calls).toEqual([]);
    });

    it('refuses a key with the right id and a wrong secret', async () => {
      // Prepare
      const generated = generateApiKey();
      const forged = `prl_${generated.keyId}_${'A'.repeat(43)}`;

      // Act
      const principal = await authenticate(`Bearer ${forged}`, lookupOf(recordFor(generated)));

      // Assess
      expect(keyIdOf(forged)).toBe(generated.keyId);
      expect(principal).toBeUndefined();
    });

    it('refuses a key sent without the Bearer scheme', async () => {
      const generated = generateApiKey();

      expect(await authenticate(generated.apiKey, lookupOf(recordFor(generated)))).toBeUndefined();
    });

    it('refuses a missing header', async () => {
      expect(await authenticate(undefined, lookupOf())).toBeUndefined();
    });

    it('refuses a record whose stored hash is corrupt', async () => {
      const generated = generateApiKey();

      expect(
        await authenticate(`Bearer ${generated.apiKey}`, lookupOf(recordFor(generated, { keyHash: 'abc' }))),
      ).toBeUndefined();
    });
  });
});
