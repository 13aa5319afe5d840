import { allScopes, generateApiKey } from '../functions/domain/api-keys.ts';
import type { Template, Tenant } from '../functions/domain/model.ts';
import type { TemplateStore, TenantStore } from '../functions/domain/ports.ts';
import { saveKeyword } from '../functions/domain/tenant-settings.ts';
import type { Scope } from '../functions/routes.ts';

export const demoTenant: Omit<Tenant, 'createdAt'> = {
  tenantId: 'demo-bank',
  name: 'Demo Bank',
  smsNumber: '+12065550100',
  emailFrom: 'alerts@demo-bank.example',
  helpText: 'Demo Bank alerts: reply STOP to opt out, or call +1 206 555 0100. Msg&data rates may apply.',
  // Free text is answered with this, once per conversation until someone replies (DESIGN section 7, rule 8).
  acknowledgement: {
    text: 'Thanks, we have your message.',
    businessHours: { timezone: 'America/New_York', days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' },
  },
};

/** The demo's keywords, created as a tenant creates its own (`PUT /v1/keywords/{keyword}`). */
const demoKeywords = [
  { keyword: 'BAL', request: {} },
  { keyword: 'STMT', request: { autoReplyTemplate: 'statement-reply' } },
];

const templates: Omit<Template, 'updatedAt'>[] = [
  {
    name: 'card-transaction-alert',
    description: 'Asks the customer to confirm a card payment',
    sms: 'Demo Bank: did you pay {{amount}} at {{merchant}}? Reply Y if this was you, N if not.',
    email: {
      subject: 'Did you pay {{amount}} at {{merchant}}?',
      text: 'We saw a card payment of {{amount}} at {{merchant}}. Reply Y if this was you, N if not.',
      html: '<p>We saw a card payment of <b>{{amount}}</b> at <b>{{merchant}}</b>.</p><p>Reply Y if this was you, N if not.</p>',
    },
  },
  {
    name: 'balance-alert',
    description: 'Balance below a threshold',
    sms: 'Demo Bank: your balance is {{balance}}. Reply BAL for a mini statement.',
    email: { subject: 'Your balance is {{balance}}', text: 'Your Demo Bank balance is {{balance}}.' },
  },
  {
    name: 'mini-statement',
    sms: 'Demo Bank: balance {{balance}}. Last: {{last}}.',
    email: { subject: 'Your mini statement', text: 'Balance {{balance}}. Recent: {{last}}.' },
  },
  {
    name: 'balance-reply',
    description: 'Answer to BAL (sent by the demo backend)',
    sms: 'Demo Bank: your available balance is {{balance}}.',
    email: { subject: 'Your balance', text: 'Your available balance is {{balance}}.' },
  },
  {
    name: 'card-blocked',
    description: 'After a card alert answered N (sent by the demo backend)',
    sms: 'Demo Bank: we have blocked your card after payment {{reference}}. A new card is on its way; call us if you need help.',
    email: {
      subject: 'Your card is blocked',
      text: 'We have blocked your card after payment {{reference}}. A new card is on its way; call us if you need help.',
    },
  },
  {
    name: 'card-confirmed',
    description: 'After a card alert answered Y (sent by the demo backend)',
    sms: 'Demo Bank: thanks for confirming payment {{reference}}. Your card stays active.',
    email: {
      subject: 'Payment confirmed',
      text: 'Thanks for confirming payment {{reference}}. Your card stays active.',
    },
  },
  {
    name: 'statement-reply',
    description: 'Auto-reply to the STMT keyword',
    sms: 'Demo Bank: your latest statement is on its way by email.',
  },
  {
    name: 'receipt',
    sms: 'Demo Bank: receipt for {{amount}} at {{merchant}}, ref {{ref}}.',
    email: {
      subject: 'Your receipt from {{merchant}}',
      text: 'You paid {{amount}} at {{merchant}}. Reference {{ref}}.',
    },
  },
];

export interface DemoKeys {
  apiKey: string;
  agentKey: string;
}

const createKey = async (tenants: TenantStore, scopes: Scope[]): Promise<string> => {
  const { keyId, apiKey, keyHash } = generateApiKey();
  await tenants.putApiKey({
    keyId,
    tenantId: demoTenant.tenantId,
    keyHash,
    scopes,
    createdAt: new Date().toISOString(),
  });
  return apiKey;
};

/** A key of an earlier run still works and has every scope the demo gives it now (a new scope mints a new key). */
const keyIsLive = async (
  tenants: TenantStore,
  apiKey: string | undefined,
  scopes: readonly Scope[],
): Promise<boolean> => {
  const keyId = apiKey?.slice(4, 16);
  if (!keyId) return false;
  const record = await tenants.getApiKey(keyId);
  return (
    record !== undefined && record.revokedAt === undefined && scopes.every((scope) => record.scopes.includes(scope))
  );
};

/**
 * Seeds the demo tenant ("Demo Bank"), its templates, its keywords and two keys: `apiKey` with every scope (admin
 * too), `agentKey` with read and agent. A tenant of an earlier run is left as it is, so what was changed through
 * the API (settings, keywords) survives a restart; keys from an earlier run are kept while they still work.
 */
export const seedDemo = async (
  stores: { tenants: TenantStore; templates: TemplateStore },
  previous: Partial<DemoKeys>,
): Promise<DemoKeys> => {
  const { tenants } = stores;
  const now = new Date().toISOString();
  const existing = await tenants.getTenant(demoTenant.tenantId);
  if (!existing) await tenants.putTenant({ ...demoTenant, createdAt: now });
  for (const template of templates) {
    if (!(await stores.templates.getTemplate(demoTenant.tenantId, template.name))) {
      await stores.templates.putTemplate(demoTenant.tenantId, { ...template, updatedAt: now });
    }
  }
  if (!existing) {
    for (const { keyword, request } of demoKeywords) await saveKeyword(stores, demoTenant.tenantId, keyword, request);
  }
  const apiKey =
    previous.apiKey && (await keyIsLive(tenants, previous.apiKey, allScopes))
      ? previous.apiKey
      : await createKey(tenants, [...allScopes]);
  const agentKey =
    previous.agentKey && (await keyIsLive(tenants, previous.agentKey, ['read', 'agent']))
      ? previous.agentKey
      : await createKey(tenants, ['read', 'agent']);
  return { apiKey, agentKey };
};
