// SNS Publish (to a phone number) and SES v1 SendEmail, the two Query-protocol actions Parley uses.
import { randomUUID } from 'node:crypto';
import type { Fault, OutboxEntry } from './aws-edges.ts';
import type { Journal } from './journal.ts';
import {
  memberList,
  QueryError,
  queryErrorResponse,
  queryResponse,
  stringAttributes,
  xmlEscape,
} from './query-protocol.ts';

const SNS_XMLNS = 'http://sns.amazonaws.com/doc/2010-03-31/';
const SES_VERSION = '2010-12-01';
const SES_XMLNS = 'http://ses.amazonaws.com/doc/2010-12-01/';
const E164 = /^\+[1-9]\d{1,14}$/;

export interface MessagingDeps {
  outbox: Journal<OutboxEntry>;
  faultFor(address: string): Fault | undefined;
}

/** Answers one Query-protocol request; never throws for bad input. */
export function answerQuery(form: string, deps: MessagingDeps, requestId: string): { status: number; xml: string } {
  const params = new URLSearchParams(form);
  const action = params.get('Action');
  // Both services share the port, so the API version tells whose error dialect to speak.
  const xmlns = params.get('Version') === SES_VERSION ? SES_XMLNS : SNS_XMLNS;
  try {
    if (action === 'Publish') return ok(SNS_XMLNS, action, publish(params, deps), requestId);
    if (action === 'SendEmail') return ok(SES_XMLNS, action, sendEmail(params, deps), requestId);
    if (action === null) throw new QueryError(400, 'MissingAction', 'The request must contain the parameter Action.');
    throw new QueryError(400, 'InvalidAction', `The action ${action} is not valid for this web service.`);
  } catch (err) {
    if (!(err instanceof QueryError)) throw err;
    return { status: err.status, xml: queryErrorResponse(xmlns, err, requestId) };
  }
}

function ok(xmlns: string, action: string, resultXml: string, requestId: string) {
  return { status: 200, xml: queryResponse(xmlns, action, resultXml, requestId) };
}

function publish(params: URLSearchParams, deps: MessagingDeps): string {
  const phone = params.get('PhoneNumber');
  if (phone === null) {
    if (params.has('TopicArn') || params.has('TargetArn')) {
      throw new QueryError(404, 'NotFound', 'Topic does not exist (only direct SMS publishing is emulated)');
    }
    throw new QueryError(400, 'InvalidParameter', 'Invalid parameter: PhoneNumber Reason: PhoneNumber is required');
  }
  if (!E164.test(phone)) {
    throw new QueryError(
      400,
      'InvalidParameter',
      `Invalid parameter: PhoneNumber Reason: ${phone} is not valid to publish to`,
    );
  }
  const message = params.get('Message');
  if (!message) throw new QueryError(400, 'InvalidParameter', 'Invalid parameter: Message Reason: Empty message');
  throwOnFault(deps, [phone], 'InvalidParameter', (to) => `Invalid parameter: PhoneNumber Reason: ${to} rejected`);

  const attributes = stringAttributes(params, 'MessageAttributes');
  const messageId = randomUUID();
  deps.outbox.append(
    withoutUndefined({
      channel: 'sms',
      to: phone,
      from: attributes.get('AWS.MM.SMS.OriginationNumber') ?? attributes.get('AWS.SNS.SMS.OriginationNumber') ?? '',
      body: message,
      smsType: attributes.get('AWS.SNS.SMS.SMSType'),
      providerMessageId: messageId,
      at: new Date().toISOString(),
    }),
  );
  return `<MessageId>${messageId}</MessageId>`;
}

function sendEmail(params: URLSearchParams, deps: MessagingDeps): string {
  const source = params.get('Source');
  const destinations = ['To', 'Cc', 'Bcc'].flatMap((kind) => memberList(params, `Destination.${kind}Addresses`));
  const subject = params.get('Message.Subject.Data');
  const text = params.get('Message.Body.Text.Data');
  const html = params.get('Message.Body.Html.Data');
  if (!source) throw new QueryError(400, 'InvalidParameterValue', 'Source is required');
  if (destinations.length === 0) throw new QueryError(400, 'InvalidParameterValue', 'Missing required header: To');
  for (const address of [source, ...destinations]) {
    if (!addressKey(address).includes('@'))
      throw new QueryError(400, 'InvalidParameterValue', "Missing final '@domain'");
  }
  if (subject === null) throw new QueryError(400, 'InvalidParameterValue', 'Message.Subject is required');
  if (text === null && html === null) throw new QueryError(400, 'InvalidParameterValue', 'Message.Body is required');
  throwOnFault(deps, destinations, 'MessageRejected', (to) => `Email address rejected: ${to}`);

  const replyTo = memberList(params, 'ReplyToAddresses');
  // SES gives one id per send; its shape is 16 hex digits (time-based), a UUID and a 6-digit suffix.
  const messageId = `0100${Date.now().toString(16).padStart(12, '0')}-${randomUUID()}-000000`;
  const at = new Date().toISOString();
  for (const to of destinations) {
    deps.outbox.append(
      withoutUndefined({
        channel: 'email',
        to,
        from: source,
        subject,
        body: text ?? html ?? '',
        html: html ?? undefined,
        replyTo: replyTo.length > 0 ? replyTo : undefined,
        configurationSet: params.get('ConfigurationSetName') ?? undefined,
        providerMessageId: messageId,
        at,
      }),
    );
  }
  return `<MessageId>${xmlEscape(messageId)}</MessageId>`;
}

function throwOnFault(deps: MessagingDeps, addresses: string[], rejectCode: string, reason: (to: string) => string) {
  for (const address of addresses) {
    const fault = deps.faultFor(address);
    if (fault === 'reject') throw new QueryError(400, rejectCode, reason(address));
    if (fault === 'unavailable')
      throw new QueryError(503, 'ServiceUnavailable', 'Service is unavailable. Try again later.');
  }
}

/** `"Demo Bank" <a@b.c>` and `A@B.C` both key as `a@b.c`; phone numbers are unchanged. */
export function addressKey(address: string): string {
  return (/<([^>]*)>/.exec(address)?.[1] ?? address).trim().toLowerCase();
}

// Keeps listed and persisted entries free of `key: undefined` noise.
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
