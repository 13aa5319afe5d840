import { describe, expect, it } from 'vitest';
import { invalidateCached, TtlCache } from '../../functions/adapters/ttl-cache.ts';
import { FakeClock } from './fakes.ts';

/** A loader that counts its calls and answers `value-<n>`. */
const counter = () => {
  const load = async () => {
    load.calls++;
    return `value-${load.calls}`;
  };
  load.calls = 0;
  return load;
};

describe('TTL cache', () => {
  it('loads once and answers from memory within the TTL', async () => {
    // Prepare
    const clock = new FakeClock();
    const cache = new TtlCache<string>(1000, () => clock.now());
    const load = counter();

    // Act
    const first = await cache.get('tenant', load);
    clock.advance(999);
    const second = await cache.get('tenant', load);

    // Assess
    expect([first, second]).toEqual(['value-1', 'value-1']);
    expect(load.calls).toBe(1);
  });

  it('loads again once the TTL has passed', async () => {
    const clock = new FakeClock();
    const cache = new TtlCache<string>(1000, () => clock.now());
    const load = counter();

    await cache.get('tenant', load);
    clock.advance(1000);
    const reloaded = await cache.get('tenant', load);

    expect(reloaded).toBe('value-2');
    expect(load.calls).toBe(2);
  });

  it('keeps keys apart', async () => {
    const cache = new TtlCache<string>(1000, () => 0);

    const a = await cache.get('a', async () => 'A');
    const b = await cache.get('b', async () => 'B');

    expect([a, b]).toEqual(['A', 'B']);
  });

  it('shares one load between concurrent misses for a key', async () => {
    // Prepare
    const cache = new TtlCache<string>(1000, () => 0);
    let release: (value: string) => void = () => undefined;
    let calls = 0;
    const load = () => {
      calls++;
      return new Promise<string>((resolve) => {
        release = resolve;
      });
    };

    // Act
    const first = cache.get('tenant', load);
    const second = cache.get('tenant', load);
    release('shared');

    // Assess
    expect(await Promise.all([first, second])).toEqual(['shared', 'shared']);
    expect(calls).toBe(1);
  });

  it('does not keep a failed load', async () => {
    // Prepare
    const cache = new TtlCache<string>(1000, () => 0);

    // Act
    await expect(cache.get('tenant', () => Promise.reject(new Error('throttled')))).rejects.toThrow('throttled');
    const retried = await cache.get('tenant', async () => 'loaded');

    // Assess
    expect(retried).toBe('loaded');
  });

  it('caches nothing with a TTL of zero', async () => {
    const cache = new TtlCache<string>(0, () => 0);
    const load = counter();

    await cache.get('tenant', load);
    await cache.get('tenant', load);

    expect(load.calls).toBe(2);
  });

  it('forgets a deleted key', async () => {
    const cache = new TtlCache<string>(1000, () => 0);
    const load = counter();

    await cache.get('tenant', load);
    cache.delete('tenant');
    const reloaded = await cache.get('tenant', load);

    expect(reloaded).toBe('value-2');
  });

  it('evicts the oldest entry when full', async () => {
    // Prepare
    const cache = new TtlCache<string>(1000, () => 0, 2);
    const loadA = counter();
    const loadC = counter();
    await cache.get('a', loadA);
    await cache.get('b', async () => 'B');

    // Act
    await cache.get('c', loadC);
    await cache.get('a', loadA);
    await cache.get('c', loadC);

    // Assess: a was evicted by c and loaded again; c was still held
    expect(loadA.calls).toBe(2);
    expect(loadC.calls).toBe(1);
  });
});

describe('invalidating cached values', () => {
  it('drops one key from every cache of its kind, and nothing from other kinds or unnamed caches', async () => {
    // Prepare
    const a = new TtlCache<string>(60_000, Date.now, 1000, 'template');
    const b = new TtlCache<string>(60_000, Date.now, 1000, 'template');
    const other = new TtlCache<string>(60_000, Date.now, 1000, 'tenant');
    const unnamed = new TtlCache<string>(60_000);
    const load = counter();
    for (const cache of [a, b, other, unnamed]) {
      await cache.get('t1/alert', load);
      await cache.get('t1/other', load);
    }

    // Act
    invalidateCached('template', 't1/alert');

    // Assess
    expect(await a.get('t1/alert', load)).toBe('value-9');
    expect(await b.get('t1/alert', load)).toBe('value-10');
    expect(await a.get('t1/other', load)).toBe('value-2');
    expect(await other.get('t1/alert', load)).toBe('value-5');
    expect(await unnamed.get('t1/alert', load)).toBe('value-7');
  });

  it('without a key, empties every cache of the kind', async () => {
    // Prepare
    const cache = new TtlCache<string>(60_000, Date.now, 1000, 'tenant');
    const load = counter();
    await cache.get('number:+12065550100', load);
    await cache.get('demo-bank', load);

    // Act
    invalidateCached('tenant');

    // Assess
    expect(await cache.get('number:+12065550100', load)).toBe('value-3');
    expect(await cache.get('demo-bank', load)).toBe('value-4');
  });
});
