/**
 * Unsubscribing from email (DESIGN section 12, RFC 2369 and RFC 8058). Every email names two ways out in
 * `List-Unsubscribe`: a mail to `unsubscribe+<token>@<reply domain>` and a one-click HTTPS URL. Both carry the same
 * signed token, which is the only authority needed: it names the tenant and the address (or the message sent to it),
 * and opting out follows the rules of an inbound STOP (consent per address, newest wins, `consent.changed`).
 */
import { consentChangedEvent, recordConsent } from './consent.ts';
import { NotFoundError } from './errors.ts';
import type { ConsentRecord, Tenant } from './model.ts';
import type { Clock, EventPublisher, InboundCustomerStore, MessageStore, UnsubscribeLinks } from './ports.ts';
import {
  createAddressUnsubscribeToken,
  createMessageUnsubscribeToken,
  type UnsubscribeTarget,
  verifyUnsubscribeToken,
} from './tokens.ts';

/** RFC 5321: a local part is at most 64 characters. */
const maxLocalPart = 64;
const localPartPrefix = 'unsubscribe+';

export interface UnsubscribeLinkConfig {
  tokenSecret: string;
  replyDomain: string;
  /** The HTTP API's base URL (`https://<api>`), without a trailing slash; none: no one-click link. */
  publicUrl: string | undefined;
}

/** The path of the one-click route for a token. */
export const unsubscribePath = (token: string) => `/v1/unsubscribe/${token}`;

/**
 * The token for an email: the address itself when `unsubscribe+<token>` fits a local part, else the message id, and
 * whether the mailto can carry it (a long tenant id can leave even the message form too long for 64 characters).
 */
export const unsubscribeTokenFor = (
  secret: string,
  tenantId: string,
  address: string,
  messageId: string,
): { token: string; fitsMailto: boolean } => {
  const fits = (token: string) => localPartPrefix.length + token.length <= maxLocalPart;
  const byAddress = createAddressUnsubscribeToken(secret, tenantId, address);
  if (byAddress !== undefined && fits(byAddress)) return { token: byAddress, fitsMailto: true };
  const byMessage = createMessageUnsubscribeToken(secret, tenantId, messageId);
  return { token: byMessage, fitsMailto: fits(byMessage) };
};

/** Both `List-Unsubscribe` targets of an email to `address`, with one token. */
export const unsubscribeLinks = (
  config: UnsubscribeLinkConfig,
  tenantId: string,
  address: string,
  messageId: string,
): UnsubscribeLinks => {
  const { token, fitsMailto } = unsubscribeTokenFor(config.tokenSecret, tenantId, address, messageId);
  return {
    ...(fitsMailto && { mailto: `${localPartPrefix}${token}@${config.replyDomain}` }),
    ...(config.publicUrl && { url: `${config.publicUrl.replace(/\/+$/, '')}${unsubscribePath(token)}` }),
  };
};

/**
 * The first recipient at the reply domain that is a genuine unsubscribe address, and what its token names: for the
 * inbound email handler (a mail to it opts the address out like the one-click URL).
 */
export const unsubscribeRecipientOf = (
  recipients: readonly string[],
  options: { tokenSecret: string; replyDomain: string },
): (UnsubscribeTarget & { recipient: string }) | undefined => {
  const domain = options.replyDomain.toLowerCase();
  for (const recipient of recipients) {
    const lower = recipient.toLowerCase();
    const at = lower.lastIndexOf('@');
    if (at < 0 || lower.slice(at + 1) !== domain || !lower.startsWith(localPartPrefix)) continue;
    const target = verifyUnsubscribeToken(options.tokenSecret, lower.slice(localPartPrefix.length, at));
    if (target) return { ...target, recipient: lower };
  }
  return undefined;
};

export interface UnsubscribeDeps {
  tokenSecret: string;
  customers: Pick<InboundCustomerStore, 'getAddress' | 'getCustomer' | 'setAddressConsent' | 'setCustomerConsent'>;
  messages: Pick<MessageStore, 'getMessage'>;
  getTenant(tenantId: string): Promise<Tenant | undefined>;
  events: EventPublisher;
  clock: Clock;
}

/** Who a token unsubscribes: the tenant, the address, and the customer and message it came with when known. */
export interface UnsubscribeSubject {
  tenant: Tenant;
  address: string;
  customerId?: string;
  messageId?: string;
}

/** What a token names, read and checked; a bad, foreign or stale token is `NotFoundError` (404), nothing changed. */
export const resolveUnsubscribeToken = async (deps: UnsubscribeDeps, token: string): Promise<UnsubscribeSubject> => {
  const target = verifyUnsubscribeToken(deps.tokenSecret, token);
  const tenant = target && (await deps.getTenant(target.tenantId));
  if (!target || !tenant) throw new NotFoundError('Unsubscribe link');
  if ('address' in target) return { tenant, address: target.address };
  const message = await deps.messages.getMessage(target.tenantId, target.messageId);
  if (message?.channel !== 'email' || message.direction !== 'outbound') {
    throw new NotFoundError('Unsubscribe link');
  }
  return { tenant, address: message.to, customerId: message.customerId, messageId: message.messageId };
};

/**
 * Opts the address out of email for the tenant, as an inbound STOP does: consent on the address and every customer
 * of it, newest first, and one `consent.changed` (channel email, reason `unsubscribe`). An address already opted out
 * changes nothing and announces nothing (a second click, a mail client posting twice); its customers are brought in
 * line if an earlier attempt stopped half-way. Two clicks at the same instant announce once.
 */
export const unsubscribeEmail = async (
  deps: UnsubscribeDeps,
  subject: UnsubscribeSubject,
): Promise<{ changed: boolean }> => {
  const tenantId = subject.tenant.tenantId;
  const address = await deps.customers.getAddress(tenantId, 'email', subject.address);
  const customerIds = address?.customerIds ?? (address?.customerId ? [address.customerId] : []);
  if (address?.consent?.status === 'opted_out') {
    await repairCustomers(deps, tenantId, customerIds, address.consent);
    return { changed: false };
  }
  const record: ConsentRecord = {
    status: 'opted_out',
    at: new Date(deps.clock.now()).toISOString(),
    reason: 'unsubscribe',
  };
  const { changed } = await recordConsent(deps.customers, {
    tenantId,
    channel: 'email',
    address: subject.address,
    record,
    customerIds,
  });
  const customerId = subject.customerId ?? address?.customerId ?? customerIds[0];
  if (!changed || customerId === undefined) return { changed };
  await deps.events.publish([
    consentChangedEvent({
      tenantId,
      customerId,
      occurredAt: record.at,
      ...(subject.messageId !== undefined && { messageId: subject.messageId }),
      channel: 'email',
      record,
    }),
  ]);
  return { changed: true };
};

/** Mirrors the address's opt-out onto customers that missed it (a crash between the writes), without announcing. */
const repairCustomers = async (
  deps: UnsubscribeDeps,
  tenantId: string,
  customerIds: readonly string[],
  consent: ConsentRecord,
) => {
  for (const customerId of customerIds) {
    const customer = await deps.customers.getCustomer(tenantId, customerId);
    const current = customer?.consent.email;
    if (customer && current?.status !== 'opted_out' && (current === undefined || current.at <= consent.at)) {
      await deps.customers.setCustomerConsent(tenantId, customerId, 'email', consent);
    }
  }
};
