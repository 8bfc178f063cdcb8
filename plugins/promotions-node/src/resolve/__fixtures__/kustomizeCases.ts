/**
 * Small repositories, one or a few per kustomize field the resolver reads, each built by both
 * kustomize and the resolver in `kustomizeJudge.test.ts`.
 */
export interface KustomizeCase {
  name: string;
  files: Record<string, string>;
  /** Directories to build. */
  environments: string[];
  /** Pairs of environments whose differences are compared. */
  pairs?: Array<[string, string]>;
  /**
   * Fields the resolver does not apply: it must report each as `not read`, and answer as
   * kustomize renders the case without them (`readAs`), never failing the environment.
   */
  notRead?: string[];
  /** Files kustomize builds in place of the case's own: its kustomizations without `notRead`. */
  readAs?: Record<string, string>;
  /** kustomize refuses every environment of the case; the resolver must fail them too. */
  fails?: true;
}

const digest = `sha256:${'0123456789abcdef'.repeat(4)}`;
const otherDigest = `sha256:${'fedcba9876543210'.repeat(4)}`;

/** A Deployment with labels, a selector, a port, an env var and a volume mount. */
const deployment = (
  name: string,
  image = `ghcr.io/acme/${name}:1.0.0`,
) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  labels: { app: ${name} }
spec:
  replicas: 1
  selector:
    matchLabels: { app: ${name} }
  template:
    metadata:
      labels: { app: ${name} }
    spec:
      containers:
        - name: ${name}
          image: ${image}
          ports: [{ containerPort: 8080, name: http }]
          env:
            - { name: LOG_LEVEL, value: info }
          volumeMounts: [{ mountPath: /data, name: data }]
      volumes: [{ name: data, emptyDir: {} }]
      imagePullSecrets: [{ name: registry }]
      topologySpreadConstraints:
        - { topologyKey: zone, maxSkew: 2, whenUnsatisfiable: ScheduleAnyway }
`;

const service = (name: string) => `apiVersion: v1
kind: Service
metadata:
  name: ${name}
  labels: { app: ${name} }
spec:
  selector: { app: ${name} }
  ports: [{ port: 80, targetPort: http }]
`;

/** A base of one Deployment and its Service, and overlays with the given kustomizations. */
function withBase(
  overlays: Record<string, string>,
  image = 'ghcr.io/acme/app:1.0.0',
  extra: Record<string, string> = {},
): Pick<KustomizeCase, 'files' | 'environments' | 'pairs'> {
  const files: Record<string, string> = {
    'app/base/deployment.yaml': deployment('app', image),
    'app/base/service.yaml': service('app'),
    'app/base/kustomization.yaml':
      'resources: [deployment.yaml, service.yaml]\n',
    ...extra,
  };
  const environments = Object.keys(overlays).map(env => `app/overlays/${env}`);
  for (const [env, kustomization] of Object.entries(overlays))
    files[`app/overlays/${env}/kustomization.yaml`] = kustomization;
  const pairs = environments
    .slice(1)
    .map(env => [environments[0], env] as [string, string]);
  return { files, environments, pairs };
}

const workload = (kind: string, apiVersion: string, name: string) => {
  const pod = `containers: [{ name: ${name}, image: "ghcr.io/acme/app:1.0.0" }]
      initContainers: [{ name: init, image: "busybox:1.36" }]`;
  if (kind === 'Pod') {
    return `apiVersion: v1\nkind: Pod\nmetadata: { name: ${name} }\nspec:\n  containers: [{ name: ${name}, image: "ghcr.io/acme/app:1.0.0" }]\n  initContainers: [{ name: init, image: "busybox:1.36" }]\n`;
  }
  if (kind === 'CronJob') {
    return `apiVersion: ${apiVersion}\nkind: CronJob\nmetadata: { name: ${name} }\nspec:\n  schedule: "0 * * * *"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers: [{ name: ${name}, image: "ghcr.io/acme/app:1.0.0" }]\n          initContainers: [{ name: init, image: "busybox:1.36" }]\n`;
  }
  return `apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata: { name: ${name} }\nspec:\n  template:\n    spec:\n      ${pod}\n`;
};

const ALL_WORKLOADS = [
  workload('Deployment', 'apps/v1', 'deployment'),
  workload('StatefulSet', 'apps/v1', 'statefulset'),
  workload('DaemonSet', 'apps/v1', 'daemonset'),
  workload('ReplicaSet', 'apps/v1', 'replicaset'),
  workload('Job', 'batch/v1', 'job'),
  workload('CronJob', 'batch/v1', 'cronjob'),
  workload('Pod', 'v1', 'pod'),
  workload('Rollout', 'argoproj.io/v1alpha1', 'rollout'),
].join('---\n');

const rollout = `apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: { name: web }
spec:
  replicas: 2
  strategy: { canary: { steps: [{ setWeight: 20 }] } }
  template:
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:1.0.0
          ports: [{ containerPort: 8080 }]
          env: [{ name: MODE, value: canary }]
        - { name: proxy, image: "envoyproxy/envoy:v1.30.0" }
