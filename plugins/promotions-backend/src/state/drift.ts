import {
  ConfigDifference,
  ConfigDrift,
  shortKey,
  VersionDrift,
} from '@gitops-promotions/plugin-promotions-common';
import { ComparableObject } from '@gitops-promotions/plugin-promotions-node';
import { compareVersions } from './compareVersions';
import { SECRET_MARK } from './secrets';
import { VersionTimeline } from './timeline';

const day = (iso: string) => iso.slice(0, 10);
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Number of distinct consecutive versions among the first `count` entries of a timeline. */
function versionsIn(timeline: VersionTimeline, count: number): number {
  let versions = 0;
  for (let i = 0; i < count; i++) {
    if (
      i === 0 ||
      timeline.commits[i].version !== timeline.commits[i - 1].version
    )
      versions++;
  }
  return versions;
}

/** Where a version was last deployed in a timeline, and what came after it. */
function lastSeen(timeline: VersionTimeline, version: string) {
  const index = timeline.commits.findIndex(c => c.version === version);
  if (index <= 0) return undefined;
  return {
    commits: index,
    versions: versionsIn(timeline, index),
    since: timeline.commits[index - 1].at,
  };
}

/**
 * Compares an environment's version with one upstream's: behind when the upstream has moved past
 * it, ahead when this environment runs what the upstream has not, and differs when neither the
 * versions' shapes nor the timelines tell which is newer, so that no difference goes unsaid. The
 * versions decide the direction where their shapes order them (`compareVersions`), else the
 * timelines do; the timelines give how many versions, commits and since when.
 */
export function versionDrift(input: {
  version: string | null;
  timeline: VersionTimeline;
  upstream: string;
  upstreamVersion: string | null;
  upstreamTimeline: VersionTimeline;
}): VersionDrift | undefined {
  const { version, upstream, upstreamVersion } = input;
  if (!version || !upstreamVersion || version === upstreamVersion)
    return undefined;

  const inUpstream = lastSeen(input.upstreamTimeline, version);
  const inSelf = lastSeen(input.timeline, upstreamVersion);
  const order = compareVersions(version, upstreamVersion);
  // One version written two ways (`v1.0`, `1.0.0`): neither is newer, and the spelling differs.
  const sameVersion = order === 0;
  let kind: VersionDrift['kind'] = 'differs';
  if (order) kind = order < 0 ? 'behind' : 'ahead';
  else if (sameVersion) kind = 'differs';
  else if (inUpstream) kind = 'behind';
  else if (inSelf) kind = 'ahead';

  const seen = { behind: inUpstream, ahead: inSelf, differs: undefined }[kind];
  const position =
    kind === 'behind' ? `behind ${upstream}` : `ahead of ${upstream}`;
  const moved = seen
    ? ` by ${plural(seen.versions, 'version')} in ${plural(
        seen.commits,
        'commit',
      )} since ${day(seen.since)}`
    : '';
  let summary = `Runs ${version}, ${position} (${upstreamVersion})${moved}`;
  if (sameVersion) {
    summary = `Runs ${version}, ${upstream} runs ${upstreamVersion}: the same version, written differently`;
  } else if (kind === 'differs') {
    summary = `Runs ${version}, ${upstream} runs ${upstreamVersion}, order unknown`;
  }
  return {
    kind,
    summary,
    upstream,
    upstreamVersion,
    version,
    versions: seen?.versions ?? null,
    commits: seen?.commits ?? null,
    since: seen?.since ?? null,
  };
}

type Flat = Map<string, string>;

/** A key longer than this is not descended into: its subtree is compared as one value. */
const MAX_PATH_CHARS = 1024;
/** Differences stored for one upstream; the rest are counted. */
export const MAX_STORED_DIFFERENCES = 100;
/** Characters of a stored value or key; longer ones are cut, saying by how much. */
export const MAX_STORED_CHARS = 2048;
/** Characters of a value named in a summary. */
const MAX_SUMMARY_CHARS = 100;

const cut = (text: string, max: number) =>
  text.length <= max
    ? text
    : `${text.slice(0, max)}… (${text.length - max} more characters cut)`;

/** A list keyed by a field whose values name its items uniquely, and briefly enough for a key. */
function keyedBy(items: unknown[]): string | undefined {
  if (
    !items.every(
      item => item && typeof item === 'object' && !Array.isArray(item),
    )
  )
    return undefined;
  for (const key of ['name', 'mountPath', 'containerPort', 'key']) {
    const values = items.map(item => (item as Record<string, unknown>)[key]);
    if (
      values.every(
        v =>
          typeof v === 'number' ||
          (typeof v === 'string' && v.length <= MAX_PATH_CHARS),
      )
    ) {
      if (new Set(values).size === values.length) return key;
    }
  }
  return undefined;
}

function flatten(value: unknown, path: string, out: Flat) {
  if (value === undefined) return;
  // Every key carries its whole path: a long name above many keys would be copied into each.
  if (path.length > MAX_PATH_CHARS) {
    out.set(path, JSON.stringify(value));
  } else if (Array.isArray(value)) {
    const key = keyedBy(value);
    if (key && value.length > 0) {
      for (const item of value as Record<string, unknown>[]) {
        const { [key]: id, ...rest } = item;
        flatten(rest, `${path}[${String(id)}]`, out);
      }
    } else {
      out.set(path, JSON.stringify(value));
    }
  } else if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) out.set(path, '{}');
    for (const [k, v] of entries) flatten(v, path ? `${path}.${k}` : k, out);
  } else {
    out.set(path, value === null ? 'null' : String(value));
  }
}

