// The AWS Query protocol (SNS, SES v1): form-encoded requests, XML responses and errors.

export class QueryError extends Error {
  readonly status: number;
  readonly code: string;
  /** `Sender` for the caller's fault, `Receiver` for the service's (the SDK retries 5xx). */
  readonly type: 'Sender' | 'Receiver';

  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
    this.type = status >= 500 ? 'Receiver' : 'Sender';
  }
}

export function xmlEscape(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function queryResponse(xmlns: string, action: string, resultXml: string, requestId: string): string {
  return (
    `<${action}Response xmlns="${xmlns}">` +
    `<${action}Result>${resultXml}</${action}Result>` +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>` +
    `</${action}Response>`
  );
}

export function queryErrorResponse(xmlns: string, error: QueryError, requestId: string): string {
  return (
    `<ErrorResponse xmlns="${xmlns}">` +
    `<Error><Type>${error.type}</Type><Code>${xmlEscape(error.code)}</Code><Message>${xmlEscape(error.message)}</Message></Error>` +
    `<RequestId>${requestId}</RequestId>` +
    `</ErrorResponse>`
  );
}

/** A list parameter serialized as `Prefix.member.1`, `Prefix.member.2`, ... */
export function memberList(params: URLSearchParams, prefix: string): string[] {
  const values: string[] = [];
  for (let n = 1; ; n++) {
    const value = params.get(`${prefix}.member.${n}`);
    if (value === null) return values;
    values.push(value);
  }
}

/** A map of string attributes serialized as `Prefix.entry.N.Name` / `Prefix.entry.N.Value.StringValue`. */
export function stringAttributes(params: URLSearchParams, prefix: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (let n = 1; ; n++) {
    const name = params.get(`${prefix}.entry.${n}.Name`);
    if (name === null) return attributes;
    const value = params.get(`${prefix}.entry.${n}.Value.StringValue`);
    if (value !== null) attributes.set(name, value);
  }
}