`;

const IMAGE_CASES: KustomizeCase[] = [
  {
    name: 'images: newName only',
    ...withBase({
      dev: 'resources: [../../base]\nimages: [{ name: ghcr.io/acme/app, newName: registry.acme.io/app }]\n',
    }),
  },
  {
    name: 'images: newTag only, dev and prod',
    ...withBase({
      dev: 'resources: [../../base]\nimages: [{ name: ghcr.io/acme/app, newTag: "1.1.0" }]\n',
      prod: 'resources: [../../base]\nimages: [{ name: ghcr.io/acme/app, newTag: "1.0.1" }]\n',
    }),
  },
  {
    name: 'images: digest only replaces the tag',
    ...withBase({
      prod: `resources: [../../base]\nimages: [{ name: ghcr.io/acme/app, digest: "${digest}" }]\n`,
    }),
  },
  {
    name: 'images: newTag and digest, over a pinned image',
    ...withBase(
      {
        prod: `resources: [../../base]\nimages: [{ name: ghcr.io/acme/app, newTag: "1.4.2", digest: "${digest}" }]\n`,
        dev: 'resources: [../../base]\nimages: [{ name: ghcr.io/acme/app, newTag: "1.5.0" }]\n',
      },
      `ghcr.io/acme/app:1.0.0@${otherDigest}`,
    ),
  },
  {
    name: 'images: newName, newTag and digest together',
    ...withBase({
      prod: `resources: [../../base]\nimages:\n  - name: ghcr.io/acme/app\n    newName: registry.local:5000/acme/app\n    newTag: "2.0.0"\n    digest: "${digest}"\n`,
    }),
  },
  {
    name: 'images: a name with a registry port',
    ...withBase(
      {
        dev: 'resources: [../../base]\nimages:\n  - { name: app, newTag: "9.9" }\n  - { name: registry.local:5000/team/app, newTag: "1.3" }\n',
      },
      'registry.local:5000/team/app:1.2',
    ),
  },
  {
    name: 'images: an image without a tag, tagged by one overlay and left alone by another',
    ...withBase(
      {
        dev: 'resources: [../../base]\nimages: [{ name: nginx, newTag: "1.27" }]\n',
        prod: 'resources: [../../base]\nimages: [{ name: ghcr.io/acme/other, newTag: "2" }]\n',
      },
      'nginx',
    ),
  },
  {
    name: 'images: every workload kind, containers and init containers, an Argo Rollout included',
    files: {
      'all/workloads.yaml': ALL_WORKLOADS,
      'all/kustomization.yaml':
        'resources: [workloads.yaml]\nimages:\n  - { name: ghcr.io/acme/app, newTag: "2.0.0" }\n  - { name: busybox, newName: mirror.acme.io/busybox, newTag: "1.37" }\n',
    },
    environments: ['all'],
  },
  {
    name: 'images: tagSuffix, added twice where kustomize finds the image twice',
    files: {
      'all/workloads.yaml': ALL_WORKLOADS,
      'all/kustomization.yaml':
        'resources: [workloads.yaml]\nimages: [{ name: ghcr.io/acme/app, tagSuffix: "-debug" }]\n',
    },
    environments: ['all'],
  },
  {
    name: 'images: entries apply in order, and imageTags is read as images',
    ...withBase({
      dev: `resources: [../../base]
images:
  - { name: ghcr.io/acme/app, newName: ghcr.io/acme/app-next }
  - { name: ghcr.io/acme/app-next, newTag: "3.0.0" }
imageTags:
  - { name: ghcr.io/acme/app-next, digest: "${digest}" }
`,
    }),
  },
  {
    name: 'images: a name is a pattern for the whole name',
    ...withBase({
      dev: 'resources: [../../base]\nimages: [{ name: "ghcr.io/acme/(app|web)", newTag: "4.0.0" }]\n',
      prod: 'resources: [../../base]\nimages: [{ name: "ghcr.io/acme", newTag: "4.0.0" }]\n',
    }),
  },
  {
    name: 'images: container lists at any depth of a custom resource, none in a CRD',
    files: {
      'env/kustomization.yaml':
        'resources: [custom.yaml]\nimages: [{ name: ghcr.io/acme/app, newTag: "5.0.0" }]\n',
      'env/custom.yaml': `apiVersion: batch.acme.io/v1
kind: Pipeline
metadata: { name: build }
spec:
  stages:
    - name: test
      template:
        spec:
          containers: [{ name: test, image: "ghcr.io/acme/app:1.0.0" }]
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: { name: pipelines.batch.acme.io }
spec:
  group: batch.acme.io
  names: { kind: Pipeline, plural: pipelines }
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          x-example:
            containers: [{ name: example, image: "ghcr.io/acme/app:1.0.0" }]
`,
    },
    environments: ['env'],
  },
  {
    name: 'images: an unquoted numeric tag fails both',
    fails: true,
    ...withBase({
      dev: 'resources: [../../base]\nimages: [{ name: ghcr.io/acme/app, newTag: 1.20 }]\n',
    }),
  },
];

const NAME_CASES: KustomizeCase[] = [
  {
    name: 'namePrefix and nameSuffix: patch targets and replicas by original and prefixed names',
    ...withBase({
      'staging-base':
        'resources: [../../base]\nnamePrefix: staging-\nnameSuffix: -v2\n',
      staging: `resources: [../staging-base]
namePrefix: eu-
patches:
  - patch: |-
      apiVersion: apps/v1
      kind: Deployment
      metadata: { name: staging-app-v2 }
      spec: { minReadySeconds: 5 }
  - target: { kind: Service, name: app }
    patch: '[{"op": "add", "path": "/spec/type", "value": "NodePort"}]'
  - target: { kind: Deployment, name: "staging-.*" }
    patch: |-
      - { op: add, path: /spec/paused, value: false }
replicas:
  - { name: staging-app-v2, count: 3 }
`,
      prod: 'resources: [../../base]\nnamePrefix: prod-\nreplicas: [{ name: app, count: 5 }]\n',
    }),
  },
  {
    name: 'namePrefix leaves Namespaces, CRDs and APIServices named as they are',
    files: {
      'env/kustomization.yaml':
        'resources: [cluster.yaml]\nnamePrefix: p-\nnameSuffix: -s\n',
      'env/cluster.yaml': `apiVersion: v1
kind: Namespace
metadata: { name: team }
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: { name: widgets.acme.io }
spec: { group: acme.io, names: { kind: Widget, plural: widgets }, scope: Namespaced }
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: { name: v1.metrics.acme.io }
spec: { group: metrics.acme.io, version: v1 }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: reader }
rules: [{ apiGroups: [""], resources: [pods], verbs: [get] }]
`,
    },
    environments: ['env'],
  },
  {
    name: 'namespace: cluster-scoped kinds left alone, a Namespace renamed, default subjects moved',
    files: {
      'env/kustomization.yaml':
        'resources: [objects.yaml]\nnamespace: shop-prod\n',
      'env/objects.yaml': `apiVersion: v1
