import path from 'node:path';
import { BackendProcess } from './BackendProcess';
import {
  createSyntheticRepository,
  SyntheticRepository,
  SyntheticService,
} from './syntheticRepository';

/** The id of the fleet's repository, beside the benchmark's own. */
const FLEET_REPOSITORY = 'fleet';
/** The groups the guest belongs to, whom the owners' policy lets read only what they own. */
const GUEST_TEAMS = ['team-0', 'team-4'];
/** The owners as the fleet page names them, entity references. */
const GUEST_GROUPS = GUEST_TEAMS.map(team => `group:default/${team}`);
const SAMPLES = 30;

type Figure = (
  step: string,
  label: string,
  value: string,
  target: string,
  met: boolean | null,
) => void;

/** The parts of a benchmark backend's configuration the fleet adds to. */
export interface FleetBaseConfig {
  auth: { providers: { guest: object } };
  catalog: { locations: object[] };
  promotions: { repositories: object[]; refresh: object };
}

/**
 * A GitOps repository of `count` services, each a Helm chart's values with one file per
 * environment (the fewest files a service has), owned by 20 teams across 50 systems; every
 * fourth service is a version ahead in the environment before the last, so behind in the last.
 */
export function createFleetRepository(options: {
  workDir: string;
  count: number;
  environments: string[];
}): SyntheticRepository {
  const { environments } = options;
  const repo = createSyntheticRepository({
    dir: path.join(options.workDir, 'fleet'),
    count: options.count,
    environments,
    prefix: 'fleet',
    repositoryId: FLEET_REPOSITORY,
    layouts: ['helm'],
    spec: i => ({
      owner: `team-${i % 20}`,
      system: `system-${i % 50}`,
      lifecycle: i % 3 === 0 ? 'experimental' : 'production',
    }),
  });
  const before = environments[environments.length - 2];
  repo.promoteEach(
    repo.services
      .filter((_, i) => i % 4 === 0)
      .map(service => ({ service, env: before, version: '1.2.0' })),
    `Promote every fourth service to 1.2.0 in ${before}`,
  );
  return repo;
}

/**
 * A backend's configuration with the fleet's repository and catalog file added, its refresh
 * left to the scenario, and the guest a member of {@link GUEST_TEAMS}.
 */
function withFleet<C extends FleetBaseConfig>(
  config: C,
  repo: SyntheticRepository,
  paths: string[],
): C {
  return {
    ...config,
    auth: {
      ...config.auth,
      providers: {
        ...config.auth.providers,
        guest: {
          ...config.auth.providers.guest,
          ownershipEntityRefs: ['user:development/guest', ...GUEST_GROUPS],
        },
      },
    },
    catalog: {
      ...config.catalog,
      locations: [
        ...config.catalog.locations,
        { type: 'file', target: repo.catalogFile },
      ],
    },
    promotions: {
      ...config.promotions,
      repositories: [
        ...config.promotions.repositories,
        {
          id: FLEET_REPOSITORY,
          provider: 'git',
          url: repo.dir,
          paths,
        },
      ],
      // Refreshed when the catalog holds the fleet, by the scenario itself.
      refresh: { ...config.promotions.refresh, initialDelay: { hours: 24 } },
    },
  };
}

/** Signs in as the guest once the fleet page answers: a plugin answers 503 until it has started. */
async function guestToken(backend: BackendProcess): Promise<string> {
  const res = await backend.request('GET', '/api/auth/guest/refresh');
  if (res.status !== 200) {
    throw new Error(`guest sign-in failed: ${res.status} ${res.body}`);
  }
  const token = JSON.parse(res.body).backstageIdentity.token;
  const started = performance.now();
  while (
    (await backend.request('GET', '/api/promotions/v1/fleet?limit=1', token))
      .status === 503
  ) {
    if (performance.now() - started > 120_000) {
      throw new Error(`${backend.name} did not start the promotions plugin`);
    }
    await new Promise(r => setTimeout(r, 500));
  }
  return token;
}

