import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CONTROL_MESSAGE,
  cutText,
  hasControlCharacters,
  isWellFormedText,
  ONE_LINE_MESSAGE,
  sanitiseInboundText,
  textProblem,
  toWellFormedText,
  WELL_FORMED_MESSAGE,
} from '../../functions/domain/text.ts';

/** Any UTF-16 code unit, lone surrogates and controls included, plus a few hand-picked troublemakers. */
const anyUnit = fc.oneof(
  fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit)),
  fc.constantFrom('\ud83d', '\ude00', '\u0000', '\r', '\n', '\t', '\u0085', '\u2028', '😀', '👍🏽', 'e\u0301'),
);
const anyText = fc.oneof(
  fc.string({ unit: anyUnit, maxLength: 60 }),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 60 }),
);

describe('text', () => {
  describe('isWellFormedText', () => {
    it.each([
      ['', true],
      ['plain ASCII', true],
      ['😀 a pair', true],
      ['👨‍👩‍👧 ZWJ family', true],
      ['\ufffd the replacement character', true],
      ['emoji cut \ud83d', false],
      ['\ude00 a low surrogate first', false],
      ['\ude00\ud83d pair the wrong way round', false],
      ['\ud83d\ud83d two highs', false],
    ])('%j is well-formed: %s', (text, expected) => {
      expect(isWellFormedText(text)).toBe(expected);
    });

    it('agrees with String.prototype.isWellFormed on any text', () => {
      const native = (text: string) => (text as unknown as { isWellFormed(): boolean }).isWellFormed();
      fc.assert(
        fc.property(anyText, (text) => {
          expect(isWellFormedText(text)).toBe(native(text));
        }),
      );
    });
  });

  describe('hasControlCharacters', () => {
    it.each([
      // text, multi-line refuses, one-line refuses
      ['plain text', false, false],
      ['café ñ 😀 中文', false, false],
      ['tab\there', false, true],
      ['line\nfeed', false, true],
      ['carriage\rreturn', false, true],
      ['crlf\r\n', false, true],
      ['line\u2028separator', false, true],
      ['paragraph\u2029separator', false, true],
      ['nul\u0000', true, true],
      ['bell\u0007', true, true],
      ['vertical\u000btab', true, true],
      ['form\u000cfeed', true, true],
      ['escape\u001b[31m', true, true],
      ['unit separator\u001f', true, true],
      ['delete\u007f', true, true],
      ['C1 next line\u0085', true, true],
      ['C1 \u0080 first', true, true],
      ['C1 \u009f last', true, true],
      ['no-break\u00a0space (not a control)', false, false],
    ])('%j: multi-line refused=%s, one-line refused=%s', (text, multiLine, oneLine) => {
      expect(hasControlCharacters(text)).toBe(multiLine);
      expect(hasControlCharacters(text, { oneLine: true })).toBe(oneLine);
    });
  });

  describe('textProblem', () => {
    it.each([
      ['fine', {}, undefined],
      ['fine\non two lines', {}, undefined],
      ['fine\non two lines', { oneLine: true }, ONE_LINE_MESSAGE],
      ['emoji cut \ud83d', {}, WELL_FORMED_MESSAGE],
      ['emoji cut \ud83d', { oneLine: true }, WELL_FORMED_MESSAGE],
      ['nul \u0000', {}, CONTROL_MESSAGE],
      ['nul \u0000', { oneLine: true }, ONE_LINE_MESSAGE],
    ])('%j with %j: %s', (text, options, expected) => {
      expect(textProblem(text, options)).toBe(expected);
    });

    it('words the messages as the API states them', () => {
      expect(WELL_FORMED_MESSAGE).toBe('must be well-formed Unicode (no lone surrogates)');
      expect(CONTROL_MESSAGE).toBe('must not contain control characters');
    });
  });

  describe('sanitiseInboundText', () => {
    it.each([
      ['STOP\u0000', 'STOP'],
      ['\u0000\u0000HELP', 'HELP'],
      ['emoji cut \ud83d', 'emoji cut \ufffd'],
      ['\ude00 reversed \ud83d', '\ufffd reversed \ufffd'],
      ['colour \u001b[31mred', 'colour [31mred'],
      ['next\u0085line', 'nextline'],
      ['line one\r\nline two\ttabbed', 'line one\r\nline two\ttabbed'],
      ['😀 👍🏽 👨‍👩‍👧 café', '😀 👍🏽 👨‍👩‍👧 café'],
      ['', ''],
    ])('%j becomes %j', (raw, clean) => {
      expect(sanitiseInboundText(raw)).toBe(clean);
    });

    it('always gives text a request could carry, never longer, and is stable', () => {
      fc.assert(
        fc.property(anyText, (raw) => {
          const clean = sanitiseInboundText(raw);
          expect(textProblem(clean)).toBeUndefined();
          expect(clean.length).toBeLessThanOrEqual(raw.length);
          expect(sanitiseInboundText(clean)).toBe(clean);
        }),
      );
    });

    it('leaves text that has no problem as it is', () => {
      fc.assert(
        fc.property(anyText, (raw) => {
          fc.pre(textProblem(raw) === undefined);
          expect(sanitiseInboundText(raw)).toBe(raw);
        }),
      );
    });
  });

  describe('toWellFormedText', () => {
    it('replaces lone surrogates only and keeps the length', () => {
      expect(toWellFormedText('a\ud83db😀c\ude00')).toBe('a\ufffdb😀c\ufffd');
      fc.assert(
        fc.property(anyText, (text) => {
          const whole = toWellFormedText(text);
          expect(isWellFormedText(whole)).toBe(true);
          expect(whole.length).toBe(text.length);
        }),
      );
    });
  });

  describe('cutText', () => {
    const family = '👨‍👩‍👧'; // 8 code units: three emoji joined by two ZWJs
    const thumbsUp = '👍🏽'; // 4 code units: emoji + skin tone modifier
    const flag = '🇬🇧'; // 4 code units: two regional indicators

    it.each([
      { text: 'hello', max: 10, ellipsis: undefined, cut: 'hello' },
      { text: 'hello', max: 5, ellipsis: undefined, cut: 'hello' },
      { text: 'hello world', max: 8, ellipsis: undefined, cut: 'hello...' },
      { text: 'hello world', max: 6, ellipsis: '…', cut: 'hello…' },
      { text: 'hello world', max: 5, ellipsis: '', cut: 'hello' },
      { text: 'hello world', max: 3, ellipsis: undefined, cut: '...' },
      { text: 'hello world', max: 2, ellipsis: undefined, cut: 'he' },
      { text: 'hello world', max: 0, ellipsis: undefined, cut: '' },
      { text: '', max: 0, ellipsis: undefined, cut: '' },
      // Surrogate pairs: 😀 is 2 code units; never keep half of one.
      { text: '😀😀😀', max: 5, ellipsis: undefined, cut: '😀...' },
      { text: '😀😀😀', max: 4, ellipsis: undefined, cut: '...' },
      { text: '😀😀😀', max: 6, ellipsis: undefined, cut: '😀😀😀' },
      { text: 'ab😀cdef', max: 6, ellipsis: undefined, cut: 'ab...' },
      // Grapheme clusters: never part of a ZWJ sequence, a skin tone, a flag or a letter's accents.
      { text: `Hi ${family}!`, max: 10, ellipsis: undefined, cut: 'Hi ...' },
      { text: `Hi ${family}!!`, max: 12, ellipsis: '…', cut: `Hi ${family}…` },
      { text: `ok ${thumbsUp} done`, max: 8, ellipsis: undefined, cut: 'ok ...' },
      { text: `ok ${thumbsUp} done`, max: 10, ellipsis: undefined, cut: `ok ${thumbsUp}...` },
      { text: `${flag}${flag}${flag}`, max: 10, ellipsis: undefined, cut: `${flag}...` },
      { text: 'cafe\u0301 au lait', max: 7, ellipsis: undefined, cut: 'caf...' },
      { text: 'cafe\u0301 au lait', max: 8, ellipsis: undefined, cut: 'cafe\u0301...' },
      // A lone surrogate in the input never reaches the output.
      { text: 'emoji cut \ud83d', max: 20, ellipsis: undefined, cut: 'emoji cut \ufffd' },
      { text: '\ud83d\ud83d\ud83d\ud83d\ud83d', max: 4, ellipsis: undefined, cut: '\ufffd...' },
    ])('cuts $text to $max ($ellipsis): $cut', ({ text, max, ellipsis, cut }) => {
      const result = ellipsis === undefined ? cutText(text, max) : cutText(text, max, ellipsis);

      expect(result).toBe(cut);
      expect(result.length).toBeLessThanOrEqual(max);
    });

    it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('refuses maxChars = %s', (max) => {
      expect(() => cutText('hello', max)).toThrow(RangeError);
    });

    const ellipsis = fc.constantFrom('...', '…', '', ' [more]', '😀');

    it('is always within the limit, well-formed, and a prefix of the input plus the ellipsis', () => {
      fc.assert(
        fc.property(anyText, fc.nat({ max: 70 }), ellipsis, (text, max, marker) => {
          const result = cutText(text, max, marker);
          const whole = toWellFormedText(text);

          expect(result.length).toBeLessThanOrEqual(max);
          expect(isWellFormedText(result)).toBe(true);
          if (whole.length <= max) {
            expect(result).toBe(whole);
          } else {
            const used = marker.length <= max ? marker : '';
            expect(result.endsWith(used)).toBe(true);
            expect(whole.startsWith(result.slice(0, result.length - used.length))).toBe(true);
          }
        }),
        { numRuns: 500 },
      );
    });

    it('keeps the longest prefix of whole grapheme clusters that fits', () => {
      // Texts built from clusters whose boundaries are known by construction.
      const cluster = fc.constantFrom(
        'a',
        'Z',
        ' ',
        '😀',
        family,
        thumbsUp,
        flag,
        'e\u0301',
        'n\u0303\u0323',
        '한',
        '中',
      );
      fc.assert(
        fc.property(fc.array(cluster, { maxLength: 20 }), fc.nat({ max: 60 }), (clusters, max) => {
          const text = clusters.join('');
          fc.pre(text.length > max);
          const boundaries = [0];
          for (const c of clusters) boundaries.push((boundaries.at(-1) ?? 0) + c.length);
          const budget = max >= 3 ? max - 3 : max;

          const kept = cutText(text, max).replace(/\.\.\.$/, '');

          const best = Math.max(...boundaries.filter((end) => end <= budget));
          expect(kept).toBe(text.slice(0, best));
        }),
        { numRuns: 500 },
      );
    });

    it('cuts a long text where segmenting all of it would', () => {
      // What cutText answered when it segmented the whole text: the reference for its plain-text shortcut and for
      // segmenting only the start of a long text.
      const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
      const reference = (text: string, max: number) => {
        const whole = toWellFormedText(text);
        if (whole.length <= max) return whole;
        const budget = max >= 3 ? max - 3 : max;
        let end = 0;
        for (const { index, segment } of segmenter.segment(whole)) {
          if (index + segment.length > budget) break;
          end = index + segment.length;
        }
        return `${whole.slice(0, end)}${max >= 3 ? '...' : ''}`;
      };
      const piece = fc.oneof(
        anyText,
        fc.constantFrom(
          'plain words ',
          'a\r\nb',
          '\r',
          'e\u0301',
          '\u0301',
          family,
          thumbsUp,
          flag,
          '🇬',
          '\u200d',
          '😀',
        ),
      );
      fc.assert(
        fc.property(fc.array(piece, { maxLength: 40 }), fc.nat({ max: 70 }), (pieces, max) => {
          const text = pieces.join('');
          expect(cutText(text, max)).toBe(reference(text, max));
        }),
        { numRuns: 2000 },
      );
      const long = `${'Demo Bank: did you pay $420.00 at ACME? '.repeat(5000)}${flag}`;
      for (const text of [long, `${flag.repeat(40)}${long}`, `${'e\u0301'.repeat(30)}${long}`]) {
        for (const max of [0, 3, 59, 60, 61, 160]) expect(cutText(text, max)).toBe(reference(text, max));
      }
    });
  });
});
