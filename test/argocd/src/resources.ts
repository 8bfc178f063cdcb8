import { buildRollout, containerName, RolloutSeed } from './rollouts';
import { podSuffix, podTemplateHash, uidFor } from './names';

/**
 * The live Kubernetes resources of an application, as Argo CD's resource tree shows them: the
 * workload (a Deployment, or an Argo Rollout), its ReplicaSets and Pods, and its Services, with
 * the health and images Argo CD sets on each node, and the live manifest of each.
 */

export type HealthStatusCode =
  | 'Healthy'
  | 'Progressing'
  | 'Degraded'
  | 'Suspended'
  | 'Missing'
  | 'Unknown';

export interface HealthStatus {
  /** A `HealthStatusCode`. */
  status: string;
  message?: string;
}

/** A reference to a Kubernetes resource (`v1alpha1ResourceRef`). */
export interface ResourceRef {
  group?: string;
  version: string;
  kind: string;
  namespace?: string;
  name: string;
  uid?: string;
}

/** A node of an application's resource tree (`v1alpha1ResourceNode`). */
export interface ResourceNode extends ResourceRef {
  uid: string;
  resourceVersion?: string;
  createdAt?: string;
  health?: HealthStatus;
  images?: string[];
  info?: Array<{ name: string; value: string }>;
  parentRefs?: ResourceRef[];
  networkingInfo?: { targetLabels?: Record<string, string> };
}

/** What the workload of an application is made of. */
export interface WorkloadSeed {
  appName: string;
  appNamespace: string;
  /** The namespace the resources live in: the application's destination namespace. */
  namespace: string;
  /** The Deployment's (or Rollout's) name. */
  name: string;
  replicas: number;
  /** The Deployment's images, one container each. */
  images: string[];
  /** The Deployment's health; a Rollout's comes from its own state. */
  health?: HealthStatusCode;
  healthMessage?: string;
  rollout?: RolloutSeed;
  createdAt: string;
  /** Since when the workload is in its current state. */
  since: string;
}

/** The live resources of an application. */
export interface LiveResources {
  nodes: ResourceNode[];
  /** The resources Argo CD manages directly (`status.resources`). */
  managed: Array<ResourceRef & { health?: HealthStatus }>;
  /** Live manifests, by `resourceKey`. */
  manifests: Map<string, object>;
  /** The images of all running pods. */
  images: string[];
  workloadHealth: HealthStatus;
  /** Schema errors of the objects built (the Rollout's). */
  problems: string[];
}

