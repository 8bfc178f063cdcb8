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
}

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
  environment('payment', 'staging', 'ghcr.io/acme/payment:1.5.0'),
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
  ...[
    ['dev', '3.2.0'],
    ['staging', '3.1.0'],
    ['prod', '3.1.0'],
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
  environment('orders', 'staging', [
    'ghcr.io/acme/orders:4.2.0',
    'ghcr.io/acme/log-shipper:0.9.1',
  ]),
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
    applications: options.applications ?? DEMO_APPLICATIONS,
  });
}
