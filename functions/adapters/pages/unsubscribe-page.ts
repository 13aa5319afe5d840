import { createHash } from 'node:crypto';

/**
 * The small pages of the unsubscribe link (DESIGN section 12). Opening the link only shows a button: mail scanners
 * and link previews fetch every URL in a mail, so a GET must never unsubscribe. The button POSTs the same form a
 * mail client's one-click sends (RFC 8058). No script; one inline style allowed by its hash; the form may post only
 * to this origin.
 */
export interface UnsubscribePage {
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

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

const page = (title: string, content: string): UnsubscribePage => ({
  headers,
  body:
    '<!doctype html><html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">' +
    `<title>${escapeHtml(title)}</title><style>${style}</style></head>` +
    `<body><main>${content}</main></body></html>`,
});

/** The page the link opens: who sends, which address (masked), and the button. */
export const confirmUnsubscribePage = (input: { brand: string; maskedAddress: string }): UnsubscribePage =>
  page(
    `Unsubscribe from ${input.brand}`,
    `<h1>Stop emails from ${escapeHtml(input.brand)}?</h1>` +
      `<p>${escapeHtml(input.maskedAddress)} will get no more email from ${escapeHtml(input.brand)}.</p>` +
      // No action: the form posts to the URL the page came from, token and all.
      '<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">' +
      '<button type="submit">Unsubscribe</button></form>',
  );

/** What a person sees after the button (a mail client's one-click gets JSON instead). */
export const unsubscribedPage = (input: { brand: string }): UnsubscribePage =>
  page(
    'Unsubscribed',
    `<h1>You are unsubscribed</h1><p>You will get no more email from ${escapeHtml(input.brand)}.</p>`,
  );
