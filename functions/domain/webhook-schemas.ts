import * as z from 'zod/mini';
import { eventTypes } from './events.ts';
import { oneLineText } from './schemas.ts';
import { maxWebhookUrlLength } from './webhook-url-policy.ts';

/**
 * The requests of the webhook routes (DESIGN section 15). The URL is only shaped here; whether Parley may call it
 * (scheme, addresses, DNS) is the URL policy's, checked by the registry.
 */

/** `wh_` and a ULID. */
export const webhookIdSchema = z
  .string()
  .check(z.regex(/^wh_[0-9A-Z]{26}$/))
  .register(z.globalRegistry, { description: 'A webhook endpoint id.', example: 'wh_01JB2K3M4N5P6Q7R8S9T0V1W2X' });

/** Most endpoints a tenant may register: each event is fanned out to every one of them. */
export const maxWebhooksPerTenant = 10;

export const createWebhookRequestSchema = z
  .strictObject({
    url: oneLineText(maxWebhookUrlLength).register(z.globalRegistry, {
      description:
        'Where the events are POSTed: HTTPS, a public address (private, loopback, link-local and other internal ' +
        'addresses are refused, by literal or by what the name resolves to).',
      example: 'https://hooks.bank.example/parley',
    }),
    events: z.array(z.enum(eventTypes as [string, ...string[]])).check(z.minLength(1), z.maxLength(eventTypes.length)),
  })
  .register(z.globalRegistry, { id: 'CreateWebhookRequest' });

export type CreateWebhookRequest = z.output<typeof createWebhookRequestSchema>;

export const webhookDeliveriesQuerySchema = z.strictObject({
  limit: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(100)), 50),
  cursor: z.optional(oneLineText(1024)),
});
