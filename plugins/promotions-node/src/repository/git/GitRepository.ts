import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { LoggerService } from '@backstage/backend-plugin-api';
import { ConflictError, InputError, NotFoundError } from '@backstage/errors';
import { isBranchName } from '@gitops-promotions/plugin-promotions-common';
import { CommitIndex, IndexedCommit } from '../CommitIndex';
import {
  CommitAuthor,
  CommitInfo,
  Comparison,
  FileChange,
  GitOpsRepository,
  RepositorySnapshot,
  TreeFile,
} from '../types';
import { isTagName, RepositoryTag, tagLimit } from '../tags';
import { GitObjectReader } from './GitObjectReader';
import { GitCommandError, runGit } from './runGit';

const COMMIT_ID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
/** A marker no commit message or path will hold, so log records are found without guessing. */
const RECORD = `@@promotions-${crypto.randomBytes(8).toString('hex')}@@`;
const LOG_FORMAT = `--format=${RECORD}%H%n%P%n%an%n%ae%n%aI%n%B`;

/** Commands whose failure is an answer (no such branch, a conflict, a moved branch). */
const EXPECTED_FAILURES = new Set(['rev-parse', 'merge-tree', 'update-ref']);

/** Commits read into the history index at once: one `git log` answers most questions. */
const INDEX_WINDOW = 2000;
/** Merges of an index window whose differences are read again one by one, at most. */
const MAX_MERGES_READ_AGAIN = 200;
const MAX_BLOB_CACHE_BYTES = 64 * 1024 * 1024;
/** Tree entries kept across cached snapshots. */
const MAX_SNAPSHOT_ENTRIES = 1_000_000;

/**
 * Options of the `git` provider.
 *
 * @public
 */
export interface GitRepositoryOptions {
  id: string;
  /** A Git URL (cloned into `cacheDir`) or a path to a local repository (used in place). */
  url: string;
  branch: string;
  /** Where clones of remote repositories are kept between refreshes. */
  cacheDir: string;
  logger: LoggerService;
  /** Base directory for relative local paths; the process's working directory by default. */
  baseDir?: string;
  /**
   * What a branch other than `branch` (a published layout's) may add to a remote repository's
   * clone, in bytes; a larger one is refused and forgotten. 64 MiB by default.
   */
  maxBranchBytes?: number;
}

const DEFAULT_MAX_BRANCH_BYTES = 64 * 1024 * 1024;

function isLocal(url: string) {
  return !/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !/^[^/]+@[^/]+:/.test(url);
}

/**
 * Where git finds a configured repository: a Git URL as given, a local path made absolute.
 *
 * @public
 */
export function gitSource(
  url: string,
  baseDir: string = process.cwd(),
): string {
  return isLocal(url) ? path.resolve(baseDir, url) : url;
}

/** Runs one job at a time, in order: git cannot fetch and write one repository at once. */
class Queue {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(job: () => Promise<T>): Promise<T> {
    const next = this.tail.then(job, job);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

/** A Map that forgets its oldest entries once their total weight exceeds `max`. */
class BoundedMap<K, V> {
  private readonly entries = new Map<K, { value: V; weight: number }>();
  private total = 0;
  constructor(
    private readonly max: number,
    private readonly weigh: (value: V) => number,
  ) {}
  get(key: K): V | undefined {
    return this.entries.get(key)?.value;
  }
  set(key: K, value: V) {
    const weight = this.weigh(value);
    const old = this.entries.get(key);
    if (old) this.total -= old.weight;
    this.entries.delete(key);
    this.entries.set(key, { value, weight });
    this.total += weight;
    while (this.total > this.max && this.entries.size > 1) {
      const [oldest, entry] = this.entries.entries().next().value!;
      this.entries.delete(oldest);
      this.total -= entry.weight;
    }
  }
}

/**
 * The `git` provider: any Git URL or local path, read and written with the git command line.
 * A remote repository is kept as a bare clone, its branch fetched on each snapshot and its tags
 * on each listing of them; writes are made in the clone and pushed with a lease on the expected
 * commit. A local repository is used in place.
 *
 * @public
 */
export class GitRepository implements GitOpsRepository {
  readonly id: string;
  readonly branch: string;
  private readonly url: string;
  private readonly local: boolean;
  private readonly gitDir: string;
  private readonly logger: LoggerService;
  private readonly maxBranchBytes: number;
  private readonly queue = new Queue();
  private readonly objects: GitObjectReader;
  private readonly snapshots = new BoundedMap<string, RepositorySnapshot>(
    MAX_SNAPSHOT_ENTRIES,
    snapshot => snapshot.files.size + 1,
  );
  private readonly blobs = new BoundedMap<string, Buffer>(
    MAX_BLOB_CACHE_BYTES,
    blob => blob.length + 64,
  );
  /** The head the last snapshot found, whose history is indexed on first use. */
  private head?: string;
  private index?: { head: string; built: Promise<CommitIndex> };

