import {
  BackstageCredentials,
  AuthService,
} from '@backstage/backend-plugin-api';
import {
  Entity,
  parseEntityRef,
  RELATION_MEMBER_OF,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { CatalogService } from '@backstage/plugin-catalog-node';

/** `user:default/rita` as `rita`, `group:default/release-managers` as `release-managers`. */
export function humanizeEntityRef(ref: string): string {
  try {
    const parsed = parseEntityRef(ref);
    return parsed.namespace === 'default'
      ? parsed.name
      : `${parsed.namespace}/${parsed.name}`;
  } catch {
    return ref;
  }
}

/** The annotation a user entity names its GitHub login with. */
export const GITHUB_LOGIN_ANNOTATION = 'github.com/user-login';

/** A person as the workflow knows them: their entity ref and the groups they belong to. */
export interface Person {
  ref: string;
  ownership: string[];
}

const ownershipOf = (user: Entity): string[] => [
  stringifyEntityRef(user),
  ...(user.relations ?? [])
    .filter(r => r.type === RELATION_MEMBER_OF)
    .map(r => r.targetRef),
];

/**
 * Finds the catalog user behind a GitHub login, so that a pull-request review counts as that
 * person's decision: the user annotated with the login (`github.com/user-login`, which the
 * GitHub org provider writes). A login no user is annotated with stands for nobody.
 */
export class GithubPeople {
  private readonly cache = new Map<
    string,
    { person: Person | undefined; at: number }
  >();

  constructor(
    private readonly catalog: CatalogService,
    private readonly auth: AuthService,
  ) {}

  async byLogin(login: string): Promise<Person | undefined> {
    const key = login.toLowerCase();
    const cached = this.cache.get(key);
    if (cached && Date.now() - cached.at < 60_000) return cached.person;
    const credentials: BackstageCredentials =
      await this.auth.getOwnServiceCredentials();
    const { items } = await this.catalog.getEntities(
      {
        filter: {
          kind: 'User',
          [`metadata.annotations.${GITHUB_LOGIN_ANNOTATION}`]: login,
        },
      },
      { credentials },
    );
    // Two users claiming one login is a mistake in the catalog: neither is trusted with it.
    const person: Person | undefined =
      items.length === 1
        ? {
            ref: stringifyEntityRef(items[0]),
            ownership: ownershipOf(items[0]),
          }
        : undefined;
    this.cache.set(key, { person, at: Date.now() });
    return person;
  }
}
