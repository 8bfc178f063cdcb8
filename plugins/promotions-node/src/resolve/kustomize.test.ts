import { resolveEnvironment } from '.';
import { memorySnapshot } from '../testing/memorySnapshot';

const deployment = (image: string, name = 'payment') => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: 1
  template:
    spec:
      containers:
        - name: ${name}
          image: ${image}
          env:
            - name: LOG_LEVEL
              value: info
`;

const base = {
  'payment/base/deployment.yaml': deployment('ghcr.io/acme/payment:1.0.0'),
  'payment/base/service.yaml':
    'apiVersion: v1\nkind: Service\nmetadata:\n  name: payment\nspec:\n  ports: [{ port: 80 }]\n',
  'payment/base/kustomization.yaml':
    'resources:\n  - deployment.yaml\n  - service.yaml\n',
};
const digest = `sha256:0123456789abcdef${'a'.repeat(48)}`;

const resolve = (files: Record<string, string>, path: string, options = {}) =>
  resolveEnvironment(memorySnapshot(files), path, options);
const bodyOf = (
  env: { comparable: Array<{ id: string; body: unknown }> },
  id: string,
) => env.comparable.find(c => c.id === id)?.body as any;

describe('resolveEnvironment: Kustomize images transformer', () => {
  it('applies newName, newTag and digest, keeping the tag beside the digest', async () => {
    const env = await resolve(
      {
        ...base,
        'payment/overlays/prod/kustomization.yaml': `resources: [../../base]
images:
  - name: ghcr.io/acme/payment
    newName: registry.local:5000/acme/payment
    newTag: "1.4.2"
    digest: ${digest}
`,
      },
      'payment/overlays/prod',
    );
    expect(env.layout).toBe('kustomize');
    expect(env.images).toEqual([
      { name: 'registry.local:5000/acme/payment', tag: '1.4.2', digest },
    ]);
    expect(env.version).toBe('1.4.2');
    expect(env.inputs).toEqual([
      'payment/base/deployment.yaml',
      'payment/base/kustomization.yaml',
      'payment/base/service.yaml',
      'payment/overlays/prod/kustomization.yaml',
    ]);
  });

  it('pins by digest alone when only a digest is set, as kustomize does, and shows the short digest', async () => {
    const overlay = `resources: [../../base]\nimages:\n  - name: ghcr.io/acme/payment\n    digest: ${digest}\n`;
    // The base's tag no longer says what runs: kustomize renders name@digest.
    const pinned = await resolve(
      { ...base, 'payment/overlays/dev/kustomization.yaml': overlay },
      'payment/overlays/dev',
    );
    expect(pinned.images).toEqual([
      { name: 'ghcr.io/acme/payment', tag: null, digest },
    ]);
    expect(pinned.version).toBe('sha256:0123456789ab');

    const withTag = await resolve(
      {
        ...base,
        'payment/overlays/dev/kustomization.yaml': `${overlay}    newTag: "1.4.2"\n`,
      },
      'payment/overlays/dev',
    );
    expect(withTag.images).toEqual([
      { name: 'ghcr.io/acme/payment', tag: '1.4.2', digest },
    ]);
    expect(withTag.version).toBe('1.4.2');
  });

  it('replaces a pinned digest when a new tag is set, and refuses an unquoted numeric tag as kustomize does', async () => {
    const files = {
      ...base,
      'payment/base/deployment.yaml': deployment(
        `ghcr.io/acme/payment:1.0.0@${digest}`,
      ),
      'payment/overlays/dev/kustomization.yaml':
        'resources: [../../base]\nimages:\n  - name: ghcr.io/acme/payment\n    newTag: "1.20"\n',
    };
    const env = await resolve(files, 'payment/overlays/dev');
    expect(env.images).toEqual([
      { name: 'ghcr.io/acme/payment', tag: '1.20', digest: null },
    ]);
    // kustomize decodes `newTag: 1.20` as a number and fails the build; so does the resolver.
    await expect(
      resolve(
        {
          ...files,
          'payment/overlays/dev/kustomization.yaml':
            'resources: [../../base]\nimages:\n  - name: ghcr.io/acme/payment\n    newTag: 1.20\n',
        },
        'payment/overlays/dev',
      ),
    ).rejects.toThrow('"images[0].newTag" must be a string, not a number');
  });

  it('matches images by their whole name, registry port included', async () => {
    const env = await resolve(
      {
        ...base,
        'payment/base/deployment.yaml': deployment(
          'registry.local:5000/team/payment:1.2',
        ),
        'payment/overlays/dev/kustomization.yaml': `resources: [../../base]