/** How the `resource` endpoint finds a node: group, kind, namespace and name, as `FindNode` does. */
export const resourceKey = (ref: {
  group?: string;
  kind: string;
  namespace?: string;
  name: string;
}) => `${ref.group ?? ''}/${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;

/** Argo CD's order of health, from best to worst (`health.IsWorse`). */
const HEALTH_ORDER = [
  'Healthy',
  'Suspended',
  'Progressing',
  'Missing',
  'Degraded',
  'Unknown',
];

/** The worst of several health statuses, as Argo CD aggregates an application's health. */
export const worstHealth = (statuses: string[]) =>
  statuses.reduce(
    (worst, status) =>
      HEALTH_ORDER.indexOf(status) > HEALTH_ORDER.indexOf(worst)
        ? status
        : worst,
    'Healthy',
  );

const DEPLOYMENT_HEALTH_MESSAGES: Record<string, (name: string) => string> = {
  Progressing: () =>
    'Waiting for rollout to finish: 1 old replicas are pending termination...',
  Degraded: name => `Deployment "${name}" exceeded its progress deadline`,
  Suspended: () => 'Deployment is paused',
};

/** The live resources of a workload: its tree nodes, manifests, images and health. */
export function liveResources(seed: WorkloadSeed): LiveResources {
  const { namespace, name, createdAt } = seed;
  const nodes: ResourceNode[] = [];
  const manifests = new Map<string, object>();
  const problems: string[] = [];
  const uid = (kind: string, objectName: string) =>
    uidFor(`${seed.appNamespace}/${seed.appName}/${kind}/${objectName}`);
  const trackingId = (group: string, kind: string, objectName: string) =>
    `${seed.appNamespace === 'argocd' ? '' : `${seed.appNamespace}_`}${
      seed.appName
    }:${group}/${kind}:${namespace}/${objectName}`;
  const metadata = (
    kind: string,
    objectName: string,
    extra: Record<string, unknown> = {},
  ) => ({
    name: objectName,
    namespace,
    uid: uid(kind, objectName),
    creationTimestamp: createdAt,
    ...extra,
  });
  const add = (node: ResourceNode, manifest: object) => {
    nodes.push(node);
    manifests.set(resourceKey(node), manifest);
  };
  const ref = (node: ResourceNode): ResourceRef => ({
    ...(node.group ? { group: node.group } : {}),
    version: node.version,
    kind: node.kind,
    namespace: node.namespace,
    name: node.name,
    uid: node.uid,
  });

  const services = seed.rollout ? [name, `${name}-canary`] : [name];
  for (const service of services) {
    add(
      {
        version: 'v1',
        kind: 'Service',
        namespace,
        name: service,
        uid: uid('Service', service),
        createdAt,
        health: { status: 'Healthy' },
        networkingInfo: { targetLabels: { app: name } },
      },
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: metadata('Service', service, {
          labels: { app: name },
          annotations: {
            'argocd.argoproj.io/tracking-id': trackingId(
              '',
              'Service',
              service,
            ),
          },
        }),
        spec: {
          type: 'ClusterIP',
          selector: { app: name },
          ports: [
            { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' },
          ],
        },
        status: { loadBalancer: {} },
      },
    );
  }

  let workload: ResourceNode;
  let replicaSets: Array<{
    hash: string;
    image: string[];
    pods: number;
    revision: number;
  }>;
  if (seed.rollout) {
    const rolloutName = seed.rollout.name ?? name;
    const built = buildRollout(seed.rollout, {
      name: rolloutName,
      namespace,
      uid: uid('Rollout', rolloutName),
      createdAt,
      since: seed.since,
      annotations: {
        'argocd.argoproj.io/tracking-id': trackingId(
          'argoproj.io',
          'Rollout',
          rolloutName,
        ),
      },
    });
    problems.push(...built.problems);
    workload = {
      group: 'argoproj.io',
      version: 'v1alpha1',
      kind: 'Rollout',
      namespace,
      name: rolloutName,
      uid: uid('Rollout', rolloutName),
      createdAt,
      health: built.health,
      info: [
        {
          name: 'Revision',
          value: `Rev:${
            built.replicaSets[built.replicaSets.length - 1].revision
          }`,
        },
      ],
    };
    add(workload, built.manifest);
    replicaSets = built.replicaSets.map(rs => ({ ...rs, image: [rs.image] }));
  } else {
    const status = seed.health ?? 'Healthy';
    const message =
      seed.healthMessage ?? DEPLOYMENT_HEALTH_MESSAGES[status]?.(name);
    workload = {
      group: 'apps',
      version: 'v1',
      kind: 'Deployment',
      namespace,
      name,
      uid: uid('Deployment', name),
      createdAt,
      health: { status, ...(message ? { message } : {}) },
      info: [{ name: 'Revision', value: 'Rev:1' }],
    };
    if (status === 'Missing') {
      return {
        nodes: [],
        managed: [
          ...services.map(service => ({
            version: 'v1',
            kind: 'Service',
            namespace,
            name: service,
            health: { status: 'Missing' },
          })),
          {
            group: 'apps',
            version: 'v1',
            kind: 'Deployment',
            namespace,
            name,
            health: { status: 'Missing' },
          },
        ],
        manifests: new Map(),
        images: [],
        workloadHealth: { status: 'Missing' },
        problems,
      };
    }
    const hash = podTemplateHash(`${name}/${seed.images.join(',')}`);
    const pods = seed.replicas;
    add(workload, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: metadata('Deployment', name, {
        generation: 1,
        labels: { app: name },
        annotations: {
          'deployment.kubernetes.io/revision': '1',
          'argocd.argoproj.io/tracking-id': trackingId(
            'apps',
            'Deployment',
            name,
          ),
        },
      }),
      spec: {
        replicas: pods,
        selector: { matchLabels: { app: name } },
        template: podTemplate(name, seed.images),
      },
      status: {
        observedGeneration: 1,
        replicas: pods,
        updatedReplicas: pods,
        readyReplicas: status === 'Healthy' ? pods : 0,
        availableReplicas: status === 'Healthy' ? pods : 0,
      },
    });
    replicaSets = [{ hash, image: seed.images, pods, revision: 1 }];
  }

  const podHealth: HealthStatus =
    workload.health?.status === 'Degraded'
      ? {
          status: 'Degraded',
          message: 'back-off 5m0s restarting failed container',
        }
      : { status: 'Healthy' };
  const images = new Set<string>();
  for (const rs of replicaSets) {
    const rsName = `${workload.name}-${rs.hash}`;
    const rsNode: ResourceNode = {
      group: 'apps',
      version: 'v1',
      kind: 'ReplicaSet',
      namespace,
      name: rsName,
      uid: uid('ReplicaSet', rsName),
      createdAt,
      health: { status: 'Healthy' },
      info: [{ name: 'Revision', value: `Rev:${rs.revision}` }],
      parentRefs: [ref(workload)],
    };
    const hashLabel = seed.rollout
      ? 'rollouts-pod-template-hash'
      : 'pod-template-hash';
    const labels = { app: workload.name, [hashLabel]: rs.hash };
    add(rsNode, {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: metadata('ReplicaSet', rsName, {
        labels,
        annotations: {
          [seed.rollout
            ? 'rollout.argoproj.io/revision'
            : 'deployment.kubernetes.io/revision']: String(rs.revision),
        },
        ownerReferences: [ownerReference(workload)],
      }),
      spec: {
        replicas: rs.pods,
        selector: { matchLabels: labels },
        template: podTemplate(workload.name, rs.image, labels),
      },
      status: {
        replicas: rs.pods,
        readyReplicas: rs.pods,
        availableReplicas: rs.pods,
        observedGeneration: 1,
      },
    });
    for (let i = 0; i < rs.pods; i++) {
      const podName = `${rsName}-${podSuffix(`${rsName}/${i}`)}`;
      rs.image.forEach(image => images.add(image));
      const crashing = podHealth.status === 'Degraded';
      add(
        {
          version: 'v1',
          kind: 'Pod',
          namespace,
          name: podName,
          uid: uid('Pod', podName),
          createdAt,
          health: podHealth,
          images: rs.image,
          info: [
            {
              name: 'Status Reason',
              value: crashing ? 'CrashLoopBackOff' : 'Running',
            },
            { name: 'Node', value: `worker-${(i % 3) + 1}` },
            {
              name: 'Containers',
              value: `${crashing ? 0 : rs.image.length}/${rs.image.length}`,
            },
          ],
          parentRefs: [ref(rsNode)],
        },
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: metadata('Pod', podName, {
            labels,
            ownerReferences: [ownerReference(rsNode)],
          }),
          spec: {
            ...podTemplate(workload.name, rs.image).spec,
            nodeName: `worker-${(i % 3) + 1}`,
          },
          status: {
            phase: 'Running',
            containerStatuses: rs.image.map(image => ({
              name: containerName(image),
              image,
              ready: !crashing,
              restartCount: crashing ? 5 : 0,
              started: !crashing,
            })),
          },
        },
      );
    }
  }

  return {
    nodes,
    managed: [workload, ...nodes.filter(n => n.kind === 'Service')].map(
      node => ({
        ...(node.group ? { group: node.group } : {}),
        version: node.version,
        kind: node.kind,
        namespace: node.namespace,
        name: node.name,
        ...(node.health ? { health: node.health } : {}),
      }),
    ),
    manifests,
    images: [...images].sort(),
    workloadHealth: workload.health ?? { status: 'Healthy' },
    problems,
  };
}

function podTemplate(
  app: string,
  images: string[],
  labels: Record<string, string> = { app },
) {
  return {
    metadata: { labels },
    spec: {
      containers: images.map(image => ({
        name: containerName(image),
        image,
        ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
      })),
    },
  };
}

function ownerReference(owner: ResourceNode) {
  return {
    apiVersion: owner.group ? `${owner.group}/${owner.version}` : owner.version,
    kind: owner.kind,
    name: owner.name,
    uid: owner.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}
