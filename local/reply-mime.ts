// The RFC 5322 message a customer's mail client writes when they answer an email, and a reader for the header
// section of any message: what the local inbound email path needs to stand in for a mail client and for SES.

export interface ReplyMessage {
  /** `ana@example.com` or `Ana Lima <ana@example.com>`. */
  from: string;
  to: string;
  subject: string;
  /** What the customer typed, lines separated by LF or CRLF. */
  text: string;
  /** With angle brackets. */
  messageId: string;
  date: Date;
  /** With angle brackets. */
  inReplyTo?: string;
  references?: string[];
  /** The email answered, quoted below the text as mail clients do. */
  quote?: { from: string; at: Date; text: string };
  /** More headers, or replacements of the ones built here (From, To, Subject, Date, Message-ID, In-Reply-To, ...). */
  headers?: Record<string, string>;
}

/** The headers a caller may not replace: they describe the body built here. */
export const builtBodyHeaders = ['mime-version', 'content-type', 'content-transfer-encoding'];

/** RFC 5322 `Date`: `Mon, 02 Jun 2025 11:05:00 +0000`. */
export const mailDate = (date: Date): string => date.toUTCString().replace(/GMT$/, '+0000');

const isAscii = (text: string) => /^[\x20-\x7e]*$/.test(text);

/**
 * RFC 2047 encoded words (`=?UTF-8?B?...?=`) for a header value that is not plain ASCII, each at most 75 characters
 * and cut between characters, folded onto continuation lines.
 */
const encodedWords = (text: string): string => {
  const words: string[] = [];
  let chunk = '';
  for (const character of text) {
    // 45 bytes make 60 base64 characters: with `=?UTF-8?B?` and `?=` a word stays within 75.
    if (Buffer.byteLength(chunk + character, 'utf8') > 45) {
      words.push(chunk);
      chunk = '';
    }
    chunk += character;
  }
  if (chunk !== '' || words.length === 0) words.push(chunk);
  return words.map((word) => `=?UTF-8?B?${Buffer.from(word, 'utf8').toString('base64')}?=`).join('\r\n ');
};

/** An unstructured header value (Subject, or any header given by the caller) as it may stand in the message. */
const unstructured = (value: string): string => (isAscii(value) && value.length <= 900 ? value : encodedWords(value));

