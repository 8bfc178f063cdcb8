import {
  coreServices,
  createServiceFactory,
  ServiceFactory,
} from '@backstage/backend-plugin-api';
import { TestDatabases } from '@backstage/backend-test-utils';
import {
  AuthorizeResult,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import {
  createPromotionsEnvironmentConditionalDecision,
  GitRepository,
  promotionsEnvironmentConditions,
} from '@gitops-promotions/plugin-promotions-node';
import {
  shopDeployment,
  shopHistory,
  shopOverlay,
  shopWithWorkerHistory,
} from '@internal/promotions-fixtures';
import {
  bareRepository,
  git,
  pushToBranch,
  refuseInserts,
  shopEntity,
  startWorkflowBackend,
} from '../__testUtils__';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });

/**
 * The example policy, but owners may also freeze outside production, and sam may see no service
 * in the catalog.
 */
const ownersFreezePolicy = createServiceFactory({
  service: coreServices.permissions,
  deps: { userInfo: coreServices.userInfo },
  factory: ({ userInfo }) => {
    const { isEntityOwner, isProduction } = promotionsEnvironmentConditions;
    const decide = async (
      permission: { name: string; resourceType?: string },
      credentials: any,
    ): Promise<PolicyDecision> => {
      if (credentials.principal.type === 'service') {
        return { result: AuthorizeResult.ALLOW };
      }
      const { ownershipEntityRefs: claims, userEntityRef } =
        await userInfo.getUserInfo(credentials);
      if (permission.name === 'catalog.entity.read') {
        return {
          result:
            userEntityRef === 'user:default/sam'
              ? AuthorizeResult.DENY
              : AuthorizeResult.ALLOW,
        };
      }
      if (
        claims.includes('group:default/release-managers') ||
        permission.resourceType !== 'promotions-environment'
      ) {
        return { result: AuthorizeResult.ALLOW };
      }
      if (permission.name === 'promotions.override') {
        return { result: AuthorizeResult.DENY };
      }
      return createPromotionsEnvironmentConditionalDecision(permission as any, {
        allOf: [isEntityOwner({ claims }), { not: isProduction({}) }],
      });
    };
    return {
      authorize: async (requests: any[], options: any) =>
        Promise.all(
          requests.map(async r => {
            const d = await decide(r.permission, options.credentials);
            return d.result === AuthorizeResult.CONDITIONAL
              ? { result: AuthorizeResult.DENY }
              : d;
          }),
        ),
      authorizeConditional: async (requests: any[], options: any) =>
        Promise.all(
          requests.map(r => decide(r.permission, options.credentials)),
        ),
    } as any;
  },
});

/** The staging overlay's kustomization on a branch of the repository. */
const overlay = (dir: string, ref: string, env = 'staging') =>
  git(dir, 'show', `${ref}:shop/overlays/${env}/kustomization.yaml`);

