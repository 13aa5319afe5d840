import { describe, expect, it } from 'vitest';
import { ParleyError } from '../../functions/domain/errors.ts';
import type { Channel } from '../../functions/domain/model.ts';
import { chooseChannel, isInQuietHours, type RoutingInput } from '../../functions/domain/routing.ts';
import { at } from './fakes.ts';

const reachable: RoutingInput['customer'] = {
  phone: '+12025550143',
  email: 'ana@example.com',
  consent: {},
  preferences: {},
};

const optedOut = { status: 'opted_out' as const, at: '2025-05-01T00:00:00.000Z', keyword: 'STOP' };

const input = (
  overrides: Partial<Omit<RoutingInput, 'customer'>> & { customer?: Partial<RoutingInput['customer']> },
) => {
  const { customer, ...rest } = overrides;
  return {
    requested: 'auto',
    content: { sms: true, email: true },
    tenantChannels: { sms: true, email: true },
    urgency: 'normal',
    now: at('2025-06-02T12:00:00Z'),
    ...rest,
    customer: { ...reachable, ...customer },
  } satisfies RoutingInput;
};

const errorOf = (act: () => unknown): ParleyError => {
  try {
    act();
  } catch (error) {
    if (error instanceof ParleyError) return error;
    throw error;
  }
  throw new Error('expected chooseChannel to throw');
};

