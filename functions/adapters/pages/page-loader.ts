import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The static pages (chat, agent console, local console) with a strict Content-Security-Policy: each page is served
 * as one HTML document whose inline `<script>` and `<style>` are allowed by their SHA-256 hashes, nothing else runs.
 *
 * What the pages share lives in plain files next to them (`common.css`, `common.js`). A page pulls one in with a
 * line of its own inside its `<style>` (a CSS comment: `@include common.css`) or its `<script>` (a line comment:
 * `// @include common.js`); the file replaces that line before the hashes are computed, so the served page still
 * has exactly one inline style and one inline script. Only names like `common.css` (lower-case letters and dashes;
 * `.css` in a style, `.js` in a script) from the pages' own directory are accepted, included files are not scanned
 * for includes themselves, and a bad or missing include throws when the page is loaded.
 *
 * `{{WS_URL}}` in the HTML (a meta tag) is replaced with the WebSocket URL, which is also the only other origin
 * the page may connect to.
 */
export type PageName = 'chat' | 'agent' | 'console';

export interface Page {
  body: string;
  headers: Record<string, string>;
}

const defaultDir = () => fileURLToPath(new URL('../../../web/', import.meta.url));

const includeName = /^[a-z-]+\.(css|js)$/;
/** A line that is an include directive in the comment syntax of its block; the name is checked afterwards. */
const directives = {
  style: /^[ \t]*\/\*[ \t]*@include\b(.*?)\*\/[ \t]*(?=\r?$)/gm,
  script: /^[ \t]*\/\/[ \t]*@include\b(.*?)[ \t]*(?=\r?$)/gm,
} as const;
const extensionOf = { style: '.css', script: '.js' } as const;

type Tag = keyof typeof directives;

const blocks = (tag: Tag) => new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g');

const readInclude = (dir: string, page: string, tag: Tag, directive: string): string => {
  const name = directive.trim();
  if (!includeName.test(name) || !name.endsWith(extensionOf[tag])) {
    throw new Error(
      `Page ${page}: bad include "${name}" in its <${tag}>: expected a name like common${extensionOf[tag]} ` +
        `(lower-case letters and dashes) from ${dir}`,
    );
  }
  let text: string;
  try {
    text = readFileSync(join(dir, name), 'utf8');
  } catch (error) {
    throw new Error(`Page ${page}: cannot read include "${name}" from ${dir}`, { cause: error });
  }
  if (new RegExp(`</${tag}`, 'i').test(text)) {
    throw new Error(`Page ${page}: include "${name}" contains </${tag}, which would end the page's <${tag}>`);
  }
  return text.replace(/\r?\n$/, '');
};

/** Replaces each include line inside the page's `<style>` and `<script>` blocks with the file it names. */
const inlineIncludes = (html: string, dir: string, page: string): string => {
  let result = html;
  for (const tag of ['style', 'script'] as const) {
    result = result.replace(
      blocks(tag),
      (_block, content: string) =>
        `<${tag}>${content.replace(directives[tag], (_line, name: string) => readInclude(dir, page, tag, name))}</${tag}>`,
    );
  }
  return result;
};

const hashes = (html: string, tag: Tag): string[] =>
  [...html.matchAll(blocks(tag))].map(
    (m) =>
      `'sha256-${createHash('sha256')
        .update(m[1] ?? '')
        .digest('base64')}'`,
  );

export const loadPage = (name: PageName, options: { wsUrl: string; dir?: string }): Page => {
  const dir = options.dir ?? defaultDir();
  // Replacer functions, not strings: `$&` and the like in a file or the URL must stay as they are.
  const html = inlineIncludes(readFileSync(join(dir, `${name}.html`), 'utf8'), dir, name).replaceAll(
    '{{WS_URL}}',
    () => options.wsUrl,
  );
  const wsOrigin = options.wsUrl ? new URL(options.wsUrl).origin.replace(/^http/, 'ws') : '';
  const csp = [
    "default-src 'none'",
    `script-src ${hashes(html, 'script').join(' ') || "'none'"}`,
    `style-src ${hashes(html, 'style').join(' ') || "'none'"}`,
    `connect-src 'self'${wsOrigin ? ` ${wsOrigin}` : ''}`,
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return {
    body: html,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': csp,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-cache',
    },
  };
};
