import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { EventPublisher, ParleyEvent } from '../../domain/ports.ts';

/** Events to backends on the tenant-facing bus: `source: "parley"`, detail-type = event name. */
export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly busName: string,
    private readonly client: EventBridgeClient = new EventBridgeClient({}),
  ) {}

  async publish(events: ParleyEvent[]): Promise<void> {
    // PutEvents takes at most 10 entries a call.
    for (let i = 0; i < events.length; i += 10) {
      const batch = events.slice(i, i + 10);
      const result = await this.client.send(
        new PutEventsCommand({
          Entries: batch.map((event) => ({
            EventBusName: this.busName,
            Source: 'parley',
            DetailType: event.type,
            Detail: JSON.stringify(event.detail),
          })),
        }),
      );
      if (result.FailedEntryCount) {
        const codes = (result.Entries ?? []).map((e) => e.ErrorCode).filter(Boolean);
        throw new Error(`EventBridge refused ${result.FailedEntryCount} event(s): ${codes.join(', ')}`);
      }
    }
  }
}
