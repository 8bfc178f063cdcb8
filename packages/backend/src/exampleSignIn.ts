import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import {
  authProvidersExtensionPoint,
  createProxyAuthenticator,
  createProxyAuthProviderFactory,
} from '@backstage/plugin-auth-node';
import { AuthenticationError, NotAllowedError } from '@backstage/errors';

/** The header the example sign-in page names the chosen user in. */
export const EXAMPLE_USER_HEADER = 'x-example-user';

/**
 * Signs in as one of the example organisation's users, chosen on the sign-in page, so that a
 * requester and an approver can be tried without an identity provider. Like the guest provider,
 * it works only while developing; a real portal signs in through the organisation's provider.
 */
export const exampleUsersAuthenticator = createProxyAuthenticator({
  defaultProfileTransform: async () => ({ profile: {} }),
  initialize({ config }) {
    return {
      users: config.getStringArray('users'),
      disabled:
        process.env.NODE_ENV !== 'development' &&
        config.getOptionalBoolean('dangerouslyAllowOutsideDevelopment') !==
          true,
    };
  },
  async authenticate({ req }, { users, disabled }) {
    if (disabled) {
      throw new NotAllowedError(
        'The example users sign in only while developing: sign in through the organisation’s provider',
      );
    }
    const user = req.header(EXAMPLE_USER_HEADER) ?? '';
    if (!users.includes(user)) {
      throw new AuthenticationError(
        `"${user.slice(0, 64)}" is not one of the example users (${users.join(
          ', ',
        )})`,
      );
    }
    return { result: { user } };
  },
});

/** The `example` sign-in provider, configured with `auth.providers.example.users`. */
export const exampleSignInModule = createBackendModule({
  pluginId: 'auth',
  moduleId: 'example-users-provider',
  register(reg) {
    reg.registerInit({
      deps: {
        providers: authProvidersExtensionPoint,
        config: coreServices.rootConfig,
      },
      async init({ providers }) {
        providers.registerProvider({
          providerId: 'example',
          factory: createProxyAuthProviderFactory({
            authenticator: exampleUsersAuthenticator,
            // Each example user is a User entity of examples/org.yaml, with its groups.
            signInResolver: async ({ result }, ctx) =>
              ctx.signInWithCatalogUser({ entityRef: { name: result.user } }),
          }),
        });
      },
    });
  },
});
