/**
 * `yarn bench`: the promotions backend at scale, measured beside the catalog's own lookup in the
 * same run. Prints one figure a line, each beside its target, "missed" where it misses.
 *
 *   yarn bench            2,000 services × 4 environments
 *   yarn bench --small    a few services, every step, for CI (checks, not figures)
 *   yarn bench --services N --environments E --seconds S
 *   yarn bench --fleet N  the fleet page's services (5,000 unless given; 100 with --small)
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GithubSimulator } from '@internal/github-simulator';
import { Client } from 'pg';
import { BackendProcess, BENCH_DIR, LogLine } from './BackendProcess';
import { compileBackend } from './compileBackend';
import { createFleetRepository, fleetPageScenario } from './fleetPage';
import { LoadResult, loadTest, summarize } from './loadTest';
import {
  createSyntheticRepository,
  SyntheticRepository,
} from './syntheticRepository';

const ENVIRONMENTS = ['dev', 'qa', 'staging', 'prod', 'perf', 'canary'];
const GITHUB_TOKEN = 'ghs_bench';
const GITHUB_HOST = 'github.bench.example';
const PG = { host: '127.0.0.1', port: 5432, user: 'postgres' };
/** The secret GitHub signs webhooks with, as `events.modules.github.webhookSecret` says. */
const WEBHOOK_SECRET = 'the benchmark webhook secret';
/** Each service reads its own directories only. */
/** The replicas' refresh timeout: a killed replica's lock on the refresh expires after it. */
const REPLICA_REFRESH_TIMEOUT_SECONDS = 90;
const SERVICE_PATHS = [
  '{entity.metadata.name}/**',
  'charts/{entity.metadata.name}/**',
];

interface Options {
  small: boolean;
  services: number;
  environments: number;
  seconds: number;
  fleet: number;
}

function parseOptions(argv: string[]): Options {
  const small = argv.includes('--small');
  const value = (flag: string, fallback: number) => {
    const i = argv.indexOf(flag);
    if (i < 0) return fallback;
    const n = Number(argv[i + 1]);
    if (!Number.isInteger(n) || n <= 0) {
      throw new Error(`${flag} needs a positive whole number`);
    }
    return n;
  };
  return {
    small,
    services: value('--services', small ? 60 : 2000),
    environments: Math.min(
      ENVIRONMENTS.length,
      value('--environments', small ? 3 : 4),
    ),
    seconds: value('--seconds', small ? 2 : 10),
    fleet: value('--fleet', small ? 100 : 5000),
  };
}

/** One printed figure and whether it met its target. */
interface Figure {
  step: string;
  label: string;
  value: string;
  target: string;
  met: boolean | null;
}

const figures: Figure[] = [];
/** Broken promises (wrong counts, errors, lost state): these fail the run, unlike slow figures. */
const failures: string[] = [];

/** Resident memory of the same portal without the promotions backend, idle on a full catalog. */
let referenceMemory: number | undefined;

function figure(
  step: string,
  label: string,
  value: string,
  target: string,
  met: boolean | null,
) {
  figures.push({ step, label, value, target, met });
  let verdict = '';
  if (met !== null) verdict = met ? 'met' : 'MISSED';
  // eslint-disable-next-line no-console
  console.log(
    `${step}  ${label.padEnd(46)} ${value.padEnd(24)} target ${target.padEnd(
      22,
    )} ${verdict}`,
  );
}

function check(condition: boolean, what: string) {
  if (!condition) {
    failures.push(what);
    // eslint-disable-next-line no-console
    console.log(`    FAILED: ${what}`);
  }
}

