import { revisionOf } from './readSource';
import {
  ANNOTATION_LOCATION,
  ANNOTATION_ORIGIN_LOCATION,
  Entity,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import {
  ANNOTATION_ARGOCD_MANIFEST,
  ANNOTATION_IMAGE,
  ANNOTATION_PATH,
  ANNOTATION_PIPELINE,
  ANNOTATION_REPOSITORY,
  ANNOTATION_TAG,
  ANNOTATION_VERSION_KEY,
  DEFAULT_PIPELINE,
  EntityLayout,
  ENV_PLACEHOLDER,
  environmentPath,
  GITOPS_LOCATION_TYPE,
  readEntityLayout,
} from '@gitops-promotions/plugin-promotions-common';
import {
  entityPathRules,
  HelmLayering,
  isReadable,
  isRepositoryURL,
  isUnsafeKeyPath,
  manifestEnvironments,
  PipelineEnvironment,
  PromotionsConfig,
  readArgoCdManifest,
  ReadablePaths,
  RepositoryConfig,
  RepositorySnapshot,
  ResolveOptions,
  tagPatternProblem,
} from '@gitops-promotions/plugin-promotions-node';

/** How one environment is read: from which repository, branch or tag, at which path. */
export interface EnvironmentSpec {
  name: string;
  repository: RepositoryConfig;
  /** The paths of `repository` the entity may read. */
  readable: ReadablePaths;
  /**
   * What of the repository: its configured branch, another branch, the tag a pattern picks, or
   * a ref an Argo CD manifest names (a branch, a tag or a commit).
   */
  read:
    | { kind: 'default' }
    | { kind: 'branch'; name: string }
    | { kind: 'tag'; pattern: string }
    | { kind: 'ref'; name: string };
  path: string;
  /** Helm layering and image overrides an Argo CD manifest gives. */
  helm?: HelmLayering;
  kustomizeImages?: string[];
  /** The Argo CD Application and manifest that give this spec. */
  application?: string;
  manifest?: string;
}

/** Where and how an entity's environments are read, from its annotations and the config. */
export interface EntityTarget {
  entityRef: string;
  /**
   * The repository the entity is refreshed with: the one it names, or, with a repository
   * template, its first environment's.
   */
  repository: RepositoryConfig;
  layout: EntityLayout;
  /** The path template; absent when an Argo CD manifest gives the paths. */
  pathTemplate?: string;
  pipelineName: string;
  pipeline: PipelineEnvironment[];
  image?: string;
  versionKey?: string;
  /** The paths of `repository` this entity may read. */
  readable: ReadablePaths;
  /** Each environment's spec, except with an Argo CD manifest, whose specs are read from it. */
  specs?: EnvironmentSpec[];
}

/** Reads an entity's annotations; a mistake in them is an InputError that says which and why. */
export function readEntityTarget(
  entity: Entity,
  config: PromotionsConfig,
): EntityTarget {
  const entityRef = stringifyEntityRef(entity);
  const annotations = entity.metadata.annotations ?? {};
  if (!annotations[ANNOTATION_REPOSITORY]?.trim()) {
    throw new InputError(
      `${entityRef} has no ${ANNOTATION_REPOSITORY} annotation`,
    );
  }
  if (
    !annotations[ANNOTATION_PATH]?.trim() &&
    !annotations[ANNOTATION_ARGOCD_MANIFEST]?.trim()
  ) {
    throw new InputError(`${entityRef} has no ${ANNOTATION_PATH} annotation`);
  }
  const read = readEntityLayout(annotations);
  if ('problem' in read) throw new InputError(`${entityRef}: ${read.problem}`);
  const { layout } = read;

  const pipelineName =
    annotations[ANNOTATION_PIPELINE]?.trim() || DEFAULT_PIPELINE;
  const pipeline = config.pipelines.get(pipelineName);
  if (!pipeline) {
    const known = [...config.pipelines.keys()].join(', ');
    throw new InputError(
      `${entityRef}: ${ANNOTATION_PIPELINE} "${pipelineName}" is not a configured pipeline (configured: ${known})`,
    );
  }
  const repositoryOf = (environment: string) => {
    const id = environmentPath(layout.repository, environment);
    const repository = config.repositories.get(id);
    if (!repository) {
      const known = [...config.repositories.keys()].join(', ') || 'none';
      const forEnvironment = layout.repository.includes(ENV_PLACEHOLDER)
        ? ` (for ${environment})`
        : '';
      throw new InputError(
        `${entityRef}: ${ANNOTATION_REPOSITORY} "${id}"${forEnvironment} is not a configured repository (configured: ${known})`,
      );
    }
    return repository;
  };
  const repository = repositoryOf(pipeline[0].name);
  const readables = new Map<string, ReadablePaths>();
  const readableIn = (config_: RepositoryConfig) => {
    if (!readables.has(config_.id)) {
      readables.set(config_.id, readableBy(entity, config_));
    }
    return readables.get(config_.id)!;
  };

  let specs: EnvironmentSpec[] | undefined;
  if (layout.path) {
    const pathTemplate = layout.path;
    specs = pipeline.map(env => {
      const envRepository = repositoryOf(env.name);
      const readable = readableIn(envRepository);
      const envPath = environmentPath(pathTemplate, env.name);
      // A values file is read itself; a Kustomize directory through the kustomization in it.
      if (
        !isReadable(readable, envPath) &&
        !isReadable(readable, `${envPath}/kustomization.yaml`)
      ) {
        throw new InputError(
          `${entityRef}: ${ANNOTATION_PATH} "${pathTemplate}" reads ${envPath} for ${env.name}, which repository ${envRepository.id} does not let this entity read (${readable.description})`,
        );
      }
      let readSpec: EnvironmentSpec['read'] = { kind: 'default' };
      if (layout.ref) {
        readSpec = {
          kind: 'branch',
          name: environmentPath(layout.ref, env.name),
        };
      } else if (layout.tag) {
        const pattern = layout.tag.split(ENV_PLACEHOLDER).join(env.name);
        const problem = tagPatternProblem(pattern);
        if (problem) {
          throw new InputError(
            `${entityRef}: ${ANNOTATION_TAG} "${layout.tag}" for ${env.name}: ${problem}`,
          );
        }
        readSpec = { kind: 'tag', pattern };
      }
      return {
        name: env.name,
        repository: envRepository,
        readable,
        read: readSpec,
        path: envPath,
      };
    });
  } else {
    const readable = readableIn(repository);
    if (!isReadable(readable, layout.argocdManifest!)) {
      throw new InputError(
        `${entityRef}: ${ANNOTATION_ARGOCD_MANIFEST} "${layout.argocdManifest}" is not a file repository ${repository.id} lets this entity read (${readable.description})`,
      );
    }
  }

  const versionKey = annotations[ANNOTATION_VERSION_KEY]?.trim() || undefined;
  if (
    versionKey &&
    (!/^[\w-]+(\.[\w-]+)*$/.test(versionKey) || isUnsafeKeyPath(versionKey))
  ) {
    throw new InputError(
      `${entityRef}: ${ANNOTATION_VERSION_KEY} "${versionKey}" is not a dotted key path such as image.tag`,
    );
  }
  return {
    entityRef,
    repository,
    layout,
    pathTemplate: layout.path,
    pipelineName,
    pipeline,
    image: annotations[ANNOTATION_IMAGE]?.trim() || undefined,
    versionKey,
    readable: readableIn(repository),
    specs,
  };
}

/**
 * The specs of an entity whose environments an Argo CD manifest gives, read from `snapshot` (the
 * target's repository, at the commit the manifest is read at): an environment the manifest does
 * not give, or gives wrongly, is an error of that environment only.
 */
export async function manifestSpecs(
  target: EntityTarget,
  snapshot: RepositorySnapshot,
  config: PromotionsConfig,
  readableIn: (repository: RepositoryConfig) => ReadablePaths,
): Promise<Map<string, EnvironmentSpec | { error: string }>> {
  const file = target.layout.argocdManifest!;
  const environments = target.pipeline.map(env => env.name);
  const failAll = (error: string) =>
    new Map(environments.map(name => [name, { error }]));
  if (!snapshot.files.has(file)) {
    return failAll(
      `${file}: no such file in repository ${target.repository.id}`,
    );
  }
  let manifest;
  try {
    manifest = await readArgoCdManifest(snapshot, file, {
      file,
      gitRepository: manifestGitRepository(target, snapshot, readableIn),
    });
  } catch (error) {
    return failAll(error instanceof Error ? error.message : String(error));
  }
  const found = manifestEnvironments(manifest, {
    file,
    environments,
    repositories: [...config.repositories.values()],
    isHelmChart: path => snapshot.files.has(`${path}/Chart.yaml`),
  });
  const specs = new Map<string, EnvironmentSpec | { error: string }>();
  for (const name of environments) {
    const entry = found.get(name);
    if (!entry || 'error' in entry) {
      specs.set(name, {
        error: entry?.error ?? `no Application of ${file} deploys ${name}`,
      });
      continue;
    }
    const repository = config.repositories.get(entry.repositoryId)!;
    const readable = readableIn(repository);
    const unreadable = [entry.path, ...(entry.helm?.valueFiles ?? [])].find(
      path => !isReadable(readable, path),
    );
    if (unreadable) {
      specs.set(name, {
        error: `${file}: Application ${entry.application} reads ${unreadable}, which repository ${repository.id} does not let this entity read (${readable.description})`,
      });
      continue;
    }
    specs.set(name, {
      name,
      repository,
      readable,
      read: entry.ref ? { kind: 'ref', name: entry.ref } : { kind: 'default' },
      path: entry.path,
      ...(entry.helm ? { helm: entry.helm } : {}),
      ...(entry.kustomizeImages
        ? { kustomizeImages: entry.kustomizeImages }
        : {}),
      application: entry.application,
      manifest: file,
    });
  }
  return specs;
}

/**
 * What a manifest's git generators read: the target's repository at the commit the manifest is
 * read at, and only the files the entity may read, as everything else.
 */
export function manifestGitRepository(
  target: EntityTarget,
  snapshot: RepositorySnapshot,
  readableIn: (repository: RepositoryConfig) => ReadablePaths,
) {
  return async (repoURL: string, revision: string) =>
    isRepositoryURL(target.repository, repoURL) &&
    ['', 'HEAD', target.repository.branch].includes(revision)
      ? readableSnapshot(snapshot, readableIn(target.repository))
      : undefined;
}

/**
 * A snapshot holding only the files `readable` allows: what a manifest's generators list and
 * read. A file outside it is as absent as a file the repository does not have.
 */
export function readableSnapshot(
  snapshot: RepositorySnapshot,
  readable: ReadablePaths,
): RepositorySnapshot {
  const files = new Map(
    [...snapshot.files].filter(([path]) => isReadable(readable, path)),
  );
  return {
    commit: snapshot.commit,
    files,
    readFile: async path =>
      files.has(path) ? snapshot.readFile(path) : undefined,
  };
}

/** What a target's entity may read of a repository, as `readEntityTarget` decides it. */
export function readableOf(entity: Entity) {
  return (repository: RepositoryConfig) => readableBy(entity, repository);
}

/** Whether a location names a place inside a repository's URL. */
function locatedIn(location: string | undefined, repository: RepositoryConfig) {
  if (!location) return false;
  if (location.startsWith(`${GITOPS_LOCATION_TYPE}:${repository.id}:`)) {
    return true;
  }
  const url = repository.url.replace(/\.git$/, '').replace(/\/+$/, '');
  return (
    /^[a-z][a-z0-9+.-]*:\/\//i.test(url) && location.startsWith(`url:${url}/`)
  );
}

/**
 * What of a repository an entity may read: the repository's `paths` rules filled in with the
 * entity's values; without rules, the whole repository for an entity registered from inside it,
 * and nothing for any other.
 */
function readableBy(
  entity: Entity,
  repository: RepositoryConfig,
): ReadablePaths {
  if (repository.paths) return entityPathRules(repository.paths, entity);
  const annotations = entity.metadata.annotations ?? {};
  const inside = [
    annotations[ANNOTATION_LOCATION],
    annotations[ANNOTATION_ORIGIN_LOCATION],
  ].some(location => locatedIn(location, repository));
  return {
    patterns: inside ? ['^'] : [],
    description: inside
      ? 'the entity is registered from inside it'
      : 'it has no paths rules, and the entity is not registered from inside it',
  };
}

/** What of a target decides an entity's state, for fingerprints (not the whole config). */
export function targetKey(target: EntityTarget) {
  return [
    target.entityRef,
    target.repository.id,
    target.layout,
    target.pipelineName,
    target.pipeline.map(env => [env.name, env.requires]),
    target.image ?? null,
    target.versionKey ?? null,
    target.repository.paths ?? null,
  ];
}

/** How an entity's environments are resolved: its image, version key and readable paths. */
export const resolveOptionsOf = (target: EntityTarget) => ({
  image: target.image,
  versionKey: target.versionKey,
  readable: target.readable,
});

/** How one environment is resolved: the entity's options, with what its spec adds. */
export const specResolveOptions = (
  target: EntityTarget,
  spec: EnvironmentSpec,
): ResolveOptions => ({
  image: target.image,
  versionKey: target.versionKey,
  readable: spec.readable,
  ...(spec.helm ? { helm: spec.helm } : {}),
  ...(spec.kustomizeImages ? { kustomizeImages: spec.kustomizeImages } : {}),
});

/** Where a spec reads an environment from, for a sentence. */
function describeRead(spec: EnvironmentSpec): string {
  switch (spec.read.kind) {
    case 'branch':
      return `the branch ${spec.read.name}`;
    case 'tag':
      return `tags matching ${spec.read.pattern}`;
    case 'ref':
      return `the revision ${spec.read.name}`;
    default:
      return `repository ${spec.repository.id}`;
  }
}

/**
 * Why the workflow does not change an environment, in a sentence for its card; undefined when it
 * does. It writes an environment's files on the branch it is read from, in the repository it is
 * read from; an environment read from a tag or a fixed commit is changed by whoever makes those.
 */
export function notPromotableReason(
  target: EntityTarget,
  environment: string,
): string | undefined {
  const spec = target.specs?.find(s => s.name === environment);
  if (!spec) {
    return `${environment} is not given by the Argo CD manifest ${target.layout.argocdManifest} as it reads now, so the portal cannot change it`;
  }
  if (spec.read.kind === 'tag') {
    return `${environment} is read from ${describeRead(
      spec,
    )}: a new tag promotes it, and the portal does not make or move tags`;
  }
  if (spec.read.kind === 'ref') {
    const revision = revisionOf(spec.read.name);
    if (revision.kind === 'tag') {
      return `${environment} is read at the tag ${revision.name}: a new tag promotes it, and the portal does not make or move tags`;
    }
    if (revision.kind === 'any' && /^[0-9a-f]{40}$/.test(revision.name)) {
      return `${environment} is read at the commit ${revision.name.slice(
        0,
        12,
      )}: changing the commit ${
        spec.manifest ?? 'its manifest'
      } names promotes it`;
    }
  }
  return undefined;
}

/**
 * The spec of an environment as the workflow writes it; an InputError naming the reason for an
 * environment it does not change.
 */
export function writableSpec(
  target: EntityTarget,
  environment: string,
): EnvironmentSpec {
  const reason = notPromotableReason(target, environment);
  if (reason) {
    throw new InputError(
      `${target.entityRef}: promoting from the portal is not supported here: ${reason}`,
    );
  }
  return target.specs!.find(s => s.name === environment)!;
}
