import { describe, expect, it } from 'vitest';
import { webSocketRoutes } from '../../functions/routes.ts';
import { functionLogicalId, logicalIdOf, synthGateway } from './gateway-app.ts';

const { stack, template } = synthGateway();
const resources = template.toJSON().Resources;
const apiId = logicalIdOf(stack, stack.gateway.webSocketApi.api);
const ofThisApi = { Properties: { ApiId: { Ref: apiId } } };
const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route', ofThisApi));
const stages = Object.values(template.findResources('AWS::ApiGatewayV2::Stage', ofThisApi));

describe('WebSocket API (chat)', () => {
  it('is a WebSocket API with exactly the three routes of the route table', () => {
    expect(resources[apiId]).toMatchObject({
      Type: 'AWS::ApiGatewayV2::Api',
      Properties: { ProtocolType: 'WEBSOCKET' },
    });
    expect(routes.map((route) => route.Properties.RouteKey).sort()).toEqual(['$connect', '$default', '$disconnect']);
  });

  it('integrates each route with its own function by Lambda proxy', () => {
    for (const { routeKey, handler } of webSocketRoutes) {
      const route = routes.find((candidate) => candidate.Properties.RouteKey === routeKey);
      const integrationId = route?.Properties.Target['Fn::Join'][1][1].Ref;
      const integration = resources[integrationId];
      expect(integration?.Properties, routeKey).toMatchObject({
        ApiId: { Ref: apiId },
        IntegrationType: 'AWS_PROXY',
      });
      expect(JSON.stringify(integration?.Properties.IntegrationUri), routeKey).toContain(
        functionLogicalId(stack, handler),
      );
    }
  });

  it('lets only this API invoke the chat functions', () => {
    for (const { handler } of webSocketRoutes) {
      const permissions = Object.values(
        template.findResources('AWS::Lambda::Permission', {
          Properties: { FunctionName: { 'Fn::GetAtt': [functionLogicalId(stack, handler), 'Arn'] } },
        }),
      );
      expect(permissions, handler).toHaveLength(1);
      expect(permissions[0]?.Properties.Principal).toBe('apigateway.amazonaws.com');
      expect(JSON.stringify(permissions[0]?.Properties.SourceArn)).toContain(apiId);
    }
  });

  it('has no authorizer: the ws-connect function checks the chat token itself', () => {
    for (const route of routes) expect(route.Properties.AuthorizationType ?? 'NONE').toBe('NONE');
    expect(template.findResources('AWS::ApiGatewayV2::Authorizer', ofThisApi)).toEqual({});
  });

  it('deploys one auto-deployed stage, chat, throttled to 50/s with bursts of 100 unless configured', () => {
    expect(stages).toHaveLength(1);
    expect(stages[0]?.Properties).toMatchObject({
      StageName: 'chat',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
    });
    const { stack: custom, template: customTemplate } = synthGateway({
      gateway: { webSocketThrottle: { rateLimit: 5, burstLimit: 10 } },
    });
    customTemplate.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      ApiId: { Ref: logicalIdOf(custom, custom.gateway.webSocketApi.api) },
      DefaultRouteSettings: { ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 },
    });
  });

  it('writes JSON access logs, to a log group with a retention, that never hold the query string', () => {
    const { DestinationArn, Format } = stages[0]?.Properties.AccessLogSettings ?? {};
    expect(resources[DestinationArn['Fn::GetAtt'][0]]).toMatchObject({
      Type: 'AWS::Logs::LogGroup',
      Properties: { RetentionInDays: 90 },
    });
    expect(DestinationArn['Fn::GetAtt'][0]).not.toBe(logicalIdOf(stack, stack.gateway.httpApi.accessLogs));
    const fields = JSON.parse(Format);
    expect(fields).toMatchObject({
      requestId: '$context.requestId',
      connectionId: '$context.connectionId',
      ip: '$context.identity.sourceIp',
      routeKey: '$context.routeKey',
      eventType: '$context.eventType',
      status: '$context.status',
    });
    // The chat token is `?token=` on $connect: nothing that could carry it is logged.
    for (const variable of Object.values(fields) as string[]) {
      expect(variable).toMatch(/^\$context\.[\w.]+$/);
      expect(variable.toLowerCase()).not.toMatch(/querystring|requestoverride|header|path|body|token/);
    }
  });

  it('outputs the wss:// URL of the stage', () => {
    template.hasOutput('WebSocketUrl', {
      Value: {
        'Fn::Join': ['', ['wss://', { Ref: apiId }, '.execute-api.eu-west-1.', { Ref: 'AWS::URLSuffix' }, '/chat']],
      },
    });
  });
});

describe('account logging role for the WebSocket stage', () => {
  it('is left to the account by default', () => {
    template.resourceCountIs('AWS::ApiGateway::Account', 0);
    const roles = Object.values(template.findResources('AWS::IAM::Role'));
    expect(JSON.stringify(roles)).not.toContain('apigateway.amazonaws.com');
  });

  it('is set when asked, retained, and in place before the stage deploys', () => {
    const { stack: withRole, template: withRoleTemplate } = synthGateway({
      gateway: { setApiGatewayLoggingRole: true },
    });
    const accounts = withRoleTemplate.findResources('AWS::ApiGateway::Account');
    const [accountId, account] = Object.entries(accounts)[0] ?? [];
    expect(Object.keys(accounts)).toHaveLength(1);
    expect(account).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    const roleId = account?.Properties.CloudWatchRoleArn['Fn::GetAtt'][0];
    const role = withRoleTemplate.toJSON().Resources[roleId];
    expect(role).toMatchObject({
      DeletionPolicy: 'Retain',
      Properties: {
        AssumeRolePolicyDocument: {
          Statement: [expect.objectContaining({ Principal: { Service: 'apigateway.amazonaws.com' } })],
        },
      },
    });
    expect(JSON.stringify(role.Properties.ManagedPolicyArns)).toContain(
      'policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs',
    );
    const stageId = logicalIdOf(withRole, withRole.gateway.webSocketApi.stage);
    expect(withRoleTemplate.toJSON().Resources[stageId].DependsOn).toContain(accountId);
  });
});
