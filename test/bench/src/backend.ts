/**
 * The backend the benchmark measures: the catalog, the promotions backend and what they need
 * (auth with guest sign-in, permissions, GitHub webhooks), as a portal would run them. Started as a child process
 * with `--config <file>`; with `BENCH_WITHOUT_PROMOTIONS=1`, without the promotions backend; with
 * `BENCH_POLICY=owners`, under a policy that lets a user read only what their groups own.
 */
import { createBackend } from '@backstage/backend-defaults';
import { ownersReadPolicyModule } from './ownersPolicy';

const backend = createBackend();
backend.add(import('@backstage/plugin-auth-backend'));
backend.add(import('@backstage/plugin-auth-backend-module-guest-provider'));
backend.add(import('@backstage/plugin-catalog-backend'));
backend.add(import('@backstage/plugin-permission-backend'));
if (process.env.BENCH_POLICY === 'owners') {
  backend.add(ownersReadPolicyModule);
} else {
  backend.add(
    import('@backstage/plugin-permission-backend-module-allow-all-policy'),
  );
}
// GitHub webhooks at /api/events/http/github, as the example portal receives them.
backend.add(import('@backstage/plugin-events-backend'));
backend.add(import('@backstage/plugin-events-backend-module-github'));
// The reference the benchmark measures memory against: the same portal without the suite.
if (process.env.BENCH_WITHOUT_PROMOTIONS !== '1') {
  backend.add(import('@gitops-promotions/plugin-promotions-backend'));
}
backend.start();
