import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger, publishMetrics } from '../http/observability.ts';

/** The parts of an API Gateway WebSocket event the chat functions read. */
export interface WebSocketEvent {
  requestContext: {
    routeKey: string;
    connectionId: string;
    domainName?: string;
    stage?: string;
    eventType?: string;
  };
  queryStringParameters?: Record<string, string | undefined> | null;
  body?: string | null;
  isBase64Encoded?: boolean;
}

export interface WebSocketResult {
  statusCode: number;
  body?: string;
}

/** The shared chain of the WebSocket functions; an unexpected error is logged and answered 500, never leaked. */
export const webSocketHandler = (fn: (event: WebSocketEvent) => Promise<WebSocketResult>) =>
  middy(async (event: WebSocketEvent, _context: Context) => fn(event))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(publishMetrics)
    .use({
      onError: async (request) => {
        logger.error('websocket request failed', {
          route: request.event.requestContext?.routeKey,
          error: request.error as Error,
        });
        request.response = { statusCode: 500, body: 'Internal error' };
      },
    });
