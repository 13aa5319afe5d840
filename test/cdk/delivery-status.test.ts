import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validations } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, describe, expect, it } from 'vitest';
import {
  emailBounceRateAlarmThreshold,
  emailComplaintRateAlarmThreshold,
  smsDeliveryFailureRateAlarmThreshold,
  smsDeliveryFailureRateMinimumReports,
} from '../../lib/monitoring.ts';
import type { ParleyGatewayProps } from '../../lib/parley-gateway.ts';
import {
  createGatewayApp,
  functionLogicalId,
  logicalIdOf,
  type PolicyStatementJson,
  policyStatementsOf,
  synthGateway,
} from './gateway-app.ts';

const { stack, template } = synthGateway();
const sources = stack.gateway.deliveryStatusSources;
const resources = template.toJSON().Resources;
const topicId = logicalIdOf(stack, sources.topic);
const keyId = logicalIdOf(stack, sources.key);
const queueId = logicalIdOf(stack, stack.gateway.deliveryStatusDeadLetters.queue);
const functionId = functionLogicalId(stack, 'delivery-status');
const configurationSetRef = { Ref: logicalIdOf(stack, stack.gateway.email.configurationSet) };
const alarmTopicRef = { Ref: logicalIdOf(stack, stack.gateway.monitoring.topic) };

const ofType = (source: Template, type: string) => Object.values(source.findResources(type));
const configurationSetArn = {
  'Fn::Join': ['', ['arn:aws:ses:eu-west-1:123456789012:configuration-set/', configurationSetRef]],
};
const successGroup = 'sns/eu-west-1/123456789012/DirectPublishToPhoneNumber';
const failureGroup = `${successGroup}/Failure`;

/** Everything SMS delivery status logging adds, so its absence can be checked as one. */
const smsLoggingResources = (source: Template) => ({
  snsRoles: ofType(source, 'AWS::IAM::Role').filter((role) =>
    JSON.stringify(role.Properties.AssumeRolePolicyDocument).includes('sns.amazonaws.com'),
  ),
  customResources: ofType(source, 'Custom::AWS'),
  smsLogGroups: ofType(source, 'AWS::Logs::LogGroup').filter((group) =>
    String(group.Properties.LogGroupName ?? '').includes('DirectPublishToPhoneNumber'),
  ),
  subscriptionFilters: ofType(source, 'AWS::Logs::SubscriptionFilter'),
});

describe('email delivery status: the SES event topic', () => {
  it('is encrypted with its own rotated customer-managed key', () => {
    expect(resources[topicId].Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    expect(resources[keyId].Properties.EnableKeyRotation).toBe(true);
    for (const other of [
      stack.gateway.table.key,
      stack.gateway.inboundSmsTopic.key,
      stack.gateway.inboundEmailReceiving.key,
    ]) {
      expect(keyId).not.toBe(logicalIdOf(stack, other));
    }
  });

  it('lets SES use the key only for this account and this configuration set', () => {
    const statements = resources[keyId].Properties.KeyPolicy.Statement as Record<string, unknown>[];
    expect(statements.filter((statement) => JSON.stringify(statement.Principal).includes('ses.amazonaws.com'))).toEqual(
      [
        expect.objectContaining({
          Effect: 'Allow',
          Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          Resource: '*',
          Condition: {
            StringEquals: { 'aws:SourceAccount': '123456789012', 'aws:SourceArn': configurationSetArn },
          },
        }),
      ],
    );
  });

  it('takes publishes from SES for this account and this configuration set only, over TLS only', () => {
    const policies = ofType(template, 'AWS::SNS::TopicPolicy').filter(
      (policy) => JSON.stringify(policy.Properties.Topics) === JSON.stringify([{ Ref: topicId }]),
    );
    expect(policies).toHaveLength(1);
    const statements = policies[0]?.Properties.PolicyDocument.Statement as Record<string, unknown>[];
    expect(statements).toEqual([
      expect.objectContaining({
        Effect: 'Deny',
        Principal: '*',
        Action: 'sns:Publish',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'ses.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: { Ref: topicId },
        Condition: {
          StringEquals: {
            'AWS:SourceAccount': '123456789012',
            'AWS:SourceArn': {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  ':ses:eu-west-1:123456789012:configuration-set/',
                  configurationSetRef,
                ],
              ],
            },
          },
        },
      }),
    ]);
  });

  it('receives every delivery outcome of the configuration set, no opens or clicks, once the policies are in place', () => {
    const destinations = template.findResources('AWS::SES::ConfigurationSetEventDestination');
    expect(Object.keys(destinations)).toHaveLength(1);
    const [destination] = Object.values(destinations);
    expect(destination?.Properties).toEqual({
      ConfigurationSetName: configurationSetRef,
      EventDestination: {
        Enabled: true,
        MatchingEventTypes: ['send', 'delivery', 'bounce', 'complaint', 'reject', 'deliveryDelay', 'renderingFailure'],
        SnsDestination: { TopicARN: { Ref: topicId } },
      },
    });
    expect(destination?.DependsOn).toEqual(expect.arrayContaining([keyId]));
    expect(JSON.stringify(destination?.DependsOn)).toContain('TopicPolicy');
  });

  it('subscribes the delivery-status function, with a redrive policy to its dead-letter queue', () => {
    const subscriptions = ofType(template, 'AWS::SNS::Subscription').filter(
      (subscription) => JSON.stringify(subscription.Properties.TopicArn) === JSON.stringify({ Ref: topicId }),
    );
    expect(subscriptions.map((subscription) => subscription.Properties)).toEqual([
      {
        Protocol: 'lambda',
        TopicArn: { Ref: topicId },
        Endpoint: { 'Fn::GetAtt': [functionId, 'Arn'] },
        RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [queueId, 'Arn'] } },
      },
    ]);
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [functionId, 'Arn'] },
      Principal: 'sns.amazonaws.com',
      SourceArn: { Ref: topicId },
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queueId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'sns.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Condition: { ArnEquals: { 'aws:SourceArn': { Ref: topicId } } },
          }),
        ]),
      },
    });
  });
});

