import { createApp } from '@backstage/frontend-defaults';
import catalogPlugin from '@backstage/plugin-catalog/alpha';
import scaffolderPlugin from '@backstage/plugin-scaffolder/alpha';
import orgPlugin from '@backstage/plugin-org/alpha';
import userSettingsPlugin from '@backstage/plugin-user-settings/alpha';
import signalsPlugin from '@backstage/plugin-signals/alpha';
import notificationsPlugin from '@backstage/plugin-notifications/alpha';
import promotionsPlugin from '@gitops-promotions/plugin-promotions/alpha';
import { navModule } from './modules/nav';
import { signInModule } from './modules/signIn';

export default createApp({
  features: [
    catalogPlugin,
    scaffolderPlugin,
    orgPlugin,
    userSettingsPlugin,
    signalsPlugin,
    notificationsPlugin,
    promotionsPlugin,
    navModule,
    signInModule,
  ],
});
