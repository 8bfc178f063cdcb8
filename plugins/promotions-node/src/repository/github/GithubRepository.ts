import crypto from 'node:crypto';
import { LoggerService } from '@backstage/backend-plugin-api';
import {
  DefaultGithubCredentialsProvider,
  GithubCredentialsProvider,
  ScmIntegrationRegistry,
} from '@backstage/integration';
import { ConflictError, InputError, NotFoundError } from '@backstage/errors';
import { isBranchName } from '@gitops-promotions/plugin-promotions-common';
import { Octokit } from '@octokit/rest';
import {
  createGithubClient,
  DEFAULT_GITHUB_REQUEST_POLICY,
  GithubRequestPolicy,
  GithubRequestRecord,
  GithubUnavailableError,
  RateLimitGate,
  statusOf,
} from './githubClient';
import { gitBlobId } from '../directorySnapshot';
import { CommitIndex, IndexedCommit } from '../CommitIndex';
import { readTarball, WantedBlob } from './tarball';
import { isTagName, RepositoryTag, tagLimit } from '../tags';
import {
  CommitAuthor,
  CommitChecks,
  CommitInfo,
  Comparison,
  FileChange,
  GitOpsRepository,
  PullRequest,
  PullRequestReview,
  PullRequests,
  RepositorySnapshot,
  TreeFile,
} from '../types';

const REVIEW_STATES: Record<string, PullRequestReview['state']> = {
  APPROVED: 'approved',
  CHANGES_REQUESTED: 'changes-requested',
  COMMENTED: 'commented',
  DISMISSED: 'dismissed',
};

/** A pull request as GitHub answers it, as the workflow follows it. */
function toPullRequest(data: {
  number: number;
  html_url: string;
  state: string;
  merged_at?: string | null;
  merged?: boolean;
  merge_commit_sha?: string | null;
  head: { sha: string };
  base: { ref: string };
}): PullRequest {
  const merged = Boolean(data.merged || data.merged_at);
  return {
    number: data.number,
    url: data.html_url,
    state: merged ? 'merged' : (data.state as 'open' | 'closed'),
    base: data.base.ref,
    headCommit: data.head.sha,
    mergeCommit: merged ? data.merge_commit_sha ?? null : null,
  };
}

function checkRunState(
  status: string,
  conclusion: string | null,
): 'success' | 'pending' | 'failure' {
  if (status !== 'completed') return 'pending';
  return ['success', 'neutral', 'skipped'].includes(conclusion ?? '')
    ? 'success'
    : 'failure';
}

function statusState(state: string): 'success' | 'pending' | 'failure' {
  if (state === 'success') return 'success';
  return state === 'pending' ? 'pending' : 'failure';
}

export type { GithubRequestPolicy, GithubRequestRecord } from './githubClient';

const COMMIT_ID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
/** GitHub's largest page of commits. */
const MAX_PAGE = 100;
/** Branches whose last head is kept for conditional requests (the layout branches read, too). */
const MAX_BRANCH_HEADS = 64;
/** Pages of commits the history index lists below a head it has not seen grow from an older one. */
const INDEX_PAGES = 3;
const INDEX_WINDOW = MAX_PAGE * INDEX_PAGES;
/** Commits a new head may add above the indexed one and still extend the index rather than list. */
const MAX_INDEX_EXTENSION = MAX_PAGE;
/** Entries of one-level tree listings kept, read to tell what each indexed commit changed. */
const MAX_CHILD_TREE_ENTRIES = 200_000;
/** Changed files past which a new head's tree is read whole rather than told from its changes. */
const MAX_DERIVED_FILES = 32;
/** Blobs missing from the cache past which a commit's files are read from one tarball. */
const MIN_TARBALL_BLOBS = 64;
/** Files larger than this are left to blob requests (the resolver reads none this large). */
const MAX_TARBALL_FILE_BYTES = 1024 * 1024;
/** A tree whose files hold more than this is never downloaded whole. */
const MAX_TARBALL_TREE_BYTES = 256 * 1024 * 1024;
/** Trees with at most this many entries are listed whole for each indexed commit. */
const SMALL_TREE_ENTRIES = 2_000;
/** Changed directories below one directory past which both sides are listed recursively. */
const MAX_TREE_WALK_FANOUT = 8;
/** Path histories are read at least this deep, so a later deeper read is served from cache. */
const MIN_HISTORY_PAGE = 30;
const MAX_BLOB_CACHE_BYTES = 64 * 1024 * 1024;
/** Tree entries kept across all cached trees: a few full listings of a large monorepo. */
const MAX_TREE_CACHE_ENTRIES = 500_000;
/** Pages of tags kept with their ETags, for conditional requests: the default limit's ten, and more. */
const MAX_TAG_PAGES = 50;

/** @public */
export interface GithubRepositoryOptions {
  id: string;
  /** `https://<host>/<owner>/<repo>`, on github.com or a GitHub Enterprise host. */
  url: string;
  branch: string;
  /** Backstage's `integrations` config: the host's entry gives the API URL and credentials. */
  integrations: ScmIntegrationRegistry;
  /** Defaults to `DefaultGithubCredentialsProvider` over `integrations` (token or GitHub App). */
  credentialsProvider?: GithubCredentialsProvider;
  logger: LoggerService;
  requestPolicy?: Partial<GithubRequestPolicy>;
  /** Called for every request attempt sent to GitHub, for counting. */
  onRequest?: (request: GithubRequestRecord) => void;
  fetch?: typeof globalThis.fetch;
}

/** A commit as GitHub describes it: what history and older snapshots need to know. */
interface CommitMeta {
  info: CommitInfo;
  committedAt: number;
  tree: string;
  parents: string[];
}

/** A tree read in full: its files, and the object id of every path in it (blobs and trees). */
interface TreeListing {
  files: Map<string, TreeFile>;
  objects: Map<string, string>;
  /** The paths of `objects` that are directories. */
  trees: Set<string>;
  /** The mode of each entry that is not a directory, to compute tree ids from a change. */
  modes: Map<string, string>;
}

/** One directory's entries, by name: its object id and whether it is a directory. */
type TreeChildren = Map<string, { sha: string; tree: boolean }>;

/**
 * One side of a tree comparison: a tree's id and, when a recursive listing holding it is known,
 * that listing and the tree's path in it, so that its entries are read without a request.
 */
interface TreeSide {
  sha: string;
  listing?: TreeListing;
  at: string;
}

/** A path's history below one commit: the first `limit` commits, all of them when fewer. */
interface PathHistory {
  limit: number;
  commits: CommitMeta[];
}

/** A Map that forgets the least recently used entries once their total weight exceeds `max`. */
class LruMap<K, V> {
  private readonly entries = new Map<K, { value: V; weight: number }>();
  private total = 0;

  constructor(
    private readonly max: number,
    private readonly weigh: (value: V) => number = () => 1,
  ) {}

  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: K, value: V) {
    this.delete(key);
    const weight = this.weigh(value);
    this.entries.set(key, { value, weight });
    this.total += weight;
    while (this.total > this.max && this.entries.size > 1) {
      this.delete(this.entries.keys().next().value!);
    }
  }

  /** The values, least recently used first, without counting as a use. */
  *values(): IterableIterator<V> {
    for (const entry of this.entries.values()) yield entry.value;
  }

  delete(key: K) {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.total -= entry.weight;
  }
}

