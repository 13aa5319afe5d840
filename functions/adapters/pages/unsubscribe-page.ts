import { escapeHtml, smallPage as page, type SmallPage } from './small-page.ts';

/**
 * The small pages of the unsubscribe link (DESIGN section 12). Opening the link only shows a button: mail scanners
 * and link previews fetch every URL in a mail, so a GET must never unsubscribe. The button POSTs the same form a
 * mail client's one-click sends (RFC 8058). No script; one inline style allowed by its hash; the form may post only
 * to this origin.
 */
export type UnsubscribePage = SmallPage;

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
