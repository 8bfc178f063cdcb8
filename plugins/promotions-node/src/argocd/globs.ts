import { RE2JS } from 're2js';
import { pathClean, trimChars } from './goFunctions';

/**
 * The path patterns of Argo CD's git generators, each compiled to an RE2 expression so that
 * matching stays linear whatever the pattern: Go's `path.Match` for directories, git's pathspec
 * (`git ls-files -- <pattern>`) for files, and doublestar for files with the new globbing.
 */

/** Patterns longer than this are refused; no real generator needs one. */
const MAX_PATTERN_LENGTH = 1024;

export type PathMatcher = (path: string) => boolean;

/** A pattern Go or git would reject; the message says why. */
export class BadPatternError extends Error {}

const literal = (char: string) => `\\x{${char.codePointAt(0)!.toString(16)}}`;

const POSIX_CLASSES = new Set([
  'alnum',
  'alpha',
  'blank',
  'cntrl',
  'digit',
  'graph',
  'lower',
  'print',
  'punct',
  'space',
  'upper',
  'xdigit',
]);

/**
 * A bracket expression from `start` (just after `[`): its RE2 form and where it ends. Git
 * allows `[:alpha:]` classes and a `]` right after the opening bracket; git and doublestar
 * negate with `!` as well as `^`.
 */
function bracket(
  pattern: string,
  start: number,
  dialect: 'go' | 'git' | 'doublestar',
  excludeSlash: boolean,
): { regex: string; end: number } {
  let i = start;
  let negate = false;
  if (pattern[i] === '^' || (dialect !== 'go' && pattern[i] === '!')) {
    negate = true;
    i++;
  }
  let body = '';
  let first = true;
  for (;;) {
    if (i >= pattern.length) throw new BadPatternError('unclosed [');
    let char = pattern[i];
    if (char === ']' && !(first && dialect === 'git')) break;
    first = false;
    if (dialect === 'git' && char === '[' && pattern[i + 1] === ':') {
      const close = pattern.indexOf(':]', i + 2);
      const name = close < 0 ? '' : pattern.slice(i + 2, close);
      if (!POSIX_CLASSES.has(name))
        throw new BadPatternError(`unknown class [:${name}:]`);
      body += `[:${name}:]`;
      i = close + 2;
      continue;
    }
    if (char === '\\') {
      i++;
      if (i >= pattern.length) throw new BadPatternError('trailing \\');
      char = pattern[i];
    }
    const code = pattern.codePointAt(i)!;
    i += code > 0xffff ? 2 : 1;
    char = String.fromCodePoint(code);
    if (
      pattern[i] === '-' &&
      pattern[i + 1] !== ']' &&
      i + 1 < pattern.length
    ) {
      i++;
      let high = pattern[i];
      if (high === '\\') high = pattern[++i];
      if (high === undefined) throw new BadPatternError('unclosed [');
      const highCode = pattern.codePointAt(i)!;
      i += highCode > 0xffff ? 2 : 1;
      if (highCode < code) throw new BadPatternError('bad range');
      body += `${literal(char)}-${literal(String.fromCodePoint(highCode))}`;
    } else body += literal(char);
  }
  if (body === '') throw new BadPatternError('empty character class');
  // Where `/` separates segments, a negated class still never matches it.
  const slash = negate && excludeSlash ? literal('/') : '';
  return { regex: negate ? `[^${body}${slash}]` : `[${body}]`, end: i + 1 };
}

function compile(expression: string): PathMatcher {
  const re = RE2JS.compile(`^(?:${expression})$`);
  return path => re.matches(path);
}

function checkLength(pattern: string) {
  if (pattern.length > MAX_PATTERN_LENGTH)
    throw new BadPatternError(
      `pattern longer than ${MAX_PATTERN_LENGTH} characters`,
    );
}

/** An expression that matches nothing: git's wildmatch gives up on a malformed pattern. */
const NOTHING = '[^\\x{0}-\\x{10ffff}]';

