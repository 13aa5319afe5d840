import * as z from 'zod/mini';
import { textChecks } from './schemas.ts';

/** A frame the chat page sends over the WebSocket. */
export const chatFrameSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('history') }),
  z.object({
    type: z.literal('message'),
    body: z.string().check(z.trim(), ...textChecks(), z.minLength(1), z.maxLength(2000)),
  }),
]);