kind: Namespace
metadata: { name: shop }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: reader }
rules: [{ apiGroups: [""], resources: [pods], verbs: [get] }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: readers, namespace: old }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: reader }
subjects:
  - { kind: ServiceAccount, name: default, namespace: old }
  - { kind: User, name: ana }
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: { name: fast }
provisioner: kubernetes.io/no-provisioner
---
apiVersion: v1
kind: PersistentVolume
metadata: { name: data }
spec: { capacity: { storage: 1Gi }, accessModes: [ReadWriteOnce], hostPath: { path: /data } }
---
apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata: { name: letsencrypt }
spec: { acme: { server: "https://acme.example" } }
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: { name: v1.metrics.acme.io }
spec: { group: metrics.acme.io, version: v1, service: { name: metrics } }
---
${deployment('app')}`,
    },
    environments: ['env'],
  },
];

const TARGET_CASES: KustomizeCase[] = [
  {
    name: 'patch targets: kind and a name pattern',
    ...withBase(
      {
        dev: `resources: [../../base, ../../worker]
patches:
  - target: { kind: Deployment, name: "app|work.*" }
    patch: |-
      apiVersion: apps/v1
      kind: Deployment
      metadata: { name: any }
      spec: { revisionHistoryLimit: 3 }
  - target: { kind: "Serv.*" }
    patch: '[{"op": "add", "path": "/spec/sessionAffinity", "value": "ClientIP"}]'
`,
      },
      undefined,
      {
        'app/worker/kustomization.yaml': 'resources: [worker.yaml]\n',
        'app/worker/worker.yaml': deployment('worker'),
      },
    ),
  },
  {
    name: 'patch targets: namespace, "default" for objects without one',
    files: {
      'env/kustomization.yaml': `resources: [objects.yaml]
patches:
  - target: { namespace: default, kind: ConfigMap }
    patch: '[{"op": "add", "path": "/data/where", "value": "default"}]'
  - target: { namespace: "team-.*" }
    patch: '[{"op": "add", "path": "/metadata/labels", "value": { "team": "yes" }}]'
`,
      'env/objects.yaml': `apiVersion: v1
kind: ConfigMap
metadata: { name: a }
data: { x: "1" }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: b, namespace: team-blue }
data: { x: "2" }
`,
    },
    environments: ['env'],
  },
  {
    name: 'patch targets: label selectors, set-based too',
    ...withBase(
      {
        dev: `resources: [../../base, ../../worker]
patches:
  - target: { labelSelector: "app in (worker, batch)" }
    patch: '[{"op": "replace", "path": "/spec/replicas", "value": 0}]'
  - target: { kind: Deployment, labelSelector: "app!=worker,!tier" }
    patch: '[{"op": "add", "path": "/spec/minReadySeconds", "value": 10}]'
`,
      },
      undefined,
      {
        'app/worker/kustomization.yaml': 'resources: [worker.yaml]\n',
        'app/worker/worker.yaml': deployment('worker'),
      },
    ),
  },
  {
    name: 'patch targets: annotation selector',
    files: {
      'env/kustomization.yaml': `resources: [objects.yaml]
patches:
  - target: { annotationSelector: "acme.io/tier=gold" }
    patch: |-
      apiVersion: v1
      kind: ConfigMap
      metadata: { name: any }
      data: { sla: "99.99" }
`,
      'env/objects.yaml': `apiVersion: v1
kind: ConfigMap
metadata: { name: gold, annotations: { acme.io/tier: gold } }
data: { x: "1" }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: silver, annotations: { acme.io/tier: silver } }
data: { x: "2" }
`,
    },
    environments: ['env'],
  },
  {
    name: 'patch targets: group and version',
    files: {
      'env/kustomization.yaml': `resources: [objects.yaml]
patches:
  - target: { group: apps, version: v1, kind: Deployment }
    patch: '[{"op": "add", "path": "/spec/paused", "value": true}]'
  - target: { group: argoproj.io, version: "v1alpha.*" }
    patch: '[{"op": "replace", "path": "/spec/replicas", "value": 4}]'
`,
      'env/objects.yaml': `${deployment('app')}---\n${rollout}`,
    },
    environments: ['env'],
  },
];

const STRATEGIC_MERGE_CASES: KustomizeCase[] = [
  {
    name: 'patchesStrategicMerge: a file and inline YAML',
    ...withBase(
      {
        dev: `resources: [../../base]
patchesStrategicMerge:
  - version.yml
  - |-
    apiVersion: v1
    kind: Service
    metadata: { name: app }
    spec: { type: ClusterIP }
`,
      },
      undefined,
      {
        'app/overlays/dev/version.yml': `apiVersion: apps/v1
kind: Deployment
metadata: { name: app }
spec:
  template:
    spec:
      containers:
        - name: app
          image: ghcr.io/acme/app:2.8.0
`,
      },
    ),
  },
  {
    name: 'patchesStrategicMerge: $patch: delete of an object and of a list item',
    ...withBase({
      dev: `resources: [../../base]
patchesStrategicMerge:
  - |-
    apiVersion: v1
    kind: Service
    metadata: { name: app }
    $patch: delete
  - |-
    apiVersion: apps/v1
    kind: Deployment
    metadata: { name: app }
    spec:
      template:
        spec:
          containers:
            - name: app
              env: [{ name: LOG_LEVEL, $patch: delete }]
`,
    }),
  },
  {
    name: 'patchesStrategicMerge: $patch: replace of a map and of a list',
    ...withBase({
      dev: `resources: [../../base]
patchesStrategicMerge:
  - |-
    apiVersion: apps/v1
    kind: Deployment
    metadata: { name: app }
    spec:
      selector:
        $patch: replace
        matchLabels: { app: app, track: stable }
      template:
        spec:
          volumes:
            - $patch: replace
            - { name: cache, emptyDir: { medium: Memory } }
`,
    }),
  },
  {
    name: 'patchesStrategicMerge: lists merged by name, containerPort and mountPath, patch items first',
    ...withBase({
      dev: `resources: [../../base]
