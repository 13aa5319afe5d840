/**
 * A tenant's self-service settings as the API manages them (`/v1/tenant`, `/v1/keywords`): what a write stores,
 * what a read shows, and the refusals (a reserved keyword, a template that is not there, a foreign tenant's 404).
 */
import { InvalidRequestError, NotFoundError } from './errors.ts';
import { reservedKeywordReason } from './keywords.ts';
import type { Tenant, TenantKeyword } from './model.ts';
import type { TemplateStore, TenantSetting, TenantStore } from './ports.ts';
import type { PatchTenantRequest, PutKeywordRequest } from './tenant-schemas.ts';

/** At most this many keywords a tenant: they live on the tenant item, read with every inbound message. */
export const maxKeywords = 100;

export interface TenantSettingsView {
  tenantId: string;
  name: string;
  smsNumber: string;
  emailFrom?: string;
  helpText?: string;
  brandName?: string;
  acknowledgement?: Tenant['acknowledgement'];
}

export interface KeywordView {
  keyword: string;
  autoReplyTemplate?: string;
  emitEvent: boolean;
}

const settingsView = (tenant: Tenant): TenantSettingsView => ({
  tenantId: tenant.tenantId,
  name: tenant.name,
  smsNumber: tenant.smsNumber,
  ...(tenant.emailFrom !== undefined && { emailFrom: tenant.emailFrom }),
  ...(tenant.helpText !== undefined && { helpText: tenant.helpText }),
  ...(tenant.brandName !== undefined && { brandName: tenant.brandName }),
  ...(tenant.acknowledgement !== undefined && { acknowledgement: tenant.acknowledgement }),
});

const keywordView = (keyword: string, value: TenantKeyword): KeywordView => ({
  keyword,
  ...(value.autoReplyTemplate !== undefined && { autoReplyTemplate: value.autoReplyTemplate }),
  emitEvent: value.emitEvent ?? true,
});

const existingTenant = async (store: TenantStore, tenantId: string): Promise<Tenant> => {
  const tenant = await store.getTenant(tenantId);
  if (!tenant) throw new NotFoundError('Tenant');
  return tenant;
};

export const readTenantSettings = async (store: TenantStore, tenantId: string): Promise<TenantSettingsView> =>
  settingsView(await existingTenant(store, tenantId));

/** Merges the patch: a field given sets it, `null` clears it, a field left out stays. */
export const updateTenantSettings = async (
  store: TenantStore,
  tenantId: string,
  patch: PatchTenantRequest,
): Promise<TenantSettingsView> => {
  const set: Partial<Pick<Tenant, TenantSetting>> = {};
  const remove: TenantSetting[] = [];
  for (const field of ['helpText', 'brandName', 'acknowledgement'] as const) {
    const value = patch[field];
    if (value === null) remove.push(field);
    else if (value !== undefined) Object.assign(set, { [field]: value });
  }
  const tenant =
    Object.keys(set).length === 0 && remove.length === 0
      ? await store.getTenant(tenantId)
      : await store.updateTenantSettings(tenantId, { set, remove });
  if (!tenant) throw new NotFoundError('Tenant');
  return settingsView(tenant);
};

/** The keyword as stored: upper-case, refused with its reason when the rules read it before tenant keywords. */
export const normaliseKeyword = (raw: string): string => {
  const keyword = raw.toUpperCase();
  const reason = reservedKeywordReason(keyword);
  if (reason !== undefined) {
    throw new InvalidRequestError(`${keyword} is reserved: it is ${reason}`, [
      { path: 'keyword', message: `reserved: ${reason}` },
    ]);
  }
  return keyword;
};

export const listKeywords = async (store: TenantStore, tenantId: string): Promise<KeywordView[]> => {
  const tenant = await existingTenant(store, tenantId);
  return Object.entries(tenant.keywords ?? {})
    .map(([keyword, value]) => keywordView(keyword, value))
    .sort((a, b) => a.keyword.localeCompare(b.keyword));
};

export const readKeyword = async (store: TenantStore, tenantId: string, raw: string): Promise<KeywordView> => {
  const keyword = raw.toUpperCase();
  const value = (await existingTenant(store, tenantId)).keywords?.[keyword];
  if (!value) throw new NotFoundError('Keyword');
  return keywordView(keyword, value);
};

/** Creates or replaces the keyword: `created` says which (201 or 200). */
export const saveKeyword = async (
  stores: { tenants: TenantStore; templates: TemplateStore },
  tenantId: string,
  raw: string,
  request: PutKeywordRequest,
): Promise<{ keyword: KeywordView; created: boolean }> => {
  const keyword = normaliseKeyword(raw);
  const tenant = await existingTenant(stores.tenants, tenantId);
  const existing = tenant.keywords?.[keyword];
  if (!existing && Object.keys(tenant.keywords ?? {}).length >= maxKeywords) {
    throw new InvalidRequestError(`A tenant has at most ${maxKeywords} keywords`, [
      { path: 'keyword', message: `at most ${maxKeywords} keywords` },
    ]);
  }
  if (request.autoReplyTemplate !== undefined) {
    const template = await stores.templates.getTemplate(tenantId, request.autoReplyTemplate);
    if (!template?.sms) {
      throw new InvalidRequestError('The auto-reply template is not one of yours with an SMS variant', [
        { path: 'autoReplyTemplate', message: template ? 'the template has no sms variant' : 'no such template' },
      ]);
    }
  }
  const value: TenantKeyword = {
    ...(request.autoReplyTemplate !== undefined && { autoReplyTemplate: request.autoReplyTemplate }),
    ...(request.emitEvent !== undefined && { emitEvent: request.emitEvent }),
  };
  if (!(await stores.tenants.putKeyword(tenantId, keyword, value))) throw new NotFoundError('Tenant');
  return { keyword: keywordView(keyword, value), created: existing === undefined };
};

export const deleteKeyword = async (store: TenantStore, tenantId: string, raw: string): Promise<string> => {
  const keyword = raw.toUpperCase();
  if (!(await store.deleteKeyword(tenantId, keyword))) throw new NotFoundError('Keyword');
  return keyword;
};
