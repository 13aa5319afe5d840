import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fingerprint, newMessageId, newTimelineId, newUlid } from '../../functions/domain/ids.ts';
import { at } from './fakes.ts';

describe('ids', () => {
  it('derives the same message id from the same tenant and idempotency key', () => {
    expect(newMessageId('demo-bank', 'order-42')).toBe(newMessageId('demo-bank', 'order-42'));
    expect(newMessageId('demo-bank', 'order-42')).toMatch(/^msg_[0-9A-HJKMNP-TV-Z]{26}$/);
  });

  it('derives the message id it always did (a retry after a deploy must name the same message)', () => {
    expect(newMessageId('demo-bank', 'order-42')).toBe('msg_P72F9GMY6YEH06D728MPN62R1P');
    expect(newMessageId('other', 'x\u00e9😀')).toBe('msg_P8ZKZR9T2FB9SVP4N3QJFYHKZ5');
  });

  it('derives different message ids for another key or another tenant', () => {
    const id = newMessageId('demo-bank', 'order-42');

    expect(newMessageId('demo-bank', 'order-43')).not.toBe(id);
    expect(newMessageId('other-bank', 'order-42')).not.toBe(id);
  });

  it('does not let the tenant/key boundary shift to produce the same id', () => {
    expect(newMessageId('demo-bank', 'x')).not.toBe(newMessageId('demo-ban', 'kx'));
  });

  it('gives a fresh id to each send without a key', () => {
    expect(newMessageId('demo-bank')).not.toBe(newMessageId('demo-bank'));
  });

  it('orders timeline ids by time', () => {
    const earlier = newTimelineId(at('2025-06-02T12:00:00Z'));
    const later = newTimelineId(at('2025-06-02T12:00:01Z'));

    expect(earlier < later).toBe(true);
  });

  it('makes ULIDs: 26 Crockford characters, the time first, the rest random', () => {
    const now = at('2025-06-02T12:00:00Z');
    const ids = Array.from({ length: 2000 }, () => newTimelineId(now));

    for (const id of ids) expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(new Set(ids.map((id) => id.slice(0, 10)))).toEqual(new Set([ids[0]?.slice(0, 10)]));
    // 2000 draws of 80 random bits, past several refills of the random pool: never the same twice.
    expect(new Set(ids).size).toBe(ids.length);
    // Every character of the random part is used (a stuck or biased pool would leave some out).
    expect(new Set(ids.flatMap((id) => [...id.slice(10)])).size).toBe(32);
    expect(newUlid().slice(0, 10) > newTimelineId(now).slice(0, 10)).toBe(true);
  });

  describe('fingerprint', () => {
    // Claims keep the fingerprint: a retry after a deploy must still match, so its value may never change.
    it.each([
      [
        {
          customerId: 'cust-42',
          to: { phone: '+12025550143', email: 'a@example.com' },
          channel: 'auto',
          template: 'card-transaction-alert',
          data: { amount: '$420.00', merchant: 'ACME', n: 3, ok: true },
          urgency: 'high',
          category: 'transactional',
          prompt: {
            type: 'choice',
            options: [
              { key: 'Y', value: 'Yes' },
              { key: 'N', value: 'No' },
            ],
            expiresInSeconds: 900,
          },
          reference: 'txn-1',
          skipped: undefined,
        },
        'cxaZVB7iAFyMrnJHt4he0sq3iypf7eqPQQwtOSgnz94',
      ],
      [
        [1, undefined, null, 'x', [], {}, { b: 1, a: [undefined, 2], B: 'é', '10': 0, '2': 1, ä: '😀' }],
        '7yTJz_TNSNggHozANYifaGyNBfyiJCoRz-EwySt35VM',
      ],
      ['text', 'Hh0PJR06dvorG_yBFkB4VyYjQDiH2wKYi1BLBJLp8HY'],
      [null, 'dCNOmK_nSY-12vHzasLXiswzlGT5UHA7jAGYkvmCuQs'],
    ])('is pinned: %j', (value, expected) => {
      expect(fingerprint(value)).toBe(expected);
    });

    it('hashes the canonical JSON it always did', () => {
      // The first implementation, kept as the reference.
      const reference = (value: unknown): string => {
        if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
        if (value && typeof value === 'object') {
          const entries = Object.entries(value as Record<string, unknown>)
            .filter(([, v]) => v !== undefined)
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
          return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${reference(v)}`).join(',')}}`;
        }
        return JSON.stringify(value);
      };
      fc.assert(
        fc.property(fc.jsonValue(), fc.anything(), (json, anything) => {
          for (const value of [json, anything]) {
            const text = reference(value) as string | undefined;
            // A value JSON has no text for (undefined) could never be hashed.
            if (text === undefined) expect(() => fingerprint(value)).toThrow();
            else expect(fingerprint(value)).toBe(createHash('sha256').update(text).digest('base64url'));
          }
        }),
        { numRuns: 1000 },
      );
    });

    it('ignores key order and undefined fields', () => {
      expect(fingerprint({ a: 1, b: { c: 'x', d: [1, 2] }, e: undefined })).toBe(
        fingerprint({ b: { d: [1, 2], c: 'x' }, a: 1 }),
      );
    });

    it('tells apart different values, array orders and types', () => {
      const base = fingerprint({ a: 1, list: [1, 2] });

      expect(fingerprint({ a: 2, list: [1, 2] })).not.toBe(base);
      expect(fingerprint({ a: 1, list: [2, 1] })).not.toBe(base);
      expect(fingerprint({ a: '1', list: [1, 2] })).not.toBe(base);
    });
  });
});
