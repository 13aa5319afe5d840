import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { WebhookPostResult } from '../../domain/webhook-delivery.ts';
import { pinnedLookup, type ResolvedWebhookTarget } from './resolve-and-check.ts';

/** The checked addresses a POST may connect to (`ResolvedWebhookTarget.addresses`). */
export type WebhookTarget = Extract<ResolvedWebhookTarget, { ok: true }>['addresses'];

/** What is read of an answer's body before the connection is dropped: nothing in it is used. */
const maxAnswerBytes = 64 * 1024;

/**
 * POSTs a signed body to an endpoint, connecting only to the addresses checked (`pinnedLookup`; TLS still
 * verifies the certificate against the URL's host name). No redirect is followed (a 3xx is a failed attempt, as
 * the specification says): a redirect could lead to an address the policy refuses. The whole exchange, connection
 * to answer, has `timeoutMs`.
 */
export const postWebhook = (input: {
  url: string;
  target: unknown;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
}): Promise<WebhookPostResult> =>
  new Promise((resolve) => {
    const url = new URL(input.url);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    let settled = false;
    const settle = (result: WebhookPostResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const req = send(
      url,
      {
        method: 'POST',
        headers: { ...input.headers, 'content-length': String(Buffer.byteLength(input.body)) },
        lookup: pinnedLookup(input.target as WebhookTarget),
        agent: false,
      },
      (res) => {
        let read = 0;
        const status = res.statusCode ?? 0;
        const retryAfter = res.headers['retry-after'];
        const done = () => settle({ status, ...(typeof retryAfter === 'string' && { retryAfter }) });
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > maxAnswerBytes) {
            done();
            res.destroy();
          }
        });
        res.on('end', done);
        res.on('error', done);
        res.on('close', done);
      },
    );
    const timer = setTimeout(() => {
      settle({ error: 'timeout' });
      req.destroy();
    }, input.timeoutMs);
    req.on('error', () => settle({ error: 'connection' }));
    req.end(input.body);
  });
