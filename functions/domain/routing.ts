import { InvalidRequestError, ParleyError } from './errors.ts';
import type { Channel, Customer, Urgency } from './model.ts';

export interface ChannelChoice {
  channel: Channel;
  /** Why the channel is not the one the customer would normally get, e.g. `sms_opted_out`, `quiet_hours`. */
  fallbackReason?: string;
}

export interface RoutingInput {
  requested: Channel | 'auto';
  customer: Pick<Customer, 'phone' | 'email' | 'consent' | 'preferences' | 'learnedChannel' | 'timezone'>;
  /** Which channels the content (template or body) has a variant for. */
  content: Record<Channel, boolean>;
  /** Whether the tenant can send on the channel at all (email needs a from address). */
  tenantChannels: Record<Channel, boolean>;
  urgency: Urgency;
  now: number;
}

const addressOf = (customer: RoutingInput['customer'], channel: Channel): string | undefined =>
  channel === 'sms' ? customer.phone : customer.email;

const isOptedOut = (customer: RoutingInput['customer'], channel: Channel): boolean =>
  customer.consent[channel]?.status === 'opted_out';

/** An email address that bounced for good (DESIGN section 13). */
const isSuppressed = (customer: RoutingInput['customer'], channel: Channel): boolean =>
  customer.consent[channel]?.status === 'suppressed';

/** Not to be sent to on the channel: opted out, or suppressed after a permanent bounce. */
const isBlocked = (customer: RoutingInput['customer'], channel: Channel): boolean =>
  isOptedOut(customer, channel) || isSuppressed(customer, channel);

/** Minutes since local midnight in a time zone (UTC when unknown). */
const localMinutes = (now: number, timeZone: string | undefined): number => {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: timeZone ?? 'UTC',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(now);
  const hour = Number(parts.find((p) => p.type === 'hour')?.value ?? 0);
  const minute = Number(parts.find((p) => p.type === 'minute')?.value ?? 0);
  return hour * 60 + minute;
};

const toMinutes = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

export const isInQuietHours = (customer: RoutingInput['customer'], now: number): boolean => {
  const quiet = customer.preferences.quietHours;
  if (!quiet) return false;
  const at = localMinutes(now, customer.timezone);
  const start = toMinutes(quiet.start);
  const end = toMinutes(quiet.end);
  return start <= end ? at >= start && at < end : at >= start || at < end;
};

/**
 * Picks the channel for a send. `auto` goes by consent, then the customer's stated (else learned) preference, then
 * urgency (critical and high prefer SMS, low prefers email; quiet hours push non-critical sends to email), then
 * reachability. It never picks an opted-out channel, and says why when it falls back.
 */
export const chooseChannel = (input: RoutingInput): ChannelChoice => {
  const { customer } = input;
  const usable = (channel: Channel) =>
    input.content[channel] && input.tenantChannels[channel] && addressOf(customer, channel) !== undefined;

  if (input.requested !== 'auto') {
    const channel = input.requested;
    if (!input.content[channel]) {
      throw new InvalidRequestError(`The message has no ${channel} content`, [
        { path: 'channel', message: `the template or body has no ${channel} variant` },
      ]);
    }
    if (!input.tenantChannels[channel] || addressOf(customer, channel) === undefined) {
      throw new ParleyError('no_reachable_channel', `The customer cannot be reached by ${channel}`);
    }
    if (isOptedOut(customer, channel)) {
      throw new ParleyError('recipient_opted_out', `The customer has opted out of ${channel}`);
    }
    if (isSuppressed(customer, channel)) {
      throw new ParleyError('recipient_suppressed', `The customer's ${channel} address bounced and is suppressed`);
    }
    return { channel };
  }

  const stated = customer.preferences.channel ?? customer.learnedChannel;
  const byUrgency: Channel[] = input.urgency === 'low' ? ['email', 'sms'] : ['sms', 'email'];
  const ideal: Channel[] = stated ? [stated, ...byUrgency.filter((c) => c !== stated)] : byUrgency;
  const quiet =
    input.urgency !== 'critical' &&
    ideal[0] === 'sms' &&
    usable('email') &&
    !isBlocked(customer, 'email') &&
    isInQuietHours(customer, input.now);
  const order: Channel[] = quiet ? ['email', 'sms'] : ideal;

  const candidates = order.filter(usable);
  const chosen = candidates.find((channel) => !isBlocked(customer, channel));
  if (!chosen) {
    if (candidates.some((channel) => isOptedOut(customer, channel))) {
      throw new ParleyError(
        'recipient_opted_out',
        'The customer has opted out of every channel they can be reached on',
      );
    }
    if (candidates.length > 0) {
      throw new ParleyError('recipient_suppressed', "The customer's only reachable address bounced and is suppressed");
    }
    throw new ParleyError('no_reachable_channel', 'The customer has no address for a channel this message can use');
  }
  const first = ideal[0] as Channel;
  let reason: string | undefined;
  if (chosen !== first) {
    if (usable(first) && isOptedOut(customer, first)) reason = `${first}_opted_out`;
    else if (usable(first) && isSuppressed(customer, first)) reason = `${first}_suppressed`;
    else if (quiet) reason = 'quiet_hours';
  }
  return reason ? { channel: chosen, fallbackReason: reason } : { channel: chosen };
};
