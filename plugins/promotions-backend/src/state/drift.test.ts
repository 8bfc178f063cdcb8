import {
  configDrift,
  displayKey,
  MAX_STORED_CHARS,
  MAX_STORED_DIFFERENCES,
  versionDrift,
} from './drift';
import { VersionTimeline } from './timeline';

const timeline = (
  ...entries: Array<[string, string | null]>
): VersionTimeline => ({
  head: 'c0',
  commits: entries.map(([at, version], i) => ({ sha: `c${i}`, at, version })),
});

describe('versionDrift', () => {
  // staging went 3.9.0 -> 4.0.0 -> 4.1.0 -> 4.2.0 (two commits for 4.2.0); prod stayed at 3.9.0.
  const staging = timeline(
    ['2026-11-20T00:00:00.000Z', '4.2.0'],
    ['2026-11-18T00:00:00.000Z', '4.2.0'],
    ['2026-11-10T00:00:00.000Z', '4.1.0'],
    ['2026-11-04T00:00:00.000Z', '4.0.0'],
    ['2026-10-01T00:00:00.000Z', '3.9.0'],
  );
  const prod = timeline(['2026-10-02T00:00:00.000Z', '3.9.0']);

  it('counts versions and commits the upstream moved through, and since when, in one sentence', () => {
    const drift = versionDrift({
      version: '3.9.0',
      timeline: prod,
      upstream: 'staging',
      upstreamVersion: '4.2.0',
      upstreamTimeline: staging,
    });
    expect(drift).toEqual({
      kind: 'behind',
      upstream: 'staging',
      upstreamVersion: '4.2.0',
      version: '3.9.0',
      versions: 3,
      commits: 4,
      since: '2026-11-04T00:00:00.000Z',
      summary:
        'Runs 3.9.0, behind staging (4.2.0) by 3 versions in 4 commits since 2026-11-04',
    });
  });

  it('reports ahead when this environment runs a newer version than its upstream', () => {
    const drift = versionDrift({
      version: '4.2.0',
      timeline: staging,
      upstream: 'dev',
      upstreamVersion: '4.1.0',
      upstreamTimeline: timeline(['2026-11-09T00:00:00.000Z', '4.1.0']),
    });
    expect(drift).toMatchObject({
      kind: 'ahead',
      versions: 1,
      commits: 2,
      since: '2026-11-18T00:00:00.000Z',
      summary:
        'Runs 4.2.0, ahead of dev (4.1.0) by 1 version in 2 commits since 2026-11-18',
    });
  });

  it('lets semantic versions decide the direction after a rollback upstream', () => {
    // The upstream rolled back from 2.0.0 to 1.9.0; an environment still on 2.0.0 is ahead.
    const drift = versionDrift({
      version: '2.0.0',
      timeline: timeline(['2026-11-02T00:00:00.000Z', '2.0.0']),
      upstream: 'staging',
      upstreamVersion: '1.9.0',
      upstreamTimeline: timeline(
        ['2026-11-03T00:00:00.000Z', '1.9.0'],
        ['2026-11-01T00:00:00.000Z', '2.0.0'],
      ),
    });
    expect(drift?.kind).toBe('ahead');
  });

  it.each([
    ['3.0', '2.0', 'ahead'],
    ['2.0', '3.0', 'behind'],
    ['v3', 'v4', 'behind'],
    ['1.0', '1.0.1', 'behind'],
    ['13', '12', 'ahead'],
    ['build-41', 'build-57', 'behind'],
    ['2024.11.05', '2024-11-06', 'behind'],
    ['20241106', '2024.11.05', 'ahead'],
    ['1.0.0-rc.2', '1.0.0', 'behind'],
  ])(
    'orders %s against an upstream on %s as %s with no history to tell',
    (version, upstreamVersion, kind) => {
      const drift = versionDrift({
        version,
        timeline: timeline(['2026-11-01T00:00:00.000Z', version]),
        upstream: 'staging',
        upstreamVersion,
        upstreamTimeline: timeline([
          '2026-11-02T00:00:00.000Z',
          upstreamVersion,
        ]),
      });
      expect(drift).toEqual({
        kind,
        upstream: 'staging',
        upstreamVersion,
        version,
        versions: null,
        commits: null,
        since: null,
        summary: `Runs ${version}, ${
          kind === 'behind' ? 'behind' : 'ahead of'
        } staging (${upstreamVersion})`,
      });
    },
  );

  it("lets the upstream's history order versions whose shapes do not", () => {
    const drift = versionDrift({
      version: '47-orange',
      timeline: timeline(['2026-11-01T00:00:00.000Z', '47-orange']),
      upstream: 'staging',
      upstreamVersion: '48-blue',
      upstreamTimeline: timeline(
        ['2026-11-05T00:00:00.000Z', '48-blue'],
        ['2026-11-01T00:00:00.000Z', '47-orange'],
      ),
    });
    expect(drift).toMatchObject({
      kind: 'behind',
      versions: 1,
      commits: 1,
      summary:
        'Runs 47-orange, behind staging (48-blue) by 1 version in 1 commit since 2026-11-05',
    });
  });

  it("lets this environment's own history order versions whose shapes do not", () => {
    const drift = versionDrift({
      version: '8c9d0e1',
      timeline: timeline(
        ['2026-11-06T00:00:00.000Z', '8c9d0e1'],
        ['2026-11-04T00:00:00.000Z', '3f2a1b9'],
      ),
      upstream: 'dev',
      upstreamVersion: '3f2a1b9',
      upstreamTimeline: timeline(['2026-11-03T00:00:00.000Z', '3f2a1b9']),
    });
    expect(drift).toMatchObject({ kind: 'ahead', versions: 1, commits: 1 });
  });

  it.each([
    ['3.0', '2.0'],
    ['v3', '2.0'],
    ['13', '12'],
    ['2024.11.06', '2024.11.05'],
  ])(
    'says %s is ahead of an upstream on %s by their shapes, though the history says behind',
    (version, upstreamVersion) => {
      // The upstream ran this environment's version, then rolled back: by history alone, behind.
      const drift = versionDrift({
        version,
        timeline: timeline(
          ['2026-11-04T00:00:00.000Z', version],
          ['2026-11-01T00:00:00.000Z', upstreamVersion],
        ),
        upstream: 'staging',
        upstreamVersion,
        upstreamTimeline: timeline(
          ['2026-11-03T00:00:00.000Z', upstreamVersion],
          ['2026-11-02T00:00:00.000Z', version],
        ),
      });
      expect(drift?.kind).toBe('ahead');
    },
  );

  it.each([
    ['47-orange', '48-blue'],
    ['47-orange', '3f2a1b9c4d5e6f708192a3b4c5d6e7f8091a2b3c'],
    ['3f2a1b9', '8c9d0e1'],
    ['sha256:9f86d081884c', 'sha256:60303ae22b99'],
    ['latest', '1.2.0'],
    ['12', '1.0'],
    ['2024.11.05', '3.2.0'],
    ['1.25.3-alpine', '1.25.3-slim'],
  ])(
    'says %s differs from an upstream on %s, order unknown, when nothing tells',
    (version, upstreamVersion) => {
      const drift = versionDrift({
        version,
        timeline: timeline(['2026-11-01T00:00:00.000Z', version]),
        upstream: 'staging',
        upstreamVersion,
        upstreamTimeline: timeline([
          '2026-11-02T00:00:00.000Z',
          upstreamVersion,
        ]),
      });
      expect(drift).toEqual({
        kind: 'differs',
        upstream: 'staging',
        upstreamVersion,
        version,
        versions: null,
        commits: null,
        since: null,
        summary: `Runs ${version}, staging runs ${upstreamVersion}, order unknown`,
      });
    },
  );

  it.each([
    ['v1.0', '1.0.0'],
    ['1.0.0', 'v1'],
  ])(
    'says %s and %s are one version written differently, whatever the histories say',
    (version, upstreamVersion) => {
      const drift = versionDrift({
        version,
        // prod ran the upstream's spelling before: the histories would call it ahead.
        timeline: timeline(
          ['2026-11-03T00:00:00.000Z', version],
          ['2026-11-01T00:00:00.000Z', upstreamVersion],
        ),
        upstream: 'staging',
        upstreamVersion,
        upstreamTimeline: timeline([
          '2026-11-02T00:00:00.000Z',
          upstreamVersion,
        ]),
      });
      expect(drift).toMatchObject({
        kind: 'differs',
        versions: null,
        summary: `Runs ${version}, staging runs ${upstreamVersion}: the same version, written differently`,
      });
    },
  );

  it('says nothing when versions are equal or one is unknown', () => {
    const base = {
      timeline: prod,
      upstream: 'staging',
      upstreamTimeline: staging,
    };
    expect(
      versionDrift({ ...base, version: '3.9.0', upstreamVersion: '3.9.0' }),
    ).toBeUndefined();
    expect(
      versionDrift({
        ...base,
        version: '47-orange',
        upstreamVersion: '47-orange',
      }),
    ).toBeUndefined();
    expect(
      versionDrift({ ...base, version: null, upstreamVersion: '4.2.0' }),
    ).toBeUndefined();
    expect(
      versionDrift({ ...base, version: '3.9.0', upstreamVersion: null }),
    ).toBeUndefined();
  });
});

