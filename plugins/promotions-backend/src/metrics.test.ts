import fs from 'node:fs';
import path from 'node:path';
import {
  mockServices,
  TestDatabaseId,
  TestDatabases,
} from '@backstage/backend-test-utils';
import { createServiceFactory } from '@backstage/backend-plugin-api';
import {
  metricsServiceRef,
  MetricsService,
} from '@backstage/backend-plugin-api/alpha';
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import {
  MeterProvider,
  MetricReader,
  ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { notificationService } from '@backstage/plugin-notifications-node';
import { shopHistory } from '@internal/promotions-fixtures';
import YAML from 'yaml';
import {
  bareRepository,
  startGithubSimulator,
  startWorkflowBackend,
  stopGithubSimulators,
} from './__testUtils__';
import { countDrift, PROMOTIONS_METRICS, PromotionsMetrics } from './metrics';
import { PromotionsStore } from './state/PromotionsStore';

jest.setTimeout(90_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });
const BOT = 'bot-token-0123456789';
const RITA = 'rita-token-0123456789';
const ANA = 'ana-token-0123456789';

afterEach(stopGithubSimulators);

/** Collects on demand, as a Prometheus scrape would. */
class TestReader extends MetricReader {
  protected async onShutdown() {}
  protected async onForceFlush() {}
}

interface Point {
  attributes: Record<string, unknown>;
  value: unknown;
}

function meter() {
  const reader = new TestReader();
  const provider = new MeterProvider({ readers: [reader] });
  const service = provider.getMeter('promotions') as unknown as MetricsService;
  const collect = async (): Promise<ResourceMetrics> => {
    const { resourceMetrics, errors } = await reader.collect();
    expect(errors).toEqual([]);
    return resourceMetrics;
  };
  const read = async () => {
    const points = new Map<string, Point[]>();
    for (const scope of (await collect()).scopeMetrics) {
      for (const metric of scope.metrics) {
        points.set(
          metric.descriptor.name,
          metric.dataPoints.map(p => ({
            attributes: p.attributes,
            value: p.value,
          })),
        );
      }
    }
    const of = (name: string, attributes: Record<string, unknown> = {}) =>
      (points.get(name) ?? []).filter(p =>
        Object.entries(attributes).every(([k, v]) => p.attributes[k] === v),
      );
    return { points, of };
  };
  return { service, read, collect };
}

async function start(databaseId: TestDatabaseId) {
  const metrics = meter();
  const simulator = await startGithubSimulator({
    repoDir: bareRepository(shopHistory),
    owner: 'acme',
    repo: 'gitops',
    users: {
      [BOT]: { login: 'promotions-bot', id: 100, type: 'Bot' },
      [RITA]: { login: 'rita', id: 101 },
      [ANA]: { login: 'ana', id: 102 },
    },
    defaultBranch: 'main',
    rateLimit: 800,
  });
  const backend = await startWorkflowBackend({
    databases,
    databaseId,
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
    features: [
      createServiceFactory({
        service: metricsServiceRef,
        deps: {},
        factory: () => metrics.service,
      }),
    ],
  });
  return { metrics, simulator, backend };
}