patchesStrategicMerge:
  - |-
    apiVersion: apps/v1
    kind: Deployment
    metadata: { name: app, finalizers: [acme.io/keep] }
    spec:
      template:
        spec:
          containers:
            - name: sidecar
              image: ghcr.io/acme/sidecar:0.1.0
            - name: app
              ports: [{ containerPort: 9090, name: metrics }, { containerPort: 8080, name: web }]
              env: [{ name: REGION, value: eu }, { name: LOG_LEVEL, value: debug }]
              volumeMounts: [{ mountPath: /data, readOnly: true }, { mountPath: /cache, name: cache }]
              args: [--fast]
          volumes: [{ name: cache, emptyDir: {} }]
          tolerations: [{ key: spot, operator: Exists }]
          imagePullSecrets: [{ name: mirror }]
          hostAliases: [{ ip: 10.0.0.1, hostnames: [db] }]
          topologySpreadConstraints:
            - { topologyKey: zone, maxSkew: 1, whenUnsatisfiable: DoNotSchedule }
`,
      prod: `resources: [../../base]
patchesStrategicMerge:
  - |-
    apiVersion: apps/v1
    kind: Deployment
    metadata: { name: app }
    spec:
      template:
        spec:
          containers:
            - name: app
              env: [{ name: LOG_LEVEL, value: warn }]
          imagePullSecrets: [{ name: mirror }]
          topologySpreadConstraints:
            - { topologyKey: host, maxSkew: 2, whenUnsatisfiable: ScheduleAnyway }
`,
    }),
  },
  {
    name: 'strategic merge by the schema of each place: finalizers, owners, ports by protocol, service account lists',
    files: {
      'env/kustomization.yaml': `resources: [objects.yaml]
patches:
  - patch: |-
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: app
        finalizers: [c, a]
        ownerReferences: [{ apiVersion: v1, kind: Owner, name: o2, uid: u2 }]
      spec:
        template:
          spec:
            hostAliases: [{ ip: 2.2.2.2, hostnames: [b] }]
            containers:
              - name: app
                ports: [{ containerPort: 9090 }, { containerPort: 8080, protocol: TCP, name: web }]
                volumeDevices: [{ devicePath: /dev/b, name: b }]
                envFrom: [{ configMapRef: { name: b } }]
            ephemeralContainers: [{ name: e2, image: e }]
            readinessGates: [{ conditionType: b }]
  - patch: |-
      apiVersion: v1
      kind: Service
      metadata: { name: svc }
      spec:
        ports: [{ port: 81, targetPort: 3 }, { port: 82, targetPort: 4 }]
  - patch: |-
      apiVersion: v1
      kind: ServiceAccount
      metadata: { name: sa }
      secrets: [{ name: s2 }]
      imagePullSecrets: [{ name: p2 }]
`,
      'env/objects.yaml': `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
  finalizers: [a, b]
  ownerReferences: [{ apiVersion: v1, kind: Owner, name: o1, uid: u1 }]
spec:
  template:
    spec:
      hostAliases: [{ ip: 1.1.1.1, hostnames: [a] }]
      containers:
        - name: app
          image: ghcr.io/acme/app:1.0.0
          ports: [{ containerPort: 8080, name: http }, { containerPort: 8443, protocol: TCP }]
          volumeDevices: [{ devicePath: /dev/a, name: a }]
          envFrom: [{ configMapRef: { name: a } }]
      ephemeralContainers: [{ name: e1, image: e }]
      readinessGates: [{ conditionType: a }]
---
apiVersion: v1
kind: Service
metadata: { name: svc }
spec:
  ports: [{ port: 80, protocol: TCP, targetPort: 1 }, { port: 81, targetPort: 2 }]
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: sa }
secrets: [{ name: s1 }]
imagePullSecrets: [{ name: p1 }]
`,
    },
    environments: ['env'],
  },
  {
    name: 'patches: a file of several strategic merge documents, null deleting a key, a rename allowed',
    ...withBase(
      {
        dev: `resources: [../../base]
patches:
  - path: several.yaml
  - target: { kind: Service }
    options: { allowNameChange: true }
    patch: |-
      apiVersion: v1
      kind: Service
      metadata: { name: app-internal }
      spec: { type: ClusterIP }
`,
      },
      undefined,
      {
        'app/overlays/dev/several.yaml': `apiVersion: apps/v1
kind: Deployment
metadata: { name: app, labels: { app: null } }
spec: { replicas: null, strategy: { type: Recreate } }
---
apiVersion: v1
kind: Service
metadata: { name: app }
spec:
  ports: [{ port: 80, targetPort: 9090 }, { port: 443, targetPort: https }]
`,
      },
    ),
  },
  {
    name: 'patchesStrategicMerge: a patch that names no resource fails both',
    fails: true,
    ...withBase({
      dev: `resources: [../../base]
patchesStrategicMerge:
  - |-
    apiVersion: apps/v1
    kind: Deployment
    metadata: { name: billing }
    spec: { replicas: 2 }
`,
      prod: `resources: [../../base]
patches:
  - patch: |-
      apiVersion: apps/v1beta1
      kind: Deployment
      metadata: { name: app }
      spec: { replicas: 2 }
`,
    }),
    pairs: [],
  },
  {
    name: 'strategic merge on an Argo Rollout replaces its lists, as kustomize has no schema for it',
    files: {
      'web/base/rollout.yaml': rollout,
      'web/base/kustomization.yaml': 'resources: [rollout.yaml]\n',
      'web/overlays/prod/kustomization.yaml': `resources: [../../base]
patches:
  - path: version.yml
images: [{ name: envoyproxy/envoy, newTag: v1.31.0 }]
`,
      'web/overlays/prod/version.yml': `apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: { name: web }
spec:
  template:
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:1.2.0
`,
    },
    environments: ['web/base', 'web/overlays/prod'],
    pairs: [['web/base', 'web/overlays/prod']],
  },
];

const JSON_PATCH_CASES: KustomizeCase[] = [
  {
    name: 'patchesJson6902 with a path, applied after labels',
    ...withBase(
      {
        prod: `resources: [../../base]
