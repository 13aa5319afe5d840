import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Chat links carry a signed, expiring token bound to one tenant, customer and session. It travels in an SMS, where
 * every character costs, so it is compact: `<tenant>.<session>.<customer tag>.<expiry>.<signature>` (about 75
 * characters), with the customer as a short hash, the expiry in base-36 epoch seconds and a 132-bit HMAC-SHA256.
 * The signature is checked before anything is read; every refusal looks the same to the caller.
 */
export interface ChatTokenClaims {
  tenantId: string;
  customerId: string;
  /** `chat_<26 base32 characters>` */
  sessionId: string;
  /** Expiry, epoch seconds. */
  exp: number;
}

export interface VerifiedChatToken {
  tenantId: string;
  sessionId: string;
  exp: number;
  /** Compare with {@link customerTagOf} of the session's customer. */
  customerTag: string;
}

const sessionPrefix = 'chat_';

export const customerTagOf = (customerId: string): string =>
  createHash('sha256').update(customerId).digest('base64url').slice(0, 8);

const sign = (secret: string, body: string) =>
  createHmac('sha256', secret).update(`chat\n${body}`).digest('base64url').slice(0, 22);

export const createChatToken = (secret: string, claims: ChatTokenClaims): string => {
  const body = [
    claims.tenantId,
    claims.sessionId.slice(sessionPrefix.length),
    customerTagOf(claims.customerId),
    claims.exp.toString(36),
  ].join('.');
  return `${body}.${sign(secret, body)}`;
};

export const verifyChatToken = (secret: string, token: string, nowMs: number): VerifiedChatToken | undefined => {
  if (token.length > 200) return undefined;
  const parts = token.split('.');
  if (parts.length !== 5) return undefined;
  const [tenantId, session, customerTag, exp36, signature] = parts as [string, string, string, string, string];
  if (
    !/^[a-z0-9][a-z0-9-]{1,19}$/.test(tenantId) ||
    !/^[0-9A-Z]{16,32}$/.test(session) ||
    !/^[0-9a-z]{1,10}$/.test(exp36)
  ) {
    return undefined;
  }
  const expected = Buffer.from(sign(secret, parts.slice(0, 4).join('.')));
  const actual = Buffer.from(signature);
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return undefined;
  const exp = Number.parseInt(exp36, 36);
  if (!Number.isFinite(exp) || exp * 1000 <= nowMs) return undefined;
  return { tenantId, sessionId: `${sessionPrefix}${session}`, exp, customerTag };
};