images:
  - { name: payment, newTag: "9.9" }
  - { name: registry.local:5000/team/payment, newTag: "1.3" }
`,
      },
      'payment/overlays/dev',
    );
    expect(env.images).toEqual([
      { name: 'registry.local:5000/team/payment', tag: '1.3', digest: null },
    ]);
    expect(env.version).toBe('1.3');
  });

  it('applies the overlay transformer over what its base already transformed', async () => {
    const env = await resolve(
      {
        ...base,
        'payment/base/kustomization.yaml':
          'resources: [deployment.yaml]\nimages: [{ name: ghcr.io/acme/payment, newTag: "1.1.0" }]\n',
        'payment/overlays/prod/kustomization.yaml':
          'resources: [../../base]\nimages: [{ name: ghcr.io/acme/payment, newTag: "1.2.0" }]\n',
      },
      'payment/overlays/prod',
    );
    expect(env.version).toBe('1.2.0');
  });
});

describe('resolveEnvironment: Kustomize resources, components and patches', () => {
  it('uses the version in base when the overlay does not set one', async () => {
    const env = await resolve(
      {
        ...base,
        'payment/overlays/dev/kustomization.yaml': 'resources:\n- ../../base\n',
      },
      'payment/overlays/dev',
    );
    expect(env.version).toBe('1.0.0');
  });

  it('builds resource directories recursively and reads multi-document files and Lists', async () => {
    const env = await resolve(
      {
        'shop/base/kustomization.yaml': 'resources: [workers, web.yaml]\n',
        'shop/base/web.yaml': `${deployment(
          'ghcr.io/acme/web:2.0.0',
          'web',
        )}---\n---\n${deployment('ghcr.io/acme/api:2.1.0', 'api')}`,
        'shop/base/workers/kustomization.yaml': 'resources: [list.yaml]\n',
        'shop/base/workers/list.yaml': `apiVersion: v1
kind: List
items:
  - apiVersion: batch/v1
    kind: CronJob
    metadata: { name: nightly }
    spec:
      jobTemplate:
        spec:
          template:
            spec:
              containers: [{ name: job, image: "ghcr.io/acme/nightly:0.3.0" }]
`,
        'shop/overlays/prod/kustomization.yml': 'resources: [../../base]\n',
      },
      'shop/overlays/prod',
    );
    expect(env.images.map(i => `${i.name}:${i.tag}`)).toEqual([
      'ghcr.io/acme/nightly:0.3.0',
      'ghcr.io/acme/web:2.0.0',
      'ghcr.io/acme/api:2.1.0',
    ]);
    expect(env.inputs).toContain('shop/base/workers/kustomization.yaml');
  });

  it('reads the version from a strategic-merge patch file, merging the container by name', async () => {
    const env = await resolve(
      {
        ...base,
        'payment/envs/qa/kustomization.yaml':
          'resources: [../../base]\npatchesStrategicMerge: [version.yml]\n',
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
      },
      'payment/envs/qa',
    );
    expect(env.version).toBe('2.8.0');
    expect(env.inputs).toContain('payment/envs/qa/version.yml');
    expect(
      bodyOf(env, 'Deployment/payment').spec.template.spec.containers[0].env,
    ).toEqual([{ name: 'LOG_LEVEL', value: 'info' }]);
  });

  it('applies a component shared by several environments over what each has accumulated', async () => {
    const files = {
      ...base,
      'payment/components/tracing/kustomization.yaml': `apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
