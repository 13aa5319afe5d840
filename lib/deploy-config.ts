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
});

export type DeployConfig = z.infer<typeof deployConfigSchema>;

/** Validates the raw context value (object, JSON string or absent); throws a readable error on a bad field. */
export const parseDeployConfig = (raw: unknown): DeployConfig => {
  const value = typeof raw === 'string' ? JSON.parse(raw) : (raw ?? {});
  const parsed = deployConfigSchema.safeParse(value);
  if (!parsed.success) throw new Error(`Invalid context "parley":\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
};

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
  },
});