describe('routing', () => {
  describe('an explicit channel', () => {
    it.each(['sms', 'email'] as const)('is used as asked when the customer is reachable by %s', (channel) => {
      expect(chooseChannel(input({ requested: channel }))).toEqual({ channel });
    });

    it('is no_reachable_channel when the customer has no address for it', () => {
      const error = errorOf(() => chooseChannel(input({ requested: 'sms', customer: { phone: undefined } })));

      expect(error).toMatchObject({ code: 'no_reachable_channel', status: 422 });
    });

    it('is no_reachable_channel for email when the tenant has no email from address', () => {
      const error = errorOf(() =>
        chooseChannel(input({ requested: 'email', tenantChannels: { sms: true, email: false } })),
      );

      expect(error.code).toBe('no_reachable_channel');
    });

    it('is recipient_opted_out when the customer opted out of it, even if another channel would do', () => {
      const error = errorOf(() => chooseChannel(input({ requested: 'sms', customer: { consent: { sms: optedOut } } })));

      expect(error).toMatchObject({ code: 'recipient_opted_out', status: 422 });
    });

    it('is invalid_request at path channel when the content has no variant for it', () => {
      const error = errorOf(() => chooseChannel(input({ requested: 'email', content: { sms: true, email: false } })));

      expect(error).toMatchObject({ code: 'invalid_request', status: 400, details: [{ path: 'channel' }] });
    });
  });

  describe('auto', () => {
    it('prefers SMS by default for normal urgency', () => {
      expect(chooseChannel(input({}))).toEqual({ channel: 'sms' });
    });

    it('follows the stated preference', () => {
      expect(chooseChannel(input({ urgency: 'high', customer: { preferences: { channel: 'email' } } }))).toEqual({
        channel: 'email',
      });
    });

    it('follows the learned preference when none is stated', () => {
      expect(chooseChannel(input({ customer: { learnedChannel: 'email' } }))).toEqual({ channel: 'email' });
    });

    it('puts the stated preference before the learned one', () => {
      expect(
        chooseChannel(
          input({ urgency: 'low', customer: { preferences: { channel: 'sms' }, learnedChannel: 'email' } }),
        ),
      ).toEqual({ channel: 'sms' });
    });

    it.each([
      { urgency: 'critical', channel: 'sms' },
      { urgency: 'high', channel: 'sms' },
      { urgency: 'normal', channel: 'sms' },
      { urgency: 'low', channel: 'email' },
    ] as const)('orders by urgency without a preference: $urgency goes by $channel', ({ urgency, channel }) => {
      expect(chooseChannel(input({ urgency })).channel).toBe(channel);
    });

    it('uses the other channel when the preferred one has no address', () => {
      expect(chooseChannel(input({ customer: { phone: undefined } }))).toEqual({ channel: 'email' });
    });

    it('uses the other channel when the content has no variant for the preferred one', () => {
      expect(chooseChannel(input({ content: { sms: false, email: true } }))).toEqual({ channel: 'email' });
    });

    it('falls back to email with fallbackReason sms_opted_out when SMS is opted out', () => {
      expect(chooseChannel(input({ customer: { consent: { sms: optedOut } } }))).toEqual({
        channel: 'email',
        fallbackReason: 'sms_opted_out',
      });
    });

    it('falls back to SMS with fallbackReason email_opted_out when the preferred email is opted out', () => {
      expect(
        chooseChannel(input({ customer: { preferences: { channel: 'email' }, consent: { email: optedOut } } })),
      ).toEqual({ channel: 'sms', fallbackReason: 'email_opted_out' });
    });

    it('is recipient_opted_out when every reachable channel is opted out', () => {
      const error = errorOf(() => chooseChannel(input({ customer: { consent: { sms: optedOut, email: optedOut } } })));

      expect(error.code).toBe('recipient_opted_out');
    });

    it('is recipient_opted_out when the only reachable channel is opted out', () => {
      const error = errorOf(() => chooseChannel(input({ customer: { email: undefined, consent: { sms: optedOut } } })));

      expect(error.code).toBe('recipient_opted_out');
    });

    it('is no_reachable_channel when the customer has no address at all', () => {
      const error = errorOf(() => chooseChannel(input({ customer: { phone: undefined, email: undefined } })));

      expect(error).toMatchObject({ code: 'no_reachable_channel', status: 422 });
    });

    it('is no_reachable_channel when the content only has a variant for a channel without an address', () => {
      const error = errorOf(() =>
        chooseChannel(input({ content: { sms: false, email: true }, customer: { email: undefined } })),
      );

      expect(error.code).toBe('no_reachable_channel');
    });

    it('never picks email for a tenant without an email from address', () => {
      // Prepare: the customer prefers email and is in quiet hours, which would both point at email
      const customer = {
        preferences: { channel: 'email' as Channel, quietHours: { start: '00:00', end: '23:59' } },
      };

      // Act
      const choice = chooseChannel(input({ customer, tenantChannels: { sms: true, email: false } }));

      // Assess
      expect(choice).toEqual({ channel: 'sms' });
    });

    it('is recipient_opted_out, not email, when SMS is opted out and the tenant has no email', () => {
      const error = errorOf(() =>
        chooseChannel(input({ customer: { consent: { sms: optedOut } }, tenantChannels: { sms: true, email: false } })),
      );

      expect(error.code).toBe('recipient_opted_out');
    });

    describe('in quiet hours', () => {
      const overnight = { quietHours: { start: '22:00', end: '07:00' } };

      it('moves a normal send from SMS to email, saying quiet_hours', () => {
        const choice = chooseChannel(input({ now: at('2025-06-02T23:30:00Z'), customer: { preferences: overnight } }));

        expect(choice).toEqual({ channel: 'email', fallbackReason: 'quiet_hours' });
      });

      it('moves a send to email even when the customer stated SMS', () => {
        const choice = chooseChannel(
          input({
            urgency: 'high',
            now: at('2025-06-02T23:30:00Z'),
            customer: { preferences: { ...overnight, channel: 'sms' } },
          }),
        );

        expect(choice).toEqual({ channel: 'email', fallbackReason: 'quiet_hours' });
      });

      it('ignores quiet hours for a critical send', () => {
        const choice = chooseChannel(
          input({ urgency: 'critical', now: at('2025-06-02T23:30:00Z'), customer: { preferences: overnight } }),
        );

        expect(choice).toEqual({ channel: 'sms' });
      });

      it('still sends SMS when the customer has no email', () => {
        const choice = chooseChannel(
          input({ now: at('2025-06-02T23:30:00Z'), customer: { email: undefined, preferences: overnight } }),
        );

        expect(choice).toEqual({ channel: 'sms' });
      });

      it('uses the customer time zone, not UTC', () => {
        // Prepare: 10:30 UTC is 06:30 in New York (quiet); 23:00 UTC is 19:00 there (not quiet)
        const customer = { timezone: 'America/New_York', preferences: overnight };

        // Act
        const morning = chooseChannel(input({ now: at('2025-06-02T10:30:00Z'), customer }));
        const evening = chooseChannel(input({ now: at('2025-06-02T23:00:00Z'), customer }));

        // Assess
        expect(morning).toEqual({ channel: 'email', fallbackReason: 'quiet_hours' });
        expect(evening).toEqual({ channel: 'sms' });
      });
    });
  });

  describe('quiet hours', () => {
    // Asia/Kolkata is UTC+05:30 all year, so each case pins one local time.
    const kolkata = { timezone: 'Asia/Kolkata', preferences: { quietHours: { start: '22:00', end: '07:00' } } };

    it.each([
      { local: '21:59', utc: '2025-06-02T16:29:00Z', quiet: false },
      { local: '22:00', utc: '2025-06-02T16:30:00Z', quiet: true },
      { local: '23:30', utc: '2025-06-02T18:00:00Z', quiet: true },
      { local: '00:00', utc: '2025-06-02T18:30:00Z', quiet: true },
      { local: '00:15', utc: '2025-06-02T18:45:00Z', quiet: true },
      { local: '06:59', utc: '2025-06-03T01:29:00Z', quiet: true },
      { local: '07:00', utc: '2025-06-03T01:30:00Z', quiet: false },
      { local: '12:00', utc: '2025-06-03T06:30:00Z', quiet: false },
    ])('a 22:00-07:00 window crossing midnight in Asia/Kolkata: $local local is quiet=$quiet', ({ utc, quiet }) => {
      expect(isInQuietHours({ ...reachable, ...kolkata }, at(utc))).toBe(quiet);
    });

    it.each([
      { utc: '2025-06-02T08:59:00Z', quiet: false },
      { utc: '2025-06-02T09:00:00Z', quiet: true },
      { utc: '2025-06-02T16:59:00Z', quiet: true },
      { utc: '2025-06-02T17:00:00Z', quiet: false },
    ])('a daytime 09:00-17:00 window in UTC (no time zone): $utc is quiet=$quiet', ({ utc, quiet }) => {
      const customer = { ...reachable, preferences: { quietHours: { start: '09:00', end: '17:00' } } };

      expect(isInQuietHours(customer, at(utc))).toBe(quiet);
    });

    it('is never quiet without quiet hours', () => {
      expect(isInQuietHours(reachable, at('2025-06-02T03:00:00Z'))).toBe(false);
    });
  });
});
