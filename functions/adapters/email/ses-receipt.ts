/**
 * The email channel's receipt: the notification SES publishes when its S3 action has stored a received message
 * (DESIGN section 12). The notification names the object that holds the raw mail and carries SES's verdicts; the
 * mail itself is read from S3, since the SNS action alone bounces anything over 150 KB.
 */
import type { SNSEventRecord } from 'aws-lambda';
import * as z from 'zod/mini';
import { snsPayload } from '../unprocessable-inbound.ts';

const verdictStatus = z.enum(['PASS', 'FAIL', 'GRAY', 'PROCESSING_FAILED', 'DISABLED']);
const verdict = z.optional(z.object({ status: verdictStatus }));

const receivedNotification = z.object({
  notificationType: z.literal('Received'),
  mail: z.object({
    messageId: z.string().check(z.minLength(1), z.maxLength(200)),
    timestamp: z.string(),
  }),
  receipt: z.object({
    timestamp: z.optional(z.string()),
    recipients: z.array(z.string().check(z.maxLength(320))).check(z.minLength(1), z.maxLength(100)),
    spamVerdict: verdict,
    virusVerdict: verdict,
    spfVerdict: verdict,
    dkimVerdict: verdict,
    dmarcVerdict: verdict,
    action: z.object({
      type: z.literal('S3'),
      bucketName: z.string().check(z.minLength(1)),
      objectKey: z.string().check(z.minLength(1), z.maxLength(1024)),
    }),
  }),
});

export type VerdictStatus = z.infer<typeof verdictStatus>;

/** SES's checks of a received message, `PASS` where SES gave none (a rule with scanning off). */
export interface ReceiptVerdicts {
  spam: VerdictStatus;
  virus: VerdictStatus;
  spf: VerdictStatus;
  dkim: VerdictStatus;
  dmarc: VerdictStatus;
}

export interface EmailReceipt {
  /** SES's id of the received message: a redelivered notification carries the same one. */
  sesMessageId: string;
  /** The envelope recipients the rule matched (where the reply token is). */
  recipients: string[];
  verdicts: ReceiptVerdicts;
  object: { bucket: string; key: string };
  receivedAt: string;
}

/** Parses the SNS record SES's S3 action published; anything else can never be processed. */
export const parseEmailReceipt = (record: SNSEventRecord): EmailReceipt => {
  const { mail, receipt } = snsPayload(record, receivedNotification, 'not an SES S3-action receipt');
  const at = Date.parse(mail.timestamp);
  const status = (given: { status: VerdictStatus } | undefined): VerdictStatus => given?.status ?? 'PASS';
  return {
    sesMessageId: mail.messageId,
    recipients: receipt.recipients.map((recipient) => recipient.toLowerCase()),
    verdicts: {
      spam: status(receipt.spamVerdict),
      virus: status(receipt.virusVerdict),
      spf: status(receipt.spfVerdict),
      dkim: status(receipt.dkimVerdict),
      dmarc: status(receipt.dmarcVerdict),
    },
    object: { bucket: receipt.action.bucketName, key: receipt.action.objectKey },
    receivedAt: new Date(Number.isNaN(at) ? Date.parse(record.Sns.Timestamp) || Date.now() : at).toISOString(),
  };
};
