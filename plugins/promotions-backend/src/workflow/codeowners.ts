import { RepositorySnapshot } from '@gitops-promotions/plugin-promotions-node';
import { RE2JS } from 're2js';

/** Where GitHub looks for CODEOWNERS, in the order it looks. */
export const CODEOWNERS_FILES = [
  '.github/CODEOWNERS',
  'CODEOWNERS',
  'docs/CODEOWNERS',
];

/** GitHub ignores a CODEOWNERS file larger than this. */
const MAX_BYTES = 3 * 1024 * 1024;
const MAX_RULES = 5000;

/** One line of CODEOWNERS: a path pattern and who owns what it matches. */
export interface CodeownersRule {
  pattern: string;
  owners: string[];
  line: number;
  matches(path: string): boolean;
}

/** Gitignore-style glob to a linear-time expression, as CODEOWNERS reads its patterns. */
function compile(pattern: string): RE2JS | undefined {
  let glob = pattern;
  const directoryOnly = glob.endsWith('/');
  if (directoryOnly) glob = glob.slice(0, -1);
  // A slash at the start or in the middle anchors the pattern at the root; else it matches at any depth.
  const anchored = glob.startsWith('/') || glob.includes('/');
  glob = glob.replace(/^\/+/, '');
  if (!glob) return undefined;
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      // `**/` any directories, `/**` everything inside, `**` anything.
      if (glob[i + 2] === '/') {
        source += '(?:.*/)?';
        i += 2;
      } else {
        source += '.*';
        i += 1;
      }
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else if (c === '\\' && i + 1 < glob.length) {
      source += RE2JS.quote(glob[++i]);
    } else source += RE2JS.quote(c);
  }
  const prefix = anchored ? '^' : '^(?:.*/)?';
  // A pattern naming a directory owns everything under it.
  const suffix = directoryOnly ? '/.*$' : '(?:/.*)?$';
  try {
    return RE2JS.compile(prefix + source + suffix);
  } catch {
    return undefined;
  }
}

/**
 * Reads CODEOWNERS from the first place GitHub looks for it. Lines that cannot be read are
 * skipped, as GitHub skips them; a file too large is ignored, as GitHub ignores it.
 */
export async function readCodeowners(
  snapshot: RepositorySnapshot,
): Promise<{ file: string; rules: CodeownersRule[] } | undefined> {
  for (const file of CODEOWNERS_FILES) {
    const entry = snapshot.files.get(file);
    if (!entry) continue;
    if (entry.size > MAX_BYTES) return { file, rules: [] };
    const content = await snapshot.readFile(file);
    if (!content) continue;
    return { file, rules: parseCodeowners(content.toString('utf8')) };
  }
  return undefined;
}

export function parseCodeowners(text: string): CodeownersRule[] {
  const rules: CodeownersRule[] = [];
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length && rules.length < MAX_RULES; n++) {
    const line = lines[n].replace(/(^|\s)#.*$/, '').trim();
    if (!line) continue;
    // Escaped spaces belong to the pattern.
    const [pattern, ...owners] = line.split(/(?<!\\)\s+/);
    const expression = compile(pattern);
    if (!expression) continue;
    rules.push({
      pattern,
      owners: owners.filter(o =>
        /^@[\w.-]+(\/[\w.-]+)?$|^[^@\s]+@[^@\s]+$/.test(o),
      ),
      line: n + 1,
      matches: path => expression.matches(path),
    });
  }
  return rules;
}

/** The owners of a path: those of the last rule that matches it, as GitHub decides. */
export function ownersOf(rules: CodeownersRule[], path: string): string[] {
  for (let i = rules.length - 1; i >= 0; i--) {
    if (rules[i].matches(path)) return rules[i].owners;
  }
  return [];
}

/** A CODEOWNERS owner: a GitHub team, a GitHub login, or an e-mail address. */
export type Codeowner =
  | { kind: 'team'; org: string; team: string }
  | { kind: 'login'; login: string }
  | { kind: 'email'; email: string };

/** Reads an owner as GitHub writes it: `@org/team`, `@login` or `someone@example.com`. */
export function parseCodeowner(owner: string): Codeowner | undefined {
  const team = /^@([\w.-]+)\/([\w.-]+)$/.exec(owner);
  if (team) return { kind: 'team', org: team[1], team: team[2] };
  const login = /^@([\w.-]+)$/.exec(owner);
  if (login) return { kind: 'login', login: login[1] };
  // Only what an address holds, so that it is looked up as itself and nothing more.
  if (/^[\w.+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/.test(owner)) {
    return { kind: 'email', email: owner };
  }
  return undefined;
}

/** Who a CODEOWNERS owner is in the catalog. */
export interface CodeownerEntities {
  /** The users (for a login or an e-mail) or groups (for a team) the owner is; none when nobody. */
  refs: string[];
  /** Why the owner is nobody in the catalog, when it is. */
  problem?: string;
}

/** Finds the catalog users and groups behind CODEOWNERS owners. */
export interface CodeownersDirectory {
  entitiesOf(owner: string): Promise<CodeownerEntities>;
}
