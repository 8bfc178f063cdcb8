import { relativeTime } from './time';

describe('relativeTime', () => {
  const now = Date.parse('2026-11-25T12:00:00.000Z');

  it('names the largest whole unit of time that has passed', () => {
    expect(relativeTime('2026-11-25T11:59:30.000Z', now)).toBe(
      '30 seconds ago',
    );
    expect(relativeTime('2026-11-25T09:00:00.000Z', now)).toBe('3 hours ago');
    expect(relativeTime('2026-11-24T12:00:00.000Z', now)).toBe('yesterday');
    expect(relativeTime('2026-11-15T12:00:00.000Z', now)).toBe('10 days ago');
  });

  it('says now for the present, and keeps a time it cannot read as it is', () => {
    expect(relativeTime('2026-11-25T12:00:00.000Z', now)).toBe('now');
    expect(relativeTime('not a time', now)).toBe('not a time');
  });
});
