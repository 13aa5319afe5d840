/**
 * `POST /_local/email/inbound` (DESIGN.md §3, §12): a customer's email reply, taken raw or built as their mail
 * client would build it, and the notification SES's receipt rule publishes once its S3 action has stored the mail.
 * The local gateway stores the mail in the emulated bucket and hands the notification to `inbound-email`.
 */
import { randomBytes } from 'node:crypto';
import * as z from 'zod/mini';
import { emailSchema } from '../functions/domain/content-schemas.ts';
import { multiLineText, oneLineText } from '../functions/domain/schemas.ts';
import { isWellFormedText, WELL_FORMED_MESSAGE } from '../functions/domain/text.ts';
import type { AwsEdges, OutboxEntry } from './edges/aws-edges.ts';
import { addressKey } from './edges/faults.ts';
import {
  addressesIn,
  buildReplyMime,
  builtBodyHeaders,
  headerValue,
  type MailHeader,
  readHeaders,
} from './reply-mime.ts';

/** SES receives messages of up to 40 MB, headers and encoded attachments included. */
export const maxReceivedMailBytes = 40 * 1024 * 1024;
/**
 * The JSON body the route reads: a raw mail of about 7 MB once JSON-escaped (a 5 MB attachment in base64 with room
 * to spare). Larger mail, up to SES's 40 MB, is rehearsed by storing it in the bucket and notifying by hand.
 */
export const maxInboundEmailBodyBytes = 10 * 1024 * 1024;
/** Where the receipt rule's S3 action puts each mail (`objectKeyPrefix` in lib/inbound-email.ts). */
export const inboundObjectKeyPrefix = 'inbound/';

const verdictStatus = z.enum(['PASS', 'FAIL', 'GRAY', 'PROCESSING_FAILED', 'DISABLED']);
const verdictsSchema = z.strictObject({
  spam: z.optional(verdictStatus),
  virus: z.optional(verdictStatus),
  spf: z.optional(verdictStatus),
  dkim: z.optional(verdictStatus),
  dmarc: z.optional(verdictStatus),
});
export type Verdicts = Required<z.infer<typeof verdictsSchema>>;

/** `ana@example.com` or `Ana Lima <ana@example.com>`. */
const mailboxSchema = oneLineText(320).check(
  z.refine((value) => emailSchema.safeParse(addressKey(value)).success, 'must be an email address'),
);
const messageIdSchema = oneLineText(998).check(
  z.regex(/^<?[^<>\s]+@[^<>\s]+>?$/, 'must be a Message-ID such as <id@example.com>'),
);
const headerName = z.string().check(z.regex(/^[!-9;-~]{1,76}$/, 'must be a header name such as Auto-Submitted'));

const rawSchema = z.strictObject({
  raw: z.string().check(z.minLength(1), z.refine(isWellFormedText, { error: WELL_FORMED_MESSAGE, abort: true })),
  verdicts: z.optional(verdictsSchema),
});

const simpleSchema = z.strictObject({
  from: mailboxSchema,
  to: z.optional(mailboxSchema),
  subject: z.optional(oneLineText(998, 0)),
  text: multiLineText(maxInboundEmailBodyBytes, 0),
  inReplyTo: z.optional(messageIdSchema),
  headers: z.optional(
    z.record(headerName, oneLineText(998, 0)).check(
      z.refine((headers) => Object.keys(headers).length <= 100, 'at most 100 headers'),
      z.refine(
        (headers) => !Object.keys(headers).some((name) => builtBodyHeaders.includes(name.toLowerCase())),
        'MIME-Version, Content-Type and Content-Transfer-Encoding describe the body built here: post {"raw"} for another structure',
      ),
    ),
  ),
  verdicts: z.optional(verdictsSchema),
});

export type PreparedEmail =
  | {
      ok: true;
      raw: Buffer;
      /** The envelope recipients at the reply domain: what the receipt rule matched. */
      recipients: string[];
      /** The envelope sender. */
      source: string;
      headers: MailHeader[];
      verdicts: Verdicts;
      /** The id the inbound pipeline dedupes on: the mail's Message-ID, else SES's id (filled in by the caller). */
      messageId?: string;
      /** What the customer wrote, for the local console's email thread. */
      summary: { from: string; to: string; subject: string; body: string };
    }
  | { ok: false; status: 400 | 413; message: string; details?: { path: string; message: string }[] };

const sesDomain = 'email.amazonses.com';

/** The `Message-ID` SES gave an email it sent: `<providerMessageId@email.amazonses.com>`. */
export const sesMessageIdHeader = (providerMessageId: string) => `<${providerMessageId}@${sesDomain}>`;

/** Headers as the outbox records them, once outbound email carries them (SendRawEmail). */
const headersOf = (entry: OutboxEntry): Record<string, string> =>
  ((entry as { headers?: Record<string, string> }).headers ?? {}) as Record<string, string>;

const headerOf = (entry: OutboxEntry, name: string): string | undefined =>
  Object.entries(headersOf(entry)).find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];

const idOf = (messageId: string) => (/<([^<>]*)>/.exec(messageId)?.[1] ?? messageId).trim();