const log = (message: string) =>
  // eslint-disable-next-line no-console
  console.log(`    ${message}`);

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const mib = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MiB`;
const ms = (value: number) => `${value.toFixed(1)} ms`;
const sleep = (time: number) => new Promise(r => setTimeout(r, time));

function backendConfig(options: {
  port: number;
  workDir: string;
  database: object;
  repository: object;
  environments: string[];
  githubApi?: string;
  catalogFile: string;
  /** How long a refresh may run, and so how long a killed replica's lock holds the task. */
  refreshTimeoutSeconds?: number;
}) {
  return {
    events: { modules: { github: { webhookSecret: WEBHOOK_SECRET } } },
    app: { baseUrl: 'http://localhost:3000' },
    backend: {
      baseUrl: `http://127.0.0.1:${options.port}`,
      listen: { port: options.port, host: '127.0.0.1' },
      database: options.database,
      workingDirectory: options.workDir,
    },
    auth: {
      environment: 'production',
      providers: { guest: { dangerouslyAllowOutsideDevelopment: true } },
    },
    permission: { enabled: true },
    catalog: {
      rules: [{ allow: ['Component'] }],
      locations: [{ type: 'file', target: options.catalogFile }],
    },
    integrations: options.githubApi
      ? {
          github: [
            {
              host: GITHUB_HOST,
              apiBaseUrl: options.githubApi,
              token: GITHUB_TOKEN,
            },
          ],
        }
      : {},
    promotions: {
      repositories: [options.repository],
      pipelines: {
        bench: options.environments.map((name, i) => ({
          name,
          requires: i === 0 ? [] : [options.environments[i - 1]],
        })),
      },
      // One refresh a few seconds after start, then only when the benchmark triggers one. The
      // timeout lets a cold ingest of any size finish; the replicas' shorter one bounds how long
      // a killed replica's lock holds the task.
      refresh: {
        frequency: { hours: 24 },
        initialDelay: { seconds: 3 },
        timeout: { seconds: options.refreshTimeoutSeconds ?? 1800 },
      },
    },
  };
}

async function guestToken(backend: BackendProcess): Promise<string> {
  const res = await backend.request('GET', '/api/auth/guest/refresh');
  if (res.status !== 200) {
    throw new Error(`guest sign-in failed: ${res.status} ${res.body}`);
  }
  return JSON.parse(res.body).backstageIdentity.token;
}

async function waitForCatalog(
  backend: BackendProcess,
  token: string,
  count: number,
) {
  const started = Date.now();
  for (;;) {
    const res = await backend.request(
      'GET',
      '/api/catalog/entities/by-query?filter=kind=component&limit=1',
      token,
    );
    const total = res.status === 200 ? JSON.parse(res.body).totalItems : 0;
    if (total >= count) return Date.now() - started;
    if (Date.now() - started > 15 * 60_000) {
      throw new Error(`the catalog holds ${total} of ${count} entities`);
    }
    await sleep(1000);
  }
}

interface RefreshLog {
  revision: string | null;
  entities?: number;
  environments?: number;
  resolved: number;
  recomputed: number;
  failed: number;
  durationMs: number;
}

const isRefreshLog = (line: LogLine) =>
  typeof line.message === 'string' &&
  line.message.startsWith('Refreshed repository bench');

/** Asks a backend to refresh the repository now, as CI would after a push. */
async function refreshNow(
  backend: BackendProcess,
  token: string,
): Promise<{ status: number; summary?: RefreshLog; wallMs: number }> {
  const started = performance.now();
  const res = await backend.request(
    'POST',
    '/api/promotions/v1/repositories/bench/refresh',
    token,
  );
  if (res.status !== 200 && res.status !== 202) {
    throw new Error(`refreshing failed: ${res.status} ${res.body}`);
  }
  return {
    status: res.status,
    summary:
      res.status === 200 ? (JSON.parse(res.body) as RefreshLog) : undefined,
    wallMs: performance.now() - started,
  };
}

const entityPath = (name: string) =>
  `/api/promotions/v1/entities/component/default/${name}`;

async function promotionsOf(
  backend: BackendProcess,
  token: string,
  name: string,
) {
  const res = await backend.request('GET', entityPath(name), token);
  return { status: res.status, body: JSON.parse(res.body) };
}

