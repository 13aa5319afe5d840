import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SNSEvent } from 'aws-lambda';
import { parseInboundSms, UnprocessableInboundError } from '../adapters/sms/sns-inbound.ts';
import { SnsSmsSender } from '../adapters/sms/sns-sms-sender.ts';
import { describeBody, maskPhone } from '../domain/masking.ts';
import { logger, publishMetrics } from './http/observability.ts';
import { createInbound } from './inbound-wiring.ts';

const inbound = await createInbound({ sms: new SnsSmsSender() });

const tenantFor = (number: string) =>
  inbound.tenant(`number:${number}`, async () => {
    const tenantId = await inbound.tenantStore.getTenantIdByNumber(number);
    return tenantId === undefined ? undefined : inbound.tenantStore.getTenant(tenantId);
  });

/**
 * Subscribed to the two-way SMS topic. Malformed payloads go to the dead-letter queue at once; anything else that
 * fails is thrown, so Lambda retries it and finally sends it to the function's own failure destination.
 */
export const handleSnsEvent = async (event: SNSEvent, _context?: Context): Promise<void> => {
  for (const record of event.Records ?? []) {
    await inbound.process(
      'inbound-sms',
      () => JSON.stringify(record),
      async () => {
        const sms = parseInboundSms(record);
        const tenant = await tenantFor(sms.to);
        if (!tenant) throw new UnprocessableInboundError('no tenant has this destination number');
        return { ...sms, tenant };
      },
      (sms) => ({ from: maskPhone(sms.from), body: describeBody(sms.body), snsMessageId: record.Sns.MessageId }),
    );
  }
};

export const handler = middy(handleSnsEvent)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(publishMetrics);
