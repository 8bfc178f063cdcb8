import { ChangeWindow } from '@gitops-promotions/plugin-promotions-node';

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string) {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      weekday: 'short',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall clock in a time zone at an instant. */
function wallClock(at: Date, timeZone: string) {
  const parts: Record<string, string> = {};
  for (const part of formatter(timeZone).formatToParts(at)) {
    parts[part.type] = part.value;
  }
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    minutes: Number(parts.hour) * 60 + Number(parts.minute),
    weekday: DAY_NAMES.indexOf(
      parts.weekday.toLowerCase().slice(0, 3) as (typeof DAY_NAMES)[number],
    ),
  };
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** How far a time zone's wall clock is ahead of UTC at an instant, in milliseconds. */
function offsetAt(at: number, timeZone: string): number {
  const clock = wallClock(new Date(at), timeZone);
  return (
    Date.UTC(clock.year, clock.month - 1, clock.day, 0, clock.minutes) - at
  );
}

/**
 * The instant a wall-clock time of a day has in a time zone: the earlier one when clocks go
 * back and it happens twice, the moment clocks jump past it when it does not happen at all.
 */
function instantOf(
  date: { year: number; month: number; day: number },
  minutes: number,
  timeZone: string,
): Date {
  const wanted = Date.UTC(date.year, date.month - 1, date.day, 0, minutes);
  const offsets = [
    ...new Set([-DAY, 0, DAY].map(shift => offsetAt(wanted + shift, timeZone))),
  ];
  const candidates = offsets
    .map(offset => wanted - offset)
    .filter(at => offsetAt(at, timeZone) === wanted - at)
    .sort((a, b) => a - b);
  if (candidates.length > 0) return new Date(candidates[0]);
  // In the gap of a clock jumping forward: the first minute whose wall clock is past the time.
  let before = wanted - Math.max(...offsets);
  let after = wanted - Math.min(...offsets);
  while (after - before > MINUTE) {
    const middle = before + Math.floor((after - before) / 2 / MINUTE) * MINUTE;
    if (middle + offsetAt(middle, timeZone) >= wanted) after = middle;
    else before = middle;
  }
  return new Date(after);
}

/** Whether an instant lies in a window. */
export function inWindow(window: ChangeWindow, at: Date): boolean {
  const clock = wallClock(at, window.timeZone);
  return (
    window.days.includes(DAY_NAMES[clock.weekday]) &&
    clock.minutes >= window.from &&
    clock.minutes < window.to
  );
}

/** When the next of some windows opens after an instant; undefined when none ever does. */
export function nextOpening(
  windows: ChangeWindow[],
  after: Date,
): Date | undefined {
  let best: Date | undefined;
  for (const window of windows) {
    const today = wallClock(after, window.timeZone);
    for (let offset = 0; offset <= 7; offset++) {
      // Calendar arithmetic on the local date, not on instants: days are not all 24 hours.
      const date = new Date(
        Date.UTC(today.year, today.month - 1, today.day + offset),
      );
      if (!window.days.includes(DAY_NAMES[date.getUTCDay()])) continue;
      const opens = instantOf(
        {
          year: date.getUTCFullYear(),
          month: date.getUTCMonth() + 1,
          day: date.getUTCDate(),
        },
        window.from,
        window.timeZone,
      );
      if (opens.getTime() > after.getTime()) {
        if (!best || opens < best) best = opens;
        break;
      }
    }
  }
  return best;
}

const hhmm = (minutes: number) =>
  `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(
    minutes % 60,
  ).padStart(2, '0')}`;

/** A window as people write it: `Mon–Fri 09:00–17:00 Europe/Berlin`. */
export function describeWindow(window: ChangeWindow): string {
  const days = DAY_NAMES.filter(d => window.days.includes(d));
  let dayText = days.map(d => d[0].toUpperCase() + d.slice(1)).join(', ');
  const indexes = days.map(d => DAY_NAMES.indexOf(d));
  const consecutive =
    indexes.length > 2 &&
    indexes.every((d, i) => i === 0 || d === indexes[i - 1] + 1);
  if (days.length === 7) dayText = 'every day';
  else if (consecutive) {
    const first = days[0];
    const last = days[days.length - 1];
    dayText = `${first[0].toUpperCase()}${first.slice(
      1,
    )}–${last[0].toUpperCase()}${last.slice(1)}`;
  }
  return `${dayText} ${hhmm(window.from)}–${hhmm(window.to)} ${
    window.timeZone
  }`;
}
