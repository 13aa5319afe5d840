import { InvalidRequestError } from './errors.ts';
import { cutText, textProblem } from './text.ts';

/**
 * Logic-less `{{var}}` templates. A variable name is 1-64 letters, digits, `_`, `-` and `.` (what a `data` key may
 * be), with optional whitespace inside the braces. Every `{{` opens a placeholder that must close with `}}` and name a
 * variable: a template that does not parse is refused when it is saved (`templateSyntaxProblem` in the PUT schema)
 * and never rendered, so a customer never sees a stray `{{`. A third brace before a placeholder is literal
 * (`{{{name}}}` renders `{Ana}`).
 */
const placeholder = /\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g;
const variableName = /^[A-Za-z0-9_.-]{1,64}$/;

export type TemplateData = Record<string, string | number | boolean>;

/** A template text, parsed: literal text and the variables between it, in order. */
export type TemplatePart = { text: string } | { variable: string };

/** Why a template text does not parse; `index` is where the offending `{{` starts (0-based, in code units). */
export class TemplateSyntaxError extends Error {
  readonly index: number;

  constructor(message: string, index: number) {
    super(message);
    this.name = 'TemplateSyntaxError';
    this.index = index;
  }
}

const escapeHtml = (value: string): string =>
  value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

/** Parses a template text; throws a TemplateSyntaxError at the first `{{` that is not a well-formed placeholder. */
export const parseTemplate = (text: string): TemplatePart[] => {
  const parts: TemplatePart[] = [];
  let literal = '';
  let from = 0;
  for (;;) {
    let open = text.indexOf('{{', from);
    if (open < 0) break;
    if (text[open + 2] === '{') open += 1; // `{{{name}}}`: the first brace is text
    literal += text.slice(from, open);
    const at = `at character ${open + 1}`;
    const close = text.indexOf('}}', open + 2);
    if (close < 0) throw new TemplateSyntaxError(`\`{{\` ${at} is never closed with \`}}\``, open);
    const inner = text.slice(open + 2, close);
    if (inner.includes('{{')) {
      throw new TemplateSyntaxError(`\`{{\` ${at} is not closed before the next \`{{\``, open);
    }
    const name = inner.trim();
    if (name === '') throw new TemplateSyntaxError(`\`{{${inner}}}\` ${at} names no variable`, open);
    if (!variableName.test(name)) {
      throw new TemplateSyntaxError(
        `\`{{${cutText(inner, 40)}}}\` ${at} is not a variable name (1-64 letters, digits and _ . -)`,
        open,
      );
    }
    if (literal !== '') parts.push({ text: literal });
    parts.push({ variable: name });
    literal = '';
    from = close + 2;
  }
  literal += text.slice(from);
  if (literal !== '') parts.push({ text: literal });
  return parts;
};

/** Why a template text does not parse, or undefined when it does: the message a schema puts in `details`. */
export const templateSyntaxProblem = (text: string): string | undefined => {
  try {
    parseTemplate(text);
    return undefined;
  } catch (error) {
    if (error instanceof TemplateSyntaxError) return error.message;
    throw error;
  }
};

/** Throws an `invalid_request` with one detail at `path` when `text` does not parse as a template. */
export const assertTemplateParses = (text: string, path: string): void => {
  const problem = templateSyntaxProblem(text);
  if (problem !== undefined) {
    throw new InvalidRequestError('The template does not parse', [{ path, message: problem }]);
  }
};

/** The variables a template text refers to, in order of first use (well-formed placeholders only; never throws). */
export const templateVariables = (text: string): string[] => [
  ...new Set(Array.from(text.matchAll(placeholder), (m) => m[1] as string)),
];

interface ParsedTemplate {
  readonly parts: readonly TemplatePart[];
  /** The variables, each once, in order of first use. */
  readonly names: readonly string[];
}

/**
 * Template texts parsed lately, oldest first: a container renders its tenants' few templates over and over (they
 * are cached as loaded), so each text is parsed once. Only texts of up to `maxParsedLength` code units (every SMS,
 * most subjects and short emails) are kept, so the cache stays within a few MB; longer ones, and texts that do not
 * parse, are parsed on every render, as all were before.
 */