describe('the delivery-status function', () => {
  it('retries a failed event twice, then dead-letters it; knows its queue', () => {
    expect(resources[functionId].Properties.DeadLetterConfig).toEqual({
      TargetArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: functionId },
      MaximumRetryAttempts: 2,
    });
    expect(resources[functionId].Properties.Environment.Variables.PARLEY_DEAD_LETTER_QUEUE_URL).toEqual({
      Ref: queueId,
    });
    expect(resources[queueId].Properties).toMatchObject({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1209600,
    });
  });

  it('reads and writes items and queries the indexes, publishes events, reads the secret, sends SMS and email, dead-letters: nothing else', () => {
    const statements = policyStatementsOf(stack, template, 'delivery-status');
    const allowed = statements.filter((statement) => statement.Effect === 'Allow').flatMap((s) => [s.Action].flat());
    expect(new Set(allowed)).toEqual(
      new Set([
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
        'dynamodb:BatchGetItem',
        'dynamodb:BatchWriteItem',
        'dynamodb:ConditionCheckItem',
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
        'kms:Decrypt',
        'kms:DescribeKey',
        'kms:Encrypt',
        'kms:GenerateDataKey',
        'kms:GenerateDataKeyWithoutPlaintext',
        'events:PutEvents',
        'sqs:SendMessage',
        'secretsmanager:GetSecretValue',
        'ses:SendEmail',
        'ses:SendRawEmail',
        'sns:Publish',
      ]),
    );
    const sqs = statements.filter((statement) => [statement.Action].flat().includes('sqs:SendMessage'));
    expect(sqs).toHaveLength(1);
    expect(new Set([sqs[0]?.Resource].flat().map((arn) => JSON.stringify(arn)))).toEqual(
      new Set([
        JSON.stringify({ 'Fn::GetAtt': [queueId, 'Arn'] }),
        JSON.stringify({ 'Fn::GetAtt': [logicalIdOf(stack, stack.gateway.undeliveredEvents.queue), 'Arn'] }),
      ]),
    );
    const publish = statements.filter((statement) => [statement.Action].flat().includes('sns:Publish'));
    expect(publish).toEqual([
      expect.objectContaining({ Effect: 'Allow', Action: 'sns:Publish', Resource: '*' }),
      expect.objectContaining({ Effect: 'Deny', Action: 'sns:Publish', Resource: 'arn:aws:sns:*:*:*' }),
    ] satisfies Partial<PolicyStatementJson>[]);
  });
});