/** The catalog's by-name lookup and a page view of ours, side by side, interleaved. */
async function sideBySide(
  backend: BackendProcess,
  token: string,
  repo: SyntheticRepository,
  durationMs: number,
): Promise<{ catalog: LoadResult; promotions: LoadResult }> {
  const random = () =>
    repo.services[Math.floor(Math.random() * repo.services.length)].name;
  const run = (kind: 'catalog' | 'promotions', time: number) =>
    loadTest({
      baseUrl: backend.baseUrl,
      token,
      concurrency: 50,
      durationMs: time,
      path: () =>
        kind === 'catalog'
          ? `/api/catalog/entities/by-name/component/default/${random()}`
          : entityPath(random()),
    });
  await run('catalog', Math.min(2000, durationMs / 2));
  await run('promotions', Math.min(2000, durationMs / 2));
  const catalogRuns = [];
  const promotionsRuns = [];
  for (let round = 0; round < 2; round++) {
    catalogRuns.push(await run('catalog', durationMs / 2));
    promotionsRuns.push(await run('promotions', durationMs / 2));
  }
  return {
    catalog: summarize(catalogRuns),
    promotions: summarize(promotionsRuns),
  };
}

function reportLoad(
  step: string,
  database: string,
  result: { catalog: LoadResult; promotions: LoadResult },
) {
  const { catalog, promotions } = result;
  figure(
    step,
    `catalog by-name lookup, ${database}`,
    `${catalog.throughput.toFixed(0)} req/s`,
    '(reference)',
    null,
  );
  log(
    `${catalog.requests} catalog lookups, ${promotions.requests} promotions page views`,
  );
  for (const p of ['p50', 'p95', 'p99'] as const) {
    figure(
      step,
      `promotions page view ${p}, ${database}`,
      `${ms(promotions[p])} (${(promotions[p] / catalog[p]).toFixed(2)}×)`,
      `≤ 1.25× catalog's ${ms(catalog[p])}`,
      promotions[p] <= 1.25 * catalog[p],
    );
  }
  figure(
    step,
    `promotions page view throughput, ${database}`,
    `${promotions.throughput.toFixed(0)} req/s (${(
      (promotions.throughput / catalog.throughput) *
      100
    ).toFixed(0)}%)`,
    '≥ 80% of catalog',
    promotions.throughput >= 0.8 * catalog.throughput,
  );
  figure(
    step,
    `errors, ${database}`,
    String(promotions.errors + catalog.errors),
    '0',
    promotions.errors + catalog.errors === 0,
  );
  check(promotions.errors === 0, `page views answered errors on ${database}`);
}

