import {
  BackstageCredentials,
  BackstageServicePrincipal,
  BackstageUserPrincipal,
  LoggerService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { Entity } from '@backstage/catalog-model';
import { catalogEntityReadPermission } from '@backstage/plugin-catalog-common/alpha';
import { CatalogService } from '@backstage/plugin-catalog-node';
import {
  AuthorizeResult,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import { createConditionAuthorizer } from '@backstage/plugin-permission-node';
import { promotionsEntityReadPermission } from '@gitops-promotions/plugin-promotions-common';
import { catalogRuleset, storedEntityRuleset } from './catalogRules';

/** How long a caller's policy decisions are reused. */
const DECISION_TTL_MS = 10_000;
/** Callers whose decisions are held at once. */
const MAX_CALLERS = 10_000;

/** What a caller may do with one entity. */
export type Access =
  | { kind: 'allowed'; entity: Entity }
  | { kind: 'not-found' }
  | { kind: 'forbidden'; entity: Entity };

const authorizeFull = createConditionAuthorizer(catalogRuleset);
const authorizeStored = createConditionAuthorizer(storedEntityRuleset);

/**
 * Decides whether a caller may see an entity and its promotions, as the catalog would, without
 * asking the catalog on every page view: the caller's policy decisions for `catalog.entity.read`
 * and `promotions.entity.read` are asked for once and reused for a few seconds, and conditional
 * decisions are applied to the copy of the entity the last refresh stored. Where no copy is
 * stored, or a decision uses a rule the catalog gained from a module, the catalog is asked.
 */
export class EntityVisibility {
  private readonly decisions = new Map<
    string,
    { expires: number; decisions: Promise<PolicyDecision[]> }
  >();

  constructor(
    private readonly deps: {
      permissions: PermissionsService;
      catalog: CatalogService;
      logger: LoggerService;
      now?: () => number;
    },
  ) {}

  async check(
    entityRef: string,
    stored: Entity | undefined,
    credentials: BackstageCredentials,
  ): Promise<Access> {
    const [catalogRead, promotionsRead] = await this.decisionsOf(credentials);
    if (catalogRead.result === AuthorizeResult.DENY)
      return { kind: 'not-found' };
    let entity = stored;
    let full = false;
    let visible =
      catalogRead.result === AuthorizeResult.ALLOW
        ? true
        : this.apply(catalogRead, entity, full);
    if (!entity || visible === undefined) {
      // Not held here, or judged by a rule or field only the catalog has: the catalog decides.
      entity = await this.deps.catalog.getEntityByRef(entityRef, {
        credentials,
      });
      if (!entity) return { kind: 'not-found' };
      full = true;
      visible = true;
    }
    if (!visible) return { kind: 'not-found' };
    if (promotionsRead.result === AuthorizeResult.ALLOW) {
      return { kind: 'allowed', entity };
    }
    if (promotionsRead.result === AuthorizeResult.DENY) {
      return { kind: 'forbidden', entity };
    }
    let allowed = this.apply(promotionsRead, entity, full);
    if (allowed === undefined && !full) {
      const answered = await this.deps.catalog.getEntityByRef(entityRef, {
        credentials,
      });
      if (!answered) return { kind: 'not-found' };
      entity = answered;
      allowed = this.apply(promotionsRead, entity, true);
    }
    // A rule this plugin cannot apply fails closed.
    return allowed
      ? { kind: 'allowed', entity }
      : { kind: 'forbidden', entity };
  }

  /**
   * Which of many stored entities a caller may see with their promotions, judged as
   * {@link EntityVisibility.check} judges one: `all` or `none` when the policy says so for every
   * entity, else a judge of each; entities it cannot judge from the stored copy are asked of the
   * catalog at once, and a rule it cannot apply fails closed.
   */
  async among(credentials: BackstageCredentials): Promise<
    | { kind: 'all' }
    | { kind: 'none' }
    | {
        kind: 'some';
        /** The caller's decisions for reading entities and their promotions, in that order. */
        decisions: PolicyDecision[];
        visible: (
          entries: Array<{ entityRef: string; entity: Entity | null }>,
        ) => Promise<Set<string>>;
      }
  > {
    const [catalogRead, promotionsRead] = await this.decisionsOf(credentials);
    if (
      catalogRead.result === AuthorizeResult.DENY ||
      promotionsRead.result === AuthorizeResult.DENY
    ) {
      return { kind: 'none' };
    }
    if (
      catalogRead.result === AuthorizeResult.ALLOW &&
      promotionsRead.result === AuthorizeResult.ALLOW
    ) {
      return { kind: 'all' };
    }
    const judge = (entity: Entity | undefined, full: boolean) => {
      // The catalog answers only with entities the caller may read.
      const read =
        full || catalogRead.result === AuthorizeResult.ALLOW
          ? true
          : this.apply(catalogRead, entity, full);
      if (read === false) return false;
      const promotions =
        promotionsRead.result === AuthorizeResult.ALLOW
          ? true
          : this.apply(promotionsRead, entity, full);
      if (promotions === false) return false;
      return read && promotions ? true : undefined;
    };
    return {
      kind: 'some',
      decisions: [catalogRead, promotionsRead],
      visible: async entries => {
        const visible = new Set<string>();
        const ask: string[] = [];
        for (const { entityRef, entity } of entries) {
          const seen = judge(entity ?? undefined, false);
          if (seen) visible.add(entityRef);
          else if (seen === undefined) ask.push(entityRef);
        }
        for (let i = 0; i < ask.length; i += 500) {
          const refs = ask.slice(i, i + 500);
          const { items } = await this.deps.catalog.getEntitiesByRefs(
            { entityRefs: refs },
            { credentials },
          );
          items.forEach((entity, index) => {
            if (entity && judge(entity, true)) visible.add(refs[index]);
          });
        }
        return visible;
      },
    };
  }

  /**
   * Applies a conditional decision to an entity, the catalog's answer when `full`, else the
   * copy a refresh stored; undefined when a rule, or a field it asks about, is not known here.
   */
  private apply(
    decision: PolicyDecision,
    entity: Entity | undefined,
    full: boolean,
  ): boolean | undefined {
    if (!entity) return undefined;
    try {
      return (full ? authorizeFull : authorizeStored)(decision, entity);
    } catch (error) {
      this.deps.logger.debug(
        `A permission decision could not be applied here: ${
          (error as Error).message
        }`,
      );
      return undefined;
    }
  }

  private decisionsOf(
    credentials: BackstageCredentials,
  ): Promise<PolicyDecision[]> {
    const now = (this.deps.now ?? Date.now)();
    const key = callerKey(credentials);
    const cached = this.decisions.get(key);
    if (cached && cached.expires > now) return cached.decisions;
    const decisions = this.deps.permissions.authorizeConditional(
      [
        { permission: catalogEntityReadPermission },
        { permission: promotionsEntityReadPermission },
      ],
      { credentials },
    );
    this.decisions.delete(key);
    this.decisions.set(key, { expires: now + DECISION_TTL_MS, decisions });
    // A failed request is not kept.
    decisions.catch(() => this.decisions.delete(key));
    while (this.decisions.size > MAX_CALLERS) {
      this.decisions.delete(this.decisions.keys().next().value!);
    }
    return decisions;
  }
}

/** Who is asking, as far as a policy can tell callers apart. */
function callerKey(credentials: BackstageCredentials): string {
  const principal = credentials.principal as
    | BackstageUserPrincipal
    | BackstageServicePrincipal
    | { type: string };
  if ('userEntityRef' in principal) return `user:${principal.userEntityRef}`;
  if ('subject' in principal) {
    return `service:${principal.subject}:${JSON.stringify(
      principal.accessRestrictions ?? null,
    )}`;
  }
  return principal.type;
}
