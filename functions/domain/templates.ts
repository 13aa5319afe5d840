import { InvalidRequestError } from './errors.ts';

/** Logic-less `{{var}}` templates. A variable name is letters, digits, `_`, `-` and `.`. */
const placeholder = /\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g;

export type TemplateData = Record<string, string | number | boolean>;

const escapeHtml = (value: string): string =>
  value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

/** The variables a template text refers to, in order of first use. */
export const templateVariables = (text: string): string[] => [
  ...new Set(Array.from(text.matchAll(placeholder), (m) => m[1] as string)),
];

/**
 * Renders one template text. Every variable must be present in `data`; a missing one is an `invalid_request`
 * naming it (at `data.<name>`), so a backend never sends "Hello {{name}}" to a customer.
 */
export const renderTemplate = (text: string, data: TemplateData, options: { html?: boolean } = {}): string => {
  const missing = templateVariables(text).filter((name) => !Object.hasOwn(data, name));
  if (missing.length > 0) {
    throw new InvalidRequestError(
      `Template variable${missing.length > 1 ? 's' : ''} missing: ${missing.join(', ')}`,
      missing.map((name) => ({ path: `data.${name}`, message: 'required by the template' })),
    );
  }
  return text.replace(placeholder, (_, name: string) => {
    const value = String(data[name]);
    return options.html ? escapeHtml(value) : value;
  });
};

export interface TemplateContent {
  sms?: string | undefined;
  email?: { subject: string; text: string; html?: string | undefined } | undefined;
}

export interface RenderedContent {
  sms?: string;
  email?: { subject: string; text: string; html?: string };
}

/** Renders every variant a template has; HTML-escapes values only in the email's HTML part. */
export const renderContent = (content: TemplateContent, data: TemplateData): RenderedContent => {
  const rendered: RenderedContent = {};
  if (content.sms !== undefined) rendered.sms = renderTemplate(content.sms, data);
  if (content.email) {
    rendered.email = {
      subject: renderTemplate(content.email.subject, data),
      text: renderTemplate(content.email.text, data),
    };
    if (content.email.html !== undefined)
      rendered.email.html = renderTemplate(content.email.html, data, { html: true });
  }
  return rendered;
};
