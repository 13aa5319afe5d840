import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, describe, expect, it } from 'vitest';
import { ParleyGateway, type ParleyGatewayProps } from '../../lib/parley-gateway.ts';
import { baseGatewayProps, featureFlags, stubSourceDir } from './gateway-app.ts';

const outdir = mkdtempSync(join(tmpdir(), 'parley-cdk-embedding-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

const bankAlarmsArn = 'arn:aws:sns:eu-west-1:123456789012:bank-alarms';

/** A bank's own app and stack, with its bus and alarm topic, embedding a gateway. */
const embed = (props: (bank: { bus: events.IEventBus; topic: sns.ITopic }) => Partial<ParleyGatewayProps>) => {
  const app = new App({ outdir, context: { ...featureFlags(), 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Bank', { env: { account: '123456789012', region: 'eu-west-1' } });
  const bus = events.EventBus.fromEventBusName(stack, 'BankBus', 'bank-events');
  const topic = sns.Topic.fromTopicArn(stack, 'BankAlarms', bankAlarmsArn);
  const gateway = new ParleyGateway(stack, 'Parley', {
    ...baseGatewayProps,
    alarmEmail: undefined,
    sourceDir: stubSourceDir(),
    ...props({ bus, topic }),
  });
  return { app, stack, gateway };
};

const embedded = ({ bus, topic }: { bus: events.IEventBus; topic: sns.ITopic }) => ({
  existingEventBus: bus,
  existingAlarmTopic: topic,
  eventArchiveRetention: Duration.days(7),
});

describe('ParleyGateway embedded in a bank’s own app', () => {
  const template = Template.fromStack(embed(embedded).stack);
  const functions = Object.values(template.findResources('AWS::Lambda::Function'));

  it('publishes to the existing bus: no bus of its own, every function names it, PutEvents on it alone', () => {
    template.resourceCountIs('AWS::Events::EventBus', 0);
    for (const fn of functions) expect(fn.Properties.Environment.Variables.PARLEY_EVENT_BUS_NAME).toBe('bank-events');
    const putEvents = Object.values(template.findResources('AWS::IAM::Policy'))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement as { Action: unknown; Resource: unknown }[])
      .filter((statement) => [statement.Action].flat().includes('events:PutEvents'));
    expect(putEvents.length).toBeGreaterThan(0);
    for (const statement of putEvents) {
      expect(JSON.stringify(statement.Resource)).toContain(':events:eu-west-1:123456789012:event-bus/bank-events');
    }
  });

  it('archives Parley’s events on that bus when asked', () => {
    const archives = Object.values(template.findResources('AWS::Events::Archive'));
    expect(archives).toHaveLength(1);
    expect(JSON.stringify(archives[0]?.Properties.SourceArn)).toContain('event-bus/bank-events');
    expect(archives[0]?.Properties).toMatchObject({ RetentionDays: 7, EventPattern: { source: ['parley'] } });
  });

  it('sends every alarm to the existing topic and creates no topic or key for alarms', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.length).toBeGreaterThan(0);
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toEqual([bankAlarmsArn]);
    // The topics left are the inbound SMS, inbound email and SES event topics, each with its own key.
    template.resourceCountIs('AWS::SNS::Topic', 3);
    template.resourceCountIs('AWS::SNS::Subscription', 3);
    expect(
      Object.values(template.findResources('AWS::KMS::Key')).map((key) => key.Properties.Description),
    ).not.toContain('Parley alarm topic');
  });

  it('still passes cdk-nag AwsSolutions: no error (synth would throw) and no warning in the report', () => {
    // A gateway of its own: the checks must be in place before the app's first synth.
    const { app } = embed(embedded);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const report = JSON.parse(readFileSync(join(app.synth().directory, 'validation-report.json'), 'utf8')) as {
      pluginReports: { pluginName: string; violations: unknown[] }[];
    };
    expect(report.pluginReports.flatMap((plugin) => plugin.violations)).toEqual([]);
  });

  it('refuses a bus name beside an existing bus, and an alarm email beside an existing topic', () => {
    expect(() => embed(({ bus }) => ({ existingEventBus: bus, eventBusName: 'parley' }))).toThrow(/eventBusName/);
    expect(() => embed(({ topic }) => ({ existingAlarmTopic: topic, alarmEmail: 'ops@bank.example' }))).toThrow(
      /alarmEmail/,
    );
  });
});
