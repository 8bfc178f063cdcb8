import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { mockServices } from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import { ConfigReader } from '@backstage/config';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { JsonObject } from '@backstage/types';
import { appendCommit, createGitFixture } from '@internal/promotions-fixtures';
import {
  EnvironmentPolicy,
  GateContext,
  GitOpsRepository,
  GitRepository,
  readEnvironmentPolicy,
} from '@gitops-promotions/plugin-promotions-node';
import { memorySnapshot } from '@gitops-promotions/plugin-promotions-node/testUtils';
import {
  approvalsGate,
  checksGate,
  codeownersGate,
  evaluateGates,
  freezeGate,
  gatesFor,
  httpGate,
  immutableVersionGate,
  isImmutableVersion,
  requiresGate,
  soakGate,
  windowsGate,
} from './gates';
import { CodeownersDirectory, parseCodeowners, ownersOf } from './codeowners';
import { GithubPeople } from './people';
import { nextOpening } from './windows';

const NOW = new Date('2026-11-25T10:00:00Z'); // a Wednesday

function context(
  policy: JsonObject,
  overrides: Omit<Partial<GateContext>, 'promotion'> & {
    promotion?: Partial<GateContext['promotion']>;
  } = {},
): GateContext {
  const config = new ConfigReader(policy);
  const { promotion, ...rest } = overrides;
  return {
    entityRef: 'component:default/shop',
    environment: 'prod',
    version: '1.2.0',
    policy: readEnvironmentPolicy(config, 'test') as EnvironmentPolicy,
    config,
    promotion: {
      id: 'p1',
      kind: 'promotion',
      requestedBy: 'user:default/ana',
      requestedAt: NOW,
      unknownVersion: false,
      headCommit: 'a'.repeat(40),
      pullRequest: 7,
      baseBranch: 'main',
      changedPaths: ['shop/overlays/prod/kustomization.yaml'],
      decisions: [],
      ...promotion,
    },
    upstreams: [
      {
        name: 'staging',
        version: '1.2.0',
        since: new Date(NOW.getTime() - 3 * 3600_000),
      },
    ],
    repository: { id: 'gitops' } as GitOpsRepository,
    freezes: [],
    now: NOW,
    ...rest,
  };
}

const approve = (by: string, ownership: string[] = []) => ({
  by,
  ownership: [by, ...ownership],
  decision: 'approve' as const,
  source: 'portal' as const,
});

describe('requires', () => {
  it('passes when every upstream runs the version, and fails naming those that do not', async () => {
    expect(await requiresGate.evaluate(context({}))).toMatchObject({
      state: 'passed',
      summary: 'staging runs 1.2.0',
    });
    const behind = context(
      {},
      {
        upstreams: [
          { name: 'staging', version: '1.1.0', since: null },
          { name: 'canary', version: null, since: null },
        ],
      },
    );
    expect(await requiresGate.evaluate(behind)).toEqual({
      gate: 'requires',
      state: 'failed',
      summary:
        'staging runs 1.1.0, not 1.2.0; canary runs nothing known, not 1.2.0',
    });
    const rollback = context(
      {},
      { upstreams: behind.upstreams, promotion: { kind: 'rollback' } },
    );
    expect((await requiresGate.evaluate(rollback)).state).toBe('passed');
  });

  it('passes a version asked for as one no upstream runs, saying so', async () => {
    const unknown = context(
      {},
      {
        upstreams: [{ name: 'staging', version: '1.1.0', since: null }],
        promotion: { unknownVersion: true },
      },
    );
    expect(await requiresGate.evaluate(unknown)).toEqual({
      gate: 'requires',
      state: 'passed',
      summary:
        'No upstream runs 1.2.0: it was asked for as a version no upstream runs',
    });
  });
});

