import type { IHelmRelease } from '@kubernetes-models/flux-cd/helm.toolkit.fluxcd.io/v2';
import type { IKustomization } from '@kubernetes-models/flux-cd/kustomize.toolkit.fluxcd.io/v1';
import { helmModels, kustomizeModels, modelProblems } from './kubernetesModels';
import { commitFor, digest, kubeTime, uidFor } from './names';
import { applyOverrides, Overrides } from './overrides';

/**
 * Flux Kustomizations and HelmReleases built from compact seeds with `@kubernetes-models/flux-cd`
 * and checked with its schemas, with the status Flux's controllers write: the revisions applied
 * and attempted, and a Ready condition.
 */

export type ConditionStatus = 'True' | 'False' | 'Unknown';

/** How a Flux object's last reconciliation went. */
interface ReadinessSeed {
  /** The Ready condition's status; True by default. */
  ready?: ConditionStatus;
  reason?: string;
  message?: string;
  /** When Ready last changed. */
  readySince?: string;
}

export interface KustomizationSeed extends ReadinessSeed {
  name: string;
  /** `flux-system` by default. */
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** `./` by default. */
  path?: string;
  /** The `flux-system` GitRepository by default. */
  sourceRef?: {
    kind: 'GitRepository' | 'OCIRepository' | 'Bucket';
    name: string;
    namespace?: string;
  };
  interval?: string;
  targetNamespace?: string;
  suspend?: boolean;
  /** The revision applied last, as Flux writes it: `main@sha1:<commit>`. */
  lastAppliedRevision?: string;
  /** The revision tried last; the applied one by default. */
  lastAttemptedRevision?: string;
  /** Fields that replace those built, at any depth, to give the object a shape seeds never build. */
  overrides?: Overrides;
}

export interface HelmReleaseSeed extends ReadinessSeed {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  chart: string;
  /** The chart version (or range) asked for; `*` by default. */
  version?: string;
  /** The HelmRepository named after the chart by default. */
  sourceRef?: {
    kind: 'HelmRepository' | 'GitRepository' | 'Bucket';
    name: string;
    namespace?: string;
  };
  releaseName?: string;
  targetNamespace?: string;
  interval?: string;
  values?: Record<string, unknown>;
  suspend?: boolean;
  /** The chart version of the release installed last. */
  chartVersion?: string;
  appVersion?: string;
  /** The chart version tried last; the installed one by default. */
  lastAttemptedRevision?: string;
  /** The Helm release's revision number; 1 by default. */
  releaseRevision?: number;
  overrides?: Overrides;
}

/** What the simulator keeps of a Flux object between changes. */
export interface FluxMeta {
  resourceVersion: string;
  generation?: number;
  createdAt?: string;
}

/** A Flux object as the Kubernetes API sends it, with its schema errors. */
export interface BuiltFluxObject<T> {
  object: T;
  problems: string[];
}

const FLUX_NAMESPACE = 'flux-system';

function readyCondition(
  seed: ReadinessSeed,
  defaults: Record<ConditionStatus, { reason: string; message: string }>,
  generation: number,
) {
  const status = seed.ready ?? 'True';
  return {
    type: 'Ready',
    status,
    observedGeneration: generation,
    lastTransitionTime: kubeTime(seed.readySince),
    reason: seed.reason ?? defaults[status].reason,
    message: seed.message ?? defaults[status].message,
  };
}

function metadata(
  seed: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  },
  kind: string,
  meta: FluxMeta,
) {
  const namespace = seed.namespace ?? FLUX_NAMESPACE;
  return {
    name: seed.name,
    namespace,
    uid: uidFor(`${kind}/${namespace}/${seed.name}`),
    resourceVersion: meta.resourceVersion,
    generation: meta.generation ?? 1,
    creationTimestamp: meta.createdAt ?? kubeTime(),
    ...(seed.labels ? { labels: seed.labels } : {}),
    ...(seed.annotations ? { annotations: seed.annotations } : {}),
    finalizers: ['finalizers.fluxcd.io'],
  };
}

