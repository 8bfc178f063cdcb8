import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { LoggerService } from '@backstage/backend-plugin-api';
import {
  CommitInfo,
  GitOpsRepository,
  RepositorySnapshot,
  TreeFile,
} from './types';

const COMMIT_ID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
const MAX_OUTPUT = 256 * 1024 * 1024;

export interface GitRepositoryOptions {
  id: string;
  /** A Git URL (cloned into `cacheDir`) or a path to a local repository (read in place). */
  url: string;
  branch: string;
  /** Where clones of remote repositories are kept between refreshes. */
  cacheDir: string;
  logger: LoggerService;
  /** Base directory for relative local paths; the process's working directory by default. */
  baseDir?: string;
}

/** Runs git without a shell or prompts and returns its standard output. */
export function runGit(args: string[], cwd?: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      args,
      {
        cwd,
        encoding: 'buffer',
        maxBuffer: MAX_OUTPUT,
        timeout: 120_000,
        env: {
          ...process.env,
          GIT_TERMINAL_PROMPT: '0',
          GIT_OPTIONAL_LOCKS: '0',
        },
      },
      (error, stdout, stderr) => {
        if (error) {
          const detail = stderr.toString('utf8').trim() || error.message;
          reject(new Error(`git ${args[0]} failed: ${detail}`));
        } else {
          resolve(stdout);
        }
      },
    );
  });
}

function isLocal(url: string) {
  return !/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !/^[^/]+@[^/]+:/.test(url);
}

/** Where git finds a configured repository: a Git URL as given, a local path made absolute. */
export function gitSource(
  url: string,
  baseDir: string = process.cwd(),
): string {
  return isLocal(url) ? path.resolve(baseDir, url) : url;
}

/** The `git` provider: any Git URL or local path, read with the git command line. */
export class GitRepository implements GitOpsRepository {
  readonly id: string;
  readonly branch: string;
  private readonly url: string;
  private readonly local: boolean;
  private readonly gitDir: string;
  private readonly logger: LoggerService;
  private readonly snapshots = new Map<string, RepositorySnapshot>();
  private readonly blobs = new Map<string, Buffer>();
  private blobBytes = 0;

  constructor(options: GitRepositoryOptions) {
    this.id = options.id;
    this.branch = options.branch;
    this.logger = options.logger;
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
    if (this.branch.startsWith('-') || /[\s~^:?*[\\]|\.\./.test(this.branch)) {
      throw new Error(
        `Repository ${this.id}: "${this.branch}" is not a valid branch name`,
      );
    }
  }

  async snapshot(): Promise<RepositorySnapshot> {
    if (!this.local) await this.fetch();
    else if (!fs.existsSync(this.gitDir)) {
      throw new Error(`Repository ${this.id}: ${this.url} does not exist`);
    }
    const out = await runGit(
      [
        'rev-parse',
        '--verify',
        '--quiet',
        `refs/heads/${this.branch}^{commit}`,
      ],
      this.gitDir,
    ).catch(() => {
      throw new Error(
        `Repository ${this.id}: branch "${this.branch}" not found`,
      );
    });
    return this.snapshotAt(out.toString('utf8').trim());
  }

  async snapshotAt(commit: string): Promise<RepositorySnapshot> {
    if (!COMMIT_ID.test(commit))
      throw new Error(`"${commit}" is not a commit id`);
    const cached = this.snapshots.get(commit);
    if (cached) return cached;
    const out = await runGit(
      ['ls-tree', '-r', '-l', '-z', commit],
      this.gitDir,
    );
    const files = new Map<string, TreeFile>();
    for (const entry of out.toString('utf8').split('\0')) {
      // "<mode> <type> <oid> <size>\t<path>"
      const tab = entry.indexOf('\t');
      if (tab < 0) continue;
      const [, type, oid, size] = entry.slice(0, tab).trim().split(/\s+/);
      if (type !== 'blob') continue;
      const filePath = entry.slice(tab + 1);
      files.set(filePath, { path: filePath, oid, size: Number(size) });
    }
    const snapshot: RepositorySnapshot = {
      commit,
      files,
      readFile: async filePath => {
        const file = files.get(filePath);
        return file ? this.readBlob(file.oid) : undefined;
      },
    };
    this.snapshots.set(commit, snapshot);
    if (this.snapshots.size > 200) {
      this.snapshots.delete(this.snapshots.keys().next().value!);
    }
    return snapshot;
  }

  async history(
    commit: string,
    paths: string[],
    limit: number,
  ): Promise<CommitInfo[]> {
    if (!COMMIT_ID.test(commit))
      throw new Error(`"${commit}" is not a commit id`);
    if (paths.length === 0) return [];
    const out = await runGit(
      [
        'log',
        `--max-count=${Math.max(1, Math.floor(limit))}`,
        // Records end in NUL (-z), which no commit message can hold; fields are lines.
        '-z',
        '--format=%H%n%an%n%ae%n%aI%n%B',
        commit,
        '--',
        ...paths.map(p => `:(literal)${p}`),
      ],
      this.gitDir,
    );
    return out
      .toString('utf8')
      .split('\0')
      .map(record => record.replace(/^\n/, ''))
      .filter(record => record.length > 0)
      .map(record => {
        const [sha, authorName, authorEmail, authoredAt, ...message] =
          record.split('\n');
        if (!COMMIT_ID.test(sha) || Number.isNaN(Date.parse(authoredAt))) {
          throw new Error(
            `git log gave an unreadable record for ${paths.join(', ')}`,
          );
        }
        return {
          sha,
          authorName,
          authorEmail,
          authoredAt: new Date(authoredAt).toISOString(),
          message: message.join('\n').trim(),
        };
      });
  }

  private async readBlob(oid: string): Promise<Buffer> {
    const cached = this.blobs.get(oid);
    if (cached) return cached;
    const content = await runGit(['cat-file', 'blob', oid], this.gitDir);
    this.blobs.set(oid, content);
    this.blobBytes += content.length;
    // Blobs are immutable, so the cache is only bounded, never invalidated.
    while (this.blobBytes > 64 * 1024 * 1024) {
      const [oldest, buffer] = this.blobs.entries().next().value!;
      this.blobs.delete(oldest);
      this.blobBytes -= buffer.length;
    }
    return content;
  }

  private async fetch() {
    if (!fs.existsSync(path.join(this.gitDir, 'HEAD'))) {
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
      ]);
      return;
    }
    await runGit(
      [
        'fetch',
        '--prune',
        '--no-tags',
        'origin',
        `+refs/heads/${this.branch}:refs/heads/${this.branch}`,
      ],
      this.gitDir,
    );
  }
}
