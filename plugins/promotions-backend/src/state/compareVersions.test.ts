import { compareVersions } from './compareVersions';

/** Each row: an older version, a newer one, and what sets them apart. */
const ordered: Array<[string, string, string]> = [
  // Semantic versions, strict and loose.
  ['1.2.3', '1.2.4', 'patch'],
  ['1.2.9', '1.10.0', 'minor, as numbers, not text'],
  ['1.9.9', '2.0.0', 'major'],
  ['1.0', '1.1', 'two parts'],
  ['1.0', '1.0.1', 'a missing patch counts as 0'],
  ['2.0', '3.0', 'two parts, major'],
  ['v3', 'v4', 'one part with its v'],
  ['v3', '3.1', 'v prefix on one side only'],
  ['V1.2.0', 'v1.3.0', 'an upper-case V'],
  ['9007199254740993.0.0', '9007199254740994.0.0', 'beyond 2^53'],
  ['1.2.3+build.9', '1.2.4+build.1', 'build metadata set aside'],
  // Pre-releases of one release.
  ['1.0.0-rc.1', '1.0.0', 'a release candidate before its release'],
  ['1.0.0-alpha', '1.0.0-alpha.1', 'more pre-release parts come after'],
  ['1.0.0-alpha.1', '1.0.0-beta', 'alpha before beta'],
  ['1.0.0-beta.11', '1.0.0-rc.1', 'beta before rc'],
  ['1.0.0-rc.9', '1.0.0-rc.10', 'pre-release numbers as numbers'],
  ['1.0.0-rc9', '1.0.0-rc10', 'a number glued to its word'],
  ['2.0.0-RC.1', '2.0.0-rc.2', 'the word in any case'],
  ['1.0-rc.1', '1.0', 'a pre-release of a two-part version'],
  ['v3-beta.1', 'v3', 'a pre-release of a one-part version with its v'],
  ['1.0.0-SNAPSHOT', '1.0.0', 'a snapshot before its release'],
  ['3.1.0-dev.4', '3.1.0', 'a dev build before its release'],
  ['v1.2.0-stage', 'v1.3.0-stage', 'the same suffix on different releases'],
  ['1.25.3-alpine', '1.25.4-alpine', 'variants of different releases'],
  ['1.0.0-rc.1', '1.0.1-alpine', 'the release decides before the suffix'],
  // Build numbers.
  ['12', '13', 'build numbers'],
  ['9', '10', 'build numbers as numbers, not text'],
  ['0099', '100', 'leading zeros'],
  ['1.2.3.4', '1.2.3.5', 'four numbers'],
  ['1.2.3.4', '1.2.3.4.1', 'a longer list after the same numbers'],
  ['build-41', 'build-57', 'the same word before the numbers'],
  ['release/1.2.0', 'release/1.10.0', 'the same word before semantic versions'],
  ['ci-build-99', 'ci-build-100', 'the same words before the numbers'],
  // Dates.
  ['2024.11.05', '2024.11.06', 'dotted dates'],
  ['2024.11.05', '2024.12.01', 'dotted dates, month'],
  ['2024-11-05', '2024-11-06', 'dashed dates'],
  ['2024_11_05', '2025_01_01', 'underscored dates'],
  ['20241105', '20241106', 'compact dates'],
  ['20241105', '2024.11.06', 'a compact and a dotted date'],
  ['2024-11-05', '2024.11.05.1', 'a second build of the day'],
  ['2024.11.05-rc.1', '2024.11.05', 'a pre-release of a calendar version'],
  ['2024-11-05-0930', '2024-11-05-1430', 'a time after the date'],
  ['v2024.11.05', '2024-11-06', 'a dated version with its v'],
  ['nightly-2024.11.05', 'nightly-2024.11.06', 'a word before dates'],
  ['2023.10.0', '2024.1.0', 'calendar versions that are not days'],
  ['2024.1', '2024-11-05', 'a year and month before a day'],
  ['2024-11-05', '2024.12.0', 'a date and a calendar version'],
  ['2024', '2025', 'lone years as build numbers'],
  [
    '2024.11.05-3f2a1b9',
    '2024.11.06-8c9d0e1',
    'dates before the SHAs after them',
  ],
];