/** A Kustomization for a seed, as the Kubernetes API serves it. */
export function kustomization(
  seed: KustomizationSeed,
  meta: FluxMeta,
): BuiltFluxObject<IKustomization> {
  const namespace = seed.namespace ?? FLUX_NAMESPACE;
  const generation = meta.generation ?? 1;
  const applied =
    seed.lastAppliedRevision ??
    `main@sha1:${commitFor(`${namespace}/${seed.name}`)}`;
  const attempted = seed.lastAttemptedRevision ?? applied;
  const ready = readyCondition(
    seed,
    {
      True: {
        reason: 'ReconciliationSucceeded',
        message: `Applied revision: ${applied}`,
      },
      False: {
        reason: 'HealthCheckFailed',
        message: `Health check failed after 5m0s: timeout waiting for: [Deployment/${
          seed.targetNamespace ?? namespace
        }/${seed.name} status: 'InProgress']`,
      },
      Unknown: {
        reason: 'Progressing',
        message: `Reconciliation in progress`,
      },
    },
    generation,
  );
  const { Kustomization } = kustomizeModels();
  const data = applyOverrides(
    {
      metadata: metadata(seed, 'Kustomization', meta),
      spec: {
        interval: seed.interval ?? '10m',
        path: seed.path ?? './',
        prune: true,
        sourceRef: seed.sourceRef ?? {
          kind: 'GitRepository' as const,
          name: FLUX_NAMESPACE,
        },
        ...(seed.targetNamespace
          ? { targetNamespace: seed.targetNamespace }
          : {}),
        ...(seed.suspend ? { suspend: true } : {}),
      },
      status: {
        observedGeneration: generation,
        lastAppliedRevision: applied,
        lastAttemptedRevision: attempted,
        conditions: [
          ready,
          ...(ready.status === 'Unknown'
            ? [
                {
                  ...ready,
                  type: 'Reconciling',
                  status: 'True',
                  message: `Building manifests for revision ${attempted}`,
                },
              ]
            : []),
        ],
      },
    },
    seed.overrides,
  );
  const model = new Kustomization(data as IKustomization);
  return {
    object: model.toJSON() as IKustomization,
    problems: modelProblems(model, `Kustomization ${namespace}/${seed.name}`),
  };
}

/** A HelmRelease for a seed, as the Kubernetes API serves it. */
export function helmRelease(
  seed: HelmReleaseSeed,
  meta: FluxMeta,
): BuiltFluxObject<IHelmRelease> {
  const namespace = seed.namespace ?? FLUX_NAMESPACE;
  const generation = meta.generation ?? 1;
  const releaseName = seed.releaseName ?? seed.name;
  const releaseNamespace = seed.targetNamespace ?? namespace;
  const chartVersion = seed.chartVersion ?? '1.0.0';
  const attempted = seed.lastAttemptedRevision ?? chartVersion;
  const revision = seed.releaseRevision ?? 1;
  const action = revision === 1 ? 'install' : 'upgrade';
  const Action = revision === 1 ? 'Install' : 'Upgrade';
  const release = `${releaseNamespace}/${releaseName}.v${revision}`;
  const ready = readyCondition(
    seed,
    {
      True: {
        reason: `${Action}Succeeded`,
        message: `Helm ${action} succeeded for release ${release} with chart ${seed.chart}@${attempted}`,
      },
      False: {
        reason: `${Action}Failed`,
        message: `Helm ${action} failed for release ${releaseNamespace}/${releaseName} with chart ${seed.chart}@${attempted}: context deadline exceeded`,
      },
      Unknown: {
        reason: 'Progressing',
        message: `Fulfilling prerequisites`,
      },
    },
    generation,
  );
  const deployedAt = kubeTime(seed.readySince);
  const sourceRef = seed.sourceRef ?? {
    kind: 'HelmRepository' as const,
    name: seed.chart,
  };
  const { HelmRelease } = helmModels();
  const data = applyOverrides(
    {
      metadata: metadata(seed, 'HelmRelease', meta),
      spec: {
        interval: seed.interval ?? '10m',
        chart: {
          spec: {
            chart: seed.chart,
            version: seed.version ?? '*',
            sourceRef,
            reconcileStrategy: 'ChartVersion',
          },
        },
        ...(seed.releaseName ? { releaseName: seed.releaseName } : {}),
        ...(seed.targetNamespace
          ? { targetNamespace: seed.targetNamespace }
          : {}),
        ...(seed.values ? { values: seed.values } : {}),
        ...(seed.suspend ? { suspend: true } : {}),
      },
      status: {
        observedGeneration: generation,
        lastAttemptedGeneration: generation,
        lastAttemptedRevision: attempted,
        lastAttemptedConfigDigest: digest(JSON.stringify(seed.values ?? {})),
        lastAttemptedReleaseAction: action,
        lastReleaseRevision: revision,
        helmChart: `${sourceRef.namespace ?? namespace}/${namespace}-${
          seed.name
        }`,
        storageNamespace: releaseNamespace,
        history: [
          {
            name: releaseName,
            namespace: releaseNamespace,
            version: revision,
            status: seed.ready === 'False' ? 'failed' : 'deployed',
            chartName: seed.chart,
            chartVersion,
            ...(seed.appVersion ? { appVersion: seed.appVersion } : {}),
            configDigest: digest(JSON.stringify(seed.values ?? {})),
            digest: digest(`${release}/${chartVersion}`),
            firstDeployed: deployedAt,
            lastDeployed: deployedAt,
          },
        ],
        conditions: [
          ready,
          {
            ...ready,
            type: 'Released',
            status: seed.ready === 'Unknown' ? 'Unknown' : ready.status,
          },
        ],
      },
    },
    seed.overrides,
  );
  const model = new HelmRelease(data as IHelmRelease);
  return {
    object: model.toJSON() as IHelmRelease,
    problems: modelProblems(model, `HelmRelease ${namespace}/${seed.name}`),
  };
}
