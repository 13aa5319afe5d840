/**
 * The local runtime's clock (`GET`/`POST /_local/clock`): time can be moved forward to rehearse what happens later
 * (a step-up code after 5 minutes, a prompt past its expiry) without waiting. It shifts `Date` for the whole process,
 * since the handlers read the time as Lambda's do (`Date.now()`, `new Date()`); it never goes back, so nothing the
 * runtime stored is ever in its future. Timers (`setTimeout`) keep real time.
 */
const RealDate = Date;
let offsetMs = 0;
let installed = false;

/** Replaces the global `Date` with one `offsetMs` ahead (0 until moved). Idempotent. */
export const installLocalClock = (): void => {
  if (installed) return;
  installed = true;
  class LocalDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(RealDate.now() + offsetMs);
      else super(...(args as [string | number | Date]));
    }

    static override now(): number {
      return RealDate.now() + offsetMs;
    }
  }
  globalThis.Date = LocalDate as DateConstructor;
};

export const localClock = {
  now: (): number => RealDate.now() + offsetMs,
  offsetMs: (): number => offsetMs,
  /** Moves the clock forward by `ms` (whole, positive, at most a year at a time). */
  advance(ms: number): void {
    offsetMs += ms;
  },
};

export const maxAdvanceMs = 366 * 24 * 3600 * 1000;

/** Validates a `POST /_local/clock` body: how far to move, or what is wrong with it. */
export const parseClockRequest = (
  input: unknown,
  now: number,
): { ok: true; advanceMs: number } | { ok: false; message: string } => {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, message: 'Give {"advanceSeconds": 301} or {"to": "2026-12-03T09:00:00Z"}' };
  }
  const { advanceSeconds, to, ...rest } = input as Record<string, unknown>;
  if (Object.keys(rest).length > 0) return { ok: false, message: `Unknown field "${Object.keys(rest)[0]}"` };
  if ((advanceSeconds === undefined) === (to === undefined)) {
    return { ok: false, message: 'Give exactly one of "advanceSeconds" and "to"' };
  }
  const advanceMs =
    advanceSeconds !== undefined
      ? typeof advanceSeconds === 'number' && Number.isInteger(advanceSeconds)
        ? advanceSeconds * 1000
        : Number.NaN
      : typeof to === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(to)
        ? Date.parse(to) - now
        : Number.NaN;
  if (Number.isNaN(advanceMs)) {
    return { ok: false, message: '"advanceSeconds" must be a whole number; "to" an ISO 8601 time with an offset' };
  }
  if (advanceMs <= 0) return { ok: false, message: 'The local clock only moves forward' };
  if (advanceMs > maxAdvanceMs) return { ok: false, message: 'Move the clock at most a year at a time' };
  return { ok: true, advanceMs };
};