const parsedTemplates = new Map<string, ParsedTemplate>();
const maxParsedTemplates = 100;
const maxParsedLength = 8192;

const parsedTemplate = (text: string): ParsedTemplate => {
  const known = parsedTemplates.get(text);
  if (known) return known;
  const parts = parseTemplate(text);
  const parsed = { parts, names: [...new Set(parts.flatMap((part) => ('variable' in part ? [part.variable] : [])))] };
  if (text.length > maxParsedLength) return parsed;
  if (parsedTemplates.size >= maxParsedTemplates) {
    parsedTemplates.delete(parsedTemplates.keys().next().value as string);
  }
  parsedTemplates.set(text, parsed);
  return parsed;
};

export interface RenderOptions {
  /** HTML-escape the values (the email's HTML part). */
  html?: boolean;
  /** The output must be one line (an email subject): a value with a line break or a tab is refused. */
  oneLine?: boolean;
  /** Where a template that does not parse is reported (default `template`, the request field naming it). */
  path?: string;
  /** Which variant of the template this text is (`sms`, `email.subject`...), named in the messages. */
  field?: string;
}

/**
 * Renders one template text. Every variable must be present in `data`; a missing one is an `invalid_request`
 * naming it (at `data.<name>`), so a backend never sends "Hello {{name}}" to a customer. A value that is not
 * well-formed Unicode or holds control characters (or, with `oneLine`, a line break) is refused at `data.<name>` too,
 * so what is rendered can always be handed to a provider. A template that does not parse (saved before templates were
 * checked) is an `invalid_request` at `options.path` (default `template`): it is never sent with a stray `{{`.
 */
export const renderTemplate = (text: string, data: TemplateData, options: RenderOptions = {}): string => {
  let parsed: ParsedTemplate;
  try {
    parsed = parsedTemplate(text);
  } catch (error) {
    if (!(error instanceof TemplateSyntaxError)) throw error;
    const message = options.field === undefined ? error.message : `${options.field}: ${error.message}`;
    throw new InvalidRequestError('The template does not parse', [{ path: options.path ?? 'template', message }]);
  }
  const { parts, names } = parsed;
  const missing = names.filter((name) => !Object.hasOwn(data, name));
  if (missing.length > 0) {
    throw new InvalidRequestError(
      `Template variable${missing.length > 1 ? 's' : ''} missing: ${missing.join(', ')}`,
      missing.map((name) => ({ path: `data.${name}`, message: 'required by the template' })),
    );
  }
  const values = new Map(names.map((name) => [name, String(data[name])]));
  const bad = names.flatMap((name) => {
    const problem = textProblem(values.get(name) as string, { oneLine: options.oneLine === true });
    if (problem === undefined) return [];
    const where = options.oneLine ? ` (it is used in ${options.field ?? 'a one-line field'})` : '';
    return [{ path: `data.${name}`, message: `${problem}${where}` }];
  });
  if (bad.length > 0) throw new InvalidRequestError('A template variable cannot be used here', bad);
  return parts
    .map((part) => {
      if ('text' in part) return part.text;
      const value = values.get(part.variable) as string;
      return options.html ? escapeHtml(value) : value;
    })
    .join('');
};

export interface TemplateContent {
  sms?: string | undefined;
  email?: { subject: string; text: string; html?: string | undefined } | undefined;
}

export interface RenderedContent {
  sms?: string;
  email?: { subject: string; text: string; html?: string };
}

/**
 * Renders every variant a template has; HTML-escapes values only in the email's HTML part, and keeps the subject on
 * one line (a value with a line break there is refused, never folded into a header).
 */
export const renderContent = (content: TemplateContent, data: TemplateData): RenderedContent => {
  const rendered: RenderedContent = {};
  if (content.sms !== undefined) rendered.sms = renderTemplate(content.sms, data, { field: 'sms' });
  if (content.email) {
    rendered.email = {
      subject: renderTemplate(content.email.subject, data, { oneLine: true, field: 'email.subject' }),
      text: renderTemplate(content.email.text, data, { field: 'email.text' }),
    };
    if (content.email.html !== undefined)
      rendered.email.html = renderTemplate(content.email.html, data, { html: true, field: 'email.html' });
  }
  return rendered;
};