/** Waits until the catalog holds every service of the fleet; returns how long it took. */
async function waitForFleetInCatalog(
  backend: BackendProcess,
  token: string,
  count: number,
): Promise<number> {
  const started = performance.now();
  for (;;) {
    const res = await backend.request(
      'GET',
      `/api/catalog/entities/by-query?filter=kind=component,metadata.annotations.gitops-promotions/repository=${FLEET_REPOSITORY}&limit=1`,
      token,
    );
    const total = res.status === 200 ? JSON.parse(res.body).totalItems : 0;
    if (total >= count) return performance.now() - started;
    if (performance.now() - started > 15 * 60_000) {
      throw new Error(`the catalog holds ${total} of the fleet's ${count}`);
    }
    await new Promise(r => setTimeout(r, 1000));
  }
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

const ms = (value: number) => `${value.toFixed(1)} ms`;

async function pageOf(
  backend: BackendProcess,
  token: string,
  urlPath = '/api/promotions/v1/fleet?limit=50',
) {
  const res = await backend.request('GET', urlPath, token);
  return JSON.parse(res.body) as {
    total?: number;
    rows?: Array<{ owner: string | null }>;
    columns?: Array<{ environment: string; drift?: Record<string, number> }>;
  };
}

/**
 * The fleet page over `repo`'s services: a backend with the fleet's repository and catalog file
 * starts, the catalog reads the services, and a refresh stores their states, as in a portal.
 * Then the first page, a filtered and sorted page, and the single-entity page view beside them
 * are asked for over HTTP, first under the allow-all policy, then again after a restart under a
 * policy that lets the guest read only what its teams own, which the backend judges service by
 * service.
 */
export async function fleetPageScenario<C extends FleetBaseConfig>(options: {
  step: string;
  database: string;
  /** Starts a backend with this configuration (and environment) on the database's port. */
  start: (
    name: string,
    config: C,
    env?: Record<string, string>,
  ) => Promise<BackendProcess>;
  config: C;
  repo: SyntheticRepository;
  /** The paths of the repository a service may read, as the benchmark's own repository's. */
  paths: string[];
  /** The benchmark's own services, which the fleet page lists too. */
  others: SyntheticService[];
  /** A service the backend refreshed before, for the single-entity reference. */
  referenceName: string;
  figure: Figure;
  check: (condition: boolean, what: string) => void;
  log: (message: string) => void;
}) {
  const { step, database, repo, figure, check, log } = options;
  const count = repo.services.length;
  const config = withFleet(options.config, repo, options.paths);
  const prod = repo.environments[repo.environments.length - 1];
  const filteredPath = `/api/promotions/v1/fleet?limit=50&owner=${GUEST_TEAMS[1]}&drift=behind&driftEnvironment=${prod}&sort=version:${prod}&order=desc`;
  const p95 = (times: number[]) => percentile(times, 95);

  const backend = await options.start('fleet', config);
  let reference: number[];
  let first: number[];
  let filtered: number[];
  try {
    const token = await guestToken(backend);
    log(
      `the catalog read the fleet's ${count} services in ${(
        (await waitForFleetInCatalog(backend, token, count)) / 1000
      ).toFixed(1)} s`,
    );
    const refreshing = performance.now();
    const res = await backend.request(
      'POST',
      `/api/promotions/v1/repositories/${FLEET_REPOSITORY}/refresh`,
      token,
    );
    const seededMs = performance.now() - refreshing;
    if (res.status !== 200) {
      throw new Error(
        `refreshing the fleet answered ${res.status}: ${res.body}`,
      );
    }
    const summary = JSON.parse(res.body);
    figure(
      step,
      `fleet stored by a refresh, ${count} services, ${database}`,
      `${(seededMs / 1000).toFixed(1)} s`,
      '(time)',
      null,
    );
    check(
      summary.failed === 0,
      `the fleet's refresh (${database}) failed ${summary.failed} entities`,
    );

    first = await timed(backend, token, '/api/promotions/v1/fleet?limit=50');
    filtered = await timed(backend, token, filteredPath);
    reference = await timed(
      backend,
      token,
      `/api/promotions/v1/entities/component/default/${options.referenceName}`,
    );
    const page = await pageOf(backend, token);
    const column = page.columns?.find(c => c.environment === prod);
    check(
      ((await pageOf(backend, token, filteredPath)).total ?? 0) > 0,
      `the fleet page (${database}) found none of ${GUEST_TEAMS[1]}'s services behind in ${prod}`,
    );
    check(
      (page.total ?? 0) >= count && page.rows?.length === 50,
      `the fleet page (${database}) did not list the ${count} refreshed services`,
    );
    check(
      (column?.drift?.behind ?? 0) >= Math.ceil(count / 4),
      `the fleet page (${database}) did not count every service behind in ${prod}`,
    );
    log(
      `${page.total} services; ${prod}: ${column?.drift?.behind ?? 0} behind`,
    );
  } finally {
    await backend.stop();
  }

  // The same backend, store and catalog, under the owners' policy.
  const restricted = await options.start('fleet-owners', config, {
    BENCH_POLICY: 'owners',
  });
  let ownFirst: number[];
  let ownFiltered: number[];
  try {
    const token = await guestToken(restricted);
    ownFirst = await timed(
      restricted,
      token,
      '/api/promotions/v1/fleet?limit=50',
    );
    ownFiltered = await timed(restricted, token, filteredPath);
    const page = await pageOf(restricted, token);
    check(
      ((await pageOf(restricted, token, filteredPath)).total ?? 0) > 0,
      `the fleet page (${database}) under the owners' policy found none of ${GUEST_TEAMS[1]}'s services behind in ${prod}`,
    );
    const owned = [...repo.services, ...options.others].filter(s =>
      GUEST_TEAMS.includes(s.owner),
    ).length;
    const rows = page.rows ?? [];
    check(
      page.total === owned &&
        rows.length === Math.min(50, owned) &&
        rows.every(row => row.owner && GUEST_GROUPS.includes(row.owner)),
      `the fleet page (${database}) under the owners' policy listed ${page.total} services, not the ${owned} the guest's teams own`,
    );
    log(
      `under the owners' policy: ${page.total} of ${
        count + options.others.length
      } services; first page p50 ${ms(percentile(ownFirst, 50))}`,
    );
  } finally {
    await restricted.stop();
  }

  figure(
    step,
    `single-entity GET p95, ${database}`,
    ms(p95(reference)),
    '(reference)',
    null,
  );
  for (const [label, times] of [
    [`fleet first page p95, ${count} services, ${database}`, first],
    [`fleet filtered, sorted page p95, ${database}`, filtered],
    [`fleet first page p95, owners' policy, ${database}`, ownFirst],
    [
      `fleet filtered, sorted page p95, owners' policy, ${database}`,
      ownFiltered,
    ],
  ] as const) {
    figure(
      step,
      label,
      `${ms(p95(times))} (${(p95(times) / p95(reference)).toFixed(1)}×)`,
      '< 300 ms',
      p95(times) < 300,
    );
  }
}
