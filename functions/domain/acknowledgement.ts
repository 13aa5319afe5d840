/**
 * "Heard, not ignored" (DESIGN section 7, rule 8): a customer's free text gets the tenant's acknowledgement, once per
 * conversation until someone answers, naming when that will be from the tenant's business hours.
 */
import type { Acknowledgement, BusinessHours } from './model.ts';

const weekdays = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

/** The local ISO weekday (1 Monday … 7 Sunday) and minutes since midnight of `at` in `timeZone`. */
const localTime = (at: number, timeZone: string) => {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const weekday = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(get('weekday')) + 1;
  return { weekday, minutes: Number(get('hour')) * 60 + Number(get('minute')) };
};

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/**
 * When someone will answer a message sent at `at`: `now` within business hours, else the next opening as the local
 * day (today, tomorrow, a weekday) and time.
 */
export const nextAnswer = (
  hours: BusinessHours,
  at: number,
): { open: true } | { open: false; day: 'today' | 'tomorrow' | string; time: string } => {
  const { weekday, minutes } = localTime(at, hours.timezone);
  const start = minutesOf(hours.start);
  const end = minutesOf(hours.end);
  const works = (day: number) => hours.days.includes(((day - 1) % 7) + 1);
  if (works(weekday) && minutes >= start && minutes < end) return { open: true };
  for (let ahead = 0; ahead <= 7; ahead++) {
    if (ahead === 0 && (minutes >= start || !works(weekday))) continue;
    const day = ((weekday - 1 + ahead) % 7) + 1;
    if (!works(day)) continue;
    return {
      open: false,
      day: ahead === 0 ? 'today' : ahead === 1 ? 'tomorrow' : `on ${weekdays[day - 1]}`,
      time: hours.start,
    };
  }
  return { open: true };
};

/** The acknowledgement's text, with when someone will answer when the tenant gave its hours. */
export const acknowledgementText = (acknowledgement: Acknowledgement, at: number): string => {
  const hours = acknowledgement.businessHours;
  if (!hours) return acknowledgement.text;
  const next = nextAnswer(hours, at);
  const when = next.open ? 'Someone will answer shortly.' : `Someone will answer ${next.day} from ${next.time}.`;
  return `${acknowledgement.text.trim()} ${when}`;
};
