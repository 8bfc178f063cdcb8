import { spawn } from 'node:child_process';
import { CatFileBatch } from './CatFileBatch';
import { SizeBoundedCache } from './SizeBoundedCache';

/** A person in a commit, with GitHub's date format. */
export interface GitPerson {
  name: string;
  email: string;
  date: string;
}

export interface GitCommit {
  sha: string;
  tree: string;
  parents: string[];
  author: GitPerson;
  committer: GitPerson;
  message: string;
}

export interface GitTreeEntry {
  mode: string;
  type: 'blob' | 'tree' | 'commit';
  sha: string;
  path: string;
  /** Blobs only. */
  size?: number;
}

/** A change to a path of a tree: a new entry, or null to remove what is there. */
export type TreeChange = { mode: string; type: string; sha: string } | null;

/** What a commit changed, as `git diff --raw` and `--numstat` tell it. */
export interface FileChange {
  status: 'added' | 'removed' | 'modified' | 'renamed' | 'copied' | 'changed';
  filename: string;
  previousFilename?: string;
  /** The blob after the change; undefined when the file was removed. */
  sha?: string;
  additions: number;
  deletions: number;
  binary: boolean;
}

export class GitCommandError extends Error {
  constructor(
    readonly args: string[],
    readonly code: number | null,
    readonly stdout: Buffer,
    readonly stderr: string,
  ) {
    super(`git ${args.join(' ')} exited with ${code}: ${stderr.trim()}`);
  }
}

export const GIT_ID = /^[0-9a-f]{40}$/;
export const NO_COMMIT = '0'.repeat(40);

/** GitHub prints times in UTC without fractions. */
export const githubTime = (date: Date | string | number) =>
  new Date(date).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Whether git would take a string as the name of a ref (`git check-ref-format`). */
