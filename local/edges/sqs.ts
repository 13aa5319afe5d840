// SQS SendMessage over the JSON 1.0 protocol: the dead-letter queues the local runtime captures.
import { createHash, randomUUID } from 'node:crypto';
import type { JsonAnswer } from './eventbridge.ts';
import type { Journal } from './journal.ts';

export interface DeadLetter {
  queueUrl: string;
  body: string;
  attributes: Record<string, string>;
  messageId: string;
  at: string;
}

const error = (type: string, message: string): JsonAnswer => ({
  status: 400,
  body: { __type: type, message },
  errorType: type,
});

export function answerSqs(target: string, body: string, deadLetters: Journal<DeadLetter>): JsonAnswer {
  if (target !== 'AmazonSQS.SendMessage') return error('UnsupportedOperation', `Unsupported operation ${target}`);
  let request: { QueueUrl?: unknown; MessageBody?: unknown; MessageAttributes?: unknown };
  try {
    request = JSON.parse(body) as typeof request;
  } catch {
    return error('InvalidParameterValue', 'Request body is not valid JSON');
  }
  if (typeof request.QueueUrl !== 'string' || typeof request.MessageBody !== 'string' || request.MessageBody === '') {
    return error('MissingParameter', 'QueueUrl and MessageBody are required');
  }
  const attributes: Record<string, string> = {};
  if (request.MessageAttributes && typeof request.MessageAttributes === 'object') {
    for (const [name, value] of Object.entries(request.MessageAttributes as Record<string, { StringValue?: string }>)) {
      if (typeof value?.StringValue === 'string') attributes[name] = value.StringValue;
    }
  }
  const messageId = randomUUID();
  deadLetters.append({
    queueUrl: request.QueueUrl,
    body: request.MessageBody,
    attributes,
    messageId,
    at: new Date().toISOString(),
  });
  // The SDK checks this digest of the body it sent.
  const md5 = createHash('md5').update(request.MessageBody).digest('hex');
  return { status: 200, body: { MessageId: messageId, MD5OfMessageBody: md5 } };
}
