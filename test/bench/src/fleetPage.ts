// The scenario stores states through the store a refresh writes with, so that they are indexed alike.
// eslint-disable-next-line @backstage/no-forbidden-package-imports
import { PromotionsStore } from '@gitops-promotions/plugin-promotions-backend/src/state/PromotionsStore';
import knexFactory, { Knex } from 'knex';
import { BackendProcess } from './BackendProcess';

/** The repository the scenario's services are stored under: no refresh ever reads it. */
const FLEET_REPOSITORY = 'fleet-bench';
const SAMPLES = 30;

type Figure = (
  step: string,
  label: string,
  value: string,
  target: string,
  met: boolean | null,
) => void;

/** One service's stored state: every fourth behind in prod, every tenth out of sync. */
function stateOf(i: number, environments: string[]) {
  const name = `fleet-${String(i).padStart(5, '0')}`;
  const entityRef = `component:default/${name}`;
  const body = {
    entityRef,
    asOf: new Date().toISOString(),
    repository: { id: FLEET_REPOSITORY, revision: 'bench' },
    pipeline: 'bench',
    environments: environments.map((environment, position) => {
      const last = position === environments.length - 1;
      return {
        name: environment,
        requires: position === 0 ? [] : [environments[position - 1]],
        desired: {
          version: `1.${i % 40}.${last && i % 4 === 0 ? 0 : 1}`,
          images: [],
          path: `${name}/overlays/${environment}`,
          lastChange: null,
        },
        live: null,
        drift: [
          ...(last && i % 4 === 0
            ? [
                {
                  kind: 'behind' as const,
                  summary: 'behind',
                  upstream: environments[position - 1] ?? environment,
                  upstreamVersion: null,
                  version: null,
                  versions: null,
                  commits: null,
                  since: null,
                },
              ]
            : []),
          ...(last && i % 10 === 0
            ? [
                {
                  kind: 'out-of-sync' as const,
                  summary: 'out of sync',
                  source: 'argocd',
                  instance: 'bench',
                  application: name,
                  since: null,
                },
              ]
            : []),
        ],
      };
    }),
  };
  return {
    entityRef,
    fingerprint: `bench-${i}`,
    body: JSON.stringify(body),
    entity: {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Component',
      metadata: { name, namespace: 'default' },
      spec: {
        type: 'service',
        owner: `team-${i % 20}`,
        system: `system-${i % 50}`,
        lifecycle: i % 3 === 0 ? 'experimental' : 'production',
      },
    },
  };
}

async function timed(
  backend: BackendProcess,
  token: string,
  urlPath: string,
): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < SAMPLES + 3; i++) {
    const started = performance.now();
    const res = await backend.request('GET', urlPath, token);
    const took = performance.now() - started;
    if (res.status !== 200) {
      throw new Error(`GET ${urlPath} answered ${res.status}: ${res.body}`);
    }
    // The first few warm the caches up, as a page someone opens again would be.
    if (i >= 3) times.push(took);
  }
  return times.sort((a, b) => a - b);
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/**
 * The fleet page over `count` stored services: they are written the way a refresh writes them,
 * into the running backend's database, then the first page, a filtered and sorted page, and the
 * single-entity page view beside them are asked for over HTTP.
 */
export async function fleetPageScenario(options: {
  step: string;
  database: string;
  backend: BackendProcess;
  token: string;
  connection: Knex.Config;
  count: number;
  environments: string[];
  /** A service the backend refreshed itself, for the single-entity reference. */
  referenceName: string;
  figure: Figure;
  check: (condition: boolean, what: string) => void;
  log: (message: string) => void;
}) {
  const { step, database, backend, token, count, environments } = options;
  const db = knexFactory(options.connection);
  try {
    const store = await PromotionsStore.create({
      getClient: async () => db,
      migrations: { skip: true },
    });
    const writing = performance.now();
    const entities = Array.from({ length: count }, (_, i) =>
      stateOf(i, environments),
    );
    await store.saveRefresh({
      repositoryId: FLEET_REPOSITORY,
      revision: 'bench',
      at: new Date(),
      entities,
      environments: [],
      entityRefs: entities.map(e => e.entityRef),
      failures: [],
    });
    options.log(
      `stored ${count} services' states in ${(
        (performance.now() - writing) /
        1000
      ).toFixed(1)} s`,
    );
  } finally {
    await db.destroy();
  }

  const prod = environments[environments.length - 1];
  const first = await timed(
    backend,
    token,
    '/api/promotions/v1/fleet?limit=50',
  );
  const filtered = await timed(
    backend,
    token,
    `/api/promotions/v1/fleet?limit=50&owner=team-4&drift=behind&driftEnvironment=${prod}&sort=version:${prod}&order=desc`,
  );
  const reference = await timed(
    backend,
    token,
    `/api/promotions/v1/entities/component/default/${options.referenceName}`,
  );
  const page = JSON.parse(
    (await backend.request('GET', '/api/promotions/v1/fleet?limit=50', token))
      .body,
  );
  const column = page.columns?.find(
    (c: { environment: string }) => c.environment === prod,
  );
  options.check(
    page.total >= count && page.rows?.length === 50,
    `the fleet page (${database}) did not list the ${count} stored services`,
  );
  options.check(
    (column?.drift?.behind ?? 0) >= Math.ceil(count / 4),
    `the fleet page (${database}) did not count every service behind in ${prod}`,
  );
  options.log(
    `${page.total} services; ${prod}: ${column?.drift?.behind ?? 0} behind, ${
      column?.drift?.['out-of-sync'] ?? 0
    } out of sync`,
  );
  const ms = (value: number) => `${value.toFixed(1)} ms`;
  options.figure(
    step,
    `single-entity GET p95, ${database}`,
    ms(percentile(reference, 95)),
    '(reference)',
    null,
  );
  for (const [label, times] of [
    [`fleet first page p95, ${count} services, ${database}`, first],
    [`fleet filtered, sorted page p95, ${database}`, filtered],
  ] as const) {
    const p95 = percentile(times, 95);
    options.figure(
      step,
      label,
      `${ms(p95)} (${(p95 / percentile(reference, 95)).toFixed(1)}×)`,
      '< 300 ms',
      p95 < 300,
    );
  }
}
