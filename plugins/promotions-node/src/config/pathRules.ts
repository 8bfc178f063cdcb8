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

/** The plain directory names the rules lay out, by depth: no entity's value may stand for them. */
function literalSegments(rules: string[]): Array<Set<string>> {
  const byDepth: Array<Set<string>> = [];
  for (const rule of rules) {
    rule.split('/').forEach((segment, depth) => {
      if (/[{}*?]/.test(segment)) return;
      (byDepth[depth] ??= new Set()).add(segment.toLocaleLowerCase('en-US'));
    });
  }
  return byDepth;
}

/**
 * Checks the `paths` rules of a repository (`promotions.repositories[].paths`) and returns the
 * reason one is unusable, or undefined.
 *
 * @public
 */
export function pathRuleProblem(rule: string): string | undefined {
  if (!rule || rule.startsWith('/') || rule.split('/').includes('..')) {
    return `"${rule}" must be a relative path inside the repository`;
  }
  for (const [, name] of rule.matchAll(/\{([^}]*)\}/g)) {
    if (!PLACEHOLDERS[name]) {
      return `"${rule}" uses {${name}}; known: ${Object.keys(PLACEHOLDERS)
        .map(p => `{${p}}`)
        .join(', ')}`;
    }
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
  const reserved = literalSegments(rules);
  for (const rule of rules) {
    if (!inDefaultNamespace && !rule.includes('{entity.metadata.namespace}')) {
      continue;
    }
    let missing = false;
    const filled = rule
      .split('/')
      .map((segment, depth) =>
        segment.replace(/\{([^}]*)\}/g, (_, name: string) => {
          const value = PLACEHOLDERS[name]?.(entity);
          // Entity names cannot hold "/", glob characters or start with ".", but a hand-written one might try.
          if (!value || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(value)) {
            missing = true;
            return '';
          }
          // A Component named "charts" must not read every chart that `charts/{...}` lays out.
          if (
            segment === `{${name}}` &&
            reserved[depth]?.has(value.toLocaleLowerCase('en-US'))
          ) {
            missing = true;
            return '';
          }
          return value.replace(/[*?]/g, '');
        }),
      )
      .join('/');
    if (!missing) compiled.push(globToRegExp(filled));
  }
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
