import { createHash } from 'node:crypto';
import { ulid } from 'ulid';

const crockford = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

const base32 = (bytes: Uint8Array, length: number): string => {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
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
 * A message id. With an idempotency key it is derived from (tenant, key), so every retry of a send names the same
 * message and the claim on it is one conditional write; without one it is a fresh ULID.
 */
export const newMessageId = (tenantId: string, idempotencyKey?: string): string => {
  if (idempotencyKey === undefined) return `msg_${ulid()}`;
  const digest = createHash('sha256').update(`${tenantId}\n${idempotencyKey}`).digest();
  return `msg_${base32(digest, 26)}`;
};

/** Time-ordered id used as the sort key of timeline items. */
export const newTimelineId = (now: number): string => ulid(now);

/** A stable fingerprint of a request body, to tell a replay from a different payload under the same key. */
export const fingerprint = (value: unknown): string =>
  createHash('sha256').update(canonicalJson(value)).digest('base64url');

const canonicalJson = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
};

export const randomBase32 = (bytes: Uint8Array, length: number): string => base32(bytes, length);