describe('approvals', () => {
  it('counts people other than the requester, once each', async () => {
    const policy = { approvals: 2 };
    expect(await approvalsGate.evaluate(context(policy))).toMatchObject({
      state: 'pending',
      summary: '0 of 2 approvals',
    });
    const own = context(policy, {
      promotion: {
        decisions: [approve('user:default/ana'), approve('user:default/rita')],
      },
    });
    expect(await approvalsGate.evaluate(own)).toMatchObject({
      state: 'pending',
      summary: '1 of 2 approvals (the requester’s own does not count)',
    });
    const two = context(policy, {
      promotion: {
        decisions: [
          approve('user:default/rita'),
          approve('user:default/rita'),
          approve('user:default/ben'),
        ],
      },
    });
    expect(await approvalsGate.evaluate(two)).toMatchObject({
      state: 'passed',
      summary: 'Approved by rita, ben',
    });
  });

  it('counts only members of the named groups, and fails on a rejection', async () => {
    const policy = { approvals: { count: 1, groups: ['release-managers'] } };
    const outsider = context(policy, {
      promotion: {
        decisions: [approve('user:default/ben', ['group:default/shop-team'])],
      },
    });
    expect(await approvalsGate.evaluate(outsider)).toMatchObject({
      state: 'pending',
      summary: '0 of 1 approval from release-managers',
    });
    const member = context(policy, {
      promotion: {
        decisions: [
          approve('user:default/rita', ['group:default/release-managers']),
        ],
      },
    });
    expect((await approvalsGate.evaluate(member)).state).toBe('passed');
    const rejected = context(policy, {
      promotion: {
        decisions: [
          approve('user:default/rita', ['group:default/release-managers']),
          { ...approve('user:default/sam'), decision: 'reject' },
        ],
      },
    });
    expect(await approvalsGate.evaluate(rejected)).toMatchObject({
      state: 'failed',
      summary: 'Rejected by sam',
    });
  });
});

describe('soak', () => {
  it('waits until the version ran long enough upstream, and says until when', async () => {
    const soaking = await soakGate.evaluate(context({ soak: { hours: 24 } }));
    expect(soaking).toMatchObject({
      state: 'pending',
      summary: 'Soaking upstream for 24 h: 21 h to go',
    });
    expect(soaking.until).toBe(
      new Date(NOW.getTime() + 21 * 3600_000).toISOString(),
    );
    expect(
      (await soakGate.evaluate(context({ soak: { hours: 2 } }))).state,
    ).toBe('passed');
    const notThere = context(
      { soak: { hours: 2 } },
      { upstreams: [{ name: 'staging', version: '1.1.0', since: NOW }] },
    );
    expect(await soakGate.evaluate(notThere)).toMatchObject({
      state: 'pending',
      summary:
        'staging runs 1.1.0, not 1.2.0: the soak of 2 h starts once it runs 1.2.0',
    });
    const sinceUnknown = context(
      { soak: { hours: 2 } },
      { upstreams: [{ name: 'staging', version: '1.2.0', since: null }] },
    );
    expect(await soakGate.evaluate(sinceUnknown)).toMatchObject({
      state: 'pending',
      summary:
        'staging runs 1.2.0, since a moment not known yet: the soak of 2 h is counted once a refresh of the repository tells',
    });
  });
});

describe('windows', () => {
  const weekdays = {
    windows: [
      {
        days: ['mon', 'tue', 'wed', 'thu', 'fri'],
        hours: '09:00-17:00',
        timeZone: 'Europe/Berlin',
      },
    ],
  };

  it('passes inside a window, in the window’s time zone', async () => {
    // 10:00 UTC is 11:00 in Berlin on a Wednesday.
    expect(await windowsGate.evaluate(context(weekdays))).toMatchObject({
      state: 'passed',
      summary: 'Inside the change window (Mon–Fri 09:00–17:00 Europe/Berlin)',
    });
  });

  it('waits outside, until the next opening, across a weekend and a change of daylight saving time', async () => {
    // Friday 2026-03-27 18:00 Berlin (17:00 UTC): the next opening is Monday 09:00 CEST = 07:00 UTC.
    const friday = new Date('2026-03-27T17:00:00Z');
    const result = await windowsGate.evaluate(
      context(weekdays, { now: friday }),
    );
    expect(result).toMatchObject({
      state: 'pending',
      until: '2026-03-30T07:00:00.000Z',
    });
    // Before the switch the same opening was at 08:00 UTC.
    expect(
      nextOpening(
        readEnvironmentPolicy(new ConfigReader(weekdays), 't').windows!,
        new Date('2026-03-20T17:00:00Z'),
      )?.toISOString(),
    ).toBe('2026-03-23T08:00:00.000Z');
    // A window opening at a time the clocks skip opens when they jump past it...
    const night = readEnvironmentPolicy(
      new ConfigReader({
        windows: [
          { days: ['sun'], hours: '02:30-04:00', timeZone: 'Europe/Berlin' },
        ],
      }),
      't',
    ).windows!;
    expect(
      nextOpening(night, new Date('2026-03-28T12:00:00Z'))?.toISOString(),
    ).toBe('2026-03-29T01:00:00.000Z');
    // ...and at the first of the two times it happens when they go back.
    expect(
      nextOpening(night, new Date('2026-10-24T12:00:00Z'))?.toISOString(),
    ).toBe('2026-10-25T00:30:00.000Z');
    // Saturday in New York is outside; Monday 09:00 EST is 14:00 UTC.
    const ny = {
      windows: [
        { days: ['mon'], hours: '09:00-10:00', timeZone: 'America/New_York' },
      ],
    };
    const sat = await windowsGate.evaluate(
      context(ny, { now: new Date('2026-11-28T12:00:00Z') }),
    );
    expect(sat).toMatchObject({
      state: 'pending',
      until: '2026-11-30T14:00:00.000Z',
    });
  });

  it('refuses a window that does not make sense at startup', () => {
    for (const windows of [
      [{ days: ['someday'] }],
      [{ hours: '17:00-09:00' }],
      [{ hours: '9am-5pm' }],
      [{ timeZone: 'Mars/Olympus' }],
    ]) {
      expect(() =>
        readEnvironmentPolicy(new ConfigReader({ windows }), 'p'),
      ).toThrow(/^p\.windows\[0\]/);
    }
  });
});