describe('SMS delivery status logs, off by default', () => {
  it('leave the account setting alone: no role for SNS, no custom resource, no log groups, no subscription filters', () => {
    expect(smsLoggingResources(template)).toEqual({
      snsRoles: [],
      customResources: [],
      smsLogGroups: [],
      subscriptionFilters: [],
    });
    expect(sources.smsLoggingRole).toBeUndefined();
    expect(sources.smsLogGroups).toBeUndefined();
    expect(sources.smsAttributes).toBeUndefined();
  });

  it('refuse existing log groups without the logs', () => {
    expect(() => synthGateway({ gateway: { existingSmsDeliveryStatusLogGroups: true } })).toThrow(
      /existingSmsDeliveryStatusLogGroups/,
    );
  });
});

describe('SMS delivery status logs, on', () => {
  const { stack: onStack, template: on } = synthGateway({ gateway: { smsDeliveryStatusLogs: true } });
  const onSources = onStack.gateway.deliveryStatusSources;
  const onResources = on.toJSON().Resources;
  const roleId = logicalIdOf(onStack, onSources.smsLoggingRole as never);
  const successId = logicalIdOf(onStack, onSources.smsLogGroups?.success as never);
  const failureId = logicalIdOf(onStack, onSources.smsLogGroups?.failure as never);
  const onFunctionId = functionLogicalId(onStack, 'delivery-status');

  it('create the two SNS log groups, by SNS’s names, with the log retention', () => {
    expect(onResources[successId].Properties).toEqual({ LogGroupName: successGroup, RetentionInDays: 90 });
    expect(onResources[failureId].Properties).toEqual({ LogGroupName: failureGroup, RetentionInDays: 90 });
    expect(smsLoggingResources(on).smsLogGroups).toHaveLength(2);
  });

  it('give SNS a role of its own, for this account only, that writes to those two groups only', () => {
    expect(onResources[roleId].Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { Service: 'sns.amazonaws.com' },
        Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
      },
    ]);
    const policies = ofType(on, 'AWS::IAM::Policy').filter((policy) =>
      policy.Properties.Roles.some((role: { Ref: string }) => role.Ref === roleId),
    );
    expect(policies).toHaveLength(1);
    expect(policies[0]?.Properties.PolicyDocument.Statement).toEqual([
      {
        Sid: 'CreateTheSmsDeliveryStatusLogGroups',
        Effect: 'Allow',
        Action: 'logs:CreateLogGroup',
        Resource: [
          `arn:aws:logs:eu-west-1:123456789012:log-group:${successGroup}`,
          `arn:aws:logs:eu-west-1:123456789012:log-group:${failureGroup}`,
        ],
      },
      {
        Sid: 'WriteSmsDeliveryStatusLogs',
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: expect.arrayContaining([{ 'Fn::GetAtt': [successId, 'Arn'] }, { 'Fn::GetAtt': [failureId, 'Arn'] }]),
      },
    ]);
  });

  it('set the account’s SMS attributes: the role and 100% success sampling; on delete, clear the role and sample 0', () => {
    const custom = smsLoggingResources(on).customResources;
    expect(custom).toHaveLength(1);
    const roleArnRef = JSON.stringify({ 'Fn::GetAtt': [roleId, 'Arn'] });
    const roleArn = '<the logging role ARN>';
    /** The SDK call as the custom resource gets it, the role's ARN written as a placeholder. */
    const call = (phase: 'Create' | 'Update' | 'Delete') => {
      const value = custom[0]?.Properties[phase];
      if (typeof value === 'string') return JSON.parse(value);
      const parts = value['Fn::Join'][1] as unknown[];
      return JSON.parse(
        parts
          .map((part) => (typeof part === 'string' ? part : JSON.stringify(part) === roleArnRef ? roleArn : '?'))
          .join(''),
      );
    };
    for (const phase of ['Create', 'Update'] as const) {
      expect(call(phase), phase).toMatchObject({
        service: 'SNS',
        action: 'SetSMSAttributes',
        parameters: { attributes: { DeliveryStatusIAMRole: roleArn, DeliveryStatusSuccessSamplingRate: '100' } },
      });
    }
    expect(call('Delete')).toMatchObject({
      service: 'SNS',
      action: 'SetSMSAttributes',
      parameters: { attributes: { DeliveryStatusIAMRole: '', DeliveryStatusSuccessSamplingRate: '0' } },
    });
    expect(custom[0]?.Properties.InstallLatestAwsSdk).toBe(false);
    // The groups exist before SNS may log (it would create them without a retention), and are deleted after.
    expect(custom[0]?.DependsOn).toEqual(expect.arrayContaining([successId, failureId]));
  });

  it('let the settings call set SMS attributes and pass only the logging role, only to SNS', () => {
    const policy = ofType(on, 'AWS::IAM::Policy').find((candidate) =>
      JSON.stringify(candidate.Properties.PolicyDocument).includes('sns:SetSMSAttributes'),
    );
    expect(policy?.Properties.PolicyDocument.Statement).toEqual([
      { Action: 'sns:SetSMSAttributes', Effect: 'Allow', Resource: '*' },
      {
        Action: 'iam:PassRole',
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [roleId, 'Arn'] },
        Condition: { StringEquals: { 'iam:PassedToService': 'sns.amazonaws.com' } },
      },
    ]);
  });

  it('stream every entry of both groups to the delivery-status function', () => {
    const filters = smsLoggingResources(on).subscriptionFilters.map((filter) => filter.Properties);
    expect(filters).toEqual(
      expect.arrayContaining(
        [successId, failureId].map((groupId) => ({
          LogGroupName: { Ref: groupId },
          FilterPattern: '',
          DestinationArn: { 'Fn::GetAtt': [onFunctionId, 'Arn'] },
        })),
      ),
    );
    expect(filters).toHaveLength(2);
    for (const groupId of [successId, failureId]) {
      on.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        FunctionName: { 'Fn::GetAtt': [onFunctionId, 'Arn'] },
        Principal: 'logs.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': [groupId, 'Arn'] },
      });
    }
  });

  it('take the groups that exist by name instead, when asked, and create none', () => {
    const { template: existing } = synthGateway({
      gateway: { smsDeliveryStatusLogs: true, existingSmsDeliveryStatusLogGroups: true },
    });
    const found = smsLoggingResources(existing);
    expect(found.smsLogGroups).toEqual([]);
    expect(found.customResources).toHaveLength(1);
    expect(found.subscriptionFilters.map((filter) => filter.Properties.LogGroupName).sort()).toEqual(
      [successGroup, failureGroup].sort(),
    );
    const logging = ofType(existing, 'AWS::IAM::Policy').find((policy) =>
      JSON.stringify(policy.Properties.PolicyDocument).includes('WriteSmsDeliveryStatusLogs'),
    );
    expect(JSON.stringify(logging?.Properties.PolicyDocument)).toContain(
      `arn:aws:logs:eu-west-1:123456789012:log-group:${failureGroup}:*`,
    );
  });

  it('share the custom resource function with the receipt rule set’s activation, when both are on', () => {
    const { template: both } = synthGateway({ gateway: { smsDeliveryStatusLogs: true, activateReceiptRuleSet: true } });
    const providers = Object.keys(both.findResources('AWS::Lambda::Function')).filter((id) => id.startsWith('AWS679f'));
    expect(providers).toHaveLength(1);
    expect(ofType(both, 'Custom::AWS')).toHaveLength(2);
    // No role or log group of its own that no function would use.
    expect(
      ofType(both, 'AWS::IAM::Role').filter((role) =>
        String(role.Properties.Description).includes('SMS delivery status logging attributes'),
      ),
    ).toEqual([]);
  });
});

