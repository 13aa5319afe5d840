import { createHmac, timingSafeEqual } from 'node:crypto';
import { randomBase32 } from './ids.ts';

/**
 * Signed tokens. The reply token rides in an email's Reply-To local part (at most 64 characters, case-insensitive),
 * so it is lower-case base32: `<tenantId>.<message id body>.<signature>`.
 */
const sign = (secret: string, purpose: string, payload: string, length: number): string =>
  randomBase32(createHmac('sha256', secret).update(`${purpose}\n${payload}`).digest(), length).toLowerCase();

const equalInConstantTime = (a: string, b: string): boolean => {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
};

export const createReplyToken = (secret: string, tenantId: string, messageId: string): string => {
  const body = messageId.replace(/^msg_/, '').toLowerCase();
  return `${tenantId}.${body}.${sign(secret, 'reply', `${tenantId}\n${body}`, 16)}`;
};

export const verifyReplyToken = (
  secret: string,
  token: string,
): { tenantId: string; messageId: string } | undefined => {
  const [tenantId, body, signature, ...rest] = token.toLowerCase().split('.');
  if (!tenantId || !body || !signature || rest.length > 0) return undefined;
  if (!equalInConstantTime(signature, sign(secret, 'reply', `${tenantId}\n${body}`, 16))) return undefined;
  return { tenantId, messageId: `msg_${body.toUpperCase()}` };
};