/** A mailbox (`Name <address>` or an address) with its display name quoted or encoded as needed. */
const mailbox = (value: string): string => {
  const named = /^\s*(.*?)\s*<([^<>]+)>\s*$/.exec(value);
  if (!named) return value.trim();
  const [, name = '', address = ''] = named;
  if (name === '') return `<${address}>`;
  const bare = name.replace(/^"(.*)"$/, '$1');
  if (!isAscii(bare)) return `${encodedWords(bare)} <${address}>`;
  return /^[\w !#$%&'*+/=?^`{|}~-]+$/.test(bare)
    ? `${bare} <${address}>`
    : `"${bare.replace(/["\\]/g, '\\$&')}" <${address}>`;
};

/**
 * Quoted-printable (RFC 2045) of UTF-8 text: lines end in CRLF, none is longer than 76 characters (soft breaks end
 * in `=`), and a space or tab ending a line is encoded so no mail server strips it.
 */
export const quotedPrintable = (text: string): string => {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  return lines
    .map((line) => {
      const bytes = Buffer.from(line, 'utf8');
      const tokens: string[] = [];
      bytes.forEach((byte, index) => {
        const last = index === bytes.length - 1;
        const plain = (byte >= 33 && byte <= 126 && byte !== 61) || ((byte === 32 || byte === 9) && !last);
        tokens.push(plain ? String.fromCharCode(byte) : `=${byte.toString(16).toUpperCase().padStart(2, '0')}`);
      });
      const out: string[] = [];
      let current = '';
      for (const token of tokens) {
        if (current.length + token.length > 75) {
          out.push(`${current}=`);
          current = '';
        }
        current += token;
      }
      out.push(current);
      return out.join('\r\n');
    })
    .join('\r\n');
};

/** The attribution line and `> ` lines a mail client puts below a reply. */
const quoted = (quote: NonNullable<ReplyMessage['quote']>): string => {
  const lines = quote.text.replace(/\r\n?/g, '\n').replace(/\n+$/, '').split('\n');
  return [`On ${mailDate(quote.at)}, ${quote.from} wrote:`, ...lines.map((line) => (line ? `> ${line}` : '>'))].join(
    '\n',
  );
};

/** The whole message, CRLF line endings, a single text/plain UTF-8 part in quoted-printable. */
export const buildReplyMime = (message: ReplyMessage): string => {
  const headers = new Map<string, [string, string]>();
  const set = (name: string, value: string) => headers.set(name.toLowerCase(), [name, value]);
  set('From', mailbox(message.from));
  set('To', mailbox(message.to));
  set('Subject', unstructured(message.subject));
  set('Date', mailDate(message.date));
  set('Message-ID', message.messageId);
  if (message.inReplyTo) set('In-Reply-To', message.inReplyTo);
  if (message.references?.length) set('References', message.references.join('\r\n '));
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    const lower = name.toLowerCase();
    set(name, lower === 'from' || lower === 'to' || lower === 'reply-to' ? mailbox(value) : unstructured(value));
  }
  set('MIME-Version', '1.0');
  set('Content-Type', 'text/plain; charset=utf-8');
  set('Content-Transfer-Encoding', 'quoted-printable');
  const body = message.quote ? `${message.text}\n\n${quoted(message.quote)}` : message.text;
  const head = [...headers.values()].map(([name, value]) => `${name}: ${value}`).join('\r\n');
  return `${head}\r\n\r\n${quotedPrintable(body)}\r\n`;
};

export interface MailHeader {
  name: string;
  value: string;
}

/** How much of a message is read for its header section: more than any real one, far less than a message. */
const maxHeaderBytes = 256 * 1024;

/**
 * The header section of a raw message (up to the first empty line), unfolded, in order; values as written (encoded
 * words are left encoded, as SES's notification gives them). Undefined when the message does not start with a header.
 */
export const readHeaders = (raw: Buffer): MailHeader[] | undefined => {
  const text = raw.subarray(0, maxHeaderBytes).toString('latin1');
  const end = /\r?\n\r?\n/.exec(text);
  const section = end ? text.slice(0, end.index) : text;
  const headers: MailHeader[] = [];
  for (const line of section.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && headers.length > 0) {
      const last = headers[headers.length - 1] as MailHeader;
      last.value += ` ${line.trim()}`;
      continue;
    }
    const header = /^([!-9;-~]+):[ \t]*(.*)$/.exec(line);
    if (!header) return headers.length > 0 ? headers : undefined;
    headers.push({ name: header[1] as string, value: (header[2] as string).trim() });
  }
  return headers.length > 0 ? headers : undefined;
};

/** The first header of that name (case-insensitive). */
export const headerValue = (headers: MailHeader[], name: string): string | undefined =>
  headers.find((header) => header.name.toLowerCase() === name.toLowerCase())?.value;

/** The addresses of an address-list header (`Ana <ana@example.com>, "B, C" <b@example.com>`), lower-cased. */
export const addressesIn = (value: string | undefined): string[] => {
  if (!value) return [];
  // Quoted display names may hold commas or an `@`: drop them before picking addresses out.
  const unquoted = value.replace(/"(?:[^"\\]|\\.)*"/g, '').replace(/\((?:[^()\\]|\\.)*\)/g, '');
  const found = unquoted.match(/[^\s<>,;:"()[\]]+@[^\s<>,;:"()[\]]+/g) ?? [];
  return [...new Set(found.map((address) => address.toLowerCase()))];
};
