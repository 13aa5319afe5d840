/**
 * The email channel's `parseInbound` (DESIGN sections 4 and 12): a received mail, as SES's receipt and the MIME
 * parser read it, becomes Parley's channel-neutral inbound message. The tenant and the message answered come from the
 * signed reply token in the recipients; a token that fails its signature counts as none.
 */
import type { InboundMessage } from '../../domain/inbound.ts';
import type { IgnoredReason } from '../../domain/model.ts';
import { verifyReplyToken } from '../../domain/tokens.ts';
import { unsubscribeRecipientOf } from '../../domain/unsubscribe.ts';
import { unsafeReasons } from './mail-classification.ts';
import type { EmailReceipt } from './ses-receipt.ts';

/** What the inbound pipeline needs of a parsed mail (the MIME parser gives more). */
export interface ReceivedMail {
  /** The `Message-ID` header, without angle brackets. */
  messageId?: string;
  inReplyTo: string[];
  references: string[];
  /** The sender's address, lower-cased. */
  from?: string;
  subject: string;
  /** The whole text (HTML-only mail turned into text). */
  text: string;
  /** The customer's new text, without quoted history or signature. */
  reply: string;
  /** The first line of the reply with text: what the rules read. */
  firstLine: string;
  /** Automatic mail (out-of-office, delivery reports, bulk): never acted on. */
  automatic?: string;
}

export type InboundEmail =
  | { ok: true; tenantId: string; inbound: Omit<InboundMessage, 'tenant'> }
  | { ok: false; reason: string };

const replyLocalPart = /^reply\+([a-z0-9._-]+)$/;

/** The first recipient at the reply domain whose token verifies: the tenant and Parley's message it answers. */
export const replyTokenOf = (
  recipients: string[],
  options: { tokenSecret: string; replyDomain: string },
): { tenantId: string; messageId: string; recipient: string } | undefined => {
  const domain = options.replyDomain.toLowerCase();
  for (const recipient of recipients) {
    const at = recipient.lastIndexOf('@');
    if (at < 0 || recipient.slice(at + 1).toLowerCase() !== domain) continue;
    const token = replyLocalPart.exec(recipient.slice(0, at).toLowerCase())?.[1];
    const verified = token === undefined ? undefined : verifyReplyToken(options.tokenSecret, token);
    if (verified) return { ...verified, recipient: recipient.toLowerCase() };
  }
  return undefined;
};

const tenantIdShape = /^[a-z0-9][a-z0-9-]{1,19}$/;

/**
 * The tenant a reply token names when its signature fails (a rotated secret, a mail server that changed the
 * address): a claim only, which the pipeline takes only when the mail answers a prompt sent to its sender.
 */
export const claimedTenantOf = (recipients: string[], replyDomain: string): string | undefined => {
  const domain = replyDomain.toLowerCase();
  for (const recipient of recipients) {
    const at = recipient.lastIndexOf('@');
    if (at < 0 || recipient.slice(at + 1).toLowerCase() !== domain) continue;
    const tenantId = replyLocalPart.exec(recipient.slice(0, at).toLowerCase())?.[1]?.split('.')[0];
    if (tenantId && tenantIdShape.test(tenantId)) return tenantId;
  }
  return undefined;
};

/** SES's own `Message-ID`s (`<id@email.amazonses.com>`, `<id@<region>.amazonses.com>`): the id is its SES message id. */
const sesMessageIdOf = (id: string): string | undefined => /^([^@\s]+)@(?:[a-z0-9-]+\.)*amazonses\.com$/i.exec(id)?.[1];

/** The email Parley sent that a mail answers, by SES's id: `In-Reply-To` first, else the newest in `References`. */
export const answeredSesMessageId = (mail: Pick<ReceivedMail, 'inReplyTo' | 'references'>): string | undefined => {
  for (const id of mail.inReplyTo) {
    const ses = sesMessageIdOf(id);
    if (ses) return ses;
  }
  for (const id of [...mail.references].reverse()) {
    const ses = sesMessageIdOf(id);
    if (ses) return ses;
  }
  return undefined;
};