resources: [collector.yaml]
patches:
  - target: { kind: Deployment, name: payment }
    patch: |-
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: ignored
      spec:
        template:
          spec:
            containers:
              - name: otel-agent
                image: ghcr.io/acme/otel-agent:0.9.1
`,
      'payment/components/tracing/collector.yaml':
        'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: collector }\ndata: { endpoint: otel:4317 }\n',
      'payment/overlays/dev/kustomization.yaml': `resources: [../../base]
components: [../../components/tracing]
images: [{ name: ghcr.io/acme/payment, newTag: "2.0.0" }]
`,
      'payment/overlays/prod/kustomization.yaml':
        'resources: [../../base]\ncomponents: [../../components/tracing]\n',
    };
    for (const [path, version] of [
      ['payment/overlays/dev', '2.0.0'],
      ['payment/overlays/prod', '1.0.0'],
    ]) {
      const env = await resolve(files, path, { image: 'ghcr.io/acme/payment' });
      // kustomize puts the containers a strategic merge patch adds before the others.
      expect(env.images.map(i => `${i.name}:${i.tag}`)).toEqual([
        'ghcr.io/acme/otel-agent:0.9.1',
        `ghcr.io/acme/payment:${version}`,
      ]);
      expect(env.version).toBe(version);
      expect(env.comparable.map(c => c.id)).toContain('ConfigMap/collector');
      expect(bodyOf(env, 'Deployment/payment').metadata.name).toBe('payment');
    }
  });

  it('applies patchesJson6902 from a file to the target it selects by version and kind', async () => {
    const env = await resolve(
      {
        ...base,
        'payment/overlays/prod/kustomization.yaml': `resources: [../../base]
patchesJson6902:
  - target: { version: v1, kind: Service, name: payment }
    path: service-patch.yaml
`,
        'payment/overlays/prod/service-patch.yaml': `- op: test
  path: /spec/ports/0/port
  value: 80
- op: add
  path: /spec/type
  value: LoadBalancer
`,
      },
      'payment/overlays/prod',
    );
    expect(bodyOf(env, 'Service/payment').spec).toEqual({
      ports: [{ port: 80 }],
      type: 'LoadBalancer',
    });
    expect(bodyOf(env, 'Deployment/payment').spec.type).toBeUndefined();
    expect(env.inputs).toContain('payment/overlays/prod/service-patch.yaml');
  });

  it('applies JSON 6902 operations, with ~1 escapes, and warns about a target that matches nothing', async () => {
    const env = await resolve(
      {
        ...base,
        'payment/overlays/prod/kustomization.yaml': `resources: [../../base]
patches:
  - target: { kind: Deployment, name: pay.* }
    patch: |-
      - op: replace
        path: /spec/template/spec/containers/0/image
        value: ghcr.io/acme/payment:3.1.0
      - op: add
        path: /spec/template/spec/containers/0/env/-
        value: { name: REGION, value: eu }
      - op: add
        path: /metadata/annotations
        value: { example.com/team: payments }
      - op: replace
        path: /metadata/annotations/example.com~1team
        value: payments-team
  - target: { kind: Deployment, name: pay }
    patch: '[{ "op": "remove", "path": "/spec" }]'
