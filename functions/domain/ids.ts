import { createHash, randomFillSync } from 'node:crypto';
import { ulid } from 'ulid';

const crockford = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

const base32 = (bytes: Uint8Array, length: number): string => {
  let bits = 0;
  let value = 0;
  let out = '';
  // Only the bytes the characters need are read (17 of a SHA-256 for 26 characters).
  for (let i = 0; i < bytes.length && out.length < length; i++) {
    value = (value << 8) | (bytes[i] as number);
    bits += 8;
    while (bits >= 5 && out.length < length) {
      out += crockford[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= 0xff;
  }
  return out;
};

/**
 * Random bytes for ULIDs, drawn from the CSPRNG in blocks. Left to itself, `ulid` makes one `getRandomValues` call
 * per character (16 a ULID, each with its own buffer), which cost more than the rest of id making together.
 */
const randomPool = new Uint8Array(1024);
let randomAt = randomPool.length;

/** `ulid`'s PRNG contract: a number in [0, 1), here a whole random byte / 256 as its built-in one does. */
const pooledRandom = (): number => {
  if (randomAt >= randomPool.length) {
    randomFillSync(randomPool);
    randomAt = 0;
  }
  return (randomPool[randomAt++] as number) / 256;
};

/** A ULID: time-ordered (to the millisecond), 80 random bits. */
export const newUlid = (now?: number): string => ulid(now, pooledRandom);

/**
 * A message id. With an idempotency key it is derived from (tenant, key), so every retry of a send names the same
 * message and the claim on it is one conditional write; without one it is a fresh ULID.
 */
export const newMessageId = (tenantId: string, idempotencyKey?: string): string => {
  if (idempotencyKey === undefined) return `msg_${newUlid()}`;
  const digest = createHash('sha256').update(`${tenantId}\n${idempotencyKey}`).digest();
  return `msg_${base32(digest, 26)}`;
};

/** Time-ordered id used as the sort key of timeline items. */
export const newTimelineId = (now: number): string => newUlid(now);

/** A stable fingerprint of a request body, to tell a replay from a different payload under the same key. */
export const fingerprint = (value: unknown): string =>
  createHash('sha256').update(canonicalJson(value)).digest('base64url');

/**
 * JSON with object keys in code-unit order and undefined fields left out. Its output must never change: claims keep
 * the fingerprint, and a retry after a deploy must still match (test/unit/ids.test.ts pins it). Built in one pass,
 * without the entry arrays and closures a map/filter/sort/join chain makes for every object on the send path.
 */
const canonicalJson = (value: unknown): string => {
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      // An element JSON has no text for (undefined, a function) stands as nothing between its commas.
      out += `${i > 0 ? ',' : ''}${canonicalJson(value[i]) ?? ''}`;
    }
    return `${out}]`;
  }
  if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    let out = '';
    for (const name of Object.keys(record).sort()) {
      const field = record[name];
      if (field !== undefined) out += `${out === '' ? '' : ','}${JSON.stringify(name)}:${canonicalJson(field)}`;
    }
    return `{${out}}`;
  }
  return JSON.stringify(value);
};

export const randomBase32 = (bytes: Uint8Array, length: number): string => base32(bytes, length);
