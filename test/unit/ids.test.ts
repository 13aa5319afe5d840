import { describe, expect, it } from 'vitest';
import { fingerprint, newMessageId, newTimelineId } from '../../functions/domain/ids.ts';
import { at } from './fakes.ts';

describe('ids', () => {
  it('derives the same message id from the same tenant and idempotency key', () => {
    expect(newMessageId('demo-bank', 'order-42')).toBe(newMessageId('demo-bank', 'order-42'));
    expect(newMessageId('demo-bank', 'order-42')).toMatch(/^msg_[0-9A-HJKMNP-TV-Z]{26}$/);
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

  describe('fingerprint', () => {
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