/**
 * A pattern as an RE2 expression. `go` is path.Match (`*`, `?` within a segment), `git` is
 * wildmatch without WM_PATHNAME (`*`, `**`, `?` across segments too), `doublestar` adds `**`
 * segments that span directories and `{a,b}` alternatives.
 */
function translate(
  pattern: string,
  dialect: 'go' | 'git' | 'doublestar',
): string {
  let regex = '';
  let braces = 0;
  for (let i = 0; i < pattern.length; ) {
    const char = pattern[i];
    const segmentStart = i === 0 || pattern[i - 1] === '/';
    const segmentEnd = pattern[i + 2] === '/' || i + 2 === pattern.length;
    if (
      dialect === 'doublestar' &&
      char === '*' &&
      pattern[i + 1] === '*' &&
      segmentStart &&
      segmentEnd
    ) {
      const slash = pattern[i + 2] === '/';
      regex += slash ? '(?:[^/]*/)*' : '.*';
      i += slash ? 3 : 2;
    } else if (char === '*') {
      regex += dialect === 'git' ? '.*' : '[^/]*';
      while (pattern[i] === '*') i++;
    } else if (char === '?') {
      regex += dialect === 'git' ? '.' : '[^/]';
      i++;
    } else if (char === '[') {
      try {
        const part = bracket(pattern, i + 1, dialect, dialect === 'doublestar');
        regex += part.regex;
        i = part.end;
      } catch (error) {
        if (dialect === 'git' && error instanceof BadPatternError)
          return NOTHING;
        throw error;
      }
    } else if (dialect === 'doublestar' && char === '{') {
      regex += '(?:';
      braces++;
      i++;
    } else if (dialect === 'doublestar' && char === ',' && braces > 0) {
      regex += '|';
      i++;
    } else if (dialect === 'doublestar' && char === '}' && braces > 0) {
      regex += ')';
      braces--;
      i++;
    } else {
      if (char === '\\' && i + 1 >= pattern.length) {
        if (dialect === 'git') return NOTHING;
        throw new BadPatternError('trailing \\');
      }
      const at = char === '\\' ? i + 1 : i;
      const code = pattern.codePointAt(at)!;
      regex += literal(String.fromCodePoint(code));
      i = at + (code > 0xffff ? 2 : 1);
    }
  }
  if (braces > 0) throw new BadPatternError('unclosed {');
  return regex;
}

/** Go's path.Match: `*` and `?` never cross a `/`; a malformed pattern is an error. */
export function goPathMatcher(pattern: string): PathMatcher {
  checkLength(pattern);
  return compile(translate(pattern, 'go'));
}

/**
 * A git pathspec as `git ls-files -- <pathspec>` applies it (Argo CD's default for git files
 * generators): the path itself, a directory above the file, or a wildmatch of the whole path.
 */
export function gitPathspecMatcher(pattern: string): PathMatcher {
  checkLength(pattern);
  let spec = pattern;
  while (spec.startsWith('./')) spec = spec.slice(2);
  if (spec === '' || spec === '.') return () => true;
  const literalPrefix = spec.endsWith('/')
    ? `${trimChars(spec, '/', 'end')}/`
    : spec;
  const wild = /[*?[\\]/.test(spec)
    ? compile(translate(spec, 'git'))
    : undefined;
  return path => {
    if (path === trimChars(literalPrefix, '/', 'end')) return true;
    if (
      path.startsWith(literalPrefix) &&
      (literalPrefix.endsWith('/') || path[literalPrefix.length] === '/')
    )
      return true;
    return wild ? wild(path) : false;
  };
}

/** doublestar (the new git file globbing): `**` spans directories, `{a,b}` picks one. */
export function doublestarMatcher(pattern: string): PathMatcher {
  checkLength(pattern);
  const clean = pathClean(pattern);
  if (clean === '..' || clean.startsWith('../') || clean.startsWith('/'))
    return () => false;
  return compile(translate(clean, 'doublestar'));
}