/** Git's id of a tree holding these entries, as `git mktree` computes it. */
function treeId(entries: Array<{ name: string; mode: string; sha: string }>) {
  // Git orders entries by name, a directory's name as if it ended in a slash.
  const key = (e: { name: string; mode: string }) =>
    Buffer.from(e.mode === '40000' ? `${e.name}/` : e.name);
  const sorted = entries
    .map(entry => ({ entry, key: key(entry) }))
    .sort((a, b) => Buffer.compare(a.key, b.key));
  const body = Buffer.concat(
    sorted.flatMap(({ entry }) => [
      Buffer.from(`${entry.mode} ${entry.name}\0`),
      Buffer.from(entry.sha, 'hex'),
    ]),
  );
  return crypto
    .createHash('sha1')
    .update(`tree ${body.length}\0`)
    .update(body)
    .digest('hex');
}

/** Shares one in-flight promise per key, and forgets it once settled. */
function once<T>(
  inflight: Map<string, Promise<unknown>>,
  key: string,
  load: () => Promise<T>,
): Promise<T> {
  let pending = inflight.get(key) as Promise<T> | undefined;
  if (!pending) {
    pending = load().finally(() => inflight.delete(key));
    inflight.set(key, pending);
  }
  return pending;
}

/** Splits `https://<host>/<owner>/<repo>` into its parts. */
export function parseGithubRepositoryUrl(url: string): {
  host: string;
  owner: string;
  repo: string;
} {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(
      `"${url}" is not a URL; expected https://<host>/<owner>/<repo>`,
    );
  }
  const parts = parsed.pathname
    .replace(/\/+$/, '')
    .replace(/\.git$/, '')
    .split('/')
    .filter(Boolean);
  if (
    !/^https?:$/.test(parsed.protocol) ||
    parts.length !== 2 ||
    parsed.search ||
    parsed.hash
  ) {
    throw new Error(
      `"${url}" is not a GitHub repository URL; expected https://<host>/<owner>/<repo>`,
    );
  }
  return {
    host: parsed.host,
    owner: decodeURIComponent(parts[0]),
    repo: decodeURIComponent(parts[1]),
  };
}

/** A repository path as git and GitHub match it, or undefined when it is not a plain path. */
function plainPath(path: string): string | undefined {
  const trimmed = path.replace(/\/+$/, '');
  if (
    !trimmed ||
    trimmed.startsWith('/') ||
    trimmed.split('/').some(s => s === '' || s === '.' || s === '..')
  ) {
    return undefined;
  }
  return trimmed;
}

/**
 * The `github` provider: reads a repository through GitHub's REST API with the credentials of
 * Backstage's GitHub integration for its host. A refresh of an unchanged branch is one
 * conditional request; otherwise the tree is read whole and only blobs not seen before are
 * fetched. Commits, trees, blobs and histories below a commit never change, so they are
 * cached by id.
 *
 * @public
 */
export class GithubRepository implements GitOpsRepository {
  readonly id: string;
  readonly branch: string;
  private readonly url: string;
  private readonly host: string;
  private readonly owner: string;
  private readonly repo: string;
  private readonly apiBaseUrl: string;
  private readonly credentials: GithubCredentialsProvider;
  private readonly logger: LoggerService;
  private readonly policy: GithubRequestPolicy;
  private readonly gate: RateLimitGate;
  private readonly onRequest?: (request: GithubRequestRecord) => void;
  private readonly fetch?: typeof globalThis.fetch;
  private client?: { token: string | undefined; octokit: Octokit };
  private requests = 0;

  /** The last head read of each branch, answered again while GitHub says it is unchanged. */
  private readonly heads = new LruMap<
    string,
    { etag: string | undefined; snapshot: RepositorySnapshot }
  >(MAX_BRANCH_HEADS);
  private readonly commits = new LruMap<string, CommitMeta>(5000);
  private readonly trees = new LruMap<string, TreeListing>(
    MAX_TREE_CACHE_ENTRIES,
    tree => tree.objects.size,
  );
  private readonly histories = new LruMap<string, PathHistory>(5000);
  /** The last answer of each page of tags, answered again while GitHub says it is unchanged. */
  private readonly tagPages = new LruMap<
    number,
    { etag: string | undefined; tags: RepositoryTag[]; more: boolean }
  >(MAX_TAG_PAGES);
  /** The commit index of the last head read, grown from the one before it when it can be. */
  private index?: { head: string; built: Promise<CommitIndex | undefined> };
  /** What each indexed commit changed, by commit id: kept across heads, as commits never change. */
  private readonly changes = new LruMap<string, IndexedCommit>(
    INDEX_WINDOW * 4,
  );
  private readonly childTrees = new LruMap<string, TreeChildren>(
    MAX_CHILD_TREE_ENTRIES,
    children => children.size + 1,
  );
  private readonly listingChildren = new WeakMap<
    TreeListing,
    Map<string, TreeChildren>
  >();
  private readonly blobs = new Map<string, Buffer>();
  /** Commits whose tarball is read, was read, or was found not worth reading. */
  private readonly prefetched = new LruMap<string, Promise<void>>(1000);
  private blobBytes = 0;
  private readonly inflight = new Map<string, Promise<unknown>>();
  private readonly betweens = new LruMap<string, Set<string>>(
    100_000,
    ids => ids.size + 1,
  );

  constructor(options: GithubRepositoryOptions) {
    this.id = options.id;
    this.branch = options.branch;
    this.logger = options.logger;
    this.onRequest = options.onRequest;
    this.fetch = options.fetch;
    const where = `Repository ${options.id}`;
    const { host, owner, repo } = parseGithubRepositoryUrl(options.url);
    this.url = `https://${host}/${owner}/${repo}`;
    this.host = host;
    this.owner = owner;
    this.repo = repo;
    const integration = options.integrations.github.byHost(host);
    if (!integration) {
      throw new Error(
        `${where}: there is no integrations.github entry for the host ${host}; add one with its apiBaseUrl and a token or GitHub App`,
      );
    }
    if (!integration.config.apiBaseUrl) {
      throw new Error(
        `${where}: the integrations.github entry for the host ${host} has no apiBaseUrl`,
      );
    }
    this.apiBaseUrl = integration.config.apiBaseUrl.replace(/\/+$/, '');
    this.credentials =
      options.credentialsProvider ??
      DefaultGithubCredentialsProvider.fromIntegrations(options.integrations);
    this.policy = {
      ...DEFAULT_GITHUB_REQUEST_POLICY,
      ...options.requestPolicy,
    };
    this.gate = new RateLimitGate(host, this.policy.maxRateLimitWaitMs);
    if (!isBranchName(this.branch)) {
      throw new Error(`${where}: "${this.branch}" is not a valid branch name`);
    }
  }

  /** Requests sent to GitHub so far, every attempt counted. */
  get requestCount(): number {
    return this.requests;
  }

  async snapshot(branch: string = this.branch): Promise<RepositorySnapshot> {
    this.checkBranch(branch);
    const octokit = await this.octokit();
    const previous = this.heads.get(branch);
    let response;
    try {
      response = await octokit.rest.git.getRef({
        owner: this.owner,
        repo: this.repo,
        ref: `heads/${branch}`,
        headers: previous?.etag ? { 'if-none-match': previous.etag } : {},
      });
    } catch (error) {
      if (statusOf(error) === 304 && previous) return previous.snapshot;
      const explained = this.explain(error, `branch "${branch}"`);
      throw statusOf(error) === 404
        ? new NotFoundError(explained.message)
        : explained;
    }
    if (response.data.object.type !== 'commit') {
      throw new Error(
        `Repository ${this.id}: refs/heads/${branch} points to a ${response.data.object.type}, not a commit`,
      );
    }
    const head = response.data.object.sha;
    if (previous && previous.snapshot.commit !== head) {
      await this.deriveTree(previous.snapshot.commit, head).catch(error =>
        this.logger.debug(
          `Repository ${this.id}: could not tell ${head}'s tree from its changes, reading it whole: ${error}`,
        ),
      );
    }
    const snapshot = await this.snapshotAt(head);
    this.heads.set(branch, { etag: response.headers.etag, snapshot });
    return snapshot;
  }

