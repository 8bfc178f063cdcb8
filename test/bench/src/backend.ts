/**
 * The backend the benchmark measures: the catalog, the promotions backend and what they need
 * (auth with guest sign-in, permissions), as a portal would run them. Started as a child process
 * with `--config <file>`.
 */
import { createBackend } from '@backstage/backend-defaults';

const backend = createBackend();
backend.add(import('@backstage/plugin-auth-backend'));
backend.add(import('@backstage/plugin-auth-backend-module-guest-provider'));
backend.add(import('@backstage/plugin-catalog-backend'));
backend.add(import('@backstage/plugin-permission-backend'));
backend.add(
  import('@backstage/plugin-permission-backend-module-allow-all-policy'),
);
backend.add(import('@gitops-promotions/plugin-promotions-backend'));
backend.start();