describe('freeze', () => {
  it('fails while the environment is frozen, for the service or for every service', async () => {
    expect((await freezeGate.evaluate(context({}))).state).toBe('passed');
    const frozen = context(
      {},
      {
        freezes: [
          {
            id: 1,
            entityRef: '*',
            environment: 'prod',
            reason: 'Black Friday',
            by: 'user:default/rita',
            at: NOW.toISOString(),
          },
        ],
      },
    );
    expect(await freezeGate.evaluate(frozen)).toMatchObject({
      state: 'failed',
      summary: 'Frozen for every service by rita: Black Friday',
    });
  });
});

describe('checks', () => {
  const repository = (checks: any) =>
    ({
      id: 'gitops',
      pullRequests: { checks: async () => checks },
    } as unknown as GitOpsRepository);

  it('passes when every check or the named ones are green, waits for pending ones, fails on red', async () => {
    const green = {
      state: 'success',
      checks: [{ name: 'build', state: 'success', url: null }],
    };
    expect(
      (
        await checksGate.evaluate(
          context({ checks: true }, { repository: repository(green) }),
        )
      ).state,
    ).toBe('passed');
    const mixed = {
      state: 'failure',
      checks: [
        { name: 'build', state: 'success', url: null },
        { name: 'lint', state: 'failure', url: null },
        { name: 'e2e', state: 'pending', url: null },
      ],
    };
    expect(
      await checksGate.evaluate(
        context({ checks: true }, { repository: repository(mixed) }),
      ),
    ).toMatchObject({
      state: 'failed',
      summary: 'Failed: lint',
    });
    expect(
      await checksGate.evaluate(
        context(
          { checks: ['build', 'e2e'] },
          { repository: repository(mixed) },
        ),
      ),
    ).toMatchObject({
      state: 'pending',
      summary: 'Waiting for e2e',
    });
    expect(
      (
        await checksGate.evaluate(
          context({ checks: ['build'] }, { repository: repository(mixed) }),
        )
      ).state,
    ).toBe('passed');
    expect(
      await checksGate.evaluate(
        context(
          { checks: true },
          { repository: repository({ state: 'none', checks: [] }) },
        ),
      ),
    ).toMatchObject({
      state: 'pending',
      summary: 'Waiting for checks to report',
    });
  });

  it('fails on a repository without checks rather than pass unchecked', async () => {
    expect(await checksGate.evaluate(context({ checks: true }))).toMatchObject({
      state: 'failed',
    });
  });
});