async function main() {
  const options = parseOptions(process.argv.slice(2));
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'promotions-bench-'));
  const environments = ENVIRONMENTS.slice(0, options.environments);
  log(
    `${options.services} services × ${environments.length} environments, ${
      os.cpus().length
    } cores (${os.cpus()[0]?.model ?? 'unknown'}), ${mib(
      os.totalmem(),
    )}, Node ${process.version}`,
  );
  const generated = performance.now();
  const repo = createSyntheticRepository({
    dir: path.join(workDir, 'gitops'),
    count: options.services,
    environments,
  });
  log(`generated the repository in ${seconds(performance.now() - generated)}`);
  const generatedFleet = performance.now();
  const fleet = createFleetRepository({
    workDir,
    count: options.fleet,
    environments,
  });
  log(
    `generated the fleet's repository of ${options.fleet} services in ${seconds(
      performance.now() - generatedFleet,
    )}`,
  );
  // The cold ingest below needs more than the 5,000 requests an hour a token has on github.com;
  // its count is printed as a figure of its own.
  const simulator = await GithubSimulator.start({
    repoDir: repo.dir,
    owner: 'acme',
    repo: 'gitops',
    token: GITHUB_TOKEN,
    rateLimit: 10_000_000,
  });
  const prefix = `bench_${crypto.randomBytes(4).toString('hex')}_`;
  const compiling = performance.now();
  const entry = compileBackend(path.join(workDir, 'build'));
  log(`compiled the backend in ${seconds(performance.now() - compiling)}`);
  const backends: BackendProcess[] = [];
  const start = async (
    name: string,
    port: number,
    config: object,
    env?: Record<string, string>,
  ) => {
    const backend = new BackendProcess(name, port, config, workDir, entry, env);
    backends.push(backend);
    await backend.start();
    return backend;
  };
  const basePort = 17100 + Math.floor(Math.random() * 800);

  try {
    // SQLite, reading through the github provider from the simulator.
    const sqliteConfig = backendConfig({
      port: basePort,
      workDir,
      database: {
        client: 'better-sqlite3',
        connection: { directory: path.join(workDir, 'sqlite') },
      },
      repository: {
        id: 'bench',
        provider: 'github',
        url: `https://${GITHUB_HOST}/acme/gitops`,
        // Where the simulator's webhooks say the repository is.
        argocdRepoURL: `${simulator.apiBaseUrl}/acme/gitops`,
        paths: SERVICE_PATHS,
      },
      environments,
      githubApi: simulator.apiBaseUrl,
      catalogFile: repo.catalogFile,
    });
    await fillCatalog(start, 'sqlite', basePort, sqliteConfig, options);
    fs.rmSync(path.join(workDir, 'sqlite', 'promotions.sqlite'), {
      force: true,
    });
    referenceMemory = await memoryWithoutPromotions(
      start,
      basePort,
      sqliteConfig,
    );
    simulator.resetCounts();
    const sqlite = await start('sqlite', basePort, sqliteConfig);
    let token = await guestToken(sqlite);
    await coldIngest('1', 'github provider, SQLite', sqlite, simulator);
    await unchangedAndOneChange(sqlite, token, repo, simulator);
    await pushWebhook(sqlite, token, repo, simulator);
    reportLoad(
      '4',
      'SQLite',
      await sideBySide(sqlite, token, repo, options.seconds * 1000),
    );
    await sqlite.stop();
    await fleetPageScenario({
      step: '6',
      database: 'SQLite',
      start: (name, config, env) =>
        start(`sqlite-${name}`, basePort, config, env),
      config: sqliteConfig,
      repo: fleet,
      paths: SERVICE_PATHS,
      others: repo.services,
      referenceName: repo.services[0].name,
      figure,
      check,
      log,
    });

    // PostgreSQL, reading through the git provider, then a second replica beside it.
    const pgConfig = (port: number, refreshTimeoutSeconds?: number) =>
      backendConfig({
        refreshTimeoutSeconds,
        port,
        workDir,
        database: { client: 'pg', connection: PG, prefix },
        repository: {
          id: 'bench',
          provider: 'git',
          url: repo.dir,
          paths: SERVICE_PATHS,
        },
        environments,
        catalogFile: repo.catalogFile,
      });
    await fillCatalog(
      start,
      'pg-1',
      basePort + 1,
      pgConfig(basePort + 1),
      options,
    );
    await dropDatabases(`${prefix}promotions`);
    const first = await start('pg-1', basePort + 1, pgConfig(basePort + 1));
    token = await guestToken(first);
    await coldIngest('1', 'git provider, PostgreSQL', first);
    reportLoad(
      '4',
      'PostgreSQL',
      await sideBySide(first, token, repo, options.seconds * 1000),
    );
    // The second replica stores the task's shorter timeout, which both then claim it with.
    const second = await start(
      'pg-2',
      basePort + 2,
      pgConfig(basePort + 2, REPLICA_REFRESH_TIMEOUT_SECONDS),
    );
    await replicas(first, second, token, repo);
    await Promise.all([first.stop(), second.stop()]);
    await fleetPageScenario({
      step: '6',
      database: 'PostgreSQL',
      start: (name, config, env) =>
        start(`pg-${name}`, basePort + 3, config, env),
      config: pgConfig(basePort + 3),
      repo: fleet,
      paths: SERVICE_PATHS,
      others: repo.services,
      referenceName: repo.services[0].name,
      figure,
      check,
      log,
    });
  } finally {
    await Promise.all(backends.map(b => b.stop().catch(() => {})));
    await simulator.stop();
    await dropDatabases(prefix).catch(error =>
      log(`could not drop the benchmark's databases: ${error}`),
    );
    fs.rmSync(workDir, { recursive: true, force: true });
  }

  const resultsDir = path.resolve(BENCH_DIR, '../../test-results');
  fs.mkdirSync(resultsDir, { recursive: true });
  fs.writeFileSync(
    path.join(resultsDir, options.small ? 'bench-small.json' : 'bench.json'),
    JSON.stringify(
      {
        at: new Date().toISOString(),
        machine: {
          cores: os.cpus().length,
          model: os.cpus()[0]?.model,
          memory: os.totalmem(),
          node: process.version,
        },
        options,
        figures,
        failures,
      },
      null,
      2,
    ),
  );
  const missed = figures.filter(f => f.met === false).length;
  log(
    `${figures.length} figures, ${missed} missed; ${failures.length} broken checks`,
  );
  if (failures.length > 0) process.exitCode = 1;
}

