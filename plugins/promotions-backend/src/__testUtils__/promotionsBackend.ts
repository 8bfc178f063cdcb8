import {
  BackendFeature,
  coreServices,
  createServiceFactory,
  ServiceFactory,
} from '@backstage/backend-plugin-api';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import { JsonObject } from '@backstage/types';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { Knex } from 'knex';
import request from 'supertest';
import { promotionsPlugin } from '../plugin';

/**
 * A component annotated as the tests need; with `owner`, owned by it, with the relation the
 * catalog adds for that.
 */
export const component = (
  name: string,
  annotations: Record<string, string>,
  owner?: string,
): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name, namespace: 'default', annotations },
  spec: { type: 'service', owner: owner ?? 'guests', lifecycle: 'production' },
  ...(owner ? { relations: [{ type: 'ownedBy', targetRef: owner }] } : {}),
});

/** A component whose environments are at `pathTemplate` in `repository`. */
export const repositoryComponent = (
  name: string,
  repository: string,
  pathTemplate: string,
  owner?: string,
): Entity =>
  component(
    name,
    {
      'gitops-promotions/repository': repository,
      'gitops-promotions/path': pathTemplate,
    },
    owner,
  );

/** The user a catalog request is made for, if it carries a user's credentials. */
export const userOf = (options: unknown): string | undefined =>
  (options as { credentials?: { principal?: { userEntityRef?: string } } })
    ?.credentials?.principal?.userEntityRef;

/** Every row of every table, as text: what the database holds. */
export async function everyRow(knex: Knex): Promise<string> {
  const client = String(knex.client.config.client);
  const tables: string[] = client.includes('sqlite')
    ? await knex('sqlite_master').where('type', 'table').pluck('name')
    : await knex('information_schema.tables')
        .where('table_schema', 'public')
        .pluck('table_name');
  const rows = await Promise.all(tables.map(table => knex(table).select()));
  return JSON.stringify(rows);
}

/** A scheduler that runs tasks only when triggered, so that each refresh is the test's to make. */
export function manualScheduler() {
  const scheduler = mockServices.scheduler() as ReturnType<
    typeof mockServices.scheduler
  > & {
    factory(options: { skipTaskRunOnStartup: boolean }): ServiceFactory;
  };
  return {
    scheduler,
    factory: scheduler.factory({ skipTaskRunOnStartup: true }),
  };
}

/** Hands `knex` to the promotions plugin and `otherKnex` to the others. */
function databaseFactory(knex: Knex, otherKnex = knex) {
  return createServiceFactory({
    service: coreServices.database,
    deps: { plugin: coreServices.pluginMetadata },
    factory: ({ plugin }) =>
      mockServices.database({
        knex: plugin.getId() === 'promotions' ? knex : otherKnex,
      }),
  });
}

/**
 * The promotions backend in a test backend: the catalog holds `entities`, the configuration is
 * `config`, and the database is `knex` (the test backend's own when not given).
 */
export async function startPromotionsBackend(options: {
  config: JsonObject;
  entities: Entity[];
  knex?: Knex;
  /** The database of the other plugins, such as the events backend's; `knex` when not given. */
  otherKnex?: Knex;
  /** More features: modules, or services in place of the defaults. */
  features?: BackendFeature[];
}) {
  const { scheduler, factory } = manualScheduler();
  const { server } = await startTestBackend({
    features: [
      promotionsPlugin,
      factory,
      ...(options.knex
        ? [databaseFactory(options.knex, options.otherKnex)]
        : []),
      catalogServiceMock.factory({ entities: options.entities }),
      ...(options.features ?? []),
      mockServices.rootConfig.factory({ data: options.config }),
    ],
  });
  return {
    server,
    scheduler,
    /** Refreshes a repository now. */
    refresh: (repositoryId = 'gitops') =>
      scheduler.triggerTask(`promotions-refresh:${repositoryId}`),
    /** Asks for an entity's promotions, as the default test credentials. */
    get: (name: string, namespace = 'default', kind = 'component') =>
      request(server).get(
        `/api/promotions/v1/entities/${kind}/${namespace}/${name}`,
      ),
  };
}
