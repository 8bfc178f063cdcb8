/** Compares two runs of digits as whole numbers, however long. */
function compareNumbers(a: string, b: string): number {
  const x = a.replace(/^0+(?=\d)/, '');
  const y = b.replace(/^0+(?=\d)/, '');
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  if (x === y) return 0;
  return x < y ? -1 : 1;
}

/** Part by part; when one list is the start of the other, the shorter comes first. */
function compareParts(
  a: string[],
  b: string[],
  part: (x: string, y: string) => number | undefined,
): number | undefined {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const order = part(a[i], b[i]);
    if (order !== 0) return order;
  }
  return Math.sign(a.length - b.length);
}

const isYear = (part: string) => /^(19|20|21)\d\d$/.test(part);

interface SemanticVersion {
  core: [string, string, string];
  /** Pre-release words and numbers (`rc10` and `rc.10` both give `rc`, `10`); empty for a release. */
  preRelease: string[];
}

const SEMANTIC =
  /^(v)?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9a-z-]+(?:\.[0-9a-z-]+)*))?(?:\+[0-9a-z-]+(?:\.[0-9a-z-]+)*)?$/i;

/**
 * A semantic version, read loosely: missing minor and patch count as 0 (`1.0`, `v3`), but a lone
 * number needs its `v`, since `12` is a build number and `47-orange` is a name.
 */
function semanticVersion(version: string): SemanticVersion | undefined {
  const match = SEMANTIC.exec(version);
  if (!match) return undefined;
  const [, v, major, minor, patch, preRelease] = match;
  if (!v && minor === undefined) return undefined;
  return {
    core: [major, minor ?? '0', patch ?? '0'],
    preRelease: preRelease?.toLowerCase().match(/[a-z]+|\d+/g) ?? [],
  };
}

/** Words that mark a build before its release, in the order releases go through them. */
const RANKED = ['alpha', 'beta', 'rc'];
const BEFORE_RELEASE = new Set([
  ...RANKED,
  'pre',
  'preview',
  'dev',
  'snapshot',
  'canary',
  'nightly',
  'milestone',
]);

/**
 * Pre-releases of one release are ordered only when they say how: the same word with numbers
 * (`rc.9` < `rc10`), or alpha < beta < rc. Variants such as `-alpine` and `-slim` have no order.
 */
function comparePreReleases(a: string[], b: string[]): number | undefined {
  if (a.length === 0 && b.length === 0) return 0;
  if (a.length === 0 || b.length === 0) {
    const [word] = a.length === 0 ? b : a;
    if (!BEFORE_RELEASE.has(word)) return undefined;
    return a.length === 0 ? 1 : -1;
  }
  if (a[0] !== b[0]) {
    const [x, y] = [RANKED.indexOf(a[0]), RANKED.indexOf(b[0])];
    return x < 0 || y < 0 ? undefined : Math.sign(x - y);
  }
  return compareParts(a, b, (x, y) => {
    const numbers = /^\d/.test(x) && /^\d/.test(y);
    if (numbers) return compareNumbers(x, y);
    return x === y ? 0 : undefined;
  });
}

function compareSemantic(
  a: SemanticVersion,
  b: SemanticVersion,
): number | undefined {
  // A calendar version (`2024.11.05`) and a release number (`3.2.0`) count in different units.
  if (isYear(a.core[0]) !== isYear(b.core[0])) return undefined;
  const core = compareParts(a.core, b.core, compareNumbers);
  if (core !== 0) return core;
  return comparePreReleases(a.preRelease, b.preRelease);
}

interface NumberedVersion {
  parts: string[];
  /** It starts with a year (`2024.11.05`, `2024-11`, `20241105`): a calendar version. */
  calendar: boolean;
}

const isCompactDate = ([, month, day]: string[]) =>
  Number(month) >= 1 &&
  Number(month) <= 12 &&
  Number(day) >= 1 &&
  Number(day) <= 31;

/**
 * A build number (`12`) or numbers joined by `.`, `-` or `_` (`1.2.3.4`); calendar versions among
 * them start with a year followed by more numbers (`2024.11.05`, `2024-11-05.2`) or are a compact
 * date (`20241105`).
 */
function numberedVersion(version: string): NumberedVersion | undefined {
  if (!/^v?\d+(?:[._-]\d+)*$/i.test(version)) return undefined;
  const parts = version.replace(/^v/i, '').split(/[._-]/);
  const compact = /^(\d{4})(\d{2})(\d{2})$/.exec(parts[0]);
  if (compact && isYear(compact[1]) && isCompactDate(compact.slice(1)))
    return { parts: [...compact.slice(1), ...parts.slice(1)], calendar: true };
  return { parts, calendar: parts.length > 1 && isYear(parts[0]) };
}

/** The same word before both versions (`build-41`, `release/1.2`), which says nothing of order. */
function withoutCommonWord(a: string, b: string): [string, string] | undefined {
  const word = /^[a-z]+[-_./]/i.exec(a)?.[0];
  if (!word || !b.startsWith(word)) return undefined;
  return [a.slice(word.length), b.slice(word.length)];
}

/**
 * Orders two versions of one image: negative when `a` is older than `b`, positive when newer, 0
 * when they rank the same (`1.0` and `v1.0.0`), undefined when their shapes do not tell.
 *
 * A word both share (`build-41`, `build-57`) is set aside first. Two calendar versions compare
 * number by number (`2024.11.05`, `2024-11-06`, `20241107`); semantic versions decide where both
 * sides are one, read loosely (`1.0`, `v3`); then build numbers (`12`, `1.2.3.4`), number by
 * number. Everything else has no order here: Git SHAs, digests, names such as `47-orange`,
 * moving tags, a semantic version against a build number, a calendar version against anything
 * else.
 */
export function compareVersions(a: string, b: string): number | undefined {
  if (a === b) return 0;
  const common = withoutCommonWord(a, b);
  if (common) return compareVersions(...common);
  const [numberedA, numberedB] = [numberedVersion(a), numberedVersion(b)];
  if (numberedA?.calendar && numberedB?.calendar)
    return compareParts(numberedA.parts, numberedB.parts, compareNumbers);
  const [semanticA, semanticB] = [semanticVersion(a), semanticVersion(b)];
  if (semanticA && semanticB) return compareSemantic(semanticA, semanticB);
  // A semantic version against a build number, a date or a name: different units.
  if (semanticA || semanticB || !numberedA || !numberedB) return undefined;
  if (numberedA.calendar !== numberedB.calendar) return undefined;
  return compareParts(numberedA.parts, numberedB.parts, compareNumbers);
}
