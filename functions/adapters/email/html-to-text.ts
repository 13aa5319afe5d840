/**
 * Readable text from the HTML part of a mail that has no text part (DESIGN section 12).
 *
 * Written here rather than taken from a library: postal-mime's own converter is internal (not exported), and
 * `html-to-text` is about 190 KB minified with htmlparser2 and selderee behind it, for the few replies that come
 * without a text part. Mail HTML needs little: drop what is not shown (head, style, script, comments), break lines
 * where blocks break, mark `<blockquote>` lines with `> ` so quoted history stays recognisable, and decode entities.
 * Every step scans forward only (each search starts where the last one stopped, and a search that found nothing is
 * never repeated), so hostile HTML (thousands of unclosed `<` or `<!--`) costs linear time.
 */

/** HTML 4's Latin-1 entities, in code point order from U+00A0. */
const latin1Entities =
  'nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr deg plusmn sup2 sup3 acute ' +
  'micro para middot cedil sup1 ordm raquo frac14 frac12 frac34 iquest Agrave Aacute Acirc Atilde Auml Aring AElig ' +
  'Ccedil Egrave Eacute Ecirc Euml Igrave Iacute Icirc Iuml ETH Ntilde Ograve Oacute Ocirc Otilde Ouml times Oslash ' +
  'Ugrave Uacute Ucirc Uuml Yacute THORN szlig agrave aacute acirc atilde auml aring aelig ccedil egrave eacute ecirc ' +
  'euml igrave iacute icirc iuml eth ntilde ograve oacute ocirc otilde ouml divide oslash ugrave uacute ucirc uuml ' +
  'yacute thorn yuml';

const namedEntities = new Map<string, string>([
  ['amp', '&'],
  ['lt', '<'],
  ['gt', '>'],
  ['quot', '"'],
  ['apos', "'"],
  ['OElig', '\u0152'],
  ['oelig', '\u0153'],
  ['Scaron', '\u0160'],
  ['scaron', '\u0161'],
  ['Yuml', '\u0178'],
  ['circ', '\u02c6'],
  ['tilde', '\u02dc'],
  ['ensp', ' '],
  ['emsp', ' '],
  ['thinsp', ' '],
  ['zwnj', ''],
  ['zwj', '\u200d'],
  ['lrm', ''],
  ['rlm', ''],
  ['ndash', '\u2013'],
  ['mdash', '\u2014'],
  ['lsquo', '\u2018'],
  ['rsquo', '\u2019'],
  ['sbquo', '\u201a'],
  ['ldquo', '\u201c'],
  ['rdquo', '\u201d'],
  ['bdquo', '\u201e'],
  ['dagger', '\u2020'],
  ['Dagger', '\u2021'],
  ['bull', '\u2022'],
  ['hellip', '\u2026'],
  ['permil', '\u2030'],
  ['prime', '\u2032'],
  ['Prime', '\u2033'],
  ['lsaquo', '\u2039'],
  ['rsaquo', '\u203a'],
  ['euro', '\u20ac'],
  ['trade', '\u2122'],
  ...latin1Entities.split(' ').map((name, index): [string, string] => [name, String.fromCharCode(0xa0 + index)]),
]);

const entity = /&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([A-Za-z][A-Za-z0-9]{1,31}));?/g;

const fromCodePoint = (codePoint: number): string =>
  // NUL, surrogates and what is past Unicode are what HTML itself turns into U+FFFD.
  codePoint === 0 || (codePoint >= 0xd800 && codePoint <= 0xdfff) || codePoint > 0x10ffff
    ? '\ufffd'
    : String.fromCodePoint(codePoint);

/** Decodes numeric and the common named character references; an unknown name is left as written. */
export const decodeEntities = (text: string): string =>
  text.includes('&')
    ? text.replace(entity, (match, decimal?: string, hex?: string, name?: string) => {
        if (decimal !== undefined) return fromCodePoint(Number.parseInt(decimal, 10));
        if (hex !== undefined) return fromCodePoint(Number.parseInt(hex, 16));
        return namedEntities.get(name ?? '') ?? namedEntities.get((name ?? '').toLowerCase()) ?? match;
      })
    : text;

