import { configDrift, versionDrift } from './drift';
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

  it('counts versions and commits the upstream moved through, and since when', () => {
    const drift = versionDrift({
      environment: 'prod',
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
        'Behind staging by 3 versions: runs 3.9.0, staging runs 4.2.0 since 2026-11-04; 4 commits to staging since',
    });
  });

  it('reports ahead when this environment runs a newer version than its upstream', () => {
    const drift = versionDrift({
      environment: 'staging',
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
    });
    expect(drift!.summary).toMatch(
      /^Ahead of dev by 1 version: runs 4.2.0, dev runs 4.1.0/,
    );
  });

  it('lets semantic versions decide the direction after a rollback upstream', () => {
    // The upstream rolled back from 2.0.0 to 1.9.0; an environment still on 2.0.0 is ahead.
    const drift = versionDrift({
      environment: 'prod',
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

  it('uses the history alone for versions that are not semantic versions', () => {
    const drift = versionDrift({
      environment: 'prod',
      version: 'build-41',
      timeline: timeline(['2026-11-01T00:00:00.000Z', 'build-41']),
      upstream: 'staging',
      upstreamVersion: 'build-57',
      upstreamTimeline: timeline(
        ['2026-11-05T00:00:00.000Z', 'build-57'],
        ['2026-11-01T00:00:00.000Z', 'build-41'],
      ),
    });
    expect(drift).toMatchObject({ kind: 'behind', versions: 1, commits: 1 });
  });

  it('says nothing when versions are equal or cannot be ordered', () => {
    const base = {
      environment: 'prod',
      timeline: prod,
      upstream: 'staging',
      upstreamTimeline: staging,
    };
    expect(
      versionDrift({ ...base, version: '3.9.0', upstreamVersion: '3.9.0' }),
    ).toBeUndefined();
    expect(
      versionDrift({ ...base, version: 'abc', upstreamVersion: 'def' }),
    ).toBeUndefined();
    expect(
      versionDrift({ ...base, version: null, upstreamVersion: '4.2.0' }),
    ).toBeUndefined();
  });

  it('still orders semantic versions when neither history shows the other version', () => {
    const drift = versionDrift({
      environment: 'prod',
      version: '1.0.0',
      timeline: timeline(),
      upstream: 'staging',
      upstreamVersion: '1.2.0',
      upstreamTimeline: timeline(),
    });
    expect(drift).toMatchObject({
      kind: 'behind',
      versions: null,
      commits: null,
      since: null,
    });
    expect(drift!.summary).toBe(
      'Behind staging: runs 1.0.0, staging runs 1.2.0',
    );
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
});
