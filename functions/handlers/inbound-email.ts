import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SNSEvent } from 'aws-lambda';
import { parseInboundEmail } from '../adapters/email/inbound-email.ts';
import { S3RawMail } from '../adapters/email/s3-raw-mail.ts';
import { SesEmailSender } from '../adapters/email/ses-email-sender.ts';
import { toInboundEmail } from '../adapters/email/ses-inbound.ts';
import { parseEmailReceipt } from '../adapters/email/ses-receipt.ts';
import { UnprocessableInboundError } from '../adapters/unprocessable-inbound.ts';
import { optionalEnv, requireEnv } from '../config/env.ts';
import * as envNames from '../config/env-names.ts';
import { describeBody, maskEmail } from '../domain/masking.ts';
import { loadOnFirstUse } from '../lazy-packages.ts';
import { logger, publishMetrics } from './http/observability.ts';
import { createInbound } from './inbound-wiring.ts';

const config = {
  sesConfigurationSet: requireEnv(envNames.sesConfigurationSet),
  replyDomain: requireEnv(envNames.replyDomain),
};
// Most mail answers a prompt or reaches a person and sends nothing back (functions/domain/inbound.ts): replies,
// and so the SES client, are the rare path.
const inbound = await createInbound({
  email: new SesEmailSender(config.sesConfigurationSet, () => loadOnFirstUse('@aws-sdk/client-ses')),
});
// Path-style addressing only where an emulated S3 stands in (`npm start`): it has no per-bucket host names.
const rawMail = S3RawMail.fromEnvironment({ forcePathStyle: optionalEnv(envNames.s3ForcePathStyle) === 'true' });

/**
 * Subscribed to the topic SES's receipt rule notifies once the raw mail is in the bucket (DESIGN section 12). A
 * notification that can never be processed (not a receipt, the object gone, no valid reply token, a tenant that no
 * longer exists) goes to the dead-letter queue at once; anything else that fails is thrown, so Lambda retries it.
 */
export const handleSnsEvent = async (event: SNSEvent, _context?: Context): Promise<void> => {
  for (const record of event.Records ?? []) {
    await inbound.process(
      'inbound-email',
      () => JSON.stringify(record),
      async () => {
        const receipt = parseEmailReceipt(record);
        const mail = await parseInboundEmail(await rawMail.read(receipt.object.bucket, receipt.object.key));
        const email = toInboundEmail(receipt, mail, {
          tokenSecret: inbound.tokenSecret,
          replyDomain: config.replyDomain,
        });
        if (!email.ok) throw new UnprocessableInboundError(email.reason);
        const tenant = await inbound.tenant(`id:${email.tenantId}`, () =>
          inbound.tenantStore.getTenant(email.tenantId),
        );
        if (!tenant) throw new UnprocessableInboundError('the reply token names no tenant');
        return { ...email.inbound, tenant };
      },
      (email) => ({
        from: maskEmail(email.from),
        body: describeBody(email.body),
        ...(email.untrusted && { untrusted: email.untrusted }),
        snsMessageId: record.Sns.MessageId,
      }),
    );
  }
};

export const handler = middy(handleSnsEvent)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(publishMetrics);
