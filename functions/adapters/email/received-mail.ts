/**
 * A received mail as the inbound pipeline reads it (DESIGN section 12): the parser of `inbound-email.ts` (postal-mime,
 * email-reply-parser on a guarded copy, and Parley's own passes for quote headers, signatures and automatic mail).
 */
import { parseInboundEmail } from './inbound-email.ts';
import type { ReceivedMail } from './ses-inbound.ts';

export const receivedMail = (raw: Uint8Array | string): Promise<ReceivedMail> => parseInboundEmail(raw);
