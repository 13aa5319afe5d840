import { Duration, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaAuthorizer, HttpLambdaResponseType } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { HttpHandlerName, HttpRoute } from '../functions/routes.ts';

/** Steady-state requests per second and burst, for the whole stage (API Gateway's token bucket). */
export interface ApiThrottle {
  readonly rateLimit: number;
  readonly burstLimit: number;
}

export interface ParleyHttpApiProps {
  /** The route table (`functions/routes.ts`): one API route per entry. */
  readonly routes: readonly HttpRoute[];
  /** The function behind each handler name the routes use. */
  readonly handlers: Readonly<Record<HttpHandlerName, lambda.IFunction>>;
  /** The Lambda authorizer for every route with a scope. */
  readonly authorizer: lambda.IFunction;
  /** See `ParleyGatewayProps.authorizerCacheTtl`. @default 5 minutes */
  readonly authorizerCacheTtl?: Duration;
  /** @default 100 requests/s, bursts of 200 */
  readonly throttle?: ApiThrottle;
  /** Access-log retention. @default three months */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * What each request leaves in the access log: no headers (so no Authorization), no path (ids), no body.
 * `authorizerError` and `integrationError` say why a request failed before or inside a handler.
 */
const accessLogFields = {
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  requestTime: '$context.requestTime',
  routeKey: '$context.routeKey',
  status: '$context.status',
  latency: '$context.responseLatency',
  integrationLatency: '$context.integrationLatency',
  responseLength: '$context.responseLength',
  authorizerError: '$context.authorizer.error',
  integrationError: '$context.integrationErrorMessage',
};

/** Why a route without the authorizer is public, for the handlers that are public by design. */
const publicRouteReasons: Partial<Record<HttpHandlerName, string>> = {
  openapi:
    'public OpenAPI document: the API description backends read before they hold a key; it is generated from the ' +
    'request schemas and returns no tenant data.',
  pages:
    'static page with a strict CSP; it holds no data until given a chat token or an agent key, and every call it ' +
    'then makes is checked (the WebSocket $connect token check, the authorizer on the API).',
  confirm:
    'the step-up confirmation link of a code email: the signed, expiring token in the path is the authority; GET ' +
    'shows a page and changes nothing, the POST completes that one pending answer; it returns no tenant data.',
  unsubscribe:
    'one-click unsubscribe linked from every email (RFC 8058): mail clients post it without credentials, so the ' +
    'signed token in the path is the authority; it opts one address out of email and returns no data.',
};

/** The HTTP API v1 (design section 5): one route per route-table entry, API keys checked by a Lambda authorizer. */
export class ParleyHttpApi extends Construct {
  readonly api: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
  readonly accessLogs: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ParleyHttpApiProps) {
    super(scope, id);

    this.api = new apigwv2.HttpApi(this, 'Api', {
      description: 'Parley HTTP API v1',
      createDefaultStage: false,
    });

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
    });
    const throttle = props.throttle ?? { rateLimit: 100, burstLimit: 200 };
    this.stage = new apigwv2.HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: throttle.rateLimit, burstLimit: throttle.burstLimit },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(accessLogFields)),
      },
    });

    // The cache key is the Authorization header alone: the answer carries the key's scopes and each handler checks
    // the scope its route needs, so one cached answer serves every route.
    const authorizer = new HttpLambdaAuthorizer('ApiKeyAuthorizer', props.authorizer, {
      responseTypes: [HttpLambdaResponseType.SIMPLE],
      identitySource: ['$request.header.Authorization'],
      resultsCacheTtl: props.authorizerCacheTtl ?? Duration.minutes(5),
    });

    const integrations = new Map<HttpHandlerName, HttpLambdaIntegration>();
    const integrationFor = (name: HttpHandlerName): HttpLambdaIntegration => {
      let integration = integrations.get(name);
      if (!integration) {
        integration = new HttpLambdaIntegration(`${name}-integration`, props.handlers[name]);
        integrations.set(name, integration);
      }
      return integration;
    };

    for (const route of props.routes) {
      const [created] = this.api.addRoutes({
        path: route.path,
        methods: [apigwv2.HttpMethod[route.method]],
        integration: integrationFor(route.handler),
        ...(route.scope === null ? {} : { authorizer }),
      });
      // Only these handlers are public by design; any other unauthenticated route must fail the cdk-nag gate.
      const publicReason = publicRouteReasons[route.handler];
      if (route.scope === null && publicReason && created) {
        Validations.of(created).acknowledge({ id: 'AwsSolutions-APIG4', reason: publicReason });
      }
    }
  }

  /** The stage's base URL, `https://<id>.execute-api.<region>.amazonaws.com/`. */
  get url(): string {
    return this.stage.url;
  }

  /** The same without the trailing slash, as links are built: `<endpoint>/chat#<token>`. */
  get endpoint(): string {
    return this.api.apiEndpoint;
  }
}
