import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { randomBase32 } from './ids.ts';
import type { ApiKeyRecord, Principal } from './model.ts';
import { type Scope, scopes } from './scopes.ts';

/**
 * API keys look like `prl_<12-char key id>_<secret>`. The key id finds the record in one read; only the SHA-256
 * of the whole key is stored, compared in constant time.
 */
const prefix = 'prl_';
const keyIdLength = 12;

export const allScopes: readonly Scope[] = scopes;

export const hashApiKey = (apiKey: string): string => createHash('sha256').update(apiKey).digest('hex');

export const generateApiKey = (): { keyId: string; apiKey: string; keyHash: string } => {
  const keyId = randomBase32(randomBytes(8), keyIdLength).toLowerCase();
  const apiKey = `${prefix}${keyId}_${randomBytes(32).toString('base64url')}`;
  return { keyId, apiKey, keyHash: hashApiKey(apiKey) };
};

/** The key id of a well-formed key, else undefined. */
export const keyIdOf = (apiKey: string): string | undefined => {
  if (!apiKey.startsWith(prefix) || apiKey.length < prefix.length + keyIdLength + 20 || apiKey.length > 200) {
    return undefined;
  }
  const keyId = apiKey.slice(prefix.length, prefix.length + keyIdLength);
  if (!/^[0-9a-z]+$/.test(keyId) || apiKey[prefix.length + keyIdLength] !== '_') return undefined;
  return keyId;
};

export const bearerToken = (authorization: string | undefined): string | undefined => {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return match?.[1];
};

/** Authenticates a key against its stored record: unknown, revoked, expired or mismatching keys give undefined. */
export const authenticate = async (
  authorization: string | undefined,
  lookup: (keyId: string) => Promise<ApiKeyRecord | undefined>,
  now: Date = new Date(),
): Promise<Principal | undefined> => {
  const apiKey = bearerToken(authorization);
  const keyId = apiKey && keyIdOf(apiKey);
  if (!apiKey || !keyId) return undefined;
  const record = await lookup(keyId);
  if (!record || record.revokedAt) return undefined;
  if (record.expiresAt !== undefined && Date.parse(record.expiresAt) <= now.getTime()) return undefined;
  const expected = Buffer.from(record.keyHash, 'hex');
  const actual = Buffer.from(hashApiKey(apiKey), 'hex');
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return undefined;
  return { tenantId: record.tenantId, keyId: record.keyId, scopes: record.scopes };
};
