import crypto from 'node:crypto';
import { GitCommit, githubTime } from './GitRepository';

/** A GitHub account the simulator knows: the author of a request, a pull request or a review. */
export interface GithubUser {
  login: string;
  id: number;
  /** 'User' unless told otherwise. */
  type?: 'User' | 'Bot' | 'Organization';
}

/** Where the simulated GitHub lives and which repository it serves. */
export interface GithubSite {
  /** The REST API's base, like https://api.github.com. */
  api: string;
  /** The web's origin, like https://github.com. */
  web: string;
  owner: string;
  repo: string;
}

const STARTED = githubTime(Date.now());

/** A stable number for a name, for ids GitHub would have assigned. */
export function stableId(name: string): number {
  return crypto.createHash('sha1').update(name).digest().readUInt32BE(0) % 1e9;
}

/** The address GitHub gives a user's commits made on the web and through the API. */
export const noreplyEmail = (user: GithubUser) =>
  `${user.id}+${user.login}@users.noreply.github.com`;

/**
 * Builds GitHub's representations of users, the repository and commits, with the URLs GitHub
 * would put in them, so that each endpoint and webhook shapes them the same way.
 */
export class GithubObjects {
  readonly repositoryId: number;
  readonly owner: GithubUser;

  constructor(private readonly site: GithubSite) {
    this.repositoryId = stableId(`${site.owner}/${site.repo}`);
    this.owner = {
      login: site.owner,
      id: stableId(site.owner),
      type: 'Organization',
    };
  }

  /** A URL of the repository in the API. */
  api(path: string) {
    return `${this.site.api}/repos/${this.site.owner}/${this.site.repo}${path}`;
  }

  /** A URL of the repository on the web. */
  html(path: string) {
    return `${this.site.web}/${this.site.owner}/${this.site.repo}${path}`;
  }

  nodeId(type: string, id: string | number) {
    return Buffer.from(
      `${type}:${this.site.owner}/${this.site.repo}:${id}`,
    ).toString('base64');
  }

  /** `simple-user` */
  user(user: GithubUser) {
    const api = `${this.site.api}/users/${user.login}`;
    return {
      login: user.login,
      id: user.id,
      node_id: Buffer.from(`${user.type ?? 'User'}:${user.id}`).toString(
        'base64',
      ),
      avatar_url: `${this.site.web}/avatars/u/${user.id}`,
      gravatar_id: '',
      url: api,
      html_url: `${this.site.web}/${user.login}`,
      followers_url: `${api}/followers`,
      following_url: `${api}/following{/other_user}`,
      gists_url: `${api}/gists{/gist_id}`,
      starred_url: `${api}/starred{/owner}{/repo}`,
      subscriptions_url: `${api}/subscriptions`,
      organizations_url: `${api}/orgs`,
      repos_url: `${api}/repos`,
      events_url: `${api}/events{/privacy}`,
      received_events_url: `${api}/received_events`,
      type: user.type ?? 'User',
      user_view_type: 'public',
      site_admin: false,
    };
  }

  /** How a user relates to the repository, as pull requests and reviews show it. */
  association(user: GithubUser) {
    return user.login === this.site.owner ? 'OWNER' : 'COLLABORATOR';
  }

