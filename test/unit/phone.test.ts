import { describe, expect, it } from 'vitest';
import { toE164 } from '../../functions/domain/phone.ts';

describe('toE164', () => {
  it.each([
    ['+12025550143', '+12025550143'],
    ['+442071838750', '+442071838750'],
    ['+12025550143 ', undefined],
    ['12025550143', undefined],
    ['+1202555', undefined],
    ['+19999999999', undefined],
    ['+1202555014300000', undefined],
    ['', undefined],
  ])('%j is %j', (input, expected) => {
    expect(toE164(input)).toBe(expected);
  });

  it('answers the same for a number seen before, and for more numbers than it keeps', () => {
    const numbers = Array.from({ length: 2500 }, (_, i) => `+1202555${String(i).padStart(4, '0')}`);
    const first = numbers.map(toE164);
    const invalid = Array.from({ length: 50 }, (_, i) => `+1999999${String(i).padStart(4, '0')}`);

    expect(first).toEqual(numbers);
    expect(numbers.map(toE164)).toEqual(numbers);
    expect(invalid.map(toE164)).toEqual(invalid.map(() => undefined));
    expect(invalid.map(toE164)).toEqual(invalid.map(() => undefined));
  });
});
