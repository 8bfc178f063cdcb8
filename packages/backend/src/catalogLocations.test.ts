import path from 'node:path';
import { AddressInfo } from 'node:net';
import { permissionsServiceFactory } from '@backstage/backend-defaults/permissions';
import { rootConfigServiceFactory } from '@backstage/backend-defaults/rootConfig';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
  TestDatabases,
} from '@backstage/backend-test-utils';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import permissionPlugin from '@backstage/plugin-permission-backend';
import catalogModulePromotions from '@gitops-promotions/plugin-catalog-backend-module-promotions';
import { GITOPS_LOCATION_TYPE } from '@gitops-promotions/plugin-promotions-common';
import {
  examplePermissionPolicyModule,
  PLATFORM_GROUP,
} from './permissionPolicy';

jest.setTimeout(60_000);

const root = path.resolve(__dirname, '../../..');
const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

/** The example backend's catalog and permissions, under its own configuration files. */
async function exampleCatalog(configFiles: string[]) {
  const { server } = await startTestBackend({
    features: [
      // The catalog's own database, whatever the files configure.
      mockServices.database.factory({
        knex: await databases.init('SQLITE_3'),
      }),
      rootConfigServiceFactory({
        argv: configFiles.flatMap(file => ['--config', path.join(root, file)]),
      }),
      permissionsServiceFactory,
      mockServices.userInfo.mock({
        getUserInfo: async credentials => {
          const { userEntityRef } = credentials.principal as {
            userEntityRef: string;
          };
          return {
            userEntityRef,
            ownershipEntityRefs:
              userEntityRef === 'user:default/pat'
                ? [userEntityRef, PLATFORM_GROUP]
                : [userEntityRef, 'group:default/shop-team'],
          };
        },
      }).factory,
      catalogPlugin,
      catalogModulePromotions,
      permissionPlugin,
      examplePermissionPolicyModule,
    ],
  });
  const { port } = server.address() as AddressInfo;
  return (user: string, location: { type: string; target: string }) =>
    fetch(`http://localhost:${port}/api/catalog/locations`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: mockCredentials.user.header(user),
      },
      body: JSON.stringify(location),
    });
}

describe.each([
  [['app-config.yaml']],
  [['app-config.yaml', 'app-config.production.yaml']],
])('the example catalog under %j', configFiles => {
  const published = {
    type: GITOPS_LOCATION_TYPE,
    target: 'example-gitops:main:payment/catalog-info.yaml',
  };

  it('refuses a gitops-promotions location registered through its API, even by the platform group', async () => {
    const register = await exampleCatalog(configFiles);
    const asPlatform = await register('user:default/pat', published);
    expect(asPlatform.status).toBe(400);
    expect((await asPlatform.json()).error.message).toBe(
      'Registered locations must be of an allowed type ["url"]',
    );
  });

  it('lets only the platform group register locations at all', async () => {
    const register = await exampleCatalog(configFiles);
    for (const location of [
      published,
      { type: 'url', target: 'https://example.com/catalog-info.yaml' },
    ]) {
      const asOwner = await register('user:default/ana', location);
      expect(asOwner.status).toBe(403);
    }
  });
});
