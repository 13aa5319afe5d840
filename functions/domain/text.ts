/**
 * Text rules shared by every schema and every place Parley shortens text (DESIGN.md section 10).
 *
 * Lengths are UTF-16 code units (`String.length`), as zod's `maxLength` counts them: a limit met in code units is
 * met in code points too.
 */

/** A lone (unpaired) UTF-16 surrogate: with the `u` flag a well-formed pair is one code point and never matches. */
const loneSurrogate = /\p{Cs}/u;
const loneSurrogates = /\p{Cs}/gu;

/** `\p{Cc}` is C0 (U+0000-U+001F), DEL and C1 (U+0080-U+009F). Multi-line text keeps TAB, LF and CR. */
const controlCharacter = /(?![\t\n\r])\p{Cc}/u;
const controlCharacters = /(?![\t\n\r])\p{Cc}/gu;
/** Also TAB, LF, CR and the Unicode line and paragraph separators: what may not stand in a one-line field. */
const oneLineBreaker = /[\p{Cc}\u2028\u2029]/u;

export interface TextOptions {
  /** A one-line field (email subject, name, header-bound value): TAB, CR, LF, U+2028 and U+2029 are refused too. */
  oneLine?: boolean;
}

export const WELL_FORMED_MESSAGE = 'must be well-formed Unicode (no lone surrogates)';
export const CONTROL_MESSAGE = 'must not contain control characters';
export const ONE_LINE_MESSAGE = 'must be one line: no line breaks, tabs or other control characters';

/** True when `text` has no lone UTF-16 surrogate (what `String.prototype.isWellFormed` answers). */
export const isWellFormedText = (text: string): boolean => !loneSurrogate.test(text);

/**
 * True when `text` holds NUL or another control character (C0 but TAB, LF and CR; DEL; C1). With `oneLine`, TAB,
 * LF, CR, U+2028 and U+2029 count too.
 */
export const hasControlCharacters = (text: string, options: TextOptions = {}): boolean =>
  (options.oneLine ? oneLineBreaker : controlCharacter).test(text);

/** Why `text` may not stand in a request, or undefined when it may. The messages are the API's `details`. */
export const textProblem = (text: string, options: TextOptions = {}): string | undefined => {
  if (!isWellFormedText(text)) return WELL_FORMED_MESSAGE;
  if (hasControlCharacters(text, options)) return options.oneLine ? ONE_LINE_MESSAGE : CONTROL_MESSAGE;
  return undefined;
};

/** Replaces each lone surrogate with U+FFFD, as `String.prototype.toWellFormed` does; the length is unchanged. */
export const toWellFormedText = (text: string): string =>
  isWellFormedText(text) ? text : text.replace(loneSurrogates, '\uFFFD');

/**
 * Makes text that came from a carrier or a mail server safe to keep and to hand on, instead of refusing it.
 *
 * A request from a backend with bad text is refused with 400, and the backend fixes it. An inbound message cannot be
 * refused: the customer is not there to send it again, and dead-lettering it could lose a STOP. So inbound text is
 * repaired: a lone surrogate (a character broken in transit) becomes U+FFFD, which marks the spot; NUL and the other
 * control characters (C0 but TAB, LF and CR; DEL; C1) carry nothing a person typed and are removed, so "STOP\0" is
 * still read as STOP. The result passes `textProblem(text)` (multi-line), as every request text does, so it can be
 * stored, put in events and handed to the SDK's serializers (which throw on lone surrogates) like any other text.
 * It is never longer than the input.
 */
export const sanitiseInboundText = (text: string): string => toWellFormedText(text).replace(controlCharacters, '');

let graphemes: Intl.Segmenter | undefined;
const graphemeSegmenter = (): Intl.Segmenter | undefined => {
  if (graphemes === undefined && typeof Intl.Segmenter === 'function') {
    graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  }
  return graphemes;
};

/** Printable ASCII, TAB and LF: every code unit is a grapheme cluster of its own (CR is not: CR LF is one cluster). */
const singleUnitClusters = /^[\t\n\x20-\x7e]*$/;

/**
 * Whether there is a grapheme cluster boundary before a code unit depends on what precedes it and on the one code
 * point after it (UAX #29): two code units past `budget` settle every boundary within it, and 16 leave a margin.
 * Segmenting all of a long body (ICU copies the whole string) to keep its first 60 characters is not needed.
 */
const segmentedLength = (budget: number): number => budget + 16;

/** The longest end (in code units, ≤ budget) of a prefix of `text` that ends on a grapheme cluster boundary. */
const cutPoint = (text: string, budget: number): number => {
  // The usual case, plain text: the code units up to the cut, and the one after it, are each a whole cluster.
  if (text.length > budget && singleUnitClusters.test(text.slice(0, budget + 1))) return budget;
  const segmenter = graphemeSegmenter();
  let end = 0;
  if (segmenter) {
    for (const { index, segment } of segmenter.segment(text.slice(0, segmentedLength(budget)))) {
      if (index + segment.length > budget) break;
      end = index + segment.length;
    }
    return end;
  }
  // Without Intl.Segmenter: whole code points at least.
  for (const codePoint of text) {
    if (end + codePoint.length > budget) break;
    end += codePoint.length;
  }
  return end;
};

/**
 * Shortens `text` to at most `maxChars` UTF-16 code units, the ellipsis included, cutting only between whole
 * characters: never inside a surrogate pair, nor inside a grapheme cluster (an emoji with a skin tone or a ZWJ, a
 * letter with its combining accents, a flag). Text that fits is returned as it is. When even the ellipsis does not fit
 * in `maxChars`, the text is cut without one. The result is always well-formed: a lone surrogate already in `text`
 * becomes U+FFFD (the length does not change), so the result is a prefix of `toWellFormedText(text)` plus the
 * ellipsis.
 */
export const cutText = (text: string, maxChars: number, ellipsis = '...'): string => {
  if (!Number.isInteger(maxChars) || maxChars < 0) {
    throw new RangeError(`maxChars must be a whole number >= 0, not ${maxChars}`);
  }
  const whole = toWellFormedText(text);
  if (whole.length <= maxChars) return whole;
  const marker = ellipsis.length <= maxChars ? toWellFormedText(ellipsis) : '';
  return whole.slice(0, cutPoint(whole, maxChars - marker.length)) + marker;
};

/** The subject of a reply: `Re: ` once, however often the thread went back and forth (never `Re: Re:`). */
export const replySubjectOf = (subject: string): string => {
  const trimmed = subject.trim();
  return /^re\s*:/i.test(trimmed) ? trimmed : `Re: ${trimmed}`;
};
