import { ConfigReader } from '@backstage/config';
import { RepositoryConfig } from '@gitops-promotions/plugin-promotions-node';
import { readGithubEvent, repositoryKey } from './githubEvents';

const configured = (
  id: string,
  url: string,
  branch = 'main',
): RepositoryConfig => ({
  id,
  provider: 'github',
  url,
  branch,
  config: new ConfigReader({}),
});

const REPOSITORIES = [
  configured('gitops', 'https://github.com/acme/gitops'),
  // The same repository read at another branch (a branch per environment).
  configured('gitops-prod', 'https://github.com/acme/gitops.git', 'production'),
  configured('enterprise', 'git@ghe.acme.example:platform/deploy.git'),
  configured('local', '/srv/git/gitops'),
  {
    ...configured('mirror', '/srv/git/environment-dev'),
    argocdRepoURL: 'https://github.com/acme/environment-dev',
  },
];

const SHA = 'a'.repeat(40);
const repository = (fullName = 'acme/gitops', host = 'github.com') => ({
  full_name: fullName,
  html_url: `https://${host}/${fullName}`,
  clone_url: `https://${host}/${fullName}.git`,
  ssh_url: `git@${host}:${fullName}.git`,
});

describe('repositoryKey', () => {
  it('reads HTTPS, SSH and scp-like URLs alike, and no local path', () => {
    expect(repositoryKey('https://github.com/Acme/GitOps.git')).toBe(
      'github.com/acme/gitops',
    );
    expect(repositoryKey('ssh://git@github.com:22/acme/gitops.git')).toBe(
      'github.com/acme/gitops',
    );
    expect(repositoryKey('git@github.com:acme/gitops.git')).toBe(
      'github.com/acme/gitops',
    );
    expect(repositoryKey('/srv/git/gitops')).toBeUndefined();
    expect(repositoryKey('file:///srv/git/gitops')).toBeUndefined();
    expect(repositoryKey('https://github.com/acme')).toBeUndefined();
    expect(repositoryKey('https://github.com/acme/../gitops')).toBeUndefined();
  });
});

