import fs from 'node:fs/promises';
import path from 'node:path';
import { PermissionsService } from '@backstage/backend-plugin-api';
import {
  Entity,
  parseEntityRef,
  RELATION_OWNED_BY,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { ConflictError, InputError, NotAllowedError } from '@backstage/errors';
import { BackstageCredentials } from '@backstage/backend-plugin-api';
import {
  environmentNameProblem,
  promotionsLayoutPublishPermission,
} from '@gitops-promotions/plugin-promotions-common';
import {
  entityPathRules,
  FileChange,
  isReadable,
  PromotionsConfig,
  RepositoryConfig,
  RepositorySnapshot,
} from '@gitops-promotions/plugin-promotions-node';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { parseAllDocuments } from 'yaml';
import type { z as zod } from 'zod/v3';
import {
  isOwnedPath,
  repositoryPathProblem,
  ServiceLayout,
  serviceLayout,
} from '../serviceLayout';
import {
  controlCharacterProblem,
  dnsLabelProblem,
  ownerProblem,
} from '../validation';
import { allowsNewEntity } from './newEntityDecision';

/** The workspace's files as changes to commit; links are refused rather than followed. */
export async function workspaceChanges(root: string): Promise<FileChange[]> {
  const changes: FileChange[] = [];
  const walk = async (dir: string) => {
    for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
      if (entry.name === '.git') continue;
      const full = path.join(dir, entry.name);
      const relative = path.relative(root, full).split(path.sep).join('/');
      if (entry.isSymbolicLink()) {
        throw new InputError(
          `the workspace has a symbolic link at ${relative}; nothing is published through it`,
        );
      }
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) {
        changes.push({ path: relative, content: await fs.readFile(full) });
      }
    }
  };
  await walk(root);
  return changes;
}

/**
 * Why a catalog file's entity is not a new service's, if it is not: a service is registered as a
 * named Component, the only entity its layout declares.
 */
export function catalogEntityProblem(
  file: string,
  entity: unknown,
): string | undefined {
  const { kind, metadata } = (entity ?? {}) as Partial<Entity>;
  if (kind !== 'Component') {
    return `${file} declares ${
      typeof kind === 'string' ? `a ${JSON.stringify(kind)}` : 'no kind'
    }, not a Component`;
  }
  if (typeof metadata?.name !== 'string') {
    return `${file} declares no entity`;
  }
  return undefined;
}

/** The owner of the entities a catalog file declares, checked to be the service's. */
function catalogFileOwner(
  change: FileChange | undefined,
  service: string,
): string | undefined {
  if (!change) return undefined;
  const owners = new Set<string>();
  const text = change.content?.toString('utf8') ?? '';
  for (const document of parseAllDocuments(text)) {
    const entity = document.toJS({ maxAliasCount: 100 }) as Entity | null;
    if (!entity) continue;
    const problem = catalogEntityProblem(change.path, entity);
    if (problem) throw new InputError(problem);
    if (
      entity.metadata?.name !== service ||
      (entity.metadata.namespace ?? 'default') !== 'default'
    ) {
      throw new NotAllowedError(
        `${change.path} declares ${JSON.stringify(
          entity.metadata?.name,
        )}, not the service ${service}; nothing was published`,
      );
    }
    if (typeof entity.spec?.owner === 'string') owners.add(entity.spec.owner);
  }
  if (owners.size > 1) {
    throw new InputError(`${change.path} names several owners`);
  }
  return [...owners][0];
}

/** An entity with the owner relation the catalog will give it, for the permission decision. */
export function withOwnerRelation(entity: Entity): Entity {
  const owner = entity.spec?.owner;
  return {
    ...entity,
    relations:
      typeof owner === 'string'
        ? [
            {
              type: RELATION_OWNED_BY,
              targetRef: stringifyEntityRef(
                parseEntityRef(owner, {
                  defaultKind: 'group',
                  defaultNamespace: 'default',
                }),
              ),
            },
          ]
        : [],
  };
}

/** The service as the catalog will hold it once registered, for the permission decision. */
export function newServiceEntity(
  service: string,
  owner: string | undefined,
): Entity {
  return withOwnerRelation({
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: { name: service, namespace: 'default' },
    spec: owner ? { owner } : {},
  });
}

/** Refuses unless `promotions.layout.publish` allows the user on the new service. */
export async function authorizePublish(options: {
  permissions: PermissionsService;
  credentials: BackstageCredentials;
  entity: Entity;
  repository: string;
}): Promise<void> {
  const { entity } = options;
  const [decision] = await options.permissions.authorizeConditional(
    [{ permission: promotionsLayoutPublishPermission }],
    { credentials: options.credentials },
  );
  if (!allowsNewEntity(decision, entity)) {
    const owner = entity.spec?.owner;
    throw new NotAllowedError(
      `You may not publish the layout of ${stringifyEntityRef(entity)}${
        owner ? ` owned by ${owner}` : ''
      } to repository ${options.repository}`,
    );
  }
}

/**
 * The checks every publication of a new service's layout passes, whichever action then writes
 * it: the workspace holds only the service's own files (and those the repository's paths rules
 * give its owner), its catalog file names the service and its owner, and
 * `promotions.layout.publish` allows the user on it. Gives the files to publish.
 */