commonLabels: { env: prod }
patchesJson6902:
  - target: { version: v1, kind: Service, name: app }
    path: service-patch.yaml
  - target: { group: apps, version: v1, kind: Deployment, name: app }
    path: deployment-patch.json
`,
      },
      undefined,
      {
        'app/overlays/prod/service-patch.yaml': `- op: test
  path: /spec/ports/0/port
  value: 80
- op: remove
  path: /metadata/labels
- op: add
  path: /spec/type
  value: LoadBalancer
`,
        'app/overlays/prod/deployment-patch.json':
          '[{"op": "replace", "path": "/spec/template/metadata/labels", "value": {"only": "this"}}]',
      },
    ),
  },
  {
    name: 'patches with inline JSON operations: add, replace, remove, move, copy, test',
    ...withBase({
      prod: `resources: [../../base]
patches:
  - target: { kind: Deployment, name: app }
    patch: |-
      - op: test
        path: /spec/replicas
        value: 1
      - op: replace
        path: /spec/template/spec/containers/0/image
        value: ghcr.io/acme/app:3.1.0
      - op: add
        path: /spec/template/spec/containers/0/env/-
        value: { name: REGION, value: eu }
      - op: add
        path: /metadata/annotations
        value: { example.com/team: payments }
      - op: replace
        path: /metadata/annotations/example.com~1team
        value: payments-team
      - op: copy
        from: /spec/template/spec/containers/0/env/0
        path: /spec/template/spec/containers/0/env/-
      - op: move
        from: /spec/template/spec/volumes
        path: /spec/template/spec/extraVolumes
      - op: remove
        path: /spec/template/spec/containers/0/ports
`,
    }),
  },
  {
    name: 'JSON patches kustomize refuses: flow YAML starting with "[", a failing test',
    fails: true,
    ...withBase({
      dev: `resources: [../../base]
patches:
  - target: { kind: Deployment }
    patch: '[{ op: remove, path: /spec/replicas }]'
`,
      prod: `resources: [../../base]
patches:
  - target: { kind: Deployment }
    patch: '[{"op": "test", "path": "/spec/replicas", "value": 7}]'
`,
    }),
    pairs: [],
  },
];

const COMPONENT_CASES: KustomizeCase[] = [
  {
    name: 'components with their own resources, patches and images',
    ...withBase(
      {
        dev: 'resources: [../../base]\ncomponents: [../../components/tracing]\nimages: [{ name: ghcr.io/acme/app, newTag: "2.0.0" }]\n',
        prod: 'resources: [../../base]\ncomponents: [../../components/tracing, ../../components/eu]\n',
      },
      undefined,
      {
        'app/components/tracing/kustomization.yaml': `apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
resources: [collector.yaml]
patches:
  - target: { kind: Deployment, name: app }
    patch: |-
      apiVersion: apps/v1
      kind: Deployment
      metadata: { name: ignored }
      spec:
        template:
          spec:
            containers:
              - name: otel-agent
                image: ghcr.io/acme/otel-agent:0.9.1
images: [{ name: ghcr.io/acme/otel-agent, newTag: "0.9.2" }]
`,
        'app/components/tracing/collector.yaml':
          'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: collector }\ndata: { endpoint: "otel:4317" }\n',
        'app/components/eu/kustomization.yaml': `apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
patches:
  - patch: |-
      apiVersion: apps/v1
      kind: Deployment
      metadata: { name: app }
      spec:
        template:
          spec:
            nodeSelector: { topology.kubernetes.io/region: eu-west-1 }
`,
      },
    ),
  },
];

const GENERATOR_CASES: KustomizeCase[] = [
  {
    name: 'configMapGenerator: literals, files, env files, referenced by a prefixed workload',
    ...withBase(
      {
        dev: `resources: [../../base]
namePrefix: dev-
configMapGenerator:
  - name: app-config
    literals: [MODE=test, 'QUOTED="with quotes"', "EMPTY="]
    files: [banner.txt, motd=message.txt]
    envs: [app.env]
patches:
  - patch: |-
      apiVersion: apps/v1
      kind: Deployment
      metadata: { name: app }
      spec:
        template:
          spec:
            containers:
              - name: app
                envFrom: [{ configMapRef: { name: app-config } }]
            volumes:
              - name: config
                configMap: { name: app-config }
`,
      },
      undefined,
      {
        'app/overlays/dev/banner.txt': 'Welcome\n',
        'app/overlays/dev/message.txt': 'Hello',
        'app/overlays/dev/app.env':
          'CACHE_SIZE=1024kb\n# a comment\n\n  INDENTED=yes\nTRAILING=kept  \nEQUALS=a=b\n',
      },
    ),
  },
  {
    name: 'env files: a key-only line, quotes and blanks as kustomize reads them',
    files: {
      'env/kustomization.yaml':
        'configMapGenerator:\n  - name: settings\n    envs: [settings.env]\n    options: { disableNameSuffixHash: true }\n',
      'env/settings.env':
        '\uFEFFFEATURE_FROM_CI\nQUOTED="kept as written"\nSPACED = around\n   # indented comment\nLAST=1',
    },
    environments: ['env'],
  },
  {
    name: 'secretGenerator: literals, files and type',
    files: {
      'env/kustomization.yaml': `secretGenerator:
  - name: db
    literals: [PASSWORD=hunter2, USER=app]
  - name: tls
    type: kubernetes.io/tls
    files: [tls.crt, tls.key]
`,
      'env/tls.crt': 'CERTIFICATE',
      'env/tls.key': 'KEY',
    },
    environments: ['env'],
  },
  {
    name: 'generators: behavior merge and replace over a base, dev and prod',
    ...withBase(
      {
        dev: `resources: [../../base]
configMapGenerator:
  - name: app-config
    behavior: merge
    literals: [MODE=debug, EXTRA=1]
    options: { labels: { merged: "yes" } }
  - { name: app-flags, behavior: replace, literals: [BETA=on] }
secretGenerator:
  - { name: app-secret, behavior: merge, literals: [TOKEN=dev] }
`,
        prod: `resources: [../../base]
