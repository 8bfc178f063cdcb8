import {
  Answer,
  Call,
  notFound,
  pageLinks,
  pageOf,
  unprocessable,
} from './answers';
import { SimulatorContext } from './context';
import {
  FileChange,
  GIT_ID,
  GitPerson,
  githubTime,
  isRefName,
  MODE_TYPES,
  NO_COMMIT,
  TreeChange,
} from './GitRepository';

/**
 * The Git database endpoints (refs, blobs, trees, commits) and those that read history: list
 * commits, get a branch, compare two commits.
 */
export class GitEndpoints {
  constructor(private readonly ctx: SimulatorContext) {}

  async getRef(ref: string): Promise<Answer> {
    const name = `refs/${ref}`;
    if (!/^(heads|tags)\/./.test(ref) || !isRefName(name))
      return notFound('git/refs#get-a-reference');
    const object = await this.ctx.git.resolve(name);
    if (!object) return notFound('git/refs#get-a-reference');
    return {
      status: 200,
      body: this.ctx.objects.ref(name, object.sha, object.type),
    };
  }

  async matchingRefs(ref: string): Promise<Answer> {
    const prefix = `refs/${ref}`;
    const refs = (await this.ctx.git.refs()).filter(r =>
      r.ref.startsWith(prefix),
    );
    return {
      status: 200,
      body: refs.map(r => this.ctx.objects.ref(r.ref, r.sha, r.type)),
    };
  }

  createRef(call: Call): Promise<Answer> {
    return this.ctx.exclusive(async () => {
      const { ref, sha } = call.body as { ref: string; sha: string };
      if (!/^refs\/[^/]+\/./.test(ref) || !isRefName(ref))
        return unprocessable(
          call,
          "Reference name must start with 'refs/' and have at least two slashes.",
        );
      const type = await this.ctx.git.typeOf(sha);
      if (!type) return unprocessable(call, 'Object does not exist');
      if (!(await this.ctx.git.compareAndSwap(ref, sha, NO_COMMIT)))
        return unprocessable(call, 'Reference already exists');
      this.ctx.pushed(ref, NO_COMMIT, sha, call.user);
      return { status: 201, body: this.ctx.objects.ref(ref, sha, type) };
    });
  }

  updateRef(call: Call): Promise<Answer> {
    return this.ctx.exclusive(async () => {
      const ref = `refs/${call.params.ref}`;
      const { sha, force } = call.body as { sha: string; force?: boolean };
      if (!isRefName(ref))
        return unprocessable(call, 'Reference does not exist');
      const current = await this.ctx.git.resolve(ref);
      if (!current) return unprocessable(call, 'Reference does not exist');
      const type = await this.ctx.git.typeOf(sha);
      if (!type) return unprocessable(call, 'Object does not exist');
      const fastForward =
        current.sha === sha ||
        (await this.ctx.git.mergeBase(current.sha, sha)) === current.sha;
      if (!fastForward && !force)
        return unprocessable(call, 'Update is not a fast forward');
      if (!(await this.ctx.git.compareAndSwap(ref, sha, current.sha)))
        return unprocessable(call, 'Reference cannot be updated');
      if (current.sha !== sha)
        this.ctx.pushed(ref, current.sha, sha, call.user);
      return { status: 200, body: this.ctx.objects.ref(ref, sha, type) };
    });
  }

  deleteRef(call: Call): Promise<Answer> {
    return this.ctx.exclusive(async () => {
      const ref = `refs/${call.params.ref}`;
      const current = isRefName(ref)
        ? await this.ctx.git.resolve(ref)
        : undefined;
      // GitHub's description gives this 422 no body.
      if (!current) return { status: 422 };
      if (!(await this.ctx.git.compareAndSwap(ref, NO_COMMIT, current.sha)))
        return { status: 422 };
      this.ctx.pushed(ref, current.sha, NO_COMMIT, call.user);
      return { status: 204 };
    });
  }

  async getCommit(sha: string): Promise<Answer> {
    const key = `commit:${sha}`;
    const cached = this.ctx.answers.get(key);
    if (cached) return cached;
    const commit = await this.ctx.git.commit(sha);
    if (!commit) return notFound('git/commits#get-a-commit-object');
    const answer = { status: 200, body: this.ctx.objects.gitCommit(commit) };
    this.ctx.answers.set(key, answer, 2000 + commit.message.length);
    return answer;
  }

