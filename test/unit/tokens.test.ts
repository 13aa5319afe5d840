import { describe, expect, it } from 'vitest';
import { newMessageId } from '../../functions/domain/ids.ts';
import { createReplyToken, verifyReplyToken } from '../../functions/domain/tokens.ts';

const secret = 'test-secret-0123456789';
const tenantId = 'demo-bank';
const messageId = newMessageId(tenantId, 'order-42');

const replaceAt = (text: string, index: number): string => {
  const current = text[index];
  return `${text.slice(0, index)}${current === 'a' ? 'b' : 'a'}${text.slice(index + 1)}`;
};

describe('reply tokens', () => {
  it('round-trips tenant and message id', () => {
    // Act
    const token = createReplyToken(secret, tenantId, messageId);

    // Assess
    expect(verifyReplyToken(secret, token)).toEqual({ tenantId, messageId });
  });

  it('round-trips a time-ordered (ULID) message id', () => {
    const ulidId = newMessageId(tenantId);

    expect(verifyReplyToken(secret, createReplyToken(secret, tenantId, ulidId))).toEqual({
      tenantId,
      messageId: ulidId,
    });
  });

  it('is lower case and fits an email local part for a 20-character tenant id', () => {
    // Prepare
    const longTenant = 'a-twenty-char-tenant';

    // Act
    const token = createReplyToken(secret, longTenant, newMessageId(longTenant, 'k'));

    // Assess
    expect(longTenant).toHaveLength(20);
    expect(token.length).toBeLessThanOrEqual(64);
    expect(token).toBe(token.toLowerCase());
  });

  it('is verified whatever the case, as mail servers may change it', () => {
    const token = createReplyToken(secret, tenantId, messageId);

    expect(verifyReplyToken(secret, token.toUpperCase())).toEqual({ tenantId, messageId });
  });

  it('refuses a token whose signature was changed', () => {
    const token = createReplyToken(secret, tenantId, messageId);

    expect(verifyReplyToken(secret, replaceAt(token, token.length - 1))).toBeUndefined();
  });

  it('refuses a token moved to another tenant', () => {
    const token = createReplyToken(secret, tenantId, messageId);

    expect(verifyReplyToken(secret, token.replace(/^demo-bank\./, 'evil-bank.'))).toBeUndefined();
  });

  it('refuses a token pointing at another message', () => {
    const token = createReplyToken(secret, tenantId, messageId);
    const bodyIndex = tenantId.length + 1;

    expect(verifyReplyToken(secret, replaceAt(token, bodyIndex))).toBeUndefined();
  });

  it('refuses a token signed with another secret', () => {
    const token = createReplyToken('another-secret', tenantId, messageId);

    expect(verifyReplyToken(secret, token)).toBeUndefined();
  });

  it.each(['', 'demo-bank', 'demo-bank.abc', 'demo-bank..sig', '.body.sig'])(
    'refuses the malformed token %j',
    (token) => {
      expect(verifyReplyToken(secret, token)).toBeUndefined();
    },
  );

  it('refuses a valid token with an extra part', () => {
    const token = createReplyToken(secret, tenantId, messageId);

    expect(verifyReplyToken(secret, `${token}.extra`)).toBeUndefined();
  });

  it('refuses a truncated signature', () => {
    const token = createReplyToken(secret, tenantId, messageId);

    expect(verifyReplyToken(secret, token.slice(0, -1))).toBeUndefined();
  });
});
