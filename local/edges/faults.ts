// What the emulated providers do for one address (DESIGN.md §3, `POST /_local/faults`): a fault on the send call
// (SNS Publish, SES SendEmail) and the delivery status the provider reports afterwards.

export const sendFaults = ['throttle', 'reject', 'unavailable', 'ambiguous', 'delay'] as const;
export type SendFault = (typeof sendFaults)[number];

export const deliveries = ['delivered', 'failed', 'bounce', 'complaint'] as const;
export type Delivery = (typeof deliveries)[number];

/** A fault as it is set: `times` calls (until cleared without it), `delayMs` for `delay`. */
export interface SendFaultRule {
  fault: SendFault;
  times?: number;
  delayMs?: number;
}

export interface DeliveryRule {
  delivery: Delivery;
  /** One of the `message.failed` reasons; absent for `delivered`. */
  reason?: string;
}

/** What `POST /_local/faults` asks for, once validated. */
export type FaultRequest =
  | { address: string; clear: true }
  | { address: string; clear?: false; send?: SendFaultRule; delivery?: DeliveryRule };

export const defaultFailureReason = 'carrier_unreachable';
export const maxDelayMs = 5 * 60_000;
const maxTimes = 1_000_000;
const e164 = /^\+[1-9]\d{1,14}$/;
const email = /^[^\s@<>]+@[^\s@<>]+$/;
const reasonShape = /^[a-z][a-z0-9_]{0,63}$/;

/** `"Demo Bank" <a@b.c>` and `A@B.C` both key as `a@b.c`; phone numbers are unchanged. */
export function addressKey(address: string): string {
  return (/<([^>]*)>/.exec(address)?.[1] ?? address).trim().toLowerCase();
}

/** Per-address faults. `take` is called once per send call and counts the call against `times`. */
export class FaultTable {
  readonly #send = new Map<string, { fault: SendFault; remaining?: number; delayMs?: number }>();
  readonly #delivery = new Map<string, DeliveryRule>();

  /** Sets (or with null clears) the send fault; `null` also clears the delivery status, as the API does. */
  set(address: string, fault: SendFault | null, options: { times?: number; delayMs?: number } = {}): void {
    const key = addressKey(address);
    if (fault === null) {
      this.#send.delete(key);
      this.#delivery.delete(key);
      return;
    }
    this.#send.set(key, {
      fault,
      ...(options.times !== undefined && { remaining: options.times }),
      ...(fault === 'delay' && { delayMs: options.delayMs ?? 0 }),
    });
  }

  setDelivery(address: string, delivery: Delivery, reason?: string): void {
    this.#delivery.set(
      addressKey(address),
      delivery === 'delivered' ? { delivery } : { delivery, reason: reason ?? defaultFailureReason },
    );
  }

  apply(request: FaultRequest): void {
    if (request.clear) {
      this.set(request.address, null);
      return;
    }
    if (request.send) this.set(request.address, request.send.fault, request.send);
    if (request.delivery) this.setDelivery(request.address, request.delivery.delivery, request.delivery.reason);
  }

  /** The send fault for one call to `address`, counted against its `times`; undefined when none applies. */
  take(address: string): SendFaultRule | undefined {
    const key = addressKey(address);
    const rule = this.#send.get(key);
    if (!rule) return undefined;
    if (rule.remaining !== undefined) {
      rule.remaining -= 1;
      if (rule.remaining <= 0) this.#send.delete(key);
    }
    return { fault: rule.fault, ...(rule.delayMs !== undefined && { delayMs: rule.delayMs }) };
  }

  /** The send fault as it stands, without counting a call (`times` is what is left). */
  peek(address: string): SendFaultRule | undefined {
    const rule = this.#send.get(addressKey(address));
    if (!rule) return undefined;
    return {
      fault: rule.fault,
      ...(rule.remaining !== undefined && { times: rule.remaining }),
      ...(rule.delayMs !== undefined && { delayMs: rule.delayMs }),
    };
  }

  /** The status the provider reports for `address` after a send: `delivered` unless set otherwise. */
  deliveryFor(address: string): DeliveryRule {
    return this.#delivery.get(addressKey(address)) ?? { delivery: 'delivered' };
  }
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isCount = (value: unknown, max: number): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max;

/** Validates a `POST /_local/faults` body: the request, or a list of what is wrong with it. */
export function parseFaultRequest(input: unknown): { ok: true; value: FaultRequest } | { ok: false; issues: string[] } {
  if (!isObject(input)) return { ok: false, issues: ['the body must be a JSON object'] };
  const issues: string[] = [];
  const known = new Set(['address', 'fault', 'times', 'delayMs', 'delivery', 'reason']);
  for (const name of Object.keys(input)) if (!known.has(name)) issues.push(`unknown field "${name}"`);

  const { address, fault, times, delayMs, delivery, reason } = input;
  if (typeof address !== 'string' || address.length > 320 || !(e164.test(address) || email.test(address.trim()))) {
    issues.push('"address" must be an E.164 phone number or an email address');
  }
  if (fault === undefined && delivery === undefined) issues.push('give "fault" or "delivery"');
  if (fault !== undefined && fault !== null && !sendFaults.includes(fault as SendFault)) {
    issues.push(`"fault" must be one of ${sendFaults.join(', ')}, or null to clear`);
  }
  if (fault === null && (times !== undefined || delayMs !== undefined || delivery !== undefined)) {
    issues.push('"fault": null clears the address and takes nothing else');
  }
  if (times !== undefined && (!isCount(times, maxTimes) || times < 1)) {
    issues.push(`"times" must be a whole number from 1 to ${maxTimes}`);
  }
  if ((times !== undefined || delayMs !== undefined) && fault === undefined) {
    issues.push('"times" and "delayMs" go with "fault"');
  }
  if (fault === 'delay' && delayMs === undefined) issues.push('"delay" needs "delayMs"');
  if (delayMs !== undefined && fault !== undefined && fault !== null && fault !== 'delay') {
    issues.push('"delayMs" goes with "fault": "delay" only');
  }
  if (delayMs !== undefined && !isCount(delayMs, maxDelayMs)) {
    issues.push(`"delayMs" must be a whole number of milliseconds from 0 to ${maxDelayMs}`);
  }
  if (delivery !== undefined && !deliveries.includes(delivery as Delivery)) {
    issues.push(`"delivery" must be one of ${deliveries.join(', ')}`);
  }
  if (reason !== undefined) {
    if (delivery === undefined) issues.push('"reason" goes with "delivery"');
    else if (delivery === 'delivered') issues.push('"reason" goes with a failed delivery, not "delivered"');
    if (typeof reason !== 'string' || !reasonShape.test(reason)) {
      issues.push('"reason" must be a message.failed reason such as "carrier_unreachable"');
    }
  }
  if (issues.length > 0) return { ok: false, issues };

  const key = address as string;
  if (fault === null) return { ok: true, value: { address: key, clear: true } };
  return {
    ok: true,
    value: {
      address: key,
      ...(fault !== undefined && {
        send: {
          fault: fault as SendFault,
          ...(times !== undefined && { times: times as number }),
          ...(delayMs !== undefined && { delayMs: delayMs as number }),
        },
      }),
      ...(delivery !== undefined && {
        delivery: { delivery: delivery as Delivery, ...(reason !== undefined && { reason: reason as string }) },
      }),
    },
  };
}
