import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Chat links carry a signed, expiring token bound to one tenant, customer and session:
 * `base64url(JSON payload).base64url(HMAC-SHA256)`. Every refusal looks the same to the caller.
 */
export interface ChatTokenPayload {
  tenantId: string;
  customerId: string;
  sessionId: string;
  /** Expiry, epoch seconds. */
  exp: number;
}

const signature = (secret: string, body: string) =>
  createHmac('sha256', secret).update(`chat\n${body}`).digest('base64url');

export const createChatToken = (secret: string, payload: ChatTokenPayload): string => {
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${body}.${signature(secret, body)}`;
};

export const verifyChatToken = (secret: string, token: string, nowMs: number): ChatTokenPayload | undefined => {
  if (token.length > 2048) return undefined;
  const [body, sig, ...rest] = token.split('.');
  if (!body || !sig || rest.length > 0) return undefined;
  const expected = Buffer.from(signature(secret, body));
  const actual = Buffer.from(sig);
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return undefined;
  let payload: ChatTokenPayload;
  try {
    payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as ChatTokenPayload;
  } catch {
    return undefined;
  }
  if (
    typeof payload.tenantId !== 'string' ||
    typeof payload.customerId !== 'string' ||
    typeof payload.sessionId !== 'string' ||
    typeof payload.exp !== 'number' ||
    payload.exp * 1000 <= nowMs
  ) {
    return undefined;
  }
  return payload;
};