describe('immutableVersion', () => {
  it('takes numbered versions, commit hashes and digests, and refuses tags that move', async () => {
    for (const version of [
      '1.2.0',
      'v2.0.0-rc.1',
      '2026.06.01',
      '1.4.2-3f9c2ab',
      'sha-3f9c2ab',
      `sha256:${'a'.repeat(64)}`,
    ]) {
      expect({ version, immutable: isImmutableVersion(version) }).toEqual({
        version,
        immutable: true,
      });
    }
    for (const version of [
      'latest',
      'stable',
      'main',
      'Nightly',
      'feature-login',
      'edge',
      'v1',
    ]) {
      expect({ version, immutable: isImmutableVersion(version) }).toEqual({
        version,
        immutable: false,
      });
    }
    expect(
      await immutableVersionGate.evaluate(context({}, { version: 'latest' })),
    ).toMatchObject({
      state: 'failed',
      summary:
        'latest is a tag that can move: promote a numbered version, a commit hash or a digest',
    });
  });
});

describe('codeowners', () => {
  const CODEOWNERS = [
    '# owners',
    '*                    @acme/platform',
    '/shop/               @acme/shop-team',
    'shop/overlays/prod/  @acme/release-managers @rita',
    '*.md                 docs@acme.example',
  ].join('\n');

  it('reads patterns as GitHub does: the last match wins', () => {
    const rules = parseCodeowners(CODEOWNERS);
    expect(ownersOf(rules, 'shop/overlays/prod/kustomization.yaml')).toEqual([
      '@acme/release-managers',
      '@rita',
    ]);
    expect(ownersOf(rules, 'shop/overlays/dev/kustomization.yaml')).toEqual([
      '@acme/shop-team',
    ]);
    expect(ownersOf(rules, 'other/app.yaml')).toEqual(['@acme/platform']);
    expect(ownersOf(rules, 'shop/README.md')).toEqual(['docs@acme.example']);
  });

  const user = (
    name: string,
    options: { email?: string; login?: string; groups?: string[] } = {},
  ): Entity => ({
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'User',
    metadata: {
      name,
      namespace: 'default',
      ...(options.login
        ? { annotations: { 'github.com/user-login': options.login } }
        : {}),
    },
    spec: { profile: options.email ? { email: options.email } : {} },
    relations: (options.groups ?? []).map(targetRef => ({
      type: 'memberOf',
      targetRef,
    })),
  });
  const group = (name: string, teamSlug?: string): Entity => ({
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Group',
    metadata: {
      name,
      namespace: 'default',
      ...(teamSlug
        ? { annotations: { 'github.com/team-slug': teamSlug } }
        : {}),
    },
    spec: { type: 'team', children: [] },
  });
  /** The catalog as the GitHub org provider fills it, and a few hand-written entities. */
  const directory = (entities: Entity[]) =>
    new GithubPeople(catalogServiceMock({ entities }), mockServices.auth());
  const people = directory([
    user('ben', { login: 'ben-gh', groups: ['group:default/shop-team'] }),
    user('sue', { groups: ['group:default/release-managers'] }),
    user('rita'),
    user('rita-x', { login: 'rita' }),
    user('rita-y', { login: 'RITA' }),
    user('olga', { email: 'Ops@Example.com', login: 'olga' }),
    user('tom', { email: 'tom@example.com' }),
    user('tom2', { email: 'TOM@example.com' }),
    user('mo', { login: 'mo', groups: ['group:default/platform-eng'] }),
    group('release-managers'),
    group('platform-eng', 'acme/platform'),
    group('shop-team', 'other-org/shop-team'),
  ]);
  const repositoryWith = (codeowners: string) =>
    ({
      id: 'gitops',
      snapshot: async () =>
        memorySnapshot({ '.github/CODEOWNERS': codeowners }),
    } as unknown as GitOpsRepository);
  const judge = (
    codeowners: string,
    decisions: GateContext['promotion']['decisions'],
    directoryOf: CodeownersDirectory = people,
    requestedBy = 'user:default/ana',
  ) =>
    codeownersGate(directoryOf).evaluate(
      context(
        { codeowners: true },
        {
          repository: repositoryWith(codeowners),
          promotion: { decisions, requestedBy },
        },
      ),
    );

  it('reads CODEOWNERS from the branch the promotion merges into, not the default branch', async () => {
    const work = createGitFixture([
      {
        author: 'Ana Lima',
        date: '2026-11-01T10:00:00Z',
        message: 'Start',
        files: { 'README.md': '# GitOps\n' },
      },
    ]);
    execFileSync('git', ['checkout', '-q', '-b', 'env/staging'], { cwd: work });
    appendCommit(work, {
      author: 'Ana Lima',
      date: '2026-11-02T10:00:00Z',
      message: 'Owners of staging',
      files: { '.github/CODEOWNERS': '* @acme/release-managers\n' },
    });
    execFileSync('git', ['checkout', '-q', 'main'], { cwd: work });
    const repository = new GitRepository({
      id: 'gitops',
      url: work,
      branch: 'main',
      cacheDir: path.join(os.tmpdir(), 'promotions-codeowners-cache'),
      logger: mockServices.logger.mock(),
    });
    const judgeOn = (baseBranch: string) =>
      codeownersGate(people).evaluate(
        context(
          { codeowners: true },
          { repository, promotion: { baseBranch, decisions: [] } },
        ),
      );
    expect(await judgeOn('env/staging')).toMatchObject({
      state: 'pending',
      summary:
        'Waiting for an approval from @acme/release-managers (.github/CODEOWNERS)',
    });
    expect(await judgeOn('main')).toMatchObject({
      state: 'passed',
      summary: 'The repository has no CODEOWNERS: no owners to ask',
    });
  });

  it('waits for an owner of every changed path among the approvers', async () => {
    expect(
      await judge(CODEOWNERS, [
        approve('user:default/ben', ['group:default/shop-team']),
      ]),
    ).toMatchObject({
      state: 'pending',
      summary:
        'Waiting for an approval from @acme/release-managers or @rita (.github/CODEOWNERS); @rita is claimed by 2 catalog users (by GitHub login)',
    });
    // A member of the team's group.
    expect(
      (
        await judge(CODEOWNERS, [
          approve('user:default/sue', ['group:default/release-managers']),
        ])
      ).state,
    ).toBe('passed');
    // The requester owning the path does not approve it for themselves.
    expect(
      (
        await judge(
          CODEOWNERS,
          [approve('user:default/sue', ['group:default/release-managers'])],
          people,
          'user:default/sue',
        )
      ).state,
    ).toBe('pending');
  });

  const PROD = 'shop/overlays/prod/  ';

  it('takes an owner given by e-mail as the user whose profile has it, in any case', async () => {
    expect(
      (await judge(`${PROD}ops@example.com`, [approve('user:default/olga')]))
        .state,
    ).toBe('passed');
    expect(
      await judge(`${PROD}ops@example.com`, [approve('user:default/ben')]),
    ).toMatchObject({
      state: 'pending',
      summary:
        'Waiting for an approval from ops@example.com (.github/CODEOWNERS)',
    });
    // An address nobody has, or two people claim, is nobody's, and said so.
    expect(
      await judge(`${PROD}nobody@example.com`, [approve('user:default/olga')]),
    ).toMatchObject({
      state: 'pending',
      summary:
        'Waiting for an approval from nobody@example.com (.github/CODEOWNERS); nobody@example.com is no catalog user (by profile e-mail)',
    });
    expect(
      await judge(`${PROD}tom@example.com`, [approve('user:default/tom')]),
    ).toMatchObject({
      state: 'pending',
      summary:
        'Waiting for an approval from tom@example.com (.github/CODEOWNERS); tom@example.com is claimed by 2 catalog users (by profile e-mail)',
    });
    // An address that would say more than itself to the catalog is not looked up.
    expect(
      await judge(`${PROD}x,kind=user@example.com`, [
        approve('user:default/olga'),
      ]),
    ).toMatchObject({
      state: 'pending',
      summary:
        'Waiting for an approval from x,kind=user@example.com (.github/CODEOWNERS); x,kind=user@example.com is not an owner',
    });
  });

  it('takes @login as the user annotated with the login, else the user of that name without one', async () => {
    // ben's GitHub login is ben-gh: @ben-gh is him, and @ben is nobody.
    expect(
      (await judge(`${PROD}@ben-gh`, [approve('user:default/ben')])).state,
    ).toBe('passed');
    expect(
      await judge(`${PROD}@ben`, [approve('user:default/ben')]),
    ).toMatchObject({
      state: 'pending',
      summary:
        'Waiting for an approval from @ben (.github/CODEOWNERS); @ben is no catalog user (by GitHub login or name)',
    });
    // sue has no login annotation: her name stands for it.
    expect(
      (await judge(`${PROD}@Sue`, [approve('user:default/sue')])).state,
    ).toBe('passed');
  });

  it('takes @org/team as the members of the group with that team annotation or, without one, that name', async () => {
    expect(
      (
        await judge(`${PROD}@acme/platform`, [
          approve('user:default/mo', ['group:default/platform-eng']),
        ])
      ).state,
    ).toBe('passed');
    // shop-team is another organization's team: not @acme/shop-team.
    expect(
      await judge(`${PROD}@acme/shop-team @ops-bot`, [
        approve('user:default/ben', ['group:default/shop-team']),
      ]),
    ).toMatchObject({
      state: 'pending',
      summary:
        'Waiting for an approval from @acme/shop-team or @ops-bot (.github/CODEOWNERS); @acme/shop-team is no catalog group (by GitHub team or name); @ops-bot is no catalog user (by GitHub login or name)',
    });
  });

  it('looks up a bounded number of owners, however many a hostile file lists', async () => {
    const asked: string[] = [];
    const counting = {
      entitiesOf: async (owner: string) => {
        asked.push(owner);
        return { refs: [] };
      },
    };
    const many = Array.from({ length: 500 }, (_, i) => `@user${i}`).join(' ');
    const result = await judge(`${PROD}${many}`, [], counting);
    expect(result.state).toBe('pending');
    expect(asked).toHaveLength(50);
    expect(result.summary).toContain(
      '@user50 was not looked up (only the first 50 owners are)',
    );
  });
});

