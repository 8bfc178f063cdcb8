import {
  readSchedulerServiceTaskScheduleDefinitionFromConfig,
  SchedulerServiceTaskScheduleDefinition,
} from '@backstage/backend-plugin-api';
import { Config, readDurationFromConfig } from '@backstage/config';
import { durationToMilliseconds } from '@backstage/types';
import {
  DEFAULT_ENVIRONMENT_MAPPING,
  EnvironmentMappingRule,
} from './environmentMapping';

/**
 * One Argo CD instance of `promotions.argocd.instances`: an API token, or an account the
 * backend logs in with once and whose session it reuses.
 *
 * @public
 */
export interface ArgoCdInstanceConfig {
  /** What `argocd/instance-name` names it by, and what the API shows. */
  name: string;
  /** The Argo CD server's base URL; the API is below `/api`. */
  url: string;
  token?: string;
  username?: string;
  password?: string;
  /** How long one request may take. */
  timeoutMs: number;
  /** PEM certificates to trust for this instance, beside the system's. */
  caData?: string;
  /** Accept any TLS certificate (for a test instance only). */
  insecure?: boolean;
}

/**
 * A Kubernetes cluster whose Flux objects are read, from Backstage's `kubernetes` config.
 *
 * @public
 */
export interface FluxClusterConfig {
  name: string;
  url: string;
  /** A service account token that may list Kustomizations and HelmReleases. */
  token?: string;
  caData?: string;
  insecure?: boolean;
  timeoutMs: number;
}

/**
 * How live state is read: from which Argo CD instances and Flux clusters, how often, and how
 * applications map to environments.
 *
 * @public
 */
export interface LiveStateConfig {
  argocd: { instances: ArgoCdInstanceConfig[]; stream: boolean };
  flux: { clusters: FluxClusterConfig[] };
  mapping: EnvironmentMappingRule[];
  refresh: SchedulerServiceTaskScheduleDefinition;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const DEFAULT_TIMEOUT_MS = 10_000;

function timeoutOf(config: Config, where: string): number {
  if (!config.has('timeout')) return DEFAULT_TIMEOUT_MS;
  const ms =
    typeof config.getOptional('timeout') === 'number'
      ? config.getNumber('timeout')
      : durationToMilliseconds(
          readDurationFromConfig(config, { key: 'timeout' }),
        );
  if (!(ms > 0)) throw new Error(`${where}.timeout must be positive`);
  return ms;
}

function checkUrl(url: string, where: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`${where}.url "${url}" is not a URL`);
  }
  if (!['http:', 'https:'].includes(parsed.protocol))
    throw new Error(`${where}.url must be http or https, not ${url}`);
  return url.replace(/\/+$/, '');
}

function readArgoCd(config: Config | undefined) {
  const instances: ArgoCdInstanceConfig[] = [];
  const entries = config?.getOptionalConfigArray('argocd.instances') ?? [];
  entries.forEach((entry, i) => {
    const where = `promotions.argocd.instances[${i}]`;
    const name = entry.getString('name');
    if (!NAME.test(name))
      throw new Error(
        `${where}.name "${name}" must be letters, digits, '.', '_' or '-'`,
      );
    if (instances.some(other => other.name === name))
      throw new Error(`${where}: the name "${name}" is used twice`);
    const token = entry.getOptionalString('token');
    const username = entry.getOptionalString('username');
    const password = entry.getOptionalString('password');
    if (!token && !(username && password))
      throw new Error(
        `${where} (${name}) needs a token, or a username and a password`,
      );
    instances.push({
      name,
      url: checkUrl(entry.getString('url'), where),
      token,
      username: token ? undefined : username,
      password: token ? undefined : password,
      timeoutMs: timeoutOf(entry, where),
      caData: entry.getOptionalString('caData'),
      insecure: entry.getOptionalBoolean('insecure'),
    });
  });
  return {
    instances,
    stream: config?.getOptionalBoolean('argocd.stream') ?? true,
  };
}

/** Clusters of `kubernetes.clusterLocatorMethods` of type `config`, as the Kubernetes plugin reads them. */
function readFluxClusters(root: Config, config: Config | undefined) {
  const flux = config?.getOptionalConfig('flux');
  const wanted = flux?.getOptionalStringArray('clusters');
  const timeoutMs = flux
    ? timeoutOf(flux, 'promotions.flux')
    : DEFAULT_TIMEOUT_MS;
  const clusters: FluxClusterConfig[] = [];
  for (const method of root.getOptionalConfigArray(
    'kubernetes.clusterLocatorMethods',
  ) ?? []) {
    if (method.getString('type') !== 'config') continue;
    for (const cluster of method.getOptionalConfigArray('clusters') ?? []) {
      const name = cluster.getString('name');
      if (wanted && !wanted.includes(name)) continue;
      const where = `kubernetes cluster ${name}`;
      const authProvider =
        cluster.getOptionalString('authProvider') ?? 'serviceAccount';
      if (authProvider !== 'serviceAccount') {
        if (wanted)
          throw new Error(
            `promotions.flux.clusters: ${where} signs in with ${authProvider}; Flux objects are read with a serviceAccount token only`,
          );
        continue;
      }
      clusters.push({
        name,
        url: checkUrl(cluster.getString('url'), where),
        token: cluster.getOptionalString('serviceAccountToken'),
        caData: cluster.getOptionalString('caData'),
        insecure: cluster.getOptionalBoolean('skipTLSVerify'),
        timeoutMs,
      });
    }
  }
  for (const name of wanted ?? []) {
    if (!clusters.some(c => c.name === name))
      throw new Error(
        `promotions.flux.clusters: "${name}" is not a cluster of kubernetes.clusterLocatorMethods (type config)`,
      );
  }
  return { clusters };
}

function readMapping(config: Config | undefined): EnvironmentMappingRule[] {
  const entries = config?.getOptionalConfigArray('live.mapping');
  if (!entries) return DEFAULT_ENVIRONMENT_MAPPING;
  return entries.map((entry, i) => {
    const where = `promotions.live.mapping[${i}]`;
    const keys = entry.keys();
    if (keys.length !== 1 || !['label', 'name', 'namespace'].includes(keys[0]))
      throw new Error(
        `${where} must have exactly one of label, name or namespace`,
      );
    const value = entry.getString(keys[0]);
    if (keys[0] !== 'label' && !value.includes('{env}'))
      throw new Error(`${where}.${keys[0]} "${value}" has no {env}`);
    return { [keys[0]]: value } as EnvironmentMappingRule;
  });
}

/**
 * Reads `promotions.argocd`, `promotions.flux` (with Backstage's `kubernetes` clusters) and
 * `promotions.live`; a mistake stops the backend with its reason.
 *
 * @public
 */
export function readLiveStateConfig(root: Config): LiveStateConfig {
  const config = root.getOptionalConfig('promotions');
  const refresh = config?.has('live.refresh')
    ? readSchedulerServiceTaskScheduleDefinitionFromConfig(
        config.getConfig('live.refresh'),
      )
    : { frequency: { seconds: 30 }, timeout: { minutes: 5 } };
  return {
    argocd: readArgoCd(config),
    flux: readFluxClusters(root, config),
    mapping: readMapping(config),
    refresh,
  };
}
