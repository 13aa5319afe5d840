import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, type AppProps, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { httpRoutes, webSocketRoutes } from '../../functions/routes.ts';
import { type ParleyFunction, packageRoot } from '../../lib/parley-function.ts';
import type { ParleyGatewayProps } from '../../lib/parley-gateway.ts';
import { ParleyStack } from '../../lib/parley-stack.ts';

/** cdk.json's feature flags, so the tests synthesize what `cdk synth` does. */
export const featureFlags = (): Record<string, unknown> => {
  const { context } = JSON.parse(readFileSync(join(packageRoot, 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  const { parley: _deployConfig, ...flags } = context;
  return flags;
};

/**
 * Every Lambda entry point the gateway builds: both route tables' handlers, the authorizer, inbound SMS and email,
 * delivery status.
 */
export const handlerNames = [
  ...new Set(httpRoutes.map((route) => route.handler)),
  ...webSocketRoutes.map((route) => route.handler),
  'authorizer',
  'inbound-sms',
  'inbound-email',
  'delivery-status',
  'webhook-sender',
] as const;

/**
 * Stub entry files, one per handler, so synth tests with bundling skipped do not depend on the real handlers
 * (NodejsFunction checks that its entry exists). Under the package root, as esbuild's project root requires, in
 * the git-ignored test-artifacts/.
 */
export const stubSourceDir = (): string => {
  const dir = join(packageRoot, 'test-artifacts', 'cdk-stub-functions');
  mkdirSync(join(dir, 'handlers'), { recursive: true });
  for (const name of handlerNames) {
    writeFileSync(join(dir, 'handlers', `${name}.ts`), 'export const handler = async () => ({ statusCode: 200 });\n');
  }
  return dir;
};

export const baseGatewayProps: ParleyGatewayProps = {
  emailDomain: 'mail.bank.example',
  replyDomain: 'reply.bank.example',
  alarmEmail: 'ops@bank.example',
};

export interface SynthOptions {
  /** Build the real handlers with esbuild. @default false: bundling skipped, stub entries */
  readonly bundle?: boolean;
  readonly gateway?: Partial<ParleyGatewayProps>;
  readonly appProps?: AppProps;
}

export const createGatewayApp = (options: SynthOptions = {}) => {
  const app = new App({
    ...options.appProps,
    context: {
      ...featureFlags(),
      // An empty list matches no stack: NodejsFunction assets are not bundled (aws-cdk-lib Stack.bundlingRequired).
      ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
      ...options.appProps?.context,
    },
  });
  const stack = new ParleyStack(app, 'Parley', {
    env: { account: '123456789012', region: 'eu-west-1' },
    gateway: {
      ...baseGatewayProps,
      ...(options.bundle ? {} : { sourceDir: stubSourceDir() }),
      ...options.gateway,
    },
  });
  return { app, stack };
};

/** The Parley stack's template, bundling skipped. */
export const synthGateway = (options: SynthOptions = {}) => {
  const { app, stack } = createGatewayApp(options);
  return { app, stack, template: Template.fromStack(stack) };
};

export type HandlerName = (typeof handlerNames)[number];

/** The first dependency cycle among the template's resources (Ref, GetAtt, Sub, DependsOn), if any. */
export const dependencyCycle = (template: Template): string[] | undefined => {
  const resources = template.toJSON().Resources as Record<string, { Properties?: unknown; DependsOn?: unknown }>;
  const referencesIn = (node: unknown, found: Set<string>): Set<string> => {
    if (Array.isArray(node)) {
      for (const item of node) referencesIn(item, found);
    } else if (node && typeof node === 'object') {
      const { Ref, 'Fn::GetAtt': getAtt, 'Fn::Sub': sub } = node as Record<string, unknown>;
      if (typeof Ref === 'string') found.add(Ref);
      if (Array.isArray(getAtt)) found.add(String(getAtt[0]));
      const subText = Array.isArray(sub) ? sub[0] : sub;
      if (typeof subText === 'string') for (const [, name] of subText.matchAll(/\$\{([^}.]+)/g)) found.add(name ?? '');
      for (const value of Object.values(node)) referencesIn(value, found);
    }
    return found;
  };
  const edges = new Map(
    Object.entries(resources).map(([id, resource]) => {
      const found = referencesIn(resource.Properties, new Set([resource.DependsOn ?? []].flat().map(String)));
      return [id, [...found].filter((target) => target in resources)];
    }),
  );
  const visiting: string[] = [];
  const done = new Set<string>();
  const visit = (id: string): string[] | undefined => {
    if (visiting.includes(id)) return [...visiting.slice(visiting.indexOf(id)), id];
    if (done.has(id)) return undefined;
    visiting.push(id);
    for (const target of edges.get(id) ?? []) {
      const cycle = visit(target);
      if (cycle) return cycle;
    }
    visiting.pop();
    done.add(id);
    return undefined;
  };
  for (const id of edges.keys()) {
    const cycle = visit(id);
    if (cycle) return cycle;
  }
  return undefined;
};

const gatewayFunction = ({ gateway }: ParleyStack, handlerName: HandlerName): ParleyFunction => {
  if (handlerName === 'authorizer') return gateway.authorizer;
  if (handlerName === 'inbound-sms') return gateway.inboundSms;
  if (handlerName === 'inbound-email') return gateway.inboundEmail;
  if (handlerName === 'delivery-status') return gateway.deliveryStatus;
  if (handlerName === 'webhook-sender') return gateway.webhooks.sender;
  return gateway.functions[handlerName];
};

/** The CloudFormation logical id of a gateway function. */
export const functionLogicalId = (stack: ParleyStack, handlerName: HandlerName): string =>
  stack.getLogicalId(gatewayFunction(stack, handlerName).fn.node.defaultChild as CfnElement);

/** The CloudFormation logical id of any construct's default resource. */
export const logicalIdOf = (stack: ParleyStack, construct: IConstruct): string =>
  stack.getLogicalId(construct.node.defaultChild as CfnElement);

/** The statements of every IAM policy attached to a gateway function's role. */
export const policyStatementsOf = (stack: ParleyStack, template: Template, handlerName: HandlerName) => {
  const fn = gatewayFunction(stack, handlerName);
  const roleId = stack.getLogicalId(fn.role.node.defaultChild as CfnElement);
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) => policy.Properties.Roles.some((role: { Ref: string }) => role.Ref === roleId))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as PolicyStatementJson[]);
};

export interface PolicyStatementJson {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, unknown>;
}