describe('http', () => {
  let server: http.Server;
  let base: string;
  const seen: string[] = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push(req.url!);
      if (req.url!.startsWith('/ready')) res.writeHead(204).end();
      else if (req.url!.startsWith('/slow'))
        setTimeout(() => res.writeHead(200).end(), 2000);
      else res.writeHead(503).end();
    });
    await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise(r => server.close(r)));

  it('passes on 2xx, waits otherwise, with the promotion’s values put in the URL, encoded', async () => {
    const ready = await httpGate.evaluate(
      context(
        {
          http: `${base}/ready?service={entityRef}&env={environment}&v={version}`,
        },
        { version: '1.2.0+build' },
      ),
    );
    expect(ready).toMatchObject({
      state: 'passed',
      summary: `${base}/ready answered 204`,
    });
    expect(seen).toContain(
      '/ready?service=component%3Adefault%2Fshop&env=prod&v=1.2.0%2Bbuild',
    );
    expect(
      await httpGate.evaluate(context({ http: `${base}/down` })),
    ).toMatchObject({
      state: 'pending',
      summary: `${base}/down answered 503; waiting for 2xx`,
    });
    expect(
      await httpGate.evaluate(
        context({
          http: { url: `${base}/slow`, timeout: { milliseconds: 200 } },
        }),
      ),
    ).toMatchObject({
      state: 'pending',
      summary: `${base}/slow did not answer within 200 ms`,
    });
  });

  it('refuses a URL that is not http at startup', () => {
    expect(() =>
      readEnvironmentPolicy(
        new ConfigReader({ http: 'file:///etc/passwd' }),
        'p',
      ),
    ).toThrow('p.http: "file:///etc/passwd" must be an http or https URL');
  });
});

describe('the gates of an environment', () => {
  it('are those its policy turns on, with a module’s gates by their key, and a gate that throws has failed', async () => {
    const moduleGate = {
      type: 'changeTicket',
      evaluate: async () => {
        throw new Error('ticket system unreachable');
      },
    };
    const ctx = context({
      approvals: 1,
      windows: [{ hours: '00:00-24:00' }],
      changeTicket: { project: 'OPS' },
    });
    const gates = gatesFor(
      ctx,
      [
        moduleGate,
        {
          type: 'unused',
          evaluate: async () => ({
            gate: 'unused',
            state: 'passed',
            summary: '',
          }),
        },
      ],
      { entitiesOf: async () => ({ refs: [] }) },
    );
    expect(gates.map(g => g.type)).toEqual([
      'requires',
      'approvals',
      'windows',
      'freeze',
      'changeTicket',
    ]);
    const results = await evaluateGates(gates, ctx);
    expect(results[4]).toEqual({
      gate: 'changeTicket',
      state: 'failed',
      summary: 'The gate could not be evaluated: ticket system unreachable',
    });
  });
});
