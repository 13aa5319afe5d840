/**
 * The name customers see: the tenant's `brandName`, else its `name`. Carriers expect every text a business sends
 * to say who it is from, so replies Parley writes itself, and agents' texts, start with it.
 */
import type { Tenant } from './model.ts';

export const brandOf = (tenant: Pick<Tenant, 'name' | 'brandName'>): string => tenant.brandName ?? tenant.name;

/** `<brand>: <text>`, unless the text already starts with the brand (as an agent may have written it). */
export const withBrand = (tenant: Pick<Tenant, 'name' | 'brandName'>, text: string): string => {
  const brand = brandOf(tenant);
  return text.trimStart().toLowerCase().startsWith(brand.toLowerCase()) ? text : `${brand}: ${text}`;
};