describe.each(databases.eachSupportedId())(
  'promotions metrics on %s',
  databaseId => {
    it('reads back a refresh: its duration, the GitHub requests it made and the environments by drift', async () => {
      const { metrics, simulator, backend } = await start(databaseId);
      const state = await backend.ready();
      const { of } = await metrics.read();

      const [duration] = of(PROMOTIONS_METRICS.refreshDuration, {
        repository: 'gitops',
      });
      expect((duration.value as { count: number }).count).toBeGreaterThan(0);
      expect(of(PROMOTIONS_METRICS.refreshErrors)).toEqual([]);

      // Every request GitHub received was counted, under its repository and status class.
      const requests = of(PROMOTIONS_METRICS.repositoryRequests, {
        repository: 'gitops',
      });
      expect(requests.reduce((sum, p) => sum + Number(p.value), 0)).toBe(
        simulator.count(),
      );
      expect(requests.map(p => p.attributes.status_class)).toContain('2xx');
      const [remaining] = of(PROMOTIONS_METRICS.rateLimitRemaining, {
        repository: 'gitops',
      });
      expect(remaining.value).toBeGreaterThan(0);
      expect(remaining.value).toBeLessThan(800);

      // The environments by drift kind are those the page shows.
      const expected = new Map<string, number>();
      for (const environment of state.environments) {
        const kinds = new Set<string>(
          environment.drift.map((d: { kind: string }) => d.kind),
        );
        if (kinds.size === 0) kinds.add('none');
        for (const kind of kinds)
          expected.set(kind, (expected.get(kind) ?? 0) + 1);
      }
      expect(expected.size).toBeGreaterThan(1);
      const environments = of(PROMOTIONS_METRICS.environments);
      for (const point of environments) {
        expect(point.value).toBe(
          expected.get(String(point.attributes.drift_kind)) ?? 0,
        );
      }
      expect(environments.map(p => p.attributes.drift_kind)).toEqual(
        expect.arrayContaining([...expected.keys()]),
      );
      // No attribute names an entity or a version.
      for (const points of (await metrics.read()).points.values()) {
        for (const point of points) {
          expect(JSON.stringify(point.attributes)).not.toMatch(/shop|\d+\.\d+/);
        }
      }
    });

    it('counts promotions by state and environment, and a gate a judgement turned failed once', async () => {
      const { metrics, backend } = await start(databaseId);
      await backend.ready();
      const { id } = (await backend.as('ana').promote({ to: 'staging' })).body;
      let read = await metrics.read();
      expect(
        read.of(PROMOTIONS_METRICS.promotions, {
          state: 'open',
          environment: 'staging',
        })[0].value,
      ).toBe(1);
      expect(read.of(PROMOTIONS_METRICS.gateFailures)).toEqual([]);

      expect((await backend.as('rita').act(id, 'reject')).status).toBeLessThan(
        300,
      );
      await backend.sync();
      read = await metrics.read();
      expect(
        read.of(PROMOTIONS_METRICS.gateFailures, { gate: 'approvals' })[0]
          .value,
      ).toBe(1);

      expect((await backend.as('ana').act(id, 'close')).status).toBeLessThan(
        300,
      );
      read = await metrics.read();
      expect(
        read.of(PROMOTIONS_METRICS.promotions, {
          state: 'open',
          environment: 'staging',
        })[0].value,
      ).toBe(0);
      expect(
        read.of(PROMOTIONS_METRICS.promotions, {
          state: 'closed',
          environment: 'staging',
        })[0].value,
      ).toBe(1);
    });

    it('counts an environment whose promotion is open past stalePromotion as stale-promotion drift, and how long ago it was told', async () => {
      jest.useFakeTimers({
        doNotFake: [
          'nextTick',
          'setImmediate',
          'clearImmediate',
          'setTimeout',
          'clearTimeout',
          'setInterval',
          'clearInterval',
          'queueMicrotask',
          'hrtime',
          'performance',
        ],
        now: Date.now(),
      });
      try {
        const metrics = meter();
        const backend = await startWorkflowBackend({
          databases,
          databaseId,
          repositories: [
            {
              id: 'gitops',
              provider: 'git',
              url: bareRepository(shopHistory),
              paths: ['{entity.metadata.name}/**'],
            },
          ],
          pipeline: [
            { name: 'dev', requires: [], stalePromotion: '36h' },
            { name: 'staging', requires: ['dev'] },
          ],
          features: [
            createServiceFactory({
              service: metricsServiceRef,
              deps: {},
              factory: () => metrics.service,
            }),
            createServiceFactory({
              service: notificationService,
              deps: {},
              factory: () => ({ async send() {} }),
            }),
          ],
        });
        await backend.ready();
        // dev has no other drift: once stale, it is no longer counted without drift.
        const { body } = await backend.as('ana').promote({
          to: 'dev',
          version: '9.9.9',
          allowUnknownVersion: true,
        });
        expect(body.state).toBe('open');
        // The environments by drift kind, as the page shows them.
        const shown = async () => {
          const page = (await backend.as('ana').get(backend.entityPath)).body;
          const counts = new Map<string, number>();
          for (const environment of page.environments) {
            const kinds = new Set<string>(
              environment.drift.map((d: { kind: string }) => d.kind),
            );
            if (kinds.size === 0) kinds.add('none');
            for (const kind of kinds) {
              counts.set(kind, (counts.get(kind) ?? 0) + 1);
            }
          }
          return counts;
        };
        const counted = async () => {
          const { of } = await metrics.read();
          return {
            environments: new Map(
              of(PROMOTIONS_METRICS.environments)
                .filter(p => p.value !== 0)
                .map(p => [String(p.attributes.drift_kind), p.value]),
            ),
            age: of(PROMOTIONS_METRICS.driftAge, {
              drift_kind: 'stale-promotion',
            })[0].value,
          };
        };

        let read = await counted();
        expect(read.environments.get('stale-promotion')).toBeUndefined();
        expect(read.age).toBe(0);

        jest.setSystemTime(Date.now() + 37 * 3600_000);
        await backend.sync();
        await backend.sync();
        expect((await shown()).get('stale-promotion')).toBe(1);
        jest.setSystemTime(Date.now() + 3600_000);
        read = await counted();
        expect(read.environments).toEqual(await shown());
        expect(read.age).toBeGreaterThanOrEqual(3600);
        expect(read.age).toBeLessThan(2 * 3600);

        // Closed, it is stale no more.
        await backend.as('ana').act(body.id, 'close');
        read = await counted();
        expect(read.environments.get('stale-promotion')).toBeUndefined();
        expect(read.environments).toEqual(await shown());
      } finally {
        jest.useRealTimers();
      }
    });
  },
);

