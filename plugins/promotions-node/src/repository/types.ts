import { Config } from '@backstage/config';
import { LoggerService } from '@backstage/backend-plugin-api';
import { RepositoryConfig } from '../config';
import { RepositoryTag } from './tags';

/**
 * One file in a repository tree at some commit.
 *
 * @public
 */
export interface TreeFile {
  /** Path from the repository root, `/`-separated, no leading slash. */
  path: string;
  /** Git object id of the blob: equal ids mean equal content. */
  oid: string;
  size: number;
}

/**
 * A commit in the history of some paths.
 *
 * @public
 */
export interface CommitInfo {
  sha: string;
  authorName: string;
  authorEmail: string;
  /** ISO 8601 author date. */
  authoredAt: string;
  message: string;
}

/**
 * The state of a repository at one commit: its files, readable by path.
 *
 * @public
 */
export interface RepositorySnapshot {
  /** The commit this snapshot is of. */
  readonly commit: string;
  /** Every file (blob) in the tree, by path. */
  readonly files: ReadonlyMap<string, TreeFile>;
  /** Reads a file's content; undefined when there is no such file. */
  readFile(path: string): Promise<Buffer | undefined>;
}

/**
 * Who a commit is written as.
 *
 * @public
 */
export interface CommitAuthor {
  name: string;
  email: string;
}

/**
 * One file a commit writes: new content, or null to delete the file.
 *
 * @public
 */
export interface FileChange {
  path: string;
  content: Buffer | null;
}

/**
 * How two commits relate, and what lies between them.
 *
 * @public
 */
export interface Comparison {
  /** Commits in `head` that are not in `base`, oldest first. */
  commits: CommitInfo[];
  /** Commits in `base` that are not in `head`. */
  behindBy: number;
  /** Paths whose content differs between the two commits. */
  files: string[];
}

/**
 * A GitOps repository as every part of the suite sees it: read a tree and its files at any
 * commit, list the history of paths, and write through branches. Providers (`git`, `github`,
 * or one a module adds) implement it; nothing above this interface knows which one is in use.
 *
 * Writes never move a branch blindly: each names the commit it expects the branch to be at,
 * and fails with a `ConflictError` from `@backstage/errors` when it moved.
 *
 * @public
 */
export interface GitOpsRepository {
  readonly id: string;
  /** The branch environments are read from. */
  readonly branch: string;
  /**
   * The tree at the head of a branch: `branch` unless another is named. Providers may answer
   * from a cache when nothing changed since the last call (for example through conditional
   * requests).
   */
  snapshot(branch?: string): Promise<RepositorySnapshot>;
  /** The tree at any commit. */
  snapshotAt(commit: string): Promise<RepositorySnapshot>;
  /**
   * Commits reachable from `commit` that touched any of `paths` (files or directories), newest
   * first, at most `limit`. With `since`, only commits that are not reachable from `since`.
   */
  history(
    commit: string,
    paths: string[],
    limit: number,
    options?: { since?: string },
  ): Promise<CommitInfo[]>;

  /** The commit a branch points to, or undefined when there is no such branch. */
  branchHead(branch: string): Promise<string | undefined>;
  /**
   * The repository's tags and the commits they name (annotated tags peeled to their commit),
   * at most `limit` (default 1,000), in no particular order.
   */
  tags(options?: { limit?: number }): Promise<RepositoryTag[]>;
  /** Creates a branch at a commit; a `ConflictError` when the branch exists. */
  createBranch(branch: string, commit: string): Promise<void>;
  /**
   * Commits file changes on top of `parent` and moves `branch` to the new commit, only if the
   * branch is still at `parent`. Returns the new commit.
   */
  commitFiles(options: {
    branch: string;
    parent: string;
    message: string;
    author: CommitAuthor;
    changes: FileChange[];
  }): Promise<string>;
  /** What `head` adds to `base`. */
  compare(base: string, head: string): Promise<Comparison>;
  /**
   * Merges `source` into `target`, only if `source` is still at `expectedHead`: a fast-forward
   * when the target has not moved since the source branched, otherwise a merge commit. A
   * conflict, or a branch that moved, is a `ConflictError`. Returns the target's new commit.
   */
  merge(options: {
    source: string;
    expectedHead: string;
    target: string;
    message: string;
    author: CommitAuthor;
  }): Promise<string>;
  /** Deletes a branch, only if it is still at `expectedHead` when one is given. */
  deleteBranch(branch: string, expectedHead?: string): Promise<void>;
  /** Pull requests, where the repository has them. */
  readonly pullRequests?: PullRequests;
  /** A link to a branch, where the repository has a web page for it. */
  branchUrl?(branch: string): string;
}