describe('delivery alarms', () => {
  const alarms = ofType(template, 'AWS::CloudWatch::Alarm');
  const alarmOn = (metricName: string) => alarms.filter((alarm) => alarm.Properties.MetricName === metricName);

  it.each([
    ['Reputation.BounceRate', emailBounceRateAlarmThreshold, 0.025],
    ['Reputation.ComplaintRate', emailComplaintRateAlarmThreshold, 0.0005],
  ])('alarm on the configuration set’s %s reaching %s', (metricName, threshold, expected) => {
    expect(threshold).toBe(expected);
    expect(alarmOn(metricName).map((alarm) => alarm.Properties)).toEqual([
      expect.objectContaining({
        Namespace: 'AWS/SES',
        MetricName: metricName,
        Dimensions: [{ Name: 'ses:configuration-set', Value: configurationSetRef }],
        Statistic: 'Maximum',
        Period: 900,
        EvaluationPeriods: 1,
        Threshold: expected,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [alarmTopicRef],
      }),
    ]);
  });

  it('alarm on 10% or more failed SMS delivery reports in 15 minutes, once there are 20 reports', () => {
    expect([smsDeliveryFailureRateAlarmThreshold, smsDeliveryFailureRateMinimumReports]).toEqual([10, 20]);
    const sms = alarms.filter((alarm) => JSON.stringify(alarm.Properties.Metrics ?? []).includes('SMSSuccessRate'));
    expect(sms).toHaveLength(1);
    const properties = sms[0]?.Properties;
    expect(properties).toMatchObject({
      Threshold: 10,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      EvaluationPeriods: 1,
      AlarmActions: [alarmTopicRef],
    });
    const metrics = properties.Metrics as { Id: string; Expression?: string; MetricStat?: unknown }[];
    expect(metrics.find((metric) => metric.Expression)?.Expression).toBe('IF(reports >= 20, 100 * (1 - delivered), 0)');
    expect(metrics.filter((metric) => metric.MetricStat).map(({ Id, MetricStat }) => [Id, MetricStat])).toEqual(
      expect.arrayContaining([
        ['delivered', { Metric: { Namespace: 'AWS/SNS', MetricName: 'SMSSuccessRate' }, Period: 900, Stat: 'Average' }],
        [
          'reports',
          { Metric: { Namespace: 'AWS/SNS', MetricName: 'SMSSuccessRate' }, Period: 900, Stat: 'SampleCount' },
        ],
      ]),
    );
  });

  it('alarm on the first message in the delivery status dead-letter queue', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
      Statistic: 'Maximum',
      Threshold: 1,
      AlarmActions: [alarmTopicRef],
    });
  });

  it('graph the SES events, the bounce and complaint rates and SMS failures on the dashboard', () => {
    const [dashboard] = ofType(template, 'AWS::CloudWatch::Dashboard');
    const body = JSON.stringify(dashboard?.Properties.DashboardBody);
    for (const title of [
      'Email delivery status (SES events)',
      'Email bounce rate',
      'Email complaint rate',
      'SMS delivery failures (%)',
    ]) {
      expect(body, title).toContain(`"title\\":\\"${title}`);
    }
    expect(body).toContain('Reputation.BounceRate');
    expect(body).toContain('SMSSuccessRate');
  });
});

