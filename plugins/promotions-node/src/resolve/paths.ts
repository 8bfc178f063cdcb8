import path from 'node:path';
import { ResolutionError } from './types';

/** Joins a reference to a directory, refusing anything that leaves the repository. */
export function inside(dir: string, reference: string, file: string): string {
  if (path.posix.isAbsolute(reference) || /^[a-zA-Z]:[\\/]/.test(reference)) {
    throw new ResolutionError(
      file,
      `"${reference}" is an absolute path; it must be relative`,
    );
  }
  const joined = path.posix.normalize(path.posix.join(dir, reference));
  if (joined === '..' || joined.startsWith('../')) {
    throw new ResolutionError(file, `"${reference}" is outside the repository`);
  }
  return joined === '.' ? '' : joined.replace(/\/$/, '');
}

/** Whether a kustomize reference points outside this repository (a URL or remote git path). */
export const isRemote = (reference: string) =>
  /^[a-z][a-z0-9+.-]*:\/\//i.test(reference) ||
  /^(git@|git::)/.test(reference) ||
  reference.includes('?ref=') ||
  /^(github\.com|gitlab\.com|bitbucket\.org)\//.test(reference);

/**
 * A file a kustomization reads (a resource, patch or generator source): kustomize reads none
 * outside the kustomization's own directory, so neither does the resolver.
 */
export function fileIn(dir: string, reference: string, file: string): string {
  const target = inside(dir, reference, file);
  if (dir && !target.startsWith(`${dir}/`)) {
    throw new ResolutionError(
      file,
      `"${reference}" is outside the kustomization's directory; kustomize reads no file there`,
    );
  }
  return target;
}