/**
 * A pull request as the workflow follows it.
 *
 * @public
 */
export interface PullRequest {
  number: number;
  url: string;
  state: 'open' | 'closed' | 'merged';
  /** The branch it merges into, which anyone who may edit it can change. */
  base: string;
  /** The commit at the head of its branch. */
  headCommit: string;
  mergeCommit: string | null;
}

/**
 * A review of a pull request.
 *
 * @public
 */
export interface PullRequestReview {
  /** The reviewer's login on the forge. */
  user: string;
  state: 'approved' | 'changes-requested' | 'commented' | 'dismissed';
  at: string;
  body: string;
  /** The commit the review was given on. */
  commit: string | null;
}

/**
 * The state of the checks on a commit: check runs and commit statuses together.
 *
 * @public
 */
export interface CommitChecks {
  state: 'success' | 'pending' | 'failure' | 'none';
  checks: Array<{
    name: string;
    state: 'success' | 'pending' | 'failure';
    url: string | null;
  }>;
}

/**
 * Pull requests of a repository on a forge (GitHub): where a promotion is reviewed and merged.
 * Providers without them (`git`) keep promotions in the portal.
 *
 * @public
 */
export interface PullRequests {
  /** Opens a pull request, or returns the one already open for the branch. */
  open(options: {
    branch: string;
    base: string;
    title: string;
    body: string;
  }): Promise<PullRequest>;
  /** The open pull request of a branch, if any. */
  find(branch: string): Promise<PullRequest | undefined>;
  get(number: number): Promise<PullRequest>;
  /** Merges only if the head is still `expectedHead`; a `ConflictError` when it moved. */
  merge(options: {
    number: number;
    expectedHead: string;
    title: string;
  }): Promise<string>;
  close(number: number, comment?: string): Promise<void>;
  comment(number: number, body: string): Promise<void>;
  reviews(number: number): Promise<PullRequestReview[]>;
  checks(commit: string): Promise<CommitChecks>;
}

/**
 * What a repository provider gets to build one repository: its entry of
 * `promotions.repositories`, and the backend's services it may use.
 *
 * @public
 */
export interface RepositoryProviderContext {
  repository: RepositoryConfig;
  /** The backend's whole configuration, for integrations and credentials. */
  rootConfig: Config;
  logger: LoggerService;
  /** A directory this provider may keep clones and caches in. */
  workingDirectory: string;
  /**
   * Called for every request attempt a provider sends to its host's API, so that the backend can
   * count them; a provider that makes no such requests never calls it.
   */
  onRequest?: (request: RepositoryRequestRecord) => void;
}

/**
 * One attempt of one request a provider sent to its host's API.
 *
 * @public
 */
export interface RepositoryRequestRecord {
  /** The answer's status; undefined when none came (timeout or network error). */
  status: number | undefined;
  /** Requests the host said are left in the current rate-limit window, when it said so. */
  rateLimitRemaining?: number;
}

/**
 * Told of every request attempt a provider sends for a configured repository.
 *
 * @public
 */
export type RepositoryRequestObserver = (
  repositoryId: string,
  request: RepositoryRequestRecord,
) => void;

/**
 * Builds repositories of one `provider` value of `promotions.repositories`. Every provider is
 * added through `promotionsRepositoryProvidersExtensionPoint`: the promotions backend adds `git`
 * and `github` there, and a module adds others (GitLab, Bitbucket) the same way.
 *
 * @public
 */
export interface GitOpsRepositoryProvider {
  /** The `provider` value of `promotions.repositories[]` this provider serves. */
  readonly type: string;
  /** Builds the reader and writer of one configured repository; called once per repository. */
  create(context: RepositoryProviderContext): GitOpsRepository;
}