configMapGenerator:
  - { name: app-config, behavior: merge, literals: [LIMIT=50] }
  - name: app-flags
    behavior: replace
    literals: [BETA=off, GAMMA=on]
    options: { annotations: { replaced: "yes" } }
`,
      },
      undefined,
      {
        'app/base/kustomization.yaml': `resources: [deployment.yaml, service.yaml]
configMapGenerator:
  - { name: app-config, literals: [MODE=live, LIMIT=5], options: { labels: { base: "yes" } } }
  - { name: app-flags, literals: [ALPHA=on] }
secretGenerator:
  - { name: app-secret, literals: [TOKEN=base, KEY=k] }
`,
      },
    ),
  },
  {
    name: 'generators: env files with behavior merge over a base of env files, key-only lines too',
    ...withBase(
      {
        dev: 'resources: [../../base]\nconfigMapGenerator:\n  - { name: app-config, behavior: merge, envs: [dev.env] }\n',
        prod: 'resources: [../../base]\nconfigMapGenerator:\n  - { name: app-config, behavior: merge, env: prod.env, literals: [LIMIT=50] }\n',
      },
      undefined,
      {
        'app/base/kustomization.yaml':
          'resources: [deployment.yaml, service.yaml]\nconfigMapGenerator:\n  - { name: app-config, envs: [base.env, shared.env] }\n',
        'app/base/base.env': 'MODE=live\nLIMIT=5\n',
        'app/base/shared.env': 'REGION=eu\nFEATURE_FROM_CI\n',
        'app/overlays/dev/dev.env': 'MODE=debug\nEXTRA=1\nFEATURE_FROM_CI\n',
        'app/overlays/prod/prod.env': 'REGION=us\n',
      },
    ),
  },
  {
    name: 'generatorOptions: labels, annotations and immutable, under each generator own options',
    files: {
      'env/kustomization.yaml': `generatorOptions:
  labels: { generated: "yes", both: global }
  annotations: { note: generated }
  immutable: true
configMapGenerator:
  - name: settings
    literals: [A=1]
    options: { labels: { both: local, own: "1" }, disableNameSuffixHash: true }
  - name: empty
`,
    },
    environments: ['env'],
  },
  {
    name: 'generators: merging into a ConfigMap written as a resource, from a component',
    ...withBase(
      {
        dev: 'resources: [../../base, ../../config]\ncomponents: [../../components/debug]\n',
      },
      undefined,
      {
        'app/config/kustomization.yaml': 'resources: [settings.yaml]\n',
        'app/config/settings.yaml':
          'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: settings, labels: { kept: "yes" } }\ndata: { MODE: live, LIMIT: "5" }\n',
        'app/components/debug/kustomization.yaml': `apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
configMapGenerator:
  - { name: settings, behavior: merge, literals: [MODE=debug] }
`,
      },
    ),
  },
  {
    name: 'generators: a namespace of their own, and Secrets referenced from a prefixed workload',
    ...withBase({
      prod: `resources: [../../base]
namePrefix: prod-
secretGenerator:
  - { name: db, literals: [PASSWORD=hunter2] }
configMapGenerator:
  - { name: shared, namespace: platform, literals: [REGION=eu] }
patches:
  - patch: |-
      apiVersion: apps/v1
      kind: Deployment
      metadata: { name: app }
      spec:
        template:
          spec:
            containers:
              - name: app
                env:
                  - name: PASSWORD
                    valueFrom: { secretKeyRef: { name: db, key: PASSWORD } }
            volumes:
              - name: db
                secret: { secretName: db }
`,
    }),
  },
  {
    name: 'generators: a repeated key fails both',
    fails: true,
    files: {
      'env/kustomization.yaml':
        'configMapGenerator:\n  - { name: settings, literals: [A=1], envs: [a.env] }\n',
      'env/a.env': 'A=2\n',
    },
    environments: ['env'],
  },
];

const LABEL_CASES: KustomizeCase[] = [
  {
    name: 'labels with includeSelectors, dev and prod',
    ...withBase({
      dev: 'resources: [../../base]\nlabels: [{ pairs: { env: dev }, includeSelectors: true }]\n',
      prod: 'resources: [../../base]\nlabels: [{ pairs: { env: prod }, includeSelectors: true }]\n',
    }),
  },
  {
    name: 'labels without includeSelectors, with and without includeTemplates',
    files: {
      'env/kustomization.yaml': `resources: [workloads.yaml]
labels:
  - pairs: { team: payments }
  - pairs: { tier: backend }
    includeTemplates: true
  - pairs: { custom: "yes" }
    fields: [{ path: spec/template/metadata/annotations, kind: Deployment, create: true }]
`,
      'env/workloads.yaml': `${deployment('app')}---\n${ALL_WORKLOADS}`,
    },
    environments: ['env'],
  },
  {
    name: 'commonLabels on selectors, templates and every workload kind',
    files: {
      'env/kustomization.yaml': `resources: [workloads.yaml, service.yaml, policy.yaml]
commonLabels: { app.kubernetes.io/part-of: shop }
`,
      'env/workloads.yaml': ALL_WORKLOADS,
      'env/service.yaml': service('app'),
      'env/policy.yaml': `apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: app }
spec: { minAvailable: 1, selector: { matchLabels: { app: app } } }
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: app }
spec:
  podSelector: { matchLabels: { app: app } }
  ingress: [{ from: [{ podSelector: { matchLabels: { role: web } } }] }]
`,
    },
    environments: ['env'],
  },
  {
    name: 'commonLabels on affinity selectors, claim templates and a Service without a selector',
    files: {
      'env/kustomization.yaml':
        'resources: [objects.yaml]\ncommonLabels: { env: prod }\n',
      'env/objects.yaml': `apiVersion: apps/v1
kind: StatefulSet
metadata: { name: db }
spec:
  serviceName: db
  selector: { matchLabels: { app: db } }
  template:
    metadata: { labels: { app: db } }
    spec:
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            - topologyKey: kubernetes.io/hostname
              labelSelector: { matchLabels: { app: db } }
      containers: [{ name: db, image: "postgres:16" }]
  volumeClaimTemplates:
    - metadata: { name: data }
      spec: { accessModes: [ReadWriteOnce], resources: { requests: { storage: 1Gi } } }
