/**
 * Every environment variable Parley's functions read, named once: the handlers read them (functions/config/env.ts),
 * the CDK stack sets them (lib/), and so does the local runtime, which reads two of its own (data dir, log level).
 * Single constants, not one object, so that a bundle holds the few it reads (`import * as envNames`).
 */
export const cacheTtlMs = 'PARLEY_CACHE_TTL_MS';
export const chatSessionTtlMs = 'PARLEY_CHAT_SESSION_TTL_MS';
export const dataDir = 'PARLEY_DATA_DIR';
/** `1`: the local demo backend hears its events by signed webhook instead of the emulated EventBridge. */
export const demoWebhooks = 'PARLEY_DEMO_WEBHOOKS';
export const deadLetterQueueUrl = 'PARLEY_DEAD_LETTER_QUEUE_URL';
export const eventsDlqUrl = 'PARLEY_EVENTS_DLQ_URL';
export const eventBusName = 'PARLEY_EVENT_BUS_NAME';
export const inboundEmailBucket = 'PARLEY_INBOUND_EMAIL_BUCKET';
export const logLevel = 'PARLEY_LOG_LEVEL';
export const maxSmsSegments = 'PARLEY_MAX_SMS_SEGMENTS';
export const pagesDir = 'PARLEY_PAGES_DIR';
export const publicUrl = 'PARLEY_PUBLIC_URL';
export const replyDomain = 'PARLEY_REPLY_DOMAIN';
export const s3ForcePathStyle = 'PARLEY_S3_FORCE_PATH_STYLE';
export const sesConfigurationSet = 'PARLEY_SES_CONFIGURATION_SET';
export const tableName = 'PARLEY_TABLE_NAME';
export const tokenSecret = 'PARLEY_TOKEN_SECRET';
export const tokenSecretArn = 'PARLEY_TOKEN_SECRET_ARN';
export const wsCallbackUrl = 'PARLEY_WS_CALLBACK_URL';
export const wsUrl = 'PARLEY_WS_URL';
/** `true` in the local runtime only: webhooks may go to http:// and loopback endpoints (a receiver on this machine). */
export const webhooksAllowLoopback = 'PARLEY_WEBHOOKS_ALLOW_LOOPBACK';
/** The FIFO queue the webhook sender puts each event's deliveries on, and its dead-letter queue. */
export const webhookDeliveryQueueUrl = 'PARLEY_WEBHOOK_DELIVERY_QUEUE_URL';
export const webhookDeadLetterQueueUrl = 'PARLEY_WEBHOOK_DLQ_URL';