  constructor(options: GitRepositoryOptions) {
    this.id = options.id;
    this.branch = options.branch;
    this.logger = options.logger;
    this.maxBranchBytes = options.maxBranchBytes ?? DEFAULT_MAX_BRANCH_BYTES;
    this.local = isLocal(options.url);
    if (this.local) {
      this.url = gitSource(options.url, options.baseDir);
      this.gitDir = this.url;
    } else {
      this.url = options.url;
      const key = crypto
        .createHash('sha256')
        .update(options.url)
        .digest('hex')
        .slice(0, 16);
      this.gitDir = path.join(
        options.cacheDir,
        `${options.id.replace(/[^\w.-]/g, '_')}-${key}.git`,
      );
    }
    if (!isBranchName(this.branch)) {
      throw new Error(
        `Repository ${this.id}: "${this.branch}" is not a valid branch name`,
      );
    }
    this.objects = new GitObjectReader(this.gitDir);
  }

  async snapshot(branch: string = this.branch): Promise<RepositorySnapshot> {
    this.checkBranch(branch);
    if (!this.local) await this.queue.run(() => this.fetch(branch));
    else this.refuseMissing();
    const head = await this.branchHead(branch);
    if (!head) {
      throw new NotFoundError(
        `Repository ${this.id}: branch "${branch}" not found`,
      );
    }
    if (branch === this.branch) this.head = head;
    return this.snapshotAt(head);
  }

  async snapshotAt(commit: string): Promise<RepositorySnapshot> {
    this.checkCommit(commit);
    const cached = this.snapshots.get(commit);
    if (cached) return cached;
    const out = await this.git(['ls-tree', '-r', '-l', '-z', commit]);
    const files = new Map<string, TreeFile>();
    for (const entry of out.toString('utf8').split('\0')) {
      // "<mode> <type> <oid> <size>\t<path>"
      const tab = entry.indexOf('\t');
      if (tab < 0) continue;
      const [mode, type, oid, size] = entry.slice(0, tab).trim().split(/\s+/);
      // Symbolic links are left out: their target is a path, not content to read.
      if (type !== 'blob' || mode === '120000') continue;
      const filePath = entry.slice(tab + 1);
      files.set(filePath, { path: filePath, oid, size: Number(size) });
    }
    const snapshot: RepositorySnapshot = {
      commit,
      files,
      readFile: async filePath => {
        const file = files.get(filePath);
        return file ? this.readBlob(file.oid, filePath) : undefined;
      },
    };
    this.snapshots.set(commit, snapshot);
    return snapshot;
  }