  async snapshotAt(commit: string): Promise<RepositorySnapshot> {
    if (!COMMIT_ID.test(commit))
      throw new Error(`"${commit}" is not a commit id`);
    const meta = await this.commit(commit);
    const { files } = await this.tree(meta.tree);
    return {
      commit,
      files,
      readFile: async path => {
        const file = files.get(path);
        if (!file) return undefined;
        if (!this.blobs.has(file.oid)) await this.prefetch(commit, files);
        return this.blob(file.oid);
      },
    };
  }

  /**
   * Reads the files of a commit not cached yet from one tarball of the commit, when there are
   * many: one download instead of a request per blob. Only content whose blob id is the one the
   * tree names is kept; what the archive lacks or holds otherwise (a `.gitattributes` filter, a
   * failed download) is read blob by blob. Tried once per commit.
   */
  private prefetch(
    commit: string,
    files: Map<string, TreeFile>,
  ): Promise<void> {
    let read = this.prefetched.get(commit);
    if (!read) {
      read = this.readTarball(commit, files);
      this.prefetched.set(commit, read);
    }
    return read;
  }

  private async readTarball(commit: string, files: Map<string, TreeFile>) {
    const wanted = new Map<string, WantedBlob>();
    let treeBytes = 0;
    let wantedBytes = 0;
    for (const file of files.values()) {
      treeBytes += file.size;
      if (
        file.size <= MAX_TARBALL_FILE_BYTES &&
        !this.blobs.has(file.oid) &&
        !wanted.has(file.oid)
      ) {
        wanted.set(file.oid, { path: file.path, size: file.size });
        wantedBytes += file.size;
      }
    }
    if (
      wanted.size < MIN_TARBALL_BLOBS ||
      treeBytes > MAX_TARBALL_TREE_BYTES ||
      wantedBytes > MAX_BLOB_CACHE_BYTES / 2
    ) {
      return;
    }
    try {
      const octokit = await this.octokit();
      const { data } = await octokit.rest.repos.downloadTarballArchive({
        owner: this.owner,
        repo: this.repo,
        ref: commit,
        request: { parseSuccessResponseBody: false },
      });
      const read = await readTarball(
        data as unknown as AsyncIterable<Uint8Array>,
        wanted,
        {
          // Every entry's content, and at most a few header blocks each.
          maxBytes: treeBytes + (files.size + 64) * 4 * 512,
          maxFileBytes: MAX_TARBALL_FILE_BYTES,
        },
      );
      for (const [oid, content] of read) this.cacheBlob(oid, content);
      this.logger.debug(
        `Repository ${this.id}: read ${read.size} of ${wanted.size} files of ${commit} from its tarball`,
      );
    } catch (error) {
      this.logger.warn(
        `Repository ${
          this.id
        }: could not read the tarball of ${commit}, reading its files one by one: ${
          this.explain(error, `the tarball of ${commit}`).message
        }`,
      );
    }
  }

  async history(
    commit: string,
    paths: string[],
    limit: number,
    options: { since?: string } = {},
  ): Promise<CommitInfo[]> {
    if (!COMMIT_ID.test(commit))
      throw new Error(`"${commit}" is not a commit id`);
    const wanted = Math.max(1, Math.floor(limit));
    const unique = [...new Set(paths)];
    if (unique.length === 0) return [];
    if (options.since) this.checkCommit(options.since);
    if (unique.every(path => plainPath(path) !== undefined)) {
      const index = await this.commitIndex(commit);
      const known = index?.history(unique, wanted, options.since);
      if (known) return known;
    }
    const between = options.since
      ? await this.between(options.since, commit)
      : undefined;
    const depth = between ? Math.max(wanted, between.size) : wanted;
    const lists: CommitMeta[][] = [];
    for (const path of unique) {
      const list = await this.pathHistory(commit, path, depth);
      lists.push(between ? list.filter(c => between.has(c.info.sha)) : list);
    }
    // Each list is newest first; merging them by commit time keeps that order, once per commit.
    const merged: CommitMeta[] = [];
    const seen = new Set<string>();
    const heads = lists.map(() => 0);
    while (merged.length < wanted) {
      let pick = -1;
      lists.forEach((list, i) => {
        if (
          heads[i] < list.length &&
          (pick < 0 ||
            list[heads[i]].committedAt > lists[pick][heads[pick]].committedAt)
        ) {
          pick = i;
        }
      });
      if (pick < 0) break;
      const next = lists[pick][heads[pick]++];
      if (!seen.has(next.info.sha)) {
        seen.add(next.info.sha);
        merged.push(next);
      }
    }
    return merged.map(meta => ({ ...meta.info }));
  }

  async branchHead(branch: string): Promise<string | undefined> {
    this.checkBranch(branch);
    const octokit = await this.octokit();
    try {
      const { data } = await octokit.rest.git.getRef({
        owner: this.owner,
        repo: this.repo,
        ref: `heads/${branch}`,
      });
      return data.object.type === 'commit' ? data.object.sha : undefined;
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw this.explain(error, `branch "${branch}"`);
    }
  }

  async tags(options: { limit?: number } = {}): Promise<RepositoryTag[]> {
    const limit = tagLimit(options.limit);
    const tags: RepositoryTag[] = [];
    for (let page = 1; tags.length < limit; page++) {
      const listed = await this.tagPage(page);
      tags.push(...listed.tags);
      if (!listed.more) break;
    }
    return tags.slice(0, limit);
  }

  /** One page of `GET /repos/{owner}/{repo}/tags`, conditional on the last answer to it. */
  private async tagPage(
    page: number,
  ): Promise<{ tags: RepositoryTag[]; more: boolean }> {
    const octokit = await this.octokit();
    const previous = this.tagPages.get(page);
    let response;
    try {
      response = await octokit.rest.repos.listTags({
        owner: this.owner,
        repo: this.repo,
        per_page: MAX_PAGE,
        page,
        headers: previous?.etag ? { 'if-none-match': previous.etag } : {},
      });
    } catch (error) {
      if (statusOf(error) === 304 && previous) return previous;
      throw this.explain(error, 'the tags');
    }
    const listed = {
      etag: response.headers.etag,
      // GitHub lists each tag with the commit it names, annotated tags already peeled.
      tags: response.data
        .filter(tag => isTagName(tag.name) && COMMIT_ID.test(tag.commit.sha))
        .map(tag => ({ name: tag.name, commit: tag.commit.sha })),
      more: /\brel="next"/.test(response.headers.link ?? ''),
    };
    this.tagPages.set(page, listed);
    return listed;
  }

  async createBranch(branch: string, commit: string): Promise<void> {
    this.checkBranch(branch);
    this.checkCommit(commit);
    const octokit = await this.octokit();
    await octokit.rest.git
      .createRef({
        owner: this.owner,
        repo: this.repo,
        ref: `refs/heads/${branch}`,
        sha: commit,
      })
      .catch(error => {
        if (statusOf(error) === 422) {
          throw new ConflictError(
            `Repository ${this.id}: branch ${branch} already exists`,
          );
        }
        throw this.explain(error, `a new branch ${branch}`, 'write');
      });
  }

