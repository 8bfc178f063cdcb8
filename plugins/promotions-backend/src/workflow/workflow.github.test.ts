import { TestDatabases } from '@backstage/backend-test-utils';
import {
  shopHistory,
  shopOverlay,
  shopWithWorkerHistory,
} from '@internal/promotions-fixtures';
import {
  bareRepository,
  git,
  SHOP_PIPELINE,
  shopEntity,
  startGithubSimulator,
  startWorkflowBackend,
  stopGithubSimulators,
} from '../__testUtils__';
import { WorkflowStore } from './WorkflowStore';

jest.setTimeout(90_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });
const BOT = 'bot-token-0123456789';
const RITA = 'rita-token-0123456789';
const ANA = 'ana-token-0123456789';
const SAM = 'sam-token-0123456789';
const MALLORY = 'mallory-token-0123456789';

// Every request the plugin made and every answer given matched GitHub's description.
afterEach(stopGithubSimulators);

async function start(
  pipeline = SHOP_PIPELINE as any[],
  history = shopHistory,
  annotations: Record<string, string> = {},
) {
  const dir = bareRepository(history);
  const simulator = await startGithubSimulator({
    repoDir: dir,
    owner: 'acme',
    repo: 'gitops',
    users: {
      [BOT]: { login: 'promotions-bot', id: 100, type: 'Bot' },
      [RITA]: { login: 'rita', id: 101 },
      [ANA]: { login: 'ana', id: 102 },
      [SAM]: { login: 'sam', id: 103 },
      [MALLORY]: { login: 'mallory', id: 104 },
    },
    defaultBranch: 'main',
    firstPullRequestNumber: 41,
  });
  const backend = await startWorkflowBackend({
    databases,
    databaseId: 'SQLITE_3',
    repositories: [
      {
        id: 'gitops',
        provider: 'github',
        url: 'https://github.example.com/acme/gitops',
        paths: ['{entity.metadata.name}/**'],
      },
    ],
    integrations: {
      github: [
        {
          host: 'github.example.com',
          apiBaseUrl: simulator.apiBaseUrl,
          token: BOT,
        },
      ],
    },
    pipeline,
    entities: [shopEntity(annotations)],
  });
  await backend.ready();
  const review = async (
    token: string,
    number: number,
    event: string,
    body = '',
  ) => {
    const res = await fetch(
      `${simulator.apiBaseUrl}/repos/acme/gitops/pulls/${number}/reviews`,
      {
        method: 'POST',
        headers: {
          authorization: `token ${token}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ event, body }),
      },
    );
    expect(res.status).toBe(200);
  };
  return { ...backend, simulator, dir, review };
}

// Reviews on GitHub count from the service's owners and the environment's approval groups.
const WITH_CHECKS = SHOP_PIPELINE.map(e =>
  e.name === 'staging'
    ? {
        ...e,
        checks: ['ci/validate'],
        approvals: { count: 1, groups: ['release-managers'] },
      }
    : e,
);

describe('the promotion workflow on GitHub', () => {
  it('opens a pull request, counts GitHub reviews and portal approvals, waits for checks, and merges naming the head', async () => {
    const { as, simulator, dir, review, sync } = await start(WITH_CHECKS);
    const created = await as('ana').promote({ to: 'staging' });
    expect(created.status).toBe(201);
    const promotion = created.body;
    expect(promotion.pullRequest).toEqual({
      number: 41,
      url: expect.stringMatching(/\/acme\/gitops\/pull\/41$/),
    });
    const [pr] = simulator.pullRequests();
    expect(pr).toMatchObject({
      number: 41,
      state: 'open',
      head: promotion.branch,
      base: 'main',
      headSha: promotion.headCommit,
      user: 'promotions-bot',
      title: 'Promote shop to staging: 1.1.0 → 1.2.0',
    });
    for (const text of [
      '| Service | `component:default/shop` |',
      '| From | `dev` |',
      '| To | `staging` |',
      '| Version | `1.1.0` → `1.2.0` |',
      '| Requested by | `user:default/ana` |',
      'http://portal.example/catalog/default/component/shop/promotions',
    ]) {
      expect(pr.body).toContain(text);
    }
    expect(git(dir, 'diff', 'main', promotion.branch, '--stat')).toContain(
      'shop/overlays/staging/kustomization.yaml | 2 +-',
    );
    expect(promotion.gates.find((g: any) => g.gate === 'checks')).toMatchObject(
      {
        state: 'pending',
        summary: 'Waiting for ci/validate',
      },
    );

    // The requester's own review on GitHub does not count; rita's does.
    await review(ANA, 41, 'APPROVE', 'mine');
    await sync();
    let now = (await as('ana').get(`/promotions/${promotion.id}`)).body;
    expect(now.gates.find((g: any) => g.gate === 'approvals')).toMatchObject({
      state: 'pending',
    });
    // Nor do reviews by someone outside the owners and approval groups, or by a login no
    // catalog user claims.
    await review(SAM, 41, 'APPROVE', 'lgtm');
    await review(MALLORY, 41, 'APPROVE', 'lgtm');
    await sync();
    now = (await as('ana').get(`/promotions/${promotion.id}`)).body;
    expect(now.decisions.map((d: any) => d.by)).toEqual(['user:default/ana']);
    expect(now.gates.find((g: any) => g.gate === 'approvals')).toMatchObject({
      state: 'pending',
    });
    await review(RITA, 41, 'APPROVE', 'Looks right');
    await simulator.setCheckRun(promotion.headCommit, 'ci/validate', 'failure');
    await sync();
    now = (await as('ana').get(`/promotions/${promotion.id}`)).body;
    expect(now.decisions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          by: 'user:default/rita',
          source: 'github',
          decision: 'approve',
        }),
      ]),
    );
    expect(now.gates.find((g: any) => g.gate === 'approvals')).toMatchObject({
      state: 'passed',
      summary: 'Approved by rita',
    });
    expect(now.gates.find((g: any) => g.gate === 'checks')).toMatchObject({
      state: 'failed',
      summary: 'Failed: ci/validate',
    });
    expect((await as('ben').act(promotion.id, 'merge')).status).toBe(409);

    // A portal approval is written to the pull request.
    expect(
      (
        await as('ben').act(promotion.id, 'approve', {
          comment: 'Fine by the team',
        })
      ).status,
    ).toBe(200);
    expect(simulator.pullRequests()[0].comments).toEqual([
      expect.objectContaining({
        user: 'promotions-bot',
        body: 'Approved in the portal by `user:default/ben`:\n\n> Fine by the team',
      }),
    ]);

    await simulator.setCheckRun(promotion.headCommit, 'ci/validate', 'success');
    const merged = await as('ben').act(promotion.id, 'merge');
    expect(merged.status).toBe(200);
    expect(merged.body.state).toBe('merged');
    const [after] = simulator.pullRequests();
    expect(after).toMatchObject({
      merged: true,
      state: 'closed',
      mergedBy: 'promotions-bot',
    });
    expect(merged.body.mergedCommit).toBe(after.mergeCommitSha);
    expect(
      git(dir, 'show', 'main:shop/overlays/staging/kustomization.yaml'),
    ).toContain('newTag: "1.2.0"');
    // The merge named the reviewed head.
    const mergeCall = simulator.requests.find(
      r => r.operationId === 'pulls/merge',
    );
    expect(mergeCall?.body).toMatchObject({
      sha: promotion.headCommit,
      merge_method: 'merge',
    });
    expect(git(dir, 'branch', '--list', 'promotions/*')).toBe('');
  });

  it('answers a second promotion to the environment with 409, linking to the first and its pull request', async () => {
    const { as } = await start();
    const first = await as('ana').promote({ to: 'staging' });
    expect(first.status).toBe(201);
    const second = await as('ben').promote({ to: 'staging' });
    expect(second.status).toBe(409);
    expect(second.body.error.openPromotion).toEqual({
      id: first.body.id,
      url: 'http://portal.example/catalog/default/component/shop/promotions',
      pullRequestUrl: first.body.pullRequest.url,
    });
    expect(second.body.error.message).toContain(first.body.pullRequest.url);
  });

  it('writes a rejection and its comment to the pull request, once, and closes the pull request when the requester closes the promotion', async () => {
    const { as, simulator, dir } = await start();
    const { id, branch } = (await as('ana').promote({ to: 'staging' })).body;
    const rejected = await as('rita').act(id, 'reject', {
      comment: 'Not before @acme/load-test',
    });
    expect(rejected.status).toBe(200);
    expect(
      rejected.body.gates.find((g: any) => g.gate === 'approvals'),
    ).toMatchObject({ state: 'failed', summary: 'Rejected by rita' });
    expect((await as('rita').act(id, 'reject')).status).toBe(409);
    expect(simulator.pullRequests()[0].comments).toEqual([
      expect.objectContaining({
        user: 'promotions-bot',
        body: 'Rejected in the portal by `user:default/rita`:\n\n> Not before @\u200bacme/load-test',
      }),
    ]);
    expect((await as('ana').act(id, 'reject')).status).toBe(200);

    const closed = await as('ana').act(id, 'close', {
      reason: 'Wrong version',
    });
    expect(closed.status).toBe(200);
    expect(closed.body).toMatchObject({
      state: 'closed',
      reason: 'Wrong version',
    });
    expect(simulator.pullRequests()[0]).toMatchObject({
      state: 'closed',
      merged: false,
    });
    expect(simulator.pullRequests()[0].comments.at(-1)).toMatchObject({
      body: 'Closed in the portal by `user:default/ana`: Wrong version',
    });
    expect(git(dir, 'branch', '--list', branch)).toBe('');
    const late = await as('rita').act(id, 'approve');
    expect(late.status).toBe(409);
    expect(late.body.error.message).toBe(
      `Promotion ${id} cannot be approved: it was closed: Wrong version`,
    );
    expect(simulator.pullRequests()[0].comments).toHaveLength(3);
  });

  it('promotes every image of an environment with images: all, through a pull request merged naming its head', async () => {
    const { as, simulator, dir } = await start(
      SHOP_PIPELINE,
      shopWithWorkerHistory,
      { 'gitops-promotions/image': 'ghcr.io/acme/shop' },
    );
    const created = await as('ana').promote({ to: 'staging', images: 'all' });
    expect(created.status).toBe(201);
    expect(
      git(
        dir,
        'diff',
        'main',
        created.body.branch,
        '--',
        'shop/overlays/staging/kustomization.yaml',
      )
        .split('\n')
        .filter(l => /^[-+][^-+]/.test(l)),
    ).toEqual([
      '-    newTag: "1.1.0"',
      '+    newTag: "1.2.0"',
      '-    newTag: "2.3.0"',
      '+    newTag: "2.4.0"',
    ]);
    expect((await as('rita').act(created.body.id, 'approve')).status).toBe(200);
    const merged = await as('rita').act(created.body.id, 'merge');
    expect(merged.body.state).toBe('merged');
    expect(simulator.pullRequests()[0]).toMatchObject({ merged: true });
    expect(
      simulator.requests.find(r => r.operationId === 'pulls/merge')?.body,
    ).toMatchObject({ sha: created.body.headCommit });
    const staging = git(
      dir,
      'show',
      'main:shop/overlays/staging/kustomization.yaml',
    );
    expect(staging).toContain('newTag: "1.2.0"');
    expect(staging).toContain('newTag: "2.4.0"');
  });

  it('refuses to merge when someone pushed to the pull request after it was reviewed', async () => {
    const { as, simulator, dir } = await start();
    const created = await as('ana').promote({ to: 'staging' });
    await as('rita').act(created.body.id, 'approve');
    await simulator.pushCommit(
      created.body.branch,
      {
        'shop/overlays/staging/kustomization.yaml': shopOverlay(
          'staging',
          'latest',
        ),
      },
      'Use latest',
    );
    const main = git(dir, 'rev-parse', 'main');
    const refused = await as('rita').act(created.body.id, 'merge');
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(
      /moved from .* since it was reviewed; nothing was merged/,
    );
    expect(git(dir, 'rev-parse', 'main')).toBe(main);
    expect(simulator.count('pulls/merge')).toBe(0);
  });

  it('keeps the branch of a promotion closed after someone pushed to its pull request, and closes the pull request', async () => {
    const { as, simulator, dir, sync, entityPath } = await start();
    const created = (await as('ana').promote({ to: 'staging' })).body;
    const pushed = await simulator.pushCommit(
      created.branch,
      {
        'shop/overlays/staging/kustomization.yaml': shopOverlay(
          'staging',
          '1.2.1',
        ),
      },
      'Try 1.2.1',
    );
    // The sync takes the push in as the promotion's head.
    await sync();
    expect(
      (await as('ana').get(`/promotions/${created.id}`)).body.headCommit,
    ).toBe(pushed);

    const closed = await as('ana').act(created.id, 'close', {
      reason: 'Trying 1.2.1 instead',
    });
    expect(closed.status).toBe(200);
    expect(simulator.pullRequests()[0]).toMatchObject({
      state: 'closed',
      merged: false,
    });
    expect(git(dir, 'rev-parse', created.branch)).toBe(pushed);
    const [kept] = (await as('ana').get(`${entityPath}/history`)).body.entries;
    expect(kept).toMatchObject({
      promotionId: created.id,
      action: 'changed',
      actor: 'system',
      comment: `The branch ${
        created.branch
      } was kept: it moved to ${pushed.slice(
        0,
        12,
      )}, which the promotion did not write`,
    });
  });

  it('closes a superseded promotion’s pull request once the one superseding it has its own, naming it', async () => {
    const { as, simulator, dir } = await start();
    const first = (await as('ana').promote({ to: 'staging' })).body;
    const second = await as('ben').promote({ to: 'staging', supersede: true });
    expect(second.status).toBe(201);
    expect(second.body.pullRequest.number).toBe(42);
    expect(
      simulator.pullRequests().map(pr => [pr.number, pr.state, pr.merged]),
    ).toEqual([
      [41, 'closed', false],
      [42, 'open', false],
    ]);
    expect(simulator.pullRequests()[0].comments.at(-1)).toMatchObject({
      user: 'promotions-bot',
      body: 'Superseded in the portal by `user:default/ben` with #42.',
    });
    expect(git(dir, 'branch', '--list', 'promotions/*')).toBe(
      second.body.branch,
    );
    expect(first.branch).not.toBe(second.body.branch);
  });

  it('keeps a superseded promotion’s pull request open, and reopens the promotion, when GitHub refuses the commit of the one superseding it', async () => {
    const { as, simulator, dir, entityPath } = await start();
    const first = (await as('ana').promote({ to: 'staging' })).body;
    expect((await as('rita').act(first.id, 'approve')).status).toBe(200);

    const comments = [...simulator.pullRequests()[0].comments];
    simulator.failNext(4, 503, 'git/create-commit');
    const failed = await as('ben').promote({ to: 'staging', supersede: true });
    expect(failed.status).toBeGreaterThanOrEqual(500);

    expect(
      simulator.pullRequests().map(pr => [pr.number, pr.head, pr.state]),
    ).toEqual([[41, first.branch, 'open']]);
    expect(simulator.pullRequests()[0].comments).toEqual(comments);
    const reopened = (await as('ana').get(`/promotions/${first.id}`)).body;
    expect(reopened).toMatchObject({
      state: 'open',
      reason: null,
      headCommit: first.headCommit,
      pullRequest: first.pullRequest,
    });
    expect(reopened.decisions.map((d: any) => [d.by, d.decision])).toEqual([
      ['user:default/rita', 'approve'],
    ]);
    expect(git(dir, 'branch', '--list', 'promotions/*')).toBe(first.branch);
    const [line] = (await as('ana').get(`${entityPath}/history`)).body.entries;
    expect(line).toMatchObject({
      promotionId: first.id,
      action: 'changed',
      actor: 'system',
      pullRequest: 41,
    });
    expect(line.comment).toMatch(
      /^Reopened: its replacement \S+ failed to open: /,
    );

    // A later supersede replaces it and closes its pull request, naming the new one.
    const second = await as('ben').promote({ to: 'staging', supersede: true });
    expect(second.status).toBe(201);
    expect(
      simulator.pullRequests().map(pr => [pr.number, pr.state, pr.merged]),
    ).toEqual([
      [41, 'closed', false],
      [42, 'open', false],
    ]);
    expect(simulator.pullRequests()[0].comments.at(-1)).toMatchObject({
      user: 'promotions-bot',
      body: 'Superseded in the portal by `user:default/ben` with #42.',
    });
  });

  it('notices a pull request merged or closed on GitHub', async () => {
    const { as, simulator, sync } = await start();
    const created = await as('ana').promote({ to: 'staging' });
    const res = await fetch(
      `${simulator.apiBaseUrl}/repos/acme/gitops/pulls/41/merge`,
      {
        method: 'PUT',
        headers: {
          authorization: `token ${RITA}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({}),
      },
    );
    expect(res.status).toBe(200);
    await sync();
    const merged = (await as('ana').get(`/promotions/${created.body.id}`)).body;
    expect(merged.state).toBe('merged');
    expect(merged.mergedCommit).toBe(
      simulator.pullRequests()[0].mergeCommitSha,
    );
    const history = (
      await as('ana').get('/entities/component/default/shop/history')
    ).body;
    expect(history.entries[0]).toMatchObject({
      action: 'merged',
      actor: 'github',
    });
  });

  it('refuses to close a promotion whose pull request was merged on GitHub, and records the merge instead', async () => {
    const { as, simulator } = await start();
    const { id, headCommit } = (await as('ana').promote({ to: 'staging' }))
      .body;
    const res = await fetch(
      `${simulator.apiBaseUrl}/repos/acme/gitops/pulls/41/merge`,
      {
        method: 'PUT',
        headers: {
          authorization: `token ${RITA}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ sha: headCommit }),
      },
    );
    expect(res.status).toBe(200);
    const refused = await as('ana').act(id, 'close');
    expect(refused.status).toBe(409);
    const mergeCommit = simulator.pullRequests()[0].mergeCommitSha!;
    expect(refused.body.error.message).toBe(
      `Promotion ${id} cannot be closed: it was merged in ${mergeCommit.slice(
        0,
        12,
      )}`,
    );
    expect((await as('ana').get(`/promotions/${id}`)).body).toMatchObject({
      state: 'merged',
      mergedCommit: mergeCommit,
    });
  });

  describe('fault: the backend dying mid-promotion', () => {
    it('finishes a promotion a crash left between its branch and its pull request, once', async () => {
      const { as, simulator, knex, sync, dir } = await start();
      const base = git(dir, 'rev-parse', 'main');
      const store = new WorkflowStore(knex);
      const content = shopOverlay('staging', '1.2.0');
      const crashed = (id: string, branch: string) => ({
        id,
        entityRef: 'component:default/shop',
        environment: 'staging',
        repositoryId: 'gitops',
        kind: 'promotion' as const,
        from: ['dev'],
        version: '1.2.0',
        previousVersion: '1.1.0',
        unknownVersion: false,
        state: 'opening' as const,
        requestedBy: 'user:default/ana',
        // The backend died minutes ago.
        requestedAt: new Date(Date.now() - 5 * 60_000).toISOString(),
        updatedAt: new Date(Date.now() - 5 * 60_000).toISOString(),
        baseBranch: 'main',
        baseCommit: base,
        branch,
        headCommit: null,
        pullRequest: null,
        changes: [
          {
            path: 'shop/overlays/staging/kustomization.yaml',
            content: Buffer.from(content).toString('base64'),
          },
        ],
        gates: [],
        decisions: [],
        mergedCommit: null,
        reason: null,
        queuedUntil: null,
      });
      // It had made the branch and committed, and died before the pull request.
      const branch = 'promotions/shop/staging/0badc0de';
      const head = await simulator.pushCommit(
        branch,
        { 'shop/overlays/staging/kustomization.yaml': content },
        'Promote shop to staging: 1.1.0 → 1.2.0',
      );
      await store.create(
        crashed('0badc0de-0000-4000-8000-000000000000', branch),
      );

      await sync();
      await sync();
      const prs = simulator.pullRequests();
      expect(prs).toHaveLength(1);
      expect(prs[0]).toMatchObject({
        head: branch,
        headSha: head,
        state: 'open',
      });
      const finished = (
        await as('ana').get('/promotions/0badc0de-0000-4000-8000-000000000000')
      ).body;
      expect(finished).toMatchObject({
        state: 'open',
        headCommit: head,
        pullRequest: { number: 41 },
      });
      expect(simulator.count('pulls/create')).toBe(1);
    });

    it('finishes a merge a crash left unrecorded, and reopens one that never happened', async () => {
      const { as, simulator, knex, sync } = await start();
      const created = await as('ana').promote({ to: 'staging' });
      await as('rita').act(created.body.id, 'approve');
      // Died after asking GitHub to merge, before recording it.
      const res = await fetch(
        `${simulator.apiBaseUrl}/repos/acme/gitops/pulls/41/merge`,
        {
          method: 'PUT',
          headers: {
            authorization: `token ${BOT}`,
            'content-type': 'application/json',
          },
          body: JSON.stringify({ sha: created.body.headCommit }),
        },
      );
      expect(res.status).toBe(200);
      await knex('promotions_requests')
        .where({ id: created.body.id })
        .update({
          state: 'merging',
          updated_at: new Date(Date.now() - 5 * 60_000),
        });
      await sync();
      const done = (await as('ana').get(`/promotions/${created.body.id}`)).body;
      expect(done).toMatchObject({
        state: 'merged',
        mergedCommit: simulator.pullRequests()[0].mergeCommitSha,
      });
      expect(simulator.count('pulls/merge')).toBe(1);

      const rollback = await as('ana').promote({
        to: 'staging',
        kind: 'rollback',
        version: '1.1.0',
      });
      expect(rollback.status).toBe(201);
      // Died after marking it merging, before asking GitHub.
      await knex('promotions_requests')
        .where({ id: rollback.body.id })
        .update({
          state: 'merging',
          updated_at: new Date(Date.now() - 5 * 60_000),
        });
      await sync();
      const reopened = (await as('ana').get(`/promotions/${rollback.body.id}`))
        .body;
      expect(reopened.state).toBe('open');
      expect(simulator.pullRequests()[1]).toMatchObject({
        state: 'open',
        merged: false,
      });
    });
  });

  it('cleans up a promotion GitHub would not open: no branch left, the failure in history', async () => {
    const { as, simulator, dir } = await start();
    simulator.failNext(4, 503, 'pulls/create');
    const res = await as('ana').promote({ to: 'staging' });
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(git(dir, 'branch', '--list', 'promotions/*')).toBe('');
    const list = (
      await as('ana').get('/entities/component/default/shop/promotions')
    ).body;
    expect(list.promotions[0]).toMatchObject({ state: 'failed' });
    const history = (
      await as('ana').get('/entities/component/default/shop/history')
    ).body;
    expect(history.entries[0]).toMatchObject({
      action: 'failed',
      actor: 'system',
    });
    // The environment is free for the next attempt.
    expect((await as('ana').promote({ to: 'staging' })).status).toBe(201);
  });
});