async function memoryWithoutPromotions(
  start: (
    name: string,
    port: number,
    config: object,
    env?: Record<string, string>,
  ) => Promise<BackendProcess>,
  port: number,
  config: object,
): Promise<number> {
  const reference = await start('reference', port, config, {
    BENCH_WITHOUT_PROMOTIONS: '1',
  });
  // As long as the measured backend waits before its refresh starts, so that both have settled.
  await sleep(5000);
  const idle = reference.memory();
  await reference.stop();
  log(`the same portal without promotions idles at ${mib(idle)}`);
  return idle;
}

/**
 * Starts a backend until its catalog holds every service, then stops it: the next start finds
 * the catalog full, so that the promotions backend's first refresh is a true cold ingest.
 */
async function fillCatalog(
  start: (
    name: string,
    port: number,
    config: object,
  ) => Promise<BackendProcess>,
  name: string,
  port: number,
  config: object,
  options: Options,
) {
  const backend = await start(name, port, config);
  const token = await guestToken(backend);
  log(
    `the catalog read ${options.services} entities in ${seconds(
      await waitForCatalog(backend, token, options.services),
    )}`,
  );
  // Let a refresh that started on a partial catalog end before stopping.
  await sleep(4000);
  await backend.stop();
}

const isRefreshFailure = (line: LogLine) =>
  typeof line.message === 'string' &&
  line.message.startsWith('The refresh of repository bench failed');

const isStart = (line: LogLine) =>
  typeof line.message === 'string' &&
  line.message.startsWith('Refreshing repository bench');

/** The first refresh after a start with an empty promotions store and a full catalog. */
async function coldIngest(
  step: string,
  label: string,
  backend: BackendProcess,
  simulator?: GithubSimulator,
) {
  const idle = backend.memory();
  await backend.waitForLog(isStart, 0);
  backend.resetPeakMemory();
  const ended = await backend.waitForLog(
    line => isRefreshLog(line) || isRefreshFailure(line),
    0,
  );
  if (isRefreshFailure(ended)) {
    throw new Error(`the cold ingest, ${label}, failed: ${ended.message}`);
  }
  const cold = ended as unknown as RefreshLog;
  figure(
    step,
    `cold ingest, ${label}`,
    seconds(cold.durationMs),
    '< 30 s',
    cold.durationMs < 30_000,
  );
  const peak = backend.peakMemory();
  figure(
    step,
    `peak backend RSS during it, ${label}`,
    `${mib(peak)} (${mib(idle)} before)`,
    '< 500 MiB',
    peak < 500 * 1024 * 1024,
  );
  if (referenceMemory !== undefined) {
    figure(
      step,
      `  of which beyond the portal without promotions`,
      `${mib(peak - referenceMemory)}`,
      `(reference: ${mib(referenceMemory)} idle)`,
      null,
    );
  }
  log(
    `${cold.entities} entities, ${cold.environments} environments resolved, ${cold.failed} failed`,
  );
  if (simulator) {
    figure(
      step,
      `GitHub requests of the cold ingest`,
      String(simulator.count()),
      '≤ 5000 (a token’s hour)',
      simulator.count() <= 5000,
    );
    log(JSON.stringify(simulator.countsByOperation()));
  }
  check(cold.failed === 0, `the cold ingest (${label}) failed entities`);
  check(
    cold.resolved === cold.environments && cold.environments > 0,
    `the cold ingest (${label}) did not resolve every environment`,
  );
}