describe('readGithubEvent', () => {
  it('refreshes the repositories read from the branch pushed to', () => {
    expect(
      readGithubEvent(
        'github.push',
        { ref: 'refs/heads/main', repository: repository() },
        REPOSITORIES,
      ),
    ).toEqual({
      kind: 'push',
      repositoryIds: ['gitops', 'gitops-prod'],
      branch: 'main',
      readFrom: ['gitops'],
    });
    expect(
      readGithubEvent(
        'github.push',
        { ref: 'refs/heads/production', repository: repository() },
        REPOSITORIES,
      ),
    ).toMatchObject({ readFrom: ['gitops-prod'] });
    // As the plugin's configuration gives them: the values of a map, read once.
    expect(
      readGithubEvent(
        'github.push',
        { ref: 'refs/heads/main', repository: repository() },
        new Map(REPOSITORIES.map(r => [r.id, r])).values(),
      ),
    ).toMatchObject({ readFrom: ['gitops'] });
    // Any tag may be an environment's.
    expect(
      readGithubEvent(
        'github.push',
        { ref: 'refs/tags/v1.2.0-stage', repository: repository() },
        REPOSITORIES,
      ),
    ).toEqual({
      kind: 'push',
      repositoryIds: ['gitops', 'gitops-prod'],
      readFrom: ['gitops', 'gitops-prod'],
    });
  });

  it('matches a repository on another host by its URLs, and by full name alone on GitHub', () => {
    expect(
      readGithubEvent(
        'github.push',
        {
          ref: 'refs/heads/main',
          repository: repository('Platform/Deploy', 'ghe.acme.example'),
        },
        REPOSITORIES,
      ),
    ).toMatchObject({
      repositoryIds: ['enterprise'],
      readFrom: ['enterprise'],
    });
    expect(
      readGithubEvent(
        'github.push',
        { ref: 'refs/heads/main', repository: { full_name: 'acme/gitops' } },
        REPOSITORIES,
      ),
    ).toMatchObject({ repositoryIds: ['gitops', 'gitops-prod'] });
    // A local clone is known by the URL Argo CD clones it from.
    expect(
      readGithubEvent(
        'github.push',
        {
          ref: 'refs/heads/main',
          repository: repository('acme/environment-dev'),
        },
        REPOSITORIES,
      ),
    ).toMatchObject({ repositoryIds: ['mirror'], readFrom: ['mirror'] });
    // The same owner and name on another host is another repository.
    expect(
      readGithubEvent(
        'github.push',
        {
          ref: 'refs/heads/main',
          repository: repository('acme/gitops', 'evil.example'),
        },
        REPOSITORIES,
      ),
    ).toEqual({
      kind: 'ignored',
      reason: 'repository acme/gitops is not configured',
      malformed: false,
    });
  });

  it('names the branches and heads of pull requests, reviews, checks and statuses', () => {
    const pullRequest = { head: { ref: 'promote/shop-staging', sha: SHA } };
    for (const topic of ['github.pull_request', 'github.pull_request_review']) {
      expect(
        readGithubEvent(
          topic,
          { repository: repository(), pull_request: pullRequest },
          REPOSITORIES,
        ),
      ).toEqual({
        kind: 'promotion',
        repositoryIds: ['gitops', 'gitops-prod'],
        branches: ['promote/shop-staging'],
        commits: [SHA],
      });
    }
    expect(
      readGithubEvent(
        'github.check_run',
        {
          repository: repository(),
          check_run: {
            head_sha: SHA.toUpperCase(),
            check_suite: { head_branch: 'promote/a' },
            pull_requests: [{ head: { ref: 'promote/b', sha: SHA } }],
          },
        },
        REPOSITORIES,
      ),
    ).toMatchObject({ branches: ['promote/a', 'promote/b'], commits: [SHA] });
    expect(
      readGithubEvent(
        'github.check_suite',
        {
          repository: repository(),
          check_suite: { head_branch: 'promote/a', head_sha: SHA },
        },
        REPOSITORIES,
      ),
    ).toMatchObject({ branches: ['promote/a'], commits: [SHA] });
    expect(
      readGithubEvent(
        'github.status',
        {
          repository: repository(),
          sha: SHA,
          branches: [{ name: 'promote/a' }, { name: 42 }],
        },
        REPOSITORIES,
      ),
    ).toMatchObject({ branches: ['promote/a'], commits: [SHA] });
  });

  it('ignores hostile and malformed payloads without throwing', () => {
    const hostile: Array<[string, unknown]> = [
      ['github.push', null],
      ['github.push', 'refs/heads/main'],
      ['github.push', []],
      ['github.push', { ref: 'refs/heads/main' }],
      ['github.push', { ref: 'refs/heads/main', repository: 'acme/gitops' }],
      [
        'github.push',
        { ref: 'refs/heads/main', repository: { full_name: '../../etc' } },
      ],
      [
        'github.push',
        {
          ref: 'refs/heads/main',
          repository: { html_url: `https://github.com/${'a/'.repeat(5000)}` },
        },
      ],
      ['github.push', { ref: 42, repository: repository() }],
      ['github.push', { ref: 'refs/heads/../main', repository: repository() }],
      ['github.push', { ref: 'refs/heads/-x', repository: repository() }],
      ['github.push', { ref: 'refs/pull/1/head', repository: repository() }],
      [
        'github.pull_request',
        { repository: repository(), pull_request: { head: 'main' } },
      ],
      [
        'github.pull_request',
        {
          repository: repository(),
          pull_request: { head: { ref: { toString: 1 }, sha: 'not-a-sha' } },
        },
      ],
      [
        'github.check_run',
        { repository: repository(), check_run: { pull_requests: 'x' } },
      ],
      [
        'github.status',
        {
          repository: repository(),
          sha: `${SHA};rm -rf`,
          branches: { name: 'x' },
        },
      ],
      [
        'github.status',
        {
          repository: repository(),
          branches: [{ name: `${'b'.repeat(2000)}` }, { name: 'a b' }],
        },
      ],
    ];
    for (const [topic, payload] of hostile) {
      expect(readGithubEvent(topic, payload, REPOSITORIES)).toEqual({
        kind: 'ignored',
        reason: expect.any(String),
        malformed: true,
      });
    }
  });

  it('ignores, as no concern, an unknown repository or topic', () => {
    expect(
      readGithubEvent(
        'github.push',
        { ref: 'refs/heads/main', repository: repository('acme/other') },
        REPOSITORIES,
      ),
    ).toMatchObject({ kind: 'ignored', malformed: false });
    expect(
      readGithubEvent(
        'github.issues',
        { repository: repository() },
        REPOSITORIES,
      ),
    ).toMatchObject({ kind: 'ignored', malformed: false });
  });
});