---
apiVersion: v1
kind: Service
metadata: { name: external }
spec: { type: ExternalName, externalName: db.example.com }
`,
    },
    environments: ['env'],
  },
  {
    name: 'commonAnnotations on metadata and pod templates',
    files: {
      'env/kustomization.yaml':
        'resources: [workloads.yaml]\ncommonAnnotations: { owner: payments, oncall: "team-a" }\n',
      'env/workloads.yaml': ALL_WORKLOADS,
    },
    environments: ['env'],
  },
  {
    name: 'commonLabels with a number fails both',
    fails: true,
    ...withBase({
      dev: 'resources: [../../base]\ncommonLabels: { release: 1.10 }\n',
    }),
  },
];

const REPLICA_CASES: KustomizeCase[] = [
  {
    name: 'replicas on Deployments and StatefulSets, dev and prod',
    files: {
      'env/base/kustomization.yaml': 'resources: [workloads.yaml]\n',
      'env/base/workloads.yaml': ALL_WORKLOADS,
      'env/dev/kustomization.yaml':
        'resources: [../base]\nreplicas: [{ name: deployment, count: 1 }]\n',
      'env/prod/kustomization.yaml':
        'resources: [../base]\nnamePrefix: prod-\nreplicas:\n  - { name: deployment, count: 6 }\n  - { name: prod-statefulset, count: 3 }\n',
    },
    environments: ['env/dev', 'env/prod'],
    pairs: [['env/dev', 'env/prod']],
  },
  {
    name: 'replicas naming only an Argo Rollout fails both',
    fails: true,
    files: {
      'env/rollout.yaml': rollout,
      'env/kustomization.yaml':
        'resources: [rollout.yaml]\nreplicas: [{ name: web, count: 5 }]\n',
    },
    environments: ['env'],
  },
];

const REPLACEMENT_CASES: KustomizeCase[] = [
  {
    name: 'replacements: an image tag copied from one workload to another, inline and from a file',
    files: {
      'env/base/kustomization.yaml': 'resources: [workloads.yaml]\n',
      'env/base/workloads.yaml': `${deployment('api')}---\n${deployment(
        'worker',
        'ghcr.io/acme/worker:0.1.0',
      )}`,
      'env/prod/kustomization.yaml': `resources: [../base]
images: [{ name: ghcr.io/acme/api, newTag: "2.4.0" }]
replacements:
  - source:
      kind: Deployment
      name: api
      fieldPath: spec.template.spec.containers.[name=api].image
      options: { delimiter: ":", index: 1 }
    targets:
      - select: { kind: Deployment, name: worker }
        fieldPaths: ['spec.template.spec.containers.[name=worker].image']
        options: { delimiter: ":", index: 1 }
  - path: replacements.yaml
`,
      'env/prod/replacements.yaml': `- source: { kind: Deployment, name: api, fieldPath: metadata.name }
  targets:
    - select: { kind: Deployment }
      reject: [{ name: api }]
      fieldPaths: [spec.template.metadata.annotations.upstream]
      options: { create: true }
- source: { kind: Deployment, name: api, fieldPath: spec.replicas }
  targets:
    - select: { labelSelector: "app=worker" }
      fieldPaths: [spec.replicas, 'spec.template.spec.containers.*.env.[name=LOG_LEVEL].value']
`,
    },
    environments: ['env/base', 'env/prod'],
    pairs: [['env/base', 'env/prod']],
  },
  {
    name: 'replacements: a source that selects nothing fails both',
    fails: true,
    files: {
      'env/workloads.yaml': deployment('api'),
      'env/kustomization.yaml': `resources: [workloads.yaml]
replacements:
  - source: { kind: ConfigMap, name: missing }
    targets: [{ select: { kind: Deployment }, fieldPaths: [metadata.annotations.x] }]
`,
    },
    environments: ['env'],
  },
];

const RESOURCE_CASES: KustomizeCase[] = [
  {
    name: 'bases, the deprecated resources',
    ...withBase({
      dev: 'bases: [../../base]\nimages: [{ name: ghcr.io/acme/app, newTag: "1.9.0" }]\n',
    }),
  },
  {
    name: 'resources as directories and files, and an overlay of an overlay',
    files: {
      'shop/base/kustomization.yaml': 'resources: [workers, web.yaml]\n',
      'shop/base/web.yaml': deployment('web'),
      'shop/base/workers/kustomization.yaml': 'resources: [worker.yaml]\n',
      'shop/base/workers/worker.yaml': deployment('worker'),
      'shop/overlays/staging/kustomization.yaml':
        'resources: [../../base, extra.yaml]\nnamespace: shop-staging\nnamePrefix: staging-\nimages: [{ name: ghcr.io/acme/web, newTag: "2.0.0" }]\n',
      'shop/overlays/staging/extra.yaml': service('web'),
      'shop/overlays/staging-eu/kustomization.yaml': `resources: [../staging]
namespace: shop-staging-eu
nameSuffix: -eu
images: [{ name: ghcr.io/acme/worker, newTag: "2.1.0" }]
patches:
  - patch: |-
      apiVersion: apps/v1
      kind: Deployment
      metadata: { name: staging-web, namespace: shop-staging }
      spec: { replicas: 2 }
`,
    },
    environments: ['shop/overlays/staging', 'shop/overlays/staging-eu'],
    pairs: [['shop/overlays/staging', 'shop/overlays/staging-eu']],
  },
  {
    name: 'kustomizations named kustomization.yml and Kustomization',
    files: {
      'svc/base/Kustomization': 'resources: [web.yaml]\n',
      'svc/base/web.yaml': deployment('web'),
      'svc/prod/kustomization.yml':
        'resources: [../base]\nimages: [{ name: ghcr.io/acme/web, newTag: "7.0.0" }]\n',
    },
    environments: ['svc/base', 'svc/prod'],
    pairs: [['svc/base', 'svc/prod']],
  },
  {
    name: 'JSON patches on missing paths: replace sets a missing key, copy and test read null',
    ...withBase({
      dev: `resources: [../../base]
