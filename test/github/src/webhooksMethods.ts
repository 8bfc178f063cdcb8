import fs from 'node:fs';
import path from 'node:path';

type WebhooksMethods = typeof import('@octokit/webhooks-methods');

let loaded: WebhooksMethods | undefined;

/**
 * `sign` and `verify` of `@octokit/webhooks-methods`, which exports its entry point under the
 * `import` condition only: Jest's CommonJS resolver cannot find it by name, so it is loaded by
 * path from the node_modules Node would look in (Jest transforms it; Node 22 requires ES modules).
 */
export function webhooksMethods(): WebhooksMethods {
  if (loaded) return loaded;
  for (const dir of require.resolve.paths('@octokit/webhooks-methods') ?? []) {
    const entry = path.join(
      dir,
      '@octokit/webhooks-methods/dist-node/index.js',
    );
    if (fs.existsSync(entry)) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      loaded = require(entry) as WebhooksMethods;
      return loaded;
    }
  }
  throw new Error('@octokit/webhooks-methods is not installed');
}
