import { PromotionsApi } from '../api';
import {
  Drift,
  EntityPromotions,
  EnvironmentState,
  FleetDeliveryFigures,
  ImageRef,
  OwnerDeliveryFigures,
} from '@gitops-promotions/plugin-promotions-common';

const HOUR = 3600 * 1000;

/** An ISO time some hours before now, so relative times read the same whenever tests run. */
export const hoursAgo = (hours: number) =>
  new Date(Date.now() - hours * HOUR).toISOString();

const environment = (
  name: string,
  requires: string[],
  version: string,
  options: {
    drift?: Drift[];
    images?: ImageRef[];
    pullRequest?: number | null;
  } = {},
): EnvironmentState => ({
  name,
  requires,
  desired: {
    version,
    images: options.images ?? [
      { name: 'ghcr.io/acme/checkout', tag: version, digest: null },
    ],
    path: `checkout/envs/${name}`,
    lastChange: {
      commit: '3c6fc7c0123456789abcdef0123456789abcdef0',
      author: 'Chen Wei',
      at: hoursAgo(50),
      pullRequest:
        options.pullRequest === undefined ? 158 : options.pullRequest,
      message: `Promote checkout ${version} to ${name} (#158)\n\nApproved-by: Ana Lima`,
    },
  },
  live: null,
  drift: options.drift ?? [],
});

/**
 * The checkout service on a fan-out pipeline, qa → staging-us, staging-eu → prod-us, prod-eu,
 * carrying every kind of drift.
 */
export const checkoutPromotions: EntityPromotions = {
  entityRef: 'component:default/checkout',
  asOf: hoursAgo(3),
  repository: {
    id: 'example-gitops',
    revision: 'fedcba9876543210fedcba9876543210fedcba98',
  },
  pipeline: 'regional',
  environments: [
    environment('qa', [], '2.8.0', {
      images: [
        {
          name: 'ghcr.io/acme/checkout',
          tag: '2.8.0',
          digest:
            'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
        },
        { name: 'ghcr.io/acme/log-shipper', tag: '0.9.1', digest: null },
      ],
      pullRequest: null,
    }),
    environment('staging-us', ['qa'], '2.8.0'),
    environment('staging-eu', ['qa'], '2.7.1', {
      drift: [
        {
          kind: 'behind',
          summary:
            'Runs 2.7.1, behind qa (2.8.0) by 1 version in 1 commit since 2026-11-22',
          upstream: 'qa',
          upstreamVersion: '2.8.0',
          version: '2.7.1',
          versions: 1,
          commits: 1,
          since: '2026-11-22T10:00:00.000Z',
        },
      ],
    }),
    environment('prod-us', ['staging-us'], '2.9.0', {
      drift: [
        {
          kind: 'ahead',
          summary: 'Runs 2.9.0, ahead of staging-us (2.8.0)',
          upstream: 'staging-us',
          upstreamVersion: '2.8.0',
          version: '2.9.0',
          versions: null,
          commits: null,
          since: null,
        },
        {
          kind: 'out-of-sync',
          summary: 'Argo CD reports checkout-prod-us OutOfSync',
          source: 'argocd',
          instance: 'main',
          application: 'checkout-prod-us',
          since: null,
        },
        {
          kind: 'live-mismatch',
          summary: 'Runs ghcr.io/acme/checkout:2.8.0 live, 2.9.0 desired',
          source: 'argocd',
          instance: 'main',
          application: 'checkout-prod-us',
          since: null,
          image: {
            name: 'ghcr.io/acme/checkout',
            desired: '2.9.0',
            live: ['2.8.0'],
          },
        },
      ],
    }),
    environment('prod-eu', ['staging-eu'], '2.7.1', {
      drift: [
        {
          kind: 'config',
          summary:
            'Config differs from staging-eu in 2 keys (CACHE_SIZE: 1024kb vs 512kb; FEATURE_BULK_EXPORT: absent vs true)',
          upstream: 'staging-eu',
          differences: [
            {
              key: 'Deployment/checkout containers[checkout].env.CACHE_SIZE',
              value: '1024kb',
              upstreamValue: '512kb',
            },
            {
              key: 'Deployment/checkout containers[checkout].env.FEATURE_BULK_EXPORT',
              value: null,
              upstreamValue: 'true',
            },
          ],
        },
        {
          kind: 'stale-promotion',
          summary:
            'Promotion of 2.8.0 to prod-eu open for 9 days, longer than 7 days',
        },
      ],
    }),
  ],
};

/** A PromotionsApi whose every method is a mock: nothing open, no history, unless given. */
/** An owner's figures with nothing in the window, and what a test sets. */
export const ownerFigures = (
  owner: string,
  figures: Partial<OwnerDeliveryFigures> = {},
): OwnerDeliveryFigures => ({
  owner,
  services: 0,
  deployments: { count: 0, perWeek: 0 },
  productionDeployments: { count: 0, perWeek: 0 },
  leadTime: { medianMs: null, p90Ms: null, versions: 0 },
  changeFailure: { promotions: 0, rollbacks: 0, failed: 0, rate: null },
  restore: { medianMs: null, restored: 0, unrestored: 0 },
  ...figures,
});

/** The fleet's figures of the owners asked for, each from `of` or else empty. */
export const fleetFigures =
  (of: Record<string, Partial<OwnerDeliveryFigures>> = {}) =>
  async (owners: string[], days: number): Promise<FleetDeliveryFigures> => ({
    window: {
      days,
      from: '2026-03-01T00:00:00.000Z',
      to: '2026-03-31T00:00:00.000Z',
    },
    owners: owners.map(owner => ownerFigures(owner, of[owner])),
    truncated: false,
  });

export function mockPromotionsApi(
  overrides: Partial<Record<keyof PromotionsApi, jest.Mock>> = {},
) {
  return {
    getEntityPromotions: jest.fn().mockResolvedValue(checkoutPromotions),
    listPromotions: jest.fn().mockResolvedValue([]),
    preview: jest.fn(),
    requestPromotion: jest.fn(),
    decide: jest.fn(),
    merge: jest.fn(),
    close: jest.fn(),
    history: jest.fn().mockResolvedValue({ entries: [], next: null }),
    versions: jest.fn().mockResolvedValue([]),
    freezes: jest.fn().mockResolvedValue([]),
    freeze: jest.fn(),
    liftFreeze: jest.fn(),
    queue: jest.fn(),
    unqueue: jest.fn(),
    inbox: jest.fn().mockResolvedValue({ items: [], nextCursor: null }),
    fleet: jest.fn(),
    figures: jest.fn().mockResolvedValue({
      entityRef: 'component:default/checkout',
      window: {
        days: 30,
        from: '2026-03-01T00:00:00.000Z',
        to: '2026-03-31T00:00:00.000Z',
      },
      environments: [],
      leadTime: [],
    }),
    ownerFigures: jest.fn(fleetFigures()),
    systemPromotions: jest.fn(),
    requestPromotionGroup: jest.fn(),
    mergePromotionGroup: jest.fn(),
    closePromotionGroup: jest.fn(),
    ...overrides,
  };
}