  async history(
    commit: string,
    paths: string[],
    limit: number,
    options: { since?: string } = {},
  ): Promise<CommitInfo[]> {
    this.checkCommit(commit);
    if (options.since) this.checkCommit(options.since);
    if (paths.length === 0) return [];
    const wanted = Math.max(1, Math.floor(limit));
    const index = await this.commitIndex(commit);
    const known = index?.history(paths, wanted, options.since);
    if (known) return known;
    const out = await this.git([
      'log',
      `--max-count=${wanted}`,
      // Records end in NUL (-z), which no commit message can hold; fields are lines.
      '-z',
      LOG_FORMAT,
      options.since ? `${options.since}..${commit}` : commit,
      '--',
      ...paths.map(p => `:(literal)${p}`),
    ]);
    return parseLog(out).map(c => c.info);
  }

  async branchHead(branch: string): Promise<string | undefined> {
    this.checkBranch(branch);
    const out = await this.git([
      'rev-parse',
      '--verify',
      '--quiet',
      `refs/heads/${branch}^{commit}`,
    ]).catch(() => undefined);
    const head = out?.toString('utf8').trim();
    return head || undefined;
  }

  async tags(options: { limit?: number } = {}): Promise<RepositoryTag[]> {
    const limit = tagLimit(options.limit);
    if (!this.local) await this.queue.run(() => this.fetchTags());
    else this.refuseMissing();
    const out = await this.git([
      'for-each-ref',
      // git counts in a 32-bit integer.
      `--count=${Math.min(limit, 2 ** 31 - 1)}`,
      // Ref names hold no spaces or newlines: the name is the rest of the line.
      '--format=%(objectname) %(objecttype) %(*objectname) %(*objecttype) %(refname)',
      'refs/tags/',
    ]);
    const tags: RepositoryTag[] = [];
    for (const line of out.toString('utf8').split('\n')) {
      const [id, type, peeled, peeledType, ...rest] = line.split(' ');
      const name = rest.join(' ').slice('refs/tags/'.length);
      if (!line || !isTagName(name)) continue;
      let commit: string | undefined;
      if (type === 'commit') commit = id;
      else if (peeledType === 'commit') commit = peeled;
      // A tag of a tag: git peels one level here, and all of them in rev-parse.
      else if (peeledType === 'tag') commit = await this.peel(name);
      if (commit && COMMIT_ID.test(commit)) tags.push({ name, commit });
    }
    return tags;
  }

