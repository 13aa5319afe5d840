import { beforeEach, describe, expect, it } from 'vitest';
import { reservedKeywordReason } from '../../functions/domain/keywords.ts';
import { parseWith } from '../../functions/domain/schemas.ts';
import { patchTenantRequestSchema, putKeywordRequestSchema } from '../../functions/domain/tenant-schemas.ts';
import {
  deleteKeyword,
  listKeywords,
  maxKeywords,
  readKeyword,
  readTenantSettings,
  saveKeyword,
  updateTenantSettings,
} from '../../functions/domain/tenant-settings.ts';
import { InMemoryTemplateStore, InMemoryTenantStore, makeTenant, tenantId } from './fakes.ts';

let tenants: InMemoryTenantStore;
let templates: InMemoryTemplateStore;

beforeEach(async () => {
  tenants = new InMemoryTenantStore();
  templates = new InMemoryTemplateStore();
  await tenants.putTenant(makeTenant({ helpText: 'Help!' }));
  await templates.putTemplate(tenantId, { name: 'pin-reply', sms: 'PIN sent', updatedAt: '2025-01-01T00:00:00Z' });
  await templates.putTemplate(tenantId, {
    name: 'email-only',
    email: { subject: 's', text: 't' },
    updatedAt: '2025-01-01T00:00:00Z',
  });
});

describe('reserved keywords', () => {
  it.each([
    ['STOP', 'opt-out'],
    ['STOPALL', 'opt-out'],
    ['UNSUBSCRIBE', 'opt-out'],
    ['CANCEL', 'opt-out'],
    ['END', 'opt-out'],
    ['QUIT', 'opt-out'],
    ['START', 'opt-in'],
    ['UNSTOP', 'opt-in'],
    ['HELP', 'HELP'],
    ['INFO', 'HELP'],
    ['CALL', 'callback'],
    ['CALLBACK', 'callback'],
    ['CHAT', 'chat'],
    ['HUMAN', 'chat'],
    ['Y', 'prompt answer'],
    ['YES', 'prompt answer'],
    ['N', 'prompt answer'],
    ['NO', 'prompt answer'],
  ])('%s is reserved as %s', (word, why) => {
    expect(reservedKeywordReason(word)).toContain(why);
  });

  it.each(['BAL', 'STMT', 'PIN', 'STOPS', 'HELPME', '1'])('%s is free for a tenant', (word) => {
    expect(reservedKeywordReason(word)).toBeUndefined();
  });
});