`,
      },
      'payment/overlays/prod',
    );
    expect(env.version).toBe('3.1.0');
    const body = bodyOf(env, 'Deployment/payment');
    expect(body.spec.template.spec.containers[0].env).toEqual([
      { name: 'LOG_LEVEL', value: 'info' },
      { name: 'REGION', value: 'eu' },
    ]);
    expect(body.metadata.annotations).toEqual({
      'example.com/team': 'payments-team',
    });
    expect(env.warnings).toEqual([
      'payment/overlays/prod/kustomization.yaml: patch target (kind=Deployment, name=pay) matches no resource',
    ]);
  });

  it('selects patch targets by label selector and removes objects patched with $patch: delete', async () => {
    const env = await resolve(
      {
        ...base,
        'payment/base/worker.yaml': deployment(
          'ghcr.io/acme/payment-worker:1.0.0',
          'worker',
        ).replace(
          'name: worker\n',
          'name: worker\n  labels: { tier: background }\n',
        ),
        'payment/base/kustomization.yaml':
          'resources: [deployment.yaml, service.yaml, worker.yaml]\n',
        'payment/overlays/dev/kustomization.yaml': `resources: [../../base]
patches:
  - target: { kind: Deployment, labelSelector: "tier=background" }
    patch: |-
      kind: Deployment
      metadata: { name: any }
      spec: { replicas: 0 }
  - patch: |-
      apiVersion: v1
      kind: Service
      metadata: { name: payment }
      $patch: delete
`,
      },
      'payment/overlays/dev',
    );
    expect(bodyOf(env, 'Deployment/worker').spec.replicas).toBe(0);
    expect(bodyOf(env, 'Deployment/payment').spec.replicas).toBe(1);
    expect(env.comparable.map(c => c.id)).toEqual([
      'Deployment/payment',
      'Deployment/worker',
    ]);
  });

  it('matches patches by prefixed and original names, and keeps original names in the comparable form', async () => {
    const env = await resolve(
      {
        ...base,
        'payment/overlays/staging-base/kustomization.yaml':
          'resources: [../../base]\nnamePrefix: staging-\nnameSuffix: -v2\n',
        'payment/overlays/staging/kustomization.yaml': `resources: [../staging-base]
namespace: payment-staging
patches:
  - patch: |-
      apiVersion: apps/v1
      kind: Deployment
      metadata: { name: staging-payment-v2 }
      spec: { replicas: 3 }
  - target: { kind: Service, name: payment }
    patch: '[{ "op": "add", "path": "/spec/type", "value": "NodePort" }]'
`,
      },
      'payment/overlays/staging',
    );
    expect(env.warnings).toEqual([]);
    expect(env.comparable.map(c => c.id)).toEqual([
      'Deployment/payment',
      'Service/payment',
    ]);
    const deploymentBody = bodyOf(env, 'Deployment/payment');
    expect(deploymentBody.spec.replicas).toBe(3);
    expect(deploymentBody.metadata).toEqual({ name: 'payment' });
    expect(bodyOf(env, 'Service/payment').spec.type).toBe('NodePort');
    expect(JSON.stringify(env.comparable)).not.toMatch(/staging|ghcr/);
  });

  it('sets labels, annotations and replicas, leaving kinds without replicas alone', async () => {
    const env = await resolve(
      {
        ...base,
        'payment/overlays/prod/kustomization.yaml': `resources: [../../base]
namespace: payment-prod
namePrefix: prod-
commonLabels: { env: prod, release: "1.10" }
labels: [{ pairs: { team: payments } }]
commonAnnotations: { owner: payments }
replicas: [{ name: payment, count: 6 }]
`,
      },
      'payment/overlays/prod',
    );
    const deploymentBody = bodyOf(env, 'Deployment/payment');
    expect(deploymentBody.metadata).toEqual({
      name: 'payment',
      labels: { env: 'prod', release: '1.10', team: 'payments' },
      annotations: { owner: 'payments' },
    });
    expect(deploymentBody.spec.replicas).toBe(6);
    expect(bodyOf(env, 'Service/payment').spec.replicas).toBeUndefined();
  });

  it('generates ConfigMaps and Secrets without hashed names, merging and replacing those of base', async () => {
    const env = await resolve(
      {
        ...base,
        'payment/base/kustomization.yaml': `resources: [deployment.yaml]
configMapGenerator:
  - { name: payment-config, literals: [MODE=test, LIMIT=5] }
  - { name: payment-flags, literals: [BETA=on] }