  async commitFiles(options: {
    branch: string;
    parent: string;
    message: string;
    author: CommitAuthor;
    changes: FileChange[];
  }): Promise<string> {
    const { branch, parent, changes } = options;
    this.checkBranch(branch);
    this.checkCommit(parent);
    const octokit = await this.octokit();
    const base = await this.commit(parent);
    const listing = await this.tree(base.tree);
    for (const { path } of changes) {
      const segments = path.split('/');
      for (let i = 1; i < segments.length; i++) {
        const prefix = segments.slice(0, i).join('/');
        const object = listing.objects.get(prefix);
        if (object && !listing.trees.has(prefix)) {
          throw new InputError(
            `Repository ${this.id} has a file or link at ${prefix}, where the change needs a directory`,
          );
        }
      }
    }
    const where = `a commit on ${branch}`;
    const entries = [];
    for (const change of changes) {
      if (change.content === null) {
        entries.push({
          path: change.path,
          mode: '100644' as const,
          type: 'blob' as const,
          sha: null,
        });
        continue;
      }
      const { data: blob } = await octokit.rest.git
        .createBlob({
          owner: this.owner,
          repo: this.repo,
          content: change.content.toString('base64'),
          encoding: 'base64',
        })
        .catch(error => {
          throw this.explain(error, where, 'write');
        });
      entries.push({
        path: change.path,
        mode: '100644' as const,
        type: 'blob' as const,
        sha: blob.sha,
      });
    }
    const { data: tree } = await octokit.rest.git
      .createTree({
        owner: this.owner,
        repo: this.repo,
        base_tree: base.tree,
        tree: entries,
      })
      .catch(error => {
        throw this.explain(error, where, 'write');
      });
    const { data: commit } = await octokit.rest.git
      .createCommit({
        owner: this.owner,
        repo: this.repo,
        message: options.message,
        tree: tree.sha,
        parents: [parent],
        author: { name: options.author.name, email: options.author.email },
      })
      .catch(error => {
        throw this.explain(error, where, 'write');
      });
    // Without force, GitHub moves the branch only forward: a branch moved since is refused.
    await octokit.rest.git
      .updateRef({
        owner: this.owner,
        repo: this.repo,
        ref: `heads/${branch}`,
        sha: commit.sha,
        force: false,
      })
      .catch(error => {
        if (statusOf(error) === 422) {
          throw new ConflictError(
            `Repository ${this.id}: branch ${branch} is no longer at ${parent}`,
          );
        }
        throw this.explain(error, where, 'write');
      });
    return commit.sha;
  }

  async compare(base: string, head: string): Promise<Comparison> {
    this.checkCommit(base);
    this.checkCommit(head);
    const known = this.knownComparison(base, head);
    if (known) return known;
    const octokit = await this.octokit();
    const commits: CommitInfo[] = [];
    const files = new Set<string>();
    let behindBy = 0;
    for (let page = 1; ; page++) {
      const { data } = await octokit.rest.repos
        .compareCommitsWithBasehead({
          owner: this.owner,
          repo: this.repo,
          basehead: `${base}...${head}`,
          per_page: MAX_PAGE,
          page,
        })
        .catch(error => {
          throw this.explain(error, `${base}...${head}`);
        });
      behindBy = data.behind_by;
      for (const item of data.commits) {
        commits.push(this.rememberListed(item).info);
      }
      for (const file of data.files ?? []) {
        files.add(file.filename);
        if (file.previous_filename) files.add(file.previous_filename);
      }
      if (
        data.commits.length < MAX_PAGE ||
        commits.length >= data.total_commits
      ) {
        break;
      }
    }
    // Commit ids name their content: what lies between two of them never changes.
    this.betweens.set(`${base}...${head}`, new Set(commits.map(c => c.sha)));
    return {
      commits: commits.map(c => ({ ...c })),
      behindBy,
      files: [...files],
    };
  }

  async merge(options: {
    source: string;
    expectedHead: string;
    target: string;
    message: string;
    author: CommitAuthor;
  }): Promise<string> {
    const { source, expectedHead, target } = options;
    this.checkBranch(target);
    this.checkCommit(expectedHead);
    const head = await this.branchHead(source);
    if (head !== expectedHead) {
      throw new ConflictError(
        `Repository ${this.id}: branch ${source} is at ${
          head ?? 'nothing'
        }, not at ${expectedHead}; it changed since it was reviewed`,
      );
    }
    const octokit = await this.octokit();
    // Naming the commit rather than the branch merges exactly what was reviewed.
    const response = await octokit.rest.repos
      .merge({
        owner: this.owner,
        repo: this.repo,
        base: target,
        head: expectedHead,
        commit_message: options.message,
      })
      .catch(error => {
        if (statusOf(error) === 409) {
          throw new ConflictError(
            `Repository ${this.id}: ${source} conflicts with ${target}`,
          );
        }
        throw this.explain(error, `a merge into ${target}`, 'write');
      });
    // 204: nothing to merge, the target already holds the commit.
    if ((response.status as number) === 204 || !response.data?.sha) {
      const current = await this.branchHead(target);
      if (!current) {
        throw new ConflictError(
          `Repository ${this.id}: branch ${target} does not exist`,
        );
      }
      return current;
    }
    return response.data.sha;
  }

