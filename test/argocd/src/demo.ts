import { ApplicationSeed } from './applications';
import { ArgoCdSimulator } from './ArgoCdSimulator';

/**
 * A demo Argo CD for the example portal: the simulator on a fixed port, serving applications
 * that deploy the example GitOps repository's services (`examples/gitops`). Each application
 * and `/api/version` say that it is simulated.
 */

export interface DemoArgoCdOptions {
  port: number;
  /** 127.0.0.1 by default. */
  host?: string;
  /** The demo's own applications by default (`DEMO_APPLICATIONS`). */
  applications?: ApplicationSeed[];
  /** `{ admin: 'password' }` by default. */
  accounts?: Record<string, string>;
  /**
   * The commits of the example repository that touched a path, newest first: each application
   * is then synced to the newest commit of its source path, and those of `DEMO_WAITING_FOR_SYNC`
   * to the one before, so that the portal sees a change not synced yet.
   */
  history?: (path: string) => string[];
}

/** The applications synced to an older commit than the last one touching their path. */
export const DEMO_WAITING_FOR_SYNC = ['payment-staging'];

const REPOSITORY = 'https://github.com/acme/gitops';
const SIMULATED = { 'gitops-promotions/simulated': 'true' };

function environment(
  service: string,
  env: string,
  image: string | string[],
  extra: Partial<ApplicationSeed> = {},
): ApplicationSeed {
  return {
    name: `${service}-${env}`,
    labels: { 'app.kubernetes.io/name': service },
    annotations: SIMULATED,
    source: {
      repoURL: REPOSITORY,
      path: `${service}/overlays/${env}`,
      targetRevision: 'main',
    },
    destination: {
      server: env.startsWith('prod')
        ? 'https://prod.k8s.acme.example'
        : 'https://kubernetes.default.svc',
      namespace: `${service}-${env}`,
    },
    workload: service,
    images: Array.isArray(image) ? image : [image],
    ...extra,
  };
}

/** Where the example repository's services run, as its history leaves them. */
export const DEMO_APPLICATIONS: ApplicationSeed[] = [
  environment('payment', 'dev', 'ghcr.io/acme/payment:1.5.0'),
  // staging still runs 1.4.2: Argo CD has not synced the promotion of 1.5.0 yet.
  environment('payment', 'staging', 'ghcr.io/acme/payment:1.4.2'),
  // prod rolls 1.4.2 out as a canary, paused after its first step.
  environment('payment', 'prod', 'ghcr.io/acme/payment:1.4.2', {
    rollout: {
      stableImage: 'ghcr.io/acme/payment:1.4.1',
      canaryImage: 'ghcr.io/acme/payment:1.4.2',
      step: 1,
    },
  }),
  ...['qa', 'staging-us', 'staging-eu', 'prod-us', 'prod-eu'].map(env =>
    environment(
      'checkout',
      env,
      `ghcr.io/acme/checkout:${
        /^(qa|staging-us)$/.test(env) ? '2.8.0' : '2.7.1'
      }`,
      {
        source: {
          repoURL: REPOSITORY,
          path: `checkout/envs/${env}`,
          targetRevision: 'main',
        },
      },
    ),
  ),
  // prod runs a hotfix set by hand, which Git does not have.
  ...[
    ['dev', '3.2.0'],
    ['staging', '3.1.0'],
    ['prod', '3.1.1-hotfix'],
  ].map(([env, version]) =>
    environment('catalog-api', env, `ghcr.io/acme/catalog-api:${version}`, {
      source: {
        repoURL: REPOSITORY,
        path: 'charts/catalog-api',
        targetRevision: 'main',
        helm: { valueFiles: [`values-${env}.yaml`] },
      },
    }),
  ),
  environment('orders', 'dev', [
    'ghcr.io/acme/orders:4.2.0',
    'ghcr.io/acme/log-shipper:0.9.1',
  ]),
  // Someone changed staging's live objects: Argo CD reports it OutOfSync.
  environment(
    'orders',
    'staging',
    ['ghcr.io/acme/orders:4.2.0', 'ghcr.io/acme/log-shipper:0.9.1'],
    { sync: 'OutOfSync' },
  ),
  environment(
    'orders',
    'prod',
    ['ghcr.io/acme/orders:3.9.0', 'ghcr.io/acme/log-shipper:0.9.1'],
    { health: 'Degraded' },
  ),
];

/** Starts the demo Argo CD on a fixed port; stop it with `stop()`. */
export function startDemoArgoCd(
  options: DemoArgoCdOptions,
): Promise<ArgoCdSimulator> {
  return ArgoCdSimulator.start({
    port: options.port,
    host: options.host,
    accounts: options.accounts,
    applications: seedRevisions(
      options.applications ?? DEMO_APPLICATIONS,
      options.history,
    ),
  });
}

/** Syncs each application to a real commit of the example repository, as `history` tells. */
function seedRevisions(
  applications: ApplicationSeed[],
  history?: (path: string) => string[],
): ApplicationSeed[] {
  if (!history) return applications;
  return applications.map(application => {
    const path = application.source?.path;
    if (!path || application.revision) return application;
    const commits = history(path);
    const revision =
      commits[DEMO_WAITING_FOR_SYNC.includes(application.name) ? 1 : 0];
    return revision ? { ...application, revision } : application;
  });
}
