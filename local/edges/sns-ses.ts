// SNS Publish (to a phone number) and SES v1 SendEmail and SendRawEmail, the Query-protocol actions Parley uses.
import { randomUUID } from 'node:crypto';
import PostalMime, { type Email } from 'postal-mime';
import type { OutboxEntry } from './aws-edges.ts';
import { addressKey, type SendFaultRule } from './faults.ts';
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
/** SNS: any message is at most 256 KB of UTF-8. */
const SNS_MAX_MESSAGE_BYTES = 262_144;
/** SNS: "The total size limit for a single SMS Publish action is 1,600 characters" (Publish API reference). */
const SNS_MAX_SMS_CHARACTERS = 1600;
/** SES v1: a message, headers and encoded bodies included, is at most 10 MB. */
const SES_MAX_MESSAGE_BYTES = 10_485_760;

export { addressKey };

export interface MessagingDeps {
  outbox: Journal<OutboxEntry>;
  /** The send fault for one call to `address`, counted against its `times`. */
  takeFault(address: string): SendFaultRule | undefined;
}

/**
 * An answer, and what the edge does with it: `drop` means the send happened but the caller never hears back
 * (the socket is destroyed instead of answered); `delayMs` holds the answer back that long.
 */
export interface QueryAnswer {
  status: number;
  xml: string;
  drop?: true;
  delayMs?: number;
}

type Sent = { resultXml: string; fault?: SendFaultRule };

/** Answers one Query-protocol request; never throws for bad input. */
export async function answerQuery(form: string, deps: MessagingDeps, requestId: string): Promise<QueryAnswer> {
  const params = new URLSearchParams(form);
  const action = params.get('Action');
  // Both services share the port, so the API version tells whose error dialect to speak.
  const xmlns = params.get('Version') === SES_VERSION ? SES_XMLNS : SNS_XMLNS;
  try {
    if (action === 'Publish') return ok(SNS_XMLNS, action, publish(params, deps), requestId);
    if (action === 'SendEmail') return ok(SES_XMLNS, action, sendEmail(params, deps), requestId);
    if (action === 'SendRawEmail') return ok(SES_XMLNS, action, await sendRawEmail(params, deps), requestId);
    if (action === null) throw new QueryError(400, 'MissingAction', 'The request must contain the parameter Action.');
    throw new QueryError(400, 'InvalidAction', `The action ${action} is not valid for this web service.`);
  } catch (err) {
    if (!(err instanceof QueryError)) throw err;
    return { status: err.status, xml: queryErrorResponse(xmlns, err, requestId) };
  }
}

function ok(xmlns: string, action: string, sent: Sent, requestId: string): QueryAnswer {
  const answer: QueryAnswer = { status: 200, xml: queryResponse(xmlns, action, sent.resultXml, requestId) };
  if (sent.fault?.fault === 'ambiguous') answer.drop = true;
  if (sent.fault?.fault === 'delay') answer.delayMs = sent.fault.delayMs ?? 0;
  return answer;
}

function publish(params: URLSearchParams, deps: MessagingDeps): Sent {
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
  // SNS documents no separate error for an SMS over its cap; it answers an oversized message with this one.
  if (Buffer.byteLength(message, 'utf8') > SNS_MAX_MESSAGE_BYTES || message.length > SNS_MAX_SMS_CHARACTERS) {
    throw new QueryError(400, 'InvalidParameter', 'Invalid parameter: Message too long');
  }
  const fault = faultBeforeSend(deps, [phone], {
    throttle: 'Rate exceeded',
    reject: { code: 'InvalidParameter', message: (to) => `Invalid parameter: PhoneNumber Reason: ${to} rejected` },
  });

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
  return { resultXml: `<MessageId>${messageId}</MessageId>`, ...(fault && { fault }) };
}

function sendEmail(params: URLSearchParams, deps: MessagingDeps): Sent {
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
  const replyTo = memberList(params, 'ReplyToAddresses');
  const size = mimeSize([source, ...destinations, ...replyTo, subject], [text, html]);
  if (size > SES_MAX_MESSAGE_BYTES) {
    throw new QueryError(
      400,
      'InvalidParameterValue',
      `Message length is more than ${SES_MAX_MESSAGE_BYTES} bytes long: '${size}'.`,
    );
  }
  const fault = faultBeforeSend(deps, destinations, {
    throttle: 'Maximum sending rate exceeded.',
    reject: { code: 'MessageRejected', message: (to) => `Email address rejected: ${to}` },
  });

  const messageId = sesMessageId();
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
        tags: messageTags(params),
        providerMessageId: messageId,
        at,
      }),
    );
  }
  return { resultXml: `<MessageId>${xmlEscape(messageId)}</MessageId>`, ...(fault && { fault }) };
}

/** SES message tags (`Tags.member.N.Name` / `.Value`), which its events carry back in `mail.tags`. */
function messageTags(params: URLSearchParams): Record<string, string> | undefined {
  const tags: Record<string, string> = {};
  for (let n = 1; params.has(`Tags.member.${n}.Name`); n++) {
    tags[params.get(`Tags.member.${n}.Name`) as string] = params.get(`Tags.member.${n}.Value`) ?? '';
  }
  return Object.keys(tags).length > 0 ? tags : undefined;
}

/** SES gives one id per send; its shape is 16 hex digits (time-based), a UUID and a 6-digit suffix. */
function sesMessageId(): string {
  return `0100${Date.now().toString(16).padStart(12, '0')}-${randomUUID()}-000000`;
}