/** The email Parley sent that a reply answers: the one named by In-Reply-To, else the last one sent to the customer. */
const originalFor = (edges: AwsEdges, customer: string, inReplyTo: string | undefined): OutboxEntry | undefined => {
  const sent = edges.outbox.list({ to: customer }).filter((entry) => entry.channel === 'email');
  if (inReplyTo !== undefined) {
    const id = idOf(inReplyTo).toLowerCase();
    const named = sent.find(
      (entry) =>
        idOf(sesMessageIdHeader(entry.providerMessageId)).toLowerCase() === id ||
        idOf(headerOf(entry, 'Message-ID') ?? '').toLowerCase() === id,
    );
    if (named) return named;
  }
  return sent.at(-1);
};

const replyAddressOf = (entry: OutboxEntry): string => headerOf(entry, 'Reply-To') ?? entry.replyTo?.[0] ?? entry.from;

const issuesOf = (error: z.core.$ZodError) =>
  error.issues.map((issue) => ({ path: issue.path.join('.') || '(root)', message: issue.message }));

/** SES's ids of received mail: 40 lower-case letters and digits. */
export const newSesMessageId = (): string => {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(40)].map((byte) => alphabet[byte % alphabet.length]).join('');
};

/**
 * Reads a `POST /_local/email/inbound` body into the mail to store and what the receipt says of it, or a 400/413
 * with the reason. The simple form is built into MIME as a mail client's Reply would: to the Reply-To of the last
 * email Parley sent that address, In-Reply-To its Message-ID, the original quoted below.
 */
export const prepareInboundEmail = (
  body: unknown,
  context: { edges: AwsEdges; replyDomain: string; now: Date },
): PreparedEmail => {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return {
      ok: false,
      status: 400,
      message:
        'Give {"raw": "<RFC 5322 message>"} or {"from", "text"} (and optionally "to", "subject", "inReplyTo", "headers"), each with "verdicts"?',
    };
  }
  let raw: Buffer;
  let verdicts: z.infer<typeof verdictsSchema> | undefined;
  let summary: Omit<Extract<PreparedEmail, { ok: true }>['summary'], 'to'> | undefined;
  let envelopeTo: string | undefined;
  if ('raw' in body) {
    const parsed = rawSchema.safeParse(body);
    if (!parsed.success) {
      return {
        ok: false,
        status: 400,
        message: 'Give {"raw": "<RFC 5322 message>", "verdicts"?: {"spam", "virus", "spf", "dkim", "dmarc"}}',
        details: issuesOf(parsed.error),
      };
    }
    // SMTP carries lines ending in CRLF, and SES stores the message so: a bare LF is what a mail client would fix.
    raw = Buffer.from(parsed.data.raw.replace(/\r?\n/g, '\r\n'), 'utf8');
    verdicts = parsed.data.verdicts;
  } else {
    const parsed = simpleSchema.safeParse(body);
    if (!parsed.success) {
      return {
        ok: false,
        status: 400,
        message:
          'Give {"from": "ana@example.com", "text": "..."} and optionally "to", "subject", "inReplyTo", "headers", ' +
          '"verdicts", or {"raw": "<RFC 5322 message>"}',
        details: issuesOf(parsed.error),
      };
    }
    const input = parsed.data;
    const from = addressKey(input.from);
    const original = originalFor(context.edges, from, input.inReplyTo);
    const to = input.to ?? (original && replyAddressOf(original));
    if (to === undefined) {
      return {
        ok: false,
        status: 400,
        message: `Parley has sent no email to ${from} yet, so there is no reply address to answer: give "to"`,
        details: [{ path: 'to', message: 'required when no email was sent to "from"' }],
      };
    }
    const subject =
      input.subject ??
      (original?.subject !== undefined ? `Re: ${original.subject.replace(/^re:\s*/i, '')}` : undefined);
    if (subject === undefined) {
      return {
        ok: false,
        status: 400,
        message: 'Give "subject": there is no email of Parley\'s to answer, so no "Re:" subject to take',
        details: [{ path: 'subject', message: 'required when no email was sent to "from"' }],
      };
    }
    const inReplyTo = input.inReplyTo
      ? `<${idOf(input.inReplyTo)}>`
      : original && sesMessageIdHeader(original.providerMessageId);
    const references = [
      ...(original ? addressesOrIds(headerOf(original, 'References')) : []),
      ...(inReplyTo ? [inReplyTo] : []),
    ];
    const domain = from.slice(from.lastIndexOf('@') + 1);
    raw = Buffer.from(
      buildReplyMime({
        from: input.from,
        to,
        subject,
        text: input.text,
        messageId: `<${randomBytes(12).toString('hex')}@${domain}>`,
        date: context.now,
        ...(inReplyTo && { inReplyTo }),
        ...(references.length > 0 && { references: [...new Set(references)].slice(-20) }),
        ...(original && {
          quote: { from: original.from, at: new Date(original.at), text: original.body },
        }),
        ...(input.headers && { headers: input.headers }),
      }),
      'utf8',
    );
    verdicts = input.verdicts;
    summary = { from, subject, body: input.text };
    envelopeTo = addressKey(to);
  }

  if (raw.length > maxReceivedMailBytes) {
    return { ok: false, status: 413, message: `SES receives mail of at most ${maxReceivedMailBytes} bytes` };
  }
  const headers = readHeaders(raw);
  if (!headers) {
    return {
      ok: false,
      status: 400,
      message:
        '"raw" is not an RFC 5322 message: it must start with header lines ("From: ..."), then an empty line, then the body',
      details: [{ path: 'raw', message: 'no header section' }],
    };
  }
  const domain = context.replyDomain.toLowerCase();
  const addressed = envelopeTo
    ? [envelopeTo]
    : [...addressesIn(headerValue(headers, 'To')), ...addressesIn(headerValue(headers, 'Cc'))];
  // SMTP takes no address over 320 characters (RFC 5321), so SES never names one.
  const recipients = [...new Set(addressed)].filter(
    (address) => address.endsWith(`@${domain}`) && address.length <= 320,
  );
  if (recipients.length === 0) {
    return {
      ok: false,
      status: 400,
      message: `The mail is addressed to no one at the reply domain ${domain}, so SES would not receive it: answer an email's Reply-To (reply+<token>@${domain})`,
      details: [{ path: envelopeTo ? 'to' : 'raw', message: `no recipient at ${domain}` }],
    };
  }
  if (recipients.length > 100) {
    return { ok: false, status: 400, message: 'SES takes at most 100 recipients of one message' };
  }
  const from = addressesIn(headerValue(headers, 'From'))[0] ?? summary?.from ?? '';
  // As the MIME parser reads it: the id in angle brackets, or none.
  const messageId = /<([^<>\s]{1,998})>/.exec(headerValue(headers, 'Message-ID') ?? '')?.[1];
  return {
    ok: true,
    raw,
    recipients,
    source: addressesIn(headerValue(headers, 'Return-Path'))[0] ?? from,
    headers,
    verdicts: {
      spam: verdicts?.spam ?? 'PASS',
      virus: verdicts?.virus ?? 'PASS',
      spf: verdicts?.spf ?? 'PASS',
      dkim: verdicts?.dkim ?? 'PASS',
      dmarc: verdicts?.dmarc ?? 'PASS',
    },
    ...(messageId && { messageId }),
    summary: summary
      ? { ...summary, to: recipients[0] as string }
      : { from, to: recipients[0] as string, subject: headerValue(headers, 'Subject') ?? '', body: '' },
  };
};

