import {
  ANNOTATION_LOCATION,
  ANNOTATION_ORIGIN_LOCATION,
  Entity,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import {
  ANNOTATION_IMAGE,
  ANNOTATION_PATH,
  ANNOTATION_PIPELINE,
  ANNOTATION_REPOSITORY,
  ANNOTATION_VERSION_KEY,
  DEFAULT_PIPELINE,
  environmentPath,
  GITOPS_LOCATION_TYPE,
  pathTemplateProblem,
} from '@gitops-promotions/plugin-promotions-common';
import {
  entityPathRules,
  isReadable,
  isUnsafeKeyPath,
  PipelineEnvironment,
  PromotionsConfig,
  ReadablePaths,
  RepositoryConfig,
} from '@gitops-promotions/plugin-promotions-node';

/** Where and how an entity's environments are read, from its annotations and the config. */
export interface EntityTarget {
  entityRef: string;
  repository: RepositoryConfig;
  pathTemplate: string;
  pipelineName: string;
  pipeline: PipelineEnvironment[];
  image?: string;
  versionKey?: string;
  /** The paths of the repository this entity may read. */
  readable: ReadablePaths;
}

/** Reads an entity's annotations; a mistake in them is an InputError that says which and why. */
export function readEntityTarget(
  entity: Entity,
  config: PromotionsConfig,
): EntityTarget {
  const entityRef = stringifyEntityRef(entity);
  const annotations = entity.metadata.annotations ?? {};
  const repositoryId = annotations[ANNOTATION_REPOSITORY]?.trim();
  if (!repositoryId) {
    throw new InputError(
      `${entityRef} has no ${ANNOTATION_REPOSITORY} annotation`,
    );
  }
  const repository = config.repositories.get(repositoryId);
  if (!repository) {
    const known = [...config.repositories.keys()].join(', ') || 'none';
    throw new InputError(
      `${entityRef}: ${ANNOTATION_REPOSITORY} "${repositoryId}" is not a configured repository (configured: ${known})`,
    );
  }
  const pathTemplate = annotations[ANNOTATION_PATH]?.trim();
  if (!pathTemplate) {
    throw new InputError(`${entityRef} has no ${ANNOTATION_PATH} annotation`);
  }
  const problem = pathTemplateProblem(pathTemplate);
  if (problem)
    throw new InputError(`${entityRef}: ${ANNOTATION_PATH}: ${problem}`);

  const pipelineName =
    annotations[ANNOTATION_PIPELINE]?.trim() || DEFAULT_PIPELINE;
  const pipeline = config.pipelines.get(pipelineName);
  if (!pipeline) {
    const known = [...config.pipelines.keys()].join(', ');
    throw new InputError(
      `${entityRef}: ${ANNOTATION_PIPELINE} "${pipelineName}" is not a configured pipeline (configured: ${known})`,
    );
  }
  const readable = readableBy(entity, repository);
  for (const env of pipeline) {
    const envPath = environmentPath(pathTemplate, env.name);
    if (!isReadable(readable, envPath)) {
      throw new InputError(
        `${entityRef}: ${ANNOTATION_PATH} "${pathTemplate}" reads ${envPath} for ${env.name}, which repository ${repository.id} does not let this entity read (${readable.description})`,
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
    pathTemplate,
    pipelineName,
    pipeline,
    image: annotations[ANNOTATION_IMAGE]?.trim() || undefined,
    versionKey,
    readable,
  };
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
    target.pathTemplate,
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
