import {
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsCommandOutput,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { EventPublisher, ParleyEvent } from '../../domain/ports.ts';
import { type DeadLetterSink, SqsDeadLetters } from '../dead-letters/sqs-dead-letters.ts';

/** What the publisher needs of an EventBridge client; an `EventBridgeClient` is one. */
export interface PutEventsClient {
  send(command: PutEventsCommand): Promise<PutEventsCommandOutput>;
}

/**
 * How failed entries are tried again. PutEvents answers per entry, and the SDK's own retries cover only a call that
 * fails as a whole, so a refused entry (`InternalFailure`, `ThrottlingException`) is sent again here, alone, after
 * `baseDelayMs` doubling each time (with jitter), at most `retries` times, and only while a call as slow as the last
 * would still end within `budgetMs` of the first attempt: the caller is usually an API request.
 */
export interface RetryPolicy {
  readonly retries: number;
  readonly baseDelayMs: number;
  readonly budgetMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { retries: 3, baseDelayMs: 50, budgetMs: 1000 };

/**
 * What happened, for the caller's logs and metrics. Only types, counts and error codes: an event's detail carries
 * references and what a customer wrote, which never go into a log.
 */
export interface PublishObserver {
  /** Some entries failed and are sent again after `delayMs`. */
  retrying?(report: { attempt: number; delayMs: number; types: string[]; errorCodes: string[] }): void;
  /** Entries that failed every attempt, now on the undelivered-events queue. */
  deadLettered?(report: { attempts: number; types: string[]; errorCodes: string[] }): void;
}

/**
 * One message on the undelivered-events queue: the PutEvents entries exactly as they were sent, so a replay is
 * `aws events put-events --entries "$(jq -c .entries message.json)"`, and why each one failed. One message per
 * PutEvents call: its entries are at most 256 KB together, so even escaped they fit SQS's 1 MiB.
 */
export interface UndeliveredEvents {
  readonly entries: PutEventsRequestEntry[];
  readonly errors: { detailType: string; errorCode: string; errorMessage?: string }[];
  readonly attempts: number;
  readonly firstAttemptAt: string;
  readonly lastAttemptAt: string;
}

export interface EventBridgePublisherOptions {
  /** The undelivered-events queue (`PARLEY_EVENTS_DLQ_URL`): events EventBridge still refused after the retries. */
  readonly deadLetterQueueUrl: string;
  /** @default a new `EventBridgeClient` */
  readonly eventBridge?: PutEventsClient;
  /** Sends to the undelivered-events queue. @default a new `SQSClient` */
  readonly sqs?: SQSClient;
  /** @default {@link defaultRetryPolicy} */
  readonly retry?: Partial<RetryPolicy>;
  readonly observer?: PublishObserver;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default Date.now */
  readonly now?: () => number;
}

/** Thrown when events reached neither EventBridge nor the undelivered-events queue. */
export class EventsUndeliveredError extends Error {
  constructor(
    message: string,
    /** The detail-types of the events lost, for the log line. */
    readonly types: string[],
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'EventsUndeliveredError';
  }
}

/** PutEvents takes at most 10 entries a call. */
const maxEntriesPerCall = 10;

interface Failure {
  entry: PutEventsRequestEntry;
  errorCode: string;
  errorMessage?: string;
}

/**
 * Events to backends on the tenant-facing bus: `source: "parley"`, detail-type = event name. An event is never lost
 * (DESIGN section 6): entries EventBridge refuses are retried alone within a small budget, then kept on the
 * undelivered-events queue (alarmed on) with what a replay needs; only when that queue refuses them too does
 * `publish` throw, so the failure reaches the caller.
 */
export class EventBridgePublisher implements EventPublisher {
  private eventBridge: PutEventsClient | undefined;
  private readonly deadLetters: DeadLetterSink;
  private readonly retry: RetryPolicy;
  private readonly observer: PublishObserver;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;

  constructor(
    private readonly busName: string,
    options: EventBridgePublisherOptions,
  ) {
    // The default client is built on the first publish, not at init: some requests publish nothing.
    this.eventBridge = options.eventBridge;
    this.deadLetters = new SqsDeadLetters(options.deadLetterQueueUrl, options.sqs);
    this.retry = { ...defaultRetryPolicy, ...options.retry };
    this.observer = options.observer ?? {};
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.now = options.now ?? Date.now;
  }

  async publish(events: ParleyEvent[]): Promise<void> {
    const lost: EventsUndeliveredError[] = [];
    // Every batch gets its chance even when an earlier one was lost: the error then names them all.
    for (let i = 0; i < events.length; i += maxEntriesPerCall) {
      const entries = events.slice(i, i + maxEntriesPerCall).map((event) => this.entryOf(event));
      try {
        await this.publishBatch(entries);
      } catch (error) {
        lost.push(
          error instanceof EventsUndeliveredError
            ? error
            : new EventsUndeliveredError(String(error), typesOf(entries), { cause: error }),
        );
      }
    }
    const [first] = lost;
    if (!first) return;
    if (lost.length === 1) throw first;
    throw new EventsUndeliveredError(
      lost.map((error) => error.message).join('; '),
      lost.flatMap((error) => error.types),
      { cause: first.cause },
    );
  }

  private entryOf(event: ParleyEvent): PutEventsRequestEntry {
    return {
      EventBusName: this.busName,
      Source: 'parley',
      DetailType: event.type,
      Detail: JSON.stringify(event.detail),
    };
  }

  private async publishBatch(entries: PutEventsRequestEntry[]): Promise<void> {
    const started = this.now();
    let pending = entries;
    let failures: Failure[] = [];
    let attempts = 0;
    for (;;) {
      attempts++;
      const callStarted = this.now();
      failures = await this.put(pending);
      if (failures.length === 0) return;
      const delayMs = this.backoff(attempts);
      // Retry only when a call as slow as this one would still end within the budget.
      const now = this.now();
      const retryEnds = now + delayMs + (now - callStarted);
      if (attempts > this.retry.retries || retryEnds - started > this.retry.budgetMs) break;
      this.observer.retrying?.({ attempt: attempts, delayMs, ...summaryOf(failures) });
      await this.sleep(delayMs);
      pending = failures.map((failure) => failure.entry);
    }
    await this.keep(failures, attempts, started);
  }

  /** One PutEvents call; resolves to the entries it did not take (all of them when the call itself failed). */
  private async put(entries: PutEventsRequestEntry[]): Promise<Failure[]> {
    this.eventBridge ??= new EventBridgeClient({});
    const client = this.eventBridge;
    let result: PutEventsCommandOutput;
    try {
      result = await client.send(new PutEventsCommand({ Entries: entries }));
    } catch (error) {
      const { name, message } = error as Error;
      return entries.map((entry) => ({ entry, errorCode: name || 'Error', errorMessage: message }));
    }
    if (!result.FailedEntryCount) return [];
    // The result entries line up with the request's; one without an EventId was not taken.
    return entries.flatMap((entry, index) => {
      const answer = result.Entries?.[index];
      if (answer?.EventId && !answer.ErrorCode) return [];
      return [
        {
          entry,
          errorCode: answer?.ErrorCode ?? 'Unknown',
          ...(answer?.ErrorMessage !== undefined && { errorMessage: answer.ErrorMessage }),
        },
      ];
    });
  }

  /** Exponential, with "equal jitter": half the step fixed, half random, so retries of many callers spread out. */
  private backoff(attempt: number): number {
    const step = this.retry.baseDelayMs * 2 ** (attempt - 1);
    return Math.round(step / 2 + (Math.random() * step) / 2);
  }

  private async keep(failures: Failure[], attempts: number, started: number): Promise<void> {
    const summary = summaryOf(failures);
    const refused = `EventBridge refused ${failures.length} event(s) after ${attempts} attempt(s) (${summary.errorCodes.join(', ')})`;
    const undelivered: UndeliveredEvents = {
      entries: failures.map((failure) => failure.entry),
      errors: failures.map(({ entry, errorCode, errorMessage }) => ({
        detailType: entry.DetailType ?? '',
        errorCode,
        ...(errorMessage !== undefined && { errorMessage }),
      })),
      attempts,
      firstAttemptAt: new Date(started).toISOString(),
      lastAttemptAt: new Date(this.now()).toISOString(),
    };
    try {
      await this.deadLetters.send({
        reason: refused,
        source: 'eventbridge-publisher',
        payload: JSON.stringify(undelivered),
      });
    } catch (error) {
      throw new EventsUndeliveredError(`${refused}; the undelivered-events queue refused them too`, summary.types, {
        cause: error,
      });
    }
    this.observer.deadLettered?.({ attempts, ...summary });
  }
}

const typesOf = (entries: PutEventsRequestEntry[]): string[] => entries.map((entry) => entry.DetailType ?? '');

const summaryOf = (failures: Failure[]): { types: string[]; errorCodes: string[] } => ({
  types: typesOf(failures.map((failure) => failure.entry)),
  errorCodes: [...new Set(failures.map((failure) => failure.errorCode))],
});
