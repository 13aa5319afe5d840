import { describe, expect, it } from 'vitest';
import { createChatToken, verifyChatToken } from '../../functions/domain/chat-tokens.ts';

const secret = 'a-test-secret-of-at-least-thirty-two-chars';
const now = Date.parse('2026-11-25T12:00:00.000Z');
const claims = { tenantId: 'demo-bank', customerId: 'cust-42', sessionId: 'chat_1', exp: now / 1000 + 600 };

describe('chat tokens', () => {
  it('verify to the tenant, customer and session they were signed for', () => {
    expect(verifyChatToken(secret, createChatToken(secret, claims), now)).toEqual(claims);
  });

  it('are refused once expired', () => {
    const token = createChatToken(secret, claims);
    expect(verifyChatToken(secret, token, claims.exp * 1000)).toBeUndefined();
    expect(verifyChatToken(secret, token, claims.exp * 1000 - 1)).toEqual(claims);
  });

  it.each([
    ['another tenant', { tenantId: 'other-bank' }],
    ['another customer', { customerId: 'cust-43' }],
    ['a later expiry', { exp: claims.exp + 3600 }],
  ])('are refused when the payload is changed to %s under the same signature', (_, change) => {
    const [, signature] = createChatToken(secret, claims).split('.');
    const forged = `${Buffer.from(JSON.stringify({ ...claims, ...change })).toString('base64url')}.${signature}`;
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
  });

  it('refuse a well-signed payload that lacks a field', () => {
    const { sessionId: _, ...partial } = claims;
    const token = createChatToken(secret, partial as typeof claims);
    expect(verifyChatToken(secret, token, now)).toBeUndefined();
  });
});
