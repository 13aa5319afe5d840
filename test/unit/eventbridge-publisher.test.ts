import type { PutEventsCommand, PutEventsCommandOutput, PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { SendMessageCommand, SendMessageCommandInput, SQSClient } from '@aws-sdk/client-sqs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  EventBridgePublisher,
  type EventBridgePublisherOptions,
  EventsUndeliveredError,
  type PublishObserver,
  type UndeliveredEvents,
} from '../../functions/adapters/events/eventbridge-publisher.ts';
import type { ParleyEvent } from '../../functions/domain/ports.ts';
import { reportingPublisher } from '../../functions/handlers/http/events.ts';
import { logger, metrics } from '../../functions/handlers/http/observability.ts';

type EntryAnswer = { EventId: string } | { ErrorCode: string; ErrorMessage?: string };

/** PutEvents as EventBridge answers it: per entry; each call takes the next scripted answer, else accepts all. */
class FakeEventBridge {
  readonly calls: PutEventsRequestEntry[][] = [];
  private readonly script: ((entries: PutEventsRequestEntry[]) => EntryAnswer[] | Error)[] = [];

  /** The next call answers with these per-entry results (or throws this error). */
  answerNext(answer: (entries: PutEventsRequestEntry[]) => EntryAnswer[] | Error): this {
    this.script.push(answer);
    return this;
  }

  async send(command: PutEventsCommand): Promise<PutEventsCommandOutput> {
    const entries = structuredClone(command.input.Entries ?? []);
    this.calls.push(entries);
    const answer =
      this.script.shift()?.(entries) ?? entries.map((_, i) => ({ EventId: `id-${this.calls.length}-${i}` }));
    if (answer instanceof Error) throw answer;
    return {
      FailedEntryCount: answer.filter((entry) => 'ErrorCode' in entry).length,
      Entries: answer,
      $metadata: {},
    };
  }
}

class FakeSqs {
  readonly sent: SendMessageCommandInput[] = [];
  failWith: Error | undefined;

  async send(command: SendMessageCommand): Promise<{ MessageId: string }> {
    if (this.failWith) throw this.failWith;
    this.sent.push(structuredClone(command.input));
    return { MessageId: `sqs-${this.sent.length}` };
  }
}

const event = (type: string, n = 1): ParleyEvent => ({
  type,
  detail: {
    tenantId: 'acme',
    customerId: `cust-${n}`,
    occurredAt: '2030-01-01T00:00:00.000Z',
    messageId: `msg_${n}`,
    reference: `txn-${n}`,
  },
});

const refused = (code = 'InternalFailure'): EntryAnswer => ({ ErrorCode: code, ErrorMessage: `${code} happened` });
const taken: EntryAnswer = { EventId: 'ok' };
const alwaysRefused = (entries: PutEventsRequestEntry[]) => entries.map(() => refused());

