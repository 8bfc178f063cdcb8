import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  mockCredentials,
  TestDatabaseId,
  TestDatabases,
} from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import {
  appendCommit,
  createGitFixture,
  shopHistory,
  shopOverlay,
} from '@internal/promotions-fixtures';
import request from 'supertest';
import {
  bareRepository,
  everyRow,
  git,
  shopEntity,
  startWorkflowBackend,
} from './__testUtils__';

jest.setTimeout(120_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });

const KB10 = 'a'.repeat(10 * 1024);

/** The shop entity in another namespace, so that each hostile layout is an entity of its own. */
const shopIn = (
  namespace: string,
  annotations: Record<string, string>,
): Entity => {
  const entity = shopEntity(annotations);
  return { ...entity, metadata: { ...entity.metadata, namespace } };
};

/** Every ref of the repository and where HEAD points: what a write would move. */
const refsOf = (dir: string) =>
  [
    git(dir, 'for-each-ref', '--format=%(refname) %(objectname)'),
    `HEAD ${git(dir, 'symbolic-ref', 'HEAD')} ${git(dir, 'rev-parse', 'HEAD')}`,
  ].join('\n');

/**
 * The shop repository, its backend on one database, and a snapshot of all it holds. The store's
 * snapshot is every row of every table: no read of the API writes a row, so none is left out.
 */
async function startShop(
  databaseId: TestDatabaseId,
  options: { dir?: string; entities?: Entity[] } = {},
) {
  const dir = options.dir ?? bareRepository(shopHistory);
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
    entities: [shopEntity(), ...(options.entities ?? [])],
  });
  await backend.ready();
  const snapshot = async () => ({
    refs: refsOf(dir),
    store: await everyRow(backend.knex),
  });
  return { ...backend, dir, snapshot };
}

