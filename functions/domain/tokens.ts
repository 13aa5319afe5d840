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

/**
 * The reply token's signature: 16 characters (80 bits), shortened to what fits when the tenant id is long, so that
 * `reply+<token>` stays within a local part's 64 characters (RFC 5321): at least 10 (50 bits) for the longest tenant
 * id (20). A forged token must also come From the customer's own address, DMARC passing, to be acted on.
 */
const replyPrefix = 'reply+'.length;
const replySignatureLength = (tenantId: string) =>
  Math.min(16, 64 - replyPrefix - tenantId.length - '.'.length - 26 - '.'.length);

export const createReplyToken = (secret: string, tenantId: string, messageId: string): string => {
  const body = messageId.replace(/^msg_/, '').toLowerCase();
  const signature = sign(secret, 'reply', `${tenantId}\n${body}`, 16);
  return `${tenantId}.${body}.${signature.slice(0, replySignatureLength(tenantId))}`;
};

export const verifyReplyToken = (
  secret: string,
  token: string,
): { tenantId: string; messageId: string } | undefined => {
  const [tenantId, body, signature, ...rest] = token.toLowerCase().split('.');
  if (!tenantId || !body || !signature || rest.length > 0) return undefined;
  const full = sign(secret, 'reply', `${tenantId}\n${body}`, 16);
  // The shortened form for this tenant, or the whole one (longer is only stronger).
  const expected = signature.length === full.length ? full : full.slice(0, replySignatureLength(tenantId));
  if (!equalInConstantTime(signature, expected)) return undefined;
  return { tenantId, messageId: `msg_${body.toUpperCase()}` };
};

/**
 * Unsubscribe tokens (DESIGN section 12): in a `List-Unsubscribe` mailto local part (`unsubscribe+<token>`, the whole
 * local part at most 64 characters, read case-insensitively) and in the one-click URL path. Two forms, both signed
 * for the tenant:
 * - the address itself, `<tenantId>.<local>=<domain>.<signature>`, when it is made of characters a local part and a
 *   URL path both take as they are (lower-case letters, digits, `.`, `_`, `+`, `-`);
 * - Parley's message id, `<tenantId>.<message id body><signature>` (fixed widths, no separator: every character
 *   counts), whose stored message names the address, for an address too long or unusual for the first.
 */
export type UnsubscribeTarget = { tenantId: string; address: string } | { tenantId: string; messageId: string };

const unsubscribePurpose = 'unsubscribe';
const signatureLength = 16;
const messageBodyLength = 26;
const tenantPart = /^[a-z0-9][a-z0-9-]*$/;
const addressPart = /^([a-z0-9._+-]+)=([a-z0-9.-]+)$/;
const messagePart = new RegExp(`^[0-9a-z]{${messageBodyLength + signatureLength}}$`);

const signUnsubscribe = (secret: string, tenantId: string, kind: 'address' | 'message', value: string) =>
  sign(secret, unsubscribePurpose, `${kind}\n${tenantId}\n${value}`, signatureLength);

/** The address as the address form carries it (`@` as `=`), or undefined when that form cannot carry it. */
const addressForm = (address: string): string | undefined => {
  const lower = address.toLowerCase();
  const at = lower.lastIndexOf('@');
  const form = `${lower.slice(0, at)}=${lower.slice(at + 1)}`;
  return at > 0 && addressPart.test(form) ? form : undefined;
};

/** Signs the address itself; undefined when the address cannot be carried as it is (use the message id instead). */
export const createAddressUnsubscribeToken = (
  secret: string,
  tenantId: string,
  address: string,
): string | undefined => {
  const form = addressForm(address);
  if (form === undefined) return undefined;
  return `${tenantId}.${form}.${signUnsubscribe(secret, tenantId, 'address', form.replace('=', '@'))}`;
};

/** Signs Parley's message id: the address is read from the message when the token is used. */
export const createMessageUnsubscribeToken = (secret: string, tenantId: string, messageId: string): string => {
  const body = messageId.replace(/^msg_/, '').toLowerCase();
  return `${tenantId}.${body}${signUnsubscribe(secret, tenantId, 'message', body)}`;
};

/** What a genuine unsubscribe token names; undefined for anything else (a changed, foreign or malformed token). */
export const verifyUnsubscribeToken = (secret: string, token: string): UnsubscribeTarget | undefined => {
  const lower = token.toLowerCase();
  const dot = lower.indexOf('.');
  const tenantId = lower.slice(0, dot);
  const rest = lower.slice(dot + 1);
  if (dot < 1 || !tenantPart.test(tenantId)) return undefined;
  if (messagePart.test(rest)) {
    const body = rest.slice(0, messageBodyLength);
    const signature = rest.slice(messageBodyLength);
    if (!equalInConstantTime(signature, signUnsubscribe(secret, tenantId, 'message', body))) return undefined;
    return { tenantId, messageId: `msg_${body.toUpperCase()}` };
  }
  const lastDot = rest.lastIndexOf('.');
  const form = rest.slice(0, lastDot);
  const signature = rest.slice(lastDot + 1);
  if (lastDot < 0 || signature.length !== signatureLength || !addressPart.test(form)) return undefined;
  const address = form.replace('=', '@');
  if (!equalInConstantTime(signature, signUnsubscribe(secret, tenantId, 'address', address))) return undefined;
  return { tenantId, address };
};
