/**
 * A tag of a repository and the commit it names (an annotated tag peeled to its commit).
 *
 * @public
 */
export interface RepositoryTag {
  /** The tag's name, without `refs/tags/`. */
  name: string;
  /** The id of the commit it names. */
  commit: string;
}

/** Tags a provider lists when the caller names no limit. */
export const DEFAULT_TAG_LIMIT = 1000;
const MAX_PATTERN_LENGTH = 200;

/** The number of tags to list for a requested limit: a whole number, at least one. */
export function tagLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_TAG_LIMIT;
  return Math.max(1, Math.floor(limit));
}

/**
 * What git's `check-ref-format` refuses in the part of a ref below `refs/tags/`, and a leading
 * `-`, which no command line may mistake for an option; `*` only where `glob` allows it.
 */
function refNameProblem(name: string, glob: boolean): string | undefined {
  if (!name) return 'is empty';
  // eslint-disable-next-line no-control-regex
  const forbidden = /[\x00-\x20\x7f~^:?[\\]/.exec(name)?.[0];
  if (forbidden !== undefined) {
    const shown = /[\x21-\x7e]/.test(forbidden)
      ? `"${forbidden}"`
      : 'a space or control character';
    return `holds ${shown}`;
  }
  if (!glob && name.includes('*')) return 'holds "*"';
  if (name.startsWith('-')) return 'starts with "-"';
  if (name.startsWith('/')) return 'starts with "/"';
  if (name.endsWith('/')) return 'ends with "/"';
  if (name.endsWith('.')) return 'ends with "."';
  if (name.includes('..')) return 'holds ".."';
  if (name.includes('//')) return 'holds "//"';
  if (name.includes('@{')) return 'holds "@{"';
  if (name === '@') return 'is "@"';
  for (const segment of name.split('/')) {
    if (segment.startsWith('.')) return 'has a part starting with "."';
    if (segment.endsWith('.lock')) return 'has a part ending in ".lock"';
  }
  return undefined;
}

/** Whether a name is one git takes for a tag (and not for an option). */
export function isTagName(name: string): boolean {
  return refNameProblem(name, false) === undefined;
}

/**
 * Whether a tag pattern is acceptable: git ref-name rules (no `..`, `~^:?[\`, spaces, control
 * characters, leading `-` or `/`, trailing `.lock` or `/`), `*` allowed as a glob for any run
 * of characters except `/`, at most 200 characters. Returns a problem sentence or undefined.
 *
 * @public
 */
export function tagPatternProblem(pattern: string): string | undefined {
  if (pattern.length > MAX_PATTERN_LENGTH) {
    return `The tag pattern is ${pattern.length} characters long; at most ${MAX_PATTERN_LENGTH} are allowed`;
  }
  const problem = refNameProblem(pattern, true);
  return problem
    ? `The tag pattern ${JSON.stringify(pattern)} ${problem}`
    : undefined;
}

/**
 * The parts of `name` each `*` of `pattern` matched, or undefined when it does not match. A
 * `*` never spans a `/`, so each `/`-separated part is matched on its own, by finding literal
 * pieces left to right: linear in the name's length, whatever the pattern holds.
 */
function globParts(pattern: string, name: string): string[] | undefined {
  const patternSegments = pattern.split('/');
  const nameSegments = name.split('/');
  if (patternSegments.length !== nameSegments.length) return undefined;
  const parts: string[] = [];
  for (let s = 0; s < patternSegments.length; s++) {
    const pieces = patternSegments[s].split('*');
    const segment = nameSegments[s];
    const first = pieces[0];
    const last = pieces[pieces.length - 1];
    if (pieces.length === 1) {
      if (segment !== first) return undefined;
      continue;
    }
    if (
      first.length + last.length > segment.length ||
      !segment.startsWith(first) ||
      !segment.endsWith(last)
    ) {
      return undefined;
    }
    const end = segment.length - last.length;
    let at = first.length;
    for (const piece of pieces.slice(1, -1)) {
      const found = segment.indexOf(piece, at);
      if (found < 0 || found + piece.length > end) return undefined;
      parts.push(segment.slice(at, found));
      at = found + piece.length;
    }
    parts.push(segment.slice(at, end));
  }
  return parts;
}

const LOOSE_VERSION =
  /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

interface LooseVersion {
  numbers: bigint[];
  preRelease: string[] | undefined;
}

function parseVersion(text: string): LooseVersion | undefined {
  const match = LOOSE_VERSION.exec(text);
  if (!match) return undefined;
  return {
    numbers: [match[1], match[2], match[3]].map(n => BigInt(n ?? '0')),
    preRelease: match[4]?.split('.'),
  };
}

const compareStrings = (a: string, b: string) => {
  if (a === b) return 0;
  return a < b ? -1 : 1;
};
const compareNumbers = (a: bigint, b: bigint) => {
  if (a === b) return 0;
  return a < b ? -1 : 1;
};

/** Semantic versioning's order of pre-release identifiers: numbers below words, numerically. */
function comparePreRelease(a: string[], b: string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const aNumber = /^\d+$/.test(a[i]);
    const bNumber = /^\d+$/.test(b[i]);
    let order: number;
    if (aNumber && bNumber) order = compareNumbers(BigInt(a[i]), BigInt(b[i]));
    else if (aNumber !== bNumber) order = aNumber ? -1 : 1;
    else order = compareStrings(a[i], b[i]);
    if (order !== 0) return order;
  }
  return a.length - b.length;
}