async function unchangedAndOneChange(
  backend: BackendProcess,
  token: string,
  repo: SyntheticRepository,
  simulator: GithubSimulator,
) {
  simulator.resetCounts();
  const { summary: unchanged, wallMs } = await refreshNow(backend, token);
  if (!unchanged) throw new Error('the refresh was queued behind another');
  figure('2', 'refresh, nothing changed', ms(wallMs), '(time)', null);
  figure(
    '2',
    'environments resolved again',
    String(unchanged.resolved),
    '0',
    unchanged.resolved === 0,
  );
  const answered304 = simulator.requests.filter(r => r.status === 304).length;
  figure(
    '2',
    'GitHub requests',
    `${simulator.count()} (${answered304} answered 304)`,
    '1, answered 304',
    simulator.count() === 1 && answered304 === 1,
  );
  check(unchanged.resolved === 0, 'an unchanged refresh resolved environments');
  check(
    simulator.count() === 1,
    'an unchanged refresh sent more than one request',
  );

  const service = repo.services[Math.floor(repo.services.length / 2)];
  const env = repo.environments[repo.environments.length - 1];
  repo.promote(service, env, '9.9.9');
  simulator.resetCounts();
  const started = performance.now();
  const refreshing = refreshNow(backend, token);
  let visibleMs = NaN;
  for (;;) {
    const { body } = await promotionsOf(backend, token, service.name);
    const environment = body.environments?.find((e: any) => e.name === env);
    if (environment?.desired.version === '9.9.9') {
      visibleMs = performance.now() - started;
      break;
    }
    if (performance.now() - started > 120_000) break;
    await sleep(5);
  }
  const { summary: changed } = await refreshing;
  if (!changed) throw new Error('the refresh was queued behind another');
  figure(
    '3',
    'one environment file changed: resolved again',
    String(changed.resolved),
    '1',
    changed.resolved === 1,
  );
  figure(
    '3',
    'refresh start to new version served',
    ms(visibleMs),
    '< 1 s',
    visibleMs < 1000,
  );
  const blobs = simulator.count('git/get-blob');
  figure(
    '3',
    'GitHub requests',
    `${simulator.count()} (${blobs} blobs) ${JSON.stringify(
      simulator.countsByOperation(),
    )}`,
    '≤ 3 + 1 blob',
    simulator.count() - blobs <= 3 && blobs <= 1,
  );
  check(
    changed.resolved === 1,
    'a one-file change resolved more than one environment',
  );
  check(Number.isFinite(visibleMs), 'the new version was never served');
}

/** A push GitHub tells through a signed webhook: from the push to the new version served. */
async function pushWebhook(
  backend: BackendProcess,
  token: string,
  repo: SyntheticRepository,
  simulator: GithubSimulator,
) {
  simulator.deliverWebhooks(
    `${backend.baseUrl}/api/events/http/github`,
    WEBHOOK_SECRET,
  );
  const service = repo.services[Math.floor(repo.services.length / 3)];
  const env = repo.environments[0];
  const before = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo.dir })
    .toString()
    .trim();
  const after = repo.promote(service, env, '8.8.8');
  const started = performance.now();
  simulator.notifyPush(before, after, 'main');
  let visibleMs = NaN;
  for (;;) {
    const { body } = await promotionsOf(backend, token, service.name);
    const environment = body.environments?.find((e: any) => e.name === env);
    if (environment?.desired.version === '8.8.8') {
      visibleMs = performance.now() - started;
      break;
    }
    if (performance.now() - started > 120_000) break;
    await sleep(5);
  }
  await simulator.settled();
  const delivery = simulator.deliveries.at(-1);
  figure(
    '3',
    'push webhook answered',
    String(delivery?.status ?? 'not sent'),
    '202',
    delivery?.status === 202,
  );
  figure(
    '3',
    'push to new version served (webhook)',
    ms(visibleMs),
    '< 2 s',
    visibleMs < 2000,
  );
  check(
    Number.isFinite(visibleMs),
    'a pushed version was never served after its webhook',
  );
}