  /** Pull requests on GitHub: where a promotion is reviewed, checked and merged. */
  readonly pullRequests: PullRequests = {
    open: async ({ branch, base, title, body }) => {
      const existing = await this.pullRequests.find(branch);
      if (existing) return existing;
      const octokit = await this.octokit();
      const { data } = await octokit.rest.pulls
        .create({
          owner: this.owner,
          repo: this.repo,
          head: branch,
          base,
          title,
          body,
        })
        .catch(error => {
          throw this.explain(error, `a pull request from ${branch}`, 'write');
        });
      return toPullRequest(data);
    },
    find: async branch => {
      const octokit = await this.octokit();
      const { data } = await octokit.rest.pulls
        .list({
          owner: this.owner,
          repo: this.repo,
          head: `${this.owner}:${branch}`,
          state: 'open',
          per_page: 1,
        })
        .catch(error => {
          throw this.explain(error, `the pull requests of ${branch}`);
        });
      return data[0] ? toPullRequest(data[0]) : undefined;
    },
    get: async number => {
      const octokit = await this.octokit();
      const { data } = await octokit.rest.pulls
        .get({ owner: this.owner, repo: this.repo, pull_number: number })
        .catch(error => {
          throw this.explain(error, `pull request #${number}`);
        });
      return toPullRequest(data);
    },
    merge: async ({ number, expectedHead, title }) => {
      this.checkCommit(expectedHead);
      const octokit = await this.octokit();
      // Naming the head merges exactly what was reviewed, or nothing.
      const { data } = await octokit.rest.pulls
        .merge({
          owner: this.owner,
          repo: this.repo,
          pull_number: number,
          sha: expectedHead,
          merge_method: 'merge',
          commit_title: title,
        })
        .catch(error => {
          const status = statusOf(error);
          if (status === 409) {
            throw new ConflictError(
              `Repository ${this.id}: pull request #${number} changed since it was reviewed; it was not merged`,
            );
          }
          if (status === 405) {
            throw new ConflictError(
              `Repository ${
                this.id
              }: GitHub will not merge pull request #${number}: ${
                (error as Error).message
              }`,
            );
          }
          throw this.explain(error, `a merge of #${number}`, 'write');
        });
      return data.sha;
    },
    close: async (number, comment) => {
      const octokit = await this.octokit();
      if (comment) await this.pullRequests.comment(number, comment);
      await octokit.rest.pulls
        .update({
          owner: this.owner,
          repo: this.repo,
          pull_number: number,
          state: 'closed',
        })
        .catch(error => {
          throw this.explain(error, `pull request #${number}`, 'write');
        });
    },
    comment: async (number, body) => {
      const octokit = await this.octokit();
      await octokit.rest.issues
        .createComment({
          owner: this.owner,
          repo: this.repo,
          issue_number: number,
          body,
        })
        .catch(error => {
          throw this.explain(error, `a comment on #${number}`, 'write');
        });
    },
    reviews: async number => {
      const octokit = await this.octokit();
      const { data } = await octokit.rest.pulls
        .listReviews({
          owner: this.owner,
          repo: this.repo,
          pull_number: number,
          per_page: 100,
        })
        .catch(error => {
          throw this.explain(error, `the reviews of #${number}`);
        });
      return data.map(review => ({
        user: review.user?.login ?? '',
        state: REVIEW_STATES[review.state] ?? 'commented',
        at: review.submitted_at ?? '',
        body: review.body ?? '',
        commit: review.commit_id ?? null,
      }));
    },
    checks: async commit => {
      this.checkCommit(commit);
      const octokit = await this.octokit();
      const [runs, status] = await Promise.all([
        octokit.rest.checks.listForRef({
          owner: this.owner,
          repo: this.repo,
          ref: commit,
          per_page: 100,
        }),
        octokit.rest.repos.getCombinedStatusForRef({
          owner: this.owner,
          repo: this.repo,
          ref: commit,
        }),
      ]).catch(error => {
        throw this.explain(error, `the checks of ${commit}`);
      });
      const checks: CommitChecks['checks'] = [
        ...runs.data.check_runs.map(run => ({
          name: run.name,
          state: checkRunState(run.status, run.conclusion),
          url: run.html_url ?? null,
        })),
        ...status.data.statuses.map(s => ({
          name: s.context,
          state: statusState(s.state),
          url: s.target_url ?? null,
        })),
      ];
      let state: CommitChecks['state'] = 'none';
      if (checks.some(c => c.state === 'failure')) state = 'failure';
      else if (checks.some(c => c.state === 'pending')) state = 'pending';
      else if (checks.length > 0) state = 'success';
      return { state, checks };
    },
  };

  branchUrl(branch: string): string {
    return `${this.url}/tree/${branch}`;
  }

  async deleteBranch(branch: string, expectedHead?: string): Promise<void> {
    const head = await this.branchHead(branch);
    if (!head) return;
    this.heads.delete(branch);
    if (expectedHead && head !== expectedHead) {
      throw new ConflictError(
        `Repository ${this.id}: branch ${branch} moved to ${head}; not deleting it`,
      );
    }
    const octokit = await this.octokit();
    await octokit.rest.git
      .deleteRef({ owner: this.owner, repo: this.repo, ref: `heads/${branch}` })
      .catch(error => {
        if (statusOf(error) === 422) return;
        throw this.explain(error, `branch ${branch}`, 'write');
      });
  }

  /**
   * The tree of `head`, a few commits above `base` whose tree is held, told from what the
   * commits changed: one comparison instead of the whole tree again, which for a large
   * repository is the costliest answer GitHub gives. The tree's id is computed from the result
   * and must be the one the head commit names, or nothing is kept (and the tree is read whole).
   * Only few files may change, whose blobs are read for their sizes (and cached for reading).
   */
  private async deriveTree(base: string, head: string): Promise<void> {
    const baseMeta = this.commits.get(base);
    const before = baseMeta && this.trees.get(baseMeta.tree);
    if (!before) return;
    const octokit = await this.octokit();
    const { data } = await octokit.rest.repos.compareCommitsWithBasehead({
      owner: this.owner,
      repo: this.repo,
      basehead: `${base}...${head}`,
      per_page: MAX_PAGE,
    });
    const files = data.files ?? [];
    if (
      data.status !== 'ahead' ||
      data.commits.length !== data.total_commits ||
      data.commits.length >= MAX_PAGE ||
      files.length > MAX_DERIVED_FILES
    ) {
      return;
    }
    for (const item of data.commits) {
      this.rememberListed(item);
    }
    const headMeta = this.commits.get(head);
    if (!headMeta || this.trees.get(headMeta.tree)) return;
    const removed = new Set<string>();
    const written = new Map<string, string>();
    for (const file of files) {
      if (file.previous_filename) removed.add(file.previous_filename);
      if (file.status === 'removed') removed.add(file.filename);
      else if (file.sha && COMMIT_ID.test(file.sha)) {
        written.set(file.filename, file.sha);
      } else return;
    }
    const sizes = new Map<string, number>();
    await Promise.all(
      [...written.values()].map(async oid =>
        sizes.set(oid, (await this.blob(oid)).length),
      ),
    );
    const listing: TreeListing = {
      files: new Map(before.files),
      objects: new Map(before.objects),
      trees: new Set(before.trees),
      modes: new Map(before.modes),
    };
    const touched = new Set<string>(['']);
    const parentOf = (path: string) => {
      const cut = path.lastIndexOf('/');
      return cut < 0 ? '' : path.slice(0, cut);
    };
    const touch = (path: string) => {
      for (let dir = parentOf(path); ; dir = parentOf(dir)) {
        touched.add(dir);
        if (!dir) break;
      }
    };
    for (const path of removed) {
      if (written.has(path) || listing.trees.has(path)) continue;
      listing.files.delete(path);
      listing.objects.delete(path);
      listing.modes.delete(path);
      touch(path);
    }
    for (const [path, oid] of written) {
      if (listing.trees.has(path)) return;
      const mode = listing.modes.get(path) ?? '100644';
      listing.objects.set(path, oid);
      listing.modes.set(path, mode);
      if (mode !== '120000') {
        listing.files.set(path, { path, oid, size: sizes.get(oid)! });
      }
      touch(path);
    }
    // Directories are named by their content: each touched one, deepest first, is hashed again.
    const children = new Map<string, string[]>();
    for (const path of listing.objects.keys()) {
      const dir = parentOf(path);
      if (!touched.has(dir)) continue;
      const list = children.get(dir);
      if (list) list.push(path);
      else children.set(dir, [path]);
    }
    const depth = (dir: string) => (dir ? dir.split('/').length : 0);
    let root: string | undefined;
    for (const dir of [...touched].sort((a, b) => depth(b) - depth(a))) {
      const entries = (children.get(dir) ?? []).filter(path =>
        listing.objects.has(path),
      );
      if (entries.length === 0 && dir) {
        listing.objects.delete(dir);
        listing.trees.delete(dir);
        continue;
      }
      const id = treeId(
        entries.map(path => ({
          name: dir ? path.slice(dir.length + 1) : path,
          mode: listing.trees.has(path) ? '40000' : listing.modes.get(path)!,
          sha: listing.objects.get(path)!,
        })),
      );
      if (!dir) root = id;
      else {
        if (!listing.objects.has(dir)) {
          const siblings = children.get(parentOf(dir));
          if (siblings) siblings.push(dir);
          else children.set(parentOf(dir), [dir]);
        }
        listing.objects.set(dir, id);
        listing.trees.add(dir);
      }
    }
    if (root !== headMeta.tree) {
      throw new Error(
        `the tree told from ${files.length} changed files is ${root}, not ${headMeta.tree}`,
      );
    }
    this.trees.set(headMeta.tree, listing);
  }