patches:
  - target: { kind: Service }
    patch: |-
      - { op: replace, path: /spec/type, value: NodePort }
      - { op: copy, from: /spec/missing, path: /spec/copied }
      - { op: test, path: /spec/absent, value: null }
`,
    }),
  },
  {
    name: 'a JSON patch under a path that does not exist fails both',
    fails: true,
    ...withBase({
      prod: `resources: [../../base]
patches:
  - target: { kind: Service }
    patch: '[{"op": "replace", "path": "/spec/missing/type", "value": "NodePort"}]'
`,
    }),
  },
  {
    name: 'multi-document resource files and List kinds',
    files: {
      'env/kustomization.yaml': 'resources: [many.yaml, list.yaml]\n',
      'env/many.yaml': `---\n${deployment('web')}---\n---\n${service('web')}`,
      'env/list.yaml': `apiVersion: v1
kind: List
items:
  - apiVersion: batch/v1
    kind: CronJob
    metadata: { name: nightly }
    spec:
      schedule: "0 3 * * *"
      jobTemplate:
        spec:
          template:
            spec:
              containers: [{ name: job, image: "ghcr.io/acme/nightly:0.3.0" }]
  - apiVersion: v1
    kind: ConfigMap
    metadata: { name: nightly }
    data: { at: "03:00" }
`,
    },
    environments: ['env'],
  },
  {
    name: 'a resource file outside the kustomization directory fails both',
    fails: true,
    ...withBase({
      dev: 'resources: [../../base/deployment.yaml]\n',
    }),
  },
  {
    name: 'the same object included twice fails both',
    fails: true,
    ...withBase(
      {
        dev: 'resources: [../../base, ../../again]\n',
      },
      undefined,
      {
        'app/again/kustomization.yaml': 'resources: [deployment.yaml]\n',
        'app/again/deployment.yaml': deployment('app'),
      },
    ),
  },
  {
    name: 'two objects made one by namespace fails both',
    fails: true,
    files: {
      'env/kustomization.yaml': 'resources: [objects.yaml]\nnamespace: shop\n',
      'env/objects.yaml':
        'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: x, namespace: a }\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: x, namespace: b }\n',
    },
    environments: ['env'],
  },
  {
    name: 'an unknown kustomization field fails both',
    fails: true,
    ...withBase({
      dev: 'resources: [../../base]\nimage: [{ name: ghcr.io/acme/app, newTag: "2" }]\n',
    }),
  },
];

/** Fields the resolver does not apply: each is reported, and nothing else is claimed. */
const NOT_READ_CASES: KustomizeCase[] = [
  {
    name: 'not read: remote resources and components, helmCharts and helmGlobals',
    ...withBase({
      dev: `resources:
  - ../../base
  - https://github.com/acme/shared//monitoring?ref=v1
components: [https://github.com/acme/shared//tracing?ref=v1]
helmGlobals: { chartHome: charts }
helmCharts: [{ name: redis, repo: "https://charts.example", version: 1.0.0 }]
images: [{ name: ghcr.io/acme/app, newTag: "1.1.0" }]
`,
    }),
    readAs: {
      'app/overlays/dev/kustomization.yaml':
        'resources: [../../base]\nimages: [{ name: ghcr.io/acme/app, newTag: "1.1.0" }]\n',
    },
    notRead: [
      'helmCharts',
      'helmGlobals',
      'remote resource "https://github.com/acme/shared//monitoring?ref=v1"',
      'remote component "https://github.com/acme/shared//tracing?ref=v1"',
    ],
  },
  {
    name: 'not read: helmCharts in a base, under an overlay that sets the image',
    ...withBase(
      {
        prod: 'resources: [../../base]\nimages: [{ name: ghcr.io/acme/app, newTag: "2.0.0" }]\n',
      },
      undefined,
      {
        'app/base/kustomization.yaml':
          'resources: [deployment.yaml, service.yaml]\nhelmCharts: [{ name: redis, repo: "https://charts.example", version: 1.0.0 }]\n',
      },
    ),
    readAs: {
      'app/base/kustomization.yaml':
        'resources: [deployment.yaml, service.yaml]\n',
    },
    notRead: ['helmCharts'],
  },
  {
    name: 'not read: vars',
    ...withBase({
      dev: 'resources: [../../base]\nvars:\n  - name: SERVICE\n    objref: { kind: Service, name: app, apiVersion: v1 }\n',
    }),
    readAs: {
      'app/overlays/dev/kustomization.yaml': 'resources: [../../base]\n',
    },
    notRead: ['vars'],
  },
  {
    name: 'not read: transformers, generators, validators and configurations',
    ...withBase({
      dev: 'resources: [../../base]\ntransformers: [t.yaml]\ngenerators: [g.yaml]\nvalidators: [v.yaml]\nconfigurations: [c.yaml]\n',
    }),
    readAs: {
      'app/overlays/dev/kustomization.yaml': 'resources: [../../base]\n',
    },
    notRead: ['transformers', 'generators', 'validators', 'configurations'],
  },
  {
    name: 'not read: openapi, crds and buildMetadata',
    ...withBase({
      dev: 'resources: [../../base]\nopenapi: { path: schema.json }\ncrds: [crd.json]\nbuildMetadata: [managedByLabel]\n',
    }),
    readAs: {
      'app/overlays/dev/kustomization.yaml': 'resources: [../../base]\n',
    },
    notRead: ['openapi', 'crds', 'buildMetadata'],
  },
];

export const KUSTOMIZE_CASES: KustomizeCase[] = [
  ...IMAGE_CASES,
  ...NAME_CASES,
  ...TARGET_CASES,
  ...STRATEGIC_MERGE_CASES,
  ...JSON_PATCH_CASES,
  ...COMPONENT_CASES,
  ...GENERATOR_CASES,
  ...LABEL_CASES,
  ...REPLICA_CASES,
  ...REPLACEMENT_CASES,
  ...RESOURCE_CASES,
  ...NOT_READ_CASES,
];
