/** How long Parley keeps prompts and answers on the customer item: shared by sends and inbound replies. */

/** Open prompts a customer keeps: the newest ones; older ones are crowded out. */
export const maxOpenPrompts = 5;

/** An expired prompt is kept this long, so a late reply can be told it expired. */
export const expiredPromptKeepMs = 7 * 24 * 3600 * 1000;

/** Answers a customer keeps: the newest ones (each is billed on every send to the customer). */
export const maxPromptAnswers = 5;

/** An answer is kept on the customer this long (the inbound message keeps it for good). */
export const answerKeepMs = 30 * 24 * 3600 * 1000;
