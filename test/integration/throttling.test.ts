import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './harness.ts';

let h: Harness;

beforeAll(async () => {
  // A tiny stage limit, as an operator might configure it, so the limit is reached on purpose.
  h = await startHarness({ throttle: { ratePerSecond: 1, burst: 3 } });
});

afterAll(async () => {
  await h.close();
});

describe('stage throttling', () => {
  it('answers 429 rate_limited past the burst, before any handler runs', async () => {
    const responses = await Promise.all(Array.from({ length: 6 }, () => h.api('/v1/templates')));
    const limited = responses.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(2);
    expect(limited[0]?.body).toEqual({ error: { code: 'rate_limited', message: expect.any(String) } });
    expect(responses.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(1);
  });
});
