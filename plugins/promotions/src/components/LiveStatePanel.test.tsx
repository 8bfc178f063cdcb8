import { renderInTestApp } from '@backstage/test-utils';
import { screen, within } from '@testing-library/react';
import {
  LiveApplication,
  LiveState,
} from '@gitops-promotions/plugin-promotions-common';
import { LiveStatePanel } from './LiveStatePanel';

const HOUR = 3600_000;

const application = (
  changes: Partial<LiveApplication> = {},
): LiveApplication => ({
  source: 'argocd',
  instance: 'demo',
  kind: 'Application',
  name: 'payment-prod',
  namespace: 'argocd',
  mapping: 'name payment-{env}',
  url: 'https://argocd.example/applications/argocd/payment-prod',
  syncStatus: 'Synced',
  outOfSyncSince: null,
  healthStatus: 'Healthy',
  healthMessage: null,
  revision: '3c6fc7c0a8b1d2e3f4a5b6c7d8e9f0a1b2c3d4e5',
  revisions: [],
  images: ['ghcr.io/acme/payment:1.4.2'],
  syncedAt: new Date(Date.now() - 2 * HOUR).toISOString(),
  reconciledAt: null,
  operation: null,
  rollout: null,
  ...changes,
});

const state = (changes: Partial<LiveState> = {}): LiveState => ({
  reachable: true,
  asOf: new Date().toISOString(),
  applications: [application()],
  ...changes,
});

async function render(live: LiveState | null) {
  await renderInTestApp(<LiveStatePanel live={live} />);
  return screen.getByRole('region', { name: 'Live state' });
}

describe('LiveStatePanel', () => {
  it('says live state is not configured when no source knows the environment', async () => {
    expect(await render(null)).toHaveTextContent('Not configured');
  });

  it('shows each application with its sync, health, revision, images, mapping and last sync', async () => {
    const panel = await render(state());
    const app = within(panel).getByRole('group', {
      name: 'Application payment-prod',
    });
    expect(
      within(app).getByRole('link', { name: 'payment-prod' }),
    ).toHaveAttribute(
      'href',
      'https://argocd.example/applications/argocd/payment-prod',
    );
    expect(within(app).getByText('Synced')).toBeInTheDocument();
    expect(within(app).getByText('Healthy')).toBeInTheDocument();
    expect(within(app).getByText('revision 3c6fc7c0a8b1')).toBeInTheDocument();
    expect(
      within(app).getByText('ghcr.io/acme/payment:1.4.2'),
    ).toBeInTheDocument();
    expect(app).toHaveTextContent(
      'demo · argocd · mapped by name payment-{env}',
    );
    expect(within(app).getByText('synced 2 hours ago')).toBeInTheDocument();
  });

  it('says why a sync failed, and shows Progressing as health, not as an error', async () => {
    const panel = await render(
      state({
        applications: [
          application({
            syncStatus: 'OutOfSync',
            healthStatus: 'Progressing',
            operation: {
              phase: 'Failed',
              message: 'one or more objects failed to apply',
              startedAt: null,
              finishedAt: null,
            },
          }),
        ],
      }),
    );
    expect(within(panel).getByText('OutOfSync')).toBeInTheDocument();
    expect(within(panel).getByText('Progressing')).toBeInTheDocument();
    expect(within(panel).getAllByRole('alert')).toHaveLength(1);
    expect(within(panel).getByRole('alert')).toHaveTextContent(
      'Sync failed: one or more objects failed to apply',
    );
  });

  it("shows a rollout's step, weight, pause and both images", async () => {
    const panel = await render(
      state({
        applications: [
          application({
            healthStatus: 'Suspended',
            rollout: {
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
            },
          }),
        ],
      }),
    );
    const rollout = within(panel).getByRole('group', {
      name: 'Rollout payment',
    });
    expect(rollout).toHaveTextContent('Canary step 1 of 5, weight 20%, paused');
    expect(rollout).toHaveTextContent('stable ghcr.io/acme/payment:1.4.1');
    expect(rollout).toHaveTextContent('canary ghcr.io/acme/payment:1.4.2');
  });

  it('says an unreachable source shows its last known state, with its age', async () => {
    const panel = await render(
      state({
        reachable: false,
        asOf: new Date(Date.now() - 3 * HOUR).toISOString(),
        error: 'Argo CD answered 503',
      }),
    );
    expect(within(panel).getByRole('alert')).toHaveTextContent(
      'Unreachable: last known state from 3 hours ago (Argo CD answered 503)',
    );
    expect(
      within(panel).getByRole('group', { name: 'Application payment-prod' }),
    ).toBeInTheDocument();
  });
});