/** SES's FAIL verdicts (most serious first), then the mail's own signs of being automatic. */
const untrustedReason = (
  receipt: EmailReceipt,
  mail: ReceivedMail,
): Exclude<IgnoredReason, 'own_address' | 'wrong_sender'> | undefined => {
  const { spam, virus, dmarc } = receipt.verdicts;
  const [unsafe] = unsafeReasons({
    spamVerdict: { status: spam },
    virusVerdict: { status: virus },
    dmarcVerdict: { status: dmarc },
  });
  return unsafe ?? (mail.automatic !== undefined ? 'automatic' : undefined);
};

/** The id the pipeline dedupes a mail on: one Message-ID is one mail, however often it arrives; else SES's id. */
export const inboundEmailId = (messageId: string | undefined, sesMessageId: string): string =>
  messageId ? `email:${messageId}` : `ses:${sesMessageId}`;

/**
 * A reply whose token failed its signature (DESIGN section 12: treated as no token), taken as an answer to the
 * email Parley sent that `In-Reply-To` / `References` name, for the tenant the token claims; the pipeline checks the
 * claim against the sender's prompts. Without both, nothing can say whose mail it is.
 */
const unverifiedReply = (
  receipt: EmailReceipt,
  mail: ReceivedMail,
  untrusted: InboundMessage['untrusted'],
  options: { replyDomain: string },
): InboundEmail => {
  const tenantId = claimedTenantOf(receipt.recipients, options.replyDomain);
  const providerMessageId = answeredSesMessageId(mail);
  if (!tenantId || !providerMessageId || !mail.from) {
    return { ok: false, reason: 'no recipient carries a valid reply or unsubscribe token' };
  }
  const recipient = receipt.recipients.find((r) => r.toLowerCase().endsWith(`@${options.replyDomain.toLowerCase()}`));
  return {
    ok: true,
    tenantId,
    inbound: {
      ...inboundFields(receipt, mail, untrusted),
      from: mail.from,
      to: (recipient ?? '').toLowerCase(),
      answering: { providerMessageId, tenantUnverified: true },
    },
  };
};

export const toInboundEmail = (
  receipt: EmailReceipt,
  mail: ReceivedMail,
  options: { tokenSecret: string; replyDomain: string },
): InboundEmail => {
  const token = replyTokenOf(receipt.recipients, options);
  if (!mail.from) return { ok: false, reason: 'the mail has no From address' };
  const untrusted = untrustedReason(receipt, mail);
  if (!token) {
    // The List-Unsubscribe mailto: an UNSUBSCRIBE from the address it was sent to, through the same rules as a
    // STOP (consent, `consent.changed`, the confirmation). Whatever the mail says, that is all it asks.
    const unsubscribe = unsubscribeRecipientOf(receipt.recipients, options);
    if (!unsubscribe) return unverifiedReply(receipt, mail, untrusted, options);
    return {
      ok: true,
      tenantId: unsubscribe.tenantId,
      inbound: {
        channel: 'email',
        from: 'address' in unsubscribe ? unsubscribe.address : mail.from,
        to: unsubscribe.recipient,
        body: 'UNSUBSCRIBE',
        subject: mail.subject,
        ruleText: 'UNSUBSCRIBE',
        inboundMessageId: inboundEmailId(mail.messageId, receipt.sesMessageId),
        receivedAt: receipt.receivedAt,
        ...(untrusted && { untrusted }),
      },
    };
  }
  return {
    ok: true,
    tenantId: token.tenantId,
    inbound: {
      ...inboundFields(receipt, mail, untrusted),
      from: mail.from,
      to: token.recipient,
      // The token names the message answered; In-Reply-To matters only without one (unverifiedReply).
      answering: { messageId: token.messageId },
    },
  };
};

/** What a reply carries whoever it turns out to answer: its text, thread and verdicts. */
const inboundFields = (receipt: EmailReceipt, mail: ReceivedMail, untrusted: InboundMessage['untrusted']) => {
  // A virus is never shown as text, to an agent or anyone.
  const quarantined = untrusted === 'virus';
  return {
    channel: 'email' as const,
    body: quarantined ? '(quarantined: the mail carried a virus)' : mail.reply,
    ...(!quarantined && mail.text !== mail.reply && { fullText: mail.text }),
    subject: mail.subject,
    ruleText: mail.firstLine,
    inboundMessageId: inboundEmailId(mail.messageId, receipt.sesMessageId),
    receivedAt: receipt.receivedAt,
    ...(mail.messageId && {
      replyThread: { inReplyTo: mail.messageId, references: [...mail.references, mail.messageId].slice(-20) },
    }),
    ...(untrusted && { untrusted }),
  };
};