describe('hostile input: the promote route', () => {
  describe.each(databases.eachSupportedId())('on %s', databaseId => {
    let shop: Awaited<ReturnType<typeof startShop>>;
    let before: Awaited<ReturnType<typeof shop.snapshot>>;
    beforeAll(async () => {
      shop = await startShop(databaseId);
      before = await shop.snapshot();
    });
    /** The repository's refs and HEAD, and every row of the store, as they were before. */
    const expectNothingChanged = async () =>
      expect(await shop.snapshot()).toEqual(before);

    it.each<[string, object, RegExp]>([
      [
        'an empty body',
        {},
        /^Invalid promotion: to: Invalid input: expected string, received undefined/,
      ],
      [
        'a body without `to`',
        { version: '1.2.0' },
        /^Invalid promotion: to: Invalid input: expected string, received undefined/,
      ],
      [
        '`to` holding a newline',
        { to: 'staging\nprod' },
        /^Invalid promotion: to: must be a lowercase name/,
      ],
      [
        '`to` holding a shell command `$(rm -rf /)`',
        { to: '$(rm -rf /)' },
        /^Invalid promotion: to: must be a lowercase name/,
      ],
      [
        '`to` holding YAML `a: b`',
        { to: 'a: b' },
        /^Invalid promotion: to: must be a lowercase name/,
      ],
      [
        '`to` 10 KB long',
        { to: KB10 },
        /^Invalid promotion: to: Too big: expected string to have <=63 characters/,
      ],
      [
        '`version` 10 KB long',
        { to: 'staging', version: KB10 },
        /^Invalid promotion: version: Too big: expected string to have <=200 characters/,
      ],
      [
        '`version` holding a newline',
        { to: 'staging', version: '1.2.0\nimage: evil' },
        /^"1\.2\.0\nimage: evil" is not a version/,
      ],
      [
        '`version` holding YAML `&a [*a]`',
        { to: 'staging', version: '&a [*a]' },
        /"&a \[\*a\]" is not a version/,
      ],
      [
        'an extra field',
        { to: 'staging', approvedBy: 'user:default/rita' },
        /^Invalid promotion: body: Unrecognized key: "approvedBy"/,
      ],
      [
        'an environment outside the pipeline',
        { to: 'qa' },
        /"qa" is not an environment of component:default\/shop \(environments: dev, staging, prod\)/,
      ],
      [
        'a version no upstream runs, without allowUnknownVersion',
        { to: 'staging', version: '9.9.9' },
        /No upstream of staging runs 9\.9\.9 \(dev runs 1\.2\.0\); ask with allowUnknownVersion/,
      ],
    ])(
      'a promote body with %s gets 400 naming the problem, and nothing is written',
      async (_, body, message) => {
        const res = await shop.as('ana').promote(body);
        expect(res.status).toBe(400);
        expect(res.body.error.message).toMatch(message);
        // The answer never echoes a 10 KB input back.
        expect(res.body.error.message.length).toBeLessThan(1000);
        await expectNothingChanged();
      },
    );

    const fields: Record<string, object> = {
      to: {},
      version: { to: 'staging' },
      from: { to: 'staging' },
      images: { to: 'staging' },
      allowUnknownVersion: { to: 'staging' },
      kind: { to: 'staging' },
      supersede: { to: 'staging' },
      merge: { to: 'staging' },
      baseCommit: { to: 'staging' },
    };
    const wrongValues: Array<[string, unknown]> = [
      ['a number', 42],
      ['an array', ['staging']],
      ['an object', { name: 'staging' }],
      ['null', null],
    ];
    it.each(
      Object.entries(fields).flatMap(([field, rest]) =>
        wrongValues.map(([what, value]) => [field, what, rest, value] as const),
      ),
    )(
      'a promote body whose `%s` is %s gets 400 naming the field, and nothing is written',
      async (field, _, rest, value) => {
        const res = await shop.as('ana').promote({ ...rest, [field]: value });
        expect(res.status).toBe(400);
        expect(res.body.error.message).toMatch(
          new RegExp(`^Invalid promotion: ${field}: `),
        );
        await expectNothingChanged();
      },
    );

    it('a promote body that is not JSON gets 400, and nothing is written', async () => {
      const res = await request(shop.server)
        .post(`/api/promotions/v1${shop.entityPath}/promotions`)
        .set('authorization', mockCredentials.user.header('user:default/ana'))
        .set('content-type', 'application/json')
        .send('{"to": "staging"');
      expect(res.status).toBe(400);
      expect(res.body.error.message).toMatch(/JSON/);
      expect(res.body.error.name).toBe('SyntaxError');
      await expectNothingChanged();
    });

    it.each([
      ['70 KB', 70 * 1024],
      ['1 MB', 1024 * 1024],
    ])(
      'a promote body of %s, over the 64 KB limit, gets 413 before it is parsed, and nothing is written',
      async (_, size) => {
        const res = await shop
          .as('ana')
          .promote({ to: 'staging', version: 'a'.repeat(size) });
        expect(res.status).toBe(413);
        expect(res.body.error.message).toMatch(/too large/i);
        await expectNothingChanged();
      },
    );
  });
});