  async getTree(sha: string, recursive: boolean): Promise<Answer> {
    // GitHub also takes a branch or tag name here; names move, so only ids are cached.
    if (!GIT_ID.test(sha)) {
      const commit = isRefName(sha)
        ? await this.ctx.git.resolveCommit(sha)
        : undefined;
      return commit
        ? this.getTree(commit, recursive)
        : notFound('git/trees#get-a-tree');
    }
    const max = this.ctx.maxTreeEntries();
    const key = `tree:${sha}:${recursive}:${max}`;
    const cached = this.ctx.answers.get(key);
    if (cached) return cached;
    // GitHub also accepts a commit here and lists its tree.
    const type = await this.ctx.git.typeOf(sha);
    const tree =
      type === 'commit' ? (await this.ctx.git.commit(sha))?.tree : sha;
    const listed =
      (type === 'tree' || type === 'commit') && tree
        ? await this.ctx.git.listTree(tree, recursive)
        : undefined;
    if (!tree || !listed) return notFound('git/trees#get-a-tree');
    const truncated = recursive && listed.length > max;
    const entries = (truncated ? listed.slice(0, max) : listed).map(entry =>
      entry.type === 'commit'
        ? {
            path: entry.path,
            mode: entry.mode,
            type: entry.type,
            sha: entry.sha,
          }
        : {
            path: entry.path,
            mode: entry.mode,
            type: entry.type,
            sha: entry.sha,
            ...(entry.type === 'blob' ? { size: entry.size } : {}),
            url: this.ctx.objects.api(`/git/${entry.type}s/${entry.sha}`),
          },
    );
    const answer = {
      status: 200,
      body: {
        sha: tree,
        url: this.ctx.objects.api(`/git/trees/${tree}`),
        tree: entries,
        truncated,
      },
    };
    this.ctx.answers.set(key, answer, 300 + entries.length * 250);
    return answer;
  }

  async getBlob(sha: string): Promise<Answer> {
    const key = `blob:${sha}`;
    const cached = this.ctx.answers.get(key);
    if (cached) return cached;
    const content = await this.ctx.git.blob(sha);
    if (!content) return notFound('git/blobs#get-a-blob');
    // GitHub wraps base64 content at 60 characters.
    const base64 = content.toString('base64').replace(/.{60}/g, '$&\n');
    const answer = {
      status: 200,
      body: {
        sha,
        node_id: this.ctx.objects.nodeId('Blob', sha),
        size: content.length,
        url: this.ctx.objects.api(`/git/blobs/${sha}`),
        content:
          base64.endsWith('\n') || base64 === '' ? base64 : `${base64}\n`,
        encoding: 'base64',
      },
    };
    this.ctx.answers.set(key, answer, 500 + base64.length * 2);
    return answer;
  }

  createBlob(call: Call): Promise<Answer> {
    return this.ctx.exclusive(async () => {
      const { content, encoding = 'utf-8' } = call.body as {
        content: string;
        encoding?: string;
      };
      if (!['utf-8', 'utf8', 'base64'].includes(encoding))
        return unprocessable(
          call,
          `encoding must be one of utf-8 or base64, got ${encoding}`,
        );
      const bytes = Buffer.from(
        content,
        encoding === 'base64' ? 'base64' : 'utf8',
      );
      const sha = await this.ctx.git.writeBlob(bytes);
      return {
        status: 201,
        body: { sha, url: this.ctx.objects.api(`/git/blobs/${sha}`) },
      };
    });
  }

  createTree(call: Call): Promise<Answer> {
    return this.ctx.exclusive(async () => {
      const { tree: entries, base_tree: baseTree } = call.body as {
        tree: {
          path?: string;
          mode?: string;
          type?: string;
          sha?: string | null;
          content?: string;
        }[];
        base_tree?: string;
      };
      let base: string | undefined;
      if (baseTree !== undefined) {
        const type = await this.ctx.git.typeOf(baseTree);
        base =
          type === 'commit'
            ? (await this.ctx.git.commit(baseTree))?.tree
            : baseTree;
        if (type !== 'tree' && type !== 'commit')
          return unprocessable(call, 'base_tree is not a valid tree oid');
      }
      const changes = new Map<string, TreeChange>();
      for (const entry of entries) {
        const { path, mode, type } = entry;
        const invalid = (field: string, code: string) =>
          unprocessable(call, 'Invalid tree info', [
            { resource: 'Tree', field, code },
          ]);
        if (!path || path.split('/').some(p => !p || p === '.' || p === '..'))
          return invalid('path', path ? 'invalid' : 'missing_field');
        if (!mode) return invalid('mode', 'missing_field');
        if (!type || type !== (MODE_TYPES[mode] ?? 'blob'))
          return invalid('type', type ? 'invalid' : 'missing_field');
        if (entry.content !== undefined) {
          if (type !== 'blob') return invalid('content', 'invalid');
          changes.set(path, {
            mode,
            type,
            sha: await this.ctx.git.writeBlob(Buffer.from(entry.content)),
          });
        } else if (entry.sha === null) {
          changes.set(path, null);
        } else if (entry.sha !== undefined) {
          if (
            type !== 'commit' &&
            (await this.ctx.git.typeOf(entry.sha)) !== type
          )
            return unprocessable(call, 'GitRPC::BadObjectState');
          changes.set(path, { mode, type, sha: entry.sha });
        } else {
          return invalid('sha', 'missing_field');
        }
      }
      const sha = await this.ctx.git.applyToTree(base, changes);
      const listed = (await this.ctx.git.listTree(sha, false)) ?? [];
      return {
        status: 201,
        body: {
          sha,
          url: this.ctx.objects.api(`/git/trees/${sha}`),
          tree: listed.map(entry => ({
            path: entry.path,
            mode: entry.mode,
            type: entry.type,
            sha: entry.sha,
            ...(entry.type === 'blob' ? { size: entry.size } : {}),
            url: this.ctx.objects.api(`/git/${entry.type}s/${entry.sha}`),
          })),
          truncated: false,
        },
      };
    });
  }

