import { describe, expect, it } from 'vitest';
import { createChatToken, customerTagOf, verifyChatToken } from '../../functions/domain/chat-tokens.ts';

const secret = 'a-test-secret-of-at-least-thirty-two-chars';
const now = Date.parse('2026-11-25T12:00:00.000Z');
const claims = {
  tenantId: 'demo-bank',
  customerId: 'cust-42',
  sessionId: 'chat_0123456789ABCDEFGHJKMNPQRS',
  exp: now / 1000 + 600,
};

const replacePart = (token: string, index: number, value: string) => {
  const parts = token.split('.');
  parts[index] = value;
  return parts.join('.');
};

describe('chat tokens', () => {
  it('verify to the tenant, session, expiry and customer they were signed for', () => {
    const verified = verifyChatToken(secret, createChatToken(secret, claims), now);
    expect(verified).toEqual({
      tenantId: 'demo-bank',
      sessionId: claims.sessionId,
      exp: claims.exp,
      customerTag: customerTagOf('cust-42'),
    });
    expect(verified?.customerTag).not.toBe(customerTagOf('cust-43'));
  });

  it('are short enough for an SMS link', () => {
    expect(createChatToken(secret, { ...claims, tenantId: 'a-twenty-char-tenant' }).length).toBeLessThanOrEqual(90);
  });

  it('are refused once expired', () => {
    const token = createChatToken(secret, claims);
    expect(verifyChatToken(secret, token, claims.exp * 1000)).toBeUndefined();
    expect(verifyChatToken(secret, token, claims.exp * 1000 - 1)).toBeDefined();
  });

  it.each([
    ['another tenant', 0, 'other-bank'],
    ['another session', 1, 'ZZZZZZZZZZZZZZZZZZZZZZZZZZ'],
    ['another customer', 2, customerTagOf('cust-43')],
    ['a later expiry', 3, (claims.exp + 3600).toString(36)],
  ])('are refused when changed to %s under the same signature', (_, index, value) => {
    const forged = replacePart(createChatToken(secret, claims), index as number, value as string);
    expect(verifyChatToken(secret, forged, now)).toBeUndefined();
  });

  it('are refused when signed with another secret, truncated or malformed', () => {
    const token = createChatToken(secret, claims);
    expect(verifyChatToken('another-secret-of-at-least-thirty-two-chars', token, now)).toBeUndefined();
    expect(verifyChatToken(secret, token.slice(0, -2), now)).toBeUndefined();
    expect(verifyChatToken(secret, `${token}.extra`, now)).toBeUndefined();
    expect(verifyChatToken(secret, 'not-a-token', now)).toBeUndefined();
    expect(verifyChatToken(secret, '', now)).toBeUndefined();
    expect(verifyChatToken(secret, 'x'.repeat(5000), now)).toBeUndefined();
    expect(verifyChatToken(secret, replacePart(token, 0, 'Bad Tenant'), now)).toBeUndefined();
  });
});