export function isRefName(name: string): boolean {
  return (
    name.length > 0 &&
    // eslint-disable-next-line no-control-regex
    !/[\x00-\x20\x7f~^:?*[\\]|\.\.|@\{|\/\/|\/\.|\.lock(\/|$)|^\/|\/$|\.$|^@$/.test(
      name,
    ) &&
    !name.startsWith('.')
  );
}

/** The type of a tree entry by its mode, when it is not a blob. */
export const MODE_TYPES: Record<string, GitTreeEntry['type']> = {
  '040000': 'tree',
  '160000': 'commit',
};

/**
 * A Git repository on disk, read through long-lived `git cat-file` processes with immutable
 * objects cached by id, and written with plumbing commands that never touch a work tree.
 */
export class GitRepository {
  private readonly objects: CatFileBatch;
  private readonly blobs: SizeBoundedCache<Buffer>;
  private readonly commits: SizeBoundedCache<GitCommit>;
  private readonly trees: SizeBoundedCache<GitTreeEntry[]>;
  /** Blob sizes by id, at most a million of them. */
  private readonly sizes = new SizeBoundedCache<number>(1_000_000);

  constructor(readonly dir: string, cacheBytes = 128 * 1024 * 1024) {
    this.objects = new CatFileBatch(dir);
    this.blobs = new SizeBoundedCache(cacheBytes / 2);
    this.commits = new SizeBoundedCache(cacheBytes / 8);
    this.trees = new SizeBoundedCache((cacheBytes * 3) / 8);
  }

  close() {
    this.objects.close();
  }

  /** Runs a git command; rejects with the exit code and standard error when it fails. */
  run(
    args: string[],
    options: { input?: string | Buffer; env?: NodeJS.ProcessEnv } = {},
  ): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const child = spawn('git', args, {
        cwd: this.dir,
        env: options.env ? { ...process.env, ...options.env } : process.env,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      child.stdout.on('data', chunk => stdout.push(chunk));
      child.stderr.on('data', chunk => stderr.push(chunk));
      child.stdin.on('error', () => {});
      child.on('error', reject);
      child.on('close', code => {
        const out = Buffer.concat(stdout);
        if (code === 0) resolve(out);
        else
          reject(
            new GitCommandError(
              args,
              code,
              out,
              Buffer.concat(stderr).toString(),
            ),
          );
      });
      child.stdin.end(options.input ?? '');
    });
  }

  /** The id and type of what a name designates now (refs move: never cached). */
  async resolve(
    name: string,
  ): Promise<{ sha: string; type: string } | undefined> {
    const object = await this.objects.info(name);
    return object && { sha: object.id, type: object.type };
  }

  /** The commit a name designates (peeling tags), or undefined. */
  async resolveCommit(name: string): Promise<string | undefined> {
    return (await this.resolve(`${name}^{commit}`))?.sha;
  }

  /** The type of an object id, or undefined when there is no such object. */
  async typeOf(id: string): Promise<string | undefined> {
    if (!GIT_ID.test(id)) return undefined;
    if (this.commits.get(id)) return 'commit';
    if (this.trees.get(id)) return 'tree';
    if (this.blobs.get(id)) return 'blob';
    return (await this.resolve(id))?.type;
  }

  async blob(id: string): Promise<Buffer | undefined> {
    if (!GIT_ID.test(id)) return undefined;
    const cached = this.blobs.get(id);
    if (cached) return cached;
    const object = await this.objects.read(id);
    if (object?.type !== 'blob' || !object.content) return undefined;
    this.blobs.set(id, object.content, object.content.length + 100);
    this.sizes.set(id, object.size, 1);
    return object.content;
  }

  async commit(id: string): Promise<GitCommit | undefined> {
    if (!GIT_ID.test(id)) return undefined;
    const cached = this.commits.get(id);
    if (cached) return cached;
    const object = await this.objects.read(id);
    if (object?.type !== 'commit' || !object.content) return undefined;
    const commit = parseCommit(id, object.content);
    this.commits.set(id, commit, object.content.length + 500);
    return commit;
  }

  /** The entries of one tree, in Git's order; blobs without their sizes. */
  async tree(id: string): Promise<GitTreeEntry[] | undefined> {
    if (!GIT_ID.test(id)) return undefined;
    const cached = this.trees.get(id);
    if (cached) return cached;
    const object = await this.objects.read(id);
    if (object?.type !== 'tree' || !object.content) return undefined;
    const entries = parseTree(object.content);
    this.trees.set(id, entries, entries.length * 150 + 100);
    return entries;
  }

  /**
   * What `git ls-tree -l [-r -t]` lists for a tree: every entry, with blob sizes, subtrees
   * before their contents when recursive.
   */
  async listTree(
    id: string,
    recursive: boolean,
  ): Promise<GitTreeEntry[] | undefined> {
    const key = `${id}${recursive ? ':recursive' : ':sized'}`;
    const cached = this.trees.get(key);
    if (cached) return cached;
    const top = await this.tree(id);
    if (!top) return undefined;
    // Subtrees are read a level at a time, all of a level at once, so that the reads queue in
    // cat-file's pipe instead of waiting for each other.
    const trees = new Map<string, GitTreeEntry[]>([[id, top]]);
    let level = recursive ? [top] : [];
    while (level.length > 0) {
      const subtrees = [
        ...new Set(
          level.flatMap(entries =>
            entries.filter(e => e.type === 'tree').map(e => e.sha),
          ),
        ),
      ].filter(sha => !trees.has(sha));
      const read = await Promise.all(subtrees.map(sha => this.tree(sha)));
      level = read.map((entries, index) => {
        if (!entries) throw new Error(`tree ${subtrees[index]} is missing`);
        trees.set(subtrees[index], entries);
        return entries;
      });
    }
    const listed: GitTreeEntry[] = [];
    const walk = (entries: GitTreeEntry[], prefix: string) => {
      for (const entry of entries) {
        const path = `${prefix}${entry.path}`;
        listed.push({ ...entry, path });
        if (recursive && entry.type === 'tree')
          walk(trees.get(entry.sha)!, `${path}/`);
      }
    };
    walk(top, '');
    const sizes = await Promise.all(
      listed.map(entry =>
        entry.type === 'blob' ? this.blobSize(entry.sha) : undefined,
      ),
    );
    listed.forEach((entry, index) => {
      if (entry.type === 'blob') entry.size = sizes[index];
    });
    this.trees.set(key, listed, listed.length * 150 + 100);
    return listed;
  }

  private async blobSize(id: string): Promise<number> {
    const cached = this.sizes.get(id);
    if (cached !== undefined) return cached;
    const object = await this.objects.info(id);
    if (!object) throw new Error(`blob ${id} is missing`);
    this.sizes.set(id, object.size, 1);
    return object.size;
  }

  /** The commits `git rev-list <args>` names (newest first unless `--reverse`), read and parsed. */
  async log(args: string[]): Promise<GitCommit[]> {
    const ids = (await this.run(['rev-list', ...args]))
      .toString()
      .split('\n')
      .filter(Boolean);
    return Promise.all(
      ids.map(async id => {
        const commit = await this.commit(id);
        if (!commit) throw new Error(`commit ${id} is missing`);
        return commit;
      }),
    );
  }

  /** Every ref, sorted by name. */
  async refs(): Promise<{ ref: string; sha: string; type: string }[]> {
    const out = await this.run([
      'for-each-ref',
      '--format=%(objectname) %(objecttype) %(refname)',
    ]);
    return out
      .toString()
      .split('\n')
      .filter(Boolean)
      .map(line => {
        const [sha, type, ref] = line.split(' ');
        return { sha, type, ref };
      });
  }

  /**
   * Every tag that names a commit, with that commit (annotated tags peeled, however deep),
   * highest version first.
   */
  async tags(): Promise<{ name: string; sha: string }[]> {
    const out = await this.run([
      'for-each-ref',
      '--sort=-v:refname',
      '--format=%(objecttype) %(objectname) %(*objecttype) %(*objectname) %(refname)',
      'refs/tags/',
    ]);
    const tags: { name: string; sha: string }[] = [];
    for (const line of out.toString().split('\n')) {
      if (!line) continue;
      const [type, sha, peeledType, peeled, ...ref] = line.split(' ');
      const name = ref.join(' ').slice('refs/tags/'.length);
      let commit: string | undefined;
      if (type === 'commit') commit = sha;
      else if (peeledType === 'commit') commit = peeled;
      else if (peeledType === 'tag')
        commit = await this.resolveCommit(`refs/tags/${name}`);
      if (commit) tags.push({ name, sha: commit });
    }
    return tags;
  }

  async writeBlob(content: Buffer): Promise<string> {
    const out = await this.run(['hash-object', '-w', '--stdin'], {
      input: content,
    });
    return out.toString().trim();
  }

  /** Writes one tree from its direct entries (`git mktree` sorts them). */
  async writeTree(entries: GitTreeEntry[]): Promise<string> {
    const input = entries
      .map(entry => `${entry.mode} ${entry.type} ${entry.sha}\t${entry.path}`)
      .join('\0');
    const out = await this.run(['mktree', '-z'], {
      input: entries.length ? `${input}\0` : '',
    });
    return out.toString().trim();
  }

  /**
   * Writes the tree that results from applying changes, by path (`a/b/c.yaml`), to a base tree
   * (or to an empty one), creating and pruning the directories on the way.
   */
  async applyToTree(
    base: string | undefined,
    changes: Map<string, TreeChange>,
  ): Promise<string> {
    const apply = async (
      tree: string | undefined,
      local: Map<string, TreeChange>,
    ): Promise<string | undefined> => {
      const entries = new Map<string, GitTreeEntry>();
      for (const entry of tree ? (await this.tree(tree)) ?? [] : [])
        entries.set(entry.path, entry);
      const nested = new Map<string, Map<string, TreeChange>>();
      for (const [path, change] of local) {
        const slash = path.indexOf('/');
        if (slash < 0) {
          if (change) entries.set(path, { ...change, path } as GitTreeEntry);
          else entries.delete(path);
        } else {
          const dir = path.slice(0, slash);
          if (!nested.has(dir)) nested.set(dir, new Map());
          nested.get(dir)!.set(path.slice(slash + 1), change);
        }
      }
      for (const [dir, inner] of nested) {
        const existing = entries.get(dir);
        const subtree = await apply(
          existing?.type === 'tree' ? existing.sha : undefined,
          inner,
        );
        if (subtree)
          entries.set(dir, {
            mode: '040000',
            type: 'tree',
            sha: subtree,
            path: dir,
          });
        else entries.delete(dir);
      }
      // Git keeps no empty directories, except an empty root.
      if (entries.size === 0) return undefined;
      return this.writeTree([...entries.values()]);
    };
    return (await apply(base, changes)) ?? this.writeTree([]);
  }

  async writeCommit(commit: {
    tree: string;
    parents: string[];
    message: string;
    author: GitPerson;
    committer: GitPerson;
  }): Promise<string> {
    const gitDate = (date: string) =>
      `@${Math.floor(new Date(date).getTime() / 1000)} +0000`;
    const out = await this.run(
      [
        'commit-tree',
        commit.tree,
        ...commit.parents.flatMap(parent => ['-p', parent]),
      ],
      {
        input: commit.message,
        env: {
          GIT_AUTHOR_NAME: commit.author.name,
          GIT_AUTHOR_EMAIL: commit.author.email,
          GIT_AUTHOR_DATE: gitDate(commit.author.date),
          GIT_COMMITTER_NAME: commit.committer.name,
          GIT_COMMITTER_EMAIL: commit.committer.email,
          GIT_COMMITTER_DATE: gitDate(commit.committer.date),
        },
      },
    );
    return out.toString().trim();
  }

  /**
   * Moves a ref from `expected` (NO_COMMIT: the ref must not exist) to `sha` (NO_COMMIT:
   * delete it), only if it still points where expected; false when it does not.
   */
  async compareAndSwap(
    ref: string,
    sha: string,
    expected: string,
  ): Promise<boolean> {
    const args =
      sha === NO_COMMIT
        ? ['update-ref', '-d', ref, expected]
        : ['update-ref', ref, sha, expected];
    return this.run(args).then(
      () => true,
      error => {
        if (error instanceof GitCommandError) return false;
        throw error;
      },
    );
  }

  /** The tree of merging two commits, and whether it merged without conflicts. */
  async mergeTrees(
    ours: string,
    theirs: string,
  ): Promise<{ tree: string; clean: boolean }> {
    const out = await this.run([
      'merge-tree',
      '--write-tree',
      '--no-messages',
      ours,
      theirs,
    ]).then(
      stdout => ({ stdout, clean: true }),
      error => {
        // Exit status 1 means conflicts; the first line is still the tree written.
        if (error instanceof GitCommandError && error.code === 1)
          return { stdout: error.stdout, clean: false };
        throw error;
      },
    );
    return {
      tree: out.stdout.toString().split('\n')[0].trim(),
      clean: out.clean,
    };
  }

  async mergeBase(a: string, b: string): Promise<string | undefined> {
    return this.run(['merge-base', a, b]).then(
      out => out.toString().trim() || undefined,
      () => undefined,
    );
  }

  async countCommits(range: string[]): Promise<number> {
    const out = await this.run(['rev-list', '--count', ...range]);
    return Number(out.toString().trim());
  }

  /** The files that differ between two commits (or from nothing to a root commit). */
  async diff(from: string | undefined, to: string): Promise<FileChange[]> {
    const args = [
      '-c',
      'core.quotepath=false',
      'diff-tree',
      '-r',
      '-M',
      '--raw',
      '--numstat',
      '-z',
      '--no-commit-id',
      ...(from ? [from, to] : ['--root', to]),
    ];
    const fields = (await this.run(args)).toString('utf8').split('\0');
    const changes: FileChange[] = [];
    let index = 0;
    // Raw records first (":<modes> <ids> <status>", then one or two paths), then numstat ones.
    while (index < fields.length && fields[index].startsWith(':')) {
      const [, , , newId, status] = fields[index].slice(1).split(' ');
      const letter = status[0];
      const renamed = letter === 'R' || letter === 'C';
      const previousFilename = renamed ? fields[index + 1] : undefined;
      const filename = renamed ? fields[index + 2] : fields[index + 1];
      index += renamed ? 3 : 2;
      changes.push({
        status:
          (
            {
              A: 'added',
              D: 'removed',
              M: 'modified',
              R: 'renamed',
              C: 'copied',
            } as const
          )[letter as 'A'] ?? 'changed',
        filename,
        previousFilename,
        sha: letter === 'D' ? undefined : newId,
        additions: 0,
        deletions: 0,
        binary: false,
      });
    }
    for (const change of changes) {
      // "<added>\t<deleted>\t<path>", or "<added>\t<deleted>\t" then two paths for a rename.
      const stat = fields[index++] ?? '';
      const [added, deleted, path] = stat.split('\t');
      if (path === '') index += 2;
      change.binary = added === '-';
      change.additions = change.binary ? 0 : Number(added);
      change.deletions = change.binary ? 0 : Number(deleted);
    }
    return changes;
  }

  /**
   * The paths each commit added, removed and modified against its first parent, renames as a
   * removal and an addition, as push webhooks list them; one `git diff-tree` for all commits.
   */
  async changedPaths(
    ids: string[],
  ): Promise<
    Map<string, { added: string[]; removed: string[]; modified: string[] }>
  > {
    const changes = new Map(
      ids.map(id => [
        id,
        {
          added: [] as string[],
          removed: [] as string[],
          modified: [] as string[],
        },
      ]),
    );
    if (ids.length === 0) return changes;
    const out = await this.run(
      [
        '-c',
        'core.quotepath=false',
        'diff-tree',
        '--stdin',
        '-r',
        '--root',
        '--no-renames',
        '--name-status',
        '-z',
      ],
      { input: `${ids.join('\n')}\n` },
    );
    const fields = out.toString('utf8').split('\0');
    let current: ReturnType<typeof changes.get>;
    for (let index = 0; index < fields.length; index++) {
      const field = fields[index];
      if (changes.has(field)) current = changes.get(field);
      else if (current && /^[A-Z]$/.test(field)) {
        const path = fields[++index];
        if (field === 'A') current.added.push(path);
        else if (field === 'D') current.removed.push(path);
        else current.modified.push(path);
      }
    }
    return changes;
  }

  /** The unified diff of each text file between two commits, by new path, hunks only. */
  async patches(from: string, to: string): Promise<Map<string, string>> {
    const out = await this.run([
      '-c',
      'core.quotepath=false',
      'diff-tree',
      '-r',
      '-M',
      '-p',
      '--no-color',
      '--no-ext-diff',
      '--no-commit-id',
      from,
      to,
    ]);
    const patches = new Map<string, string>();
    for (const file of out
      .toString('utf8')
      .split(/^diff --git /m)
      .slice(1)) {
      const hunk = file.search(/^@@ /m);
      if (hunk < 0) continue;
      const header = file.slice(0, hunk);
      // A removed file has no "+++ b/" line, only its old name.
      const name =
        /^\+\+\+ b\/(.*)$/m.exec(header)?.[1] ??
        /^--- a\/(.*)$/m.exec(header)?.[1];
      if (!name) continue;
      patches.set(name, file.slice(hunk).replace(/\n$/, ''));
    }
    return patches;
  }
}

/** Reads a raw commit object: headers, a blank line, the message. */
function parseCommit(sha: string, raw: Buffer): GitCommit {
  const end = raw.indexOf('\n\n');
  const head = raw.subarray(0, end < 0 ? raw.length : end).toString('utf8');
  const body = end < 0 ? Buffer.alloc(0) : raw.subarray(end + 2);
  const commit: GitCommit = {
    sha,
    tree: '',
    parents: [],
    author: { name: '', email: '', date: '' },
    committer: { name: '', email: '', date: '' },
    message: '',
  };
  let encoding = 'utf-8';
  // Continuation lines of multi-line headers (signatures) start with a space.
  for (const line of head.split('\n')) {
    if (line.startsWith(' ')) continue;
    const space = line.indexOf(' ');
    const key = line.slice(0, space);
    const value = line.slice(space + 1);
    if (key === 'tree') commit.tree = value;
    else if (key === 'parent') commit.parents.push(value);
    else if (key === 'author') commit.author = parsePerson(value);
    else if (key === 'committer') commit.committer = parsePerson(value);
    else if (key === 'encoding') encoding = value;
  }
  let message: string;
  try {
    message = new TextDecoder(encoding).decode(body);
  } catch {
    message = body.toString('utf8');
  }
  // GitHub shows the message as stored, without git's closing newline.
  commit.message = message.replace(/\n+$/, '');
  return commit;
}

/** "Name <email> 1700000000 +0200" */
function parsePerson(value: string): GitPerson {
  const open = value.lastIndexOf(' <');
  const close = value.lastIndexOf('> ');
  const [seconds] = value.slice(close + 2).split(' ');
  return {
    name: value.slice(0, open),
    email: value.slice(open + 2, close),
    date: githubTime(Number(seconds) * 1000),
  };
}

/** Reads a raw tree object: "<mode> <name>\0<20-byte id>" per entry. */
function parseTree(raw: Buffer): GitTreeEntry[] {
  const entries: GitTreeEntry[] = [];
  let offset = 0;
  while (offset < raw.length) {
    const space = raw.indexOf(32, offset);
    const nul = raw.indexOf(0, space);
    const mode = raw.subarray(offset, space).toString().padStart(6, '0');
    entries.push({
      mode,
      type: MODE_TYPES[mode] ?? 'blob',
      path: raw.subarray(space + 1, nul).toString('utf8'),
      sha: raw.subarray(nul + 1, nul + 21).toString('hex'),
    });
    offset = nul + 21;
  }
  return entries;
}