/** Elements whose content is never shown. */
const hiddenElements = new Set(['head', 'style', 'script', 'title', 'template', 'noscript', 'xml', 'svg', 'object']);
/** Elements that start and end on a line of their own. */
const lineElements = new Set([
  'address',
  'article',
  'aside',
  'caption',
  'center',
  'dd',
  'div',
  'dl',
  'dt',
  'fieldset',
  'figcaption',
  'figure',
  'footer',
  'form',
  'header',
  'li',
  'main',
  'nav',
  'section',
  'table',
  'tbody',
  'tfoot',
  'thead',
  'tr',
]);
/** Elements set apart by a blank line. */
const paragraphElements = new Set(['p', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr', 'ol', 'ul', 'pre']);
/** Cells: a space between neighbours on one line. */
const cellElements = new Set(['td', 'th']);

const maxQuoteDepth = 30;

const tagName = /^<(\/?)([A-Za-z][A-Za-z0-9:-]{0,40})/;

interface Line {
  depth: number;
  text: string;
}

/** Builds lines of text, each with the blockquote depth it was written at. */
class LineWriter {
  readonly lines: Line[] = [];
  private current = '';
  private currentDepth = 0;
  depth = 0;
  pre = 0;

  write(text: string): void {
    const collapsed = this.pre > 0 ? text : text.replace(/[ \t\n\r\f\u00a0]+/g, ' ');
    if (this.pre > 0 && collapsed.includes('\n')) {
      const parts = collapsed.split('\n');
      parts.forEach((part, index) => {
        if (index > 0) this.lineBreak();
        this.append(part);
      });
      return;
    }
    this.append(collapsed);
  }

  private append(text: string): void {
    if (text === '') return;
    if (this.current === '') {
      const start = this.pre > 0 ? text : text.replace(/^ +/, '');
      if (start === '') return;
      this.currentDepth = this.depth;
      this.current = start;
      return;
    }
    this.current += this.current.endsWith(' ') && text.startsWith(' ') ? text.slice(1) : text;
  }

  /** Ends the current line (a `<br>`): an empty line stays, so two `<br>` make a blank line. */
  lineBreak(): void {
    this.lines.push({ depth: this.current === '' ? this.depth : this.currentDepth, text: this.current.trimEnd() });
    this.current = '';
  }

  /** Ends the current line if it has text (a block starts or ends). */
  endLine(): void {
    if (this.current !== '') this.lineBreak();
  }

  /** A blank line before what follows, unless there is one already. */
  blankLine(): void {
    this.endLine();
    const last = this.lines.at(-1);
    // Entering or leaving a quote sets text apart already.
    if (last !== undefined && last.text !== '' && last.depth === this.depth) {
      this.lines.push({ depth: this.depth, text: '' });
    }
  }

  finish(): string {
    this.endLine();
    while (this.lines.at(-1)?.text === '') this.lines.pop();
    const rendered = this.lines.map(({ depth, text }) => {
      // Deeper than any real thread: hostile nesting must not make every line thousands of `>` long.
      const prefix = '>'.repeat(Math.min(depth, maxQuoteDepth));
      if (depth === 0) return text;
      return text === '' ? prefix : `${prefix} ${text}`;
    });
    return rendered
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .replace(/^\n+|\n+$/g, '');
  }
}

/**
 * Finds, from a position that only moves forward, the next occurrence of `needle` (a string, or a global regex).
 * A search that found nothing is remembered, so the text is scanned at most once per finder.
 */
const forwardFinder = (haystack: string, needle: string | RegExp) => {
  let found = -2;
  let foundLength = 0;
  return (from: number): { index: number; length: number } | undefined => {
    if (found === -1) return undefined;
    if (found < from) {
      if (typeof needle === 'string') {
        found = haystack.indexOf(needle, from);
        foundLength = needle.length;
      } else {
        needle.lastIndex = from;
        const match = needle.exec(haystack);
        found = match ? match.index : -1;
        foundLength = match ? match[0].length : 0;
      }
    }
    return found === -1 ? undefined : { index: found, length: foundLength };
  };
};

/**
 * Turns mail HTML into plain text: one line per block, a blank line between paragraphs, `> ` before each line inside
 * a `<blockquote>` (one `>` a level), links as their text, images as their `alt` text when it says something.
 */
export const htmlToText = (html: string): string => {
  const out = new LineWriter();
  const nextTagEnd = forwardFinder(html, '>');
  const nextCommentEnd = forwardFinder(html, '-->');
  const closers = new Map<string, ReturnType<typeof forwardFinder>>();
  const nextCloser = (name: string) => {
    let finder = closers.get(name);
    if (!finder) {
      finder = forwardFinder(html, new RegExp(`</${name}\\b`, 'gi'));
      closers.set(name, finder);
    }
    return finder;
  };

  let position = 0;
  while (position < html.length) {
    const open = html.indexOf('<', position);
    if (open === -1) {
      out.write(decodeEntities(html.slice(position)));
      break;
    }
    if (open > position) out.write(decodeEntities(html.slice(position, open)));

    if (html.startsWith('<!--', open)) {
      const end = nextCommentEnd(open + 4);
      position = end ? end.index + end.length : html.length;
      continue;
    }
    const end = nextTagEnd(open + 1);
    if (!end) {
      // A `<` that never closes is text, as a browser shows it.
      out.write(decodeEntities(html.slice(open)));
      break;
    }
    const tag = html.slice(open, end.index + 1);
    const parsed = tagName.exec(tag);
    if (!parsed) {
      if (/^<[!?/]/.test(tag)) {
        // `<!DOCTYPE>`, `<![if mso]>`, `<?xml ?>`, `</ >`: nothing to show.
        position = end.index + 1;
      } else {
        // A `<` that starts no tag ("1 < 2") is text.
        out.write('<');
        position = open + 1;
      }
      continue;
    }
    position = end.index + 1;
    const closing = parsed[1] === '/';
    const name = (parsed[2] ?? '').toLowerCase();
    const selfClosing = tag.endsWith('/>');

    if (!closing && hiddenElements.has(name) && !selfClosing) {
      const closer = nextCloser(name)(position);
      if (!closer) break;
      const closerEnd = nextTagEnd(closer.index + closer.length);
      position = closerEnd ? closerEnd.index + 1 : html.length;
      continue;
    }

    switch (name) {
      case 'br':
        out.lineBreak();
        break;
      case 'blockquote':
        out.endLine();
        if (closing) out.depth = Math.max(0, out.depth - 1);
        else out.depth += 1;
        break;
      case 'img': {
        const alt = /\balt\s*=\s*(?:"([^"]*)"|'([^']*)')/i.exec(tag);
        const text = decodeEntities(alt?.[1] ?? alt?.[2] ?? '').trim();
        if (text !== '') out.write(` ${text} `);
        break;
      }
      default:
        if (name === 'pre') out.pre = Math.max(0, out.pre + (closing ? -1 : 1));
        if (name === 'li' && !closing) {
          out.endLine();
          out.write('- ');
        } else if (lineElements.has(name)) out.endLine();
        else if (paragraphElements.has(name)) out.blankLine();
        else if (cellElements.has(name)) out.write(' ');
    }
  }
  return out.finish();
};
