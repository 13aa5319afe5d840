import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

/** One logger and one metrics instance per function. Log lines never carry full addresses or bodies. */
export const logger = new Logger({ serviceName: 'parley' });
export const metrics = new Metrics({ namespace: 'Parley', serviceName: 'parley' });