async function replicas(
  first: BackendProcess,
  second: BackendProcess,
  token: string,
  repo: SyntheticRepository,
) {
  const both = [first, second];
  // Each refresh runs once across both replicas, whichever receives the trigger.
  const service = repo.services[1];
  const env = repo.environments[0];
  const revision = repo.promote(service, env, '7.7.7');
  const answersToTrigger = await Promise.all(
    both.map(b => refreshNow(b, token)),
  );
  const working = answersToTrigger.filter(
    a => a.summary?.revision === revision && a.summary.resolved > 0,
  ).length;
  figure(
    '5',
    'refreshes that did the work, asked on both at once',
    String(working),
    '1',
    working === 1,
  );
  check(working === 1, 'one change was refreshed on both replicas');

  const answers = await Promise.all(
    both.map(b => promotionsOf(b, token, service.name)),
  );
  const same =
    answers[0].status === 200 &&
    JSON.stringify(answers[0].body) === JSON.stringify(answers[1].body);
  figure(
    '5',
    'both replicas answer identically',
    same ? 'yes' : 'no',
    'yes',
    same,
  );
  check(same, 'the replicas answered differently');

  // A replica killed mid-refresh loses nothing: the other completes the next one.
  const before = (await promotionsOf(first, token, service.name)).body
    .repository.revision;
  const touched = repo.touchBases('replicas', 100);
  const startSince = both.map(b => b.logs.length);
  const killed = refreshNow(first, token).catch(() => undefined);
  const running = await Promise.race(
    both.map((b, i) => b.waitForLog(isStart, startSince[i]).then(() => b)),
  );
  const survivor = running === first ? second : first;
  await sleep(200);
  running.kill();
  log(`killed ${running.name} during its refresh`);
  const meanwhile = await promotionsOf(survivor, token, service.name);
  const intact =
    meanwhile.status === 200 && meanwhile.body.repository.revision === before;
  figure(
    '5',
    'state while the killed refresh is unfinished',
    intact ? 'the previous one, whole' : 'changed',
    'the previous one, whole',
    intact,
  );
  check(intact, 'a killed refresh left a partial state');

  await killed;
  const waited = performance.now();
  let recovered = false;
  while (
    performance.now() - waited <
    (REPLICA_REFRESH_TIMEOUT_SECONDS + 90) * 1000
  ) {
    const answer = await refreshNow(survivor, token).catch(() => undefined);
    if (answer?.summary?.revision === touched) {
      recovered = true;
      break;
    }
    await sleep(2000);
  }
  const after = await promotionsOf(survivor, token, service.name);
  const complete = recovered && after.body.repository.revision === touched;
  figure(
    '5',
    'the other replica completes the next refresh',
    complete ? `yes, after ${seconds(performance.now() - waited)}` : 'no',
    'yes',
    complete,
  );
  check(complete, 'the surviving replica did not complete the refresh');
}

/** Drops the databases whose names start with `prefix`. */
async function dropDatabases(prefix: string) {
  const client = new Client({ ...PG, database: 'postgres' });
  await client.connect();
  try {
    const { rows } = await client.query(
      'SELECT datname FROM pg_database WHERE datname LIKE $1',
      [`${prefix}%`],
    );
    for (const { datname } of rows) {
      await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    }
  } finally {
    await client.end();
  }
}

main().catch(error => {
  // eslint-disable-next-line no-console
  console.error(error);
  process.exit(1);
});