  /** Commits reachable from `head` but not from `base`, by id; GitHub's compare lists them. */
  /**
   * What `head` adds to `base` when every commit from one to the other is known here and has one
   * parent, with both trees: told without a request, as after a push on top of the last head read.
   */
  private knownComparison(base: string, head: string): Comparison | undefined {
    const added: CommitMeta[] = [];
    for (let at = head; at !== base; ) {
      const meta = this.commits.get(at);
      if (!meta || meta.parents.length !== 1 || added.length >= MAX_PAGE) {
        return undefined;
      }
      added.push(meta);
      at = meta.parents[0];
    }
    const baseTree = this.trees.get(this.commits.get(base)?.tree ?? '');
    const headTree = this.trees.get(this.commits.get(head)?.tree ?? '');
    if (!baseTree || !headTree) return undefined;
    const files = new Set<string>();
    for (const [listing, other] of [
      [headTree, baseTree],
      [baseTree, headTree],
    ]) {
      for (const [path, oid] of listing.objects) {
        if (!listing.trees.has(path) && other.objects.get(path) !== oid) {
          files.add(path);
        }
      }
    }
    return {
      commits: added.reverse().map(meta => ({ ...meta.info })),
      behindBy: 0,
      files: [...files].sort(),
    };
  }

  private async between(base: string, head: string): Promise<Set<string>> {
    this.checkCommit(base);
    const key = `${base}...${head}`;
    const cached = this.betweens.get(key);
    if (cached) return cached;
    const { commits } = await this.compare(base, head);
    const ids = new Set(commits.map(c => c.sha));
    this.betweens.set(key, ids);
    return ids;
  }

  private checkCommit(commit: string) {
    if (!COMMIT_ID.test(commit)) {
      throw new Error(`"${commit}" is not a commit id`);
    }
  }

  private checkBranch(branch: string) {
    if (!isBranchName(branch)) {
      throw new InputError(`"${branch}" is not a valid branch name`);
    }
  }

  /**
   * The index of the commits below `commit` when it is the head of a branch read last; undefined
   * for an older commit, which is asked about path by path. A head that grew from the one indexed
   * before it extends that index from what is already known; any other is listed, at most
   * `INDEX_WINDOW` commits, in `INDEX_PAGES` requests.
   */
  private async commitIndex(commit: string): Promise<CommitIndex | undefined> {
    if (this.index?.head === commit) return this.index.built;
    const isHead = [...this.heads.values()].some(
      head => head.snapshot.commit === commit,
    );
    if (!isHead) return undefined;
    const previous = this.index;
    const built = this.buildIndex(commit, previous?.built).catch(error => {
      this.logger.debug(
        `Repository ${this.id}: could not index the history below ${commit}, reading it path by path: ${error}`,
      );
      if (this.index?.head === commit) this.index = undefined;
      return undefined;
    });
    this.index = { head: commit, built };
    return built;
  }

  private async buildIndex(
    head: string,
    previous: Promise<CommitIndex | undefined> | undefined,
  ): Promise<CommitIndex> {
    const prior = await previous;
    const newer = prior && (await this.commitsAbove(head, prior));
    if (prior && newer) {
      const indexed = await Promise.all(newer.map(meta => this.indexed(meta)));
      return prior.extendedTo(head, indexed, INDEX_WINDOW);
    }
    const octokit = await this.octokit();
    const listed: CommitMeta[] = [];
    let complete = false;
    for (let page = 1; page <= INDEX_PAGES; page++) {
      const { data } = await octokit.rest.repos
        .listCommits({
          owner: this.owner,
          repo: this.repo,
          sha: head,
          per_page: MAX_PAGE,
          page,
        })
        .catch(error => {
          throw this.explain(error, `the history of ${head}`);
        });
      for (const item of data) {
        listed.push(this.rememberListed(item));
      }
      if (data.length < MAX_PAGE) {
        complete = true;
        break;
      }
    }
    if (listed[0]?.info.sha !== head) {
      throw new Error(
        `GitHub listed the history of ${head} from another commit`,
      );
    }
    const indexed: IndexedCommit[] = [];
    for (const meta of listed) indexed.push(await this.indexed(meta));
    return new CommitIndex(head, indexed, complete);
  }

  /**
   * The commits above the indexed head up to `head`, newest first, when they are a line of
   * commits with one parent each, all known here, and few: then they come first in `git log`
   * order whatever their dates. Undefined otherwise (a merge, a force push, a branch reset):
   * the history is listed again.
   */
  private async commitsAbove(
    head: string,
    prior: CommitIndex,
  ): Promise<CommitMeta[] | undefined> {
    const above: CommitMeta[] = [];
    for (let sha = head; sha !== prior.head; ) {
      const meta = this.commits.get(sha);
      if (
        !meta ||
        meta.parents.length !== 1 ||
        above.length >= MAX_INDEX_EXTENSION
      ) {
        return undefined;
      }
      above.push(meta);
      sha = meta.parents[0];
    }
    return above.length > 0 ? above : undefined;
  }

  /** A commit with the paths it changed, from each parent when it is a merge. */
  private async indexed(meta: CommitMeta): Promise<IndexedCommit> {
    const cached = this.changes.get(meta.info.sha);
    if (cached) return cached;
    let commit: IndexedCommit;
    if (meta.parents.length === 0) {
      const files: string[] = [];
      await this.listAll({ sha: meta.tree, at: '' }, '', files);
      commit = { info: meta.info, parents: [], files };
    } else {
      const byParent: string[][] = [];
      for (const parent of meta.parents) {
        const parentMeta = await this.commit(parent);
        const files: string[] = [];
        const side = (tree: string) =>
          this.smallTrees() ? this.listedSide(tree) : this.rootSide(tree);
        await this.diffTrees(
          await side(parentMeta.tree),
          await side(meta.tree),
          '',
          files,
        );
        byParent.push(files);
      }
      commit =
        meta.parents.length === 1
          ? { info: meta.info, parents: meta.parents, files: byParent[0] }
          : {
              info: meta.info,
              parents: meta.parents,
              files: [],
              filesByParent: byParent,
            };
    }
    this.changes.set(meta.info.sha, commit);
    return commit;
  }

  /**
   * Whether the last head's tree is small enough that a commit's whole listing (one request)
   * costs less than walking the directories it changed (one request each).
   */
  private smallTrees(): boolean {
    const head = this.index && this.commits.get(this.index.head);
    const listing = head && this.trees.get(head.tree);
    return listing !== undefined && listing.objects.size <= SMALL_TREE_ENTRIES;
  }

  private rootSide(sha: string): TreeSide {
    return { sha, listing: this.trees.get(sha), at: '' };
  }

  /** The side with the recursive listing of its own tree, when one is held. */
  private held(side: TreeSide): TreeSide {
    if (side.listing) return side;
    const listing = this.trees.get(side.sha);
    return listing ? { sha: side.sha, listing, at: '' } : side;
  }

  private async listedSide(sha: string): Promise<TreeSide> {
    return { sha, listing: await this.tree(sha), at: '' };
  }

