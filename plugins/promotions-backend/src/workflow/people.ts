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
 * person's approval: the user annotated with the login, else the user of that name. A login no
 * user stands for is `github:<login>`, with no groups.
 */
export class GithubPeople {
  private readonly cache = new Map<string, { person: Person; at: number }>();

  constructor(
    private readonly catalog: CatalogService,
    private readonly auth: AuthService,
  ) {}

  async byLogin(login: string): Promise<Person> {
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
    let user = items[0];
    if (!user && /^[a-z0-9-]+$/.test(key)) {
      user =
        (await this.catalog.getEntityByRef(`user:default/${key}`, {
          credentials,
        })) ?? (undefined as unknown as Entity);
    }
    const person: Person = user
      ? { ref: stringifyEntityRef(user), ownership: ownershipOf(user) }
      : { ref: `github:${key}`, ownership: [] };
    this.cache.set(key, { person, at: Date.now() });
    return person;
  }
}
