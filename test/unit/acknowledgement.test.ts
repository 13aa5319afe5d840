import { describe, expect, it } from 'vitest';
import { acknowledgementText, nextAnswer } from '../../functions/domain/acknowledgement.ts';
import type { BusinessHours } from '../../functions/domain/model.ts';

const hours: BusinessHours = { timezone: 'America/New_York', days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' };
const at = (iso: string) => Date.parse(iso);

describe('when someone will answer', () => {
  it.each([
    // Thursday 3 December 2026, New York is UTC-5
    ['within business hours', '2026-12-03T15:00:00Z', { open: true }],
    ['before opening on a working day', '2026-12-03T12:30:00Z', { open: false, day: 'today', time: '09:00' }],
    ['at night, before a working day', '2026-12-04T03:00:00Z', { open: false, day: 'tomorrow', time: '09:00' }],
    ['after closing on a Friday', '2026-12-04T23:00:00Z', { open: false, day: 'on Monday', time: '09:00' }],
    ['on a Saturday', '2026-12-05T15:00:00Z', { open: false, day: 'on Monday', time: '09:00' }],
    ['on a Sunday evening', '2026-12-06T23:30:00Z', { open: false, day: 'tomorrow', time: '09:00' }],
    ['at closing time exactly', '2026-12-03T22:00:00Z', { open: false, day: 'tomorrow', time: '09:00' }],
  ])('%s', (_case, time, expected) => {
    expect(nextAnswer(hours, at(time))).toEqual(expected);
  });

  it("reads the hours in the tenant's zone, not UTC", () => {
    // 10:00 UTC is 19:00 in Tokyo: closed there, open in London
    expect(nextAnswer({ ...hours, timezone: 'Asia/Tokyo' }, at('2026-12-03T10:00:00Z'))).toMatchObject({ open: false });
    expect(nextAnswer({ ...hours, timezone: 'Europe/London' }, at('2026-12-03T10:00:00Z'))).toEqual({ open: true });
  });

  it('says it in the acknowledgement, and leaves the text alone without hours', () => {
    const text = 'Thanks, we have your message.';
    expect(acknowledgementText({ text, businessHours: hours }, at('2026-12-04T03:00:00Z'))).toBe(
      'Thanks, we have your message. Someone will answer tomorrow from 09:00.',
    );
    expect(acknowledgementText({ text, businessHours: hours }, at('2026-12-03T15:00:00Z'))).toBe(
      'Thanks, we have your message. Someone will answer shortly.',
    );
    expect(acknowledgementText({ text }, at('2026-12-04T03:00:00Z'))).toBe(text);
  });
});
