import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { afterAll, describe, expect, it } from 'vitest';
import { createGatewayApp, logicalIdOf } from './gateway-app.ts';

interface Acknowledgement {
  path: string;
  id: string;
  reason: string;
}

/** Every `Validations.of(x).acknowledge(...)` in the tree, from the metadata it records. */
const acknowledgementsIn = (root: IConstruct): Acknowledgement[] =>
  root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          path: construct.node.path,
          id: id.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );

/** `<path under the gateway> <rule id>` for every acknowledgement. */
const summaryOf = (root: IConstruct): string[] =>
  acknowledgementsIn(root).map(({ path, id }) => `${path.replace(/^Parley\/Gateway\//, '')} ${id}`);

const outdir = mkdtempSync(join(tmpdir(), 'parley-cdk-nag-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

const { app, stack } = createGatewayApp({ appProps: { outdir } });
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

/** The findings a synth reports, as `<pack>: <severity> <rule>`; an unacknowledged error throws first. */
const findingsOf = (assemblyDirectory: string): string[] => {
  const report = JSON.parse(readFileSync(join(assemblyDirectory, 'validation-report.json'), 'utf8')) as {
    pluginReports: { pluginName: string; violations: { ruleName: string; severity: string }[] }[];
  };
  return report.pluginReports.flatMap((plugin) =>
    plugin.violations.map((violation) => `${plugin.pluginName}: ${violation.severity} ${violation.ruleName}`),
  );
};

describe('cdk-nag AwsSolutions gate', () => {
  it('synthesizes with zero unacknowledged errors or warnings', () => {
    // An unacknowledged error makes synth throw with the full report; warnings only reach the report file.
    expect(findingsOf(app.synth().directory)).toEqual([]);
  });

  it('acknowledges one AwsSolutions finding at a time, each with a reason a reviewer can check', () => {
    const acknowledgements = acknowledgementsIn(app);
    expect(acknowledgements.length).toBeGreaterThan(0);
    for (const { path, id, reason } of acknowledgements) {
      expect(id, path).toMatch(/^AwsSolutions-[A-Z]+\d+(\[.+\])?$/);
      expect(reason.trim().length, `${path} ${id}`).toBeGreaterThanOrEqual(40);
    }
    // Never a blanket acknowledgement on the stack or the gateway.
    expect(acknowledgements.filter(({ path }) => path === 'Parley' || path === 'Parley/Gateway')).toEqual([]);
  });

  it('acknowledges only findings that exist: each one covers a real violation', () => {
    const pack = new AwsSolutionsChecks();
    // Ask the pack what it finds with acknowledgements ignored (isAcknowledged is private in cdk-nag 3).
    Object.defineProperty(pack, 'isAcknowledged', { value: () => false });
    const raw = pack.validateScope(app).violations.flatMap((violation) =>
      violation.violatingResources.map((resource) => ({
        id: violation.ruleName,
        path: resource.constructPath ?? '',
      })),
    );
    for (const { path, id } of acknowledgementsIn(app)) {
      const covered = raw.filter((finding) => finding.id === id && `${finding.path}/`.startsWith(`${path}/`));
      expect(covered.length, `${path} ${id} acknowledges nothing`).toBeGreaterThan(0);
    }
  });

  it('acknowledges exactly the expected findings', () => {
    const summary = summaryOf(app).sort();
    const connections = `arn:aws:execute-api:eu-west-1:123456789012:<${logicalIdOf(stack, stack.gateway.webSocketApi.api)}>/chat/POST/@connections/*`;
    expect(summary).toEqual(
      [
        ...[
          'Authorizer',
          'Callbacks',
          'Conversations',
          'Customers',
          'InboundSms',
          'InboundEmail',
          'Confirm',
          'DeliveryStatus',
          'Messages',
          'Openapi',
          'Pages',
          'SendMessage',
          'Templates',
          'TenantSettings',
          'Unsubscribe',
          'Webhooks',
          'WebhookDelivery/Sender',
          'WsConnect',
          'WsDisconnect',
          'WsMessage',
        ].map((fn) => `${fn}/Role/DefaultPolicy AwsSolutions-IAM5[Resource::*]`),
        ...['SendMessage', 'Conversations', 'InboundSms', 'DeliveryStatus'].map(
          (fn) => `${fn}/SmsPublishPolicy AwsSolutions-IAM5[Resource::*]`,
        ),
        ...['Conversations', 'WsMessage', 'InboundSms', 'InboundEmail'].map(
          (fn) => `${fn}/PostToConnectionPolicy AwsSolutions-IAM5[Resource::${connections}]`,
        ),
        ...['openapi.json', 'chat', 'agent'].map((path) => `HttpApi/Api/GET--${path} AwsSolutions-APIG4`),
        ...['GET', 'POST'].map((method) => `HttpApi/Api/${method}--v1--unsubscribe--{token} AwsSolutions-APIG4`),
        ...['GET', 'POST'].map((method) => `HttpApi/Api/${method}--v1--confirm--{token} AwsSolutions-APIG4`),
        ...['$connect', '$default', '$disconnect'].map((route) => `WebSocketApi/Api/${route}-Route AwsSolutions-APIG4`),
        `InboundEmail/InboundMailReadPolicy AwsSolutions-IAM5[Resource::<${logicalIdOf(stack, stack.gateway.inboundEmailReceiving.bucket)}.Arn>/inbound/*]`,
        'TokenSecret/Secret AwsSolutions-SMG4',
        'UndeliveredEvents/Queue AwsSolutions-SQS3',
      ].sort(),
    );
  });
});

describe('cdk-nag AwsSolutions gate, with the account logging role set by the stack', () => {
  it('synthesizes with zero unacknowledged findings, the managed policy acknowledged on the role alone', () => {
    const { app: withRole } = createGatewayApp({
      appProps: { outdir: mkdtempSync(join(outdir, 'logging-role-')) },
      gateway: { setApiGatewayLoggingRole: true },
    });
    Validations.of(withRole).addPlugins(new AwsSolutionsChecks(withRole));
    expect(findingsOf(withRole.synth().directory)).toEqual([]);
    const before = new Set(summaryOf(app));
    const added = summaryOf(withRole).filter((entry) => !before.has(entry));
    expect(added).toEqual([
      'WebSocketApi/ApiGatewayLoggingRole AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
    ]);
  });
});
