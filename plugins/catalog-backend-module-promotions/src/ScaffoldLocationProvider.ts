import crypto from 'node:crypto';
import {
  AuthService,
  DiscoveryService,
  LoggerService,
  SchedulerServiceTaskRunner,
} from '@backstage/backend-plugin-api';
import {
  ANNOTATION_LOCATION,
  ANNOTATION_ORIGIN_LOCATION,
  LocationEntity,
} from '@backstage/catalog-model';
import { ResponseError } from '@backstage/errors';
import {
  EntityProvider,
  EntityProviderConnection,
} from '@backstage/plugin-catalog-node';
import {
  GITOPS_LOCATION_TYPE,
  gitopsLocationTarget,
  PROMOTIONS_API_ROUTES,
  Scaffold,
} from '@gitops-promotions/plugin-promotions-common';
import { PromotionsRepositoriesService } from '@gitops-promotions/plugin-promotions-node';

/**
 * Registers the services the software template published, as the promotions backend records
 * them: from the branch they were published to while the layout waits to be merged, from the
 * repository's own branch once it is. These locations are the only `gitops-promotions` ones:
 * nobody registers them through the catalog's API.
 *
 * @public
 */
export class ScaffoldLocationProvider implements EntityProvider {
  private connection?: EntityProviderConnection;
  /** The branches a `gitops-promotions` location may name, by repository. */
  private readonly branches = new Map<string, Set<string>>();

  constructor(
    private readonly deps: {
      discovery: DiscoveryService;
      auth: AuthService;
      repositories: PromotionsRepositoriesService;
      logger: LoggerService;
      taskRunner: SchedulerServiceTaskRunner;
    },
  ) {}

  getProviderName() {
    return 'promotions-scaffolds';
  }

  async connect(connection: EntityProviderConnection): Promise<void> {
    this.connection = connection;
    await this.deps.taskRunner.run({
      id: 'promotions-scaffold-locations',
      fn: () => this.refresh(),
    });
  }

  /** Whether a location may read this branch of this repository. */
  allows(repositoryId: string, branch: string): boolean {
    const repository =
      this.deps.repositories.config.repositories.get(repositoryId);
    if (!repository) return false;
    return (
      branch === repository.branch ||
      (this.branches.get(repositoryId)?.has(branch) ?? false)
    );
  }

  async refresh(): Promise<void> {
    const scaffolds = await this.fetchScaffolds();
    this.branches.clear();
    const entities = scaffolds.flatMap(scaffold => {
      const repository = this.deps.repositories.config.repositories.get(
        scaffold.repository,
      );
      if (!repository) return [];
      const branch =
        scaffold.state === 'pending' ? scaffold.branch : repository.branch;
      const known = this.branches.get(repository.id) ?? new Set<string>();
      known.add(branch);
      this.branches.set(repository.id, known);
      return [
        this.location(scaffold.entityRef, repository.id, branch, scaffold.path),
      ];
    });
    await this.connection?.applyMutation({
      type: 'full',
      entities: entities.map(entity => ({
        entity,
        locationKey: this.getProviderName(),
      })),
    });
  }

  private location(
    entityRef: string,
    repositoryId: string,
    branch: string,
    path: string,
  ): LocationEntity {
    const target = gitopsLocationTarget(repositoryId, branch, path);
    const managedBy = `${GITOPS_LOCATION_TYPE}:${target}`;
    const name = `promotions-${crypto
      .createHash('sha256')
      .update(entityRef)
      .digest('hex')
      .slice(0, 24)}`;
    return {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Location',
      metadata: {
        name,
        description: `Where ${entityRef}, published by the GitOps service template, is read from`,
        annotations: {
          [ANNOTATION_LOCATION]: managedBy,
          [ANNOTATION_ORIGIN_LOCATION]: managedBy,
        },
      },
      spec: { type: GITOPS_LOCATION_TYPE, target },
    };
  }

  private async fetchScaffolds(): Promise<Scaffold[]> {
    const baseUrl = await this.deps.discovery.getBaseUrl('promotions');
    const { token } = await this.deps.auth.getPluginRequestToken({
      onBehalfOf: await this.deps.auth.getOwnServiceCredentials(),
      targetPluginId: 'promotions',
    });
    const response = await fetch(
      `${baseUrl}${PROMOTIONS_API_ROUTES.scaffolds}`,
      {
        headers: { authorization: `Bearer ${token}` },
      },
    );
    if (!response.ok) throw await ResponseError.fromResponse(response);
    return ((await response.json()) as { items: Scaffold[] }).items;
  }
}