describe('configDrift', () => {
  const deployment = (cacheSize: string, memory: string, replicas: number) => ({
    id: 'Deployment/checkout',
    body: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'checkout' },
      spec: {
        replicas,
        template: {
          spec: {
            containers: [
              {
                name: 'checkout',
                env: [
                  { name: 'CACHE_SIZE', value: cacheSize },
                  { name: 'REGION', value: 'eu' },
                ],
                resources: { limits: { memory } },
              },
            ],
          },
        },
      },
    },
  });

  it('names each differing key with both values, ignoring expected keys', () => {
    const drift = configDrift({
      environment: 'prod-eu',
      comparable: [deployment('1024kb', '1Gi', 6)],
      upstream: 'staging-eu',
      upstreamComparable: [deployment('512kb', '1Gi', 2)],
      expectedKeys: ['spec.replicas'],
    });
    expect(drift).toEqual({
      kind: 'config',
      upstream: 'staging-eu',
      differences: [
        {
          key: 'Deployment/checkout containers[checkout].env.CACHE_SIZE',
          value: '1024kb',
          upstreamValue: '512kb',
        },
      ],
      summary:
        'Config differs from staging-eu in 1 key (CACHE_SIZE: 1024kb vs 512kb)',
    });
  });

  it('counts replicas as drift unless they are declared expected', () => {
    const drift = configDrift({
      environment: 'prod-eu',
      comparable: [deployment('512kb', '1Gi', 6)],
      upstream: 'staging-eu',
      upstreamComparable: [deployment('512kb', '1Gi', 2)],
      expectedKeys: [],
    });
    expect(drift?.differences).toEqual([
      {
        key: 'Deployment/checkout spec.replicas',
        value: '6',
        upstreamValue: '2',
      },
    ]);
  });

  it('treats an expected key as its whole subtree', () => {
    const withSelector = (region: string) => {
      const object = deployment('512kb', '1Gi', 2);
      (object.body.spec.template.spec as any).nodeSelector = {
        'topology.kubernetes.io/region': region,
      };
      return object;
    };
    const input = {
      environment: 'staging-eu',
      comparable: [withSelector('eu-west-1')],
      upstream: 'qa',
      upstreamComparable: [withSelector('us-east-1')],
    };
    expect(
      configDrift({ ...input, expectedKeys: ['nodeSelector'] }),
    ).toBeUndefined();
    expect(
      configDrift({ ...input, expectedKeys: [] })?.differences,
    ).toHaveLength(1);
  });

  it('reports an object present on one side only once', () => {
    const drift = configDrift({
      environment: 'prod',
      comparable: [
        deployment('512kb', '1Gi', 2),
        { id: 'ConfigMap/extra', body: { data: { a: '1', b: '2' } } },
      ],
      upstream: 'staging',
      upstreamComparable: [deployment('512kb', '1Gi', 2)],
      expectedKeys: [],
    });
    expect(drift?.differences).toEqual([
      { key: 'ConfigMap/extra', value: 'present', upstreamValue: null },
    ]);
  });

  it('finds no drift between identical configurations', () => {
    expect(
      configDrift({
        environment: 'prod',
        comparable: [deployment('512kb', '1Gi', 2)],
        upstream: 'staging',
        upstreamComparable: [deployment('512kb', '1Gi', 2)],
        expectedKeys: [],
      }),
    ).toBeUndefined();
  });

  it('computes and stores the drift of hostile content quickly, with a bounded body', () => {
    // A container name of `.env[` repeats once made the key parsing take quadratic time.
    const hostileName = '.env['.repeat(100_000);
    const hostile = (side: string) => ({
      id: 'Deployment/checkout',
      body: {
        kind: 'Deployment',
        spec: {
          template: {
            spec: {
              containers: [
                {
                  name: hostileName,
                  env: [{ name: 'MODE', value: side }],
                },
              ],
            },
          },
        },
      },
    });
    const configMap = (side: string) => ({
      id: 'ConfigMap/settings',
      body: {
        kind: 'ConfigMap',
        data: Object.fromEntries(
          Array.from({ length: 2000 }, (_, i) => [
            `key${String(i).padStart(4, '0')}`,
            `${side}${'x'.repeat(i < 10 ? 100_000 : 10)}`,
          ]),
        ),
      },
    });
    const comparable = [hostile('a'), configMap('a')];
    const upstreamComparable = [hostile('b'), configMap('b')];
    const input = {
      environment: 'prod',
      upstream: 'staging',
      expectedKeys: [],
    };
    // The fastest of a few runs: the time of the work, not of the compiler or a busy machine.
    const times: number[] = [];
    let drift: ReturnType<typeof configDrift>;
    for (let run = 0; run < 3; run++) {
      const started = performance.now();
      drift = configDrift({ ...input, comparable, upstreamComparable });
      times.push(performance.now() - started);
    }
    expect(Math.min(...times)).toBeLessThan(100);

    expect(drift?.differences).toHaveLength(MAX_STORED_DIFFERENCES);
    expect(drift?.omittedDifferences).toBe(2001 - MAX_STORED_DIFFERENCES);
    expect(drift?.summary).toMatch(/in 2001 keys/);
    const cutValue = drift?.differences.find(
      d => d.key === 'ConfigMap/settings data.key0000',
    );
    expect(cutValue?.value).toBe(
      `a${'x'.repeat(MAX_STORED_CHARS - 1)}… (${
        100_001 - MAX_STORED_CHARS
      } more characters cut)`,
    );
    for (const difference of drift!.differences) {
      expect(difference.key.length).toBeLessThan(MAX_STORED_CHARS + 100);
      expect(difference.value!.length).toBeLessThan(MAX_STORED_CHARS + 100);
    }
    expect(JSON.stringify(drift).length).toBeLessThan(
      MAX_STORED_DIFFERENCES * 3 * (MAX_STORED_CHARS + 100),
    );
  });

  it('reads environment variable keys without being misled by names from the repository', () => {
    // Once a backtracking regex: 650 ms for a key of 80 KB, growing with its square.
    const hostileKey = `Deployment/a spec.template.spec.containers[${'.env['.repeat(
      100_000,
    )}].env[MODE]`;
    const started = performance.now();
    expect(displayKey(hostileKey)).toBe(
      hostileKey.replace(' spec.template.spec.', ' '),
    );
    expect(displayKey(`${hostileKey}.value`)).toMatch(/\]\.env\.MODE$/);
    expect(performance.now() - started).toBeLessThan(50);

    expect(
      displayKey(
        'Deployment/a spec.template.spec.containers[app].env[CACHE_SIZE].value',
      ),
    ).toBe('Deployment/a containers[app].env.CACHE_SIZE');
    expect(
      displayKey(
        'CronJob/a spec.jobTemplate.spec.template.spec.containers[.env[x].env[MODE].value',
      ),
    ).toBe('CronJob/a containers[.env[x].env.MODE');
    expect(displayKey('Deployment/a spec.env[].value')).toBe(
      'Deployment/a spec.env[].value',
    );
    expect(displayKey('Deployment/a spec.env[a]b].value')).toBe(
      'Deployment/a spec.env[a]b].value',
    );
  });
});
