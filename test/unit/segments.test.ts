import fc from 'fast-check';
import { SegmentedMessage } from 'sms-segments-calculator';
import { describe, expect, it } from 'vitest';
import { countSegments } from '../../functions/domain/segments.ts';

const gsm = (n: number) => 'a'.repeat(n);
// Cyrillic is outside GSM-7, so it forces UCS-2.
const ucs2 = (n: number) => 'ж'.repeat(n);

describe('SMS segments', () => {
  it.each([
    { name: 'GSM-7 at 160 chars', body: gsm(160), encoding: 'GSM-7', segments: 1 },
    { name: 'GSM-7 at 161 chars', body: gsm(161), encoding: 'GSM-7', segments: 2 },
    { name: 'GSM-7 at 306 chars', body: gsm(306), encoding: 'GSM-7', segments: 2 },
    { name: 'GSM-7 at 307 chars', body: gsm(307), encoding: 'GSM-7', segments: 3 },
    { name: 'GSM-7 at 918 chars (6 x 153)', body: gsm(918), encoding: 'GSM-7', segments: 6 },
    { name: 'GSM-7 at 919 chars', body: gsm(919), encoding: 'GSM-7', segments: 7 },
    { name: 'UCS-2 at 70 chars', body: ucs2(70), encoding: 'UCS-2', segments: 1 },
    { name: 'UCS-2 at 71 chars', body: ucs2(71), encoding: 'UCS-2', segments: 2 },
    { name: 'UCS-2 at 134 chars', body: ucs2(134), encoding: 'UCS-2', segments: 2 },
    { name: 'UCS-2 at 135 chars', body: ucs2(135), encoding: 'UCS-2', segments: 3 },
  ] as const)('counts $name as $segments segment(s) of $encoding', ({ body, encoding, segments }) => {
    // Act
    const counted = countSegments(body);

    // Assess
    expect(counted).toMatchObject({ encoding, segments });
  });

  it.each(['€', '^', '{'])('counts the GSM extension character %s as two characters', (char) => {
    // Prepare: 80 doubles fill exactly one segment, 81 spill into a second
    const fits = char.repeat(80);
    const spills = char.repeat(81);

    // Act / Assess
    expect(countSegments(fits)).toEqual({ encoding: 'GSM-7', segments: 1, characters: 160 });
    expect(countSegments(spills)).toEqual({ encoding: 'GSM-7', segments: 2, characters: 162 });
  });

  it('spills into a second segment when one extension character tips 159 plain ones over 160', () => {
    expect(countSegments(`${gsm(159)}€`)).toMatchObject({ encoding: 'GSM-7', segments: 2 });
  });

  it('keeps Latin accents of the GSM-7 alphabet in GSM-7', () => {
    expect(countSegments('Café à München, Ñoño, Åse').encoding).toBe('GSM-7');
  });

  it('switches a whole message to UCS-2 for a single emoji', () => {
    // Prepare: 100 GSM chars would be 1 segment; an emoji makes it 102 UCS-2 code units
    const body = `${gsm(100)}😀`;

    // Act
    const counted = countSegments(body);

    // Assess
    expect(counted.encoding).toBe('UCS-2');
    expect(counted.segments).toBe(2);
  });
});

describe('the plain-ASCII fast path', () => {
  it('counts exactly as the segment calculator for any text in the GSM-7 basic ASCII set', () => {
    const alphabet = [...'\n\r !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz'];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...alphabet), { minLength: 1, maxLength: 1200 }), (chars) => {
        const text = chars.join('');
        const library = new SegmentedMessage(text, 'auto');
        expect(countSegments(text)).toEqual({
          encoding: 'GSM-7',
          segments: library.segmentsCount,
          characters: library.numberOfCharacters,
        });
      }),
      { numRuns: 300 },
    );
  });
});
