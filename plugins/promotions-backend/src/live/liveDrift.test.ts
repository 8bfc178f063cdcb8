import {
  LiveApplication,
  LiveState,
} from '@gitops-promotions/plugin-promotions-common';
import { liveDrift } from './liveDrift';

const HEAD = 'f'.repeat(40);
const LAST = 'c'.repeat(40);
const OLDER = 'b'.repeat(40);
const OLDEST = 'a'.repeat(40);

const application = (
  changes: Partial<LiveApplication> = {},
): LiveApplication => ({
  source: 'argocd',
  instance: 'main',
  kind: 'Application',
  name: 'payment-prod',
  namespace: 'argocd',
  mapping: 'name payment-{env}',
  url: null,
  syncStatus: 'Synced',
  outOfSyncSince: null,
  healthStatus: 'Healthy',
  healthMessage: null,
  revision: LAST,
  revisions: [],
  images: ['ghcr.io/acme/payment:1.4.2', 'ghcr.io/acme/log-shipper:0.9.1'],
  syncedAt: '2026-11-02T10:00:00Z',
  reconciledAt: null,
  operation: null,
  rollout: null,
  ...changes,
});

const live = (...applications: LiveApplication[]): LiveState => ({
  reachable: true,
  asOf: '2026-11-03T00:00:00Z',
  applications,
});

const history = [
  { sha: LAST, at: '2026-11-03T09:00:00Z' },
  { sha: OLDER, at: '2026-11-02T09:00:00Z' },
  { sha: OLDEST, at: '2026-11-01T09:00:00Z' },
];

const drift = (state: LiveState | null, lastChangeAt = history[0].at) => {
  const asked: string[] = [];
  return {
    asked,
    result: liveDrift({
      live: state,
      desired: [{ name: 'ghcr.io/acme/payment', tag: '1.4.2', digest: null }],
      lastChange: {
        commit: LAST,
        at: lastChangeAt,
        author: 'Ana',
        pullRequest: null,
        message: 'Promote payment 1.4.2 to prod',
      },
      head: HEAD,
      history: async () => {
        asked.push('history');
        return history;
      },
    }),
  };
};

describe('liveDrift', () => {
  it('compares only the running images that are strings, whatever else a source handed over', async () => {
    const odd = (images: unknown, canaryImage: unknown = 42) =>
      drift(
        live(
          application({
            images: images as string[],
            rollout: { canaryImage } as unknown as LiveApplication['rollout'],
          }),
        ),
      ).result;
    expect(await odd([{}, 42, 'ghcr.io/acme/payment:1.4.1'])).toEqual([
      expect.objectContaining({
        kind: 'live-mismatch',
        image: {
          name: 'ghcr.io/acme/payment',
          desired: 'ghcr.io/acme/payment:1.4.2',
          live: ['ghcr.io/acme/payment:1.4.1'],
        },
      }),
    ]);
    expect(await odd('ghcr.io/acme/payment:1.4.1')).toEqual([]);
    expect(await odd({ 0: 'ghcr.io/acme/payment:1.4.1' }, {})).toEqual([]);
  });

  it('finds none where what runs is what Git says, without reading history', async () => {
    const { result, asked } = drift(live(application()));
    expect(await result).toEqual([]);
    expect(asked).toEqual([]);
    expect(await drift(null).result).toEqual([]);
    expect(await drift(live(application({ revision: HEAD }))).result).toEqual(
      [],
    );
  });

  it('says since when Argo CD reports an application OutOfSync: since the change it has not synced', async () => {
    expect(
      await drift(live(application({ syncStatus: 'OutOfSync' }))).result,
    ).toEqual([
      {
        kind: 'out-of-sync',
        source: 'argocd',
        instance: 'main',
        application: 'payment-prod',
        since: '2026-11-03T09:00:00Z',
        summary:
          'Argo CD reports payment-prod OutOfSync since 2026-11-03T09:00:00Z',
      },
    ]);
    // Git changed before the last sync: something else put it out of sync, at a time unknown.
    const [before] = await drift(
      live(application({ syncStatus: 'OutOfSync' })),
      '2026-11-01T00:00:00Z',
    ).result;
    expect(before).toMatchObject({
      since: null,
      summary: 'Argo CD reports payment-prod OutOfSync',
    });
    // When the backend first saw it OutOfSync, unless Git changed earlier.
    const [seen] = await drift(
      live(
        application({
          syncStatus: 'OutOfSync',
          outOfSyncSince: '2026-11-01T12:00:00Z',
        }),
      ),
      '2026-11-01T00:00:00Z',
    ).result;
    expect(seen.since).toBe('2026-11-01T12:00:00Z');
    const [earlier] = await drift(
      live(
        application({
          syncStatus: 'OutOfSync',
          outOfSyncSince: '2026-11-04T12:00:00Z',
        }),
      ),
    ).result;
    expect(earlier.since).toBe('2026-11-03T09:00:00Z');
  });

  it('names the image whose running version differs from Git, with both values', async () => {
    expect(
      await drift(
        live(
          application({
            images: [
              'ghcr.io/acme/payment:1.4.1',
              'ghcr.io/acme/log-shipper:0.9.1',
            ],
          }),
        ),
      ).result,
    ).toEqual([
      expect.objectContaining({
        kind: 'live-mismatch',
        image: {
          name: 'ghcr.io/acme/payment',
          desired: 'ghcr.io/acme/payment:1.4.2',
          live: ['ghcr.io/acme/payment:1.4.1'],
        },
        summary:
          'payment-prod runs ghcr.io/acme/payment:1.4.1 where Git has ghcr.io/acme/payment:1.4.2',
      }),
    ]);
  });

  it('takes a canary of the desired image for a rollout on its way, not a mismatch, unless it was aborted', async () => {
    const rollout = {
      name: 'payment',
      step: 1,
      steps: 5,
      weight: 20,
      paused: true,
      aborted: false,
      stableImage: 'ghcr.io/acme/payment:1.4.1',
      canaryImage: 'ghcr.io/acme/payment:1.4.2',
      phase: 'Paused',
      message: null,
    };
    const images = ['ghcr.io/acme/payment:1.4.1', 'ghcr.io/acme/payment:1.4.2'];
    expect(await drift(live(application({ images, rollout }))).result).toEqual(
      [],
    );
    expect(
      await drift(
        live(application({ images, rollout: { ...rollout, aborted: true } })),
      ).result,
    ).toEqual([expect.objectContaining({ kind: 'live-mismatch' })]);
  });

  it('says a synced revision older than the latest change to the environment is waiting for sync, since the first change not synced', async () => {
    const { result, asked } = drift(live(application({ revision: OLDEST })));
    expect(await result).toEqual([
      {
        kind: 'waiting-for-sync',
        source: 'argocd',
        instance: 'main',
        application: 'payment-prod',
        since: '2026-11-02T09:00:00Z',
        revision: { synced: OLDEST, latest: LAST, commits: 2 },
        summary:
          'payment-prod runs aaaaaaa, 2 changes behind ccccccc, waiting for sync since 2026-11-02T09:00:00Z',
      },
    ]);
    expect(asked).toEqual(['history']);
    // A revision the environment's history does not hold may be newer: nothing is claimed.
    expect(
      await drift(live(application({ revision: 'd'.repeat(40) }))).result,
    ).toEqual([]);
  });
});
