import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The static pages (chat, agent console, local console) with a strict Content-Security-Policy: each page is one
 * HTML file whose inline `<script>` and `<style>` are allowed by their SHA-256 hashes, nothing else runs.
 * `{{WS_URL}}` in the HTML (a meta tag) is replaced with the WebSocket URL, which is also the only other
 * origin the page may connect to.
 */
export type PageName = 'chat' | 'agent' | 'console';

export interface Page {
  body: string;
  headers: Record<string, string>;
}

const defaultDir = () => fileURLToPath(new URL('../../../web/', import.meta.url));

const hashes = (html: string, tag: 'script' | 'style'): string[] =>
  [...html.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map(
    (m) =>
      `'sha256-${createHash('sha256')
        .update(m[1] ?? '')
        .digest('base64')}'`,
  );

export const loadPage = (name: PageName, options: { wsUrl: string; dir?: string }): Page => {
  const html = readFileSync(join(options.dir ?? defaultDir(), `${name}.html`), 'utf8').replaceAll(
    '{{WS_URL}}',
    options.wsUrl,
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
