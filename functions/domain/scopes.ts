/**
 * What an API key may do (DESIGN section 5): `send` (sends, customers, templates, chat sessions), `read` (every
 * GET), `agent` (replies, callbacks), `admin` (keywords, tenant settings, webhooks, template delete).
 */
export const scopes = ['send', 'read', 'agent', 'admin'] as const;

export type Scope = (typeof scopes)[number];

export const isScope = (value: string): value is Scope => (scopes as readonly string[]).includes(value);
