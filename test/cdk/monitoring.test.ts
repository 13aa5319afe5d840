import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CfnElement } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { metrics as functionMetrics } from '../../functions/handlers/http/observability.ts';
import { type ParleyMetricName, parleyMetricDimensions, parleyMetricNamespace } from '../../lib/monitoring.ts';
import { packageRoot } from '../../lib/parley-function.ts';
import { functionLogicalId, handlerNames, logicalIdOf, synthGateway } from './gateway-app.ts';

const { stack, template } = synthGateway();
const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
const topicId = stack.getLogicalId(stack.gateway.monitoring.topic.node.defaultChild as CfnElement);

const parleyMetricNames: ParleyMetricName[] = [
  'MessagesSent',
  'MessagesFailed',
  'InboundProcessed',
  'InboundDuplicates',
  'InboundDeadLettered',
  'EventsRetried',
  'EventsDeadLettered',
  'EventsNotPublished',
];

interface Widget {
  properties: { title: string; metrics: unknown[][]; annotations?: { horizontal: { value: number }[] } };
}

/** The dashboard's widgets, each reference written `{{Ref:<id>}}` or `{{GetAtt:<id>.<attribute>}}`. */
const dashboardOf = (synthesized: Template): { name: unknown; widgets: Widget[] } => {
  const dashboards = Object.values(synthesized.findResources('AWS::CloudWatch::Dashboard'));
  expect(dashboards).toHaveLength(1);
  const { DashboardName: name, DashboardBody: body } = dashboards[0]?.Properties ?? {};
  const [, parts] = body['Fn::Join'] as [string, unknown[]];
  const text = parts
    .map((part) => {
      if (typeof part === 'string') return part;
      const { Ref: ref, 'Fn::GetAtt': getAtt } = part as { Ref?: string; 'Fn::GetAtt'?: string[] };
      return ref ? `{{Ref:${ref}}}` : `{{GetAtt:${getAtt?.join('.')}}}`;
    })
    .join('');
  return { name, widgets: (JSON.parse(text) as { widgets: Widget[] }).widgets };
};

const widgetTitled = (widgets: Widget[], title: string): Widget => {
  const widget = widgets.find((candidate) => candidate.properties.title === title);
  expect(widget, title).toBeDefined();
  return widget as Widget;
};

/** `[namespace, metric name, ...dimension names and values]` of each line, the rendering options left off. */
const linesOf = (widget: Widget): unknown[][] =>
  widget.properties.metrics.map((line) => line.filter((item) => typeof item !== 'object'));

/** `[label, stat]` of each line. */
const renderingOf = (widget: Widget): unknown[][] =>
  widget.properties.metrics.map((line) => {
    const { label, stat } = line.at(-1) as { label: string; stat: string };
    return [label, stat];
  });