describe('promotions metrics', () => {
  it('counts hostile stored states only by the drift kinds it knows', () => {
    const { environments, since } = countDrift([
      'not json',
      JSON.stringify({ environments: 'all' }),
      JSON.stringify({
        environments: [
          null,
          { drift: 'behind' },
          {
            drift: [
              { kind: 'component:default/shop' },
              { kind: 'behind', since: 'yesterday' },
              { kind: 'behind', since: '2026-10-01T00:00:00Z' },
            ],
          },
          { drift: [{ kind: 'out-of-sync', since: 7 }] },
        ],
      }),
    ]);
    expect(Object.fromEntries(environments)).toEqual({
      none: 2,
      behind: 1,
      'out-of-sync': 1,
    });
    expect(Object.fromEntries(since)).toEqual({
      behind: Date.parse('2026-10-01T00:00:00Z'),
    });
  });

  it('ignores a rate limit or status no host could have sent', async () => {
    const knex = await databases.init('SQLITE_3');
    const store = await PromotionsStore.create(
      mockServices.database({ knex, migrations: { skip: false } }),
    );
    const metrics = meter();
    const promotions = new PromotionsMetrics({
      metrics: metrics.service,
      db: store.client,
      logger: mockServices.logger.mock(),
    });
    promotions.requested('gitops', { status: 200, rateLimitRemaining: 41 });
    promotions.requested('gitops', { status: 999 });
    promotions.requested('gitops', { status: undefined });
    const { of } = await metrics.read();
    expect(of(PROMOTIONS_METRICS.rateLimitRemaining)[0].value).toBe(41);
    expect(
      of(PROMOTIONS_METRICS.repositoryRequests).map(p => [
        p.attributes.status_class,
        p.value,
      ]),
    ).toEqual([
      ['2xx', 1],
      ['other', 1],
      ['none', 1],
    ]);
  });

  it('has every metric the README alert rules use', async () => {
    const knex = await databases.init('SQLITE_3');
    const store = await PromotionsStore.create(
      mockServices.database({ knex, migrations: { skip: false } }),
    );
    const metrics = meter();
    const promotions = new PromotionsMetrics({
      metrics: metrics.service,
      db: store.client,
      logger: mockServices.logger.mock(),
    });
    // One of each, so that every instrument shows.
    promotions.refreshed({
      repositoryId: 'gitops',
      durationMs: 1200,
      failed: 1,
    } as any);
    promotions.refreshFailed('gitops');
    promotions.requested('gitops', { status: 200, rateLimitRemaining: 10 });
    promotions.judged(
      [],
      [{ gate: 'approvals', state: 'failed', summary: '' }],
    );
    const exposition = new PrometheusSerializer().serialize(
      await metrics.collect(),
    );
    const series = new Set(
      exposition
        .split('\n')
        .filter(line => line && !line.startsWith('#'))
        .map(line => line.split(/[{ ]/)[0]),
    );

    const readme = fs.readFileSync(
      path.resolve(__dirname, '../../../README.md'),
      'utf8',
    );
    const block = readme.match(
      /<!-- promotions-alert-rules -->\s*```yaml\n([\s\S]*?)```/,
    );
    expect(block).not.toBeNull();
    const rules = YAML.parse(block![1]);
    const exprs: string[] = rules.groups.flatMap((g: any) =>
      g.rules.map((r: any) => String(r.expr)),
    );
    expect(exprs.length).toBeGreaterThan(0);
    const used = new Set(
      exprs.flatMap(e => e.match(/\bpromotions_\w+/g) ?? []),
    );
    expect(used.size).toBeGreaterThan(0);
    for (const name of used) {
      expect([name, series.has(name)]).toEqual([name, true]);
    }
  });
});