/** Each row: two versions whose order their shapes do not tell. */
const unordered: Array<[string, string, string]> = [
  ['47-orange', '48-blue', 'names with numbers'],
  ['47-orange', '48-orange', 'numbers with the same name after them'],
  ['3f2a1b9', '8c9d0e1', 'short Git SHAs'],
  [
    '3f2a1b9c4d5e6f708192a3b4c5d6e7f8091a2b3c',
    '8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f70819',
    'full Git SHAs',
  ],
  ['47-orange', '3f2a1b9', 'a name and a SHA'],
  ['3f2a1b9', '1.2.0', 'a SHA and a semantic version'],
  ['3f2a1b9', '12', 'a SHA and a build number'],
  ['main-3f2a1b9', 'main-8c9d0e1', 'SHAs after the same branch name'],
  ['sha256:9f86d081884c', 'sha256:60303ae22b99', 'short digests'],
  [
    'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
    'sha256:60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752',
    'digests',
  ],
  ['sha256:9f86d081884c', '1.2.0', 'a digest and a semantic version'],
  ['latest', 'stable', 'moving tags'],
  ['latest', '1.2.0', 'a moving tag and a semantic version'],
  ['12', '1.0', 'a build number and a semantic version'],
  ['v3', '12', 'a v-prefixed version and a build number'],
  ['v1.0', '2', 'a semantic version and a lone number'],
  ['2024.11.05', '3.2.0', 'a date and a semantic version'],
  ['2024-11-05', '3.2.0', 'a dashed date and a semantic version'],
  ['20241105', '12', 'a compact date and a build number'],
  ['2024.11', '1.0', 'a calendar and a semantic version'],
  ['12345678', '20241105', 'a build number that is no date and a compact date'],
  ['2024.11.05', '1.2.3.4', 'a date and four numbers'],
  ['1.2.3', '1.2.3.4', 'a semantic version and four numbers'],
  ['1.25.3-alpine', '1.25.3-slim', 'variants of one release'],
  ['1.25.3-alpine', '1.25.3', 'a variant and its release'],
  ['1.0.0-1', '1.0.0', 'a numbered revision and its release'],
  ['1.0.0-dev', '1.0.0-rc.1', 'words with no agreed order'],
  ['1.0.0-rc.1.orange', '1.0.0-rc.1.blue', 'names within a pre-release'],
  ['build-41', 'ci-42', 'different words before the numbers'],
  ['2024.11.05-3f2a1b9', '2024.11.05-8c9d0e1', 'one date with SHAs after it'],
  ['', '1.0.0', 'an empty version'],
];

/** Each row: two different spellings of versions that rank the same. */
const equal: Array<[string, string, string]> = [
  ['1.0', '1.0.0', 'a missing patch'],
  ['v3', '3.0.0', 'one part with its v'],
  ['v1.2.0', '1.2.0', 'the v prefix'],
  ['1.2.3+build.1', '1.2.3+build.2', 'build metadata'],
  ['012', '12', 'leading zeros'],
  ['20241105', '2024.11.05', 'a compact and a dotted date'],
];

describe('compareVersions', () => {
  it.each(ordered)('orders %s before %s (%s)', (older, newer) => {
    expect(compareVersions(older, newer)).toBeLessThan(0);
    expect(compareVersions(newer, older)).toBeGreaterThan(0);
  });

  it.each(unordered)('leaves %s and %s unordered (%s)', (one, other) => {
    expect(compareVersions(one, other)).toBeUndefined();
    expect(compareVersions(other, one)).toBeUndefined();
  });

  it.each(equal)('ranks %s and %s the same (%s)', (one, other) => {
    expect(compareVersions(one, other)).toBe(0);
    expect(compareVersions(other, one)).toBe(0);
  });

  it.each([
    '1.2.3',
    '1.0',
    'v3',
    '12',
    '2024.11.05',
    '47-orange',
    '3f2a1b9',
    'sha256:9f86d081884c',
    'latest',
  ])('ranks %s the same as itself', version => {
    expect(compareVersions(version, version)).toBe(0);
  });
});
