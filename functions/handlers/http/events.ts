import type { EventPublisher } from '../../domain/ports.ts';
import { logger, metrics } from './observability.ts';

/**
 * Events are emitted after the outcome is stored; a publishing failure must not turn a delivered message into an
 * error answer (the backend would retry and get a replay anyway), so it is logged and counted, never swallowed.
 */
export const reportingPublisher = (publisher: EventPublisher): EventPublisher => ({
  async publish(events) {
    try {
      await publisher.publish(events);
    } catch (error) {
      logger.error('events not published', { types: events.map((e) => e.type), error: error as Error });
      metrics.addMetric('EventsNotPublished', 'Count', events.length);
    }
  },
});