`,
        'payment/overlays/prod/app.env': 'CACHE_SIZE=1024kb\n# comment\n',
        'payment/overlays/prod/banner.txt': 'Welcome',
        'payment/overlays/prod/kustomization.yaml': `resources: [../../base]
configMapGenerator:
  - name: payment-config
    behavior: merge
    literals: [MODE=live]
    envs: [app.env]
    files: [banner.txt]
  - { name: payment-flags, behavior: replace, literals: [BETA=off] }
secretGenerator:
  - { name: db, literals: [PASSWORD=hunter2] }
`,
      },
      'payment/overlays/prod',
    );
    expect(bodyOf(env, 'ConfigMap/payment-config').data).toEqual({
      MODE: 'live',
      LIMIT: '5',
      CACHE_SIZE: '1024kb',
      'banner.txt': 'Welcome',
    });
    expect(bodyOf(env, 'ConfigMap/payment-flags').data).toEqual({
      BETA: 'off',
    });
    expect(env.inputs).toEqual(
      expect.arrayContaining([
        'payment/overlays/prod/app.env',
        'payment/overlays/prod/banner.txt',
      ]),
    );
    // Rendered as kustomize renders it; the backend hides secret values before storing them.
    expect(JSON.stringify(env.comparable)).toContain(
      '"data":{"PASSWORD":"aHVudGVyMg=="}',
    );
  });

  it('finds containers and init containers of every workload kind, containers first, deduplicated', async () => {
    const template = (name: string) => `template:
      spec:
        initContainers: [{ name: init, image: "busybox:1.36" }]
        containers: [{ name: ${name}, image: "ghcr.io/acme/${name}:1.0" }]`;
    const workload = (kind: string, apiVersion: string, name: string) =>
      `apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata: { name: ${name} }\nspec:\n    ${template(
        name,
      )}\n---\n`;
    const env = await resolve(
      {
        'all/kustomization.yaml': 'resources: [workloads.yaml]\n',
        'all/workloads.yaml': [
          'apiVersion: v1\nkind: Pod\nmetadata: { name: pod }\nspec:\n  containers: [{ name: pod, image: "ghcr.io/acme/pod:1.0" }]\n---\n',
          workload('StatefulSet', 'apps/v1', 'statefulset'),
          workload('DaemonSet', 'apps/v1', 'daemonset'),
          workload('ReplicaSet', 'apps/v1', 'replicaset'),
          workload('ReplicationController', 'v1', 'rc'),
          workload('Job', 'batch/v1', 'job'),
          workload('Rollout', 'argoproj.io/v1alpha1', 'rollout'),
        ].join(''),
      },
      'all',
    );
    expect(env.images.map(i => `${i.name}:${i.tag}`)).toEqual([
      'ghcr.io/acme/pod:1.0',
      'ghcr.io/acme/statefulset:1.0',
      'busybox:1.36',
      'ghcr.io/acme/daemonset:1.0',
      'ghcr.io/acme/replicaset:1.0',
      'ghcr.io/acme/rc:1.0',
      'ghcr.io/acme/job:1.0',
      'ghcr.io/acme/rollout:1.0',
    ]);
    expect(
      env.comparable.every(c => !JSON.stringify(c.body).includes('image')),
    ).toBe(true);
  });

  it('replaces the lists of an Argo Rollout a strategic merge patch changes, as kustomize does, and says so', async () => {
    const env = await resolve(
      {
        'web/rollout.yaml': `apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: { name: web }
spec:
  template:
    spec:
      containers:
        - { name: web, image: "ghcr.io/acme/web:1.0.0", env: [{ name: MODE, value: canary }] }
        - { name: proxy, image: "envoyproxy/envoy:v1.30.0" }