describe('EventBridge publisher', () => {
  let eventBridge: FakeEventBridge;
  let sqs: FakeSqs;
  let sleeps: number[];
  let clockMs: number;
  let reports: { retrying: unknown[]; deadLettered: unknown[] };

  const publisher = (options: Partial<EventBridgePublisherOptions> = {}) =>
    new EventBridgePublisher('parley-bus', {
      deadLetterQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/undelivered-events',
      eventBridge,
      sqs: sqs as unknown as SQSClient,
      sleep: async (ms) => {
        sleeps.push(ms);
        clockMs += ms;
      },
      now: () => clockMs,
      observer: {
        retrying: (report) => reports.retrying.push(report),
        deadLettered: (report) => reports.deadLettered.push(report),
      } satisfies PublishObserver,
      ...options,
    });

  const undelivered = (index = 0): UndeliveredEvents =>
    JSON.parse(sqs.sent[index]?.MessageBody ?? 'null') as UndeliveredEvents;

  beforeEach(() => {
    eventBridge = new FakeEventBridge();
    sqs = new FakeSqs();
    sleeps = [];
    clockMs = Date.parse('2030-01-01T00:00:00.000Z');
    reports = { retrying: [], deadLettered: [] };
  });

  it('sends each event once as a parley entry on the bus when EventBridge takes them all', async () => {
    // Act
    await publisher().publish([event('message.sent')]);

    // Assess
    expect(eventBridge.calls).toEqual([
      [
        {
          EventBusName: 'parley-bus',
          Source: 'parley',
          DetailType: 'message.sent',
          Detail: JSON.stringify(event('message.sent').detail),
        },
      ],
    ]);
    expect(sleeps).toEqual([]);
    expect(sqs.sent).toEqual([]);
  });

  it('retries only the refused entry, once, after a backoff, when a partial failure is followed by success', async () => {
    // Prepare
    eventBridge.answerNext(() => [taken, refused('ThrottlingException'), taken]);
    const events = [event('message.sent', 1), event('prompt.answered', 2), event('consent.changed', 3)];

    // Act
    await publisher().publish(events);

    // Assess
    expect(eventBridge.calls).toHaveLength(2);
    expect(eventBridge.calls[1]).toEqual([eventBridge.calls[0]?.[1]]);
    expect(eventBridge.calls[1]?.[0]?.DetailType).toBe('prompt.answered');
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeGreaterThan(0);
    expect(sqs.sent).toEqual([]);
    expect(reports.retrying).toEqual([
      { attempt: 1, delayMs: sleeps[0], types: ['prompt.answered'], errorCodes: ['ThrottlingException'] },
    ]);
    expect(reports.deadLettered).toEqual([]);
  });

  it('keeps retrying only what is still refused, with growing delays', async () => {
    // Prepare
    eventBridge
      .answerNext(() => [refused(), refused(), taken])
      .answerNext(() => [taken, refused()])
      .answerNext(() => [taken]);

    // Act
    await publisher().publish([event('a', 1), event('b', 2), event('c', 3)]);

    // Assess
    expect(eventBridge.calls.map((entries) => entries.map((entry) => entry.DetailType))).toEqual([
      ['a', 'b', 'c'],
      ['a', 'b'],
      ['b'],
    ]);
    expect(sleeps).toHaveLength(2);
    expect(sleeps[1]).toBeGreaterThan(sleeps[0] ?? Number.POSITIVE_INFINITY);
    expect(sqs.sent).toEqual([]);
  });

  it('puts what EventBridge keeps refusing into one SQS message holding the entries and the errors', async () => {
    // Prepare
    eventBridge.answerNext(() => [taken, refused()]);
    for (let i = 0; i < 10; i++) eventBridge.answerNext(alwaysRefused);

    // Act
    await publisher().publish([event('message.sent', 1), event('message.failed', 2)]);

    // Assess
    expect(sqs.sent).toHaveLength(1);
    const message = sqs.sent[0];
    expect(message?.QueueUrl).toBe('https://sqs.eu-west-1.amazonaws.com/123456789012/undelivered-events');
    const body = undelivered();
    // Exactly the entry PutEvents refused, as it was sent: a replay is one PutEvents of `entries`.
    expect(body.entries).toEqual([eventBridge.calls[0]?.[1]]);
    expect(body.errors).toEqual([
      { detailType: 'message.failed', errorCode: 'InternalFailure', errorMessage: 'InternalFailure happened' },
    ]);
    expect(body.attempts).toBe(eventBridge.calls.length);
    expect(message?.MessageAttributes?.source?.StringValue).toBe('eventbridge-publisher');
    expect(message?.MessageAttributes?.reason?.StringValue).toContain('InternalFailure');
    expect(reports.deadLettered).toEqual([
      { attempts: eventBridge.calls.length, types: ['message.failed'], errorCodes: ['InternalFailure'] },
    ]);
  });

  it('gives up within its time budget: a few attempts, never more than the budget of sleeping', async () => {
    // Prepare
    for (let i = 0; i < 20; i++) eventBridge.answerNext(alwaysRefused);

    // Act
    await publisher().publish([event('message.sent')]);

    // Assess
    expect(eventBridge.calls.length).toBeGreaterThan(1);
    expect(eventBridge.calls.length).toBeLessThanOrEqual(4);
    expect(sleeps.reduce((sum, ms) => sum + ms, 0)).toBeLessThanOrEqual(1000);
    expect(sqs.sent).toHaveLength(1);
  });

  it('does not retry when the delay and another call as slow as the last would pass the budget', async () => {
    // Prepare: every PutEvents takes 400 ms
    const slow = (entries: PutEventsRequestEntry[]) => {
      clockMs += 400;
      return alwaysRefused(entries);
    };
    for (let i = 0; i < 5; i++) eventBridge.answerNext(slow);

    // Act
    await publisher({ retry: { retries: 5, baseDelayMs: 50, budgetMs: 1000 } }).publish([event('message.sent')]);

    // Assess: 400 ms, a retry (that would end by 1000 ms), 400 ms more; a third would end past the budget
    expect(eventBridge.calls).toHaveLength(2);
    expect(sqs.sent).toHaveLength(1);
  });

  it('treats a PutEvents call that fails as a whole as every entry refused, and keeps them', async () => {
    // Prepare
    const outage = Object.assign(new Error('connect ETIMEDOUT'), { name: 'TimeoutError' });
    for (let i = 0; i < 10; i++) eventBridge.answerNext(() => outage);

    // Act
    await publisher().publish([event('message.sent', 1), event('keyword.received', 2)]);

    // Assess
    expect(undelivered().entries.map((entry) => entry.DetailType)).toEqual(['message.sent', 'keyword.received']);
    expect(undelivered().errors.map((error) => error.errorCode)).toEqual(['TimeoutError', 'TimeoutError']);
  });

  it('throws when the undelivered-events queue refuses them too, naming the lost types but no detail', async () => {
    // Prepare
    for (let i = 0; i < 10; i++) eventBridge.answerNext(alwaysRefused);
    sqs.failWith = new Error('SQS unavailable');

    // Act
    const publishing = publisher().publish([event('message.sent')]);

    // Assess
    const error = await publishing.then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(EventsUndeliveredError);
    expect((error as EventsUndeliveredError).types).toEqual(['message.sent']);
    expect((error as Error).message).toMatch(/undelivered-events queue refused/);
    expect((error as Error).message).not.toContain('txn-1');
    expect((error as Error).cause).toBe(sqs.failWith);
    expect(reports.deadLettered).toEqual([]);
  });

  it('sends more than ten events in calls of ten, and loses none of a later batch when an earlier one is lost', async () => {
    // Prepare
    const events = Array.from({ length: 12 }, (_, i) => event(`type-${i}`, i));
    for (let i = 0; i < 4; i++) eventBridge.answerNext(alwaysRefused);
    sqs.failWith = new Error('SQS unavailable');

    // Act
    const error = await publisher({ retry: { retries: 3 } })
      .publish(events)
      .then(
        () => undefined,
        (thrown: unknown) => thrown as EventsUndeliveredError,
      );

    // Assess: the first batch of ten is lost (and named); the last two still went out
    expect(eventBridge.calls.map((entries) => entries.length)).toEqual([10, 10, 10, 10, 2]);
    expect(error?.types).toHaveLength(10);
  });
});

describe('reporting publisher', () => {
  afterEach(() => vi.restoreAllMocks());

  it('logs the lost types without any detail, counts them, and throws on to the caller', async () => {
    // Prepare
    const lost = new EventsUndeliveredError('EventBridge refused 1 event(s)', ['prompt.answered']);
    const logged = vi.spyOn(logger, 'error').mockImplementation(() => {});
    const counted = vi.spyOn(metrics, 'addMetric').mockImplementation(() => metrics);
    const publisher = reportingPublisher({ publish: () => Promise.reject(lost) });

    // Act
    const publishing = publisher.publish([event('prompt.answered')]);

    // Assess
    await expect(publishing).rejects.toBe(lost);
    expect(logged).toHaveBeenCalledWith('events not published', { types: ['prompt.answered'], error: lost });
    expect(JSON.stringify(logged.mock.calls)).not.toContain('txn-1');
    expect(counted).toHaveBeenCalledWith('EventsNotPublished', 'Count', 1);
  });
});
