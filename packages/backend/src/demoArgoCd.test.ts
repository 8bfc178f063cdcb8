import path from 'node:path';
import {
  coreServices,
  createBackendPlugin,
  RootConfigService,
} from '@backstage/backend-plugin-api';
import { rootConfigServiceFactory } from '@backstage/backend-defaults/rootConfig';
import { startTestBackend } from '@backstage/backend-test-utils';
import { demoArgoCdSettings } from './demoArgoCd';

const root = path.resolve(__dirname, '../../..');

/** The root config the example backend reads from these files. */
async function configOf(files: string[]): Promise<RootConfigService> {
  let captured: RootConfigService | undefined;
  const capture = createBackendPlugin({
    pluginId: 'capture',
    register(reg) {
      reg.registerInit({
        deps: { config: coreServices.rootConfig },
        async init({ config }) {
          captured = config;
        },
      });
    },
  });
  const backend = await startTestBackend({
    features: [
      rootConfigServiceFactory({
        argv: files.flatMap(file => ['--config', path.join(root, file)]),
      }),
      capture,
    ],
  });
  await backend.stop();
  return captured!;
}

describe('the demo Argo CD', () => {
  it('starts with the example portal, synced to the example repository, and is the configured instance', async () => {
    const config = await configOf(['app-config.yaml']);
    expect(demoArgoCdSettings(config, {})).toEqual({
      port: 7008,
      repositoryDir: expect.stringMatching(/\.example-gitops$/),
    });
    expect(
      config
        .getConfigArray('promotions.argocd.instances')
        .map(i => [i.getString('name'), i.getString('url')]),
    ).toEqual([['demo-simulated', 'http://127.0.0.1:7008']]);
  });

  it('never starts under the production configuration, which names no demo instance', async () => {
    const config = await configOf([
      'app-config.yaml',
      'app-config.production.yaml',
    ]);
    expect(demoArgoCdSettings(config, {})).toBeUndefined();
    expect(config.getConfigArray('promotions.argocd.instances')).toEqual([]);
  });

  it('never starts under NODE_ENV=production, whatever the configuration says', async () => {
    const config = await configOf(['app-config.yaml']);
    expect(
      demoArgoCdSettings(config, { NODE_ENV: 'production' }),
    ).toBeUndefined();
  });
});
