import { ENV_PLACEHOLDER } from './annotations';

/**
 * Checks a path template from the `gitops-promotions/path` annotation and returns the reason it
 * is unusable, or undefined when it is fine. Paths are relative to the repository root and may
 * not leave it.
 *
 * @public
 */
export function pathTemplateProblem(
  template: string,
  options: {
    /** The branch, tag or repository names the environment, so the path may be the same in each. */
    environmentElsewhere?: boolean;
  } = {},
): string | undefined {
  if (!template.trim()) return 'the path is empty';
  if (!options.environmentElsewhere && !template.includes(ENV_PLACEHOLDER)) {
    return `the path "${template}" has no ${ENV_PLACEHOLDER} placeholder`;
  }
  if (template.includes('\\') || hasControlCharacter(template)) {
    return `the path ${JSON.stringify(
      template,
    )} contains a backslash or a control character`;
  }
  if (template.startsWith('/')) {
    return `the path "${template}" is absolute; it must be relative to the repository root`;
  }
  const segments = template.split('/');
  if (segments.some(segment => segment === '..')) {
    return `the path "${template}" escapes the repository with ".."`;
  }
  // A browser building a link to the path, or a server given it in a URL, reads "%2e%2e" as "..".
  const decoded = percentDecoded(template);
  if (decoded.startsWith('/')) {
    return `the path "${template}" is absolute once its percent-escapes are decoded; it must be relative to the repository root`;
  }
  if (decoded.split('/').some(segment => segment === '..')) {
    return `the path "${template}" escapes the repository with ".." written in percent-escapes`;
  }
  return undefined;
}

/** The text with its escapes of ".", "/", "\\" and "%" decoded, however often they were encoded. */
function percentDecoded(text: string): string {
  let current = text;
  for (;;) {
    const next = current
      .replace(/%25/g, '%')
      .replace(/%2e/gi, '.')
      .replace(/%2f|%5c/gi, '/');
    if (next === current) return current;
    current = next;
  }
}

/**
 * Whether a text holds a control character (newlines, NUL, DEL...), which no name may.
 *
 * @public
 */
export function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 32 || code === 127) return true;
  }
  return false;
}

/**
 * Environment names are Kubernetes DNS-1123 labels, so they are safe in paths and branch names.
 *
 * @public
 */
export function environmentNameProblem(name: string): string | undefined {
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(name)) {
    return `"${name}" is not a valid environment name (lower-case letters, digits and "-", at most 63)`;
  }
  return undefined;
}

/**
 * The path of one environment: the template with `{env}` replaced, `./` segments removed.
 *
 * @public
 */
export function environmentPath(template: string, environment: string): string {
  return template
    .split(ENV_PLACEHOLDER)
    .join(environment)
    .split('/')
    .filter(segment => segment !== '' && segment !== '.')
    .join('/');
}

/**
 * Whether a name is a branch name git accepts and that is safe to pass to git and GitHub: no
 * leading "-", no "..", "//", an at sign before a brace, control characters or spaces, no segment starting with "."
 * or ending in ".lock".
 *
 * @public
 */
export function isBranchName(name: string): boolean {
  return (
    /^[A-Za-z0-9._/-]{1,200}$/.test(name) &&
    !name.startsWith('-') &&
    !name.startsWith('/') &&
    !name.endsWith('/') &&
    !name.endsWith('.') &&
    !name.includes('..') &&
    !name.includes('//') &&
    name.split('/').every(s => !s.startsWith('.') && !s.endsWith('.lock'))
  );
}

/**
 * Repository ids name directories and appear in URLs: letters, digits, ".", "_" and "-".
 *
 * @public
 */
export function repositoryIdProblem(id: string): string | undefined {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(id)) {
    return `"${id}" is not a valid repository id (letters, digits, ".", "_" and "-", at most 63)`;
  }
  return undefined;
}