/** The mailbox addresses of parsed address headers (groups flattened). */
function addressesOf(list: Email['to']): string[] {
  return (list ?? []).flatMap((entry) => (entry.group ? entry.group.map((m) => m.address) : [entry.address]));
}

/**
 * SES v1 `SendRawEmail`: the whole MIME message, base64 in `RawMessage.Data`, recipients from `Destinations` or the
 * headers. It is parsed (postal-mime, as a mail client would) into the outbox record `SendEmail` makes, plus the
 * headers as they went out. SES replaces `Message-ID` and `Date` with its own, and so does this.
 */
async function sendRawEmail(params: URLSearchParams, deps: MessagingDeps): Promise<Sent> {
  const data = params.get('RawMessage.Data');
  if (!data) throw new QueryError(400, 'InvalidParameterValue', 'RawMessage.Data is required');
  const raw = Buffer.from(data, 'base64');
  if (raw.length > SES_MAX_MESSAGE_BYTES) {
    throw new QueryError(
      400,
      'InvalidParameterValue',
      `Message length is more than ${SES_MAX_MESSAGE_BYTES} bytes long: '${raw.length}'.`,
    );
  }
  let mail: Email;
  try {
    mail = await PostalMime.parse(raw);
  } catch {
    throw new QueryError(400, 'InvalidParameterValue', 'Illegal header or body: the message is not valid MIME');
  }
  const fromHeader = mail.from?.group ? mail.from.group[0]?.address : mail.from?.address;
  const source = params.get('Source') ?? fromHeader;
  const listed = memberList(params, 'Destinations');
  const destinations = listed.length > 0 ? listed : [mail.to, mail.cc, mail.bcc].flatMap(addressesOf);
  if (!source || !fromHeader) throw new QueryError(400, 'InvalidParameterValue', 'Missing required header: From');
  if (destinations.length === 0) throw new QueryError(400, 'InvalidParameterValue', 'Missing required header: To');
  for (const address of [source, ...destinations]) {
    if (!addressKey(address).includes('@'))
      throw new QueryError(400, 'InvalidParameterValue', "Missing final '@domain'");
  }
  if (mail.text === undefined && mail.html === undefined) {
    throw new QueryError(400, 'InvalidParameterValue', 'Message.Body is required');
  }
  const fault = faultBeforeSend(deps, destinations, {
    throttle: 'Maximum sending rate exceeded.',
    reject: { code: 'MessageRejected', message: (to) => `Email address rejected: ${to}` },
  });

  const messageId = sesMessageId();
  const at = new Date().toISOString();
  const headers: Record<string, string> = {};
  for (const header of mail.headers) {
    if (header.key === 'message-id' || header.key === 'date' || header.key === 'bcc') continue;
    headers[header.originalKey] ??= header.value;
  }
  headers['Message-ID'] = `<${messageId}@email.amazonses.com>`;
  headers.Date = new Date(at).toUTCString().replace('GMT', '+0000');
  const replyTo = addressesOf(mail.replyTo);
  for (const to of destinations) {
    deps.outbox.append(
      withoutUndefined({
        channel: 'email',
        to,
        from: source,
        subject: mail.subject ?? '',
        body: mail.text ?? mail.html ?? '',
        html: mail.html,
        replyTo: replyTo.length > 0 ? replyTo : undefined,
        headers,
        configurationSet: params.get('ConfigurationSetName') ?? undefined,
        tags: messageTags(params),
        providerMessageId: messageId,
        at,
      }),
    );
  }
  return { resultXml: `<MessageId>${xmlEscape(messageId)}</MessageId>`, ...(fault && { fault }) };
}

/**
 * The fault set for the first faulted address of this call, counted once. The ones where the provider does not
 * take the message throw its real error; `ambiguous` and `delay` let the send go through and are returned.
 */
function faultBeforeSend(
  deps: MessagingDeps,
  addresses: string[],
  dialect: { throttle: string; reject: { code: string; message: (to: string) => string } },
): SendFaultRule | undefined {
  for (const address of addresses) {
    const rule = deps.takeFault(address);
    if (rule === undefined) continue;
    if (rule.fault === 'throttle') throw new QueryError(400, 'Throttling', dialect.throttle);
    if (rule.fault === 'reject') throw new QueryError(400, dialect.reject.code, dialect.reject.message(address));
    if (rule.fault === 'unavailable') {
      throw new QueryError(503, 'ServiceUnavailable', 'Service is unavailable. Try again later.');
    }
    return rule;
  }
  return undefined;
}

/**
 * About the size SES gives the MIME message: headers as written, an ASCII body as is, any other body base64 in
 * 76-character lines (SES counts the encoded message). Rounded up, so what fits here fits on SES.
 */
function mimeSize(headers: string[], bodies: (string | null)[]): number {
  let size = 1024; // the headers SES adds (Message-ID, Date, MIME-Version, content types and boundaries)
  for (const header of headers) size += Buffer.byteLength(header, 'utf8') + 16;
  for (const body of bodies) {
    if (body === null) continue;
    const bytes = Buffer.byteLength(body, 'utf8');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range is the point
    if (/^[\x00-\x7f]*$/.test(body)) size += bytes;
    else size += Math.ceil(((Math.ceil(bytes / 3) * 4) / 76) * 78);
  }
  return size;
}

// Keeps listed and persisted entries free of `key: undefined` noise.
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