describe.each(databases.eachSupportedId())(
  'the promotion workflow with the git provider on %s',
  databaseId => {
    async function start(
      pipeline?: any[],
      history = shopHistory,
      features: ServiceFactory[] = [],
      annotations: Record<string, string> = {},
      permissions?: ServiceFactory,
    ) {
      const dir = bareRepository(history);
      const backend = await startWorkflowBackend({
        databases,
        databaseId,
        repositories: [
          {
            id: 'gitops',
            provider: 'git',
            url: dir,
            paths: ['{entity.metadata.name}/**'],
          },
        ],
        pipeline,
        features,
        permissions,
        entities: [shopEntity(annotations)],
      });
      await backend.ready();
      return { ...backend, dir };
    }

    it('promotes dev’s version to staging: requested by one, refused to themselves, approved by another, merged', async () => {
      const { as, dir, entityPath, refresh } = await start();
      const main = git(dir, 'rev-parse', 'main');

      const preview = await as('ana').post(`${entityPath}/promotions/preview`, {
        to: 'staging',
      });
      expect(preview.status).toBe(200);
      expect(preview.body).toMatchObject({
        environment: 'staging',
        version: '1.2.0',
        previousVersion: '1.1.0',
        from: ['dev'],
        unknownVersion: false,
      });
      // The committed diff is the version line, nothing else.
      const changed = preview.body.fileDiff
        .split('\n')
        .filter((l: string) => /^[-+][^-+]/.test(l));
      expect(changed).toEqual(['-    newTag: "1.1.0"', '+    newTag: "1.2.0"']);
      // The rendered manifests differ by the image, and nothing else.
      expect(
        preview.body.renderedDiff
          .split('\n')
          .filter((l: string) => /^[-+][^-+]/.test(l)),
      ).toEqual([
        '-          image: ghcr.io/acme/shop:1.1.0',
        '+          image: ghcr.io/acme/shop:1.2.0',
      ]);
      expect(preview.body.commits.map((c: any) => c.message)).toEqual([
        'Promote shop 1.2.0 to dev (#7)',
      ]);
      expect(preview.body.gates).toEqual([
        expect.objectContaining({ gate: 'requires', state: 'passed' }),
        expect.objectContaining({
          gate: 'approvals',
          state: 'pending',
          summary: '0 of 1 approval',
        }),
        expect.objectContaining({ gate: 'freeze', state: 'passed' }),
      ]);
      // A preview writes nothing.
      expect(git(dir, 'branch', '--list', 'promotions/*')).toBe('');

      const created = await as('ana').promote({ to: 'staging' });
      expect(created.status).toBe(201);
      const promotion = created.body;
      expect(promotion).toMatchObject({
        state: 'open',
        kind: 'promotion',
        version: '1.2.0',
        previousVersion: '1.1.0',
        requestedBy: 'user:default/ana',
        pullRequest: null,
      });
      expect(promotion.branch).toMatch(
        /^promotions\/shop\/staging\/[0-9a-f]{8}$/,
      );
      expect(git(dir, 'rev-parse', promotion.branch)).toBe(
        promotion.headCommit,
      );
      expect(git(dir, 'rev-parse', `${promotion.headCommit}^`)).toBe(main);
      expect(overlay(dir, promotion.branch)).toContain('newTag: "1.2.0"');
      expect(
        git(dir, 'log', '-1', '--format=%an <%ae>%n%B', promotion.branch),
      ).toContain(
        'ana <ana@acme.example>\nPromote shop to staging: 1.1.0 → 1.2.0',
      );
      // Nothing on main yet.
      expect(git(dir, 'rev-parse', 'main')).toBe(main);

      const own = await as('ana').act(promotion.id, 'approve', {
        comment: 'lgtm',
      });
      expect(own.status).toBe(403);
      expect(own.body.error.message).toMatch(/someone else must approve/);

      const early = await as('rita').act(promotion.id, 'merge');
      expect(early.status).toBe(409);
      expect(early.body.error.message).toMatch(/approvals: 0 of 1 approval/);

      const approved = await as('rita').act(promotion.id, 'approve', {
        comment: 'Ship it',
      });
      expect(approved.status).toBe(200);
      expect(
        approved.body.gates.find((g: any) => g.gate === 'approvals'),
      ).toMatchObject({
        state: 'passed',
        summary: 'Approved by rita',
      });
      const twice = await as('rita').act(promotion.id, 'approve');
      expect(twice.status).toBe(409);

      const merged = await as('rita').act(promotion.id, 'merge');
      expect(merged.status).toBe(200);
      expect(merged.body).toMatchObject({ state: 'merged' });
      expect(git(dir, 'rev-parse', 'main')).toBe(merged.body.mergedCommit);
      expect(overlay(dir, 'main')).toContain('newTag: "1.2.0"');
      // The branch is gone; main moved by exactly the promotion.
      expect(git(dir, 'branch', '--list', 'promotions/*')).toBe('');
      expect(git(dir, 'diff', '--name-only', main, 'main')).toBe(
        'shop/overlays/staging/kustomization.yaml',
      );

      const again = await as('rita').act(promotion.id, 'merge');
      expect(again.status).toBe(409);
      expect(again.body.error.message).toMatch(/it was merged/);
      const late = await as('ben').act(promotion.id, 'approve');
      expect(late.status).toBe(409);

      await refresh();
      const history = await as('ana').get(`${entityPath}/history`);
      expect(history.status).toBe(200);
      expect(
        history.body.entries.map((e: any) => [
          e.action,
          e.actor,
          e.version,
          e.environment,
        ]),
      ).toEqual([
        ['merged', 'user:default/rita', '1.2.0', 'staging'],
        ['approved', 'user:default/rita', '1.2.0', 'staging'],
        ['requested', 'user:default/ana', '1.2.0', 'staging'],
      ]);
    });

    it('takes a rejection with its comment, the requester’s own too, once; a rejection blocks the merge, and a closed promotion refuses every action, saying why', async () => {
      const { as, dir, entityPath } = await start();
      const created = await as('ana').promote({ to: 'staging' });
      const { id, branch } = created.body;

      const rejected = await as('rita').act(id, 'reject', {
        comment: 'Not before the load test',
      });
      expect(rejected.status).toBe(200);
      expect(rejected.body.decisions).toEqual([
        expect.objectContaining({
          by: 'user:default/rita',
          decision: 'reject',
          comment: 'Not before the load test',
          source: 'portal',
          stale: false,
        }),
      ]);
      expect(
        rejected.body.gates.find((g: any) => g.gate === 'approvals'),
      ).toMatchObject({ state: 'failed', summary: 'Rejected by rita' });
      const twice = await as('rita').act(id, 'reject', { comment: 'Again' });
      expect(twice.status).toBe(409);
      expect(twice.body.error.message).toBe(
        'You already rejected this change; nothing changed',
      );
      // The requester may take their own promotion out of the running, as anyone may.
      const own = await as('ana').act(id, 'reject', {
        comment: 'Wrong version',
      });
      expect(own.status).toBe(200);
      // Rita changes her mind; ana's rejection still stands in the way.
      expect((await as('rita').act(id, 'approve')).status).toBe(200);
      const blocked = await as('rita').act(id, 'merge');
      expect(blocked.status).toBe(409);
      expect(blocked.body.error.message).toMatch(/approvals: Rejected by ana/);

      // Only its requester or those who may merge close it.
      expect((await as('sam').act(id, 'close')).status).toBe(403);
      const closed = await as('ana').act(id, 'close', {
        reason: 'Asked for the wrong version',
      });
      expect(closed.status).toBe(200);
      expect(closed.body).toMatchObject({
        state: 'closed',
        reason: 'Asked for the wrong version',
      });
      expect(git(dir, 'branch', '--list', branch)).toBe('');

      const before = (await as('ana').get(`${entityPath}/history`)).body
        .entries;
      const decisions = (await as('ana').get(`/promotions/${id}`)).body
        .decisions;
      for (const [user, action, verb] of [
        ['ben', 'approve', 'approved'],
        ['ben', 'reject', 'rejected'],
        ['rita', 'merge', 'merged'],
        ['ana', 'close', 'closed'],
      ]) {
        const refused = await as(user).act(id, action);
        expect({ action, status: refused.status }).toEqual({
          action,
          status: 409,
        });
        expect(refused.body.error.message).toBe(
          `Promotion ${id} cannot be ${verb}: it was closed: Asked for the wrong version`,
        );
      }
      expect(
        (await as('ana').get(`${entityPath}/history`)).body.entries,
      ).toEqual(before);
      expect((await as('ana').get(`/promotions/${id}`)).body.decisions).toEqual(
        decisions,
      );
      expect(
        before.map((e: any) => [e.action, e.actor, e.comment]).reverse(),
      ).toEqual([
        ['requested', 'user:default/ana', null],
        ['rejected', 'user:default/rita', 'Not before the load test'],
        ['rejected', 'user:default/ana', 'Wrong version'],
        ['approved', 'user:default/rita', null],
        ['closed', 'user:default/ana', 'Asked for the wrong version'],
      ]);
    });

    it('promotes every image of an environment with images: all, from preview to merge', async () => {
      const { as, dir } = await start(undefined, shopWithWorkerHistory, [], {
        'gitops-promotions/image': 'ghcr.io/acme/shop',
      });
      const changedLines = (diff: string) =>
        diff.split('\n').filter((l: string) => /^[-+][^-+]/.test(l));
      const service = await as('ana').post(
        '/entities/component/default/shop/promotions/preview',
        { to: 'staging' },
      );
      expect(service.status).toBe(200);
      expect(changedLines(service.body.fileDiff)).toEqual([
        '-    newTag: "1.1.0"',
        '+    newTag: "1.2.0"',
      ]);
      const all = await as('ana').post(
        '/entities/component/default/shop/promotions/preview',
        { to: 'staging', images: 'all' },
      );
      expect(all.status).toBe(200);
      expect(all.body).toMatchObject({ version: '1.2.0', from: ['dev'] });
      expect(changedLines(all.body.fileDiff)).toEqual([
        '-    newTag: "1.1.0"',
        '+    newTag: "1.2.0"',
        '-    newTag: "2.3.0"',
        '+    newTag: "2.4.0"',
      ]);

      const created = await as('ana').promote({ to: 'staging', images: 'all' });
      expect(created.status).toBe(201);
      expect(overlay(dir, created.body.branch)).toContain('newTag: "2.4.0"');
      expect((await as('rita').act(created.body.id, 'approve')).status).toBe(
        200,
      );
      const merged = await as('rita').act(created.body.id, 'merge');
      expect(merged.body.state).toBe('merged');
      const staging = overlay(dir, 'main');
      expect(staging).toContain('newTag: "1.2.0"');
      expect(staging).toContain('newTag: "2.4.0"');
      expect(git(dir, 'branch', '--list', 'promotions/*')).toBe('');
    });

    it('never shows a secret’s value in the rendered diff', async () => {
      const { as, entityPath } = await start(undefined, [
        ...shopHistory,
        {
          author: 'Ana Lima',
          date: '2026-10-21T09:00:00Z',
          message: 'Give shop its database password',
          files: {
            'shop/base/deployment.yaml': shopDeployment('512kb').replace(
              '          env:\n',
              '          env:\n            - name: DB_PASSWORD\n              value: hunter2-staging\n',
            ),
          },
        },
      ]);
      const preview = await as('ana').post(`${entityPath}/promotions/preview`, {
        to: 'staging',
      });
      expect(preview.status).toBe(200);
      // The value sits next to the changed line, and is shown only under its HMAC.
      expect(preview.body.renderedDiff).toContain('- name: DB_PASSWORD');
      expect(preview.body.renderedDiff).toMatch(/value: hmac:[0-9a-f]+/);
      expect(preview.body.renderedDiff).not.toContain('hunter2');
    });

    it('audits every action, refused ones included', async () => {
      const events: Array<{ eventId: string; outcome: string; meta: any }> = [];
      const auditor = createServiceFactory({
        service: coreServices.auditor,
        deps: {},
        factory: () => ({
          async createEvent(options) {
            return {
              success: async (o?: { meta?: any }) => {
                events.push({
                  eventId: options.eventId,
                  outcome: 'success',
                  meta: { ...options.meta, ...o?.meta },
                });
              },
              fail: async (o: { error: Error }) => {
                events.push({
                  eventId: options.eventId,
                  outcome: `fail: ${o.error.message}`,
                  meta: options.meta,
                });
              },
            };
          },
        }),
      });
      const { as } = await start(undefined, shopHistory, [auditor]);
      const created = await as('ana').promote({ to: 'staging' });
      await as('ana').act(created.body.id, 'approve');
      await as('rita').act(created.body.id, 'approve');
      await as('rita').act(created.body.id, 'merge');
      expect(events.map(e => [e.eventId, e.outcome])).toEqual([
        ['promotion-request', 'success'],
        [
          'promotion-approve',
          'fail: You asked for this promotion: someone else must approve it',
        ],
        ['promotion-approve', 'success'],
        ['promotion-merge', 'success'],
      ]);
      expect(events[0].meta).toMatchObject({
        entityRef: 'component:default/shop',
        environment: 'staging',
        promotionId: created.body.id,
      });
    });

    it('opens exactly one of two promotions asked for at once, and lets a later one supersede it', async () => {
      const { as, dir, entityPath } = await start();
      const [a, b] = await Promise.all([
        as('ana').promote({ to: 'staging' }),
        as('ben').promote({ to: 'staging' }),
      ]);
      expect([a.status, b.status].sort()).toEqual([201, 409]);
      const winner = a.status === 201 ? a.body : b.body;
      const loser = a.status === 201 ? b : a;
      expect(loser.body.error.message).toContain(winner.id);
      // The race's loser is pointed at the winner as a plain second request is.
      expect(loser.body.error.openPromotion).toEqual({
        id: winner.id,
        url: 'http://portal.example/catalog/default/component/shop/promotions',
        pullRequestUrl: null,
      });
      const second = await as('ben').promote({ to: 'staging' });
      expect(second.status).toBe(409);
      expect(second.body.error).toMatchObject({
        name: 'ConflictError',
        message: expect.stringContaining(
          `is already open: ${winner.id}; ask with supersede`,
        ),
        openPromotion: {
          id: winner.id,
          url: 'http://portal.example/catalog/default/component/shop/promotions',
          pullRequestUrl: null,
        },
      });
      // The refused one left no branch behind.
      expect(
        git(dir, 'branch', '--list', 'promotions/*').split('\n'),
      ).toHaveLength(1);

      const superseding = await as('ben').promote({
        to: 'staging',
        supersede: true,
      });
      expect(superseding.status).toBe(201);
      const first = await as('ana').get(`/promotions/${winner.id}`);
      expect(first.body).toMatchObject({
        state: 'closed',
        reason: `Superseded by ${superseding.body.id}`,
      });
      expect(git(dir, 'branch', '--list', 'promotions/*')).toBe(
        superseding.body.branch,
      );
      // History links the two, each way.
      const history = (await as('ana').get(`${entityPath}/history`)).body
        .entries;
      expect(
        history
          .slice(0, 2)
          .map((e: any) => [e.action, e.promotionId, e.actor, e.comment]),
      ).toEqual([
        [
          'requested',
          superseding.body.id,
          'user:default/ben',
          `Supersedes ${winner.id}`,
        ],
        [
          'superseded',
          winner.id,
          'user:default/ben',
          `Superseded by ${superseding.body.id}`,
        ],
      ]);
    });

    it('leaves the open promotion open and untouched when the one superseding it cannot be planned or stored', async () => {
      const { as, dir, knex, entityPath } = await start();
      const first = (await as('ana').promote({ to: 'staging' })).body;

      const unplanned = await as('ben').promote({
        to: 'staging',
        version: '$(rm -rf /)',
        supersede: true,
      });
      expect(unplanned.status).toBe(400);
      const allow = await refuseInserts(knex, 'promotions_requests');
      const unstored = await as('ben').promote({
        to: 'staging',
        supersede: true,
      });
      await allow();
      expect(unstored.status).toBe(500);

      expect(
        (await as('ana').get(`/promotions/${first.id}`)).body,
      ).toMatchObject({
        state: 'open',
        reason: null,
        headCommit: first.headCommit,
      });
      expect(git(dir, 'branch', '--list', 'promotions/*')).toBe(first.branch);
      expect(git(dir, 'rev-parse', first.branch)).toBe(first.headCommit);
      expect(
        (await as('ana').get(`${entityPath}/history`)).body.entries.map(
          (e: any) => [e.action, e.promotionId],
        ),
      ).toEqual([['requested', first.id]]);
      // Once the database takes it, the same request supersedes it.
      const superseding = await as('ben').promote({
        to: 'staging',
        supersede: true,
      });
      expect(superseding.status).toBe(201);
      expect(git(dir, 'branch', '--list', 'promotions/*')).toBe(
        superseding.body.branch,
      );
    });

    it('reopens the superseded promotion, with its branch and decisions, when the one superseding it fails to open', async () => {
      const { as, dir, entityPath } = await start();
      const first = (await as('ana').promote({ to: 'staging' })).body;
      expect((await as('rita').act(first.id, 'approve')).status).toBe(200);

      const commitFiles = jest
        .spyOn(GitRepository.prototype, 'commitFiles')
        .mockRejectedValueOnce(new Error('No space left on device'));
      const failed = await as('ben').promote({
        to: 'staging',
        supersede: true,
      });
      commitFiles.mockRestore();
      expect(failed.status).toBeGreaterThanOrEqual(500);

      const { promotions } = (await as('ana').get(`${entityPath}/promotions`))
        .body;
      const second = promotions.find((p: any) => p.id !== first.id);
      expect(second).toMatchObject({ state: 'failed' });
      expect(
        promotions
          .filter((p: any) => ['opening', 'open', 'merging'].includes(p.state))
          .map((p: any) => p.id),
      ).toEqual([first.id]);
      const reopened = (await as('ana').get(`/promotions/${first.id}`)).body;
      expect(reopened).toMatchObject({
        state: 'open',
        reason: null,
        headCommit: first.headCommit,
        branch: first.branch,
      });
      expect(reopened.decisions).toEqual([
        expect.objectContaining({
          by: 'user:default/rita',
          decision: 'approve',
          stale: false,
        }),
      ]);
      expect(git(dir, 'branch', '--list', 'promotions/*')).toBe(first.branch);
      expect(git(dir, 'rev-parse', first.branch)).toBe(first.headCommit);
      expect(
        (await as('ana').get(`${entityPath}/history`)).body.entries
          .slice(0, 4)
          .map((e: any) => [e.action, e.promotionId, e.actor, e.comment]),
      ).toEqual([
        [
          'changed',
          first.id,
          'system',
          `Reopened: its replacement ${second.id} failed to open: No space left on device`,
        ],
        ['failed', second.id, 'system', 'No space left on device'],
        ['requested', second.id, 'user:default/ben', `Supersedes ${first.id}`],
        [
          'superseded',
          first.id,
          'user:default/ben',
          `Superseded by ${second.id}`,
        ],
      ]);

      // The reopened one is the open one again: a plain request points at it, a supersede
      // replaces it.
      const plain = await as('ben').promote({ to: 'staging' });
      expect(plain.status).toBe(409);
      expect(plain.body.error.openPromotion.id).toBe(first.id);
      const superseding = await as('ben').promote({
        to: 'staging',
        supersede: true,
      });
      expect(superseding.status).toBe(201);
      expect(
        (await as('ana').get(`/promotions/${first.id}`)).body,
      ).toMatchObject({
        state: 'closed',
        reason: `Superseded by ${superseding.body.id}`,
      });
      expect(git(dir, 'branch', '--list', 'promotions/*')).toBe(
        superseding.body.branch,
      );
    });

    it('lets only one of two supersedes at once replace the open promotion', async () => {
      const { as, dir, entityPath } = await start();
      const first = (await as('ana').promote({ to: 'staging' })).body;
      const results = await Promise.all(
        ['ana', 'ben'].map(user =>
          as(user).promote({ to: 'staging', supersede: true }),
        ),
      );
      expect(results.map(r => r.status).sort()).toEqual([201, 409]);
      const winner = results.find(r => r.status === 201)!.body;
      const { promotions } = (await as('ana').get(`${entityPath}/promotions`))
        .body;
      expect(
        promotions
          .filter((p: any) => ['opening', 'open', 'merging'].includes(p.state))
          .map((p: any) => p.id),
      ).toEqual([winner.id]);
      expect(promotions.find((p: any) => p.id === first.id)).toMatchObject({
        state: 'closed',
        reason: `Superseded by ${winner.id}`,
      });
      expect(git(dir, 'branch', '--list', 'promotions/*')).toBe(winner.branch);
    });

    it('keeps the branch of a promotion closed after someone pushed to it, and says why in history', async () => {
      const { as, dir, sync, entityPath } = await start();
      const created = (await as('ana').promote({ to: 'staging' })).body;
      const pushed = pushToBranch(
        dir,
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
      expect(closed.body.state).toBe('closed');
      expect(git(dir, 'rev-parse', created.branch)).toBe(pushed);
      const history = (await as('ana').get(`${entityPath}/history`)).body
        .entries;
      expect(
        history.slice(0, 2).map((e: any) => [e.action, e.actor, e.comment]),
      ).toEqual([
        [
          'changed',
          'system',
          `The branch ${created.branch} was kept: it moved to ${pushed.slice(
            0,
            12,
          )}, which the promotion did not write`,
        ],
        ['closed', 'user:default/ana', 'Trying 1.2.1 instead'],
      ]);
    });

    it('refuses to merge a branch that moved since it was reviewed, and a branch with other files', async () => {
      const { as, dir, sync } = await start();
      const created = await as('ana').promote({ to: 'staging' });
      await as('rita').act(created.body.id, 'approve');

      // Someone pushes to the promotion's branch.
      const work = `${dir}-work`;
      git(dir, 'worktree', 'add', '-q', work, created.body.branch);
      git(work, 'config', 'user.email', 'mallory@example.com');
      git(work, 'config', 'user.name', 'Mallory');
      require('node:fs').writeFileSync(
        `${work}/shop/overlays/prod/kustomization.yaml`,
        'resources: []\n',
      );
      git(work, 'commit', '-qam', 'sneak a change into prod');
      const moved = git(dir, 'rev-parse', created.body.branch);
      const main = git(dir, 'rev-parse', 'main');

      const refused = await as('rita').act(created.body.id, 'merge');
      expect(refused.status).toBe(409);
      expect(refused.body.error.message).toMatch(
        /moved from .* since it was reviewed; nothing was merged/,
      );
      expect(git(dir, 'rev-parse', 'main')).toBe(main);

      // The sync notices the new head: the approval on the old one no longer counts.
      await sync();
      const now = await as('rita').get(`/promotions/${created.body.id}`);
      expect(now.body.headCommit).toBe(moved);
      expect(now.body.decisions[0]).toMatchObject({
        by: 'user:default/rita',
        stale: true,
      });
      expect(
        now.body.gates.find((g: any) => g.gate === 'approvals').state,
      ).toBe('pending');
      await as('ben').act(created.body.id, 'approve');
      const foreign = await as('rita').act(created.body.id, 'merge');
      expect(foreign.status).toBe(403);
      expect(foreign.body.error.message).toMatch(
        /changes files the promotion does not: shop\/overlays\/prod\/kustomization.yaml/,
      );
      expect(git(dir, 'rev-parse', 'main')).toBe(main);
    });

    it('rolls an environment back to a version from its history, labelled as a rollback', async () => {
      const { as, dir, entityPath } = await start();
      const versions = await as('ana').get(
        `${entityPath}/environments/staging/versions`,
      );
      expect(versions.body.versions.map((v: any) => v.version)).toEqual([
        '1.1.0',
        '1.0.0',
      ]);
      const never = await as('ana').promote({
        to: 'staging',
        kind: 'rollback',
        version: '0.9.0',
      });
      expect(never.status).toBe(400);
      expect(never.body.error.message).toMatch(/never ran 0.9.0/);

      const rollback = await as('ana').promote({
        to: 'staging',
        kind: 'rollback',
        version: '1.0.0',
      });
      expect(rollback.status).toBe(201);
      expect(rollback.body).toMatchObject({
        kind: 'rollback',
        version: '1.0.0',
        previousVersion: '1.1.0',
        from: [],
      });
      expect(overlay(dir, rollback.body.branch)).toContain('newTag: "1.0.0"');
      expect(
        rollback.body.gates.find((g: any) => g.gate === 'requires'),
      ).toMatchObject({ state: 'passed' });
      await as('rita').act(rollback.body.id, 'approve');
      const merged = await as('ben').act(rollback.body.id, 'merge');
      expect(merged.body.state).toBe('merged');
      expect(overlay(dir, 'main')).toContain('newTag: "1.0.0"');
      const history = await as('ana').get(
        `${entityPath}/history?environment=staging&limit=1`,
      );
      expect(history.body.entries).toEqual([
        expect.objectContaining({
          action: 'merged',
          kind: 'rollback',
          version: '1.0.0',
        }),
      ]);
      expect(history.body.next).toEqual(expect.any(Number));
      const next = await as('ana').get(
        `${entityPath}/history?environment=staging&before=${history.body.next}`,
      );
      expect(next.body.entries.map((e: any) => e.action)).toEqual([
        'approved',
        'requested',
      ]);
    });

    it('answers bad input with 400 and the reason, writing nothing', async () => {
      const { as, dir } = await start();
      const cases: Array<[object, RegExp]> = [
        [
          { to: 'qa' },
          /"qa" is not an environment of component:default\/shop \(environments: dev, staging, prod\)/,
        ],
        [{ to: 'staging', version: '1.2.0\nimage: evil' }, /is not a version/],
        [{ to: 'staging', version: '$(rm -rf /)' }, /is not a version/],
        [{ to: 'staging', version: '"1.2.0"' }, /is not a version/],
        [
          { to: 'staging', version: '9.9.9' },
          /No upstream of staging runs 9.9.9 \(dev runs 1.2.0\); ask with allowUnknownVersion/,
        ],
        [{ to: 'staging', extra: true }, /Unrecognized key/],
        [
          { to: 'staging', allowUnknownVersion: 'yes' },
          /allowUnknownVersion: Invalid input|expected boolean/i,
        ],
        [{ to: ['staging'] }, /to: /],
        [
          { to: 'staging', from: 'prod' },
          /staging is not promoted from "prod"/,
        ],
        [{ to: 'dev' }, /dev is the first environment: name the version/],
        [
          { to: 'staging', version: '1.1.0', allowUnknownVersion: true },
          /staging already runs 1.1.0/,
        ],
      ];
      for (const [body, message] of cases) {
        const res = await as('ana').promote(body);
        expect({ body, status: res.status }).toEqual({ body, status: 400 });
        expect(res.body.error.message).toMatch(message);
      }
      expect(git(dir, 'branch', '--list', 'promotions/*')).toBe('');
    });

    it('promotes a version no upstream runs when asked for as such: shown, approved and merged', async () => {
      const { as, dir, entityPath } = await start();
      const unknown = await as('ana').promote({
        to: 'staging',
        version: '1.3.0-rc.1',
        allowUnknownVersion: true,
      });
      expect(unknown.status).toBe(201);
      expect(unknown.body).toMatchObject({
        unknownVersion: true,
        version: '1.3.0-rc.1',
      });
      expect(
        unknown.body.gates.find((g: any) => g.gate === 'requires'),
      ).toMatchObject({
        state: 'passed',
        summary:
          'No upstream runs 1.3.0-rc.1: it was asked for as a version no upstream runs',
      });
      const approved = await as('rita').act(unknown.body.id, 'approve');
      expect(approved.status).toBe(200);
      expect(approved.body.gates.map((g: any) => g.state)).toEqual(
        approved.body.gates.map(() => 'passed'),
      );
      const merged = await as('rita').act(unknown.body.id, 'merge');
      expect(merged.status).toBe(200);
      expect(merged.body).toMatchObject({ state: 'merged' });
      expect(overlay(dir, 'main')).toContain('newTag: "1.3.0-rc.1"');
      const history = await as('ana').get(`${entityPath}/history`);
      expect(history.body.entries).toContainEqual(
        expect.objectContaining({
          action: 'requested',
          comment: 'A version no upstream runs',
        }),
      );
    });

    it.each([
      ['quotes and a shell command', `1.2.0"'; rm -rf ~`],
      ['a table cell break, a code span and HTML', '1.2.0|`x` <b>'],
      ['a space and a shell variable', '1.2.0 ${HOME}'],
      ['300 characters', `1.2.0-${'a'.repeat(294)}`],
    ])(
      'refuses a version taken from the upstream that is not one: %s',
      async (_, tag) => {
        const { as, dir, entityPath } = await start(undefined, [
          ...shopHistory,
          {
            author: 'Ben Okafor',
            date: '2026-10-21T09:00:00Z',
            message: 'Pin dev to an odd tag',
            files: {
              'shop/overlays/dev/kustomization.yaml': shopOverlay(
                'dev',
                '1.2.0',
              ).replace('"1.2.0"', JSON.stringify(tag)),
            },
          },
        ]);
        const main = git(dir, 'rev-parse', 'main');
        for (const path of ['/promotions/preview', '/promotions']) {
          const res = await as('ana').post(`${entityPath}${path}`, {
            to: 'staging',
          });
          expect(res.status).toBe(400);
          expect(res.body.error.message).toMatch(
            /^dev, upstream of staging, names ".*", which is not a version: .*; nothing was changed$/s,
          );
        }
        expect(git(dir, 'branch', '--list', 'promotions/*')).toBe('');
        expect(git(dir, 'rev-parse', 'main')).toBe(main);
        expect(
          (await as('ana').get(`${entityPath}/promotions`)).body.promotions,
        ).toEqual([]);
      },
    );

    it('lets only those the policy allows act: owners outside production, release managers anywhere', async () => {
      const { as } = await start();
      // A stranger may not promote; an owner may not promote to production.
      expect((await as('sam').promote({ to: 'staging' })).status).toBe(403);
      const prod = await as('ana').promote({ to: 'prod', version: '1.1.0' });
      expect(prod.status).toBe(403);
      expect(prod.body.error.message).toBe(
        'You may not promote to prod of component:default/shop',
      );
      const byRita = await as('rita').promote({ to: 'prod', version: '1.1.0' });
      expect(byRita.status).toBe(201);
      // An owner may not approve production; another release manager would.
      expect((await as('ana').act(byRita.body.id, 'approve')).status).toBe(403);
      expect((await as('ben').act(byRita.body.id, 'merge')).status).toBe(403);
      // The approval gate counts release managers only.
      const list = await as('ana').get(
        '/entities/component/default/shop/promotions',
      );
      expect(list.body.actions).toEqual({
        dev: ['promote', 'approve', 'merge'],
        staging: ['promote', 'approve', 'merge'],
        prod: [],
      });
      const rita = await as('rita').get(
        '/entities/component/default/shop/promotions',
      );
      expect(rita.body.actions.prod).toEqual([
        'promote',
        'approve',
        'merge',
        'override',
        'freeze',
      ]);
    });

    it('freezes an environment: no merge until lifted, or overridden with a reason that history keeps', async () => {
      const { as, entityPath, dir } = await start();
      const created = await as('ana').promote({ to: 'staging' });
      await as('rita').act(created.body.id, 'approve');
      expect(
        (
          await as('ana').post('/freezes', {
            entityRef: 'component:default/shop',
            environment: 'staging',
            reason: 'x',
          })
        ).status,
      ).toBe(403);
      const freeze = await as('rita').post('/freezes', {
        entityRef: 'component:default/shop',
        environment: 'staging',
        reason: 'Black Friday',
      });
      expect(freeze.status).toBe(201);
      const blocked = await as('ben').act(created.body.id, 'merge');
      expect(blocked.status).toBe(409);
      expect(blocked.body.error.message).toMatch(
        /freeze: Frozen by rita: Black Friday/,
      );
      // An owner cannot override; a release manager can, with a reason.
      expect(
        (
          await as('ben').act(created.body.id, 'merge', {
            override: { reason: 'hotfix' },
          })
        ).status,
      ).toBe(403);
      expect(
        (
          await as('rita').act(created.body.id, 'merge', {
            override: { reason: '' },
          })
        ).status,
      ).toBe(400);
      const overridden = await as('rita').act(created.body.id, 'merge', {
        override: { reason: 'Payment outage hotfix' },
      });
      expect(overridden.status).toBe(200);
      expect(overridden.body.state).toBe('merged');
      expect(overlay(dir, 'main')).toContain('newTag: "1.2.0"');
      const history = await as('ana').get(`${entityPath}/history`);
      expect(
        history.body.entries.slice(0, 3).map((e: any) => [e.action, e.comment]),
      ).toEqual([
        ['merged', expect.stringMatching(/^Merged in [0-9a-f]{12}$/)],
        ['overridden', 'freeze overridden: Payment outage hotfix'],
        ['frozen', 'Black Friday'],
      ]);
      // Lifted with a reason, as it was set with one.
      for (const body of [{}, { reason: '   ' }]) {
        const refused = await as('rita').post(
          `/freezes/${freeze.body.id}/lift`,
          body,
        );
        expect(refused.status).toBe(400);
        expect(refused.body.error.message).toContain('reason');
      }
      expect((await as('rita').get('/freezes')).body.items).toHaveLength(1);
      const lifted = await as('rita').post(`/freezes/${freeze.body.id}/lift`, {
        reason: 'Black Friday is over',
      });
      expect(lifted.status).toBe(200);
      expect((await as('rita').get('/freezes')).body.items).toEqual([]);
      const after = await as('ana').get(`${entityPath}/history`);
      expect([
        after.body.entries[0].action,
        after.body.entries[0].comment,
      ]).toEqual(['unfrozen', 'Black Friday is over']);
    });

    it('sets and lifts a freeze only together with its line in history', async () => {
      const { as, knex, entityPath } = await start();
      const body = {
        entityRef: 'component:default/shop',
        environment: 'staging',
        reason: 'Black Friday',
      };
      let allow = await refuseInserts(knex, 'promotions_history');
      expect((await as('rita').post('/freezes', body)).status).toBe(500);
      await allow();
      expect((await as('rita').get('/freezes')).body.items).toEqual([]);

      const freeze = await as('rita').post('/freezes', body);
      expect(freeze.status).toBe(201);
      allow = await refuseInserts(knex, 'promotions_history');
      expect(
        (
          await as('rita').post(`/freezes/${freeze.body.id}/lift`, {
            reason: 'Over',
          })
        ).status,
      ).toBe(500);
      await allow();
      expect((await as('rita').get('/freezes')).body.items).toEqual([
        freeze.body,
      ]);

      expect(
        (
          await as('rita').post(`/freezes/${freeze.body.id}/lift`, {
            reason: 'Over',
          })
        ).status,
      ).toBe(200);
      expect(
        (await as('rita').get(`${entityPath}/history`)).body.entries.map(
          (e: any) => [e.action, e.environment, e.comment],
        ),
      ).toEqual([
        ['unfrozen', 'staging', 'Over'],
        ['frozen', 'staging', 'Black Friday'],
      ]);
    });

    it('lists to each caller the freezes of the services they may see, and the global ones', async () => {
      const { as } = await start(
        undefined,
        shopHistory,
        [],
        {},
        ownersFreezePolicy,
      );
      for (const [entityRef, environment] of [
        ['component:default/shop', 'staging'],
        ['*', 'prod'],
      ]) {
        const freeze = await as('rita').post('/freezes', {
          entityRef,
          environment,
          reason: 'Black Friday',
        });
        expect(freeze.status).toBe(201);
      }
      const listed = async (user: string, query = '') =>
        (await as(user).get(`/freezes${query}`)).body.items?.map(
          (f: any) => `${f.entityRef} ${f.environment}`,
        );
      expect(await listed('rita')).toEqual([
        'component:default/shop staging',
        '* prod',
      ]);
      expect(await listed('ana')).toEqual([
        'component:default/shop staging',
        '* prod',
      ]);
      // sam may not see shop: its freeze is not listed, and asking for it names nothing.
      expect(await listed('sam')).toEqual(['* prod']);
      expect(
        (await as('sam').get('/freezes?entityRef=component:default/shop'))
          .status,
      ).toBe(404);
    });

    it('judges a freeze of every environment as one of production: an owner allowed outside production may neither set nor lift it', async () => {
      const { as } = await start(
        undefined,
        shopHistory,
        [],
        {},
        ownersFreezePolicy,
      );
      const shop = 'component:default/shop';
      const freeze = (user: string, entityRef: string, environment: string) =>
        as(user).post('/freezes', {
          entityRef,
          environment,
          reason: 'Black Friday',
        });
      const lift = (user: string, id: number) =>
        as(user).post(`/freezes/${id}/lift`, {
          reason: 'Black Friday is over',
        });

      const staging = await freeze('ana', shop, 'staging');
      expect(staging.status).toBe(201);
      expect((await freeze('ana', shop, 'prod')).status).toBe(403);
      const every = await freeze('ana', shop, '*');
      expect(every.status).toBe(403);
      expect(every.body.error.message).toMatch(
        /^You may not .* \* of component:default\/shop$/,
      );
      expect((await freeze('ana', '*', '*')).status).toBe(403);

      const byRita = await freeze('rita', shop, '*');
      expect(byRita.status).toBe(201);
      expect((await lift('ana', byRita.body.id)).status).toBe(403);
      expect((await lift('ana', staging.body.id)).status).toBe(200);
      expect((await lift('rita', byRita.body.id)).status).toBe(200);
      expect((await as('rita').get('/freezes')).body.items).toEqual([]);
    });

    it('lets CI promote to its first environment with an external access token, gates applied, and nowhere else', async () => {
      const { as, dir } = await start();
      const dev = await as('ci').promote({
        to: 'dev',
        version: '1.3.0',
        merge: true,
      });
      expect(dev.status).toBe(201);
      expect(dev.body).toMatchObject({
        state: 'merged',
        requestedBy: 'external:test-service',
        version: '1.3.0',
      });
      expect(overlay(dir, 'main', 'dev')).toContain('newTag: "1.3.0"');
      const staging = await as('ci').promote({
        to: 'staging',
        version: '1.3.0',
      });
      expect(staging.status).toBe(403);
      expect(staging.body.error.message).toMatch(
        /external:test-service may not ask for promotions to staging/,
      );
    });

    it('notices a promotion merged or deleted outside the portal', async () => {
      const { as, dir, sync } = await start();
      const created = await as('ana').promote({ to: 'staging' });
      git(dir, 'update-ref', 'refs/heads/main', created.body.headCommit);
      await sync();
      const merged = await as('ana').get(`/promotions/${created.body.id}`);
      expect(merged.body).toMatchObject({
        state: 'merged',
        mergedCommit: created.body.headCommit,
      });

      const rollback = await as('ana').promote({
        to: 'staging',
        kind: 'rollback',
        version: '1.1.0',
      });
      git(dir, 'branch', '-D', rollback.body.branch);
      await sync();
      const closed = await as('ana').get(`/promotions/${rollback.body.id}`);
      expect(closed.body).toMatchObject({ state: 'closed' });
      expect(closed.body.reason).toMatch(/deleted outside the portal/);
    });
  },
);
