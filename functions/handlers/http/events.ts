import { EventBridgePublisher, type PublishObserver } from '../../adapters/events/eventbridge-publisher.ts';
import type { EventPublisher } from '../../domain/ports.ts';
import { logger, metrics } from './observability.ts';

/** What every event-publishing function reads at init: `PARLEY_EVENT_BUS_NAME` and `PARLEY_EVENTS_DLQ_URL`. */
export interface EventPublisherConfig {
  readonly eventBusName: string;
  /** The undelivered-events queue, where events EventBridge kept refusing wait for a replay. */
  readonly eventsDeadLetterQueueUrl: string;
}

/** Types, counts and error codes only: details carry references and what customers wrote. */
const reportingObserver: PublishObserver = {
  retrying: ({ attempt, delayMs, types, errorCodes }) => {
    logger.warn('events refused, retrying', { attempt, delayMs, types, errorCodes });
    metrics.addMetric('EventsRetried', 'Count', types.length);
  },
  deadLettered: ({ attempts, types, errorCodes }) => {
    logger.error('events kept on the undelivered-events queue', { attempts, types, errorCodes });
    metrics.addMetric('EventsDeadLettered', 'Count', types.length);
  },
};

/**
 * The event publisher of every function: EventBridge, refused entries retried, then kept on the undelivered-events
 * queue, each step logged and counted. Build it once, at module scope.
 */
export const createEventPublisher = (config: EventPublisherConfig): EventPublisher =>
  reportingPublisher(
    new EventBridgePublisher(config.eventBusName, {
      deadLetterQueueUrl: config.eventsDeadLetterQueueUrl,
      observer: reportingObserver,
    }),
  );

/**
 * Logs and counts events that reached neither EventBridge nor the undelivered-events queue, then throws on: such a
 * failure must reach the caller (the domain decides what it means for the request), never stop at a log line.
 */
export const reportingPublisher = (publisher: EventPublisher): EventPublisher => ({
  async publish(events) {
    try {
      await publisher.publish(events);
    } catch (error) {
      logger.error('events not published', { types: events.map((e) => e.type), error: error as Error });
      metrics.addMetric('EventsNotPublished', 'Count', events.length);
      throw error;
    }
  },
});