describe('monitoring', () => {
  it('alarms on the first error of every function', () => {
    for (const name of handlerNames) {
      const alarm = alarms.find(
        (candidate) =>
          candidate.Properties.MetricName === 'Errors' &&
          candidate.Properties.Dimensions?.[0]?.Value?.Ref === functionLogicalId(stack, name),
      );
      expect(alarm?.Properties, name).toMatchObject({
        Namespace: 'AWS/Lambda',
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: topicId }],
      });
    }
  });

  it('alarms on any 5xx of the HTTP API', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/ApiGateway',
      MetricName: '5xx',
      Threshold: 1,
      AlarmActions: [{ Ref: topicId }],
    });
  });

  it('alarms on the first message in the inbound SMS dead-letter queue', () => {
    const queueId = logicalIdOf(stack, stack.gateway.inboundSmsDeadLetters.queue);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
      Statistic: 'Maximum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: topicId }],
    });
  });

  it('alarms on the first message in the undelivered-events queue: events a replay must deliver', () => {
    const queueId = logicalIdOf(stack, stack.gateway.undeliveredEvents.queue);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
      Statistic: 'Maximum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: topicId }],
    });
  });

  it('alarms on the first event not published in 5 minutes: a backend missed it', () => {
    const alarm = alarms.find((candidate) => candidate.Properties.MetricName === 'EventsNotPublished');
    expect(alarm?.Properties).toEqual({
      AlarmDescription: expect.stringContaining('not published'),
      Namespace: 'Parley',
      MetricName: 'EventsNotPublished',
      Dimensions: [{ Name: 'service', Value: 'parley' }],
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: topicId }],
    });
  });

  it('alarms on 10 failed sends in 5 minutes by default, missing data not breaching', () => {
    const alarm = alarms.find((candidate) => candidate.Properties.MetricName === 'MessagesFailed');
    expect(alarm?.Properties).toEqual({
      AlarmDescription: expect.stringContaining('failed sends'),
      Namespace: 'Parley',
      MetricName: 'MessagesFailed',
      Dimensions: [{ Name: 'service', Value: 'parley' }],
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 10,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: topicId }],
    });
  });

  it('takes the failed-sends threshold from the gateway props, and refuses one below 1 or fractional', () => {
    const { template: strict } = synthGateway({ gateway: { messagesFailedAlarmThreshold: 3 } });
    strict.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'MessagesFailed', Threshold: 3 });
    for (const threshold of [0, 2.5]) {
      expect(() => synthGateway({ gateway: { messagesFailedAlarmThreshold: threshold } })).toThrow(
        /messagesFailedAlarmThreshold/,
      );
    }
  });

  it('has nothing else: one alarm per function, the 5xx, the six dead-letter queues, events, failed sends, bounces, complaints and SMS delivery failures', () => {
    // InboundDeadLettered and EventsDeadLettered have no alarm of their own: each is a message in a queue alarmed
    // on; EventsRetried is no failure at all. The webhook queues: test/cdk/webhooks.test.ts.
    expect(alarms).toHaveLength(handlerNames.length + 12);
    for (const metricName of ['InboundDeadLettered', 'EventsDeadLettered', 'EventsRetried']) {
      expect(alarms.filter((alarm) => alarm.Properties.MetricName === metricName)).toEqual([]);
    }
  });

  it('sends alarms to a KMS-encrypted, TLS-only topic CloudWatch may publish to, mailed to ops', () => {
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Action: 'sns:Publish',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@bank.example' });
  });

  it('has no email subscription when no alarm email is configured', () => {
    const { template: quiet } = synthGateway({ gateway: { alarmEmail: undefined } });
    // The subscriptions left are the inbound SMS, inbound email and delivery status functions', on their own topics.
    expect(quiet.findResources('AWS::SNS::Subscription', { Properties: { Protocol: 'email' } })).toEqual({});
    expect(quiet.findResources('AWS::SNS::Subscription', { Properties: { TopicArn: { Ref: topicId } } })).toEqual({});
    quiet.resourceCountIs('AWS::SNS::Subscription', 3);
  });
});