describe('delivery status under cdk-nag AwsSolutions', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'parley-cdk-delivery-status-'));
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  const synthesized = (gateway: Partial<ParleyGatewayProps>) => {
    const { app } = createGatewayApp({ appProps: { outdir: mkdtempSync(join(outdir, 'app-')) }, gateway });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    // An unacknowledged error makes synth throw; warnings reach the report only.
    const report = JSON.parse(readFileSync(join(app.synth().directory, 'validation-report.json'), 'utf8')) as {
      pluginReports: { violations: unknown[] }[];
    };
    return { app, violations: report.pluginReports.flatMap((plugin) => plugin.violations) };
  };
  const acknowledgedUnder = (app: ReturnType<typeof synthesized>['app'], path: string) =>
    app.node
      .findAll()
      .filter((construct) => construct.node.path.includes(path))
      .flatMap((construct) =>
        construct.node.metadata
          .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
          .flatMap((entry) =>
            Object.keys(entry.data as object).map(
              (rule) =>
                `${construct.node.path.replace(`Parley/Gateway/${path}/`, '')} ${rule.replace(/^annotation::/i, '')}`,
            ),
          ),
      );

  it.each<[string, Partial<ParleyGatewayProps>]>([
    ['with SMS logs on', { smsDeliveryStatusLogs: true }],
    ['with SMS logs on existing groups', { smsDeliveryStatusLogs: true, existingSmsDeliveryStatusLogGroups: true }],
    ['with SMS logs on and the rule set activated', { smsDeliveryStatusLogs: true, activateReceiptRuleSet: true }],
  ])('synthesizes with zero unacknowledged findings %s', (_name, gateway) => {
    expect(synthesized(gateway).violations).toEqual([]);
  });

  it('acknowledges the log stream wildcards and the settings call’s Resource "*", each on its own policy', () => {
    const { app } = synthesized({ smsDeliveryStatusLogs: true });
    const { stack: onStack } = createGatewayApp({ gateway: { smsDeliveryStatusLogs: true } });
    const groups = onStack.gateway.deliveryStatusSources.smsLogGroups;
    const groupArn = (group: unknown) => `<${logicalIdOf(onStack, group as never)}.Arn>`;
    expect(acknowledgedUnder(app, 'DeliveryStatusSources').sort()).toEqual(
      [
        `SmsLoggingPolicy AwsSolutions-IAM5[Resource::${groupArn(groups?.success)}]`,
        `SmsLoggingPolicy AwsSolutions-IAM5[Resource::${groupArn(groups?.failure)}]`,
        'SmsAttributes/CustomResourcePolicy AwsSolutions-IAM5[Resource::*]',
      ].sort(),
    );
  });
});