  createCommit(call: Call): Promise<Answer> {
    return this.ctx.exclusive(async () => {
      const body = call.body as {
        message: string;
        tree: string;
        parents?: string[];
        author?: { name: string; email: string; date?: string };
        committer?: { name?: string; email?: string; date?: string };
      };
      if ((await this.ctx.git.typeOf(body.tree)) !== 'tree')
        return unprocessable(call, 'Tree SHA does not exist');
      for (const parent of body.parents ?? []) {
        if ((await this.ctx.git.typeOf(parent)) !== 'commit')
          return unprocessable(
            call,
            'Parent SHA does not exist or is not a commit object',
          );
      }
      const now = Date.now();
      const author: GitPerson = body.author
        ? {
            name: body.author.name,
            email: body.author.email,
            date: githubTime(body.author.date ?? now),
          }
        : this.ctx.person(call.user, now);
      const committer: GitPerson = body.committer
        ? {
            name: body.committer.name ?? author.name,
            email: body.committer.email ?? author.email,
            date: githubTime(body.committer.date ?? now),
          }
        : { ...author, date: body.author ? githubTime(now) : author.date };
      const sha = await this.ctx.git.writeCommit({
        tree: body.tree,
        parents: body.parents ?? [],
        message: body.message,
        author,
        committer,
      });
      const commit = await this.ctx.git.commit(sha);
      return { status: 201, body: this.ctx.objects.gitCommit(commit!) };
    });
  }

  async listCommits(query: URLSearchParams): Promise<Answer> {
    const { perPage, page: number, skip } = pageOf(query);
    const start = query.get('sha') ?? 'HEAD';
    const path = query.get('path');
    const head = start.startsWith('-')
      ? undefined
      : await this.ctx.git.resolveCommit(start);
    if (!head) return notFound('commits/commits#list-commits');
    const key = `commits:${head}:${skip}:${perPage}:${path ?? ''}`;
    let answer = this.ctx.answers.get(key);
    if (!answer) {
      const commits = await this.ctx.git.log([
        `--skip=${skip}`,
        `--max-count=${perPage + 1}`,
        head,
        ...(path ? ['--', `:(literal)${path}`] : []),
      ]);
      const more = commits.length > perPage;
      answer = {
        status: 200,
        body: commits
          .slice(0, perPage)
          .map(commit => this.ctx.objects.commit(commit)),
        // The link names the page after this one: it depends on the query, not only the key.
        headers: more ? { link: 'next' } : {},
      };
      this.ctx.answers.set(key, answer, 1000 + perPage * 2000);
    }
    if (!answer.headers?.link) return answer;
    const next = new URLSearchParams(query);
    next.set('page', String(number + 1));
    return {
      ...answer,
      headers: {
        link: `<${this.ctx.objects.api(`/commits?${next}`)}>; rel="next"`,
      },
    };
  }

  /** `repos/list-tags`: tags move, so the list is read again for every request. */
  async listTags(query: URLSearchParams): Promise<Answer> {
    const { perPage, page, skip } = pageOf(query);
    const tags = await this.ctx.git.tags();
    return {
      status: 200,
      headers: pageLinks(
        this.ctx.objects.api('/tags'),
        query,
        page,
        tags.length,
      ),
      body: tags.slice(skip, skip + perPage).map(tag => {
        // A tag's name may hold characters a URL may not: each part is escaped.
        const ref = `refs/tags/${tag.name
          .split('/')
          .map(encodeURIComponent)
          .join('/')}`;
        return {
          name: tag.name,
          zipball_url: this.ctx.objects.api(`/zipball/${ref}`),
          tarball_url: this.ctx.objects.api(`/tarball/${ref}`),
          commit: {
            sha: tag.sha,
            url: this.ctx.objects.api(`/commits/${tag.sha}`),
          },
          node_id: this.ctx.objects.nodeId('Ref', `refs/tags/${tag.name}`),
        };
      }),
    };
  }

