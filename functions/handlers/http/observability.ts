import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type middy from '@middy/core';

/** One logger and one metrics instance per function. Log lines never carry full addresses or bodies. */
export const logger = new Logger({ serviceName: 'parley' });
export const metrics = new Metrics({ namespace: 'Parley', serviceName: 'parley' });

/**
 * Flushes the request's metrics, if it added any (an empty flush only warns). Here, not beside `httpHandler`: the
 * functions that are not HTTP routes (inbound, WebSocket) would otherwise bundle the route table with it.
 */
export const publishMetrics: middy.MiddlewareObj = {
  after: async () => {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  },
  onError: async () => {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  },
};