`,
        'web/version.yml':
          'apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: { name: web }\nspec:\n  template:\n    spec:\n      containers: [{ name: web, image: "ghcr.io/acme/web:1.2.0" }]\n',
        'web/kustomization.yaml':
          'resources: [rollout.yaml]\npatches: [{ path: version.yml }]\n',
      },
      'web',
    );
    // kustomize has no schema for a Rollout: the patch's containers are all it deploys.
    expect(env.images.map(i => `${i.name}:${i.tag}`)).toEqual([
      'ghcr.io/acme/web:1.2.0',
    ]);
    expect(env.warnings).toEqual([
      'web/version.yml: Rollout web is a type kustomize has no schema for; the patch replaces its lists instead of merging them',
    ]);
  });

  it('picks the image named by gitops-promotions/image among several containers', async () => {
    const files = {
      'orders/base/kustomization.yaml': 'resources: [deployment.yaml]\n',
      'orders/base/deployment.yaml': `apiVersion: apps/v1
kind: Deployment
metadata: { name: orders }
spec:
  template:
    spec:
      initContainers: [{ name: migrate, image: "ghcr.io/acme/orders-migrate:4.1.9" }]
      containers:
        - { name: log-shipper, image: "ghcr.io/acme/log-shipper:0.9.1" }
        - { name: orders, image: "ghcr.io/acme/orders:4.2.0" }
`,
    };
    expect((await resolve(files, 'orders/base')).version).toBe('0.9.1');
    expect(
      (await resolve(files, 'orders/base', { image: 'ghcr.io/acme/orders' }))
        .version,
    ).toBe('4.2.0');
    expect(
      (await resolve(files, 'orders/base', { image: 'orders' })).version,
    ).toBe('4.2.0');
    expect(
      (await resolve(files, 'orders/base', { image: 'orders-migrate' }))
        .version,
    ).toBe('4.1.9');
    await expect(
      resolve(files, 'orders/base', { image: 'ghcr.io/acme/billing' }),
    ).rejects.toThrow(
      'orders/base: no container runs the image "ghcr.io/acme/billing" (found: ghcr.io/acme/log-shipper, ghcr.io/acme/orders, ghcr.io/acme/orders-migrate)',
    );
  });

  it('has no version when nothing runs a container', async () => {
    const env = await resolve(
      {
        'cfg/kustomization.yaml':
          'configMapGenerator: [{ name: settings, literals: [A=1] }]\n',
      },
      'cfg',
    );
    expect(env).toMatchObject({ version: null, images: [] });
  });

  it('reads YAML merge keys as Kubernetes does', async () => {
    const env = await resolve(
      {
        'svc/kustomization.yaml': 'resources: [deployment.yaml]\n',
        'svc/deployment.yaml': `apiVersion: apps/v1
kind: Deployment
metadata: { name: svc }
spec:
  template:
    spec:
      containers:
        - &app { name: svc, image: "ghcr.io/acme/svc:5.0.0" }
        - <<: *app
          name: svc-canary
          image: "ghcr.io/acme/svc:5.1.0"
`,
      },
      'svc',
    );
    expect(env.images.map(i => i.tag)).toEqual(['5.0.0', '5.1.0']);
  });

  it('skips remote resources and unsupported generators with a warning', async () => {
    const env = await resolve(
      {
        ...base,
        'payment/overlays/dev/kustomization.yaml': `resources:
  - ../../base
  - https://github.com/acme/shared//monitoring?ref=v1
  - github.com/acme/shared/alerts?ref=v2
helmCharts: [{ name: redis }]
`,
      },
      'payment/overlays/dev',
    );
    expect(env.version).toBe('1.0.0');
    expect(env.warnings).toEqual([
      'payment/overlays/dev/kustomization.yaml: not read: helmCharts',
      'payment/overlays/dev/kustomization.yaml: not read: remote resource "https://github.com/acme/shared//monitoring?ref=v1"',
      'payment/overlays/dev/kustomization.yaml: not read: remote resource "github.com/acme/shared/alerts?ref=v2"',
    ]);
  });
});