  /** Adds to `out` every file path that differs between two trees, below `prefix`. */
  private async diffTrees(
    leftTree: TreeSide,
    rightTree: TreeSide,
    prefix: string,
    out: string[],
  ): Promise<void> {
    if (leftTree.sha === rightTree.sha) return;
    let left = this.held(leftTree);
    let right = this.held(rightTree);
    let [before, after] = await Promise.all([
      this.childrenOf(left),
      this.childrenOf(right),
    ]);
    // Many directories changed (a commit across every service): one recursive listing of each
    // side not yet listed costs less than one request per directory.
    let changedDirectories = 0;
    for (const name of new Set([...before.keys(), ...after.keys()])) {
      const was = before.get(name);
      const is = after.get(name);
      if ((was?.tree || is?.tree) && was?.sha !== is?.sha) changedDirectories++;
    }
    if (changedDirectories > MAX_TREE_WALK_FANOUT) {
      if (!left.listing) left = await this.listedSide(left.sha);
      if (!right.listing) right = await this.listedSide(right.sha);
      [before, after] = await Promise.all([
        this.childrenOf(left),
        this.childrenOf(right),
      ]);
    }
    for (const name of new Set([...before.keys(), ...after.keys()])) {
      const was = before.get(name);
      const is = after.get(name);
      if (was && is && was.sha === is.sha && was.tree === is.tree) continue;
      const path = `${prefix}${name}`;
      const side = (from: TreeSide, entry: { sha: string }): TreeSide => ({
        sha: entry.sha,
        listing: from.listing,
        at: from.at ? `${from.at}/${name}` : name,
      });
      if (was?.tree && is?.tree) {
        await this.diffTrees(side(left, was), side(right, is), `${path}/`, out);
        continue;
      }
      // A file on either side is a changed path; a directory on one side only, all its files.
      if ((was && !was.tree) || (is && !is.tree)) out.push(path);
      if (was?.tree) await this.listAll(side(left, was), `${path}/`, out);
      if (is?.tree) await this.listAll(side(right, is), `${path}/`, out);
    }
  }

  /** Adds to `out` every file path below a tree. */
  private async listAll(
    tree: TreeSide,
    prefix: string,
    out: string[],
  ): Promise<void> {
    if (tree.listing) {
      const below = tree.at ? `${tree.at}/` : '';
      for (const path of tree.listing.objects.keys()) {
        if (path.startsWith(below) && !tree.listing.trees.has(path)) {
          out.push(`${prefix}${path.slice(below.length)}`);
        }
      }
      return;
    }
    const listing = await this.tree(tree.sha);
    for (const path of listing.objects.keys()) {
      if (!listing.trees.has(path)) out.push(`${prefix}${path}`);
    }
  }

  /** One directory's entries: from a recursive listing held, or one request, cached by id. */
  private async childrenOf(side: TreeSide): Promise<TreeChildren> {
    const tree = this.held(side);
    if (tree.listing) {
      let byDirectory = this.listingChildren.get(tree.listing);
      if (!byDirectory) {
        byDirectory = new Map();
        for (const [path, sha] of tree.listing.objects) {
          const cut = path.lastIndexOf('/');
          const directory = cut < 0 ? '' : path.slice(0, cut);
          let children = byDirectory.get(directory);
          if (!children) byDirectory.set(directory, (children = new Map()));
          children.set(path.slice(cut + 1), {
            sha,
            tree: tree.listing.trees.has(path),
          });
        }
        this.listingChildren.set(tree.listing, byDirectory);
      }
      return byDirectory.get(tree.at) ?? new Map();
    }
    const cached = this.childTrees.get(tree.sha);
    if (cached) return cached;
    const octokit = await this.octokit();
    return once(this.inflight, `children:${tree.sha}`, async () => {
      const { data } = await octokit.rest.git
        .getTree({ owner: this.owner, repo: this.repo, tree_sha: tree.sha })
        .catch(error => {
          throw this.explain(error, `tree ${tree.sha}`);
        });
      if (data.truncated) {
        throw new Error(`tree ${tree.sha} has more entries than GitHub lists`);
      }
      const children: TreeChildren = new Map();
      for (const entry of data.tree) {
        if (!entry.path || !entry.sha) continue;
        children.set(entry.path, {
          sha: entry.sha,
          tree: entry.type === 'tree',
        });
      }
      this.childTrees.set(tree.sha, children);
      return children;
    });
  }

  private async pathHistory(
    commit: string,
    path: string,
    limit: number,
  ): Promise<CommitMeta[]> {
    const known = this.knownHistory(commit, path, 0);
    if (known && (known.limit >= limit || known.commits.length < known.limit)) {
      return known.commits.slice(0, limit);
    }
    const octokit = await this.octokit();
    const loaded = await once(
      this.inflight,
      `history:${commit}:${limit}:${path}`,
      async () => {
        const perPage = Math.min(MAX_PAGE, Math.max(limit, MIN_HISTORY_PAGE));
        const commits: CommitMeta[] = [];
        for (let page = 1; commits.length < limit; page++) {
          const response = await octokit.rest.repos
            .listCommits({
              owner: this.owner,
              repo: this.repo,
              sha: commit,
              path,
              per_page: perPage,
              page,
            })
            .catch(error => {
              throw this.explain(error, `the history of ${path}`);
            });
          for (const item of response.data) {
            const meta = this.rememberListed(item);
            commits.push(meta);
          }
          if (response.data.length < perPage) {
            return { limit: Number.MAX_SAFE_INTEGER, commits };
          }
        }
        return { limit: commits.length, commits };
      },
    );
    this.saveHistory(commit, path, loaded);
    return loaded.commits.slice(0, limit);
  }

  /**
   * A path's history below `commit` from what is already known: a commit with one parent that
   * left the path as it was has the parent's history; one that changed it adds itself on top.
   */
  private knownHistory(
    commit: string,
    path: string,
    depth: number,
  ): PathHistory | undefined {
    const key = `${commit}\0${path}`;
    const stored = this.histories.get(key);
    if (stored || depth > 50) return stored;
    const plain = plainPath(path);
    const meta = this.commits.get(commit);
    if (plain === undefined || !meta || meta.parents.length !== 1)
      return undefined;
    const [parent] = meta.parents;
    const here = this.trees.get(meta.tree);
    const parentMeta = this.commits.get(parent);
    const there = parentMeta && this.trees.get(parentMeta.tree);
    if (!here || !there) return undefined;
    const below = this.knownHistory(parent, path, depth + 1);
    if (!below) return undefined;
    let derived = below;
    if (here.objects.get(plain) !== there.objects.get(plain)) {
      // Kept no deeper than one page, so a path changed in every commit does not grow forever.
      derived =
        below.commits.length < MAX_PAGE
          ? { limit: below.limit + 1, commits: [meta, ...below.commits] }
          : {
              limit: MAX_PAGE,
              commits: [meta, ...below.commits.slice(0, MAX_PAGE - 1)],
            };
    }
    this.histories.set(key, derived);
    return derived;
  }

  private saveHistory(commit: string, path: string, history: PathHistory) {
    const key = `${commit}\0${path}`;
    const stored = this.histories.get(key);
    if (!stored || stored.limit < history.limit)
      this.histories.set(key, history);
  }

  /** A commit as GitHub lists it (commit lists, comparisons). */
  private rememberListed(item: {
    sha: string;
    commit: {
      author: { name?: string; email?: string; date?: string } | null;
      committer: { name?: string; email?: string; date?: string } | null;
      message: string;
      tree: { sha: string };
    };
    parents: Array<{ sha: string }>;
  }): CommitMeta {
    return this.remember(item.sha, {
      author: item.commit.author,
      committer: item.commit.committer,
      message: item.commit.message,
      tree: item.commit.tree.sha,
      parents: item.parents.map(parent => parent.sha),
    });
  }

