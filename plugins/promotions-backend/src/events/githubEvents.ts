import { RepositoryConfig } from '@gitops-promotions/plugin-promotions-node';

/**
 * The topics the events backend's GitHub module publishes a webhook delivery on: `github`, then
 * `github.<X-GitHub-Event>` through its event router.
 */
export const GITHUB_TOPICS = [
  'github.push',
  'github.pull_request',
  'github.pull_request_review',
  'github.check_run',
  'github.check_suite',
  'github.status',
];

/** What a webhook delivery asks of the backend. */
export type GithubEventRequest =
  | {
      /** A push: the repositories whose head or tags may have moved. */
      kind: 'push';
      repositoryIds: string[];
      /** The branch pushed to, or undefined for a tag. */
      branch?: string;
      /** Configured repositories read from that branch (or every one, for a tag). */
      readFrom: string[];
    }
  | {
      /** A pull request, review, check or status: the promotions on these branches or heads. */
      kind: 'promotion';
      repositoryIds: string[];
      branches: string[];
      commits: string[];
    }
  | {
      kind: 'ignored';
      /** Why, for the log. */
      reason: string;
      /** A payload not shaped as GitHub sends it, rather than one of no concern here. */
      malformed: boolean;
    };

/** Longest URL, branch name and list read from a payload: GitHub's are far shorter. */
const MAX_TEXT = 1024;
const MAX_ITEMS = 100;

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value.length > 0 && value.length <= MAX_TEXT
    ? value
    : undefined;

const objectAt = (value: unknown): Record<string, unknown> | undefined =>
  value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;

const listAt = (value: unknown): unknown[] =>
  Array.isArray(value) ? value.slice(0, MAX_ITEMS) : [];

const commitOf = (value: unknown) => {
  const sha = text(value);
  return sha && /^[0-9a-f]{40}([0-9a-f]{24})?$/i.test(sha)
    ? sha.toLowerCase()
    : undefined;
};

