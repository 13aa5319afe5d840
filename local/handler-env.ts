import * as envNames from '../functions/config/env-names.ts';
/**
 * The environment the Lambda handlers read at import, pointed at the local edges: written once for `npm start` and
 * the bench, so the two run the handlers exactly alike (the CDK sets the same names on AWS).
 */
export interface LocalHandlerEnvOptions {
  dynamodbEndpoint: string;
  edgesUrl: string;
  tableName: string;
  eventBusName: string;
  tokenSecret: string;
  logLevel: string;
}

export const localAccount = '000000000000';

/** The emulated bucket received mail is stored in (the edges create it; `inbound-email` reads it, path-style). */
export const localInboundEmailBucket = 'parley-inbound-email';

export const localHandlerEnv = (options: LocalHandlerEnvOptions): Record<string, string> => ({
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  AWS_ENDPOINT_URL_DYNAMODB: options.dynamodbEndpoint,
  AWS_ENDPOINT_URL_SNS: options.edgesUrl,
  AWS_ENDPOINT_URL_SES: options.edgesUrl,
  AWS_ENDPOINT_URL_EVENTBRIDGE: options.edgesUrl,
  AWS_ENDPOINT_URL_SQS: options.edgesUrl,
  AWS_ENDPOINT_URL_S3: options.edgesUrl,
  // The emulated S3 has no per-bucket host names.
  [envNames.s3ForcePathStyle]: 'true',
  [envNames.inboundEmailBucket]: localInboundEmailBucket,
  [envNames.deadLetterQueueUrl]: `${options.edgesUrl}/${localAccount}/parley-inbound-sms-dlq`,
  [envNames.eventsDlqUrl]: `${options.edgesUrl}/${localAccount}/parley-undelivered-events`,
  [envNames.tableName]: options.tableName,
  [envNames.eventBusName]: options.eventBusName,
  [envNames.sesConfigurationSet]: 'parley-local',
  [envNames.replyDomain]: 'reply.parley.localhost',
  [envNames.tokenSecret]: options.tokenSecret,
  // Webhook receivers on this machine (http://127.0.0.1:...); private and link-local addresses stay refused.
  [envNames.webhooksAllowLoopback]: 'true',
  POWERTOOLS_LOG_LEVEL: options.logLevel,
  POWERTOOLS_METRICS_DISABLED: 'true',
  POWERTOOLS_SERVICE_NAME: 'parley',
});
