/**
 * API Gateway v2 events for calling the HTTP handlers directly, as local/http-gateway.ts builds them after the
 * authorizer let the request through (on AWS the authorizer is another Lambda whose answer API Gateway caches).
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyStructuredResultV2, Context, SNSEvent } from 'aws-lambda';
import type { HttpEvent } from '../../functions/handlers/http/http-handler.ts';
import { snsEventFor } from '../../local/inbound-simulator.ts';

export type HttpLambda = (event: HttpEvent, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

export const benchPhone = '+12025550143';

/** A distinct, valid phone number per customer index (0-8999). */
export const phoneFor = (index: number): string => `+120255${String(51000 + index)}`;

/** The same request without the prompt: creates or updates the customer and leaves nothing open. */
export const withoutPrompt = <T extends { prompt?: unknown }>(body: T): Omit<T, 'prompt'> => {
  const { prompt: _none, ...rest } = body;
  return rest;
};

/** A card-transaction check as DESIGN section 5 shows it: template, data, prompt and reference. */
export const sendBody = (customerId: string, reference: string, phone = benchPhone) => ({
  customerId,
  to: { phone, email: `${customerId}@example.com` },
  channel: 'auto',
  template: 'card-transaction-alert',
  data: { amount: '$420.00', merchant: 'ACME' },
  urgency: 'high',
  prompt: { type: 'confirm', expiresInSeconds: 900 },
  reference,
});

export const sendEvent = (
  body: unknown,
  options: { tenantId: string; idempotencyKey?: string; scopes?: string },
): HttpEvent => {
  const now = new Date();
  const text = JSON.stringify(body);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    host: '127.0.0.1',
    'user-agent': 'parley-bench',
    ...(options.idempotencyKey !== undefined && { 'idempotency-key': options.idempotencyKey }),
  };
  return {
    version: '2.0',
    routeKey: 'POST /v1/messages',
    rawPath: '/v1/messages',
    rawQueryString: '',
    headers,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: '127.0.0.1',
      domainPrefix: 'local',
      http: {
        method: 'POST',
        path: '/v1/messages',
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'parley-bench',
      },
      requestId: randomUUID(),
      routeKey: 'POST /v1/messages',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
      authorizer: {
        lambda: { tenantId: options.tenantId, keyId: 'bench', scopes: options.scopes ?? 'send,read,agent' },
      },
    },
    body: text,
    isBase64Encoded: false,
  } as HttpEvent;
};

/** An SMS reply as End User Messaging two-way SMS publishes it (DESIGN section 2), in the SNS event Lambda gets. */
export const inboundSmsEvent = (payload: {
  originationNumber: string;
  destinationNumber: string;
  messageBody: string;
  inboundMessageId: string;
  previousPublishedMessageId?: string;
}): SNSEvent => snsEventFor(JSON.stringify({ messageKeyword: 'KEYWORD_000000000000', ...payload }));
