// EventBridge PutEvents over the JSON 1.1 protocol.
import { randomUUID } from 'node:crypto';
import type { CapturedEvent } from './aws-edges.ts';
import type { Journal } from './journal.ts';

export interface JsonAnswer {
  status: number;
  body: unknown;
  /** Set on errors: the JSON protocols read the error name from `x-amzn-ErrorType`. */
  errorType?: string;
}

type EntryResult = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

export function answerEventBridge(target: string, body: string, events: Journal<CapturedEvent>): JsonAnswer {
  if (target !== 'AWSEvents.PutEvents') return error('UnknownOperationException', `Unknown operation ${target}`);
  let request: unknown;
  try {
    request = JSON.parse(body);
  } catch {
    return error('SerializationException', 'Request body is not valid JSON');
  }
  const entries = isObject(request) ? request.Entries : undefined;
  if (!Array.isArray(entries) || entries.length === 0 || entries.length > 10) {
    return error('ValidationException', 'Entries must be a list of 1 to 10 entries');
  }
  const results = entries.map((entry: unknown) => putEntry(entry, events));
  return {
    status: 200,
    body: { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results },
  };
}

// Like the real service, a bad entry fails alone and the others are still delivered.
function putEntry(entry: unknown, events: Journal<CapturedEvent>): EntryResult {
  if (!isObject(entry)) return invalid('Entry', 'Entry must be an object.');
  const { Source: source, DetailType: type, Detail: detailText, EventBusName: bus } = entry;
  if (typeof source !== 'string' || source === '') return invalid('Source', 'Source is a required argument.');
  if (typeof type !== 'string' || type === '') return invalid('DetailType', 'DetailType is a required argument.');
  if (typeof detailText !== 'string') return invalid('Detail', 'Detail is a required argument.');
  let detail: unknown;
  try {
    detail = JSON.parse(detailText);
  } catch {
    detail = undefined;
  }
  if (!isObject(detail)) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };

  events.append({
    type,
    source,
    bus: typeof bus === 'string' && bus !== '' ? bus : 'default',
    detail,
    time: eventTime(entry.Time),
  });
  return { EventId: randomUUID() };
}

/** The SDK sends `Time` as epoch seconds; default to now as the service does. */
function eventTime(time: unknown): string {
  const date =
    typeof time === 'number' ? new Date(time * 1000) : typeof time === 'string' ? new Date(time) : new Date();
  return Number.isNaN(date.getTime()) ? new Date().toISOString() : date.toISOString();
}

function invalid(parameter: string, reason: string): EntryResult {
  return { ErrorCode: 'InvalidArgument', ErrorMessage: `Parameter ${parameter} is not valid. Reason: ${reason}` };
}

function error(type: string, message: string): JsonAnswer {
  return { status: 400, body: { __type: type, message }, errorType: type };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
