/**
 * The README's curl walk-through with the typed client: send the demo card alert, look at the SMS as it went out,
 * send it again under the same Idempotency-Key (a replay, nothing new sent), the events the backend received and the
 * customer's conversation.
 *
 *   npm start                          # in one terminal
 *   npx tsx examples/walkthrough.ts    # in another: reads the URL and the key from .parley/local.json
 *
 * `PARLEY_DATA_DIR` names another data directory, as it does for `npm start`.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Parley, type SendMessageInput } from 'parley/client';

export interface WalkthroughOptions {
  baseUrl: string;
  apiKey: string;
  /** Where each step is told (default: console.log). */
  log?: (title: string, value: unknown) => void;
  fetch?: typeof fetch;
}

const cardAlert: SendMessageInput = {
  customerId: 'cust-42',
  to: { phone: '+12025550143', email: 'ana@example.com' },
  template: 'card-transaction-alert',
  data: { amount: '$420.00', merchant: 'ACME' },
  urgency: 'high',
  prompt: { type: 'confirm', expiresInSeconds: 900 },
  reference: 'txn-987',
};

/** The walk-through's steps; what each answered, for a caller (or a test) to look at. */
export const main = async (options: WalkthroughOptions) => {
  const log = options.log ?? ((title, value) => console.log(`\n# ${title}\n${JSON.stringify(value, null, 2)}`));
  const parley = new Parley({
    baseUrl: options.baseUrl,
    apiKey: options.apiKey,
    ...(options.fetch && { fetch: options.fetch }),
  });
  const local = async (path: string): Promise<unknown> => {
    const response = await (options.fetch ?? fetch)(`${options.baseUrl}${path}`);
    return response.json();
  };

  // Send the demo card alert: "Reply Y if this was you"
  const sent = await parley.send(cardAlert, { idempotencyKey: 'alert-001' });
  log('Sent the card alert', sent);

  // The SMS as it went out through the SNS emulation (a local-only route, so plain fetch)
  const outbox = await local(`/_local/outbox?to=${encodeURIComponent('+12025550143')}`);
  log('The outbox', outbox);

  // Send it again with the same Idempotency-Key: the same answer, `replayed: true`, nothing new sent
  const replay = await parley.send(cardAlert, { idempotencyKey: 'alert-001' });
  log('Sent again with the same key', replay);

  // The events the backend received (message.sent with reference txn-987)
  const events = await local('/_local/events');
  log('The events', events);

  // The customer's conversation, newest first
  const conversation = await parley.conversation('cust-42');
  log("The customer's conversation", conversation);

  // The message itself, with its status history and the open prompt
  const message = await parley.messages.get(sent.messageId);
  log('The message', message);

  return { sent, outbox, replay, events, conversation, message };
};

const runDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (runDirectly) {
  const dataDir = process.env.PARLEY_DATA_DIR ?? '.parley';
  const { baseUrl, apiKey } = JSON.parse(readFileSync(join(dataDir, 'local.json'), 'utf8')) as {
    baseUrl: string;
    apiKey: string;
  };
  await main({ baseUrl, apiKey });
}
