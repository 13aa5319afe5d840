import { readFileSync } from 'node:fs';
import type { SNSEvent, SNSEventRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { parseEmailReceipt } from '../../functions/adapters/email/ses-receipt.ts';
import { UnprocessableInboundError } from '../../functions/adapters/unprocessable-inbound.ts';

const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/aws-events/ses-receipt-s3-sns-event.json', import.meta.url), 'utf8'),
) as SNSEvent;
const record = fixture.Records[0] as SNSEventRecord;
const withMessage = (message: unknown): SNSEventRecord => ({
  ...record,
  Sns: { ...record.Sns, Message: typeof message === 'string' ? message : JSON.stringify(message) },
});
const notification = JSON.parse(record.Sns.Message);

describe('the SES receipt notification (S3 action)', () => {
  it('names the stored object, the recipients, the verdicts and when SES received the mail', () => {
    expect(parseEmailReceipt(record)).toEqual({
      sesMessageId: 'o3vrnil0e2ic28trm7dfhrc2v0cnbeccl4nbp0g1',
      recipients: ['reply+demo-bank.01jwpromptemail000000000001.htxb2h29mcanhbxw@reply.demo-bank.example'],
      verdicts: { spam: 'PASS', virus: 'PASS', spf: 'PASS', dkim: 'PASS', dmarc: 'PASS' },
      object: { bucket: 'parley-inbound-mail-111122223333', key: 'inbound/o3vrnil0e2ic28trm7dfhrc2v0cnbeccl4nbp0g1' },
      receivedAt: '2025-06-02T11:05:00.882Z',
    });
  });

  it('reads a verdict SES left out (scanning off) as PASS, and keeps a FAIL', () => {
    const { spamVerdict: _spam, ...receipt } = notification.receipt;
    const parsed = parseEmailReceipt(
      withMessage({ ...notification, receipt: { ...receipt, dmarcVerdict: { status: 'FAIL' } } }),
    );
    expect(parsed.verdicts).toMatchObject({ spam: 'PASS', dmarc: 'FAIL' });
  });

  it.each([
    ['not JSON', '{"notificationType":'],
    ['a bounce notification', { ...notification, notificationType: 'Bounce' }],
    [
      'an SNS-action receipt (no object)',
      { ...notification, receipt: { ...notification.receipt, action: { type: 'SNS' } } },
    ],
    ['no recipients', { ...notification, receipt: { ...notification.receipt, recipients: [] } }],
  ])('refuses %s as unprocessable', (_what, message) => {
    expect(() => parseEmailReceipt(withMessage(message))).toThrow(UnprocessableInboundError);
  });
});
