import { ConfigReader } from '@backstage/config';
import { readPromotionsConfig } from './readPromotionsConfig';

const read = (promotions: any) =>
  readPromotionsConfig(new ConfigReader({ promotions }));

describe('readPromotionsConfig', () => {
  it('reads repositories, pipelines in promotion order, refresh and expected keys', () => {
    const config = read({
      repositories: [{ id: 'gitops', provider: 'git', url: '/srv/gitops' }],
      pipelines: {
        regional: [
          { name: 'prod-eu', requires: ['staging-eu'] },
          { name: 'staging-eu', requires: ['qa'] },
          { name: 'qa' },
        ],
      },
      refresh: { frequency: { minutes: 2 }, timeout: { minutes: 1 } },
      drift: { expectedKeys: ['spec.replicas'] },
    });
    expect(config.repositories.get('gitops')).toMatchObject({
      id: 'gitops',
      provider: 'git',
      url: '/srv/gitops',
      branch: 'main',
    });
    expect(config.pipelines.get('regional')!.map(e => e.name)).toEqual([
      'qa',
      'staging-eu',
      'prod-eu',
    ]);
    expect(config.pipelines.get('default')!.map(e => e.name)).toEqual([
      'dev',
      'staging',
      'prod',
    ]);
    expect(config.refresh.frequency).toEqual({ minutes: 2 });
    expect(config.expectedKeys).toEqual(['spec.replicas']);
  });

  it('gives each repository the URL Argo CD clones it from: its own, or its url when remote', () => {
    const config = read({
      repositories: [
        { id: 'local', provider: 'git', url: '../../.example-gitops' },
        { id: 'file', provider: 'git', url: 'file:///srv/gitops' },
        {
          id: 'served',
          provider: 'git',
          url: '/srv/gitops',
          argocdRepoURL: 'https://git.acme.example/gitops.git',
        },
        {
          id: 'hub',
          provider: 'github',
          url: 'https://github.com/acme/gitops',
        },
        { id: 'ssh', provider: 'git', url: 'git@git.acme.example:acme/gitops' },
        // Credentials in the url stay out of the manifests new services commit.
        {
          id: 'token',
          provider: 'git',
          url: 'https://x-access-token:ghs_secret@github.com/acme/gitops.git',
        },
        {
          id: 'bare-token',
          provider: 'git',
          url: 'https://ghp_secret@github.com/acme/gitops.git',
        },
        {
          id: 'query-token',
          provider: 'git',
          url: 'https://github.com/acme/gitops.git?access_token=ghs_secret',
        },
        {
          id: 'mirror',
          provider: 'github',
          url: 'https://github.com/acme/gitops',
          argocdRepoURL: 'ssh://git@mirror.acme.example/acme/gitops.git',
        },
      ],
    });
    const urls = Object.fromEntries(
      [...config.repositories.values()].map(r => [r.id, r.argocdRepoURL]),
    );
    expect(urls).toEqual({
      local: undefined,
      file: undefined,
      served: 'https://git.acme.example/gitops.git',
      hub: 'https://github.com/acme/gitops',
      ssh: 'git@git.acme.example:acme/gitops',
      token: undefined,
      'bare-token': undefined,
      'query-token': undefined,
      mirror: 'ssh://git@mirror.acme.example/acme/gitops.git',
    });
  });

  it.each<[object, string]>([
    [
      { repositories: [{ id: 'a', provider: 'Git Hub', url: 'x' }] },
      'provider "Git Hub" is not a provider name',
    ],
    [
      { repositories: [{ id: '../a', provider: 'git', url: 'x' }] },
      '"../a" is not a valid repository id',
    ],
    [
      {
        repositories: [
          { id: 'a', provider: 'git', url: 'x', branch: 'main..x' },
        ],
      },
      '"main..x" is not a valid branch name',
    ],
    [
      {
        repositories: [
          { id: 'a', provider: 'git', url: 'x' },
          { id: 'a', provider: 'git', url: 'y' },
        ],
      },
      'the id "a" is used twice',
    ],
    ...['../gitops', 'file:///srv/gitops', 'https://', 'https://host/a\nb'].map(
      (argocdRepoURL): [object, string] => [
        {
          repositories: [
            { id: 'a', provider: 'git', url: '/srv/gitops', argocdRepoURL },
          ],
        },
        `promotions.repositories[a].argocdRepoURL: ${JSON.stringify(
          argocdRepoURL,
        )} is not a URL Argo CD can clone`,
      ],
    ),
    ...[
      'https://x-access-token:ghs_secret@github.com/acme/gitops.git',
      'https://ghp_secret@github.com/acme/gitops.git',
      'ssh://git:secret@mirror.acme.example/acme/gitops.git',
      'https://github.com/acme/gitops.git?access_token=ghs_secret',
    ].map((argocdRepoURL): [object, string] => [
      {
        repositories: [
          { id: 'a', provider: 'git', url: '/srv/gitops', argocdRepoURL },
        ],
      },
      'promotions.repositories[a].argocdRepoURL holds credentials',
    ]),
    [
      { pipelines: { p: [{ name: 'prod', requires: ['staging'] }] } },
      '"prod" requires "staging", which is not in the pipeline',
    ],
    [
      {
        pipelines: {
          p: [
            { name: 'a', requires: ['b'] },
            { name: 'b', requires: ['a'] },
          ],
        },
      },
      'the requirements form a cycle (a -> b -> a)',
    ],
    [
      { pipelines: { p: [{ name: 'Prod' }] } },
      '"Prod" is not a valid environment name',
    ],
    [
      { pipelines: { p: [{ name: 'dev' }, { name: 'dev' }] } },
      '"dev" is listed twice',
    ],
  ])('rejects a mistake with its reason: %j', (promotions, message) => {
    expect(() => read(promotions)).toThrow(message);
  });

  it.each<[object, string]>([
    [
      { approvals: { count: 1, group: ['release-managers'] } },
      'promotions.pipelines.p[0].approvals, environment prod: "group" is not a key of approvals (keys: count, groups)',
    ],
    [
      {
        windows: [
          { days: ['mon'], hours: '09:00-17:00' },
          { hour: '09:00-17:00' },
        ],
      },
      'promotions.pipelines.p[0].windows[1], environment prod: "hour" is not a key of a change window (keys: days, hours, timeZone)',
    ],
    [
      { http: { url: 'https://ready.example/ok', timout: '2s' } },
      'promotions.pipelines.p[0].http, environment prod: "timout" is not a key of http (keys: url, timeout)',
    ],
  ])('refuses a mistyped key inside a gate: %j', (gate, message) => {
    expect(() =>
      read({ pipelines: { p: [{ name: 'prod', ...gate }] } }),
    ).toThrow(message);
  });

  it('reads gates whose keys are all known', () => {
    const { pipelines } = read({
      pipelines: {
        p: [
          {
            name: 'prod',
            approvals: { count: 2, groups: ['release-managers'] },
            windows: [{ days: ['mon'], hours: '09:00-17:00', timeZone: 'UTC' }],
            http: { url: 'https://ready.example/ok', timeout: '2s' },
          },
        ],
      },
    });
    expect(pipelines.get('p')![0].policy).toMatchObject({
      approvals: { count: 2, groups: ['group:default/release-managers'] },
      windows: [{ days: ['mon'], from: 540, to: 1020, timeZone: 'UTC' }],
      http: { url: 'https://ready.example/ok', timeoutMs: 2000 },
    });
  });

  it('caps the memory of each resolution worker, 512 MB unless configured', () => {
    expect(read({}).resolution.workerMemoryMb).toBe(512);
    expect(
      read({ resolution: { workerMemoryMb: 256 } }).resolution.workerMemoryMb,
    ).toBe(256);
    expect(() => read({ resolution: { workerMemoryMb: 4 } })).toThrow(
      'promotions.resolution.workerMemoryMb must be a whole number of at least 16, not 4',
    );
  });
});