  /** `full-repository`, which also satisfies `repository` and `minimal-repository`. */
  repository(defaultBranch: string, openIssues: number) {
    const api = this.api('');
    const { owner, repo } = this.site;
    const host = new URL(this.site.web).host;
    return {
      id: this.repositoryId,
      node_id: this.nodeId('Repository', this.repositoryId),
      name: repo,
      full_name: `${owner}/${repo}`,
      owner: this.user(this.owner),
      private: true,
      html_url: this.html(''),
      description: null,
      fork: false,
      url: api,
      archive_url: `${api}/{archive_format}{/ref}`,
      assignees_url: `${api}/assignees{/user}`,
      blobs_url: `${api}/git/blobs{/sha}`,
      branches_url: `${api}/branches{/branch}`,
      collaborators_url: `${api}/collaborators{/collaborator}`,
      comments_url: `${api}/comments{/number}`,
      commits_url: `${api}/commits{/sha}`,
      compare_url: `${api}/compare/{base}...{head}`,
      contents_url: `${api}/contents/{+path}`,
      contributors_url: `${api}/contributors`,
      deployments_url: `${api}/deployments`,
      downloads_url: `${api}/downloads`,
      events_url: `${api}/events`,
      forks_url: `${api}/forks`,
      git_commits_url: `${api}/git/commits{/sha}`,
      git_refs_url: `${api}/git/refs{/sha}`,
      git_tags_url: `${api}/git/tags{/sha}`,
      git_url: `git://${host}/${owner}/${repo}.git`,
      issue_comment_url: `${api}/issues/comments{/number}`,
      issue_events_url: `${api}/issues/events{/number}`,
      issues_url: `${api}/issues{/number}`,
      keys_url: `${api}/keys{/key_id}`,
      labels_url: `${api}/labels{/name}`,
      languages_url: `${api}/languages`,
      merges_url: `${api}/merges`,
      milestones_url: `${api}/milestones{/number}`,
      notifications_url: `${api}/notifications{?since,all,participating}`,
      pulls_url: `${api}/pulls{/number}`,
      releases_url: `${api}/releases{/id}`,
      ssh_url: `git@${host}:${owner}/${repo}.git`,
      stargazers_url: `${api}/stargazers`,
      statuses_url: `${api}/statuses/{sha}`,
      subscribers_url: `${api}/subscribers`,
      subscription_url: `${api}/subscription`,
      tags_url: `${api}/tags`,
      teams_url: `${api}/teams`,
      trees_url: `${api}/git/trees{/sha}`,
      clone_url: `${this.html('')}.git`,
      mirror_url: null,
      hooks_url: `${api}/hooks`,
      svn_url: this.html(''),
      homepage: null,
      language: null,
      forks_count: 0,
      stargazers_count: 0,
      watchers_count: 0,
      size: 0,
      default_branch: defaultBranch,
      open_issues_count: openIssues,
      is_template: false,
      topics: [],
      has_issues: true,
      has_projects: true,
      has_wiki: true,
      has_pages: false,
      has_downloads: true,
      has_discussions: false,
      archived: false,
      disabled: false,
      visibility: 'private',
      pushed_at: STARTED,
      created_at: STARTED,
      updated_at: STARTED,
      permissions: {
        admin: true,
        maintain: true,
        push: true,
        triage: true,
        pull: true,
      },
      allow_rebase_merge: true,
      allow_squash_merge: true,
      allow_merge_commit: true,
      allow_auto_merge: false,
      delete_branch_on_merge: false,
      allow_update_branch: false,
      use_squash_pr_title_as_default: false,
      squash_merge_commit_title: 'COMMIT_OR_PR_TITLE',
      squash_merge_commit_message: 'COMMIT_MESSAGES',
      merge_commit_title: 'MERGE_MESSAGE',
      merge_commit_message: 'PR_TITLE',
      allow_forking: true,
      web_commit_signoff_required: false,
      license: null,
      forks: 0,
      open_issues: openIssues,
      watchers: 0,
      subscribers_count: 0,
      network_count: 0,
    };
  }

  /** The `minimal-repository` of a pull request's head or base, in `pull-request-minimal`. */
  repositoryReference() {
    return {
      id: this.repositoryId,
      url: this.api(''),
      name: this.site.repo,
    };
  }

  static readonly unsigned = {
    verified: false,
    reason: 'unsigned',
    signature: null,
    payload: null,
    verified_at: null,
  };

  /** `git-commit`: a commit of the Git database. */
  gitCommit(commit: GitCommit) {
    return {
      sha: commit.sha,
      node_id: this.nodeId('Commit', commit.sha),
      url: this.api(`/git/commits/${commit.sha}`),
      html_url: this.html(`/commit/${commit.sha}`),
      author: commit.author,
      committer: commit.committer,
      tree: { sha: commit.tree, url: this.api(`/git/trees/${commit.tree}`) },
      message: commit.message,
      parents: commit.parents.map(parent => ({
        sha: parent,
        url: this.api(`/git/commits/${parent}`),
        html_url: this.html(`/commit/${parent}`),
      })),
      verification: GithubObjects.unsigned,
    };
  }

  /** `commit`: a commit as the commits and compare endpoints show it. */
  commit(commit: GitCommit) {
    return {
      sha: commit.sha,
      node_id: this.nodeId('Commit', commit.sha),
      commit: {
        author: commit.author,
        committer: commit.committer,
        message: commit.message,
        tree: {
          sha: commit.tree,
          url: this.api(`/git/trees/${commit.tree}`),
        },
        url: this.api(`/git/commits/${commit.sha}`),
        comment_count: 0,
        verification: GithubObjects.unsigned,
      },
      url: this.api(`/commits/${commit.sha}`),
      html_url: this.html(`/commit/${commit.sha}`),
      comments_url: this.api(`/commits/${commit.sha}/comments`),
      // The fixture's authors are not GitHub accounts.
      author: null,
      committer: null,
      parents: commit.parents.map(parent => ({
        sha: parent,
        url: this.api(`/commits/${parent}`),
        html_url: this.html(`/commit/${parent}`),
      })),
    };
  }

  /** `git-ref` */
  ref(ref: string, sha: string, type: string) {
    return {
      ref,
      node_id: this.nodeId('Ref', ref),
      url: this.api(`/git/${ref}`),
      object: { sha, type, url: this.api(`/git/${type}s/${sha}`) },
    };
  }

  /** `integration`: the app that reports the check runs the simulator holds. */
  app() {
    return {
      id: 1,
      slug: 'github-simulator',
      node_id: Buffer.from('App:1').toString('base64'),
      client_id: 'Iv1.0000000000000001',
      owner: this.user(this.owner),
      name: 'GitHub simulator',
      description: 'Reports the check runs tests set',
      external_url: this.site.web,
      html_url: `${this.site.web}/apps/github-simulator`,
      created_at: STARTED,
      updated_at: STARTED,
      permissions: { checks: 'write', metadata: 'read', contents: 'read' },
      events: [],
    };
  }
}