describe('hostile input: decision, freeze and lift bodies', () => {
  describe.each(databases.eachSupportedId())('on %s', databaseId => {
    let shop: Awaited<ReturnType<typeof startShop>>;
    let before: Awaited<ReturnType<typeof shop.snapshot>>;
    let promotionId: string;
    let freezeId: number;
    beforeAll(async () => {
      shop = await startShop(databaseId);
      const created = await shop.as('ana').promote({ to: 'staging' });
      if (created.status !== 201) throw new Error(JSON.stringify(created.body));
      promotionId = created.body.id;
      const frozen = await shop.as('rita').post('/freezes', {
        entityRef: 'component:default/shop',
        environment: 'prod',
        reason: 'Black Friday',
      });
      if (frozen.status !== 201) throw new Error(JSON.stringify(frozen.body));
      freezeId = frozen.body.id;
      before = await shop.snapshot();
    });
    /** The repository's refs and HEAD, and every row of the store, as they were before. */
    const expectNothingChanged = async () =>
      expect(await shop.snapshot()).toEqual(before);

    const wrongComments: Array<[string, object, RegExp]> = [
      [
        'a number comment',
        { comment: 42 },
        /comment: Invalid input: expected string/,
      ],
      [
        'an array comment',
        { comment: ['ok'] },
        /comment: Invalid input: expected string/,
      ],
      [
        'an object comment',
        { comment: { text: 'ok' } },
        /comment: Invalid input: expected string/,
      ],
      [
        'a null comment',
        { comment: null },
        /comment: Invalid input: expected string/,
      ],
      [
        'a comment over 4000 characters',
        { comment: KB10 },
        /comment: Too big: expected string to have <=4000 characters/,
      ],
      [
        'an extra field',
        { comment: 'ok', decision: 'approve' },
        /body: Unrecognized key: "decision"/,
      ],
    ];
    it.each(
      [
        ['an approve', 'approve'],
        ['a reject', 'reject'],
      ].flatMap(([label, action]) =>
        wrongComments.map(
          ([what, body, message]) =>
            [label, what, action, body, message] as const,
        ),
      ),
    )(
      '%s body with %s gets 400 naming the field, and no decision is recorded',
      async (_, __, action, body, message) => {
        const res = await shop.as('rita').act(promotionId, action, body);
        expect(res.status).toBe(400);
        expect(res.body.error.message).toMatch(
          new RegExp(`^Invalid decision: ${message.source}`),
        );
        await expectNothingChanged();
      },
    );

    it('an approve of promotion `..%2F..%2Fetc` gets 400 naming the promotion id, and no decision is recorded', async () => {
      const res = await shop.as('rita').act('..%2F..%2Fetc', 'approve');
      expect(res.status).toBe(400);
      expect(res.body.error.message).toMatch(/^Invalid promotion id: /);
      await expectNothingChanged();
    });

    const freeze = {
      entityRef: 'component:default/shop',
      environment: 'staging',
      reason: 'Release week',
    };
    it.each<[string, object, RegExp]>([
      [
        'an empty body',
        {},
        /entityRef: Invalid input: expected string, received undefined/,
      ],
      [
        'a number entityRef',
        { ...freeze, entityRef: 42 },
        /entityRef: Invalid input: expected string/,
      ],
      [
        'an array environment',
        { ...freeze, environment: ['staging'] },
        /environment: /,
      ],
      [
        'an object reason',
        { ...freeze, reason: { why: 'x' } },
        /reason: Invalid input: expected string/,
      ],
      [
        'a null reason',
        { ...freeze, reason: null },
        /reason: Invalid input: expected string/,
      ],
      [
        'an environment holding a newline',
        { ...freeze, environment: 'staging\nprod' },
        /environment: /,
      ],
      [
        'an entityRef 10 KB long',
        { ...freeze, entityRef: KB10 },
        /entityRef: Too big: expected string to have <=255 characters/,
      ],
      [
        'an extra field',
        { ...freeze, until: '2099-01-01' },
        /body: Unrecognized key: "until"/,
      ],
    ])(
      'a freeze body with %s gets 400 naming the field, and no freeze is set',
      async (_, body, message) => {
        const res = await shop.as('rita').post('/freezes', body);
        expect(res.status).toBe(400);
        expect(res.body.error.message).toMatch(
          new RegExp(`^Invalid freeze: .*${message.source}`),
        );
        await expectNothingChanged();
      },
    );

    it.each<[string, object, RegExp]>([
      [
        'an empty body',
        {},
        /reason: Invalid input: expected string, received undefined/,
      ],
      [
        'a number reason',
        { reason: 42 },
        /reason: Invalid input: expected string/,
      ],
      [
        'an array reason',
        { reason: ['done'] },
        /reason: Invalid input: expected string/,
      ],
      [
        'a null reason',
        { reason: null },
        /reason: Invalid input: expected string/,
      ],
      [
        'a blank reason',
        { reason: '   ' },
        /reason: say why the freeze is lifted/,
      ],
      [
        'an extra field',
        { reason: 'done', force: true },
        /body: Unrecognized key: "force"/,
      ],
    ])(
      'a lift body with %s gets 400 naming the field, and the freeze stays',
      async (_, body, message) => {
        const res = await shop
          .as('rita')
          .post(`/freezes/${freezeId}/lift`, body);
        expect(res.status).toBe(400);
        expect(res.body.error.message).toMatch(
          new RegExp(`^Invalid lift: .*${message.source}`),
        );
        await expectNothingChanged();
      },
    );
  });
});

