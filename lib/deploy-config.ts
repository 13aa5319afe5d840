import { Duration } from 'aws-cdk-lib';
import * as z from 'zod';
import type { ParleyStackProps } from './parley-stack.ts';

const throttleSchema = z.strictObject({ rateLimit: z.number().positive(), burstLimit: z.int().positive() });

/**
 * The deploy configuration of `bin/parley.ts`: context key `parley`, an object in cdk.json or a JSON string from
 * `npx cdk deploy -c parley='{"emailDomain":"bank.example"}'`. The defaults synthesize without credentials; a real
 * deployment sets at least `emailDomain`, `replyDomain` and `alarmEmail`. Fields map onto `ParleyGatewayProps`,
 * where each is documented.
 */
export const deployConfigSchema = z.strictObject({
  /** CloudFormation stack name. */
  stackName: z.string().min(1).default('Parley'),
  emailDomain: z.string().min(1).default('example.com'),
  replyDomain: z.string().min(1).default('reply.example.com'),
  alarmEmail: z.email().optional(),
  eventBusName: z.string().min(1).optional(),
  /** `ParleyGatewayProps.eventArchiveRetention`, in days. */
  eventArchiveDays: z.int().positive().optional(),
  /** `ParleyGatewayProps.authorizerCacheTtl`, in seconds: 0 to 3600. */
  authorizerCacheTtlSeconds: z.int().min(0).max(3600).optional(),
  throttle: throttleSchema.optional(),
  webSocketThrottle: throttleSchema.optional(),
  /** `ParleyGatewayProps.chatSessionTtl`, in minutes: 1 minute to 7 days. */
  chatSessionTtlMinutes: z
    .int()
    .min(1)
    .max(7 * 24 * 60)
    .optional(),
  setApiGatewayLoggingRole: z.boolean().optional(),
  /** `ParleyGatewayProps.messagesFailedAlarmThreshold`: failed sends in 5 minutes that raise the alarm. */
  messagesFailedAlarmThreshold: z.int().min(1).optional(),
  /**
   * Inbound email (`ParleyGatewayProps.createReceiptRuleSet` and the next two). By default the stack creates a
   * receipt rule set for the reply domain and leaves it inactive: SES has one active set per account and region.
   */
  createReceiptRuleSet: z.boolean().optional(),
  activateReceiptRuleSet: z.boolean().optional(),
  /** Add the reply domain's rule to this rule set instead (then leave the two above out). */
  existingReceiptRuleSetName: z
    .string()
    .regex(/^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/, 'an SES rule set name: letters, digits, . _ -')
    .optional(),
  /**
   * SMS delivery status (`ParleyGatewayProps.smsDeliveryStatusLogs`): sets SNS's SMS delivery status logging for
   * the whole account and region (every SMS logged, 100% success sampling) and streams it to `delivery-status`.
   */
  smsDeliveryStatusLogs: z.boolean().default(false),
  /** With `smsDeliveryStatusLogs`: subscribe to the SNS log groups that exist already instead of creating them. */
  existingSmsDeliveryStatusLogGroups: z.boolean().optional(),
});

export type DeployConfig = z.infer<typeof deployConfigSchema>;

/** Validates the raw context value (object, JSON string or absent); throws a readable error on a bad field. */
export const parseDeployConfig = (raw: unknown): DeployConfig => {
  const value = typeof raw === 'string' ? JSON.parse(raw) : (raw ?? {});
  const parsed = deployConfigSchema.safeParse(value);
  if (!parsed.success) throw new Error(`Invalid context "parley":\n${z.prettifyError(parsed.error)}`);
  const conflict = receiptRuleSetConflict(parsed.data) ?? smsDeliveryStatusConflict(parsed.data);
  if (conflict) throw new Error(`Invalid context "parley":\n${conflict}`);
  return parsed.data;
};

/** The receipt rule set fields that cannot go together, named as the field to change. */
const receiptRuleSetConflict = (config: DeployConfig): string | undefined => {
  const existing = config.existingReceiptRuleSetName !== undefined;
  if (existing && config.createReceiptRuleSet) {
    return 'createReceiptRuleSet: leave it out with existingReceiptRuleSetName, whose set the rule goes into';
  }
  if (existing && config.activateReceiptRuleSet) {
    return 'activateReceiptRuleSet: applies only to a rule set the stack creates, not existingReceiptRuleSetName';
  }
  if (!existing && config.createReceiptRuleSet === false) {
    return 'createReceiptRuleSet: false needs existingReceiptRuleSetName, as inbound email needs a rule set';
  }
  return undefined;
};

const smsDeliveryStatusConflict = (config: DeployConfig): string | undefined =>
  config.existingSmsDeliveryStatusLogGroups && !config.smsDeliveryStatusLogs
    ? 'existingSmsDeliveryStatusLogGroups: applies only with smsDeliveryStatusLogs: true'
    : undefined;

/** The stack's props for a config, minus `env`, which the app takes from the CLI. */
export const stackPropsFor = (config: DeployConfig): ParleyStackProps => ({
  description: 'Parley: two-way transactional messaging gateway',
  gateway: {
    emailDomain: config.emailDomain,
    replyDomain: config.replyDomain,
    alarmEmail: config.alarmEmail,
    eventBusName: config.eventBusName,
    eventArchiveRetention: config.eventArchiveDays === undefined ? undefined : Duration.days(config.eventArchiveDays),
    authorizerCacheTtl:
      config.authorizerCacheTtlSeconds === undefined ? undefined : Duration.seconds(config.authorizerCacheTtlSeconds),
    throttle: config.throttle,
    webSocketThrottle: config.webSocketThrottle,
    chatSessionTtl:
      config.chatSessionTtlMinutes === undefined ? undefined : Duration.minutes(config.chatSessionTtlMinutes),
    setApiGatewayLoggingRole: config.setApiGatewayLoggingRole,
    messagesFailedAlarmThreshold: config.messagesFailedAlarmThreshold,
    createReceiptRuleSet: config.createReceiptRuleSet,
    activateReceiptRuleSet: config.activateReceiptRuleSet,
    existingReceiptRuleSetName: config.existingReceiptRuleSetName,
    smsDeliveryStatusLogs: config.smsDeliveryStatusLogs,
    existingSmsDeliveryStatusLogGroups: config.existingSmsDeliveryStatusLogGroups,
  },
});
