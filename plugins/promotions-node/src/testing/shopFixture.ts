import { FixtureCommit } from './gitFixture';

/**
 * The `shop` service's base Deployment, with its cache size.
 *
 * @public
 */
export const shopDeployment = (cacheSize: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
spec:
  replicas: 1
  template:
    spec:
      containers:
        - name: shop
          image: ghcr.io/acme/shop:0.0.1
          env:
            - name: CACHE_SIZE
              value: "${cacheSize}"
`;

/**
 * The Kustomize overlay of one `shop` environment, pinning the image tag.
 *
 * @public
 */
export const shopOverlay = (env: string, tag: string) => `resources:
  - ../../base
namePrefix: ${env}-
namespace: shop-${env}
images:
  - name: ghcr.io/acme/shop
    newTag: "${tag}"
`;

const cachePatch = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
spec:
  template:
    spec:
      containers:
        - name: shop
          env:
            - name: CACHE_SIZE
              value: "1024kb"
`;

/**
 * A GitOps history of the `shop` service (Kustomize overlays dev, staging, prod): dev runs 1.2.0,
 * staging 1.1.0 (through PR #5), prod 1.0.0 with a cache size patch.
 *
 * @public
 */
export const shopHistory: FixtureCommit[] = [
  {
    author: 'Ana Lima',
    date: '2026-10-01T09:00:00Z',
    message: 'Lay out shop',
    files: {
      'shop/base/deployment.yaml': shopDeployment('512kb'),
      'shop/base/kustomization.yaml': 'resources:\n  - deployment.yaml\n',
      'shop/overlays/dev/kustomization.yaml': shopOverlay('dev', '1.0.0'),
      'shop/overlays/staging/kustomization.yaml': shopOverlay(
        'staging',
        '1.0.0',
      ),
      'shop/overlays/prod/kustomization.yaml': `${shopOverlay(
        'prod',
        '1.0.0',
      )}patches:\n  - path: cache.yaml\n`,
      'shop/overlays/prod/cache.yaml': cachePatch,
    },
  },
  {
    author: 'Ben Okafor',
    date: '2026-10-10T09:00:00Z',
    message: 'Promote shop 1.1.0 to dev (#3)',
    files: {
      'shop/overlays/dev/kustomization.yaml': shopOverlay('dev', '1.1.0'),
    },
  },
  {
    author: 'Chen Wei',
    date: '2026-10-12T09:00:00Z',
    message: 'Merge pull request #5 from acme/promote-shop-staging',
    files: {
      'shop/overlays/staging/kustomization.yaml': shopOverlay(
        'staging',
        '1.1.0',
      ),
    },
  },
  {
    author: 'Ben Okafor',
    date: '2026-10-20T09:00:00Z',
    message: 'Promote shop 1.2.0 to dev (#7)',
    files: {
      'shop/overlays/dev/kustomization.yaml': shopOverlay('dev', '1.2.0'),
    },
  },
];
