/**
 * The MIME message of an outbound email (RFC 5322, RFC 2045-2047), built with nodemailer's MIME node: SES
 * `SendRawEmail` takes it whole, so Parley can set the headers `SendEmail` cannot (`List-Unsubscribe`,
 * `List-Unsubscribe-Post`, `In-Reply-To`, `References`). SES replaces `Message-ID` and `Date` with its own.
 */
import type { EmailSender } from '../../domain/ports.ts';
import { hasControlCharacters, replySubjectOf } from '../../domain/text.ts';
import { loadOnFirstUse } from '../../lazy-packages.ts';

export type OutboundEmail = Parameters<EmailSender['sendEmail']>[0];

/** A header value Parley refuses to write: one that holds a line break or another control character. */
export class UnsafeHeaderError extends Error {
  constructor(readonly header: string) {
    super(`The ${header} header would hold a line break or another control character`);
    this.name = 'UnsafeHeaderError';
  }
}

/**
 * A header value as given, or refused. The MIME node folds long values and encodes non-ASCII text (RFC 2047) itself,
 * and would turn a CR or LF into a space; refusing here means a value is never silently changed into another one.
 */
const headerValue = (header: string, value: string): string => {
  if (hasControlCharacters(value, { oneLine: true })) throw new UnsafeHeaderError(header);
  return value;
};

/** A `msg-id` without its angle brackets, or undefined when it could not stand in a header as one id. */
const messageIdOf = (id: string): string | undefined => {
  const bare = id.trim().replace(/^<(.*)>$/, '$1');
  return /^[\x21-\x3b\x3d\x3f-\x7e]+$/.test(bare) ? bare : undefined;
};

/** At most this many ids in `References`: the newest ones, as mail clients trim a long thread. */
const maxReferences = 20;

/** `List-Unsubscribe` (RFC 2369): the mailto, then the one-click URL; undefined when there is neither. */
const listUnsubscribe = (links: OutboundEmail['unsubscribe']): string | undefined => {
  const targets = [links?.mailto && `mailto:${links.mailto}`, links?.url].filter((t): t is string => Boolean(t));
  return targets.length === 0 ? undefined : targets.map((target) => `<${target}>`).join(', ');
};

/** The whole message, ready for `SendRawEmail`: headers, then the text part, or text and HTML as alternatives. */
export const buildOutboundEmail = async (email: OutboundEmail): Promise<Buffer> => {
  const html = email.html;
  // nodemailer loads on the first email, not at init (functions/lazy-packages.ts).
  const MimeNode = loadOnFirstUse('nodemailer/lib/mime-node').default;
  const root = new MimeNode(html === undefined ? 'text/plain; charset=utf-8' : 'multipart/alternative');
  const thread = email.thread && messageIdOf(email.thread.inReplyTo);
  const subject = email.thread ? replySubjectOf(email.subject) : email.subject;

  root.setHeader('From', headerValue('From', email.from));
  root.setHeader('To', headerValue('To', email.to));
  root.setHeader('Reply-To', headerValue('Reply-To', email.replyTo));
  root.setHeader('Subject', headerValue('Subject', subject));
  if (thread !== undefined) {
    const references = (email.thread?.references ?? [])
      .map(messageIdOf)
      .filter((id): id is string => id !== undefined && id !== thread);
    root.setHeader('In-Reply-To', `<${thread}>`);
    root.setHeader(
      'References',
      [...references, thread].slice(-maxReferences).map((id) => `<${id}>`),
    );
  }
  const unsubscribe = listUnsubscribe(email.unsubscribe);
  if (unsubscribe !== undefined) {
    root.setHeader('List-Unsubscribe', headerValue('List-Unsubscribe', unsubscribe));
    // RFC 8058: one-click needs the HTTPS target; the header tells the mail client to POST rather than open it.
    if (email.unsubscribe?.url) root.setHeader('List-Unsubscribe-Post', 'List-Unsubscribe=One-Click');
  }

  if (html === undefined) {
    root.setContent(email.text);
  } else {
    root.createChild('text/plain; charset=utf-8').setContent(email.text);
    root.createChild('text/html; charset=utf-8').setContent(html);
  }
  return root.build();
};