describe('hostile input: layout annotations', () => {
  const layouts: Array<[string, string, Record<string, string>, RegExp]> = [
    [
      'an absolute path `/etc/{env}`',
      'absolute',
      { 'gitops-promotions/path': '/etc/{env}' },
      /gitops-promotions\/path: the path "\/etc\/\{env\}" is absolute/,
    ],
    [
      'a URL-encoded traversal `%2e%2e/{env}`',
      'encoded-dots',
      { 'gitops-promotions/path': '%2e%2e/{env}' },
      /gitops-promotions\/path: the path "%2e%2e\/\{env\}" escapes the repository with "\.\."/,
    ],
    [
      'a URL-encoded traversal `..%2F{env}`',
      'encoded-slash',
      { 'gitops-promotions/path': '..%2F{env}' },
      /gitops-promotions\/path: the path "\.\.%2F\{env\}" escapes the repository with "\.\."/,
    ],
    [
      'a newline in the path',
      'newline',
      { 'gitops-promotions/path': 'shop/overlays\n/{env}' },
      /gitops-promotions\/path: the path "shop\/overlays\\n\/\{env\}" contains a backslash or a control character/,
    ],
    [
      'an unknown pipeline',
      'pipeline',
      { 'gitops-promotions/pipeline': 'nowhere' },
      /gitops-promotions\/pipeline "nowhere" is not a configured pipeline \(configured: default\)/,
    ],
    [
      'an unknown repository',
      'repository',
      { 'gitops-promotions/repository': 'nowhere' },
      /gitops-promotions\/repository "nowhere" is not a configured repository \(configured: gitops\)/,
    ],
  ];

  describe.each(databases.eachSupportedId())('on %s', databaseId => {
    let shop: Awaited<ReturnType<typeof startShop>>;
    let before: Awaited<ReturnType<typeof shop.snapshot>>;
    beforeAll(async () => {
      shop = await startShop(databaseId, {
        entities: layouts.map(([, namespace, annotations]) =>
          shopIn(namespace, annotations),
        ),
      });
      before = await shop.snapshot();
    });
    /** The repository's refs and HEAD, and every row of the store, as they were before. */
    const expectNothingChanged = async () =>
      expect(await shop.snapshot()).toEqual(before);

    it.each(layouts)(
      'an entity whose annotations hold %s gets 400 naming the annotation, and the store is unchanged',
      async (_, namespace, __, message) => {
        const res = await shop
          .as('ana')
          .get(`/entities/component/${namespace}/shop`);
        expect(res.status).toBe(400);
        expect(res.body.error.message).toMatch(message);
        await expectNothingChanged();
      },
    );
  });
});

describe('hostile input: route parameters', () => {
  describe.each(databases.eachSupportedId())('on %s', databaseId => {
    let shop: Awaited<ReturnType<typeof startShop>>;
    let before: Awaited<ReturnType<typeof shop.snapshot>>;
    beforeAll(async () => {
      shop = await startShop(databaseId);
      before = await shop.snapshot();
    });
    /** The repository's refs and HEAD, and every row of the store, as they were before. */
    const expectNothingChanged = async () =>
      expect(await shop.snapshot()).toEqual(before);

    it('an entity named `..%2F..%2Fetc` gets 404 naming the entity, never a file', async () => {
      const res = await shop
        .as('ana')
        .get('/entities/component/default/..%2F..%2Fetc');
      expect(res.status).toBe(404);
      expect(res.body.error.message).toBe(
        'No entity component:default/../../etc in the catalog',
      );
      await expectNothingChanged();
    });

    it('an entity name 10 KB long gets 400 saying the reference is invalid', async () => {
      const res = await shop
        .as('ana')
        .get(`/entities/component/default/${KB10}`);
      expect(res.status).toBe(400);
      expect(res.body.error.message).toMatch(/^Invalid entity reference: /);
      expect(res.body.error.message.length).toBeLessThan(1000);
      await expectNothingChanged();
    });

    it('the promotions of an entity name 10 KB long get 400 saying the reference is invalid', async () => {
      const res = await shop
        .as('ana')
        .get(`/entities/component/default/${KB10}/promotions`);
      expect(res.status).toBe(400);
      expect(res.body.error.message).toMatch(/^Invalid entity reference: /);
      expect(res.body.error.message.length).toBeLessThan(1000);
      await expectNothingChanged();
    });

    it.each([
      ['nowhere', '"nowhere" is not a configured repository'],
      ['..%2F..%2Fetc', '"../../etc" is not a configured repository'],
    ])(
      'a refresh of repository `%s` gets 404 naming it, and nothing is read',
      async (id, message) => {
        const res = await shop.as('ci').post(`/repositories/${id}/refresh`);
        expect(res.status).toBe(404);
        expect(res.body.error.message).toBe(message);
        await expectNothingChanged();
      },
    );
  });
});