/** A branch name as Git allows it, nothing that could be read as a path or an option. */
const branchOf = (value: unknown) => {
  const name = text(value);
  return name &&
    !name.startsWith('-') &&
    !name.split('/').some(part => part === '' || part.startsWith('.')) &&
    !/[\0-\x20\x7f~^:?*[\\]|\.\.|@\{|\.lock$/.test(name)
    ? name
    : undefined;
};

/**
 * `host/owner/name` of a Git URL, in lower case, for HTTPS, SSH and scp-like URLs; undefined
 * for a local path or anything else.
 */
export function repositoryKey(url: string): string | undefined {
  if (url.length > MAX_TEXT) return undefined;
  let host: string;
  let path: string;
  const scp = /^[\w.-]+@([\w.-]+):(?!\/)(.+)$/.exec(url);
  if (scp) {
    [, host, path] = scp;
  } else {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return undefined;
    }
    if (!['https:', 'http:', 'ssh:', 'git:'].includes(parsed.protocol)) {
      return undefined;
    }
    host = parsed.hostname;
    path = decodeURIComponent(parsed.pathname);
  }
  const parts = path
    .replace(/\.git\/?$/, '')
    .split('/')
    .filter(Boolean);
  if (!host || parts.length < 2 || parts.some(p => p === '..' || p === '.')) {
    return undefined;
  }
  return [host, ...parts].join('/').toLowerCase();
}

/**
 * The configured repositories a payload's `repository` names: its web, clone and SSH URLs, and
 * its `full_name` on the host they give, matched against each configured repository's URL and
 * the URL Argo CD clones it from.
 */
function repositoriesNamed(
  payload: Record<string, unknown>,
  repositories: RepositoryConfig[],
): { ids: string[]; named: string } | undefined {
  const repository = objectAt(payload.repository);
  if (!repository) return undefined;
  const keys = new Set<string>();
  for (const field of ['html_url', 'clone_url', 'ssh_url', 'git_url']) {
    const url = text(repository[field]);
    const key = url && repositoryKey(url);
    if (key) keys.add(key);
  }
  const fullName = text(repository.full_name);
  if (fullName && /^[\w.-]+\/[\w.-]+$/.test(fullName)) {
    // Where the payload gives no URL at all, GitHub itself is meant.
    const hosts = new Set([...keys].map(key => key.split('/')[0]));
    if (hosts.size === 0) hosts.add('github.com');
    for (const host of hosts) keys.add(`${host}/${fullName}`.toLowerCase());
  }
  if (keys.size === 0) return undefined;
  const ids: string[] = [];
  for (const configured of repositories) {
    // A local clone names its remote as the URL Argo CD clones from.
    const own = [configured.url, configured.argocdRepoURL].flatMap(url =>
      url ? [repositoryKey(url)] : [],
    );
    if (own.some(key => key && keys.has(key))) ids.push(configured.id);
  }
  return { ids, named: fullName ?? [...keys][0] };
}

/** The branches and head commits a pull request names. */
function pullRequestHeads(
  pullRequests: unknown[],
  branches: Set<string>,
  commits: Set<string>,
) {
  for (const value of pullRequests) {
    const head = objectAt(objectAt(value)?.head);
    const branch = branchOf(head?.ref);
    const commit = commitOf(head?.sha);
    if (branch) branches.add(branch);
    if (commit) commits.add(commit);
  }
}

/**
 * Reads a webhook delivery the events backend published on `topic` (its signature already
 * checked): which configured repositories it concerns, and what it asks of them. Every field is
 * checked; anything not shaped as GitHub sends it is ignored, never thrown.
 */
export function readGithubEvent(
  topic: string,
  eventPayload: unknown,
  configuredRepositories: Iterable<RepositoryConfig>,
): GithubEventRequest {
  // Read twice below: an iterator would be empty the second time.
  const repositories = [...configuredRepositories];
  const payload = objectAt(eventPayload);
  if (!payload) {
    return {
      kind: 'ignored',
      reason: 'the payload is not an object',
      malformed: true,
    };
  }
  const named = repositoriesNamed(payload, repositories);
  if (!named) {
    return {
      kind: 'ignored',
      reason: 'it names no repository',
      malformed: true,
    };
  }
  if (named.ids.length === 0) {
    return {
      kind: 'ignored',
      reason: `repository ${named.named} is not configured`,
      malformed: false,
    };
  }
  const configured = new Map(repositories.map(r => [r.id, r]));
  const branches = new Set<string>();
  const commits = new Set<string>();
  switch (topic) {
    case 'github.push': {
      const ref = text(payload.ref);
      if (ref?.startsWith('refs/tags/')) {
        // An environment may be read from a tag: any tag may be one.
        return { kind: 'push', repositoryIds: named.ids, readFrom: named.ids };
      }
      const branch = ref?.startsWith('refs/heads/')
        ? branchOf(ref.slice('refs/heads/'.length))
        : undefined;
      if (!branch) {
        return {
          kind: 'ignored',
          reason: 'the push names no branch or tag',
          malformed: true,
        };
      }
      return {
        kind: 'push',
        repositoryIds: named.ids,
        branch,
        readFrom: named.ids.filter(id => configured.get(id)?.branch === branch),
      };
    }
    case 'github.pull_request':
    case 'github.pull_request_review':
      pullRequestHeads([payload.pull_request], branches, commits);
      break;
    case 'github.check_run': {
      const run = objectAt(payload.check_run);
      const commit = commitOf(run?.head_sha);
      if (commit) commits.add(commit);
      const suite = objectAt(run?.check_suite);
      const branch = branchOf(suite?.head_branch);
      if (branch) branches.add(branch);
      pullRequestHeads(listAt(run?.pull_requests), branches, commits);
      break;
    }
    case 'github.check_suite': {
      const suite = objectAt(payload.check_suite);
      const commit = commitOf(suite?.head_sha);
      if (commit) commits.add(commit);
      const branch = branchOf(suite?.head_branch);
      if (branch) branches.add(branch);
      pullRequestHeads(listAt(suite?.pull_requests), branches, commits);
      break;
    }
    case 'github.status': {
      const commit = commitOf(payload.sha);
      if (commit) commits.add(commit);
      for (const value of listAt(payload.branches)) {
        const branch = branchOf(objectAt(value)?.name);
        if (branch) branches.add(branch);
      }
      break;
    }
    default:
      return {
        kind: 'ignored',
        reason: `topic ${topic} is not followed`,
        malformed: false,
      };
  }
  if (branches.size === 0 && commits.size === 0) {
    return {
      kind: 'ignored',
      reason: 'it names no branch or commit',
      malformed: true,
    };
  }
  return {
    kind: 'promotion',
    repositoryIds: named.ids,
    branches: [...branches],
    commits: [...commits],
  };
}
