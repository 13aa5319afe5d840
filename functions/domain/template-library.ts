/**
 * A tenant's templates as the API manages them (`/v1/templates`): what a write stores, and the 404 for a name the
 * tenant has none of. The text is checked by the request schema (./template-schemas.ts: `{{` that never closes is
 * a 400), so anything stored renders.
 */
import { NotFoundError } from './errors.ts';
import type { Template } from './model.ts';
import type { TemplateStore } from './ports.ts';
import type { PutTemplateRequest } from './template-schemas.ts';

/** Creates or replaces the template: `created` says which (201 or 200). */
export const saveTemplate = async (
  store: TemplateStore,
  tenantId: string,
  name: string,
  request: PutTemplateRequest,
  now: string,
): Promise<{ template: Template; created: boolean }> => {
  const existing = await store.getTemplate(tenantId, name);
  const template: Template = {
    name,
    ...(request.description !== undefined && { description: request.description }),
    ...(request.sms !== undefined && { sms: request.sms }),
    ...(request.email !== undefined && {
      email: {
        subject: request.email.subject,
        text: request.email.text,
        ...(request.email.html && { html: request.email.html }),
      },
    }),
    updatedAt: now,
  };
  await store.putTemplate(tenantId, template);
  return { template, created: existing === undefined };
};

export const readTemplate = async (store: TemplateStore, tenantId: string, name: string): Promise<Template> => {
  const template = await store.getTemplate(tenantId, name);
  if (!template) throw new NotFoundError('Template');
  return template;
};

export const deleteTemplate = async (store: TemplateStore, tenantId: string, name: string): Promise<void> => {
  if (!(await store.deleteTemplate(tenantId, name))) throw new NotFoundError('Template');
};
