import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validations } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, describe, expect, it } from 'vitest';
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
const receiving = stack.gateway.inboundEmailReceiving;
const resources = template.toJSON().Resources;
const bucketId = logicalIdOf(stack, receiving.bucket);
const logsBucketId = logicalIdOf(stack, receiving.accessLogsBucket);
const keyId = logicalIdOf(stack, receiving.key);
const topicId = logicalIdOf(stack, receiving.topic);
const ruleId = logicalIdOf(stack, receiving.rule);
const queueId = logicalIdOf(stack, stack.gateway.inboundEmailDeadLetters.queue);
const functionId = functionLogicalId(stack, 'inbound-email');

const ofType = (source: Template, type: string) => Object.values(source.findResources(type));
const ruleOf = (source: Template) => {
  const rules = ofType(source, 'AWS::SES::ReceiptRule');
  expect(rules).toHaveLength(1);
  return rules[0]?.Properties as { RuleSetName: unknown; Rule: Record<string, unknown> };
};
const ruleSetRef = { Ref: logicalIdOf(stack, receiving.node.findChild('RuleSet')) };
const ruleName = ruleOf(template).Rule.Name as string;
/** The one receipt rule's ARN, as SES's aws:SourceArn carries it. */
const ruleArn = (ruleSetName: unknown, name = ruleName) => ({
  'Fn::Join': ['', ['arn:aws:ses:eu-west-1:123456789012:receipt-rule-set/', ruleSetName, `:receipt-rule/${name}`]],
});
const fromThisRule = { StringEquals: { 'aws:SourceAccount': '123456789012', 'aws:SourceArn': ruleArn(ruleSetRef) } };
const bucketArn = { 'Fn::GetAtt': [bucketId, 'Arn'] };
const inboundObjects = { 'Fn::Join': ['', [bucketArn, '/inbound/*']] };

/** Every statement of a resource policy that names SES as its principal. */
const sesStatements = (statements: Record<string, unknown>[]) =>
  statements.filter((statement) => JSON.stringify(statement.Principal).includes('ses.amazonaws.com'));

describe('inbound email bucket', () => {
  it('encrypts the raw mail with its own rotated customer-managed key (SSE-KMS, bucket key)', () => {
    expect(resources[bucketId].Properties.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [
        {
          BucketKeyEnabled: true,
          ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [keyId, 'Arn'] } },
        },
      ],
    });
    expect(resources[keyId].Properties.EnableKeyRotation).toBe(true);
    expect(keyId).not.toBe(logicalIdOf(stack, stack.gateway.table.key));
    expect(keyId).not.toBe(logicalIdOf(stack, stack.gateway.inboundSmsTopic.key));
  });

  it('blocks public access, owns its objects and expires every message after 30 days', () => {
    expect(resources[bucketId].Properties).toMatchObject({
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      LifecycleConfiguration: {
        Rules: [
          { Status: 'Enabled', ExpirationInDays: 30, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } },
        ],
      },
    });
    expect(resources[bucketId].Properties.VersioningConfiguration).toBeUndefined();
  });

  it('refuses requests without TLS, or below TLS 1.2', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } },
          }),
        ]),
      },
    });
  });

  it('logs access to an SSE-S3, private, TLS-only log bucket that keeps records a year', () => {
    expect(resources[bucketId].Properties.LoggingConfiguration).toEqual({
      DestinationBucketName: { Ref: logsBucketId },
      LogFilePrefix: 'inbound-email/',
    });
    expect(resources[logsBucketId].Properties).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, RestrictPublicBuckets: true },
      LifecycleConfiguration: { Rules: [{ Status: 'Enabled', ExpirationInDays: 365 }] },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logsBucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'logging.s3.amazonaws.com' },
            Condition: Match.objectLike({ ArnLike: { 'aws:SourceArn': bucketArn } }),
          }),
        ]),
      },
    });
  });

  it('lets SES put objects under inbound/ only, for this account and this one receipt rule', () => {
    const [policy] = ofType(template, 'AWS::S3::BucketPolicy').filter(
      (candidate) => JSON.stringify(candidate.Properties.Bucket) === JSON.stringify({ Ref: bucketId }),
    );
    expect(sesStatements(policy?.Properties.PolicyDocument.Statement)).toEqual([
      {
        Sid: 'SesStoresInboundMail',
        Effect: 'Allow',
        Principal: { Service: 'ses.amazonaws.com' },
        Action: 's3:PutObject',
        Resource: inboundObjects,
        Condition: fromThisRule,
      },
    ]);
  });

  it('lets SES use the key for this receipt rule only: data keys for the object and the notification', () => {
    const statements = resources[keyId].Properties.KeyPolicy.Statement as Record<string, unknown>[];
    expect(sesStatements(statements)).toEqual([
      {
        Sid: 'SesEncryptsInboundMail',
        Effect: 'Allow',
        Principal: { Service: 'ses.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Resource: '*',
        Condition: fromThisRule,
      },
    ]);
  });
});

