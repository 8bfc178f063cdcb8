import { Entity, parseEntityRef } from '@backstage/catalog-model';

/**
 * What a path rule may say of an entity: `{entity.metadata.name}`, `{entity.metadata.namespace}`,
 * `{entity.spec.owner}` (the owner's name, `team-a` of `group:default/team-a`) and
 * `{entity.spec.system}` (the system's name).
 */
const PLACEHOLDERS: Record<string, (entity: Entity) => string | undefined> = {
  'entity.metadata.name': e => e.metadata.name,
  'entity.metadata.namespace': e => e.metadata.namespace ?? 'default',
  'entity.spec.owner': e => refName(e.spec?.owner),
  'entity.spec.system': e => refName(e.spec?.system),
};

function refName(value: unknown): string | undefined {
  if (typeof value !== 'string' || !value) return undefined;
  try {
    return parseEntityRef(value, { defaultKind: 'group' }).name;
  } catch {
    return undefined;
  }
}

const escape = (text: string) => text.replace(/[.+^${}()|[\]\\]/g, '\\$&');

/** A glob as a regular expression: `**` any depth, `*` within one segment, `?` one character. */
function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      const slash = glob[i + 2] === '/';
      out += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += escape(c);
  }
  return new RegExp(`^${out}$`);
}

/** What a filled-in value may be: entity names hold no "/" or glob characters and do not start with ".". */
const VALUE = '[A-Za-z0-9][A-Za-z0-9._-]*';

const FIELD = /\{([^}]*)\}/g;
const hasField = (segment: string) => /\{[^}]*\}/.test(segment);
const hasGlob = (segment: string) => /[*?]/.test(segment);

/**
 * One segment of a rule as a case-insensitive regular expression: its globs as globs, and each
 * field as any value an entity could fill in.
 */
function segmentRegExp(segment: string): RegExp {
  const source = segment
    .split(FIELD)
    .map((part, i) => (i % 2 ? VALUE : globToRegExp(part).source.slice(1, -1)))
    .join('');
  return new RegExp(`^${source}$`, 'i');
}

/** Whether two globs of one segment may match a same name: false only when their fixed ends differ. */
function globsMeet(a: string, b: string): boolean {
  const ends = (glob: string) => {
    const lower = glob.toLocaleLowerCase('en-US');
    return [lower.split(/[*?]/)[0], lower.split(/[*?]/).pop() ?? ''];
  };
  const [aStart, aEnd] = ends(a);
  const [bStart, bEnd] = ends(b);
  return (
    (aStart.startsWith(bStart) || bStart.startsWith(aStart)) &&
    (aEnd.endsWith(bEnd) || bEnd.endsWith(aEnd))
  );
}

/**
 * Whether the segment `own` of the rule being filled in (a field's segment given as its filled
 * value) and the segment `other` of another rule may name the same directory. A field of the other
 * rule never meets a literal or a glob of this one: the other rule refuses such values itself.
 */
function segmentsMeet(
  own: string,
  filled: string,
  other: string,
  ownField: boolean,
): boolean {
  if (ownField) return segmentRegExp(other).test(filled);
  if (hasField(other)) return false;
  if (!hasGlob(own)) return segmentRegExp(other).test(own);
  if (!hasGlob(other)) return segmentRegExp(own).test(other);
  return globsMeet(own, other);
}

/**
 * Whether the rule `other` reaches the name `filled[depth]` that the field segment at `depth` of
 * `own` takes for one entity: its segments meet `own`'s above, and at `depth` its literal or glob
 * matches the name, or a different field of its own could spell it. The same field segment in
 * the same place spells it only for the same value, which is the same entity's (or its owner's).
 */
function reaches(
  own: string[],
  filled: string[],
  other: string[],
  depth: number,
): boolean {
  for (let k = 0; k <= depth; k++) {
    const segment = other[k];
    if (segment === undefined) return false;
    const ownField = hasField(own[k]);
    if (segment.includes('**')) {
      // "**" reaches any depth below: what it may start with must meet this segment.
      const start = `${segment.slice(0, segment.indexOf('**'))}*`;
      return segmentsMeet(own[k], filled[k], start, ownField);
    }
    if (k === depth) {
      return segment !== own[k] && segmentRegExp(segment).test(filled[k]);
    }
    if (!segmentsMeet(own[k], filled[k], segment, ownField)) return false;
  }
  return false;
}

/**
 * Checks the `paths` rules of a repository (`promotions.repositories[].paths`) and returns the
 * reason one is unusable, or undefined.
 *
 * A field must spell exactly one directory or file per value, so that no value reaches another
 * value's files: a field shares its segment with fixed text only (`{entity.metadata.name}-*` would
 * let the entity `a` match `a-b/`, the files of the entity `a-b`), holds its segment alone among
 * fields (`{entity.metadata.namespace}-{entity.metadata.name}` spells `a-b-c` for `a` and `b-c`
 * and for `a-b` and `c`), and stands before any `**` (after it, at any depth).
 *
 * @public
 */
