/**
 * The customer's new text in a reply, without quoted history or signature (DESIGN section 12).
 *
 * Three passes, each for what the one before cannot do:
 * 1. `splitQuotedHistory` (here): what is history by the mail's structure. Lines quoted with `>` and the attribution
 *    line above them ("On … wrote:" and its German, French, Spanish, Dutch, Portuguese and Italian forms) are
 *    dropped wherever they stand, so text above a quote (top-posting), below it (bottom-posting) and between quotes
 *    (inline answers) is kept; from an Outlook "-----Original Message-----" or "From: … Sent: …" block (and their
 *    translations) or a forwarded-message marker on, everything is history. It reads each line once, with patterns
 *    tried only on short lines, so its cost is linear in the text.
 * 2. email-reply-parser on what is left: its signature rules (sign-offs, "Sent from …" in several languages) and the
 *    quote headers of languages pass 1 does not know. Its patterns backtrack badly on hostile text (8 KB of
 *    "abc. skrev x" lines take 1.6 s, 32 KB take 80 s), so it only ever sees a bounded copy: at most 16 KiB, long
 *    lines swapped for placeholders, and the lines that start its four unbounded patterns defused.
 * 3. A signature filter (here) for what the parser misses: the `-- ` separator, "Sent from my iPhone" and "Get
 *    Outlook for iOS" lines and their translations.
 * A reply is never trimmed to nothing when pass 1 found text: if passes 2 and 3 remove all of it, pass 1's text stays
 * (less its signature lines: a mail whose only new text is "Sent from my iPhone" has no new text).
 */
import EmailReplyParser from 'email-reply-parser';

/** The most the reply parser is given; a longer new text is trimmed by passes 1 and 3 alone. */
export const REPLY_PARSER_MAX_CHARS = 16 * 1024;
/** Lines longer than this are never a quote header or a signature, and are hidden from the reply parser. */
const PARSER_MAX_LINE = 400;
/** Quote headers are short; a longer candidate is not tried (and keeps every pattern's cost small). */
const HEADER_MAX_CHARS = 500;

const parser = new EmailReplyParser();

const quotedLine = /^ {0,3}>/;
const blank = (line: string) => line.trim() === '';

const attributionHeaders: RegExp[] = [
  /^on\s.+\swrote\s?:$/i, // On Mon, 2 Jun 2025 at 11:00, Demo Bank <alerts@bank.example> wrote:
  /^am\s.+\sschrieb(\s.+)?:$/i, // Am 02.06.2025 um 11:00 schrieb Demo Bank <alerts@bank.example>:
  /^.+\sschrieb\sam\s.+:$/i, // Demo Bank <alerts@bank.example> schrieb am 02.06.2025 11:00:
  /^le\s.+\s(a\s)?écrit\s?:$/i, // Le lun. 2 juin 2025 à 11:00, Demo Bank <alerts@bank.example> a écrit :
  /^el\s.+\sescribió\s?:$/i, // El lun, 2 jun 2025 a las 11:00, Demo Bank (<alerts@bank.example>) escribió:
  /^op\s.+\sschreef(\s.+)?:$/i, // Op ma 2 jun. 2025 om 11:00 schreef Demo Bank <alerts@bank.example>:
  /^(em|no dia)\s.+\sescreveu\s?:$/i, // Em seg., 2 de jun. de 2025 às 11:00, Demo Bank <…> escreveu:
  /^il\s.+\sha\sscritto\s?:$/i, // Il giorno lun 2 giu 2025 alle ore 11:00 Demo Bank <…> ha scritto:
];
/**
 * An attribution in any language (a verb of writing, an address or a time before the closing colon), trusted only
 * right above `>` lines. Each test is linear: no pattern here backtracks over the line.
 */
const looseAttributionVerb =
  /\s(wrote|schrieb|écrit|escribió|schreef|escreveu|scritto|skrev|kirjoitti|napisał|napisała|pisze|написал|написала|写道)\s?:$/iu;
const looseAttribution = (header: string): boolean =>
  looseAttributionVerb.test(header) || /@[^\s@]+:$/.test(header) || /\d{1,2}:\d{2}/.test(header);