describe('hostile input: a symbolic link in the repository', () => {
  /** The shop history, then a commit linking a dev resource to a file outside the repository. */
  function repositoryWithLink(): string {
    const work = createGitFixture(shopHistory);
    fs.symlinkSync(
      '/etc/passwd',
      path.join(work, 'shop/overlays/dev/evil.yaml'),
    );
    appendCommit(work, {
      author: 'Mallory',
      date: '2026-10-25T09:00:00Z',
      message: 'Add a resource to dev',
      files: {
        'shop/overlays/dev/kustomization.yaml': shopOverlay(
          'dev',
          '1.2.0',
        ).replace('  - ../../base\n', '  - ../../base\n  - evil.yaml\n'),
      },
    });
    expect(git(work, 'ls-files', '-s', 'shop/overlays/dev/evil.yaml')).toMatch(
      /^120000 /,
    );
    const bare = fs.mkdtempSync(path.join(os.tmpdir(), 'promotions-bare-'));
    execFileSync('git', ['clone', '-q', '--bare', work, bare]);
    return bare;
  }

  describe.each(databases.eachSupportedId())('on %s', databaseId => {
    it('a dev resource linked to /etc/passwd shows dev an error naming the file, staging and prod still resolve, and /etc/passwd is never read', async () => {
      const shop = await startShop(databaseId, { dir: repositoryWithLink() });
      const before = await shop.snapshot();
      const res = await shop.as('ana').get(shop.entityPath);
      expect(res.status).toBe(200);
      const byName = Object.fromEntries(
        res.body.environments.map((e: any) => [e.name, e]),
      );
      expect(byName.dev.error).toBe(
        'shop/overlays/dev/kustomization.yaml: resource "evil.yaml" not found',
      );
      expect(byName.staging.error).toBeUndefined();
      expect(byName.staging.desired.version).toBe('1.1.0');
      expect(byName.prod.error).toBeUndefined();
      expect(byName.prod.desired.version).toBe('1.0.0');
      // Whatever the link points at stays out of every answer.
      const passwd = fs.readFileSync('/etc/passwd', 'utf8').split('\n')[0];
      expect(JSON.stringify(res.body)).not.toContain(passwd);
      expect(await shop.snapshot()).toEqual(before);
    });
  });
});

describe('the snapshot the hostile input tests compare', () => {
  describe.each(databases.eachSupportedId())('on %s', databaseId => {
    it('sees the branch and the rows a promotion writes, so that an unchanged snapshot means nothing was written', async () => {
      const shop = await startShop(databaseId);
      const before = await shop.snapshot();
      expect(await shop.snapshot()).toEqual(before);
      const created = await shop.as('ana').promote({ to: 'staging' });
      expect(created.status).toBe(201);
      const after = await shop.snapshot();
      expect(after.refs).not.toBe(before.refs);
      expect(after.refs).toContain(`refs/heads/${created.body.branch}`);
      expect(after.store).not.toBe(before.store);
      expect(after.store).toContain(created.body.id);
    });
  });
});
