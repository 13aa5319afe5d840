import { createHash } from 'node:crypto';

/**
 * The small pages behind links in messages (unsubscribe, step-up confirmation): no script; one inline style allowed
 * by its hash; forms may post only to this origin; never framed, cached or indexed.
 */
export interface SmallPage {
  body: string;
  headers: Record<string, string>;
}

const style = [
  'body{font:16px/1.5 system-ui,sans-serif;margin:0;padding:3rem 1rem;background:#f6f7f9;color:#1b1f24}',
  'main{max-width:28rem;margin:0 auto;background:#fff;border-radius:8px;padding:2rem;box-shadow:0 1px 3px #0002}',
  'h1{font-size:1.25rem;margin:0 0 1rem}',
  'button{font:inherit;padding:.6rem 1.2rem;border:0;border-radius:6px;background:#1f5fd6;color:#fff;cursor:pointer}',
].join('');

const headers = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': [
    "default-src 'none'",
    `style-src 'sha256-${createHash('sha256').update(style).digest('base64')}'`,
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; '),
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

export const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

export const smallPage = (title: string, content: string): SmallPage => ({
  headers,
  body:
    '<!doctype html><html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">' +
    `<title>${escapeHtml(title)}</title><style>${style}</style></head>` +
    `<body><main>${content}</main></body></html>`,
});
