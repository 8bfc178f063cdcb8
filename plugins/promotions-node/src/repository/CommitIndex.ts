import { CommitInfo } from './types';

/** A commit as the index knows it: who, when, its parents and the paths it changed. */
export interface IndexedCommit {
  info: CommitInfo;
  parents: string[];
  /** Paths of files the commit added, changed or deleted (for a commit with one parent). */
  files: string[];
  /**
   * For a merge: the paths that differ from each parent, in the order of `parents`. A merge
   * touches a path when it differs from every parent there, as `git log -- <path>` decides; one
   * without a list for every parent is not known, and histories through it are asked for.
   */
  filesByParent?: string[][];
}

/** A path and each of its parent directories. */
function pathKeys(files: string[]): Set<string> {
  const keys = new Set<string>();
  for (const file of files) {
    const segments = file.split('/');
    for (let i = segments.length; i > 0; i--) {
      keys.add(segments.slice(0, i).join('/'));
    }
  }
  return keys;
}

/**
 * The newest commits of a branch, in `git log` order, with the paths each changed: enough to
 * answer "which commits touched these paths" for every environment of a repository from one
 * read, instead of one `git log` or one GitHub request per path.
 *
 * `complete` says whether the window reaches the repository's first commit; when it does not,
 * a question the window cannot answer in full returns undefined and the caller asks the
 * provider directly.
 */
export class CommitIndex {
  private readonly position = new Map<string, number>();
  /** Every changed path and each of its parent directories, to the positions of its commits. */
  private readonly byPath = new Map<string, number[]>();
  /** The same for merges, with which parent's difference each path came from. */
  private readonly mergesByPath = new Map<string, Array<[number, number]>>();
  /** Merges whose difference from some parent is not known: a walk through them is not answered. */
  private readonly unknownMerges = new Set<number>();

  constructor(
    readonly head: string,
    private readonly commits: IndexedCommit[],
    readonly complete: boolean,
  ) {
    commits.forEach((commit, index) => {
      this.position.set(commit.info.sha, index);
      for (const key of pathKeys(commit.files)) {
        const list = this.byPath.get(key);
        if (list) list.push(index);
        else this.byPath.set(key, [index]);
      }
      if (commit.parents.length < 2) return;
      const byParent = commit.filesByParent;
      if (!byParent || byParent.length !== commit.parents.length) {
        this.unknownMerges.add(index);
        return;
      }
      byParent.forEach((files, parent) => {
        for (const key of pathKeys(files)) {
          const list = this.mergesByPath.get(key);
          if (list) list.push([index, parent]);
          else this.mergesByPath.set(key, [[index, parent]]);
        }
      });
    });
  }

  get size(): number {
    return this.commits.length;
  }

  has(commit: string): boolean {
    return this.position.has(commit);
  }

  /**
   * This index below a newer head: `newer` are the commits above this index's head, newest
   * first, each with its parents among `newer` or this index. The window keeps its `max` newest
   * commits; it stays complete only while it still holds them all.
   */
  extendedTo(head: string, newer: IndexedCommit[], max: number): CommitIndex {
    const commits = [...newer, ...this.commits];
    return new CommitIndex(
      head,
      commits.slice(0, max),
      this.complete && commits.length <= max,
    );
  }

  /**
   * Commits that touched any of `paths`, newest first, at most `limit`, leaving out those
   * reachable from `since`, as `git log -- <paths>` lists them: a merge that left the paths as
   * one of its parents had them is walked through that parent only, so changes another branch
   * made and the merge did not keep are not listed; a merge that differs from every parent is.
   * Undefined when the window is too short to know.
   */
  history(
    paths: string[],
    limit: number,
    since?: string,
  ): CommitInfo[] | undefined {
    let excluded: Set<number> | undefined;
    if (since !== undefined) {
      excluded = this.reachableFrom(since);
      if (!excluded || !this.closedAbove(excluded)) return undefined;
    }
    const keys = [...new Set(paths.map(p => p.replace(/\/+$/, '')))];
    const touched = new Set(keys.flatMap(key => this.byPath.get(key) ?? []));
    const mergeDiffers = new Map<number, Set<number>>();
    for (const key of keys) {
      for (const [index, parent] of this.mergesByPath.get(key) ?? []) {
        const differs = mergeDiffers.get(index) ?? new Set<number>();
        differs.add(parent);
        mergeDiffers.set(index, differs);
      }
    }
    const start = this.position.get(this.head);
    if (start === undefined) return undefined;
    const picked: number[] = [];
    const seen = new Set<number>();
    const stack = [start];
    while (stack.length > 0) {
      const index = stack.pop()!;
      if (seen.has(index)) continue;
      seen.add(index);
      const commit = this.commits[index];
      let follow = commit.parents;
      if (commit.parents.length > 1) {
        if (this.unknownMerges.has(index)) return undefined;
        const differs = mergeDiffers.get(index);
        const same = commit.parents.findIndex((_, j) => !differs?.has(j));
        if (same >= 0) follow = [commit.parents[same]];
        else picked.push(index);
      } else if (touched.has(index)) {
        picked.push(index);
      }
      for (const parent of follow) {
        const next = this.position.get(parent);
        if (next !== undefined) stack.push(next);
      }
    }
    const listed = picked
      .filter(index => !excluded?.has(index))
      .sort((a, b) => a - b);
    if (listed.length < limit && !this.complete && !excluded) return undefined;
    return listed
      .slice(0, limit)
      .map(index => ({ ...this.commits[index].info }));
  }

  /**
   * Whether every commit of the window outside `excluded` has its parents inside the window,
   * so that the commits between `excluded` and the head are all known.
   */
  private closedAbove(excluded: Set<number>): boolean {
    if (this.complete) return true;
    return this.commits.every(
      (commit, index) =>
        excluded.has(index) ||
        commit.parents.every(parent => this.position.has(parent)),
    );
  }

  /**
   * Positions of the commits reachable from `commit`, walking parents inside the window;
   * undefined when the walk would leave the window (the answer is not known from here).
   */
  private reachableFrom(commit: string): Set<number> | undefined {
    const start = this.position.get(commit);
    if (start === undefined) return undefined;
    const seen = new Set<number>();
    const queue = [start];
    while (queue.length > 0) {
      const index = queue.pop()!;
      if (seen.has(index)) continue;
      seen.add(index);
      for (const parent of this.commits[index].parents) {
        const next = this.position.get(parent);
        if (next === undefined) {
          if (!this.complete) return undefined;
          continue;
        }
        queue.push(next);
      }
    }
    return seen;
  }
}