  async createBranch(branch: string, commit: string): Promise<void> {
    this.checkBranch(branch);
    this.checkCommit(commit);
    await this.queue.run(async () => {
      if (!this.local) {
        await this.fetch();
        // Pushing a branch that exists at the same commit would succeed without a word.
        const remote = await this.git([
          'ls-remote',
          '--heads',
          'origin',
          `refs/heads/${branch}`,
        ]);
        if (remote.toString().trim()) {
          throw new ConflictError(
            `Repository ${this.id}: branch ${branch} already exists`,
          );
        }
      }
      await this.moveRef(branch, commit, undefined);
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
    for (const change of changes) checkPath(change.path);
    return this.queue.run(async () => {
      await this.refuseFileInTheWay(parent, changes);
      const index = path.join(
        await fsp.mkdtemp(path.join(os.tmpdir(), 'promotions-index-')),
        'index',
      );
      try {
        const env = { GIT_INDEX_FILE: index };
        await this.git(['read-tree', parent], env);
        const records: string[] = [];
        for (const change of changes) {
          if (change.content === null) {
            records.push(`0 ${'0'.repeat(parent.length)}\t${change.path}`);
            continue;
          }
          const oid = (
            await this.git(['hash-object', '-w', '--stdin'], {}, change.content)
          )
            .toString()
            .trim();
          records.push(`100644 ${oid}\t${change.path}`);
        }
        await this.git(
          ['update-index', '-z', '--index-info'],
          env,
          records.map(r => `${r}\0`).join(''),
        );
        const tree = (await this.git(['write-tree'], env)).toString().trim();
        const commit = await this.commitTree(tree, [parent], options);
        await this.moveRef(branch, commit, parent);
        return commit;
      } finally {
        await fsp.rm(path.dirname(index), { recursive: true, force: true });
      }
    });
  }

  async compare(base: string, head: string): Promise<Comparison> {
    this.checkCommit(base);
    this.checkCommit(head);
    const commits = parseLog(
      await this.git([
        'log',
        '--reverse',
        '-z',
        LOG_FORMAT,
        `${base}..${head}`,
      ]),
    ).map(c => c.info);
    const behind = Number(
      (await this.git(['rev-list', '--count', `${head}..${base}`]))
        .toString()
        .trim(),
    );
    const files = (await this.git(['diff', '--name-only', '-z', base, head]))
      .toString('utf8')
      .split('\0')
      .filter(Boolean);
    return { commits, behindBy: behind, files };
  }

  async merge(options: {
    source: string;
    expectedHead: string;
    target: string;
    message: string;
    author: CommitAuthor;
  }): Promise<string> {
    const { source, expectedHead, target } = options;
    this.checkBranch(source);
    this.checkBranch(target);
    this.checkCommit(expectedHead);
    return this.queue.run(async () => {
      if (!this.local) await this.fetch(source);
      const sourceHead = await this.branchHead(source);
      if (sourceHead !== expectedHead) {
        throw new ConflictError(
          `Repository ${this.id}: branch ${source} is at ${
            sourceHead ?? 'nothing'
          }, not at ${expectedHead}; it changed since it was reviewed`,
        );
      }
      const targetHead = await this.branchHead(target);
      if (!targetHead) {
        throw new ConflictError(
          `Repository ${this.id}: branch ${target} does not exist`,
        );
      }
      const base = (await this.git(['merge-base', targetHead, sourceHead]))
        .toString()
        .trim();
      let commit = sourceHead;
      if (base !== targetHead) {
        const tree = await this.git([
          'merge-tree',
          '--write-tree',
          '--no-messages',
          targetHead,
          sourceHead,
        ]).catch(error => {
          if (error instanceof GitCommandError && error.exitCode === 1) {
            throw new ConflictError(
              `Repository ${this.id}: ${source} conflicts with ${target}`,
            );
          }
          throw error;
        });
        commit = await this.commitTree(
          tree.toString().split('\n')[0].trim(),
          [targetHead, sourceHead],
          options,
        );
      }
      await this.moveRef(target, commit, targetHead);
      return commit;
    });
  }

  async deleteBranch(branch: string, expectedHead?: string): Promise<void> {
    this.checkBranch(branch);
    if (expectedHead) this.checkCommit(expectedHead);
    await this.queue.run(async () => {
      const head = await this.branchHead(branch);
      if (!head) return;
      if (expectedHead && head !== expectedHead) {
        throw new ConflictError(
          `Repository ${this.id}: branch ${branch} moved to ${head}; not deleting it`,
        );
      }
      if (this.local) {
        await this.git(['update-ref', '-d', `refs/heads/${branch}`, head]);
      } else {
        await this.git([
          'push',
          '--quiet',
          `--force-with-lease=refs/heads/${branch}:${head}`,
          'origin',
          `:refs/heads/${branch}`,
        ]);
        await this.git(['update-ref', '-d', `refs/heads/${branch}`]);
      }
    });
  }

  /**
   * The index of the newest commits below `commit`, read once per head; undefined for an older
   * commit, which is asked about directly.
   */
  private async commitIndex(commit: string): Promise<CommitIndex | undefined> {
    if (this.index?.head === commit) {
      return this.index.built.catch(() => undefined);
    }
    if (this.head !== commit) return undefined;
    const built = this.git([
      'log',
      `--max-count=${INDEX_WINDOW + 1}`,
      '-z',
      '--name-only',
      // A rename is a deletion and an addition, so the old path's history holds it, as
      // `git log -- <old path>` does.
      '--no-renames',
      '--diff-merges=separate',
      LOG_FORMAT,
      commit,
    ]).then(async out => {
      const commits = parseLog(out).slice(0, INDEX_WINDOW + 1);
      await this.completeMerges(commits);
      const complete = commits.length <= INDEX_WINDOW;
      return new CommitIndex(commit, commits.slice(0, INDEX_WINDOW), complete);
    });
    this.index = { head: commit, built };
    return built.catch(() => undefined);
  }

  /**
   * `git log --diff-merges=separate` leaves out a merge's difference from a parent it equals,
   * without saying which: such a merge's lists are read again, parent by parent. Past a bound,
   * the rest stay unknown, and histories through them are asked of git directly.
   */
  private async completeMerges(commits: IndexedCommit[]) {
    const unknown = commits.filter(
      c => c.parents.length > 1 && c.filesByParent?.length !== c.parents.length,
    );
    for (const merge of unknown.slice(0, MAX_MERGES_READ_AGAIN)) {
      merge.filesByParent = [];
      for (const parent of merge.parents) {
        const out = await this.git([
          'diff-tree',
          '-r',
          '-z',
          '--no-renames',
          '--name-only',
          parent,
          merge.info.sha,
        ]);
        merge.filesByParent.push(
          out.toString('utf8').split('\0').filter(Boolean),
        );
      }
    }
  }

  private async commitTree(
    tree: string,
    parents: string[],
    options: { message: string; author: CommitAuthor },
  ): Promise<string> {
    const { name, email } = options.author;
    if (/[<>\n\0]/.test(name) || /[<>\n\0\s]/.test(email)) {
      throw new InputError(`"${name} <${email}>" is not a valid commit author`);
    }
    const env = {
      GIT_AUTHOR_NAME: name,
      GIT_AUTHOR_EMAIL: email,
      GIT_COMMITTER_NAME: name,
      GIT_COMMITTER_EMAIL: email,
    };
    const out = await this.git(
      ['commit-tree', tree, ...parents.flatMap(p => ['-p', p]), '-F', '-'],
      env,
      options.message,
    );
    return out.toString().trim();
  }

  /**
   * Points a branch at a commit only if it is still at `expected` (undefined: only if it does
   * not exist yet); a remote repository is pushed to with the same lease.
   */
  private async moveRef(
    branch: string,
    commit: string,
    expected: string | undefined,
  ) {
    const ref = `refs/heads/${branch}`;
    const moved = (reason: string) =>
      new ConflictError(`Repository ${this.id}: branch ${branch} ${reason}`);
    if (this.local) {
      await this.refuseCheckedOut(branch);
      await this.git(['update-ref', ref, commit, expected ?? '']).catch(() => {
        throw moved(
          expected ? `is no longer at ${expected}` : 'already exists',
        );
      });
      return;
    }
    await this.git([
      'push',
      '--quiet',
      `--force-with-lease=${ref}:${expected ?? ''}`,
      'origin',
      `${commit}:${ref}`,
    ]).catch(error => {
      this.logger.warn(
        `Repository ${this.id}: push to ${branch} refused: ${
          (error as GitCommandError).detail ?? error
        }`,
      );
      throw moved(expected ? `is no longer at ${expected}` : 'already exists');
    });
    await this.git(['update-ref', ref, commit]);
  }

  /**
   * A change below a path that is a file or a symbolic link in the tree would silently replace
   * it with a directory: refused instead.
   */
  private async refuseFileInTheWay(parent: string, changes: FileChange[]) {
    const prefixes = new Set<string>();
    for (const { path: file } of changes) {
      const segments = file.split('/');
      for (let i = 1; i < segments.length; i++) {
        prefixes.add(segments.slice(0, i).join('/'));
      }
    }
    if (prefixes.size === 0) return;
    const out = await this.git([
      'ls-tree',
      '-z',
      parent,
      '--',
      ...[...prefixes].map(p => `:(literal)${p}`),
    ]);
    for (const entry of out.toString('utf8').split('\0')) {
      const tab = entry.indexOf('\t');
      if (tab < 0) continue;
      const entryPath = entry.slice(tab + 1);
      // ls-tree descends into a prefix to reach a deeper one and lists what sits beside it.
      if (!prefixes.has(entryPath)) continue;
      const [, type] = entry.slice(0, tab).split(' ');
      if (type !== 'tree') {
        throw new InputError(
          `Repository ${this.id} has a file or link at ${entryPath}, where the change needs a directory`,
        );
      }
    }
  }

  /** A branch checked out in a work tree would be left out of step with its files. */
  private async refuseCheckedOut(branch: string) {
    const bare = (await this.git(['rev-parse', '--is-bare-repository']))
      .toString()
      .trim();
    if (bare === 'true') return;
    const head = await this.git(['symbolic-ref', '--quiet', 'HEAD']).catch(
      () => undefined,
    );
    if (head?.toString().trim() === `refs/heads/${branch}`) {
      throw new ConflictError(
        `Repository ${this.id}: branch ${branch} is checked out in a work tree; promotions write only to bare repositories or to remote ones`,
      );
    }
  }

  private async readBlob(oid: string, filePath: string): Promise<Buffer> {
    const cached = this.blobs.get(oid);
    if (cached) return cached;
    const content = await this.objects.read(oid).catch(error => {
      this.logger.warn(
        `Repository ${this.id}: reading ${filePath} (${oid}) failed: ${
          error instanceof GitCommandError ? error.detail : String(error)
        }`,
      );
      throw new Error(`Repository ${this.id}: ${filePath} could not be read`);
    });
    if (!content) throw new Error(`Repository ${this.id}: no blob ${oid}`);
    // Blobs are immutable, so the cache is only bounded, never invalidated.
    this.blobs.set(oid, content);
    return content;
  }

  /** The commit a tag names through any number of annotated tags; undefined for another object. */
  private async peel(name: string): Promise<string | undefined> {
    const out = await this.git([
      'rev-parse',
      '--verify',
      '--quiet',
      `refs/tags/${name}^{commit}`,
    ]).catch(() => undefined);
    return out?.toString('utf8').trim() || undefined;
  }

  private refuseMissing() {
    if (fs.existsSync(this.gitDir)) return;
    this.logger.warn(`Repository ${this.id}: ${this.url} does not exist`);
    throw new Error(`Repository ${this.id} does not exist or is not readable`);
  }

  /**
   * Brings the clone's tags in step with the remote's, as often as tags are asked for, as
   * snapshots fetch their branch: moved tags are forced, and an explicit refspec with `--prune`
   * removes the tags deleted there.
   */
  private async fetchTags() {
    await this.clone();
    await this.git([
      'fetch',
      '--prune',
      '--no-tags',
      'origin',
      '+refs/tags/*:refs/tags/*',
    ]).catch(error => this.unreadable(error));
  }

  private async clone() {
    if (fs.existsSync(path.join(this.gitDir, 'HEAD'))) return;
    fs.mkdirSync(path.dirname(this.gitDir), { recursive: true });
    this.logger.info(`Cloning GitOps repository ${this.id}`);
    await runGit([
      'clone',
      '--bare',
      '--single-branch',
      '--branch',
      this.branch,
      '--',
      this.url,
      this.gitDir,
    ]).catch(error => this.unreadable(error));
  }

  private async fetch(branch: string = this.branch) {
    await this.clone();
    await this.git([
      'fetch',
      '--prune',
      '--no-tags',
      'origin',
      `+refs/heads/${this.branch}:refs/heads/${this.branch}`,
    ]).catch(error => this.unreadable(error));
    if (branch !== this.branch) {
      // Another branch may not exist (yet); the caller finds out from its head.
      const fetched = await this.git([
        'fetch',
        '--no-tags',
        'origin',
        `+refs/heads/${branch}:refs/heads/${branch}`,
      ]).then(
        () => true,
        async () => {
          await this.forgetBranch(branch);
          return false;
        },
      );
      if (fetched) await this.checkBranchSize(branch);
    }
  }

  /** Refuses, and forgets, a fetched branch whose own objects exceed `maxBranchBytes`. */
  private async checkBranchSize(branch: string) {
    const objects = await this.git([
      'rev-list',
      '--objects',
      '--no-object-names',
      `refs/heads/${branch}`,
      '--not',
      `refs/heads/${this.branch}`,
    ]);
    const sizes = await this.git(
      ['cat-file', '--batch-check=%(objectsize)'],
      undefined,
      objects,
    );
    let total = 0;
    for (const line of sizes.toString('utf8').split('\n')) {
      total += Number(line) || 0;
    }
    if (total > this.maxBranchBytes) {
      await this.forgetBranch(branch);
      throw new InputError(
        `Repository ${this.id}: branch ${branch} adds ${total} bytes, more than the ${this.maxBranchBytes} allowed`,
      );
    }
  }

  private async forgetBranch(branch: string) {
    await this.git(['update-ref', '-d', `refs/heads/${branch}`]).catch(
      () => undefined,
    );
  }

  private unreadable(error: unknown): never {
    this.logger.warn(
      `Repository ${this.id}: ${
        error instanceof GitCommandError ? error.detail : String(error)
      }`,
    );
    throw new Error(`Repository ${this.id} could not be fetched`);
  }

  private git(
    args: string[],
    env?: NodeJS.ProcessEnv,
    input?: Buffer | string,
  ) {
    return runGit(args, { cwd: this.gitDir, env, input }).catch(error => {
      // git's own words name local paths: they go to the log, never into an answer.
      if (error instanceof GitCommandError && !EXPECTED_FAILURES.has(args[0])) {
        this.logger.warn(
          `Repository ${this.id}: git ${args[0]} failed: ${error.detail}`,
        );
      }
      throw error;
    });
  }

  private checkCommit(commit: string) {
    if (!COMMIT_ID.test(commit))
      throw new Error(`"${commit}" is not a commit id`);
  }

  private checkBranch(branch: string) {
    if (!isBranchName(branch)) {
      throw new InputError(`"${branch}" is not a valid branch name`);
    }
  }
}

/** A path a commit may write: relative, inside the repository, not into `.git`. */
function checkPath(file: string) {
  const segments = file.split('/');
  if (
    !file ||
    segments.some(s => s === '' || s === '.' || s === '..' || s === '.git') ||
    /[\0\n\r\\]/.test(file)
  ) {
    throw new InputError(`"${file}" is not a path inside the repository`);
  }
}

/**
 * Parses `git log -z` in `LOG_FORMAT`: each record ends in NUL; with `--name-only`, the paths it
 * changed follow, each ending in NUL, the first after a newline.
 */
function parseLog(out: Buffer): IndexedCommit[] {
  const commits: IndexedCommit[] = [];
  let current: IndexedCommit | undefined;
  let files: string[] = [];
  for (const token of out.toString('utf8').split('\0')) {
    const field = token.startsWith('\n') ? token.slice(1) : token;
    if (!field.startsWith(RECORD)) {
      if (current && field) files.push(field);
      continue;
    }
    const [sha, parents, authorName, authorEmail, authoredAt, ...message] =
      field.slice(RECORD.length).split('\n');
    if (!COMMIT_ID.test(sha) || Number.isNaN(Date.parse(authoredAt))) {
      throw new Error(`git log gave an unreadable record for ${sha}`);
    }
    files = [];
    // With --diff-merges=separate a merge comes once for each parent it differs from.
    if (current?.info.sha === sha) {
      current.filesByParent!.push(files);
      continue;
    }
    current = {
      info: {
        sha,
        authorName,
        authorEmail,
        authoredAt: new Date(authoredAt).toISOString(),
        message: message.join('\n').trim(),
      },
      parents: parents ? parents.split(' ') : [],
      files,
      filesByParent: [files],
    };
    commits.push(current);
  }
  for (const commit of commits) {
    if (commit.parents.length < 2) delete commit.filesByParent;
    else commit.files = [];
  }
  return commits;
}
