import { EntityPromotions, EnvironmentState } from '@gitops-promotions/plugin-promotions-common';

const env = (name: string, requires: string[], version: string, drift: EnvironmentState['drift'] = []): EnvironmentState => ({
  name,
  requires,
  desired: {
    version,
    images: [{ name: 'ghcr.io/acme/checkout', tag: version, digest: null }],
    path: `checkout/envs/${name}`,
    lastChange: {
      commit: '0123456789abcdef0123456789abcdef01234567',
      author: 'Chen Wei',
      at: '2026-11-24T10:00:00.000Z',
      pullRequest: 79,
      message: `Promote checkout ${version} to ${name} (#79)`,
    },
  },
  live: null,
  drift,
});

/** A fan-out pipeline with each drift kind the backend reports. */
export const checkoutPromotions: EntityPromotions = {
  entityRef: 'component:default/checkout',
  asOf: '2026-11-25T08:00:00.000Z',
  repository: { id: 'example-gitops', revision: 'fedcba9876543210fedcba9876543210fedcba98' },
  pipeline: 'regional',
  environments: [
    env('qa', [], '2.8.0'),
    env('staging-us', ['qa'], '2.8.0'),
    env('staging-eu', ['qa'], '2.7.1', [
      {
        kind: 'behind',
        summary: 'Behind qa by 1 version: runs 2.7.1, qa runs 2.8.0 since 2026-11-22; 1 commit to qa since',
        upstream: 'qa',
        upstreamVersion: '2.8.0',
        version: '2.7.1',
        versions: 1,
        commits: 1,
        since: '2026-11-22T10:00:00.000Z',
      },
    ]),
    env('prod-us', ['staging-us'], '2.9.0', [
      {
        kind: 'ahead',
        summary: 'Ahead of staging-us: runs 2.9.0, staging-us runs 2.8.0',
        upstream: 'staging-us',
        upstreamVersion: '2.8.0',
        version: '2.9.0',
        versions: null,
        commits: null,
        since: null,
      },
    ]),
    env('prod-eu', ['staging-eu'], '2.7.1', [
      {
        kind: 'config',
        summary: 'Config differs from staging-eu in 1 key (CACHE_SIZE: 1024kb vs 512kb)',
        upstream: 'staging-eu',
        differences: [
          { key: 'Deployment/checkout containers[checkout].env.CACHE_SIZE', value: '1024kb', upstreamValue: '512kb' },
        ],
      },
    ]),
  ],
};