  private remember(
    sha: string,
    commit: {
      author: { name?: string; email?: string; date?: string } | null;
      committer: { name?: string; email?: string; date?: string } | null;
      message: string;
      tree: string;
      parents: string[];
    },
  ): CommitMeta {
    const authoredAt = commit.author?.date ?? commit.committer?.date;
    const meta: CommitMeta = {
      info: {
        sha,
        authorName: commit.author?.name ?? '',
        authorEmail: commit.author?.email ?? '',
        authoredAt: authoredAt ? new Date(authoredAt).toISOString() : '',
        message: commit.message.trim(),
      },
      committedAt: Date.parse(commit.committer?.date ?? authoredAt ?? '') || 0,
      tree: commit.tree,
      parents: commit.parents,
    };
    this.commits.set(sha, meta);
    return meta;
  }

  private async commit(sha: string): Promise<CommitMeta> {
    const cached = this.commits.get(sha);
    if (cached) return cached;
    const octokit = await this.octokit();
    return once(this.inflight, `commit:${sha}`, async () => {
      const { data } = await octokit.rest.git
        .getCommit({ owner: this.owner, repo: this.repo, commit_sha: sha })
        .catch(error => {
          throw this.explain(error, `commit ${sha}`);
        });
      return this.remember(data.sha, {
        author: data.author,
        committer: data.committer,
        message: data.message,
        tree: data.tree.sha,
        parents: data.parents.map(parent => parent.sha),
      });
    });
  }

  /** Reads a tree in full: recursively in one request, or subtree by subtree when truncated. */
  private async tree(sha: string): Promise<TreeListing> {
    const cached = this.trees.get(sha);
    if (cached) return cached;
    const octokit = await this.octokit();
    return once(this.inflight, `tree:${sha}`, async () => {
      const read = (recursive: boolean) =>
        octokit.rest.git
          .getTree({
            owner: this.owner,
            repo: this.repo,
            tree_sha: sha,
            ...(recursive ? { recursive: '1' } : {}),
          })
          .catch(error => {
            throw this.explain(error, `tree ${sha}`);
          });
      const listing: TreeListing = {
        files: new Map(),
        objects: new Map(),
        trees: new Set(),
        modes: new Map(),
      };
      const add = (
        path: string,
        entry: { type?: string; sha?: string; size?: number; mode?: string },
      ) => {
        if (!entry.sha) return;
        listing.objects.set(path, entry.sha);
        if (entry.type === 'tree') listing.trees.add(path);
        else if (entry.mode) listing.modes.set(path, entry.mode);
        // Symbolic links are left out, as the git provider leaves them: a path, not content.
        if (entry.type === 'blob' && entry.mode !== '120000')
          listing.files.set(path, {
            path,
            oid: entry.sha,
            size: entry.size ?? 0,
          });
      };
      let { data } = await read(true);
      if (data.truncated) {
        this.logger.debug(
          `Repository ${this.id}: tree ${sha} is too large to list at once; reading its subtrees`,
        );
        ({ data } = await read(false));
        if (data.truncated) {
          throw new Error(
            `Repository ${this.id}: tree ${sha} has more entries than GitHub lists in one answer`,
          );
        }
        for (const entry of data.tree) {
          if (!entry.path) continue;
          add(entry.path, entry);
          if (entry.type !== 'tree' || !entry.sha) continue;
          const subtree = await this.tree(entry.sha);
          for (const [path, oid] of subtree.objects)
            listing.objects.set(`${entry.path}/${path}`, oid);
          for (const path of subtree.trees)
            listing.trees.add(`${entry.path}/${path}`);
          for (const [path, mode] of subtree.modes)
            listing.modes.set(`${entry.path}/${path}`, mode);
          for (const file of subtree.files.values()) {
            const path = `${entry.path}/${file.path}`;
            listing.files.set(path, { ...file, path });
          }
        }
      } else {
        for (const entry of data.tree) if (entry.path) add(entry.path, entry);
      }
      this.trees.set(sha, listing);
      return listing;
    });
  }

  private async blob(oid: string): Promise<Buffer> {
    const cached = this.blobs.get(oid);
    if (cached) return cached;
    const octokit = await this.octokit();
    return once(this.inflight, `blob:${oid}`, async () => {
      const { data } = await octokit.rest.git
        .getBlob({ owner: this.owner, repo: this.repo, file_sha: oid })
        .catch(error => {
          throw this.explain(error, `blob ${oid}`);
        });
      const content = Buffer.from(
        data.content,
        data.encoding === 'base64' ? 'base64' : 'utf8',
      );
      const id = gitBlobId(content);
      if (oid.length === 40 && id !== oid) {
        throw new Error(
          `Repository ${this.id}: GitHub answered blob ${oid} with content whose id is ${id}`,
        );
      }
      this.cacheBlob(oid, content);
      return content;
    });
  }

  private cacheBlob(oid: string, content: Buffer) {
    if (this.blobs.has(oid)) return;
    this.blobs.set(oid, content);
    this.blobBytes += content.length;
    // Blobs are immutable, so the cache is only bounded, never invalidated.
    while (this.blobBytes > MAX_BLOB_CACHE_BYTES) {
      const [oldest, buffer] = this.blobs.entries().next().value!;
      this.blobs.delete(oldest);
      this.blobBytes -= buffer.length;
    }
  }

  /** The Octokit for the current credentials; GitHub App tokens are renewed by the provider. */
  private async octokit(): Promise<Octokit> {
    const { token } = await this.credentials
      .getCredentials({ url: this.url })
      .catch(error => {
        throw new Error(
          `Repository ${this.id}: no GitHub credentials for ${this.url}: ${
            error.message ?? error
          }`,
        );
      });
    if (!this.client || this.client.token !== token) {
      this.client = {
        token,
        octokit: createGithubClient({
          baseUrl: this.apiBaseUrl,
          token,
          host: this.host,
          policy: this.policy,
          gate: this.gate,
          logger: this.logger,
          fetch: this.fetch,
          onRequest: request => {
            this.requests++;
            this.onRequest?.(request);
          },
        }),
      };
    }
    return this.client.octokit;
  }

  /** Turns a GitHub error answer into a message that says what could not be read and why. */
  private explain(
    error: unknown,
    what: string,
    access: 'read' | 'write' = 'read',
  ): Error {
    const status = statusOf(error);
    const verb = access === 'read' ? 'reading' : 'writing';
    const message = error instanceof Error ? error.message : String(error);
    const where = `Repository ${this.id} (${this.owner}/${this.repo} on ${this.host})`;
    if (error instanceof GithubUnavailableError) {
      this.logger.warn(`${where}: ${verb} ${what} failed: ${error.detail}`);
      return new Error(`${where}: ${verb} ${what} failed: ${error.message}`);
    }
    if (status === 404) {
      return new Error(
        `${where}: ${what} not found, or the credentials for ${this.host} cannot read it`,
      );
    }
    if (status === 401) {
      return new Error(
        `${where}: GitHub rejected the credentials of the integration for ${this.host}: ${message}`,
      );
    }
    if (status === 403) {
      return new Error(
        `${where}: ${verb} ${what} was refused (${message}); the token or GitHub App needs ${
          access === 'read'
            ? 'read access to contents and metadata'
            : 'write access to contents and pull requests'
        }`,
      );
    }
    if (status !== undefined) {
      return new Error(
        `${where}: ${verb} ${what} failed with ${status}: ${message}`,
      );
    }
    // No answer to explain: the request layer's own message already says what and where.
    return error instanceof Error ? error : new Error(message);
  }
}
