/** One file in a repository tree at some commit. */
export interface TreeFile {
  /** Path from the repository root, `/`-separated, no leading slash. */
  path: string;
  /** Git object id of the blob: equal ids mean equal content. */
  oid: string;
  size: number;
}

/** A commit in the history of some paths. */
export interface CommitInfo {
  sha: string;
  authorName: string;
  authorEmail: string;
  /** ISO 8601 author date. */
  authoredAt: string;
  message: string;
}

/** The state of a repository's branch at one commit: its files, readable by path. */
export interface RepositorySnapshot {
  /** The commit this snapshot is of. */
  readonly commit: string;
  /** Every file (blob) in the tree, by path. */
  readonly files: ReadonlyMap<string, TreeFile>;
  /** Reads a file's content; undefined when there is no such file. */
  readFile(path: string): Promise<Buffer | undefined>;
}

/**
 * What version resolution and drift need from a GitOps repository. Providers (`git`, `github`)
 * implement it; nothing above this interface knows which one is in use.
 */
export interface GitOpsRepository {
  readonly id: string;
  /** The branch this repository is read from. */
  readonly branch: string;
  /**
   * Resolves the branch head and returns the tree at it. Providers may answer from a cache when
   * nothing changed since the last call (for example through conditional requests).
   */
  snapshot(): Promise<RepositorySnapshot>;
  /** The tree at an older commit, for reading what an environment deployed then. */
  snapshotAt(commit: string): Promise<RepositorySnapshot>;
  /**
   * Commits reachable from `commit` that touched any of `paths` (files or directories), newest
   * first, at most `limit`.
   */
  history(
    commit: string,
    paths: string[],
    limit: number,
  ): Promise<CommitInfo[]>;
}