function flattenAll(objects: ComparableObject[]): Flat {
  const out: Flat = new Map();
  for (const object of objects) {
    out.set(`${object.id}`, 'present');
    const flat: Flat = new Map();
    if (object.id.length > MAX_PATH_CHARS)
      flat.set('', JSON.stringify(object.body));
    else flatten(object.body, '', flat);
    for (const [key, value] of flat) out.set(`${object.id} ${key}`, value);
  }
  return out;
}

const POD_SPEC_PREFIXES = [
  ' spec.template.spec.',
  ' spec.jobTemplate.spec.template.spec.',
];
const ENV_OPEN = '.env[';
const ENV_CLOSE = '].value';

/**
 * `Deployment/checkout spec.template.spec.containers[checkout].env[CACHE_SIZE].value` → readable.
 * Keys carry names from the repository, so they are read with string searches, never a regex
 * that could backtrack over them.
 */
export function displayKey(key: string): string {
  let readable = key;
  for (const prefix of POD_SPEC_PREFIXES) {
    const at = readable.indexOf(prefix);
    if (at >= 0) {
      readable = `${readable.slice(0, at)} ${readable.slice(
        at + prefix.length,
      )}`;
    }
  }
  if (!readable.endsWith(ENV_CLOSE)) return readable;
  const end = readable.length - ENV_CLOSE.length;
  const open = readable.lastIndexOf(ENV_OPEN, end - ENV_OPEN.length - 1);
  if (open < 0) return readable;
  const name = readable.slice(open + ENV_OPEN.length, end);
  if (name.includes(']')) return readable;
  return `${readable.slice(0, open)}.env.${name}`;
}

function isExpected(key: string, expectedKeys: string[]): boolean {
  const path = key.includes(' ') ? key.slice(key.indexOf(' ') + 1) : key;
  // An expected key covers its whole subtree, wherever it sits in the object.
  return expectedKeys.some(
    expected =>
      path === expected ||
      path.endsWith(`.${expected}`) ||
      path.startsWith(`${expected}.`) ||
      path.includes(`.${expected}.`),
  );
}

/** A flattened value that is a protected secret, or a list holding one. */
const holdsSecret = (value: string | null) =>
  !!value &&
  (value.startsWith(SECRET_MARK) || value.includes(`"${SECRET_MARK}`));

/**
 * Config drift between an environment and one upstream: rendered keys that differ beyond those
 * expected to (image references, namespace and name prefixes are already removed by resolution).
 */
export function configDrift(input: {
  environment: string;
  comparable: ComparableObject[];
  upstream: string;
  upstreamComparable: ComparableObject[];
  expectedKeys: string[];
}): ConfigDrift | undefined {
  const mine = flattenAll(input.comparable);
  const theirs = flattenAll(input.upstreamComparable);
  const keys = [...new Set([...mine.keys(), ...theirs.keys()])].sort();
  // A whole object present on one side only is one difference, not one per key inside it.
  const oneSided = new Set(
    keys.filter(k => !k.includes(' ') && mine.has(k) !== theirs.has(k)),
  );
  const differences: ConfigDifference[] = [];
  let count = 0;
  for (const key of keys) {
    const value = mine.get(key) ?? null;
    const upstreamValue = theirs.get(key) ?? null;
    if (value === upstreamValue || isExpected(key, input.expectedKeys))
      continue;
    const space = key.indexOf(' ');
    if (space > 0 && oneSided.has(key.slice(0, space))) continue;
    count++;
    if (differences.length === MAX_STORED_DIFFERENCES) continue;
    const secret = holdsSecret(value) || holdsSecret(upstreamValue);
    const shown = cut(displayKey(key), MAX_STORED_CHARS);
    const stored = (text: string | null) =>
      text === null ? null : cut(text, MAX_STORED_CHARS);
    differences.push(
      secret
        ? { key: shown, value: null, upstreamValue: null, secret: true }
        : {
            key: shown,
            value: stored(value),
            upstreamValue: stored(upstreamValue),
          },
    );
  }
  if (count === 0) return undefined;
  const names = differences.slice(0, 3).map(d => {
    const name = cut(shortKey(d.key), MAX_SUMMARY_CHARS);
    const named = (text: string | null) =>
      text === null ? 'absent' : cut(text, MAX_SUMMARY_CHARS);
    return d.secret
      ? `${name} differs`
      : `${name}: ${named(d.value)} vs ${named(d.upstreamValue)}`;
  });
  const more = count > 3 ? `, and ${count - 3} more` : '';
  const omitted = count - differences.length;
  return {
    kind: 'config',
    upstream: input.upstream,
    differences,
    ...(omitted > 0 ? { omittedDifferences: omitted } : {}),
    summary: `Config differs from ${input.upstream} in ${plural(
      count,
      'key',
    )} (${names.join('; ')}${more})`,
  };
}
