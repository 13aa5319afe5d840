import type { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

export interface ParleyEventsProps {
  /** @default 'parley' */
  readonly eventBusName?: string;
  /** Publish to this bus instead of creating one (then `eventBusName` must be left out). @default a new bus */
  readonly existingBus?: events.IEventBus;
  /**
   * Keep every Parley event in an EventBridge archive for this long, so a backend can replay what it missed.
   * @default no archive
   */
  readonly archiveRetention?: Duration;
}

/**
 * The bus backends subscribe to: `source: "parley"`, detail-type = event name (design section 6). Parley's own, or
 * one the embedding app already has. The archive, when asked for, keeps Parley's events only, on either.
 */
export class ParleyEvents extends Construct {
  readonly bus: events.IEventBus;

  constructor(scope: Construct, id: string, props: ParleyEventsProps = {}) {
    super(scope, id);
    if (props.existingBus && props.eventBusName !== undefined) {
      throw new Error('Give either eventBusName or an existing event bus, not both');
    }
    this.bus =
      props.existingBus ??
      new events.EventBus(this, 'Bus', {
        eventBusName: props.eventBusName ?? 'parley',
        description: 'Parley events for backends: message, prompt, keyword, consent, callback and chat',
      });
    if (props.archiveRetention) {
      this.bus.archive('Archive', {
        description: 'Every Parley event, for replay',
        eventPattern: { source: ['parley'] },
        retention: props.archiveRetention,
      });
    }
  }

  /** `events:PutEvents` on this bus only. */
  grantPutEvents(grantee: iam.IGrantable): void {
    this.bus.grantPutEventsTo(grantee);
  }
}
