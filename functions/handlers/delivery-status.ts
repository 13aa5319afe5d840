import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { SESClient, SendRawEmailCommand } from '@aws-sdk/client-ses';
import middy from '@middy/core';
import type { CloudWatchLogsEvent, Context, SNSEvent } from 'aws-lambda';
import { SqsDeadLetters } from '../adapters/dead-letters/sqs-dead-letters.ts';
import { DynamoCustomerStore } from '../adapters/dynamo/customer-store.ts';
import { createDocumentClient } from '../adapters/dynamo/dynamo-helpers.ts';
import { DynamoDeliveryMessageStore } from '../adapters/dynamo/message-delivery-store.ts';
import { DynamoTenantReader } from '../adapters/dynamo/tenant-reader.ts';
import { SesEmailSender } from '../adapters/email/ses-email-sender.ts';
import { parseEmailDeliveryEvent } from '../adapters/email/ses-event.ts';
import { parseSmsDeliveryLogs } from '../adapters/sms/sns-delivery-log.ts';
import { SnsSmsSender } from '../adapters/sms/sns-sms-sender.ts';
import { loadTokenSecret } from '../adapters/token-secret.ts';
import { TtlCache } from '../adapters/ttl-cache.ts';
import { UnprocessableInboundError } from '../adapters/unprocessable-inbound.ts';
import { numberEnv, optionalEnv, requireEnv } from '../config/env.ts';
import * as envNames from '../config/env-names.ts';
import type { DeliveryStatusReport } from '../domain/delivery-status.ts';
import { maskAddress } from '../domain/masking.ts';
import type { Tenant } from '../domain/model.ts';
import { type DeliveryDeps, recordDeliveryReport } from '../domain/record-delivery.ts';
import { createReplyToken } from '../domain/tokens.ts';
import { unsubscribeLinks } from '../domain/unsubscribe.ts';
import { createEventPublisher } from './http/events.ts';
import { logger, metrics, publishMetrics } from './http/observability.ts';

const config = {
  tableName: requireEnv(envNames.tableName),
  eventBusName: requireEnv(envNames.eventBusName),
  deadLetterQueueUrl: requireEnv(envNames.deadLetterQueueUrl),
  sesConfigurationSet: requireEnv(envNames.sesConfigurationSet),
  replyDomain: requireEnv(envNames.replyDomain),
  publicUrl: optionalEnv(envNames.publicUrl),
  cacheTtlMs: numberEnv(envNames.cacheTtlMs, 60_000),
  maxSmsSegments: numberEnv(envNames.maxSmsSegments, 6),
};
const tokenSecret = await loadTokenSecret();
const db = createDocumentClient();
const tenantStore = new DynamoTenantReader(config.tableName, db);
const tenants = new TtlCache<Tenant | undefined>(config.cacheTtlMs, Date.now, 1000, 'tenant');
const deadLetters = new SqsDeadLetters(config.deadLetterQueueUrl);
const messages = new DynamoDeliveryMessageStore(config.tableName, db);
const events = createEventPublisher({
  eventBusName: config.eventBusName,
  eventsDeadLetterQueueUrl: requireEnv(envNames.eventsDlqUrl),
});
const clock = { now: () => Date.now() };

const deps: DeliveryDeps = {
  messages,
  customers: new DynamoCustomerStore(config.tableName, db),
  getTenant: (tenantId) => tenants.get(tenantId, () => tenantStore.getTenant(tenantId)),
  events,
  // A fallback goes out as any send does: by SMS, or by email with its reply address and unsubscribe links.
  outbound: {
    senders: {
      sms: new SnsSmsSender(),
      email: new SesEmailSender(config.sesConfigurationSet, () => ({ SESClient, SendRawEmailCommand })),
    },
    messages,
    events,
    clock,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    replyAddress: (tenantId, messageId) =>
      `reply+${createReplyToken(tokenSecret, tenantId, messageId)}@${config.replyDomain}`,
    unsubscribeLinks: (tenantId, address, messageId) =>
      unsubscribeLinks(
        { tokenSecret, replyDomain: config.replyDomain, publicUrl: config.publicUrl },
        tenantId,
        address,
        messageId,
      ),
    maxSmsSegments: config.maxSmsSegments,
  },
  claimLeaseMs: 30_000,
};

