import { resolveEnvironment } from '.';
import { memorySnapshot } from './testing';

const deployment = (image: string, extra = '') => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: payment
spec:
  replicas: 1
  template:
    spec:
      containers:
        - name: payment
          image: ${image}
          env:
            - name: LOG_LEVEL
              value: info
${extra}`;

const base = {
  'payment/base/deployment.yaml': deployment('ghcr.io/acme/payment:1.0.0'),
  'payment/base/service.yaml': 'apiVersion: v1\nkind: Service\nmetadata:\n  name: payment\nspec:\n  ports: [{ port: 80 }]\n',
  'payment/base/kustomization.yaml': 'resources:\n  - deployment.yaml\n  - service.yaml\n',
};

describe('resolveEnvironment: Kustomize', () => {
  it('applies the images transformer with newName, newTag and digest over base', async () => {
    const snapshot = memorySnapshot({
      ...base,
      'payment/overlays/prod/kustomization.yaml': `resources: [../../base]
namePrefix: prod-
namespace: payment-prod
images:
  - name: ghcr.io/acme/payment
    newName: registry.local:5000/acme/payment
    newTag: "1.4.2"
    digest: sha256:${'a'.repeat(64)}
`,
    });
    const env = await resolveEnvironment(snapshot, 'payment/overlays/prod');
    expect(env.layout).toBe('kustomize');
    expect(env.images).toEqual([
      { name: 'registry.local:5000/acme/payment', tag: '1.4.2', digest: `sha256:${'a'.repeat(64)}` },
    ]);
    expect(env.version).toBe('1.4.2');
    expect(env.inputs).toEqual([
      'payment/base/deployment.yaml',
      'payment/base/kustomization.yaml',
      'payment/base/service.yaml',
      'payment/overlays/prod/kustomization.yaml',
    ]);
    // Name prefix, namespace and image are expected to differ, so they are not in the comparable form.
    const [comparable] = env.comparable;
    expect(comparable.id).toBe('Deployment/payment');
    expect(comparable.body).toMatchObject({ metadata: { name: 'payment' } });
    expect(JSON.stringify(env.comparable)).not.toMatch(/payment-prod|prod-payment|ghcr|registry/);
  });

  it('shows a digest-only image by its short digest', async () => {
    const snapshot = memorySnapshot({
      ...base,
      'payment/overlays/dev/kustomization.yaml': `resources: [../../base]
images:
  - name: ghcr.io/acme/payment
    digest: sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
`,
      'payment/base/deployment.yaml': deployment('ghcr.io/acme/payment'),
    });
    const env = await resolveEnvironment(snapshot, 'payment/overlays/dev');
    expect(env.version).toBe('sha256:0123456789ab');
    expect(env.images[0].tag).toBeNull();
  });

  it('reads the version from a strategic-merge patch over base, with shared components', async () => {
    const snapshot = memorySnapshot({
      ...base,
      'payment/components/observability/kustomization.yaml': `apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
patches:
  - patch: |-
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: payment
      spec:
        template:
          spec:
            containers:
              - name: otel-agent
                image: ghcr.io/acme/otel-agent:0.9.1
`,
      'payment/envs/qa/kustomization.yaml': `resources: [../../base]
components: [../../components/observability]
patchesStrategicMerge: [version.yml]
`,
      'payment/envs/qa/version.yml': `apiVersion: apps/v1
kind: Deployment
metadata:
  name: payment
spec:
  template:
    spec:
      containers:
        - name: payment
          image: ghcr.io/acme/payment:2.8.0
`,
    });
    const env = await resolveEnvironment(snapshot, 'payment/envs/qa');
    expect(env.images.map(i => `${i.name}:${i.tag}`)).toEqual([
      'ghcr.io/acme/payment:2.8.0',
      'ghcr.io/acme/otel-agent:0.9.1',
    ]);
    expect(env.version).toBe('2.8.0');
    expect(env.inputs).toContain('payment/envs/qa/version.yml');
    expect(env.inputs).toContain('payment/components/observability/kustomization.yaml');
    // The patch merged the container by name: the base's env var is still there.
    const body = env.comparable[0].body as any;
    expect(body.spec.template.spec.containers[0].env).toEqual([{ name: 'LOG_LEVEL', value: 'info' }]);
  });

  it('uses the version in base when the overlay does not set one', async () => {
    const snapshot = memorySnapshot({ ...base, 'payment/overlays/dev/kustomization.yaml': 'resources:\n- ../../base\n' });
    expect((await resolveEnvironment(snapshot, 'payment/overlays/dev')).version).toBe('1.0.0');
  });

  it('picks the image named by gitops-promotions/image among several containers', async () => {
    const snapshot = memorySnapshot({
      'orders/base/kustomization.yaml': 'resources: [deployment.yaml]\n',
      'orders/base/deployment.yaml': `apiVersion: apps/v1
