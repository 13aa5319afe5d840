import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { AccessLogFormat, CfnAccount } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { webSocketRoutes } from '../functions/routes.ts';
import type { ApiThrottle } from './http-api.ts';
import type { ParleyFunction } from './parley-function.ts';

/** One Lambda per WebSocket route (`webSocketRoutes` in `functions/routes.ts`). */
export type WebSocketHandlerName = (typeof webSocketRoutes)[number]['handler'];
export type WebSocketRoute = (typeof webSocketRoutes)[number];

export interface ParleyWebSocketApiProps {
  /** The WebSocket route table: one API route per entry. */
  readonly routes: readonly WebSocketRoute[];
  /** The function behind each handler name the routes use. */
  readonly handlers: Readonly<Record<WebSocketHandlerName, lambda.IFunction>>;
  /** @default 50 messages and connections/s, bursts of 100 */
  readonly throttle?: ApiThrottle;
  /** Access-log retention. @default three months */
  readonly logRetention?: logs.RetentionDays;
  /** See `ParleyGatewayProps.setApiGatewayLoggingRole`. @default false */
  readonly setApiGatewayLoggingRole?: boolean;
}

/**
 * How cdk-nag names a resource in a finding: the resolved value with references flattened to `<LogicalId>`,
 * `<AWS::Region>` and the like, so an acknowledgement can name the one ARN it covers.
 */
const nagFinding = (scope: Construct, value: string): string => {
  const flatten = (node: unknown): string => {
    if (typeof node === 'string') return node;
    const cfn = node as { 'Fn::Join'?: [string, unknown[]]; Ref?: string };
    if (cfn['Fn::Join']) return cfn['Fn::Join'][1].map(flatten).join(cfn['Fn::Join'][0]);
    if (cfn.Ref) return `<${cfn.Ref}>`;
    return JSON.stringify(node);
  };
  return flatten(Stack.of(scope).resolve(value));
};

/** The stage the chat page connects to: `wss://<id>.execute-api.<region>.amazonaws.com/chat`. */
const stageName = 'chat';

/**
 * What each connect, frame and disconnect leaves in the access log. No query string: the chat token travels in
 * `?token=` on `$connect`, so nothing that could echo the request (`$context.requestOverride`, headers, the
 * body) is logged either.
 */
const accessLogFields = {
  requestId: '$context.requestId',
  connectionId: '$context.connectionId',
  ip: '$context.identity.sourceIp',
  requestTime: '$context.requestTime',
  eventType: '$context.eventType',
  routeKey: '$context.routeKey',
  status: '$context.status',
  integrationLatency: '$context.integrationLatency',
  integrationError: '$context.integration.error',
};

/**
 * The chat's WebSocket API (design section 2): `$connect` with the chat token, `$default` for the page's frames,
 * `$disconnect`, each on its own function. There is no authorizer: `$connect` is the only route API Gateway lets
 * one guard, and the ws-connect function verifies the signed, expiring token itself (a Lambda authorizer would
 * read the same secret and session a second time); a refused token fails the upgrade. `$default` and
 * `$disconnect` only ever see connections `$connect` accepted.
 */
export class ParleyWebSocketApi extends Construct {
  readonly api: apigwv2.WebSocketApi;
  readonly stage: apigwv2.WebSocketStage;
  readonly accessLogs: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ParleyWebSocketApiProps) {
    super(scope, id);

    this.api = new apigwv2.WebSocketApi(this, 'Api', { description: 'Parley chat (WebSocket)' });
    for (const route of props.routes) {
      const created = this.api.addRoute(route.routeKey, {
        integration: new WebSocketLambdaIntegration(`${route.handler}-integration`, props.handlers[route.handler]),
      });
      Validations.of(created).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          '$connect checks the signed chat token in the function; $default/$disconnect only act on connections ' +
          'accepted by $connect (API Gateway allows an authorizer on $connect only).',
      });
    }

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
    });
    const throttle = props.throttle ?? { rateLimit: 50, burstLimit: 100 };
    this.stage = new apigwv2.WebSocketStage(this, 'Stage', {
      webSocketApi: this.api,
      stageName,
      autoDeploy: true,
      throttle: { rateLimit: throttle.rateLimit, burstLimit: throttle.burstLimit },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(accessLogFields)),
      },
    });

    if (props.setApiGatewayLoggingRole) this.setAccountLoggingRole();
  }

  /** `wss://<id>.execute-api.<region>.amazonaws.com/chat`, what the chat page connects to. */
  get url(): string {
    return this.stage.url;
  }

  /** `https://<id>.execute-api.<region>.amazonaws.com/chat`, the endpoint of `PostToConnection`. */
  get callbackUrl(): string {
    return this.stage.callbackUrl;
  }

  /**
   * `execute-api:ManageConnections` for `POST @connections/*` on this API's stage: push frames
   * (`PostToConnection`), neither read nor close a connection. Narrower than `grantManageConnections`, which
   * allows every method on every stage. In its own policy so its acknowledgement covers it alone.
   */
  grantPostToConnection(fn: ParleyFunction): void {
    const connections = Stack.of(this).formatArn({
      service: 'execute-api',
      resource: this.api.apiId,
      resourceName: `${stageName}/POST/@connections/*`,
    });
    const policy = new iam.Policy(fn, 'PostToConnectionPolicy', {
      statements: [
        new iam.PolicyStatement({
          sid: 'PushToChatConnections',
          actions: ['execute-api:ManageConnections'],
          resources: [connections],
        }),
      ],
    });
    fn.role.attachInlinePolicy(policy);
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagFinding(this, connections)}]`,
      reason:
        'A connection id exists only once a browser connects, so PostToConnection is granted on @connections/* ' +
        'of this one API, this one stage and the POST method alone: it cannot read or close a connection.',
    });
  }

  /**
   * Unlike an HTTP API, a WebSocket stage writes its access log through the account's API Gateway CloudWatch
   * role (one per account and region). Both are retained: other APIs of the account may log through them.
   */
  private setAccountLoggingRole(): void {
    const role = new iam.Role(this, 'ApiGatewayLoggingRole', {
      assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
      description: 'API Gateway: CloudWatch logging for the APIs of this account and region',
      managedPolicies: [
        iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonAPIGatewayPushToCloudWatchLogs'),
      ],
    });
    role.applyRemovalPolicy(RemovalPolicy.RETAIN);
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason:
        'The AWS-maintained policy made for the account-wide API Gateway logging role: it serves every REST and ' +
        'WebSocket API of the account and region, so it cannot be scoped to this stack’s log groups.',
    });
    const account = new CfnAccount(this, 'ApiGatewayAccount', { cloudWatchRoleArn: role.roleArn });
    account.applyRemovalPolicy(RemovalPolicy.RETAIN);
    // The stage fails to deploy while the account has no logging role.
    this.stage.node.addDependency(account);
  }
}
