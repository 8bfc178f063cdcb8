import { mockServices } from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import {
  LiveApplication,
  LiveState,
} from '@gitops-promotions/plugin-promotions-common';
import { LiveStateSource } from '@gitops-promotions/plugin-promotions-node';
import { readLiveStates } from './readLiveStates';

const entity: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'payment', namespace: 'default' },
  spec: {},
};

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
  revision: null,
  revisions: [],
  images: [],
  syncedAt: null,
  reconciledAt: null,
  operation: null,
  rollout: null,
  ...changes,
});

const answering = (state: LiveState): LiveStateSource => ({
  id: 'argocd',
  read: async () => new Map([['prod', state]]),
});

const read = (
  source: LiveStateSource,
  previous?: Map<string, LiveState>,
  timeoutMs?: number,
) =>
  readLiveStates({
    sources: [source],
    entities: [{ entity, environments: ['prod'] }],
    logger: mockServices.logger.mock(),
    concurrency: 1,
    timeoutMs,
    previous: async () => previous,
  }).then(result => result.get('component:default/payment')!.get('prod')!);

const STORED: LiveState = {
  reachable: true,
  asOf: '2026-11-01T10:00:00.000Z',
  applications: [
    application({
      syncStatus: 'OutOfSync',
      outOfSyncSince: '2026-11-01T09:00:00.000Z',
    }),
  ],
};

describe('readLiveStates', () => {
  it('serves the stored applications, with their age, for a source that throws or cannot say', async () => {
    const failing: LiveStateSource = {
      id: 'argocd',
      read: async () => {
        throw new Error('connect ECONNREFUSED');
      },
    };
    expect(await read(failing, new Map([['prod', STORED]]))).toEqual({
      reachable: false,
      asOf: '2026-11-01T10:00:00.000Z',
      applications: STORED.applications,
      error: 'Live-state source argocd failed: connect ECONNREFUSED',
    });
    const forgetful = answering({
      reachable: false,
      asOf: null,
      applications: [],
      error: 'answered 503',
    });
    expect(await read(forgetful, new Map([['prod', STORED]]))).toMatchObject({
      reachable: false,
      asOf: STORED.asOf,
      applications: STORED.applications,
    });
    expect(await read(forgetful)).toMatchObject({
      reachable: false,
      asOf: null,
      applications: [],
    });
  });

  it('keeps since when an application is OutOfSync while it stays so, and starts counting when it turns so', async () => {
    const outOfSync = answering({
      reachable: true,
      asOf: '2026-11-02T10:00:00.000Z',
      applications: [application({ syncStatus: 'OutOfSync' })],
    });
    expect(
      (await read(outOfSync, new Map([['prod', STORED]]))).applications[0]
        .outOfSyncSince,
    ).toBe('2026-11-01T09:00:00.000Z');
    expect((await read(outOfSync)).applications[0].outOfSyncSince).toBe(
      '2026-11-02T10:00:00.000Z',
    );
    const synced = answering({
      reachable: true,
      asOf: '2026-11-02T10:00:00.000Z',
      applications: [application()],
    });
    expect(
      (await read(synced, new Map([['prod', STORED]]))).applications[0]
        .outOfSyncSince,
    ).toBeNull();
  });
});
