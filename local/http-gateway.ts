import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { AuthorizerContext, HttpEvent } from '../functions/handlers/http/http-handler.ts';
import { type HttpRoute, httpRoutes, routeKey } from '../functions/routes.ts';
import { readLimitedBody } from './http-body.ts';
import { lambdaContext } from './lambda-context.ts';

type LambdaHandler<E, R> = (event: E, context: Context) => Promise<R>;

export interface HttpHandlers {
  authorizer: LambdaHandler<
    { headers: Record<string, string> },
    { isAuthorized: boolean; context?: AuthorizerContext }
  >;
  routes: Record<HttpRoute['handler'], LambdaHandler<HttpEvent, APIGatewayProxyStructuredResultV2>>;
}

/** The stage throttling API Gateway applies before any Lambda runs (a token bucket). */
export interface Throttle {
  ratePerSecond: number;
  burst: number;
}

const tokenBucket = ({ ratePerSecond, burst }: Throttle) => {
  let tokens = burst;
  let last = Date.now();
  return {
    take(): boolean {
      const now = Date.now();
      tokens = Math.min(burst, tokens + ((now - last) / 1000) * ratePerSecond);
      last = now;
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
  };
};

/** API Gateway's own payload limit for HTTP APIs. */
const maxPayloadBytes = 10 * 1024 * 1024;

const compiled = httpRoutes.map((route) => {
  const names: string[] = [];
  const pattern = route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { route, names, regex: new RegExp(`^${pattern}$`) };
});

const decodeSegment = (segment: string): string | undefined => {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
};

/** The route and its path parameters; `malformed` when a parameter is not valid percent-encoding. */
const matchRoute = (method: string, path: string) => {
  for (const { route, names, regex } of compiled) {
    if (route.method !== method) continue;
    const match = regex.exec(path);
    if (!match) continue;
    const values = names.map((_, i) => decodeSegment(match[i + 1] ?? ''));
    if (values.some((value) => value === undefined)) return { route, malformed: true as const };
    const pathParameters = Object.fromEntries(names.map((name, i) => [name, values[i] as string]));
    return { route, pathParameters };
  }
  return undefined;
};

export const sendJson = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

const localError = (res: ServerResponse, status: number, code: string, message: string) =>
  sendJson(res, status, { error: { code, message } });

/**
 * Serves the HTTP API the way API Gateway does: builds a payload-v2 event, runs the authorizer for protected
 * routes (locally without a cache, so a revoked key stops at once), and calls the route's handler.
 * Returns false when the request is not an API route.
 */
export const createApiRouter = (handlers: HttpHandlers, throttle: Throttle = { ratePerSecond: 500, burst: 1000 }) => {
  const bucket = tokenBucket(throttle);
  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> => {
    const method = req.method ?? 'GET';
    const matched = matchRoute(method, url.pathname);
    if (!matched) {
      if (!url.pathname.startsWith('/v1/')) return false;
      localError(res, 404, 'not_found', 'No such route');
      return true;
    }
    if ('malformed' in matched) {
      localError(res, 400, 'invalid_request', 'The path is not valid percent-encoding');
      return true;
    }
    const { route, pathParameters } = matched;
    if (!bucket.take()) {
      localError(res, 429, 'rate_limited', 'Too many requests; retry after a short wait');
      return true;
    }
    const read = await readLimitedBody(req, maxPayloadBytes);
    if (!read.ok) {
      if (read.reason === 'too_large') localError(res, 413, 'payload_too_large', 'Request body too large');
      return true;
    }
    const body = read.body;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
    }
    let authorizer: { lambda: AuthorizerContext } | undefined;
    if (route.scope !== null) {
      if (!headers.authorization) {
        localError(res, 401, 'unauthorized', 'A valid API key is required');
        return true;
      }
      const decision = await handlers.authorizer({ headers }, lambdaContext('authorizer'));
      if (!decision.isAuthorized || !decision.context) {
        localError(res, 401, 'unauthorized', 'A valid API key is required');
        return true;
      }
      authorizer = { lambda: decision.context };
    }
    const query: Record<string, string> = {};
    for (const [name, value] of url.searchParams)
      query[name] = query[name] === undefined ? value : `${query[name]},${value}`;
    const now = new Date();
    const key = routeKey(route);
    const event = {
      version: '2.0',
      routeKey: key,
      rawPath: url.pathname,
      rawQueryString: url.search.slice(1),
      headers,
      ...(Object.keys(query).length > 0 && { queryStringParameters: query }),
      ...(Object.keys(pathParameters).length > 0 && { pathParameters }),
      requestContext: {
        accountId: '000000000000',
        apiId: 'local',
        domainName: headers.host ?? 'localhost',
        domainPrefix: 'local',
        http: {
          method,
          path: url.pathname,
          protocol: `HTTP/${req.httpVersion}`,
          sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
          userAgent: headers['user-agent'] ?? '',
        },
        requestId: randomUUID(),
        routeKey: key,
        stage: '$default',
        time: now.toUTCString(),
        timeEpoch: now.getTime(),
        ...(authorizer && { authorizer }),
      },
      ...(body.length > 0 && { body: body.toString('utf8') }),
      isBase64Encoded: false,
    } as HttpEvent;
    const result = await handlers.routes[route.handler](event, lambdaContext(route.handler));
    res.writeHead(result.statusCode ?? 200, (result.headers ?? {}) as Record<string, string>);
    res.end(result.body ?? '');
    return true;
  };
};
