/**
 * The email channel's parser: a received mail's raw MIME (as SES stores it in S3) becomes the fields Parley keeps
 * and acts on (DESIGN section 12). Pure: no AWS, no I/O, the same answer for the same bytes.
 *
 * postal-mime does the MIME work (charsets, transfer encodings, multipart, encoded words); what comes out is then
 * made safe to store and to hand on. Every text is well-formed Unicode without NUL or other control characters, with
 * LF line ends; one-line fields (subject, names, file names) have no line break at all, so no header can be
 * injected through them into a reply; ids have no brackets, spaces or controls. The kept text is capped at
 * `MAX_TEXT_BYTES`: a reply is read for its opening lines, and the raw mail stays in S3 for anything more.
 */
import PostalMime, { type Address, type Email } from 'postal-mime';
import type { IgnoredReason } from '../../domain/model.ts';
import { cutText, sanitiseInboundText } from '../../domain/text.ts';
import { htmlToText } from './html-to-text.ts';
import {
  type AutomaticReason,
  automaticReason,
  type SesReceiptVerdicts,
  type UnsafeReason,
  unsafeReasons,
} from './mail-classification.ts';
import { firstLineOf, trimReply } from './reply-trimmer.ts';

export type { AutomaticReason, SesReceiptVerdicts, SesVerdictStatus, UnsafeReason } from './mail-classification.ts';

/** The most of the raw mail that is parsed: SES accepts no inbound message over 40 MB. */
export const MAX_RAW_BYTES = 40 * 1024 * 1024;
/** The most of the full text that is kept, in UTF-8 bytes (the reply is part of it, so never longer). */
export const MAX_TEXT_BYTES = 256 * 1024;
/** The most of an HTML-only body that is turned into text: far more than `MAX_TEXT_BYTES` of text needs. */
export const MAX_HTML_CHARS = 2 * 1024 * 1024;
const MAX_SUBJECT_CHARS = 998;
const MAX_NAME_CHARS = 256;
const MAX_ADDRESS_CHARS = 320;
const MAX_ID_CHARS = 998;
const MAX_REFERENCES = 50;
const MAX_RECIPIENTS = 100;
const MAX_ATTACHMENTS = 100;

export interface EmailAddress {
  /** Lower-cased. */
  address: string;
  /** The display name, one line; absent when the header gave none. */
  name?: string;
}

export interface AttachmentSummary {
  /** The decoded file name, one line; absent when the part named none. */
  filename?: string;
  /** Lower case, as `image/png`. */
  mimeType: string;
  /** Decoded size in bytes. */
  size: number;
  /** Shown in the body (an inline image referenced by the HTML) rather than attached. */
  inline: boolean;
}

export interface ParsedEmail {
  /** The `Message-ID` header without angle brackets; absent when the mail has none (or it is unusable). */
  messageId?: string;
  /** `In-Reply-To`: the ids of the mails it answers, without brackets. */
  inReplyTo: string[];
  /** `References`: the thread's ids, oldest first, without brackets (the last `MAX_REFERENCES` of a long thread). */
  references: string[];
  /** The sender's address, lower-cased; absent when `From` holds no usable address. */
  from?: string;
  /** The sender's display name, one line. */
  fromName?: string;
  to: EmailAddress[];
  cc: EmailAddress[];
  /** One line; empty when the mail has none. */
  subject: string;
  /** The `Date` header as ISO 8601; absent when missing or not a date. */
  date?: string;
  /** The whole text: the text part, or the HTML part turned into text. LF line ends, at most `MAX_TEXT_BYTES`. */
  text: string;
  /** True when `text` was cut to `MAX_TEXT_BYTES`. */
  textTruncated: boolean;
  /** The customer's new text, without quoted history or signature; empty only when the mail has no new text. */
  reply: string;
  /** The first line of `reply` with text, trimmed: what the inbound rules read. */
  firstLine: string;
  /** What is attached (no content), at most `MAX_ATTACHMENTS`. */
  attachments: AttachmentSummary[];
  /** Why the mail is automatic (out-of-office, delivery report, bulk): it is never acted on or answered. */
  automatic?: AutomaticReason;
  /** SES's FAIL verdicts, most serious first: such a mail is never acted on. */
  unsafe: UnsafeReason[];
  /** The one reason this mail may not be acted on, as the inbound pipeline flags it; absent when it may be. */
  untrusted?: Extract<IgnoredReason, UnsafeReason | 'automatic'>;
}