export async function checkPublication(options: {
  permissions: PermissionsService;
  credentials: BackstageCredentials;
  repository: RepositoryConfig;
  workspacePath: string;
  service: string;
  layout: ServiceLayout;
  owner?: string;
}): Promise<FileChange[]> {
  const { service, layout, repository } = options;
  const changes = await workspaceChanges(options.workspacePath);
  const catalogOwner = catalogFileOwner(
    changes.find(
      c => c.path === `${layout.serviceDirectory}/catalog-info.yaml`,
    ),
    service,
  );
  if (
    options.owner !== undefined &&
    catalogOwner !== undefined &&
    catalogOwner !== options.owner
  ) {
    throw new NotAllowedError(
      `The catalog file names owner ${catalogOwner}, not ${options.owner}; nothing was published`,
    );
  }
  const entity = newServiceEntity(service, options.owner ?? catalogOwner);
  await authorizePublish({
    permissions: options.permissions,
    credentials: options.credentials,
    entity,
    repository: repository.id,
  });
  const readable = repository.paths
    ? entityPathRules(repository.paths, entity)
    : undefined;
  const outside = changes
    .map(change => change.path)
    .filter(
      file =>
        repositoryPathProblem('file', file) !== undefined ||
        !isOwnedPath(layout, file) ||
        (readable && !isReadable(readable, file)),
    );
  if (outside.length > 0) {
    throw new NotAllowedError(
      `The workspace holds files outside ${service}'s own paths (${layout.ownedPaths.join(
        ', ',
      )}): ${outside.slice(0, 5).join(', ')}; nothing was published`,
    );
  }
  return changes;
}

/**
 * Refuses a new service whose files the repository's branch already holds: publishing over them
 * would take over a service someone else owns.
 */
export function refuseExistingService(
  snapshot: RepositorySnapshot,
  layout: ServiceLayout,
  repository: string,
  service: string,
): void {
  const directory = `${layout.serviceDirectory}/`;
  const existing = [...snapshot.files.keys()].find(
    file => file.startsWith(directory) || isOwnedPath(layout, file),
  );
  if (existing) {
    throw new ConflictError(
      `Repository ${repository} already holds ${existing}: ${service} exists there (in ${layout.serviceDirectory}); nothing was published`,
    );
  }
}

/**
 * Refuses a new service the catalog already holds, someone else's included, whatever the user may
 * see of it; only the entity the location `target` registered may be there (a retried step).
 */
export async function refuseCatalogedService(options: {
  catalog: CatalogService;
  credentials: BackstageCredentials;
  entityRef: string;
  target?: string;
}): Promise<void> {
  const { entityRef, target } = options;
  const existing = await options.catalog.getEntityByRef(entityRef, {
    credentials: options.credentials,
  });
  if (
    existing &&
    (target === undefined ||
      existing.metadata.annotations?.['backstage.io/managed-by-location'] !==
        `gitops-promotions:${target}`)
  ) {
    throw new ConflictError(
      `${entityRef} is already in the catalog; a new service needs a name of its own`,
    );
  }
}

/** The inputs an action publishing a new service's layout takes, beside its repository. */
export const publicationInputSchema = {
  service: (z: typeof zod) =>
    z
      .string()
      .describe(
        'The new service (DNS-1123 label): only its own files may be published',
      ),
  layout: (z: typeof zod) =>
    z
      .enum(['kustomize', 'helm'])
      .default('kustomize')
      .describe('The layout promotions:plan-environments planned'),
  environments: (z: typeof zod) =>
    z
      .array(z.string())
      .min(1)
      .describe(
        "The planned environments' names (plan-environments' environmentNames)",
      ),
  serviceDirectory: (z: typeof zod) =>
    z
      .string()
      .optional()
      .describe(
        "The service's directory as plan-environments gives it; refused when it is not the plan's",
      ),
  owner: (z: typeof zod) =>
    z
      .string()
      .optional()
      .describe(
        "The service's owner: whom the permission is decided for, and the repository's paths rules may name",
      ),
};

/** What an action publishing a new service's layout is told about it. */
export interface PublicationInput {
  repository: string;
  service: string;
  layout?: 'kustomize' | 'helm';
  environments?: string[];
  serviceDirectory?: string;
  owner?: string;
}

/**
 * The configured repository and the layout a publication writes, once every input is checked:
 * no control character, a DNS-1123 service and environment names, and the plan's directory.
 */
export function publicationTarget(
  config: PromotionsConfig,
  input: PublicationInput & Record<string, unknown>,
): { layout: ServiceLayout; repository: RepositoryConfig } {
  const { service } = input;
  const kind = input.layout ?? 'kustomize';
  const environments = input.environments ?? [];
  // Whatever the form let through, no control character reaches a path, a ref or a commit.
  const problems = [
    ...Object.entries(input).flatMap(([key, value]) =>
      (Array.isArray(value) ? value : [value]).map(item =>
        controlCharacterProblem(key, item),
      ),
    ),
    dnsLabelProblem('service name', service),
    environments.length === 0 ? 'environments: the plan names none' : undefined,
    ...environments.map(environmentNameProblem),
    input.owner === undefined ? undefined : ownerProblem(input.owner),
    input.serviceDirectory === undefined
      ? undefined
      : repositoryPathProblem('serviceDirectory', input.serviceDirectory),
  ].filter((p): p is string => p !== undefined);
  if (problems.length > 0) {
    throw new InputError(
      `Nothing was published: ${[...new Set(problems)].join('; ')}`,
    );
  }
  const layout = serviceLayout(service, kind, environments);
  if (
    input.serviceDirectory !== undefined &&
    input.serviceDirectory !== layout.serviceDirectory
  ) {
    throw new InputError(
      `serviceDirectory "${input.serviceDirectory}" is not where a ${kind} layout of ${service} lives (${layout.serviceDirectory}); nothing was published`,
    );
  }
  const repository = config.repositories.get(input.repository);
  if (!repository) {
    throw new InputError(
      `repository "${input.repository}" is not in promotions.repositories`,
    );
  }
  return { layout, repository };
}
