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
import {
  CodeownerEntities,
  CodeownersDirectory,
  parseCodeowner,
} from './codeowners';

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

/** The annotation a group entity names its GitHub team with (`org/team`, as the org provider writes it). */
export const GITHUB_TEAM_ANNOTATION = 'github.com/team-slug';

/** How many owners are remembered between evaluations, so that a hostile file cannot grow it. */
const MAX_CACHED_OWNERS = 1000;

const lower = (text: unknown) =>
  typeof text === 'string' ? text.toLocaleLowerCase('en-US') : undefined;

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
export class GithubPeople implements CodeownersDirectory {
  private readonly cache = new Map<
    string,
    { person: Person | undefined; at: number }
  >();
  private readonly owners = new Map<
    string,
    { entities: CodeownerEntities; at: number }
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

  /**
   * The catalog entities behind a CODEOWNERS owner: for an e-mail, the user whose profile has
   * it; for `@login`, the user annotated with the login, else the user of that name; for
   * `@org/team`, the groups of that team, by their team annotation or, without one, their name.
   * A login or e-mail two users claim is nobody's: neither is trusted with it.
   */
  async entitiesOf(owner: string): Promise<CodeownerEntities> {
    const cached = this.owners.get(owner);
    if (cached && Date.now() - cached.at < 60_000) return cached.entities;
    const entities = await this.lookUp(owner);
    if (this.owners.size >= MAX_CACHED_OWNERS) this.owners.clear();
    this.owners.set(owner, { entities, at: Date.now() });
    return entities;
  }

  private async lookUp(owner: string): Promise<CodeownerEntities> {
    const parsed = parseCodeowner(owner);
    if (!parsed) return { refs: [], problem: `${owner} is not an owner` };
    const find = async (filter: Record<string, string>[]) =>
      (
        await this.catalog.getEntities(
          { filter },
          { credentials: await this.auth.getOwnServiceCredentials() },
        )
      ).items;
    const one = (users: Entity[], what: string): CodeownerEntities => {
      if (users.length === 1) return { refs: [stringifyEntityRef(users[0])] };
      return {
        refs: [],
        problem:
          users.length === 0
            ? `${owner} is no catalog user (${what})`
            : `${owner} is claimed by ${users.length} catalog users (${what})`,
      };
    };

    if (parsed.kind === 'email') {
      const email = lower(parsed.email);
      const users = await find([
        { kind: 'User', 'spec.profile.email': parsed.email },
      ]);
      return one(
        users.filter(u => lower((u.spec?.profile as any)?.email) === email),
        'by profile e-mail',
      );
    }
    if (parsed.kind === 'login') {
      const login = lower(parsed.login);
      const annotated = (
        await find([
          {
            kind: 'User',
            [`metadata.annotations.${GITHUB_LOGIN_ANNOTATION}`]: parsed.login,
          },
        ])
      ).filter(
        u => lower(u.metadata.annotations?.[GITHUB_LOGIN_ANNOTATION]) === login,
      );
      if (annotated.length > 0) return one(annotated, 'by GitHub login');
      // A user annotated with another login is someone else on GitHub.
      const named = (
        await find([{ kind: 'User', 'metadata.name': parsed.login }])
      ).filter(
        u =>
          lower(u.metadata.name) === login &&
          !u.metadata.annotations?.[GITHUB_LOGIN_ANNOTATION],
      );
      return one(named, 'by GitHub login or name');
    }
    const team = lower(parsed.team);
    const slug = `${lower(parsed.org)}/${team}`;
    const groups = (
      await find([
        {
          kind: 'Group',
          [`metadata.annotations.${GITHUB_TEAM_ANNOTATION}`]: `${parsed.org}/${parsed.team}`,
        },
        {
          kind: 'Group',
          [`metadata.annotations.${GITHUB_TEAM_ANNOTATION}`]: parsed.team,
        },
        { kind: 'Group', 'metadata.name': parsed.team },
      ])
    ).filter(g => {
      const annotated = lower(g.metadata.annotations?.[GITHUB_TEAM_ANNOTATION]);
      // A group annotated with another organization's team is not this one.
      return annotated
        ? annotated === slug || annotated === team
        : lower(g.metadata.name) === team;
    });
    if (groups.length === 0) {
      return {
        refs: [],
        problem: `${owner} is no catalog group (by GitHub team or name)`,
      };
    }
    return { refs: groups.map(g => stringifyEntityRef(g)) };
  }
}