/** Mail that cannot be parsed at all (over `MAX_RAW_BYTES`, or MIME beyond the parser's limits). */
export class UnparseableEmailError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UnparseableEmailError';
  }
}

/** Line separators of every kind become LF; NEL goes before the control characters it would otherwise be. */
const normaliseLineEnds = (text: string): string => text.replace(/\r\n?|[\u0085\u2028\u2029]/g, '\n');

/**
 * Multi-line text made safe to keep: LF line ends, no controls but TAB and LF, no lone surrogate, no byte order
 * mark, no Unicode noncharacters (never part of interchanged text; the reply trimmer uses some as markers).
 */
const cleanText = (text: string): string =>
  sanitiseInboundText(normaliseLineEnds(text))
    .replace(/[\ufdd0-\ufdef\ufffe\uffff]/g, '')
    .replace(/^\ufeff/, '');

/**
 * `cutText` on a window: Intl.Segmenter slows sharply on long strings (50 KB of emoji took over a second), so only
 * the text around the cut is segmented. Grapheme clusters are a few code units long, so 64 either side is plenty.
 */
const cutNear = (text: string, maxChars: number): string => {
  if (text.length <= maxChars) return text;
  const start = Math.max(0, maxChars - 64);
  return text.slice(0, start) + cutText(text.slice(start, maxChars + 64), maxChars - start, '');
};

/** One line: every break, tab and control becomes a space, spaces collapse, ends trimmed, cut on whole characters. */
const oneLine = (text: string, maxChars: number): string =>
  cutNear(
    sanitiseInboundText(text.slice(0, maxChars * 4).replace(/[\t\n\r\u0085\u2028\u2029]/g, ' '))
      .replace(/\s+/g, ' ')
      .trim(),
    maxChars,
  ).trim();

/** The longest prefix of `text` within `maxBytes` of UTF-8, ending on a whole character. */
const cutUtf8 = (text: string, maxBytes: number): string => {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  let bytes = 0;
  let end = 0;
  for (const codePoint of text) {
    const size = Buffer.byteLength(codePoint, 'utf8');
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += codePoint.length;
  }
  return cutNear(text, end);
};

const addressShape = /^[^\s@<>()[\]",;:\\\p{Cc}]+@[^\s@<>()[\]",;:\\\p{Cc}]+$/u;

/** A usable address, lower-cased, or undefined. */
const cleanAddress = (address: string | undefined): string | undefined => {
  const lowered = address?.trim().toLowerCase();
  return lowered && lowered.length <= MAX_ADDRESS_CHARS && addressShape.test(lowered) ? lowered : undefined;
};

const mailboxes = (addresses: Address[] | undefined): EmailAddress[] => {
  const found: EmailAddress[] = [];
  for (const entry of addresses ?? []) {
    for (const mailbox of entry.group ?? [entry]) {
      const address = cleanAddress(mailbox.address);
      if (!address || found.length >= MAX_RECIPIENTS) continue;
      const name = oneLine(mailbox.name ?? '', MAX_NAME_CHARS);
      found.push(name ? { address, name } : { address });
    }
  }
  return found;
};

const idShape = /^[^\s<>\p{Cc}\p{Cs}]+$/u;

/** The ids in a `Message-ID`, `In-Reply-To` or `References` value: `<…>` tokens, else bare words. */
const messageIds = (value: string | undefined): string[] => {
  if (!value) return [];
  const bracketed = [...value.matchAll(/<([^<>]*)>/g)].map((match) => (match[1] ?? '').trim());
  const ids = bracketed.length > 0 ? bracketed : value.split(/\s+/);
  const unique = new Set<string>();
  for (const id of ids) {
    if (id.length > 0 && id.length <= MAX_ID_CHARS && idShape.test(id)) unique.add(id);
  }
  return [...unique];
};

const headerValue = (email: Email, key: string): string | undefined =>
  email.headers.find((header) => header.key === key)?.value;

const isoDate = (value: string | undefined): string | undefined => {
  if (!value) return undefined;
  const time = Date.parse(value);
  return Number.isNaN(time) ? undefined : new Date(time).toISOString();
};

