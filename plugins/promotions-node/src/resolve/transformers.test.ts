import { Resource } from './resources';
import { setReplicas, transformMetadata } from './transformers';

const API_VERSIONS: Record<string, string> = {
  Deployment: 'apps/v1',
  StatefulSet: 'apps/v1',
  ClusterRole: 'rbac.authorization.k8s.io/v1',
  CustomResourceDefinition: 'apiextensions.k8s.io/v1',
};

const resource = (kind: string, name: string, spec?: object): Resource => ({
  object: {
    apiVersion: API_VERSIONS[kind] ?? 'v1',
    kind,
    metadata: { name },
    ...(spec ? { spec } : {}),
  },
  originalName: name,
});

describe('kustomize transformers', () => {
  it('sets the namespace and name prefix and suffix, except where kustomize does not', () => {
    const transformed = transformMetadata(
      { namespace: 'payment-prod', namePrefix: 'prod-', nameSuffix: '-eu' },
      [
        resource('Deployment', 'payment'),
        resource('Namespace', 'payment'),
        resource('ClusterRole', 'reader'),
        resource('CustomResourceDefinition', 'x.acme.io'),
      ],
      'kustomization.yaml',
    );
    // kustomize names a Namespace object after the namespace it sets, and prefixes it never.
    expect(transformed.map(r => r.object.metadata)).toEqual([
      { name: 'prod-payment-eu', namespace: 'payment-prod' },
      { name: 'payment-prod' },
      { name: 'prod-reader-eu' },
      { name: 'x.acme.io' },
    ]);
    expect(transformed.map(r => r.originalName)).toEqual([
      'payment',
      'payment',
      'reader',
      'x.acme.io',
    ]);
  });

  it('sets replicas by current or original name on scalable kinds only', () => {
    const prefixed = {
      ...resource('StatefulSet', 'prod-db', { replicas: 1 }),
      originalName: 'db',
      previous: [{ name: 'db' }],
    };
    const scaled = setReplicas(
      {
        replicas: [
          { name: 'db', count: '3' },
          { name: 'payment', count: 2 },
        ],
      },
      [
        prefixed,
        resource('Deployment', 'payment', {}),
        resource('Service', 'payment', {}),
      ],
      'kustomization.yaml',
    );
    expect(scaled.map(r => r.object.spec)).toEqual([
      { replicas: 3 },
      { replicas: 2 },
      {},
    ]);
  });
});
