const UNITS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ['year', 365 * 24 * 3600],
  ['month', 30 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
  ['second', 1],
];

/** "3 hours ago", "yesterday": how long ago an ISO time was, relative to now. */
export function relativeTime(iso: string, now: number = Date.now()): string {
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  if (Number.isNaN(seconds)) return iso;
  const format = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
  const [unit, size] =
    UNITS.find(([, length]) => Math.abs(seconds) >= length) ??
    UNITS[UNITS.length - 1];
  return format.format(Math.round(seconds / size), unit);
}

/** The full date and time, in the reader's locale and time zone, for tooltips. */
export const absoluteTime = (iso: string) =>
  new Date(iso).toLocaleString(undefined, {
    dateStyle: 'medium',
    timeStyle: 'long',
  });