/** The mail's text: its text part, or its HTML part as text when it has no text part with anything in it. */
const bodyText = (email: Email): { text: string; truncated: boolean } => {
  let source = email.text ?? '';
  let truncated = false;
  if (source.trim() === '' && email.html) {
    truncated = email.html.length > MAX_HTML_CHARS;
    source = htmlToText(truncated ? email.html.slice(0, MAX_HTML_CHARS) : email.html);
  }
  // Bound the cleaning work before the exact cut: a UTF-8 byte is at least a code unit's worth of text.
  if (source.length > MAX_TEXT_BYTES * 2) {
    source = source.slice(0, MAX_TEXT_BYTES * 2);
    truncated = true;
  }
  const clean = cleanText(source).trimEnd();
  const text = cutUtf8(clean, MAX_TEXT_BYTES);
  return { text, truncated: truncated || text.length < clean.length };
};

const byteSize = (content: Email['attachments'][number]['content']): number =>
  typeof content === 'string' ? Buffer.byteLength(content, 'utf8') : content.byteLength;

const attachmentSummaries = (email: Email): AttachmentSummary[] =>
  email.attachments.slice(0, MAX_ATTACHMENTS).map((attachment) => {
    const filename = oneLine(attachment.filename ?? '', MAX_NAME_CHARS);
    return {
      ...(filename && { filename }),
      mimeType: oneLine(attachment.mimeType, 127).toLowerCase() || 'application/octet-stream',
      size: byteSize(attachment.content),
      inline: attachment.disposition === 'inline' || attachment.related === true,
    };
  });

/**
 * Parses a received mail. `receipt` is SES's receipt object from the inbound notification, when there is one: its
 * spam, virus and DMARC verdicts decide `unsafe`.
 *
 * @throws UnparseableEmailError when the mail is over `MAX_RAW_BYTES` or its MIME breaks the parser's limits.
 */
export const parseInboundEmail = async (
  raw: Uint8Array | string,
  receipt?: SesReceiptVerdicts,
): Promise<ParsedEmail> => {
  const size = typeof raw === 'string' ? Buffer.byteLength(raw, 'utf8') : raw.byteLength;
  if (size > MAX_RAW_BYTES) throw new UnparseableEmailError(`the mail has ${size} bytes, over ${MAX_RAW_BYTES}`);
  let email: Email;
  try {
    // A forwarded mail attached as message/rfc822 stays an attachment: its text is not the customer's.
    email = await PostalMime.parse(raw, { attachmentEncoding: 'arraybuffer', rfc822Attachments: true });
  } catch (error) {
    throw new UnparseableEmailError('the mail could not be parsed as MIME', { cause: error });
  }

  const sender = email.from && !email.from.group ? email.from : undefined;
  const from = cleanAddress(sender?.address);
  const fromName = oneLine(sender?.name ?? '', MAX_NAME_CHARS);
  const subject = oneLine(email.subject ?? '', MAX_SUBJECT_CHARS);
  const { text, truncated } = bodyText(email);
  const reply = trimReply(text);
  const attachments = attachmentSummaries(email);
  const messageId = messageIds(headerValue(email, 'message-id'))[0];
  const date = isoDate(email.date);

  const automatic = automaticReason({
    headers: email.headers,
    from,
    subject,
    reply,
    partTypes: email.attachments.map((attachment) => attachment.mimeType.toLowerCase()),
  });
  const unsafe = unsafeReasons(receipt);
  const untrusted = unsafe[0] ?? (automatic ? 'automatic' : undefined);

  return {
    ...(messageId && { messageId }),
    inReplyTo: messageIds(headerValue(email, 'in-reply-to')),
    references: messageIds(headerValue(email, 'references')).slice(-MAX_REFERENCES),
    ...(from && { from }),
    ...(fromName && { fromName }),
    to: mailboxes(email.to),
    cc: mailboxes(email.cc),
    subject,
    ...(date && { date }),
    text,
    textTruncated: truncated,
    reply,
    firstLine: firstLineOf(reply),
    attachments,
    ...(automatic && { automatic }),
    unsafe,
    ...(untrusted && { untrusted }),
  };
};