/**
 * The order of what a `*` matched: as loose semantic versions when both are; a version above
 * what is not one, so the order stays the same whatever order tags come in; otherwise as plain
 * strings.
 */
function compareMatched(a: string, b: string): number {
  const [aVersion, bVersion] = [parseVersion(a), parseVersion(b)];
  if (aVersion && bVersion) {
    for (let i = 0; i < 3; i++) {
      const order = compareNumbers(aVersion.numbers[i], bVersion.numbers[i]);
      if (order !== 0) return order;
    }
    if (aVersion.preRelease && bVersion.preRelease) {
      return comparePreRelease(aVersion.preRelease, bVersion.preRelease);
    }
    if (aVersion.preRelease || bVersion.preRelease) {
      return aVersion.preRelease ? -1 : 1;
    }
    return 0;
  }
  if (aVersion || bVersion) return aVersion ? 1 : -1;
  return compareStrings(a, b);
}

/**
 * The tag a pattern names: the pattern itself when it has no `*`; otherwise the matching tag
 * with the highest version (the part `*` matched, compared as loose semantic versions: `v`
 * prefix and missing minor/patch allowed, pre-releases below releases; numeric when both are
 * plain numbers; else plain string order; a version ranks above what is not one), undefined
 * when none matches or the pattern is not acceptable (see `tagPatternProblem`). With several
 * `*`, their parts are compared in order; equal versions (`v1.2` and `v1.2.0`) are told apart
 * by name, so the answer never depends on the order of `tags`.
 *
 * @public
 */
export function pickTag(
  tags: RepositoryTag[],
  pattern: string,
): RepositoryTag | undefined {
  if (tagPatternProblem(pattern)) return undefined;
  if (!pattern.includes('*')) return tags.find(tag => tag.name === pattern);
  let best: { tag: RepositoryTag; parts: string[] } | undefined;
  for (const tag of tags) {
    const parts = globParts(pattern, tag.name);
    if (!parts) continue;
    if (!best || compareCandidates(parts, tag, best) > 0) {
      best = { tag, parts };
    }
  }
  return best?.tag;
}

function compareCandidates(
  parts: string[],
  tag: RepositoryTag,
  best: { tag: RepositoryTag; parts: string[] },
): number {
  for (let i = 0; i < parts.length; i++) {
    const order = compareMatched(parts[i], best.parts[i]);
    if (order !== 0) return order;
  }
  return compareStrings(tag.name, best.tag.name);
}
