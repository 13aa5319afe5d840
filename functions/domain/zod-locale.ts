import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';

/**
 * zod's English messages, for every schema module to import. Mini sets no locale, so every message but our own would
 * be `Invalid input`: English is loaded alone (`z.locales` would bundle every language), as the default messages
 * (`Too small: expected string to have >=1 characters`) are part of the `invalid_request` details.
 */
z.config(en());