describe('keywords', () => {
  it('saves upper-case, says whether it created, and lists by name', async () => {
    const first = await saveKeyword({ tenants, templates }, tenantId, 'pin', { autoReplyTemplate: 'pin-reply' });
    const again = await saveKeyword({ tenants, templates }, tenantId, 'PIN', { emitEvent: false });
    await saveKeyword({ tenants, templates }, tenantId, 'bal', {});

    expect(first).toEqual({
      keyword: { keyword: 'PIN', autoReplyTemplate: 'pin-reply', emitEvent: true },
      created: true,
    });
    expect(again).toEqual({ keyword: { keyword: 'PIN', emitEvent: false }, created: false });
    expect(await listKeywords(tenants, tenantId)).toEqual([
      { keyword: 'BAL', emitEvent: true },
      { keyword: 'PIN', emitEvent: false },
    ]);
    expect((await tenants.getTenant(tenantId))?.keywords).toEqual({ PIN: { emitEvent: false }, BAL: {} });
  });

  it('refuses a reserved word, naming why, and stores nothing', async () => {
    await expect(saveKeyword({ tenants, templates }, tenantId, 'stop', {})).rejects.toMatchObject({
      code: 'invalid_request',
      message: expect.stringMatching(/STOP is reserved: it is an opt-out word/),
    });
    expect((await tenants.getTenant(tenantId))?.keywords).toBeUndefined();
  });

  it('refuses an auto-reply template that is missing or has no SMS variant', async () => {
    for (const autoReplyTemplate of ['missing', 'email-only']) {
      await expect(saveKeyword({ tenants, templates }, tenantId, 'PIN', { autoReplyTemplate })).rejects.toMatchObject({
        code: 'invalid_request',
        details: [expect.objectContaining({ path: 'autoReplyTemplate' })],
      });
    }
  });

  it(`refuses a keyword beyond ${maxKeywords}, but replacing one still works`, async () => {
    for (let i = 0; i < maxKeywords; i++) await saveKeyword({ tenants, templates }, tenantId, `K${i}`, {});

    await expect(saveKeyword({ tenants, templates }, tenantId, 'ONEMORE', {})).rejects.toMatchObject({
      code: 'invalid_request',
    });
    expect((await saveKeyword({ tenants, templates }, tenantId, 'K1', { emitEvent: false })).created).toBe(false);
  });

  it('reads and deletes in any case; an unknown one, or an unknown tenant, is 404', async () => {
    await saveKeyword({ tenants, templates }, tenantId, 'PIN', {});

    expect(await readKeyword(tenants, tenantId, 'pin')).toEqual({ keyword: 'PIN', emitEvent: true });
    expect(await deleteKeyword(tenants, tenantId, 'Pin')).toBe('PIN');
    await expect(readKeyword(tenants, tenantId, 'PIN')).rejects.toMatchObject({ status: 404 });
    await expect(deleteKeyword(tenants, tenantId, 'PIN')).rejects.toMatchObject({ status: 404 });
    await expect(listKeywords(tenants, 'nobody')).rejects.toMatchObject({ status: 404 });
    await expect(saveKeyword({ tenants, templates }, 'nobody', 'PIN', {})).rejects.toMatchObject({ status: 404 });
  });

  it('takes only the documented fields', () => {
    expect(() => parseWith(putKeywordRequestSchema, { autoReply: 'x' })).toThrow(/not valid/);
    expect(parseWith(putKeywordRequestSchema, {})).toEqual({});
  });
});

describe('tenant settings', () => {
  it('a patch merges: given fields set, null clears, the rest stays', async () => {
    const acknowledgement = {
      text: 'Thanks!',
      businessHours: { timezone: 'America/New_York', days: [1, 2, 3], start: '08:00', end: '18:00' },
    };

    await updateTenantSettings(tenants, tenantId, { brandName: 'DB Cards', acknowledgement });
    const after = await updateTenantSettings(tenants, tenantId, { helpText: null });

    expect(after).toEqual({
      tenantId,
      name: 'Demo Bank',
      smsNumber: '+12025550100',
      emailFrom: 'alerts@demo-bank.example',
      brandName: 'DB Cards',
      acknowledgement,
    });
    expect(await readTenantSettings(tenants, tenantId)).toEqual(after);
  });

  it('an empty patch changes nothing; an unknown tenant is 404', async () => {
    expect((await updateTenantSettings(tenants, tenantId, {})).helpText).toBe('Help!');
    await expect(updateTenantSettings(tenants, 'nobody', { brandName: 'X' })).rejects.toMatchObject({ status: 404 });
    await expect(readTenantSettings(tenants, 'nobody')).rejects.toMatchObject({ status: 404 });
  });

  it.each([
    [{ keywords: {} }],
    [{ helpText: 'x'.repeat(481) }],
    [{ brandName: '' }],
    [{ acknowledgement: { businessHours: { timezone: 'UTC', days: [1], start: '09:00', end: '17:00' } } }],
    [
      {
        acknowledgement: { text: 'x', businessHours: { timezone: 'UTC', days: [1, 1], start: '09:00', end: '17:00' } },
      },
    ],
    [{ acknowledgement: { text: 'x', businessHours: { timezone: 'UTC', days: [1], start: '18:00', end: '09:00' } } }],
    [{ acknowledgement: { text: 'x', businessHours: { timezone: 'UTC', days: [], start: '09:00', end: '17:00' } } }],
    [{ acknowledgement: { text: 'x', extra: true } }],
  ])('refuses %j', (body) => {
    expect(() => parseWith(patchTenantRequestSchema, body)).toThrow(/not valid/);
  });
});