const separators =
  /^-{2,}\s*(original message|ursprüngliche nachricht|message d'origine|mensaje original|oorspronkelijk bericht|mensagem original|messaggio originale|forwarded message|weitergeleitete nachricht|message transféré|mensaje reenviado|doorgestuurd bericht|mensagem encaminhada|messaggio inoltrato)\s*-{2,}$/i;
const forwardIntroductions =
  /^(begin forwarded message|anfang der weitergeleiteten nachricht|début du message réexpédié|inicio del mensaje reenviado|begin doorgestuurd bericht|início da mensagem reencaminhada|inizio messaggio inoltrato)\s?:$/i;
const headerFrom = /^\*?(from|von|de|van|da)\s?:\*?\s*\S/i;
const headerFollowing =
  /^\*?(sent|date|gesendet|datum|envoyé|enviado|enviada|verzonden|inviato|data|subject|betreff|objet|asunto|onderwerp|assunto|oggetto)\s?:/i;
const outlookRule = /^_{20,}$/;

const signatureLines: RegExp[] = [
  /^--\s?$/,
  /^_{20,}$/,
  /^sent from my\s.{1,60}$/i,
  /^sent from (outlook|mail|yahoo mail|gmail|aol|proton ?mail)(\s.{0,60})?$/i,
  /^get outlook for\s.{1,60}$/i,
  /^(outlook für .{1,30} herunterladen|télécharger outlook pour|obtener outlook para|outlook voor .{1,30} downloaden).{0,60}$/i,
  /^(von meinem|gesendet von meinem|gesendet mit)\s.{1,60}$/i,
  /^envoyé (de mon|depuis mon|depuis|à partir de mon)\s.{1,60}$/i,
  /^enviado (desde mi|desde|do meu|a partir do meu)\s.{1,60}$/i,
  /^(verzonden|verstuurd) (met|vanaf|van) .{1,60}$/i,
  /^inviato (da|dal mio|dal)\s.{1,60}$/i,
];

/** Sign-offs: with only a few short lines (a name, a phone number) after them, they start the signature. */
const valediction =
  /^((kind|best|warm|warmest|many thanks and|with kind|with best) regards|regards|best|best wishes|all the best|cheers|sincerely|yours (sincerely|faithfully|truly)|mit freundlichen grüßen|freundliche grüße|viele grüße|beste grüße|liebe grüße|mfg|lg|(bien )?cordialement|bien à vous|(meilleures )?salutations|(un )?saludos?( cordiales)?|atentamente|met vriendelijke groet(en)?|vriendelijke groet(en)?|groeten|mvg|atenciosamente|cumprimentos|(cordiali |distinti )?saluti)[,.!]?$/iu;
const SIGNATURE_MAX_LINES = 4;
const SIGNATURE_LINE_CHARS = 60;

/** The attribution header that starts at `lines[index]`, wrapped over up to three lines: how many lines it takes. */
const headerLength = (lines: string[], index: number, loose: boolean): number => {
  let joined = '';
  for (let length = 1; length <= 3 && index + length <= lines.length; length++) {
    const line = (lines[index + length - 1] ?? '').trim();
    if (line === '') return 0;
    joined = length === 1 ? line : `${joined} ${line}`;
    if (joined.length > HEADER_MAX_CHARS) return 0;
    if (!joined.endsWith(':')) continue;
    const collapsed = joined.replace(/\s+/g, ' ');
    if (attributionHeaders.some((header) => header.test(collapsed))) return length;
    if (loose && looseAttribution(collapsed)) return length;
  }
  return 0;
};

/** The next line after `index` that is not blank, within a couple of lines. */
const nextTextLine = (lines: string[], index: number): string | undefined => {
  for (let next = index; next < lines.length && next <= index + 2; next++) {
    const line = lines[next] ?? '';
    if (!blank(line)) return line;
  }
  return undefined;
};

/** Where history starts that runs to the end of the mail, whatever follows it. */
const isHistoryStart = (lines: string[], index: number): boolean => {
  const line = (lines[index] ?? '').trim();
  if (line.length > HEADER_MAX_CHARS) return false;
  if (separators.test(line) || forwardIntroductions.test(line)) return true;
  if (outlookRule.test(line)) {
    const next = nextTextLine(lines, index + 1);
    return next !== undefined && headerFrom.test(next.trim());
  }
  if (headerFrom.test(line)) {
    for (let next = index + 1; next < lines.length && next <= index + 5; next++) {
      if (headerFollowing.test((lines[next] ?? '').trim())) return true;
    }
  }
  return false;
};

/**
 * Pass 1: the lines that are not quoted history, as one text. Blank lines where history was are kept, to be
 * collapsed later.
 */
export const splitQuotedHistory = (text: string): string => {
  const lines = text.split('\n');
  const kept: string[] = [];
  let index = 0;
  while (index < lines.length) {
    const line = lines[index] ?? '';
    if (quotedLine.test(line)) {
      index++;
      continue;
    }
    if (isHistoryStart(lines, index)) break;
    const known = headerLength(lines, index, false);
    const header = known || headerLength(lines, index, true);
    if (header > 0) {
      const after = nextTextLine(lines, index + header);
      if (after !== undefined && quotedLine.test(after)) {
        index += header;
        continue;
      }
      // A known attribution with no `>` after it (mail turned from HTML, clients that do not quote): the rest is
      // history. An unknown one counts only right above a quote.
      if (known > 0) break;
    }
    kept.push(line);
    index++;
  }
  return kept.join('\n');
};

/** A sign-off at `index` with no more than a short signature block after it. */
const isSignOff = (lines: string[], index: number): boolean => {
  if (!valediction.test((lines[index] ?? '').trim())) return false;
  let after = 0;
  for (let next = index + 1; next < lines.length; next++) {
    const line = (lines[next] ?? '').trim();
    if (line === '') continue;
    if (++after > SIGNATURE_MAX_LINES || line.length > SIGNATURE_LINE_CHARS) return false;
  }
  return true;
};

/**
 * Pass 3: cuts at the first signature line (`-- `, a "Sent from my …" line), or at a sign-off under some text with
 * only a short block after it. A new text of only a signature line is no text.
 */
export const cutSignature = (text: string): string => {
  const lines = text.split('\n');
  let textAbove = false;
  const at = lines.findIndex((line, index) => {
    const trimmed = line.trim();
    if (trimmed.length > 80) {
      textAbove = true;
      return false;
    }
    // A sign-off with nothing above it is the whole message ("Regards" alone), not a signature.
    const cut = signatureLines.some((signature) => signature.test(trimmed)) || (textAbove && isSignOff(lines, index));
    if (trimmed !== '') textAbove = true;
    return cut;
  });
  return at === -1 ? text : lines.slice(0, at).join('\n');
};

const placeholder = (index: number) => `\ufdd1${index}\ufdd1`;
const placeholders = /\ufdd1(\d+)\ufdd1/g;
const defused = '\ufdd0';
/**
 * Lines that start the reply parser's patterns with an unbounded `[\s\S]+` (Dutch "Op", Polish "W dniu"/"Dnia",
 * Chinese "在", Danish "man."): each can scan to the end of the text and back for every such line. A mark before
 * them keeps those patterns from starting there; pass 1 has already found the headers that matter.
 */
const unboundedStarts = /^\s*(Op\s|W\sdniu|Dnia\s|在|[a-z]{3,4}\.\s)/u;

/** Pass 2: email-reply-parser's visible text, on a copy it cannot spend long on. */
const parseVisibleText = (text: string): string | undefined => {
  if (text.length > REPLY_PARSER_MAX_CHARS) return undefined;
  const long: string[] = [];
  const guarded = text
    .split('\n')
    .map((line) => {
      if (line.length > PARSER_MAX_LINE) {
        long.push(line);
        return placeholder(long.length - 1);
      }
      return unboundedStarts.test(line) ? defused + line : line;
    })
    .join('\n');
  const visible = parser.parseReply(guarded);
  return visible.replaceAll(defused, '').replace(placeholders, (match, index: string) => long[Number(index)] ?? match);
};

/** Trailing spaces off every line, at most one blank line in a row, no blank lines at either end. */
export const tidyText = (text: string): string =>
  text
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();

/** The customer's new text: `text` (LF line ends) without quoted history or signature. */
export const trimReply = (text: string): string => {
  const unquoted = tidyText(splitQuotedHistory(text));
  if (unquoted === '') return '';
  const parsed = parseVisibleText(unquoted);
  const trimmed = tidyText(cutSignature(parsed ?? unquoted));
  if (trimmed !== '') return trimmed;
  // The parser hid all of it, taking the customer's text for history or a signature: pass 1 knows better.
  return tidyText(cutSignature(unquoted));
};

/** The first line of `reply` that has text, trimmed: what the inbound rules read. */
export const firstLineOf = (reply: string): string =>
  reply
    .split('\n')
    .find((line) => line.trim() !== '')
    // One line for the rules and the logs: a tab inside it is a space.
    ?.replace(/\s+/g, ' ')
    .trim() ?? '';