describe('dashboard', () => {
  const { name, widgets } = dashboardOf(template);
  const parley = (metricName: string) => ['Parley', metricName, 'service', 'parley'];

  it('is one dashboard, named after the stack and its region', () => {
    expect(name).toBe('Parley-eu-west-1');
  });

  it("graphs Parley's own metrics, summed, in the namespace and dimension the functions publish them with", () => {
    expect(linesOf(widgetTitled(widgets, 'Outbound messages'))).toEqual([
      parley('MessagesSent'),
      parley('MessagesFailed'),
    ]);
    expect(linesOf(widgetTitled(widgets, 'Inbound SMS'))).toEqual([
      parley('InboundProcessed'),
      parley('InboundDuplicates'),
      parley('InboundDeadLettered'),
    ]);
    expect(linesOf(widgetTitled(widgets, 'Events retried, dead-lettered, lost'))).toEqual([
      parley('EventsRetried'),
      parley('EventsDeadLettered'),
      parley('EventsNotPublished'),
    ]);
    const parleyLines = widgets.flatMap((widget) => widget.properties.metrics).filter((line) => line[0] === 'Parley');
    expect(parleyLines.map((line) => line[1]).sort()).toEqual([...parleyMetricNames].sort());
    for (const line of parleyLines) expect(line.at(-1)).toMatchObject({ stat: 'Sum' });
    expect(widgetTitled(widgets, 'Outbound messages').properties.annotations?.horizontal).toMatchObject([
      { value: 10 },
    ]);
  });

  it('graphs the depth of the dead-letter queues: inbound SMS, inbound email, delivery status, undelivered events, webhooks', () => {
    const depth = (queue: IConstruct) => [
      'AWS/SQS',
      'ApproximateNumberOfMessagesVisible',
      'QueueName',
      `{{GetAtt:${logicalIdOf(stack, queue)}.QueueName}}`,
    ];
    const widget = widgetTitled(widgets, 'Dead-letter queue depth');
    expect(linesOf(widget)).toEqual([
      depth(stack.gateway.inboundSmsDeadLetters.queue),
      depth(stack.gateway.inboundEmailDeadLetters.queue),
      depth(stack.gateway.deliveryStatusDeadLetters.queue),
      depth(stack.gateway.undeliveredEvents.queue),
      depth(stack.gateway.webhooks.deadLetters),
      depth(stack.gateway.webhooks.eventDeadLetters.queue),
    ]);
    expect(renderingOf(widget)).toEqual([
      ['inbound SMS', 'Maximum'],
      ['inbound email', 'Maximum'],
      ['delivery status', 'Maximum'],
      ['undelivered events', 'Maximum'],
      ['webhook deliveries', 'Maximum'],
      ['webhook events', 'Maximum'],
    ]);
  });

  it("graphs the HTTP API's requests, 4xx, 5xx and latency p50 and p99 on its $default stage", () => {
    const api = ['AWS/ApiGateway', 'ApiId', `{{Ref:${logicalIdOf(stack, stack.gateway.httpApi.api)}}}`];
    const line = (metricName: string) => [api[0], metricName, api[1], api[2], 'Stage', '$default'];
    const requests = widgetTitled(widgets, 'HTTP API requests and errors');
    expect(linesOf(requests)).toEqual([line('Count'), line('4xx'), line('5xx')]);
    expect(renderingOf(requests).map(([, stat]) => stat)).toEqual(['Sum', 'Sum', 'Sum']);
    const latency = widgetTitled(widgets, 'HTTP API latency (ms)');
    expect(linesOf(latency)).toEqual([line('Latency'), line('Latency')]);
    expect(renderingOf(latency)).toEqual([
      ['p50', 'p50'],
      ['p99', 'p99'],
    ]);
  });

  it("graphs the chat's connects, messages and integration errors on its stage", () => {
    const apiId = `{{Ref:${logicalIdOf(stack, stack.gateway.webSocketApi.api)}}}`;
    const line = (metricName: string) => ['AWS/ApiGateway', metricName, 'ApiId', apiId, 'Stage', 'chat'];
    expect(linesOf(widgetTitled(widgets, 'Chat (WebSocket) connects and messages'))).toEqual([
      line('ConnectCount'),
      line('MessageCount'),
    ]);
    expect(linesOf(widgetTitled(widgets, 'Chat (WebSocket) errors'))).toEqual([
      line('IntegrationError'),
      line('ExecutionError'),
      line('ClientError'),
    ]);
  });

  it('graphs the errors, throttles and p95 duration of every function', () => {
    for (const [title, metricName, stat] of [
      ['Function errors', 'Errors', 'Sum'],
      ['Function throttles', 'Throttles', 'Sum'],
      ['Function duration p95 (ms)', 'Duration', 'p95'],
    ] as const) {
      const widget = widgetTitled(widgets, title);
      expect(linesOf(widget), title).toEqual(
        expect.arrayContaining(
          handlerNames.map((handler) => [
            'AWS/Lambda',
            metricName,
            'FunctionName',
            `{{Ref:${functionLogicalId(stack, handler)}}}`,
          ]),
        ),
      );
      expect(linesOf(widget), title).toHaveLength(handlerNames.length);
      expect(renderingOf(widget).sort(), title).toEqual(handlerNames.map((handler) => [handler, stat]).sort());
    }
  });
});

describe("the functions' metrics, as the alarms and the dashboard expect them", () => {
  it('are published in the Parley namespace with the service dimension, by the shared Powertools instance', () => {
    functionMetrics.addMetric('EventsNotPublished', 'Count', 1);
    const emf = functionMetrics.serializeMetrics();
    functionMetrics.clearMetrics();
    expect(emf._aws.CloudWatchMetrics).toEqual([
      expect.objectContaining({ Namespace: parleyMetricNamespace, Dimensions: [Object.keys(parleyMetricDimensions)] }),
    ]);
    expect(emf).toMatchObject(parleyMetricDimensions);
  });

  it('are each added by some handler under exactly these names', () => {
    const handlersDir = join(packageRoot, 'functions', 'handlers');
    const source = readdirSync(handlersDir, { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
      .map((file) => readFileSync(join(handlersDir, file), 'utf8'))
      .join('\n');
    for (const metricName of parleyMetricNames) expect(source, metricName).toContain(`'${metricName}'`);
  });
});