/**
 * How long a report whose message is not found yet is tried again: its message is stored just after the provider
 * answers the send, and a report can overtake that write. Past this, the message will not come (a send that died
 * between the provider's answer and its write): the report goes to the dead-letter queue.
 */
const unmatchedRetryMs = 15 * 60_000;

interface ReceivedReport {
  report: DeliveryStatusReport;
  /** What a dead letter keeps: the record as received (it holds an address: never logged). */
  payload: () => string;
}

/** The reports an event carries; what cannot be read is dead-lettered here, the rest of the event still counts. */
const reportsOf = async (event: CloudWatchLogsEvent | SNSEvent): Promise<ReceivedReport[]> => {
  if ('awslogs' in event) {
    let batch: ReturnType<typeof parseSmsDeliveryLogs>;
    try {
      batch = parseSmsDeliveryLogs(event);
    } catch (error) {
      if (!(error instanceof UnprocessableInboundError)) throw error;
      await deadLetter('sms-delivery-log', error.message, () => JSON.stringify(event));
      return [];
    }
    for (const entry of batch.unparseable) {
      await deadLetter('sms-delivery-log', entry.reason, () => entry.message);
    }
    return batch.reports.map((report) => ({ report, payload: () => JSON.stringify(report) }));
  }
  const reports: ReceivedReport[] = [];
  for (const record of event.Records ?? []) {
    try {
      const report = parseEmailDeliveryEvent(record);
      if (report) reports.push({ report, payload: () => JSON.stringify(record) });
    } catch (error) {
      if (!(error instanceof UnprocessableInboundError)) throw error;
      await deadLetter('ses-event', error.message, () => JSON.stringify(record));
    }
  }
  return reports;
};

const deadLetter = async (source: string, reason: string, payload: () => string) => {
  logger.error(`${source} dead-lettered`, { reason });
  metrics.addMetric('DeliveryReportsDeadLettered', 'Count', 1);
  await deadLetters.send({ reason, source, payload: payload() });
};

/**
 * Started by the CloudWatch Logs subscriptions on SNS's SMS delivery logs and by the SES events topic (DESIGN
 * section 13). Each report is recorded on its own: one that fails does not stop the others, and the event is
 * thrown back at the end (Lambda retries it, then sends it to the dead-letter queue), which repeats only what
 * had not been recorded: recording is idempotent.
 */
export const handleDeliveryStatus = async (event: CloudWatchLogsEvent | SNSEvent, _context?: Context) => {
  let retry = 0;
  for (const { report, payload } of await reportsOf(event)) {
    const context = {
      channel: report.channel,
      providerMessageId: report.providerMessageId,
      outcome: report.outcome,
      reason: report.reason,
      to: maskAddress(report.recipients[0]),
    };
    try {
      const outcome = await recordDeliveryReport(deps, report);
      if (outcome.outcome !== 'unmatched') {
        logger.info('delivery report recorded', { ...context, ...outcome });
        metrics.addMetric(
          outcome.outcome === 'recorded' ? 'DeliveryReportsRecorded' : 'DeliveryReportsUnchanged',
          'Count',
          1,
        );
        if (outcome.outcome === 'recorded' && outcome.fallback) metrics.addMetric('MessagesFailedOver', 'Count', 1);
        continue;
      }
      if (report.channel === 'email' && !report.parley) {
        // Mail Parley did not send through the configuration set (no tags): nothing of Parley's to record.
        logger.info('delivery report about no Parley message', context);
        metrics.addMetric('DeliveryReportsForeign', 'Count', 1);
      } else if (clock.now() - Date.parse(report.occurredAt) < unmatchedRetryMs) {
        logger.warn('delivery report before its message: retried', { ...context, why: outcome.why });
        retry += 1;
      } else {
        await deadLetter(`${report.channel}-delivery-report`, outcome.why, payload);
      }
    } catch (error) {
      logger.error('delivery report failed: retried', { ...context, error: error as Error });
      retry += 1;
    }
  }
  if (retry > 0) throw new Error(`${retry} delivery report(s) not recorded yet: the event is retried`);
};

export const handler = middy(handleDeliveryStatus)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(publishMetrics);
