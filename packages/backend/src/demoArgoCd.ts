import { execFileSync } from 'node:child_process';
import path from 'node:path';
import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { Config } from '@backstage/config';

/** What `promotions.demo.argocd` asks for: the simulated Argo CD of the example portal. */
export interface DemoArgoCdSettings {
  port: number;
  /** The example GitOps repository the demo's applications are synced to, as a local path. */
  repositoryDir?: string;
}

/**
 * The demo Argo CD to start, or undefined: only when `promotions.demo.argocd.enabled` is true,
 * which the example config sets and the production config turns off, and never when NODE_ENV
 * is production.
 */
export function demoArgoCdSettings(
  config: Config,
  env: NodeJS.ProcessEnv = process.env,
): DemoArgoCdSettings | undefined {
  const demo = config.getOptionalConfig('promotions.demo.argocd');
  if (!demo?.getOptionalBoolean('enabled')) return undefined;
  if (env.NODE_ENV === 'production') return undefined;
  const repositoryId = demo.getOptionalString('repository');
  const repository = config
    .getOptionalConfigArray('promotions.repositories')
    ?.find(r => r.getString('id') === repositoryId);
  return {
    port: demo.getNumber('port'),
    repositoryDir: repository
      ? path.resolve(repository.getString('url'))
      : undefined,
  };
}

/** The commits that touched a path of a local repository, newest first. */
function historyOf(dir: string) {
  return (file: string): string[] => {
    try {
      return execFileSync(
        'git',
        ['-C', dir, 'log', '--format=%H', 'main', '--', file],
        { encoding: 'utf8' },
      )
        .split('\n')
        .filter(Boolean);
    } catch {
      return [];
    }
  };
}

/**
 * Runs the Argo CD simulator as the example portal's demo instance, seeded from the example
 * repository, so that live state shows without a cluster. Production never starts it.
 */
export const demoArgoCdModule = createBackendModule({
  pluginId: 'promotions',
  moduleId: 'demo-argocd',
  register(reg) {
    reg.registerInit({
      deps: {
        config: coreServices.rootConfig,
        logger: coreServices.logger,
        lifecycle: coreServices.lifecycle,
      },
      async init({ config, logger, lifecycle }) {
        const settings = demoArgoCdSettings(config);
        if (!settings) return;
        // A development dependency: loaded only where the demo is asked for.
        const loaded = await import('@internal/argocd-simulator');
        // Imported as CommonJS by Node's own import(), its exports arrive as the default.
        const { startDemoArgoCd } = ((loaded as { default?: typeof loaded })
          .default ?? loaded) as typeof loaded;
        const demo = await startDemoArgoCd({
          port: settings.port,
          history: settings.repositoryDir
            ? historyOf(settings.repositoryDir)
            : undefined,
        });
        logger.info(
          `Started the demo Argo CD (a simulator, not a real Argo CD) at ${demo.url}`,
        );
        lifecycle.addShutdownHook(() => demo.stop());
      },
    });
  },
});
