import { createBackend } from '@backstage/backend-defaults';
import { demoArgoCdModule } from './demoArgoCd';
import { exampleSignInModule } from './exampleSignIn';
import { examplePermissionPolicyModule } from './permissionPolicy';

const backend = createBackend();

backend.add(import('@backstage/plugin-app-backend'));
backend.add(import('@backstage/plugin-proxy-backend'));

backend.add(import('@backstage/plugin-auth-backend'));
backend.add(import('@backstage/plugin-auth-backend-module-guest-provider'));
backend.add(exampleSignInModule);

backend.add(import('@backstage/plugin-catalog-backend'));
backend.add(
  import('@backstage/plugin-catalog-backend-module-scaffolder-entity-model'),
);
backend.add(import('@backstage/plugin-catalog-backend-module-logs'));

backend.add(import('@backstage/plugin-permission-backend'));
backend.add(examplePermissionPolicyModule);

backend.add(import('@backstage/plugin-scaffolder-backend'));
backend.add(import('@backstage/plugin-scaffolder-backend-module-github'));

backend.add(import('@backstage/plugin-events-backend'));
// GitHub webhooks at /api/events/http/github, refused unless signed with
// events.modules.github.webhookSecret: a push refreshes its repository at once.
backend.add(import('@backstage/plugin-events-backend-module-github'));
// Tells an open Promotions tab that its entity changed, so that it reads it again.
backend.add(import('@backstage/plugin-signals-backend'));
// Promotions waiting for approval, blocked, stale or rolled back reach their people here.
backend.add(import('@backstage/plugin-notifications-backend'));

backend.add(import('@gitops-promotions/plugin-promotions-backend'));
// The promotions actions as MCP tools at /api/mcp-actions/v1, for agents holding a Backstage token.
backend.add(import('@backstage/plugin-mcp-actions-backend'));
backend.add(demoArgoCdModule);
backend.add(
  import('@gitops-promotions/plugin-scaffolder-backend-module-promotions'),
);
backend.add(
  import('@gitops-promotions/plugin-catalog-backend-module-promotions'),
);

backend.start();