export function pathRuleProblem(rule: string): string | undefined {
  if (!rule || rule.startsWith('/') || rule.split('/').includes('..')) {
    return `"${rule}" must be a relative path inside the repository`;
  }
  for (const [, name] of rule.matchAll(FIELD)) {
    if (!PLACEHOLDERS[name]) {
      return `"${rule}" uses {${name}}; known: ${Object.keys(PLACEHOLDERS)
        .map(p => `{${p}}`)
        .join(', ')}`;
    }
  }
  let deep: string | undefined;
  for (const segment of rule.split('/')) {
    const fields = segment.match(FIELD) ?? [];
    if (fields.length > 0 && deep) {
      return `"${rule}" puts ${fields[0]} after "${deep}", where it could stand at any depth, also inside another entity's directory: give the field a fixed place, such as "${fields[0]}/**"`;
    }
    if (fields.length > 0 && hasGlob(segment)) {
      return `"${rule}" mixes ${fields[0]} and a glob in the segment "${segment}", so one entity would also match the files of others (the entity "a" those of "a-b"): give the field fixed text only, such as "${fields[0]}/**" or "${fields[0]}-applicationset.yaml"`;
    }
    if (fields.length > 1) {
      return `"${rule}" puts ${fields.join(
        ' and ',
      )} in the one segment "${segment}", so different values could spell the same name ("a" and "b-c", "a-b" and "c"): give each field a segment of its own`;
    }
    if (segment.includes('**')) deep = segment;
  }
  return undefined;
}

/**
 * The paths of a repository an entity may read: its `paths` rules with the entity's values put
 * in. A rule naming a value the entity lacks allows nothing. Rules speak of services: they fill in
 * for `Component` entities only, and a rule that does not name `{entity.metadata.namespace}` only
 * for those of the `default` namespace, so that a `Resource` or a `Component` of another
 * namespace, however it is named or whoever owns it, never reads a service's files.
 *
 * A rule allows nothing to an entity whose value, at the rule's place, names what another rule lays
 * out there: a directory or file it spells literally (a Component named `charts` beside
 * `charts/{entity.metadata.name}/**`), one its glob matches (`env-prod` beside
 * `env-*\/{entity.metadata.name}`), or one a different field of it could spell: beside
 * `{entity.spec.owner}/**` or `{entity.metadata.namespace}/...`, `{entity.metadata.name}/**`
 * cannot tell a service's directory from a team's or a namespace's, so both allow nothing.
 *
 * @public
 */
export function entityPathRules(
  rules: string[],
  entity: Entity,
): ReadablePaths {
  const compiled: RegExp[] = [];
  if (entity.kind.toLocaleLowerCase('en-US') !== 'component') {
    return {
      patterns: [],
      description: `${rules.join(', ')}, for Component entities only`,
    };
  }
  const inDefaultNamespace =
    (entity.metadata.namespace ?? 'default') === 'default';
  const split = rules.map(rule => rule.split('/'));
  rules.forEach((rule, index) => {
    if (!inDefaultNamespace && !rule.includes('{entity.metadata.namespace}')) {
      return;
    }
    // A rule refused at configuration time allows nothing, should one reach here.
    if (pathRuleProblem(rule)) return;
    const segments = split[index];
    let missing = false;
    const filled = segments.map(segment =>
      segment.replace(FIELD, (_, name: string) => {
        const value = PLACEHOLDERS[name]?.(entity);
        // Entity names cannot hold "/", glob characters or start with ".", but a hand-written one might try.
        if (!value || !new RegExp(`^${VALUE}$`).test(value)) {
          missing = true;
          return '';
        }
        return value;
      }),
    );
    if (missing) return;
    // No value stands for what another rule lays out at its place: a Component named "charts"
    // reads none of `charts/{...}`, one named "env-prod" none of `env-*/{...}`, and beside
    // `{entity.spec.owner}/**` no Component name may be a team's directory.
    const taken = segments.some(
      (segment, depth) =>
        hasField(segment) &&
        split.some(other => reaches(segments, filled, other, depth)),
    );
    if (!taken) compiled.push(globToRegExp(filled.join('/')));
  });
  return {
    patterns: compiled.map(re => re.source),
    description: inDefaultNamespace
      ? rules.join(', ')
      : `${rules.join(
          ', ',
        )}; outside the default namespace, only rules naming {entity.metadata.namespace}`,
  };
}

/**
 * The paths of a repository one entity may read, as anchored regular expressions (so that they
 * cross to worker threads), and in words for errors.
 *
 * @public
 */
export interface ReadablePaths {
  patterns: string[];
  description: string;
}

/**
 * Whether a path is one of the readable paths.
 *
 * @public
 */
export function isReadable(readable: ReadablePaths, path: string): boolean {
  return readable.patterns.some(pattern => new RegExp(pattern).test(path));
}