kind: Deployment
metadata: { name: orders }
spec:
  template:
    spec:
      initContainers: [{ name: migrate, image: "ghcr.io/acme/orders-migrate:4.2.0" }]
      containers:
        - { name: log-shipper, image: "ghcr.io/acme/log-shipper:0.9.1" }
        - { name: orders, image: "ghcr.io/acme/orders:4.2.0" }
`,
    });
    const env = await resolveEnvironment(snapshot, 'orders/base', { image: 'ghcr.io/acme/orders' });
    expect(env.version).toBe('4.2.0');
    expect((await resolveEnvironment(snapshot, 'orders/base', { image: 'orders' })).version).toBe('4.2.0');
    expect((await resolveEnvironment(snapshot, 'orders/base')).version).toBe('4.2.0');
    await expect(resolveEnvironment(snapshot, 'orders/base', { image: 'ghcr.io/acme/billing' })).rejects.toThrow(
      'no container runs the image "ghcr.io/acme/billing" (found: ghcr.io/acme/orders-migrate, ghcr.io/acme/log-shipper, ghcr.io/acme/orders)',
    );
  });

  it('applies JSON 6902 patches, replicas and generators', async () => {
    const snapshot = memorySnapshot({
      ...base,
      'payment/overlays/prod/app.env': 'CACHE_SIZE=1024kb\n# comment\n',
      'payment/overlays/prod/kustomization.yaml': `resources: [../../base]
replicas: [{ name: payment, count: 6 }]
configMapGenerator:
  - name: payment-config
    literals: [MODE=live]
    envs: [app.env]
patches:
  - target: { kind: Deployment, name: pay.* }
    patch: |-
      - op: replace
        path: /spec/template/spec/containers/0/env/0/value
        value: warn
      - op: add
        path: /spec/template/spec/containers/0/env/-
        value: { name: REGION, value: eu }
`,
    });
    const env = await resolveEnvironment(snapshot, 'payment/overlays/prod');
    const deploymentBody = env.comparable.find(c => c.id === 'Deployment/payment')!.body as any;
    expect(deploymentBody.spec.replicas).toBe(6);
    expect(deploymentBody.spec.template.spec.containers[0].env).toEqual([
      { name: 'LOG_LEVEL', value: 'warn' },
      { name: 'REGION', value: 'eu' },
    ]);
    expect(env.comparable.find(c => c.id === 'ConfigMap/payment-config')!.body).toMatchObject({
      data: { MODE: 'live', CACHE_SIZE: '1024kb' },
    });
    expect(env.inputs).toContain('payment/overlays/prod/app.env');
  });

  it('never shows secret values in the comparable form', async () => {
    const snapshot = memorySnapshot({
      'svc/kustomization.yaml': 'secretGenerator:\n  - name: db\n    literals: [PASSWORD=hunter2]\n',
    });
    const env = await resolveEnvironment(snapshot, 'svc');
    expect(JSON.stringify(env.comparable)).not.toContain('hunter2');
  });

  it('skips remote resources with a warning', async () => {
    const snapshot = memorySnapshot({
      ...base,
      'payment/overlays/dev/kustomization.yaml':
        'resources:\n  - ../../base\n  - https://github.com/acme/shared//monitoring?ref=v1\n',
    });
    const env = await resolveEnvironment(snapshot, 'payment/overlays/dev');
    expect(env.version).toBe('1.0.0');
    expect(env.warnings).toEqual([
      'payment/overlays/dev/kustomization.yaml: remote resource "https://github.com/acme/shared//monitoring?ref=v1" was not read',
    ]);
  });
});

describe('resolveEnvironment: Helm values', () => {
  const chart = {
    'charts/catalog-api/values.yaml': `image:
  repository: ghcr.io/acme/catalog-api
  tag: "3.0.0"
