import { ConfigReader } from '@backstage/config';
import { Entity } from '@backstage/catalog-model';
import { mockServices } from '@backstage/backend-test-utils';
import { FluxKubernetesSimulator } from '@internal/argocd-simulator';
import { FluxLiveStateSource, MAX_PAGES } from './FluxLiveStateSource';

const TOKEN = 'flux-reader-token';
const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

const entity = (annotations: Record<string, string>): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'payment', namespace: 'default', annotations },
  spec: {},
});

describe('FluxLiveStateSource', () => {
  let cluster: FluxKubernetesSimulator;

  beforeEach(async () => {
    cluster = await FluxKubernetesSimulator.start({
      token: TOKEN,
      kustomizations: [
        {
          name: 'payment-dev',
          labels: { app: 'payment', env: 'dev' },
          lastAppliedRevision: `main@sha1:${A}`,
        },
        {
          name: 'payment-prod',
          namespace: 'payment',
          labels: { app: 'payment', env: 'prod' },
          ready: 'False',
          lastAppliedRevision: `main@sha1:${A}`,
          lastAttemptedRevision: `main@sha1:${B}`,
        },
        { name: 'checkout-dev', labels: { app: 'checkout', env: 'dev' } },
      ],
      helmReleases: [
        {
          name: 'payment-staging',
          labels: { app: 'payment', env: 'staging' },
          chart: 'payment',
          chartVersion: '0.4.0',
          appVersion: '1.5.0',
        },
      ],
    });
  });

  afterEach(async () => {
    await cluster.stop();
    // Every object stayed within the Flux CRD schemas.
    if (cluster.problems.length > 0)
      throw new Error(cluster.problems.join('\n'));
  });

  /** The source as the backend builds it: from Backstage's own kubernetes clusters. */
  const source = () =>
    FluxLiveStateSource.fromConfig(
      new ConfigReader({
        kubernetes: {
          clusterLocatorMethods: [
            {
              type: 'config',
              clusters: [
                {
                  name: 'prod-cluster',
                  url: cluster.url,
                  authProvider: 'serviceAccount',
                  serviceAccountToken: TOKEN,
                },
              ],
            },
          ],
        },
        promotions: { live: { mapping: [{ label: 'env' }] } },
      }),
      { logger: mockServices.logger.mock() },
    )!;

  it("reads Kustomizations and HelmReleases of the kubernetes config's clusters by the flux-selector annotation, mapped by label", async () => {
    const states = await source().read({
      entity: entity({ 'gitops-promotions/flux-selector': 'app=payment' }),
      environments: ['dev', 'staging', 'prod'],
    });
    expect(states.get('dev')!.applications).toEqual([
      expect.objectContaining({
        source: 'flux',
        instance: 'prod-cluster',
        kind: 'Kustomization',
        name: 'payment-dev',
        mapping: 'label env=dev',
        syncStatus: 'Synced',
        healthStatus: 'Healthy',
        revision: A,
      }),
    ]);
    expect(states.get('staging')!.applications).toEqual([
      expect.objectContaining({ kind: 'HelmRelease', revision: '0.4.0' }),
    ]);
    // Applied one revision, attempted a newer one, and not Ready.
    expect(states.get('prod')!.applications).toEqual([
      expect.objectContaining({
        namespace: 'payment',
        syncStatus: 'OutOfSync',
        healthStatus: 'Degraded',
        revision: A,
      }),
    ]);
    expect(states.get('prod')!.reachable).toBe(true);
  });

  it('stops listing after 100 pages of a cluster that always says there is more, as unreachable', async () => {
    cluster.endlessPages();
    const states = await source().read({
      entity: entity({ 'gitops-promotions/flux-selector': 'app=payment' }),
      environments: ['dev'],
    });
    expect(states.get('dev')).toMatchObject({
      reachable: false,
      error: expect.stringMatching(/more than 100 pages/),
    });
    expect(MAX_PAGES).toBe(100);
    expect(cluster.count()).toBeLessThanOrEqual(2 * MAX_PAGES);
  });

  it('is not configured without the annotation, and unreachable when the cluster refuses its token', async () => {
    const flux = source();
    expect(
      await flux.read({ entity: entity({}), environments: ['dev'] }),
    ).toEqual(new Map());
    expect(cluster.count()).toBe(0);
    cluster.rejectAuth();
    const states = await flux.read({
      entity: entity({ 'gitops-promotions/flux-selector': 'app=payment' }),
      environments: ['dev'],
    });
    expect(states.get('dev')).toMatchObject({
      reachable: false,
      error: expect.stringMatching(/401/),
    });
  });
});
