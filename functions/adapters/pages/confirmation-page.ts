import { escapeHtml, type SmallPage, smallPage } from './small-page.ts';

/**
 * The step-up confirmation pages (DESIGN section 16): the link in the code email opens a page that says what is
 * being confirmed, with a button; only the button's POST confirms (mail scanners open links, so a GET never does).
 */
export const confirmAnswerPage = (input: { brand: string; question: string; answer: string }): SmallPage =>
  smallPage(
    `Confirm your answer to ${input.brand}`,
    `<h1>Confirm your answer to ${escapeHtml(input.brand)}</h1>` +
      `<p>${escapeHtml(input.question)}</p>` +
      `<p>Your answer: <strong>${escapeHtml(input.answer)}</strong></p>` +
      // No action: the form posts to the URL the page came from, token and all.
      '<form method="post"><button type="submit">Confirm</button></form>' +
      '<p>If you did not answer this, close this page: nothing is confirmed until you press the button.</p>',
  );

export const confirmedPage = (input: { brand: string; answer: string }): SmallPage =>
  smallPage(
    'Confirmed',
    `<h1>Confirmed</h1><p>Your answer <strong>${escapeHtml(input.answer)}</strong> was sent to ` +
      `${escapeHtml(input.brand)}.</p>`,
  );

/** Every refusal alike: tampered, expired, already ended or for another answer. */
export const linkNotValidPage = (): SmallPage =>
  smallPage(
    'Link not valid',
    '<h1>This link is not valid</h1><p>It may have expired or been used up. Nothing was confirmed. ' +
      'Reply to the message you received to answer again.</p>',
  );