/** The `<id>` tokens of a References header. */
const addressesOrIds = (value: string | undefined): string[] => value?.match(/<[^<>\s]+>/g) ?? [];

/** SES puts the headers in its notification until they reach about 10 KB, and says when it left some out. */
const notifiedHeaders = (headers: MailHeader[]) => {
  const kept: MailHeader[] = [];
  let size = 0;
  for (const header of headers) {
    size += header.name.length + header.value.length + 4;
    if (size > 10 * 1024) return { headers: kept, headersTruncated: true };
    kept.push(header);
  }
  return { headers: kept, headersTruncated: false };
};

/**
 * The SNS `Message` SES publishes when a receipt rule's S3 action has stored a mail (the "Received" notification
 * with an `S3` action): the mail's headers, the envelope, the verdicts, and where the object is.
 */
export const receiptNotification = (input: {
  mail: Extract<PreparedEmail, { ok: true }>;
  sesMessageId: string;
  at: Date;
  bucketName: string;
  objectKey: string;
  topicArn: string;
}): string => {
  const { mail } = input;
  const timestamp = input.at.toISOString();
  const value = (name: string) => headerValue(mail.headers, name);
  const list = (name: string) => (value(name) === undefined ? {} : { [name.toLowerCase()]: [value(name)] });
  const verdict = (status: string) => ({ status });
  return JSON.stringify({
    notificationType: 'Received',
    mail: {
      timestamp,
      source: mail.source,
      messageId: input.sesMessageId,
      destination: mail.recipients,
      ...notifiedHeaders(mail.headers),
      commonHeaders: {
        ...(value('Return-Path') !== undefined && { returnPath: value('Return-Path') }),
        ...list('From'),
        ...(value('Date') !== undefined && { date: value('Date') }),
        ...list('To'),
        ...list('Cc'),
        ...(value('Message-ID') !== undefined && { messageId: value('Message-ID') }),
        ...(value('Subject') !== undefined && { subject: value('Subject') }),
      },
    },
    receipt: {
      timestamp,
      processingTimeMillis: 0,
      recipients: mail.recipients,
      spamVerdict: verdict(mail.verdicts.spam),
      virusVerdict: verdict(mail.verdicts.virus),
      spfVerdict: verdict(mail.verdicts.spf),
      dkimVerdict: verdict(mail.verdicts.dkim),
      dmarcVerdict: verdict(mail.verdicts.dmarc),
      action: {
        type: 'S3',
        topicArn: input.topicArn,
        bucketName: input.bucketName,
        objectKeyPrefix: inboundObjectKeyPrefix,
        objectKey: input.objectKey,
      },
    },
  });
};
