import { Duration } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { httpRoutes, routeKey } from '../../functions/routes.ts';
import { functionLogicalId, logicalIdOf, synthGateway } from './gateway-app.ts';

const { stack, template } = synthGateway();
const resources = template.toJSON().Resources;
const httpApiId = logicalIdOf(stack, stack.gateway.httpApi.api);
const routes = Object.values(
  template.findResources('AWS::ApiGatewayV2::Route', { Properties: { ApiId: { Ref: httpApiId } } }),
);
const authorizers = template.findResources('AWS::ApiGatewayV2::Authorizer');

/** The function a route's integration invokes, as its logical id. */
const functionBehind = (route: (typeof routes)[number]): string => {
  const integrationId = route.Properties.Target['Fn::Join'][1][1].Ref;
  return resources[integrationId]?.Properties.IntegrationUri['Fn::GetAtt'][0];
};

describe('HTTP API', () => {
  it('has exactly one route per route-table entry, each on its handler’s function', () => {
    expect(routes.map((route) => route.Properties.RouteKey).sort()).toEqual(httpRoutes.map(routeKey).sort());
    for (const entry of httpRoutes) {
      const route = routes.find((candidate) => candidate.Properties.RouteKey === routeKey(entry));
      expect(route && functionBehind(route), routeKey(entry)).toBe(functionLogicalId(stack, entry.handler));
    }
  });

  it('guards every route with a scope by the Lambda authorizer, and leaves only the OpenAPI document, the pages, one-click unsubscribe and the step-up link public', () => {
    const [authorizerId] = Object.keys(authorizers);
    for (const entry of httpRoutes) {
      const route = routes.find((candidate) => candidate.Properties.RouteKey === routeKey(entry));
      if (entry.scope === null) {
        expect(route?.Properties.AuthorizationType, routeKey(entry)).toBe('NONE');
        expect(route?.Properties.AuthorizerId).toBeUndefined();
      } else {
        expect(route?.Properties, routeKey(entry)).toMatchObject({
          AuthorizationType: 'CUSTOM',
          AuthorizerId: { Ref: authorizerId },
        });
      }
    }
    const publicRoutes = routes.filter((route) => route.Properties.AuthorizationType === 'NONE');
    expect(publicRoutes.map((route) => route.Properties.RouteKey).sort()).toEqual([
      'GET /agent',
      'GET /chat',
      'GET /openapi.json',
      'GET /v1/confirm/{token}',
      'GET /v1/unsubscribe/{token}',
      'POST /v1/confirm/{token}',
      'POST /v1/unsubscribe/{token}',
    ]);
  });

  it('authorizes with simple responses from the authorizer function, keyed on the Authorization header', () => {
    expect(Object.values(authorizers)).toHaveLength(1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'REQUEST',
      AuthorizerPayloadFormatVersion: '2.0',
      EnableSimpleResponses: true,
      IdentitySource: ['$request.header.Authorization'],
    });
    const uri = JSON.stringify(Object.values(authorizers)[0]?.Properties.AuthorizerUri);
    expect(uri).toContain(functionLogicalId(stack, 'authorizer'));
  });

  it('caches authorizer answers for 5 minutes by default, and for the configured time otherwise', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', { AuthorizerResultTtlInSeconds: 300 });
    const { template: shortCache } = synthGateway({ gateway: { authorizerCacheTtl: Duration.seconds(30) } });
    shortCache.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', { AuthorizerResultTtlInSeconds: 30 });
  });

  it('writes JSON access logs without headers to a log group with a retention', () => {
    const [stage] = Object.values(
      template.findResources('AWS::ApiGatewayV2::Stage', { Properties: { ApiId: { Ref: httpApiId } } }),
    );
    expect(stage).toBeDefined();
    expect(stage?.Properties).toMatchObject({ StageName: '$default', AutoDeploy: true });
    const { DestinationArn, Format } = stage?.Properties.AccessLogSettings ?? {};
    const logGroup = resources[DestinationArn['Fn::GetAtt'][0]];
    expect(logGroup).toMatchObject({ Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 90 } });
    const fields = JSON.parse(Format);
    expect(fields).toMatchObject({
      requestId: '$context.requestId',
      ip: '$context.identity.sourceIp',
      routeKey: '$context.routeKey',
      status: '$context.status',
      latency: '$context.responseLatency',
    });
    expect(Format.toLowerCase()).not.toContain('authorization');
    expect(Format).not.toContain('$request.header');
  });

  it('throttles the default stage, 100/s with bursts of 200 unless configured', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      ApiId: { Ref: httpApiId },
      DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
    });
    const { template: custom } = synthGateway({ gateway: { throttle: { rateLimit: 20, burstLimit: 40 } } });
    custom.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      ApiId: { Ref: httpApiId },
      DefaultRouteSettings: { ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 },
    });
  });

  it('outputs the API URL, the WebSocket URL, the table name, the bus name, the inbound SMS topic, the undelivered-events queue and the inbound email rule set and MX record', () => {
    const outputs = template.findOutputs('*');
    expect(Object.keys(outputs).sort()).toEqual([
      'ApiUrl',
      'EventBusName',
      'InboundEmailMxRecord',
      'InboundEmailRuleSetName',
      'InboundSmsTopicArn',
      'TableName',
      'UndeliveredEventsQueueUrl',
      'WebSocketUrl',
    ]);
    expect(outputs.UndeliveredEventsQueueUrl?.Value).toEqual({
      Ref: logicalIdOf(stack, stack.gateway.undeliveredEvents.queue),
    });
    expect(JSON.stringify(outputs.ApiUrl?.Value)).toContain('execute-api');
  });
});