  async getBranch(call: Call): Promise<Answer> {
    const name = call.params.branch;
    const sha = isRefName(`refs/heads/${name}`)
      ? await this.ctx.git.resolveCommit(`refs/heads/${name}`)
      : undefined;
    const commit = sha && (await this.ctx.git.commit(sha));
    if (!commit) return notFound('branches/branches#get-a-branch');
    const url = this.ctx.objects.api(`/branches/${name}`);
    return {
      status: 200,
      body: {
        name,
        commit: this.ctx.objects.commit(commit),
        _links: { self: url, html: this.ctx.objects.html(`/tree/${name}`) },
        protected: false,
        protection: {
          enabled: false,
          required_status_checks: {
            enforcement_level: 'off',
            contexts: [],
            checks: [],
          },
        },
        protection_url: `${url}/protection`,
      },
    };
  }

  /** `base...head`, either side a branch, a tag, a sha or `owner:branch`. */
  async compare(call: Call): Promise<Answer> {
    const match = /^(.+?)\.\.\.?(.+)$/.exec(call.params.basehead);
    const side = (name: string) => {
      const [owner, branch] = name.includes(':')
        ? name.split(':', 2)
        : [this.ctx.owner, name];
      return owner === this.ctx.owner && !branch.startsWith('-')
        ? this.ctx.git.resolveCommit(branch)
        : Promise.resolve(undefined);
    };
    const base = match && (await side(match[1]));
    const head = match && (await side(match[2]));
    const mergeBase =
      base && head && (await this.ctx.git.mergeBase(base, head));
    if (!base || !head || !mergeBase)
      return notFound('commits/commits#compare-two-commits');
    const [baseCommit, mergeBaseCommit] = await Promise.all([
      this.ctx.git.commit(base),
      this.ctx.git.commit(mergeBase),
    ]);
    const [aheadBy, behindBy] = await Promise.all([
      this.ctx.git.countCommits([`${base}..${head}`]),
      this.ctx.git.countCommits([`${head}..${base}`]),
    ]);
    const { perPage, skip } = pageOf(call.query);
    // GitHub lists the commits oldest first, at most 250 without pagination.
    const commits = await this.ctx.git.log([
      '--reverse',
      `${mergeBase}..${head}`,
    ]);
    const listed = call.query.has('page')
      ? commits.slice(skip, skip + perPage)
      : commits.slice(0, 250);
    const files = await this.files(mergeBase, head);
    let status = 'diverged';
    if (behindBy === 0) status = aheadBy === 0 ? 'identical' : 'ahead';
    else if (aheadBy === 0) status = 'behind';
    const basehead = `${match![1]}...${match![2]}`;
    return {
      status: 200,
      body: {
        url: this.ctx.objects.api(`/compare/${basehead}`),
        html_url: this.ctx.objects.html(`/compare/${basehead}`),
        permalink_url: this.ctx.objects.html(
          `/compare/${this.ctx.owner}:${base.slice(0, 7)}...${
            this.ctx.owner
          }:${head.slice(0, 7)}`,
        ),
        diff_url: this.ctx.objects.html(`/compare/${basehead}.diff`),
        patch_url: this.ctx.objects.html(`/compare/${basehead}.patch`),
        base_commit: this.ctx.objects.commit(baseCommit!),
        merge_base_commit: this.ctx.objects.commit(mergeBaseCommit!),
        status,
        ahead_by: aheadBy,
        behind_by: behindBy,
        total_commits: aheadBy,
        commits: listed.map(commit => this.ctx.objects.commit(commit)),
        files: files.slice(0, 300),
      },
    };
  }

  /** `diff-entry` for every file that differs between two commits. */
  private async files(from: string, to: string) {
    const [changes, patches] = await Promise.all([
      this.ctx.git.diff(from, to),
      this.ctx.git.patches(from, to),
    ]);
    return changes.map((change: FileChange) => {
      // A removed file is shown where it last was.
      const at = change.sha ? to : from;
      const path = change.filename;
      const patch = patches.get(change.filename);
      return {
        sha: change.sha ?? null,
        filename: change.filename,
        status: change.status,
        additions: change.additions,
        deletions: change.deletions,
        changes: change.additions + change.deletions,
        blob_url: this.ctx.objects.html(`/blob/${at}/${path}`),
        raw_url: this.ctx.objects.html(`/raw/${at}/${path}`),
        contents_url: this.ctx.objects.api(`/contents/${path}?ref=${at}`),
        ...(patch !== undefined ? { patch } : {}),
        ...(change.previousFilename
          ? { previous_filename: change.previousFilename }
          : {}),
      };
    });
  }
}
