import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { newMessageId, randomBase32 } from '../../functions/domain/ids.ts';
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

    // Assess: the whole local part, `reply+<token>`, within 64 characters, and still verified
    expect(longTenant).toHaveLength(20);
    expect(`reply+${token}`.length).toBeLessThanOrEqual(64);
    expect(token).toBe(token.toLowerCase());
    expect(verifyReplyToken(secret, token)).toEqual({ tenantId: longTenant, messageId: newMessageId(longTenant, 'k') });
  });

  it('keeps the whole 16-character signature for a short tenant id, and refuses a long tenant token cut further', () => {
    // Prepare
    const longTenant = 'a-twenty-char-tenant';
    const longToken = createReplyToken(secret, longTenant, newMessageId(longTenant, 'k'));

    // Act
    const short = createReplyToken(secret, tenantId, messageId);

    // Assess
    expect(short.split('.')[2]).toHaveLength(16);
    expect(longToken.split('.')[2]).toHaveLength(10);
    expect(verifyReplyToken(secret, longToken.slice(0, -1))).toBeUndefined();
  });

  it('still verifies a long tenant token signed in full, as emails sent before the signature was shortened are', () => {
    // Prepare: the token as earlier releases wrote it, with the whole 16-character signature
    const longTenant = 'a-twenty-char-tenant';
    const body = newMessageId(longTenant, 'k').replace(/^msg_/, '').toLowerCase();
    const digest = createHmac('sha256', secret).update(`reply\n${longTenant}\n${body}`).digest();
    const full = `${longTenant}.${body}.${randomBase32(digest, 16).toLowerCase()}`;

    // Act
    const verified = verifyReplyToken(secret, full);

    // Assess: the same signature as today's, whole
    expect(full.startsWith(createReplyToken(secret, longTenant, newMessageId(longTenant, 'k')))).toBe(true);
    expect(verified).toEqual({ tenantId: longTenant, messageId: newMessageId(longTenant, 'k') });
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