describe('inbound email topic', () => {
  it('is encrypted with the inbound email key', () => {
    expect(resources[topicId].Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
  });

  it('accepts publishes over TLS only, from SES for this receipt rule only', () => {
    const [policy] = ofType(template, 'AWS::SNS::TopicPolicy').filter(
      (candidate) => JSON.stringify(candidate.Properties.Topics) === JSON.stringify([{ Ref: topicId }]),
    );
    const statements = policy?.Properties.PolicyDocument.Statement as Record<string, unknown>[];
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Action: 'sns:Publish',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
    expect(sesStatements(statements)).toEqual([
      {
        Sid: 'SesNotifiesStoredMail',
        Effect: 'Allow',
        Principal: { Service: 'ses.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: { Ref: topicId },
        Condition: fromThisRule,
      },
    ]);
  });
});

describe('SES receipt rule', () => {
  it('creates a rule set of its own, inactive by default (no activation resource)', () => {
    template.resourceCountIs('AWS::SES::ReceiptRuleSet', 1);
    template.resourceCountIs('Custom::AWS', 0);
    expect(receiving.ownsRuleSet).toBe(true);
    template.hasOutput('InboundEmailRuleSetName', { Value: ruleSetRef });
    template.hasOutput('InboundEmailMxRecord', { Value: '10 inbound-smtp.eu-west-1.amazonaws.com' });
  });

  it('takes every recipient at the reply domain, scans for spam and viruses, stores to inbound/ then notifies', () => {
    expect(ruleOf(template)).toEqual({
      RuleSetName: ruleSetRef,
      Rule: {
        Name: ruleName,
        Enabled: true,
        Recipients: ['reply.bank.example'],
        ScanEnabled: true,
        // One S3 action, its own topic: the notification names the stored object (no SNS action, which bounces
        // mail over 150 KB), and no KMS key (client-side encryption, which only the S3 encryption client reads).
        Actions: [
          { S3Action: { BucketName: { Ref: bucketId }, ObjectKeyPrefix: 'inbound/', TopicArn: { Ref: topicId } } },
        ],
      },
    });
    expect(ruleName).toMatch(/^[A-Za-z0-9][A-Za-z0-9._-]{0,61}[A-Za-z0-9]$/);
  });

  it('is created after the bucket and topic policies, which SES checks when the rule is created', () => {
    const dependsOn = [resources[ruleId].DependsOn].flat();
    expect(dependsOn).toEqual(
      expect.arrayContaining([
        logicalIdOf(stack, receiving.bucket.policy as never),
        expect.stringMatching(/TopicPolicy/),
      ]),
    );
  });

  it('activates the rule set when asked, and clears the active set on delete', () => {
    const { stack: activated, template: activatedTemplate } = synthGateway({
      gateway: { activateReceiptRuleSet: true },
    });
    const [activation] = ofType(activatedTemplate, 'Custom::AWS');
    const setRef = logicalIdOf(activated, activated.gateway.inboundEmailReceiving.node.findChild('RuleSet'));
    /** An SDK call as the provider gets it, the rule set's name as `<Ref>`. */
    const call = (joined: { 'Fn::Join': [string, unknown[]] }) =>
      JSON.parse(
        joined['Fn::Join'][1]
          .map((part) => (typeof part === 'string' ? part : `<${(part as { Ref: string }).Ref}>`))
          .join(''),
      );
    const set = { service: 'SES', action: 'SetActiveReceiptRuleSet', physicalResourceId: { id: `<${setRef}>` } };
    expect(call(activation?.Properties.Create)).toEqual({ ...set, parameters: { RuleSetName: `<${setRef}>` } });
    expect(call(activation?.Properties.Update)).toEqual({ ...set, parameters: { RuleSetName: `<${setRef}>` } });
    // No name: no rule set active, so SES lets the stack delete its set.
    expect(call(activation?.Properties.Delete)).toEqual({ ...set, parameters: {} });
    expect(activation?.DependsOn).toContain(logicalIdOf(activated, activated.gateway.inboundEmailReceiving.rule));
    const statements = ofType(activatedTemplate, 'AWS::IAM::Policy')
      .filter((policy) => policy.Properties.PolicyName.includes('Activation'))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement as PolicyStatementJson[]);
    expect(statements.filter((statement) => JSON.stringify(statement.Action).includes('ses:'))).toEqual([
      expect.objectContaining({ Effect: 'Allow', Action: 'ses:SetActiveReceiptRuleSet', Resource: '*' }),
    ]);
    // Its own role: no AWS-managed policy, logs to its own group.
    for (const role of ofType(activatedTemplate, 'AWS::IAM::Role'))
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('adds the rule to an existing rule set instead, naming it in the conditions', () => {
    const { stack: shared, template: sharedTemplate } = synthGateway({
      gateway: { existingReceiptRuleSetName: 'bank-inbound' },
    });
    sharedTemplate.resourceCountIs('AWS::SES::ReceiptRuleSet', 0);
    sharedTemplate.resourceCountIs('Custom::AWS', 0);
    const rule = ruleOf(sharedTemplate);
    expect(rule.RuleSetName).toBe('bank-inbound');
    const arn = `arn:aws:ses:eu-west-1:123456789012:receipt-rule-set/bank-inbound:receipt-rule/${rule.Rule.Name}`;
    const keyPolicy =
      sharedTemplate.toJSON().Resources[logicalIdOf(shared, shared.gateway.inboundEmailReceiving.key)].Properties
        .KeyPolicy.Statement;
    expect(sesStatements(keyPolicy)[0]?.Condition).toEqual({
      StringEquals: { 'aws:SourceAccount': '123456789012', 'aws:SourceArn': arn },
    });
    expect(shared.gateway.inboundEmailReceiving.ownsRuleSet).toBe(false);
    sharedTemplate.hasOutput('InboundEmailRuleSetName', { Value: 'bank-inbound' });
  });

  it.each<[Partial<ParleyGatewayProps>, RegExp]>([
    [{ existingReceiptRuleSetName: 'bank-inbound', createReceiptRuleSet: true }, /not both/],
    [{ existingReceiptRuleSetName: 'bank-inbound', activateReceiptRuleSet: true }, /activateReceiptRuleSet/],
    [{ createReceiptRuleSet: false }, /existingReceiptRuleSetName/],
    [{ existingReceiptRuleSetName: 'not a name!' }, /existingReceiptRuleSetName/],
  ])('refuses %j', (gateway, message) => {
    expect(() => synthGateway({ gateway })).toThrow(message);
  });
});

describe('inbound-email function', () => {
  const environment = resources[functionId].Properties.Environment.Variables as Record<string, unknown>;

  it('has the time and memory to read and parse a 40 MB mail', () => {
    expect(resources[functionId].Properties).toMatchObject({ Timeout: 60, MemorySize: 2048 });
  });

  it('is subscribed to the topic, with a redrive policy to its own dead-letter queue', () => {
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
    expect(queueId).not.toBe(logicalIdOf(stack, stack.gateway.inboundSmsDeadLetters.queue));
  });

  it('retries a failed event twice, then dead-letters it to that queue', () => {
    expect(resources[functionId].Properties.DeadLetterConfig).toEqual({
      TargetArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: functionId },
      MaximumRetryAttempts: 2,
    });
    expect(resources[queueId].Properties).toMatchObject({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1209600,
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queueId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
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

  it('gets the inbound SMS function’s settings for its needs, plus the bucket', () => {
    expect(Object.keys(environment).sort()).toEqual(
      [
        'POWERTOOLS_SERVICE_NAME',
        'PARLEY_TABLE_NAME',
        'PARLEY_EVENT_BUS_NAME',
        'PARLEY_DEAD_LETTER_QUEUE_URL',
        'PARLEY_EVENTS_DLQ_URL',
        'PARLEY_TOKEN_SECRET_ARN',
        'PARLEY_SES_CONFIGURATION_SET',
        'PARLEY_REPLY_DOMAIN',
        'PARLEY_CHAT_SESSION_TTL_MS',
        'PARLEY_PUBLIC_URL',
        'PARLEY_WS_CALLBACK_URL',
        'PARLEY_INBOUND_EMAIL_BUCKET',
      ].sort(),
    );
    expect(environment).toMatchObject({
      PARLEY_INBOUND_EMAIL_BUCKET: { Ref: bucketId },
      PARLEY_DEAD_LETTER_QUEUE_URL: { Ref: queueId },
      PARLEY_REPLY_DOMAIN: 'reply.bank.example',
    });
  });

  it('alarms on the first message in its dead-letter queue and has a row on the dashboard', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    const [dashboard] = ofType(template, 'AWS::CloudWatch::Dashboard');
    const body = JSON.stringify(stack.resolve(dashboard?.Properties.DashboardBody));
    expect(body).toContain('Inbound email (SES notifications)');
    expect(body).toContain('NumberOfMessagesPublished');
    expect(body).toContain('NumberOfNotificationsFailed');
    expect(body).toContain(JSON.stringify({ 'Fn::GetAtt': [queueId, 'QueueName'] }));
    expect(body).toContain(JSON.stringify({ 'Fn::GetAtt': [topicId, 'TopicName'] }));
    expect(body).toContain('\\"label\\":\\"inbound email\\"');
  });
});

describe('inbound-email least privilege', () => {
  const statements = policyStatementsOf(stack, template, 'inbound-email');
  const allows = statements.filter((statement) => statement.Effect === 'Allow');
  const actions = allows.flatMap((statement) => [statement.Action].flat());
  const ref = (value: unknown) => JSON.stringify(value);

  it('may read base-table items, publish events, read the token secret, send email, push to chat, read mail', () => {
    expect(actions.sort()).toEqual(
      [
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
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
        'kms:Decrypt', // the secret's, through Secrets Manager
        'ses:SendEmail',
        'ses:SendRawEmail',
        'execute-api:ManageConnections',
        's3:GetObject',
        'kms:Decrypt', // the stored mail's, through S3
      ].sort(),
    );
    expect(actions).not.toContain('sns:Publish');
  });

  it('reads stored mail under inbound/ of the mail bucket only, and decrypts it only through S3 for that bucket', () => {
    const s3 = allows.filter((statement) => [statement.Action].flat().some((action) => action.startsWith('s3:')));
    expect(s3).toEqual([expect.objectContaining({ Action: 's3:GetObject', Resource: inboundObjects })]);
    const mailKey = allows.filter((statement) => ref(statement.Resource) === ref({ 'Fn::GetAtt': [keyId, 'Arn'] }));
    expect(mailKey).toEqual([
      expect.objectContaining({
        Action: 'kms:Decrypt',
        Condition: {
          StringEquals: {
            'kms:ViaService': 's3.eu-west-1.amazonaws.com',
            'kms:EncryptionContext:aws:s3:arn': bucketArn,
          },
        },
      }),
    ]);
  });

  it('sends email only as the domain identity, and dead-letters only to its queue and the undelivered-events queue', () => {
    const ses = allows.filter((statement) => [statement.Action].flat().includes('ses:SendEmail'));
    expect(ref(ses.map((statement) => statement.Resource))).toContain('identity/mail.bank.example');
    expect(ref(ses.map((statement) => statement.Resource))).not.toContain('*');
    const sqs = allows.filter((statement) => [statement.Action].flat().includes('sqs:SendMessage'));
    expect(new Set(sqs.flatMap((statement) => [statement.Resource].flat()).map(ref))).toEqual(
      new Set([
        ref({ 'Fn::GetAtt': [queueId, 'Arn'] }),
        ref({ 'Fn::GetAtt': [logicalIdOf(stack, stack.gateway.undeliveredEvents.queue), 'Arn'] }),
      ]),
    );
  });

  it('uses no wildcard resource but X-Ray, chat connections and the inbound/ prefix', () => {
    const wildcards = allows
      .filter((statement) => ref(statement.Resource).includes('*'))
      .map((statement) => [statement.Action].flat().join(','));
    expect(wildcards.sort()).toEqual(
      ['execute-api:ManageConnections', 's3:GetObject', 'xray:PutTelemetryRecords,xray:PutTraceSegments'].sort(),
    );
  });
});

describe('inbound email under cdk-nag AwsSolutions', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'parley-cdk-inbound-email-'));
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  const findings = (gateway: Partial<ParleyGatewayProps>) => {
    const { app } = createGatewayApp({ appProps: { outdir: mkdtempSync(join(outdir, 'app-')) }, gateway });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    // An unacknowledged error makes synth throw; warnings reach the report only.
    const report = JSON.parse(readFileSync(join(app.synth().directory, 'validation-report.json'), 'utf8')) as {
      pluginReports: { violations: unknown[] }[];
    };
    return report.pluginReports.flatMap((plugin) => plugin.violations);
  };

  it.each<[string, Partial<ParleyGatewayProps>]>([
    ['with its rule set activated', { activateReceiptRuleSet: true }],
    ['with an existing rule set', { existingReceiptRuleSetName: 'bank-inbound' }],
  ])('synthesizes with zero unacknowledged findings %s', (_name, gateway) => {
    expect(findings(gateway)).toEqual([]);
  });

  it('acknowledges the activation call’s Resource "*" on its own policy alone, with its reason', () => {
    const { app } = createGatewayApp({ gateway: { activateReceiptRuleSet: true } });
    const acknowledged = app.node
      .findAll()
      .filter((construct) => construct.node.path.includes('InboundEmailReceiving/Activation'))
      .flatMap((construct) =>
        construct.node.metadata
          .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
          .map((entry) => ({ path: construct.node.path, rules: Object.keys(entry.data as object) })),
      );
    expect(acknowledged).toEqual([
      {
        path: 'Parley/Gateway/InboundEmailReceiving/Activation/CustomResourcePolicy',
        rules: [expect.stringMatching(/AwsSolutions-IAM5\[Resource::\*\]$/)],
      },
    ]);
  });
});