replicaCount: 1
resources:
  limits: { memory: 256Mi }
`,
    'charts/catalog-api/values-prod.yaml': 'image:\n  tag: "3.1.0"\nreplicaCount: 4\n',
    'charts/catalog-api/values-custom.yaml': 'app:\n  image:\n    registry: ghcr.io\n    repository: acme/catalog-api\n    release: "3.2.0"\n',
  };

  it('merges the environment file over values.yaml and reads image.tag', async () => {
    const env = await resolveEnvironment(memorySnapshot(chart), 'charts/catalog-api/values-prod.yaml');
    expect(env).toMatchObject({
      layout: 'helm',
      version: '3.1.0',
      images: [{ name: 'ghcr.io/acme/catalog-api', tag: '3.1.0', digest: null }],
      inputs: ['charts/catalog-api/values.yaml', 'charts/catalog-api/values-prod.yaml'],
    });
    expect(env.comparable).toEqual([
      {
        id: 'HelmValues/values',
        body: { image: { repository: 'ghcr.io/acme/catalog-api' }, replicaCount: 4, resources: { limits: { memory: '256Mi' } } },
      },
    ]);
  });

  it('reads a configured version key', async () => {
    const env = await resolveEnvironment(memorySnapshot(chart), 'charts/catalog-api/values-custom.yaml', {
      versionKey: 'app.image.release',
    });
    expect(env.version).toBe('3.2.0');
    expect(env.images[0].name).toBe('ghcr.io/acme/catalog-api');
  });
});

describe('resolveEnvironment: bad input gets a clear error naming the file', () => {
  const cases: Array<[string, Record<string, string>, string, string]> = [
    ['a missing overlay', base, 'payment/overlays/qa', 'payment/overlays/qa: no kustomization.yaml in "payment/overlays/qa"'],
    ['a missing values file', {}, 'charts/x/values-dev.yaml', 'charts/x/values-dev.yaml: values file not found'],
    [
      'malformed YAML',
      { 'svc/kustomization.yaml': 'resources: [a\n  b: : :\n' },
      'svc',
      'svc/kustomization.yaml: invalid YAML at line',
    ],
    [
      'a resource outside the repository',
      { 'svc/kustomization.yaml': 'resources: [../../../etc/passwd]\n' },
      'svc',
      'svc/kustomization.yaml: "../../../etc/passwd" is outside the repository',
    ],
    [
      'an absolute path',
      { 'svc/kustomization.yaml': 'resources: [/etc/passwd]\n' },
      'svc',
      'is an absolute path',
    ],
    [
      'a cycle',
      { 'a/kustomization.yaml': 'resources: [../b]\n', 'b/kustomization.yaml': 'resources: [../a]\n' },
      'a',
      'kustomizations refer to each other in a cycle: a -> b -> a',
    ],
    [
      'an alias bomb',
      {
        'svc/kustomization.yaml': `a: &a [x, x, x, x, x, x, x, x, x, x]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
e: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
`,
      },
      'svc',
      'svc/kustomization.yaml: YAML rejected',
    ],
    [
      'an oversized file',
      { 'svc/kustomization.yaml': `resources: []\n#${'x'.repeat(1024 * 1024)}\n` },
      'svc',
      'more than the 1048576 allowed',
    ],
    [
      'an unknown JSON patch operation',
      {
        ...base,
        'payment/overlays/dev/kustomization.yaml':
          'resources: [../../base]\npatches:\n  - target: { kind: Deployment }\n    patch: "[{op: frobnicate, path: /spec}]"\n',
      },
      'payment/overlays/dev',
      'unknown JSON patch operation "frobnicate"',
    ],
    [
      'a document that is not a Kubernetes object',
      { 'svc/kustomization.yaml': 'resources: [x.yaml]\n', 'svc/x.yaml': 'just: data\n' },
      'svc',
      'svc/x.yaml: every document must be a Kubernetes object with kind and metadata.name',
    ],
  ];
  it.each(cases)('%s', async (_name, files, path, message) => {
    await expect(resolveEnvironment(memorySnapshot(files), path)).rejects.toThrow(message);
  });
});
