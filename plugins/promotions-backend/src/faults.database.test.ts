import net from 'node:net';
import { TestDatabases } from '@backstage/backend-test-utils';
import { shopHistory, shopOverlay } from '@internal/promotions-fixtures';
import knexFactory, { Knex } from 'knex';
import {
  bareRepository,
  git,
  pushToBranch,
  startWorkflowBackend,
} from './__testUtils__';

jest.setTimeout(90_000);

const databases = TestDatabases.create({ ids: ['POSTGRES_15'] });
const postgres = databases.eachSupportedId();
const STAGING = 'shop/overlays/staging/kustomization.yaml';
const OUTAGE_MS = 2000;
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/**
 * A TCP proxy between the backend and PostgreSQL that the test can cut: every connection is
 * dropped at once and new ones are hung up on, as when the database's host goes away, until it
 * is restored.
 */
class DatabaseOutage {
  private readonly sockets = new Set<net.Socket>();
  private down = false;
  private cutOn?: { statement: string; reached: () => void };

  private constructor(
    private readonly server: net.Server,
    private readonly target: { host: string; port: number },
  ) {
    server.on('connection', client => this.connect(client));
  }

  static async start(target: { host: string; port: number }) {
    const server = net.createServer();
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    return new DatabaseOutage(server, target);
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** Cuts the database off now. */
  cut() {
    this.down = true;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  /**
   * Cuts the database off as a statement starting with `statement` is sent, which never
   * reaches it: whatever its transaction wrote before is lost with the connection.
   */
  cutAt(statement: string): Promise<void> {
    return new Promise(resolve => {
      this.cutOn = { statement, reached: resolve };
    });
  }

  restore() {
    this.down = false;
  }

  async stop() {
    this.cut();
    await new Promise(resolve => this.server.close(resolve));
  }

  private connect(client: net.Socket) {
    if (this.down) {
      client.destroy();
      return;
    }
    const upstream = net.connect(this.target.port, this.target.host);
    this.sockets.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    upstream.on('data', chunk => client.write(chunk));
    client.on('data', chunk => {
      // Queries travel as text in PostgreSQL's protocol when no TLS is asked for, as here.
      if (this.cutOn && chunk.includes(this.cutOn.statement)) {
        const { reached } = this.cutOn;
        this.cutOn = undefined;
        this.cut();
        reached();
        return;
      }
      upstream.write(chunk);
    });
  }
}

const outages: DatabaseOutage[] = [];
const clients: Knex[] = [];

afterEach(async () => {
  await Promise.all(outages.splice(0).map(outage => outage.stop()));
  await Promise.all(clients.splice(0).map(client => client.destroy()));
});

/** A client of the test database that connects through an outage the test controls. */
async function throughOutage(direct: Knex) {
  const connection = direct.client.config.connection as Knex.PgConnectionConfig;
  const outage = await DatabaseOutage.start({
    host: connection.host ?? '127.0.0.1',
    port: Number(connection.port ?? 5432),
  });
  outages.push(outage);
  const client = knexFactory({
    client: 'pg',
    connection: { ...connection, host: '127.0.0.1', port: outage.port },
    pool: { min: 0, max: 5 },
    // The lost connections are the test's doing; the driver's complaints about them are noise.
    log: { warn() {}, error() {}, debug() {}, deprecate() {} },
  });
  clients.push(client);
  return { outage, client };
}

/** The rows of tables, as text, for comparing what the database holds before and after. */
const rowsOf = async (knex: Knex, tables: string[]) =>
  JSON.stringify(
    await Promise.all(
      tables.map(table => knex(table).select().orderByRaw('1')),
    ),
  );

/** The repository's state as the store keeps it, without the lease a refresh takes. */
const storedState = async (knex: Knex) =>
  JSON.stringify([
    await rowsOf(knex, [
      'promotions_entity_state',
      'promotions_environment_state',
    ]),
    await knex('promotions_repository_state')
      .select(
        'repository_id',
        'revision',
        'refreshed_at',
        'error_message',
        'error_at',
      )
      .orderBy('repository_id'),
  ]);

const PROMOTION_TABLES = [
  'promotions_requests',
  'promotions_decisions',
  'promotions_history',
];

/** The promotions backend over a Git repository, its database reached through an outage. */
async function start(databaseId: 'POSTGRES_15') {
  const direct = await databases.init(databaseId);
  const { outage, client } = await throughOutage(direct);
  const dir = bareRepository(shopHistory);
  const backend = await startWorkflowBackend({
    databases,
    databaseId,
    knex: client,
    repositories: [
      { id: 'gitops', provider: 'git', url: dir, paths: ['shop/**'] },
    ],
  });
  await backend.ready();
  /** Ends the outage a while after it began, as a database failing over would come back. */
  const restoreLater = async () => {
    await sleep(OUTAGE_MS);
    outage.restore();
  };
  return { ...backend, direct, outage, dir, restoreLater };
}

(postgres.length > 0 ? describe : describe.skip)(
  'fault: the database unavailable for a few seconds, on PostgreSQL',
  () => {
    it('fails a refresh whose write the outage cut with nothing of it stored, and the next refresh stores the new state', async () => {
      const world = await start('POSTGRES_15');
      const page = async () =>
        (await world.as('ana').get(world.entityPath)).body;
      const known = await page();
      const before = await storedState(world.direct);
      pushToBranch(
        world.dir,
        'main',
        { [STAGING]: shopOverlay('staging', '1.3.0') },
        'Promote shop 1.3.0 to staging',
      );

      // The environment rows are written first in the refresh's transaction, then the entity's.
      const cut = world.outage.cutAt('insert into "promotions_entity_state"');
      const refreshing = world.refresh().then(
        () => undefined,
        (error: Error) => error,
      );
      await cut;
      // While the database is away, a page cannot be served from it, and says why.
      const away = await world.as('ana').get(world.entityPath);
      expect(away.status).toBe(503);
      expect(away.body.error.message).toBe(
        'The promotions database cannot be reached; try again in a moment',
      );
      await world.restoreLater();
      await refreshing;

      expect(await storedState(world.direct)).toBe(before);
      const after = await page();
      expect(after.asOf).toBe(known.asOf);
      expect(after.environments).toEqual(known.environments);

      await world.refresh();
      const fresh = await page();
      expect(
        fresh.environments.find((env: any) => env.name === 'staging').desired
          .version,
      ).toBe('1.3.0');
      expect(Date.parse(fresh.asOf)).toBeGreaterThan(Date.parse(known.asOf));
    });

    it('answers 503 to an approval and a merge the outage cut, with nothing of either stored, and the same actions complete the promotion once it is over', async () => {
      const world = await start('POSTGRES_15');
      const created = await world.as('ana').promote({ to: 'staging' });
      expect(created.status).toBe(201);
      const { id, branch } = created.body;
      const main = git(world.dir, 'rev-parse', 'main');

      // The decision is written, then its line of history: the outage falls between the two.
      let before = await rowsOf(world.direct, PROMOTION_TABLES);
      let cut = world.outage.cutAt('insert into "promotions_history"');
      // A promise, so that the request is sent now rather than when awaited.
      const approving = Promise.resolve(world.as('rita').act(id, 'approve'));
      await cut;
      const [refusedApproval] = await Promise.all([
        approving,
        world.restoreLater(),
      ]);
      expect(refusedApproval.status).toBe(503);
      expect(refusedApproval.body.error.message).toBe(
        'The promotions database cannot be reached; try again in a moment',
      );
      expect(await rowsOf(world.direct, PROMOTION_TABLES)).toBe(before);
      expect((await world.as('rita').act(id, 'approve')).status).toBe(200);

      // The merge is cut as it marks the promotion as being merged, before the repository.
      before = await rowsOf(world.direct, PROMOTION_TABLES);
      cut = world.outage.cutAt('update "promotions_requests"');
      const merging = Promise.resolve(world.as('rita').act(id, 'merge'));
      await cut;
      const [refusedMerge] = await Promise.all([merging, world.restoreLater()]);
      expect(refusedMerge.status).toBe(503);
      expect(await rowsOf(world.direct, PROMOTION_TABLES)).toBe(before);
      expect(git(world.dir, 'rev-parse', 'main')).toBe(main);
      expect(git(world.dir, 'branch', '--list', branch)).not.toBe('');

      const merged = await world.as('rita').act(id, 'merge');
      expect(merged.status).toBe(200);
      expect(merged.body.state).toBe('merged');
      expect(git(world.dir, 'show', `main:${STAGING}`)).toContain(
        'newTag: "1.2.0"',
      );
      expect(git(world.dir, 'branch', '--list', branch)).toBe('');
      const history = (
        await world.as('ana').get('/entities/component/default/shop/history')
      ).body.entries
        .filter((e: any) => e.promotionId === id)
        .map((e: any) => [e.action, e.actor])
        .reverse();
      expect(history).toEqual([
        ['requested', 'user:default/ana'],
        ['approved', 'user:default/rita'],
        ['merged', 'user:default/rita'],
      ]);
    });
  },
);
