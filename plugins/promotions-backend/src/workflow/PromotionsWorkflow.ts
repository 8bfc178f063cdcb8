import { randomUUID } from 'node:crypto';
import {
  AuditorService,
  AuditorServiceEvent,
  AuthService,
  BackstageCredentials,
  LoggerService,
  PermissionsRegistryService,
  PermissionsService,
  UserInfoService,
} from '@backstage/backend-plugin-api';
import {
  Entity,
  parseEntityRef,
  RELATION_OWNED_BY,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { ConfigReader } from '@backstage/config';
import {
  ConflictError,
  InputError,
  NotAllowedError,
  NotFoundError,
} from '@backstage/errors';
import {
  AuthorizeResult,
  ResourcePermission,
} from '@backstage/plugin-permission-common';
import { createConditionAuthorizer } from '@backstage/plugin-permission-node';
import { CatalogService } from '@backstage/plugin-catalog-node';
import {
  Freeze,
  GateEvaluation,
  HistoryEntry,
  OpenPromotionConflict,
  parseEnvironmentResourceRef,
  Promotion,
  PromotionPreview,
  promotionsApprovePermission,
  promotionsFreezePermission,
  promotionsMergePermission,
  promotionsOverridePermission,
  promotionsPromotePermission,
  RESOURCE_TYPE_PROMOTIONS_ENVIRONMENT,
} from '@gitops-promotions/plugin-promotions-common';
import {
  CommitAuthor,
  GateContext,
  gitBlobId,
  GitOpsRepository,
  PipelineEnvironment,
  PromotionGate,
  PromotionsConfig,
  PromotionsEnvironmentResource,
  promotionsEnvironmentResourceRef,
  PromotionsResolverService,
  ResolvedEnvironment,
} from '@gitops-promotions/plugin-promotions-node';
import { createTwoFilesPatch } from 'diff';
import { stringify } from 'yaml';
import {
  EntityTarget,
  readEntityTarget,
  readableOf,
} from '../state/entityTarget';
import {
  parseBody,
  PromotionsStore,
  StoredEnvironment,
} from '../state/PromotionsStore';
import { EntityVisibility } from '../service/EntityVisibility';
import { protectSecrets, SecretProtection } from '../state/secrets';
import { maskPatchSecrets } from './maskPatchSecrets';
import { evaluateGates, gatesFor, OVERRIDABLE_GATES } from './gates';
import { GithubPeople, humanizeEntityRef } from './people';
import { upstreamRun } from './upstreamRun';
import { environmentNamed, planPromotion, Plan, PlanRequest } from './plan';
import {
  commitMessage,
  promotionTitle,
  pullRequestBody,
} from './pullRequestText';
import {
  loadChanges,
  OPEN_STATES,
  storeChanges,
  StoredPromotion,
  supersededReason,
  WorkflowStore,
} from './WorkflowStore';

/** Who acts: a person with their groups, or a service such as CI. */
export interface Actor {
  ref: string;
  ownership: string[];
  service: boolean;
  author: CommitAuthor;
  credentials: BackstageCredentials;
}

/** A request for a promotion or rollback, as the API takes it. */
export interface PromotionRequest extends PlanRequest {
  /** Close the open promotion of the environment, if any, and open this one. */
  supersede?: boolean;
  /** Merge at once when every gate passes (CI promoting to its first environment). */
  merge?: boolean;
  /** The commit the preview was made on: the request is refused if the branch moved since. */
  baseCommit?: string;
}

/** The group a promotion is a member of, while that group is still to be merged or closed. */
export interface GroupMemberships {
  activeGroupOf(
    promotionId: string,
  ): Promise<{ id: string; systemRef: string; state: string } | undefined>;
}

/** Whoever may merge a promotion, checked: what its merge or queueing needs. */
interface MergeAuthority {
  actor: Actor;
  promotion: StoredPromotion;
  environment: PipelineEnvironment;
  repository: GitOpsRepository;
  entity: Entity;
}

/** A promotion checked afresh and ready to merge, as `prepareMerge` leaves it. */
export interface PreparedMerge {
  promotion: StoredPromotion;
  repository: GitOpsRepository;
  actor: Actor;
  overridden: GateEvaluation[];
  overrideReason?: string;
}

/** How long a step may stay unfinished before the sync finishes it or cleans it up. */
const STUCK_AFTER_MS = 2 * 60_000;
/** After this, a promotion that could not be opened is given up and cleaned up. */
const GIVE_UP_AFTER_MS = 60 * 60_000;
const MAX_COMMENT = 4000;

const VERBS: Record<string, string> = {
  'promotions.promote': 'promote to',
  'promotions.approve': 'approve promotions to',
  'promotions.merge': 'merge promotions to',
  'promotions.override': 'override the gates of',
  'promotions.freeze': 'freeze',
};

/**
 * Promotions and rollbacks: planned from the repository, written on a branch, reviewed in the
 * portal (and on GitHub, where the repository is there), merged when their gates pass, and kept
 * in a history. Each is a state machine in the database, so a restart finishes what a crash
 * interrupted. Every action is permission-checked and audited.
 */
export class PromotionsWorkflow {
  private readonly authorizeResource: (
    decision: Parameters<ReturnType<typeof createConditionAuthorizer>>[0],
    resource: PromotionsEnvironmentResource | undefined,
  ) => boolean;

  constructor(
    private readonly deps: {
      config: PromotionsConfig;
      store: PromotionsStore;
      workflow: WorkflowStore;
      repositories: { get(id: string): Promise<GitOpsRepository> };
      resolver: PromotionsResolverService;
      visibility: EntityVisibility;
      permissions: PermissionsService;
      permissionsRegistry: PermissionsRegistryService;
      userInfo: UserInfoService;
      auth: AuthService;
      catalog: CatalogService;
      auditor: AuditorService;
      logger: LoggerService;
      gates: PromotionGate[];
      /** Members of a group merge only with it. */
      groups: GroupMemberships;
      /** How secret values are hidden in what is shown. */
      secrets: SecretProtection;
      requestRefresh: (repositoryId: string) => void;
      /** The entity's Promotions tab, for links in pull requests. */
      entityUrl: (entityRef: string) => string;
      now?: () => Date;
    },
  ) {
    this.authorizeResource = createConditionAuthorizer(
      deps.permissionsRegistry.getPermissionRuleset(
        promotionsEnvironmentResourceRef,
      ),
    );
  }

  private readonly people = new Map<string, GithubPeople>();
  private get github() {
    let people = this.people.get('github');
    if (!people) {
      people = new GithubPeople(this.deps.catalog, this.deps.auth);
      this.people.set('github', people);
    }
    return people;
  }

  private now() {
    return this.deps.now?.() ?? new Date();
  }

  // ---------------------------------------------------------------- reading

  /** The resources the permission framework decides on, loaded for its conditions. */
  async environmentResources(
    resourceRefs: string[],
  ): Promise<Array<PromotionsEnvironmentResource | undefined>> {
    return Promise.all(
      resourceRefs.map(async ref => {
        const parsed = parseEnvironmentResourceRef(ref);
        if (!parsed) return undefined;
        const stored = await this.deps.store.get(parsed.entityRef);
        return this.resourceOf(
          parsed.entityRef,
          parsed.environment,
          stored?.entity ?? null,
        );
      }),
    );
  }

  private resourceOf(
    entityRef: string,
    environment: string,
    entity: Entity | null,
  ): PromotionsEnvironmentResource | undefined {
    if (!entity && entityRef !== '*') return undefined;
    let production = false;
    if (environment === '*') {
      // Every environment includes the most protected one.
      production = true;
    } else if (entity) {
      try {
        const target = readEntityTarget(entity, this.deps.config);
        production = Boolean(
          target.pipeline.find(e => e.name === environment)?.policy.production,
        );
      } catch {
        return undefined;
      }
    } else {
      production = [...this.deps.config.pipelines.values()].some(p =>
        p.some(e => e.name === environment && e.policy.production),
      );
    }
    const owners = new Set<string>();
    if (entity) {
      for (const relation of entity.relations ?? []) {
        if (relation.type === RELATION_OWNED_BY) owners.add(relation.targetRef);
      }
    }
    return { entityRef, environment, owners: [...owners], production };
  }

  /**
   * The environments an action names: `*` means itself and each environment of the service's
   * pipeline (of every pipeline when it is for every service), so it is allowed only where each is.
   */
  private environmentsMeant(
    environment: string,
    entity: Entity | null,
  ): string[] {
    if (environment !== '*') return [environment];
    let pipelines: Array<Array<{ name: string }>>;
    try {
      pipelines = entity
        ? [readEntityTarget(entity, this.deps.config).pipeline]
        : [...this.deps.config.pipelines.values()];
    } catch {
      return ['*'];
    }
    return ['*', ...new Set(pipelines.flat().map(e => e.name))];
  }

  /** Whether the caller may do something to an environment; throws a `NotAllowedError` if not. */
  private async authorize(
    permission: ResourcePermission<typeof RESOURCE_TYPE_PROMOTIONS_ENVIRONMENT>,
    entityRef: string,
    environment: string,
    entity: Entity | null,
    credentials: BackstageCredentials,
  ): Promise<void> {
    const [decision] = await this.deps.permissions.authorizeConditional(
      [{ permission }],
      { credentials },
    );
    const allowed =
      decision.result === AuthorizeResult.ALLOW ||
      (decision.result === AuthorizeResult.CONDITIONAL &&
        this.environmentsMeant(environment, entity).every(name =>
          this.authorizeResource(
            decision,
            this.resourceOf(entityRef, name, entity),
          ),
        ));
    if (!allowed) {
      throw new NotAllowedError(
        `You may not ${
          VERBS[permission.name] ?? permission.name
        } ${environment} of ${entityRef}`,
      );
    }
  }

  /** What the caller may do to each environment of an entity, for the tab's buttons. */
  async allowedActions(
    entityRef: string,
    credentials: BackstageCredentials,
  ): Promise<Record<string, string[]>> {
    const { target, entity } = await this.entityOf(entityRef, credentials);
    const permissions = [
      promotionsPromotePermission,
      promotionsApprovePermission,
      promotionsMergePermission,
      promotionsOverridePermission,
      promotionsFreezePermission,
    ];
    const decisions = await this.deps.permissions.authorizeConditional(
      permissions.map(permission => ({ permission })),
      { credentials },
    );
    const result: Record<string, string[]> = {};
    for (const env of target.pipeline) {
      const resource = this.resourceOf(entityRef, env.name, entity);
      result[env.name] = permissions
        .filter(
          (_, i) =>
            decisions[i].result === AuthorizeResult.ALLOW ||
            (decisions[i].result === AuthorizeResult.CONDITIONAL &&
              this.authorizeResource(decisions[i], resource)),
        )
        .map(p => p.name.replace('promotions.', ''));
    }
    return result;
  }

  private async actorOf(credentials: BackstageCredentials): Promise<Actor> {
    const principal = credentials.principal as {
      type: string;
      userEntityRef?: string;
      subject?: string;
    };
    if (principal.type === 'user' && principal.userEntityRef) {
      const info = await this.deps.userInfo.getUserInfo(credentials);
      const user = await this.deps.catalog
        .getEntityByRef(info.userEntityRef, {
          credentials: await this.deps.auth.getOwnServiceCredentials(),
        })
        .catch(() => undefined);
      const profile = (user?.spec?.profile ?? {}) as {
        displayName?: string;
        email?: string;
      };
      return {
        ref: info.userEntityRef,
        ownership: info.ownershipEntityRefs,
        service: false,
        author: {
          name: profile.displayName ?? humanizeEntityRef(info.userEntityRef),
          email:
            profile.email ??
            `${humanizeEntityRef(info.userEntityRef).replace(
              /\//g,
              '.',
            )}@backstage.invalid`,
        },
        credentials,
      };
    }
    if (principal.type === 'service' && principal.subject) {
      return {
        ref: principal.subject,
        ownership: [],
        service: true,
        author: {
          name: principal.subject,
          email: `${principal.subject.replace(
            /[^\w.-]/g,
            '.',
          )}@backstage.invalid`,
        },
        credentials,
      };
    }
    throw new NotAllowedError('Sign in to act on promotions');
  }

  private async entityOf(entityRef: string, credentials: BackstageCredentials) {
    const stored = await this.deps.store.get(entityRef);
    const access = await this.deps.visibility.check(
      entityRef,
      stored?.entity ?? undefined,
      credentials,
    );
    if (access.kind === 'not-found') {
      throw new NotFoundError(`No entity ${entityRef} in the catalog`);
    }
    if (access.kind === 'forbidden') {
      throw new NotAllowedError(
        `You may not read the promotions of ${entityRef}`,
      );
    }
    const target = readEntityTarget(access.entity, this.deps.config);
    const repository = await this.deps.repositories.get(target.repository.id);
    return { entity: access.entity, target, repository, stored };
  }

  /** A promotion, for someone who may see its entity. */
  async get(id: string, credentials: BackstageCredentials): Promise<Promotion> {
    const promotion = await this.deps.workflow.get(id).catch(() => undefined);
    if (!promotion) throw new NotFoundError(`No promotion ${id}`);
    await this.entityOf(promotion.entityRef, credentials).catch(error => {
      if (error instanceof NotAllowedError) throw error;
      throw new NotFoundError(`No promotion ${id}`);
    });
    return toApi(promotion);
  }

  /** An entity's open promotions and its latest finished ones. */
  async list(
    entityRef: string,
    credentials: BackstageCredentials,
  ): Promise<{ promotions: Promotion[]; actions: Record<string, string[]> }> {
    await this.entityOf(entityRef, credentials);
    const open = await this.deps.workflow.list({
      states: OPEN_STATES,
      entityRef,
    });
    const recent = await this.deps.workflow.list({
      states: ['merged', 'closed', 'failed'],
      entityRef,
      newestFirst: true,
      limit: 20,
    });
    return {
      promotions: [...open, ...recent].map(toApi),
      actions: await this.allowedActions(entityRef, credentials),
    };
  }

  /** An entity's history, newest first, a page at a time. */
  async history(
    entityRef: string,
    credentials: BackstageCredentials,
    options: { environment?: string; before?: number; limit?: number },
  ): Promise<{ entries: HistoryEntry[]; next: number | null }> {
    await this.entityOf(entityRef, credentials);
    const limit = Math.min(Math.max(options.limit ?? 50, 1), 200);
    const entries = await this.deps.workflow.history({
      entityRef,
      environment: options.environment,
      before: options.before,
      limit: limit + 1,
    });
    const more = entries.length > limit;
    const page = entries.slice(0, limit);
    return { entries: page, next: more ? page[page.length - 1].id : null };
  }

  /** The versions an environment ran, newest first, to roll back to. */
  async versions(
    entityRef: string,
    environment: string,
    credentials: BackstageCredentials,
  ): Promise<Array<{ version: string; commit: string; at: string }>> {
    const { target } = await this.entityOf(entityRef, credentials);
    environmentNamed(target, environment);
    const [stored] = (await this.deps.store.environments([entityRef])).filter(
      e => e.environment === environment,
    );
    const seen = new Set<string>();
    const versions: Array<{ version: string; commit: string; at: string }> = [];
    for (const commit of stored?.timeline?.commits ?? []) {
      if (!commit.version || seen.has(commit.version)) continue;
      seen.add(commit.version);
      versions.push({
        version: commit.version,
        commit: commit.sha,
        at: commit.at,
      });
    }
    return versions;
  }

  // ---------------------------------------------------------------- preview and request

  /** Exactly what a promotion would do: file diff, rendered diff, commits, config, gates. */
  async preview(
    entityRef: string,
    credentials: BackstageCredentials,
    request: PlanRequest,
  ): Promise<PromotionPreview> {
    const actor = await this.actorOf(credentials);
    const { target, repository, entity } = await this.entityOf(
      entityRef,
      credentials,
    );
    // A preview resolves and asks the gates: only for those who may promote there.
    environmentNamed(target, request.to);
    await this.authorize(
      promotionsPromotePermission,
      target.entityRef,
      request.to,
      entity,
      credentials,
    );
    const stored = await this.deps.store.environments([entityRef]);
    const plan = await planPromotion({
      request,
      target,
      repository,
      repositories: this.deps.repositories,
      logger: this.deps.logger,
      resolver: this.deps.resolver,
      stored,
      manifest: { config: this.deps.config, readableIn: readableOf(entity) },
    });
    const fileDiff = (
      await Promise.all(
        plan.changes.map(async change => {
          const before =
            (await plan.base.readFile(change.path))?.toString('utf8') ?? '';
          return maskPatchSecrets(
            createTwoFilesPatch(
              `a/${change.path}`,
              `b/${change.path}`,
              before,
              change.content?.toString('utf8') ?? '',
              undefined,
              undefined,
              { context: 3 },
            ),
            this.deps.secrets,
          );
        }),
      )
    ).join('');
    const after = plan.afterResolved;
    const renderedDiff = createTwoFilesPatch(
      `${plan.environment.name} (now)`,
      `${plan.environment.name} (after)`,
      this.renderedText(plan.before),
      this.renderedText(after),
      undefined,
      undefined,
      { context: 3 },
    );
    const promotion = this.draft(plan, target, actor);
    const gates = await this.evaluate(
      promotion,
      plan.environment,
      plan.repository,
      stored,
      plan,
    );
    return {
      environment: plan.environment.name,
      version: plan.version,
      previousVersion: plan.previousVersion,
      from: plan.from,
      unknownVersion: plan.unknownVersion,
      baseCommit: plan.base.commit,
      fileDiff,
      renderedDiff,
      commits: await this.commitsSince(plan, stored),
      configDifferences: this.configDifferences(
        target,
        plan,
        await this.deps.store.get(entityRef),
      ),
      gates,
    };
  }

  /** An environment's rendered manifests as YAML, secret values hidden, for a diff. */
  private renderedText(resolved: ResolvedEnvironment): string {
    const objects = (
      resolved.rendered ?? resolved.comparable.map(c => c.body)
    ).map((body, i) => ({ id: String(i), body }));
    return protectSecrets(objects, this.deps.secrets)
      .map(o => stringify(o.body, { lineWidth: 0 }))
      .join('---\n');
  }

  /** The commits that touched the upstream's inputs since the target's current version. */
  private async commitsSince(plan: Plan, stored: StoredEnvironment[]) {
    const upstream = plan.upstreams.find(u => u.name === plan.from[0]);
    if (!upstream?.read) return [];
    const upstreamStored = stored.find(e => e.environment === upstream.name);
    const inputs = upstreamStored?.resolution.inputs ?? [];
    if (inputs.length === 0) return [];
    // The newest commit at which the upstream ran what the target runs now, in the upstream's
    // own history (its branch or repository).
    const since = upstreamStored?.timeline?.commits.find(
      c => c.version === plan.previousVersion,
    )?.sha;
    const { repository, snapshot } = upstream.read;
    // A branch rewritten since the timeline was read may no longer hold `since`: then the
    // commits are listed from the head, as far as the limit goes.
    const commits = await repository
      .history(snapshot.commit, inputs, 50, since ? { since } : undefined)
      .catch(error => {
        if (!since) throw error;
        return repository.history(snapshot.commit, inputs, 50);
      });
    return commits.map(c => ({
      sha: c.sha,
      author: c.authorName,
      at: c.authoredAt,
      message: c.message.split('\n')[0].slice(0, 200),
      pullRequest:
        Number(
          /\(#(\d+)\)|pull request #(\d+)/
            .exec(c.message)
            ?.slice(1)
            .find(Boolean),
        ) || null,
    }));
  }

  private configDifferences(
    target: EntityTarget,
    plan: Plan,
    state: Awaited<ReturnType<PromotionsStore['get']>>,
  ) {
    if (!state?.body || plan.from.length === 0) return [];
    const body = parseBody(state.body);
    const env = body.environments.find(e => e.name === plan.environment.name);
    void target;
    return (env?.drift ?? []).flatMap(d =>
      d.kind === 'config' && plan.from.includes(d.upstream)
        ? d.differences
        : [],
    );
  }

  private draft(
    plan: Plan,
    target: EntityTarget,
    actor: Actor,
    id: string = randomUUID(),
  ): StoredPromotion {
    const now = this.now().toISOString();
    const name = target.entityRef.split('/').pop()!;
    return {
      id,
      entityRef: target.entityRef,
      environment: plan.environment.name,
      repositoryId: plan.repository.id,
      kind: plan.kind,
      from: plan.from,
      version: plan.version,
      previousVersion: plan.previousVersion,
      unknownVersion: plan.unknownVersion,
      state: 'opening',
      requestedBy: actor.ref,
      requestedAt: now,
      updatedAt: now,
      baseBranch: plan.baseBranch,
      baseCommit: plan.base.commit,
      branch: `promotions/${name}/${plan.environment.name}/${id.slice(0, 8)}`,
      headCommit: null,
      pullRequest: null,
      changes: storeChanges(plan.changes),
      gates: [],
      decisions: [],
      mergedCommit: null,
      reason: null,
      queuedUntil: null,
    };
  }

  /**
   * Asks for a promotion or rollback: plans it, writes it on a new branch, opens its pull
   * request (GitHub) or keeps it in the portal (`git`), and judges its gates.
   */
  async request(
    entityRef: string,
    credentials: BackstageCredentials,
    request: PromotionRequest,
    auditRequest?: Parameters<AuditorService['createEvent']>[0]['request'],
    options: { id?: string } = {},
  ): Promise<Promotion> {
    const audit = await this.deps.auditor.createEvent({
      eventId:
        request.kind === 'rollback' ? 'rollback-request' : 'promotion-request',
      severityLevel: 'medium',
      request: auditRequest,
      meta: {
        entityRef,
        environment: request.to ?? null,
        version: request.version ?? null,
      },
    });
    try {
      const result = await this.requestUnaudited(
        entityRef,
        credentials,
        request,
        options.id,
      );
      await audit.success({
        meta: { promotionId: result.id, state: result.state },
      });
      return result;
    } catch (error) {
      await audit.fail({ error: error as Error });
      throw error;
    }
  }

  private async requestUnaudited(
    entityRef: string,
    credentials: BackstageCredentials,
    request: PromotionRequest,
    id?: string,
  ): Promise<Promotion> {
    const actor = await this.actorOf(credentials);
    const { target, repository, entity } = await this.entityOf(
      entityRef,
      credentials,
    );
    const environment = environmentNamed(target, request.to);
    await this.authorize(
      promotionsPromotePermission,
      target.entityRef,
      request.to,
      entity,
      credentials,
    );
    if (actor.service && !environment.policy.services.includes(actor.ref)) {
      throw new NotAllowedError(
        `${actor.ref} may not ask for promotions to ${request.to}: its policy lists no such service`,
      );
    }
    const stored = await this.deps.store.environments([entityRef]);
    const plan = await planPromotion({
      request,
      target,
      repository,
      repositories: this.deps.repositories,
      logger: this.deps.logger,
      resolver: this.deps.resolver,
      stored,
      manifest: { config: this.deps.config, readableIn: readableOf(entity) },
    });
    if (request.baseCommit && request.baseCommit !== plan.base.commit) {
      throw new ConflictError(
        `The repository moved since the preview (from ${request.baseCommit.slice(
          0,
          12,
        )} to ${plan.base.commit.slice(
          0,
          12,
        )}): look at the preview again; nothing was written`,
      );
    }
    const promotion = this.draft(plan, target, actor, id);

    const open = await this.deps.workflow.findOpen(
      target.entityRef,
      plan.environment.name,
    );
    if (open) {
      if (!request.supersede) throw this.alreadyOpen(open);
      if (open.state !== 'open') {
        throw new ConflictError(
          `The promotion to ${plan.environment.name} of ${target.entityRef} is ${open.state}; ask again in a moment`,
        );
      }
      // Replacing someone else's promotion closes it, which is for those who may merge.
      await this.authorize(
        sameRef(open.requestedBy, actor.ref)
          ? promotionsPromotePermission
          : promotionsMergePermission,
        target.entityRef,
        plan.environment.name,
        entity,
        credentials,
      );
    }
    const requested = this.entryOn(
      promotion,
      'requested',
      actor.ref,
      [
        promotion.unknownVersion ? 'A version no upstream runs' : null,
        open ? `Supersedes ${open.id}` : null,
      ]
        .filter(Boolean)
        .join('; ') || null,
    );
    // The open one is closed only with the new one stored, in one transaction: if storing fails,
    // it stays open and untouched.
    await (open
      ? this.deps.workflow.supersede(
          { id: open.id, reason: supersededReason(promotion.id) },
          promotion,
          [
            this.entryOn(
              open,
              'superseded',
              actor.ref,
              supersededReason(promotion.id),
            ),
            requested,
          ],
        )
      : this.deps.workflow.create(promotion, [requested])
    ).catch(async error => {
      if (!(error instanceof ConflictError)) throw error;
      // Another request won the race: point at it as a plain second request would be.
      const winner = await this.deps.workflow.findOpen(
        promotion.entityRef,
        promotion.environment,
      );
      throw winner ? this.alreadyOpen(winner) : error;
    });
    let failure: Error | undefined;
    try {
      await this.completeOpening(promotion, plan.repository, actor.author);
    } catch (error) {
      failure = error as Error;
      await this.abandon(promotion, plan.repository, failure);
    }
    // A replacement that failed to open reopened the one it superseded (`abandon`): kept whole.
    if (failure) throw failure;
    if (open) await this.tidySuperseded(open, promotion.id, actor.ref);
    let opened = await this.deps.workflow.get(promotion.id);
    opened = await this.judge(
      opened,
      plan.environment,
      plan.repository,
      stored,
    );
    if (request.merge) {
      if (opened.gates.every(g => g.state === 'passed')) {
        return this.merge(opened.id, credentials, {});
      }
    }
    return toApi(opened);
  }

  /**
   * The pull request and branch of a promotion another replaced, removed once the other is
   * open; its closing comment names the other. Left to the sync if this fails.
   */
  private async tidySuperseded(
    superseded: StoredPromotion,
    by: string,
    actorRef: string,
  ) {
    try {
      const replacement = await this.deps.workflow.get(by);
      const repository = await this.deps.repositories.get(
        superseded.repositoryId,
      );
      await this.tidy(
        superseded.id,
        repository,
        `Superseded in the portal by \`${actorRef}\` with ${
          replacement.pullRequest
            ? `#${replacement.pullRequest.number}`
            : `promotion ${replacement.id}`
        }.`,
      );
    } catch (error) {
      this.deps.logger.warn(
        `Could not remove the branch or pull request of promotion ${superseded.id} yet; the sync tries again: ${error}`,
      );
    }
  }

  /** The 409 for a second open promotion: names the first, with links to it. */
  private alreadyOpen(open: StoredPromotion): ConflictError {
    const openPromotion: OpenPromotionConflict = {
      id: open.id,
      url: this.deps.entityUrl(open.entityRef),
      pullRequestUrl: open.pullRequest?.url || null,
    };
    return Object.assign(
      new ConflictError(
        `A promotion to ${open.environment} of ${
          open.entityRef
        } is already open${open.state === 'open' ? '' : ` (${open.state})`}: ${
          open.id
        }${
          openPromotion.pullRequestUrl
            ? ` (${openPromotion.pullRequestUrl})`
            : ''
        }; ask with supersede to replace it`,
      ),
      // Serialized with the error, for the dialog to link to.
      { openPromotion },
    );
  }

  /**
   * Writes a promotion's branch and opens its pull request. Each step looks first whether it was
   * done, so that finishing after a crash never makes a second branch or pull request.
   */
  private async completeOpening(
    promotion: StoredPromotion,
    repository: GitOpsRepository,
    author: CommitAuthor,
  ): Promise<void> {
    let head = await repository.branchHead(promotion.branch);
    if (head === undefined) {
      await repository.createBranch(promotion.branch, promotion.baseCommit);
      head = promotion.baseCommit;
    }
    let written = false;
    if (head === promotion.baseCommit) {
      head = await repository.commitFiles({
        branch: promotion.branch,
        parent: promotion.baseCommit,
        message: commitMessage(promotion),
        author,
        changes: loadChanges(promotion.changes),
      });
      written = true;
    }
    // Known before the pull request is asked for, so that a cleanup deletes only this commit.
    // A head found after a crash counts as written only if it holds just the promotion's change.
    await this.deps.workflow.transition(promotion.id, ['opening'], {
      headCommit: head,
      writtenCommit:
        written || (await this.wrote(promotion, repository, head))
          ? head
          : null,
    });
    const pullRequest = repository.pullRequests
      ? await repository.pullRequests.open({
          branch: promotion.branch,
          base: promotion.baseBranch,
          title: promotionTitle(promotion),
          body: pullRequestBody(
            promotion,
            this.deps.entityUrl(promotion.entityRef),
          ),
        })
      : null;
    const opened = await this.deps.workflow.transition(
      promotion.id,
      ['opening'],
      {
        state: 'open',
        headCommit: head,
        pullRequest: pullRequest
          ? { number: pullRequest.number, url: pullRequest.url }
          : null,
      },
    );
    if (!opened) {
      // Given up meanwhile: what was just made must not linger untracked.
      await this.deps.workflow.transition(promotion.id, ['closed', 'failed'], {
        cleanupPending: true,
      });
      await this.tidy(
        promotion.id,
        repository,
        'This promotion was given up while it was being opened.',
      );
    }
  }

  /**
   * A promotion that could not be opened: marked failed first, so that nobody else finishes it
   * meanwhile, then its pull request closed and its branch removed, the failure in history. The
   * promotion it superseded, if any, is reopened in the same write, its branch and pull request
   * untouched.
   */
  private async abandon(
    promotion: StoredPromotion,
    repository: GitOpsRepository,
    error: Error,
  ) {
    const failed = await this.deps.workflow.failOpening(
      promotion.id,
      error.message.slice(0, 2000),
      [
        this.entryOn(
          promotion,
          'failed',
          'system',
          error.message.slice(0, MAX_COMMENT),
        ),
      ],
      superseded =>
        this.entryOn(
          superseded,
          'changed',
          'system',
          `Reopened: its replacement ${promotion.id} failed to open: ${error.message}`.slice(
            0,
            MAX_COMMENT,
          ),
        ),
    );
    if (!failed) return;
    await this.auditSync('promotion-fail', promotion, {
      reason: error.message.slice(0, 500),
    });
    await this.tidy(
      promotion.id,
      repository,
      `This promotion failed: ${error.message}`,
    );
  }

  /**
   * What a finished promotion leaves behind, removed: its pull request closed if still open, its
   * branch deleted if it still holds only what the promotion wrote. Asked for in the same write
   * that finishes the promotion (`cleanupPending`), and done again by the sync until it is done,
   * so that a crash in between leaves neither. A failure is logged; the sync tries again.
   */
  private async tidy(
    id: string,
    repository: GitOpsRepository,
    comment?: string,
  ): Promise<void> {
    try {
      let promotion = await this.deps.workflow.get(id);
      if (!promotion.cleanupPending) return;
      if (promotion.state !== 'merged') {
        promotion = await this.mergedMeanwhile(promotion, repository);
      }
      if (repository.pullRequests) {
        const pr = promotion.pullRequest
          ? await repository.pullRequests.get(promotion.pullRequest.number)
          : await repository.pullRequests.find(promotion.branch);
        if (pr?.state === 'open') {
          await repository.pullRequests.close(
            pr.number,
            comment ??
              (promotion.state === 'failed'
                ? `This promotion failed: ${promotion.reason}`
                : `Closed in the portal${
                    promotion.reason ? `: ${promotion.reason}` : '.'
                  }`),
          );
        }
      }
      const head = await repository.branchHead(promotion.branch);
      // A merged head landed in the base branch: deleting its branch loses nothing.
      const kept =
        head !== undefined &&
        !(promotion.state === 'merged' && head === promotion.headCommit) &&
        !(await this.wrote(promotion, repository, head));
      if (head !== undefined && !kept) {
        await repository.deleteBranch(promotion.branch, head);
      }
      const history = kept
        ? [
            this.entryOn(
              promotion,
              'changed',
              'system',
              `The branch ${
                promotion.branch
              } was kept: it moved to ${head!.slice(
                0,
                12,
              )}, which the promotion did not write`,
            ),
          ]
        : [];
      await this.deps.workflow.transition(
        id,
        [promotion.state],
        { cleanupPending: false },
        history,
      );
    } catch (error) {
      this.deps.logger.warn(
        `Could not remove the branch or pull request of promotion ${id} yet; the sync tries again: ${error}`,
      );
    }
  }

  /**
   * A promotion closed or given up in the portal whose change landed all the same (its pull
   * request merged on GitHub, or its head merged into the branch, before the close took effect):
   * recorded as merged, since that is what the environment got.
   */
  private async mergedMeanwhile(
    promotion: StoredPromotion,
    repository: GitOpsRepository,
  ): Promise<StoredPromotion> {
    // Unknown counts as not merged: deleting the branch of a merged change loses nothing.
    const landed = await this.landedCommit(promotion, repository).catch(
      () => undefined,
    );
    if (landed === undefined) return promotion;
    const merged = await this.deps.workflow.transition(
      promotion.id,
      [promotion.state],
      { state: 'merged', mergedCommit: landed },
      [
        this.entryOn(
          promotion,
          'merged',
          promotion.pullRequest && repository.pullRequests ? 'github' : 'git',
          `Merged outside the portal before it was ${promotion.state} here`,
        ),
      ],
    );
    if (!merged) return this.deps.workflow.get(promotion.id);
    await this.auditSync('promotion-merge', promotion, { outside: 'true' });
    this.refreshAfter(promotion);
    return { ...promotion, state: 'merged', mergedCommit: landed };
  }

  /**
   * Whether a branch head is what the promotion wrote: the head it recorded writing, never one
   * the sync took in from someone's push; before it recorded one (or for a promotion stored
   * before written heads were), its base or one commit on it holding exactly its own files.
   */
  private async wrote(
    promotion: StoredPromotion,
    repository: GitOpsRepository,
    head: string,
  ): Promise<boolean> {
    if (promotion.writtenCommit) return head === promotion.writtenCommit;
    if (head === promotion.baseCommit) return true;
    const comparison = await repository.compare(promotion.baseCommit, head);
    const own = new Set(promotion.changes.map(c => c.path));
    return (
      comparison.commits.length === 1 &&
      comparison.files.every(f => own.has(f)) &&
      (await this.altered(promotion, repository, head)).length === 0
    );
  }

  /** The promotion's files that a commit holds other than the promotion writes them. */
  private async altered(
    promotion: StoredPromotion,
    repository: GitOpsRepository,
    head: string,
  ): Promise<string[]> {
    const tree = await repository.snapshotAt(head);
    return loadChanges(promotion.changes)
      .filter(change => {
        const file = tree.files.get(change.path);
        return change.content === null
          ? file !== undefined
          : file?.oid !== gitBlobId(change.content);
      })
      .map(change => change.path);
  }

  // ---------------------------------------------------------------- gates

  /**
   * The upstream environments with the version each runs now and since when it runs it without
   * a break: the stored state, or the preview's fresh reading, with the portal's newest merge to
   * each (see `upstreamRun`).
   */
  private async upstreamsOf(
    entityRef: string,
    environment: PipelineEnvironment,
    stored: StoredEnvironment[],
    plan?: Plan,
  ): Promise<GateContext['upstreams']> {
    return Promise.all(
      environment.requires.map(async name => {
        const env = stored.find(e => e.environment === name);
        const fresh = plan?.upstreams.find(u => u.name === name);
        const entries = await this.deps.workflow.history({
          entityRef,
          environment: name,
          limit: 50,
        });
        const merged = entries.find(e => e.action === 'merged');
        const promotion =
          merged?.promotionId &&
          (await this.deps.workflow.get(merged.promotionId).catch(() => null));
        const run = upstreamRun({
          fresh: plan ? { version: fresh?.version ?? null } : undefined,
          stored: env && {
            version: env.resolution.ok ? env.resolution.version : null,
            timeline: env.timeline,
          },
          lastMerge: merged && {
            version: merged.version,
            at: new Date(merged.at),
            commits: promotion
              ? [promotion.headCommit, promotion.mergedCommit].filter(
                  (sha): sha is string => !!sha,
                )
              : [],
          },
        });
        return { name, ...run };
      }),
    );
  }

  private async evaluate(
    promotion: StoredPromotion,
    environment: PipelineEnvironment,
    repository: GitOpsRepository,
    stored: StoredEnvironment[],
    plan?: Plan,
  ): Promise<GateEvaluation[]> {
    const config = environment.config ?? new ConfigReader({});
    const upstreams = await this.upstreamsOf(
      promotion.entityRef,
      environment,
      stored,
      plan,
    );
    const context: GateContext = {
      entityRef: promotion.entityRef,
      environment: promotion.environment,
      version: promotion.version,
      policy: environment.policy,
      config,
      promotion: {
        id: promotion.id,
        kind: promotion.kind,
        requestedBy: promotion.requestedBy,
        requestedAt: new Date(promotion.requestedAt),
        unknownVersion: promotion.unknownVersion,
        headCommit: promotion.headCommit,
        pullRequest: promotion.pullRequest?.number ?? null,
        baseBranch: promotion.baseBranch,
        changedPaths: promotion.changes.map(c => c.path),
        // Only decisions on the change as it is now count.
        decisions: promotion.decisions
          .filter(d => !d.commit || d.commit === promotion.headCommit)
          .map(d => ({
            by: d.by,
            ownership: d.ownership,
            decision: d.decision,
            source: d.source,
          })),
      },
      upstreams,
      repository,
      freezes: await this.deps.workflow.freezes(
        promotion.entityRef,
        promotion.environment,
      ),
      now: this.now(),
    };
    return evaluateGates(
      gatesFor(context, this.deps.gates, this.github),
      context,
    );
  }

  /** Judges a promotion's gates again and stores the judgement. */
  private async judge(
    promotion: StoredPromotion,
    environment: PipelineEnvironment,
    repository: GitOpsRepository,
    stored?: StoredEnvironment[],
  ): Promise<StoredPromotion> {
    const gates = await this.evaluate(
      promotion,
      environment,
      repository,
      stored ?? (await this.deps.store.environments([promotion.entityRef])),
    );
    await this.deps.workflow.transition(promotion.id, OPEN_STATES, { gates });
    return { ...promotion, gates };
  }

  /** The pipeline environment of a promotion, read from its entity as last refreshed. */
  private async environmentOf(promotion: StoredPromotion) {
    const state = await this.deps.store.get(promotion.entityRef);
    // Until a refresh has stored the entity, the catalog has it.
    const entity =
      state?.entity ??
      (await this.deps.catalog.getEntityByRef(promotion.entityRef, {
        credentials: await this.deps.auth.getOwnServiceCredentials(),
      }));
    if (!entity) {
      throw new NotFoundError(
        `${promotion.entityRef} is no longer in the catalog`,
      );
    }
    const target = readEntityTarget(entity, this.deps.config);
    const environment = target.pipeline.find(
      e => e.name === promotion.environment,
    );
    if (!environment) {
      throw new ConflictError(
        `${promotion.environment} is no longer an environment of ${promotion.entityRef}`,
      );
    }
    const repository = await this.deps.repositories.get(promotion.repositoryId);
    return { target, environment, repository, entity };
  }

  // ---------------------------------------------------------------- decisions

  /** Approves or rejects a promotion, with a comment. Nobody approves their own. */
  async decide(
    id: string,
    credentials: BackstageCredentials,
    input: { decision: 'approve' | 'reject'; comment?: string },
    auditRequest?: Parameters<AuditorService['createEvent']>[0]['request'],
  ): Promise<Promotion> {
    return this.audited(
      input.decision === 'approve' ? 'promotion-approve' : 'promotion-reject',
      { promotionId: id },
      auditRequest,
      async () => {
        const actor = await this.actorOf(credentials);
        const promotion = await this.visiblePromotion(id, credentials);
        const { environment, repository, entity } = await this.environmentOf(
          promotion,
        );
        await this.authorize(
          promotionsApprovePermission,
          promotion.entityRef,
          promotion.environment,
          entity,
          credentials,
        );
        if (actor.service) {
          throw new NotAllowedError('Only people approve or reject promotions');
        }
        this.requireOpen(
          promotion,
          input.decision === 'approve' ? 'approved' : 'rejected',
        );
        if (input.decision === 'reject') {
          await this.requireGroupNotMerging(promotion, 'rejected');
        }
        if (
          input.decision === 'approve' &&
          sameRef(actor.ref, promotion.requestedBy)
        ) {
          throw new NotAllowedError(
            'You asked for this promotion: someone else must approve it',
          );
        }
        const comment = (input.comment ?? '').slice(0, MAX_COMMENT);
        const at = this.now().toISOString();
        const outcome = await this.deps.workflow.decide(
          promotion.id,
          {
            by: actor.ref,
            ownership: actor.ownership,
            decision: input.decision,
            comment,
            source: 'portal',
            commit: promotion.headCommit,
            at,
          },
          this.entryOn(
            promotion,
            input.decision === 'approve' ? 'approved' : 'rejected',
            actor.ref,
            comment || null,
            at,
          ),
        );
        if (outcome === 'unchanged') {
          throw new ConflictError(
            `You already ${
              input.decision === 'approve' ? 'approved' : 'rejected'
            } this change; nothing changed`,
          );
        }
        if (promotion.pullRequest && repository.pullRequests) {
          // The pull request shows what was decided in the portal; the token cannot review as them.
          await repository.pullRequests
            .comment(
              promotion.pullRequest.number,
              `${
                input.decision === 'approve' ? 'Approved' : 'Rejected'
              } in the portal by \`${actor.ref}\`${
                comment ? `:\n\n${quoteForMarkdown(comment)}` : '.'
              }`,
            )
            .catch(error =>
              this.deps.logger.warn(
                `Could not write the decision on promotion ${promotion.id} to its pull request: ${error}`,
              ),
            );
        }
        const updated = await this.deps.workflow.get(promotion.id);
        return toApi(await this.judge(updated, environment, repository));
      },
    );
  }

  private async visiblePromotion(
    id: string,
    credentials: BackstageCredentials,
  ) {
    const promotion = await this.deps.workflow.get(id).catch(() => undefined);
    if (!promotion) throw new NotFoundError(`No promotion ${id}`);
    await this.entityOf(promotion.entityRef, credentials).catch(error => {
      if (error instanceof NotAllowedError) throw error;
      throw new NotFoundError(`No promotion ${id}`);
    });
    return promotion;
  }

  private requireOpen(promotion: StoredPromotion, action: string) {
    if (promotion.state === 'open') return;
    const why: Record<string, string> = {
      opening: 'it is still being opened',
      merging: 'it is being merged',
      merged: `it was merged${
        promotion.mergedCommit
          ? ` in ${promotion.mergedCommit.slice(0, 12)}`
          : ''
      }`,
      closed: `it was closed${promotion.reason ? `: ${promotion.reason}` : ''}`,
      failed: `it failed${promotion.reason ? `: ${promotion.reason}` : ''}`,
    };
    throw new ConflictError(
      `Promotion ${promotion.id} cannot be ${action}: ${why[promotion.state]}`,
    );
  }

  // ---------------------------------------------------------------- merge and close

  /**
   * Merges a promotion whose gates pass, naming the commit that was reviewed: if the branch
   * moved, nothing is merged. A change window or freeze is overridden only with the override
   * permission and a reason, and the override is kept in history. A member of a group is
   * merged with its group only.
   */
  async merge(
    id: string,
    credentials: BackstageCredentials,
    input: { override?: { reason: string } },
    auditRequest?: Parameters<AuditorService['createEvent']>[0]['request'],
  ): Promise<Promotion> {
    return this.audited(
      input.override ? 'promotion-merge-override' : 'promotion-merge',
      { promotionId: id, override: input.override?.reason ?? null },
      auditRequest,
      async () =>
        this.mergePrepared(await this.prepareMerge(id, credentials, input)),
    );
  }

  /**
   * Merges a member of a group, checked by `prepareMerge` on behalf of that group; for
   * `PromotionGroups` only, which checked every member before merging any.
   */
  async mergeGroupMember(
    prepared: PreparedMerge,
    groupId: string,
    auditRequest?: Parameters<AuditorService['createEvent']>[0]['request'],
  ): Promise<Promotion> {
    return this.audited(
      'promotion-merge',
      { promotionId: prepared.promotion.id, groupId },
      auditRequest,
      async () => this.mergePrepared(prepared),
    );
  }

  /**
   * The checks of a merge, all done afresh without merging: who merges, the branch as the
   * repository has it and not moved since it was reviewed, every gate judged again (or
   * overridden), and the branch holding only the promotion's change. `group` is set only by the
   * group merge, for a member of that group.
   */
  async prepareMerge(
    id: string,
    credentials: BackstageCredentials,
    input: { override?: { reason: string } },
    options: { group?: string } = {},
  ): Promise<PreparedMerge> {
    const authority = await this.authorizeMerge(
      id,
      credentials,
      'merged',
      options.group,
    );
    return this.checkMerge(authority, credentials, input);
  }

  /**
   * The checks of a merge of a group's member, done afresh for a group merge that a crash
   * interrupted, as whoever asked for that merge: their permission was checked when they asked;
   * they must still be a user in the catalog, or a service the environment's policy lists.
   */
  async prepareResumedGroupMember(
    id: string,
    groupId: string,
    by: { ref: string; service: boolean },
  ): Promise<PreparedMerge> {
    const promotion = await this.deps.workflow.get(id);
    const { environment, repository, entity } = await this.environmentOf(
      promotion,
    );
    this.requireOpen(promotion, 'merged');
    await this.requireNoOtherGroup(promotion, 'merged', groupId);
    const gone = await this.actorGone(
      by,
      'who merged its group',
      promotion.environment,
      environment,
    );
    if (gone) throw new NotAllowedError(gone);
    const credentials = await this.deps.auth.getOwnServiceCredentials();
    const actor: Actor = {
      ref: by.ref,
      ownership: [],
      service: by.service,
      author: await this.authorOf(by.ref),
      credentials,
    };
    return this.checkMerge(
      { actor, promotion, environment, repository, entity },
      credentials,
      {},
    );
  }

  private async checkMerge(
    authority: MergeAuthority,
    credentials: BackstageCredentials,
    input: { override?: { reason: string } },
  ): Promise<PreparedMerge> {
    const { actor, environment, repository, entity } = authority;
    let promotion = authority.promotion;
    const reviewed = promotion.headCommit;
    promotion = await this.syncOne(promotion, repository);
    this.requireOpen(promotion, 'merged');
    if (promotion.headCommit !== reviewed) {
      throw new ConflictError(
        `The branch ${promotion.branch} moved from ${reviewed?.slice(
          0,
          12,
        )} to ${promotion.headCommit?.slice(
          0,
          12,
        )} since it was reviewed; nothing was merged. Review the new change and merge again`,
      );
    }
    promotion = await this.judge(promotion, environment, repository);
    const blocking = promotion.gates.filter(g => g.state !== 'passed');
    const overridden = blocking.filter(g => OVERRIDABLE_GATES.has(g.gate));
    if (blocking.length > 0) {
      const notOverridable = blocking.filter(
        g => !OVERRIDABLE_GATES.has(g.gate),
      );
      if (!input.override || notOverridable.length > 0) {
        throw new ConflictError(
          `Not every gate passes: ${(input.override ? notOverridable : blocking)
            .map(g => `${g.gate}: ${g.summary}`)
            .join('; ')}`,
        );
      }
      if (!input.override.reason?.trim()) {
        throw new InputError('An override needs a reason');
      }
      if (actor.service) {
        throw new NotAllowedError('Only people override gates');
      }
      await this.authorize(
        promotionsOverridePermission,
        promotion.entityRef,
        promotion.environment,
        entity,
        credentials,
      );
    }
    await this.verifyBranch(promotion, repository);
    return {
      promotion,
      repository,
      actor,
      overridden,
      overrideReason:
        overridden.length > 0 ? input.override!.reason : undefined,
    };
  }

  /** Merges a promotion `prepareMerge` checked; the repository refuses it if its branch moved since. */
  private async mergePrepared(prepared: PreparedMerge): Promise<Promotion> {
    const { promotion, repository, actor, overridden, overrideReason } =
      prepared;
    const merging = {
      by: actor.ref,
      overrideReason: overrideReason ?? null,
      overriddenGates: overridden.length > 0 ? overridden : null,
    };
    if (
      !(await this.deps.workflow.transition(promotion.id, ['open'], {
        state: 'merging',
        // Kept so that a restart records who merged, and the override, truly.
        merging,
      }))
    ) {
      const now = await this.deps.workflow.get(promotion.id);
      this.requireOpen(now, 'merged');
    }
    try {
      const mergedCommit = await this.mergeChange(
        promotion,
        repository,
        actor.author,
      );
      await this.finishMerge(promotion, repository, mergedCommit, actor.ref, {
        overrides: overridden.length > 0 ? overridden : undefined,
        reason: overrideReason,
      });
    } catch (error) {
      await this.settleMerging(
        { ...promotion, merging },
        repository,
        error as Error,
      );
    }
    return toApi(await this.deps.workflow.get(promotion.id));
  }

  /**
   * Who may merge or queue a promotion: the merge permission, a service only where the
   * environment's policy lists it, an open promotion, and not a member of a group other than
   * `group` still to be merged or closed.
   */
  private async authorizeMerge(
    id: string,
    credentials: BackstageCredentials,
    action: 'merged' | 'queued',
    group?: string,
  ): Promise<MergeAuthority> {
    const actor = await this.actorOf(credentials);
    const promotion = await this.visiblePromotion(id, credentials);
    const { environment, repository, entity } = await this.environmentOf(
      promotion,
    );
    await this.authorize(
      promotionsMergePermission,
      promotion.entityRef,
      promotion.environment,
      entity,
      credentials,
    );
    if (actor.service && !environment.policy.services.includes(actor.ref)) {
      throw new NotAllowedError(
        `${actor.ref} may not merge promotions to ${promotion.environment}: its policy lists no such service`,
      );
    }
    this.requireOpen(promotion, action);
    await this.requireNoOtherGroup(promotion, action, group);
    return { actor, promotion, environment, repository, entity };
  }

  /**
   * Refuses to close or reject a member while its group merges it: the group would be released
   * in part. The group never closes a member while it merges.
   */
  private async requireGroupNotMerging(
    promotion: StoredPromotion,
    action: string,
  ) {
    const active = await this.deps.groups.activeGroupOf(promotion.id);
    if (active?.state !== 'merging') return;
    throw new ConflictError(
      `Promotion ${promotion.id} cannot be ${action}: its group promotion ${active.id} of ${active.systemRef} to ${promotion.environment} is being merged`,
    );
  }

  /** Refuses a member of a group still to be merged or closed, unless that group merges it. */
  private async requireNoOtherGroup(
    promotion: StoredPromotion,
    action: string,
    group?: string,
  ) {
    const active = await this.deps.groups.activeGroupOf(promotion.id);
    if (!active || active.id === group) return;
    throw new ConflictError(
      `Promotion ${promotion.id} cannot be ${action} alone: it belongs to the group promotion ${active.id} of ${active.systemRef} to ${promotion.environment}. Merge the group from the Promotions tab of ${active.systemRef}`,
    );
  }

  /**
   * The branch holds exactly the reviewed commit, and changes only the promotion's own files:
   * whatever else someone pushed to it is refused, not merged with the portal's credentials.
   */
  private async verifyBranch(
    promotion: StoredPromotion,
    repository: GitOpsRepository,
  ) {
    const pr =
      promotion.pullRequest && repository.pullRequests
        ? await repository.pullRequests.get(promotion.pullRequest.number)
        : undefined;
    // Anyone who may edit the pull request can point it at another branch, such as production's.
    if (pr && pr.base !== promotion.baseBranch) {
      throw new ConflictError(
        `The pull request #${pr.number} was retargeted to ${pr.base}, not ${promotion.baseBranch}, the branch the promotion merges into; nothing was merged. Retarget it to ${promotion.baseBranch} on GitHub to merge it`,
      );
    }
    const head = pr
      ? pr.headCommit
      : await repository.branchHead(promotion.branch);
    if (head === undefined) {
      throw new ConflictError(
        `The branch ${promotion.branch} is gone; nothing was merged`,
      );
    }
    if (head !== promotion.headCommit) {
      throw new ConflictError(
        `The branch ${
          promotion.branch
        } moved from ${promotion.headCommit?.slice(0, 12)} to ${head.slice(
          0,
          12,
        )} since it was reviewed; nothing was merged`,
      );
    }
    const comparison = await repository.compare(promotion.baseCommit, head);
    const own = new Set(promotion.changes.map(c => c.path));
    const foreign = comparison.files.filter(f => !own.has(f));
    if (foreign.length > 0) {
      throw new NotAllowedError(
        `The branch ${
          promotion.branch
        } changes files the promotion does not: ${foreign
          .slice(0, 5)
          .join(', ')}; nothing was merged`,
      );
    }
    // Its own files must hold exactly what the promotion wrote, not what someone pushed since.
    const altered = await this.altered(promotion, repository, head);
    if (altered.length > 0) {
      throw new NotAllowedError(
        `The branch ${promotion.branch} holds ${altered.join(
          ', ',
        )} other than the promotion wrote it; nothing was merged. Close it and ask again`,
      );
    }
  }

  private async mergeChange(
    promotion: StoredPromotion,
    repository: GitOpsRepository,
    author: CommitAuthor,
  ): Promise<string> {
    const title = promotionTitle(promotion);
    if (promotion.pullRequest && repository.pullRequests) {
      return repository.pullRequests.merge({
        number: promotion.pullRequest.number,
        expectedHead: promotion.headCommit!,
        title: `${title} (#${promotion.pullRequest.number})`,
      });
    }
    return repository.merge({
      source: promotion.branch,
      expectedHead: promotion.headCommit!,
      target: promotion.baseBranch,
      message: `${title}\n\nPromotion-Id: ${promotion.id}\n`,
      author,
    });
  }

  private async finishMerge(
    promotion: StoredPromotion,
    repository: GitOpsRepository,
    mergedCommit: string | null,
    actor: string,
    options: { overrides?: GateEvaluation[]; reason?: string } = {},
  ) {
    const at = this.now().toISOString();
    const history = [
      ...(options.overrides
        ? [
            this.entryOn(
              promotion,
              'overridden',
              actor,
              `${options.overrides.map(g => g.gate).join(', ')} overridden: ${
                options.reason
              }`,
              at,
            ),
          ]
        : []),
      this.entryOn(
        promotion,
        'merged',
        actor,
        mergedCommit ? `Merged in ${mergedCommit.slice(0, 12)}` : null,
        at,
      ),
    ];
    if (
      !(await this.deps.workflow.transition(
        promotion.id,
        ['merging', 'open'],
        {
          state: 'merged',
          mergedCommit,
          queuedUntil: null,
          cleanupPending: true,
        },
        history,
      ))
    ) {
      return;
    }
    this.refreshAfter(promotion);
    await this.tidy(promotion.id, repository);
  }

  /**
   * After a merge failed or its outcome is unknown (a crash, a timeout): if it landed, record it;
   * if not, the promotion is open again and the error says why.
   */
  private async settleMerging(
    promotion: StoredPromotion,
    repository: GitOpsRepository,
    error?: Error,
  ) {
    let merged: string | null | undefined;
    try {
      merged = await this.landedCommit(promotion, repository);
    } catch (checkError) {
      // Unknown: stays `merging`, the sync looks again.
      throw error ?? checkError;
    }
    if (merged !== undefined) {
      const merging = promotion.merging;
      await this.finishMerge(
        promotion,
        repository,
        merged,
        merging?.by ?? 'system',
        {
          overrides: merging?.overriddenGates ?? undefined,
          reason: merging?.overrideReason ?? undefined,
        },
      );
      if (!error)
        await this.auditSync('promotion-merge', promotion, {
          recovered: 'true',
        });
      return;
    }
    await this.deps.workflow.transition(promotion.id, ['merging'], {
      state: 'open',
      reason: error ? error.message.slice(0, 2000) : null,
      merging: null,
    });
    if (error) throw error;
  }

  /** The commit a promotion landed in, null when it landed but the commit is not known, undefined when it did not. */
  private async landedCommit(
    promotion: StoredPromotion,
    repository: GitOpsRepository,
  ): Promise<string | null | undefined> {
    if (promotion.pullRequest && repository.pullRequests) {
      const pr = await repository.pullRequests.get(
        promotion.pullRequest.number,
      );
      return pr.state === 'merged' ? pr.mergeCommit : undefined;
    }
    if (!promotion.headCommit) return undefined;
    const target = await repository.branchHead(promotion.baseBranch);
    if (!target) return undefined;
    // Merged when the target branch holds the promotion's head.
    const comparison = await repository.compare(target, promotion.headCommit);
    return comparison.commits.length === 0 ? target : undefined;
  }

  /**
   * Asks for the refresh of the repository a promotion wrote, and of the one its entity is
   * refreshed with, which reads the environment from the first when they differ.
   */
  private refreshAfter(promotion: StoredPromotion) {
    this.deps.requestRefresh(promotion.repositoryId);
    this.deps.store
      .get(promotion.entityRef)
      .then(stored => {
        if (!stored?.entity) return;
        const home = readEntityTarget(stored.entity, this.deps.config)
          .repository.id;
        if (home !== promotion.repositoryId) this.deps.requestRefresh(home);
      })
      .catch(error =>
        this.deps.logger.warn(
          `Could not ask for the refresh of ${promotion.entityRef} after promotion ${promotion.id}: ${error}`,
        ),
      );
  }

  /** Closes a promotion: its pull request closed, its branch deleted, the reason kept. */
  async close(
    id: string,
    credentials: BackstageCredentials,
    input: { reason?: string },
    auditRequest?: Parameters<AuditorService['createEvent']>[0]['request'],
  ): Promise<Promotion> {
    return this.audited(
      'promotion-close',
      { promotionId: id },
      auditRequest,
      async () => {
        const actor = await this.actorOf(credentials);
        let promotion = await this.visiblePromotion(id, credentials);
        const { entity, repository } = await this.environmentOf(promotion);
        // Whoever asked may take it back; otherwise closing is for those who may merge.
        await this.authorize(
          sameRef(actor.ref, promotion.requestedBy)
            ? promotionsPromotePermission
            : promotionsMergePermission,
          promotion.entityRef,
          promotion.environment,
          entity,
          credentials,
        );
        this.requireOpen(promotion, 'closed');
        // Merged outside the portal meanwhile: that is what happened, and it says so.
        promotion = await this.syncOne(promotion, repository);
        this.requireOpen(promotion, 'closed');
        await this.requireGroupNotMerging(promotion, 'closed');
        await this.closeWith(
          promotion,
          actor.ref,
          (input.reason ?? '').slice(0, MAX_COMMENT) || null,
        );
        return toApi(await this.deps.workflow.get(promotion.id));
      },
    );
  }

  private async closeWith(
    promotion: StoredPromotion,
    by: string,
    reason: string | null,
  ) {
    if (
      !(await this.deps.workflow.transition(
        promotion.id,
        ['open'],
        {
          state: 'closed',
          reason: reason ?? `Closed by ${by}`,
          cleanupPending: true,
        },
        [this.entryOn(promotion, 'closed', by, reason)],
      ))
    ) {
      const now = await this.deps.workflow.get(promotion.id);
      this.requireOpen(now, 'closed');
    }
    const repository = await this.deps.repositories.get(promotion.repositoryId);
    await this.tidy(
      promotion.id,
      repository,
      `Closed in the portal by \`${by}\`${reason ? `: ${reason}` : '.'}`,
    );
  }

  /**
   * Closes an open promotion for the backend itself, nobody asking: a member of a group whose
   * request died. Answers the promotion's state after, or undefined when it was never stored.
   */
  async closeBySystem(
    id: string,
    reason: string,
  ): Promise<Promotion['state'] | undefined> {
    const promotion = await this.deps.workflow.get(id).catch(() => undefined);
    if (!promotion) return undefined;
    if (promotion.state !== 'open') return promotion.state;
    await this.closeWith(promotion, 'system', reason.slice(0, MAX_COMMENT));
    await this.auditSync('promotion-close', promotion, {
      reason: reason.slice(0, 500),
    });
    return 'closed';
  }

  // ---------------------------------------------------------------- freezes

  async freezes(
    credentials: BackstageCredentials,
    entityRef?: string,
  ): Promise<Freeze[]> {
    if (!entityRef) {
      // Every service's freezes: those of services the caller may see, and global ones.
      const all = await this.deps.workflow.freezes();
      const refs = [...new Set(all.map(f => f.entityRef))].filter(
        ref => ref !== '*',
      );
      const visible = new Set(
        (
          await Promise.all(
            refs.map(async ref => {
              const stored = await this.deps.store.get(ref);
              const access = await this.deps.visibility.check(
                ref,
                stored?.entity ?? undefined,
                credentials,
              );
              return access.kind === 'allowed' ? ref : undefined;
            }),
          )
        ).filter(ref => ref !== undefined),
      );
      return all.filter(f => f.entityRef === '*' || visible.has(f.entityRef));
    }
    const { target } = await this.entityOf(
      canonicalRef(entityRef),
      credentials,
    );
    return this.deps.workflow.freezes(target.entityRef);
  }

  /** Freezes an environment of a service, or of every service (`*`), with a reason. */
  async freeze(
    credentials: BackstageCredentials,
    input: { entityRef: string; environment: string; reason: string },
    auditRequest?: Parameters<AuditorService['createEvent']>[0]['request'],
  ): Promise<Freeze> {
    return this.audited(
      'environment-freeze',
      { ...input },
      auditRequest,
      async () => {
        const actor = await this.actorOf(credentials);
        if (actor.service) {
          throw new NotAllowedError('Only people freeze environments');
        }
        if (!input.reason.trim())
          throw new InputError('A freeze needs a reason');
        let entity: Entity | null = null;
        // Stored as the catalog writes refs, so that the freeze gate finds it.
        let entityRef = '*';
        if (input.entityRef !== '*') {
          const found = await this.entityOf(
            canonicalRef(input.entityRef),
            credentials,
          );
          entity = found.entity;
          entityRef = found.target.entityRef;
          if (input.environment !== '*') {
            environmentNamed(found.target, input.environment);
          }
        }
        await this.authorize(
          promotionsFreezePermission,
          entityRef,
          input.environment,
          entity,
          credentials,
        );
        // Its history entry is written with it, or neither.
        return this.deps.workflow.freeze({
          entityRef,
          environment: input.environment,
          reason: input.reason.slice(0, MAX_COMMENT),
          by: actor.ref,
          at: this.now().toISOString(),
        });
      },
    );
  }

  async lift(
    credentials: BackstageCredentials,
    id: number,
    input: { reason: string },
    auditRequest?: Parameters<AuditorService['createEvent']>[0]['request'],
  ): Promise<Freeze> {
    return this.audited(
      'environment-unfreeze',
      { freezeId: id },
      auditRequest,
      async () => {
        const actor = await this.actorOf(credentials);
        const [existing] = (await this.deps.workflow.freezes()).filter(
          f => f.id === id,
        );
        if (!existing) throw new NotFoundError(`No freeze ${id} in force`);
        let entity: Entity | null = null;
        if (existing.entityRef !== '*') {
          entity = (await this.entityOf(existing.entityRef, credentials))
            .entity;
        }
        await this.authorize(
          promotionsFreezePermission,
          existing.entityRef,
          existing.environment,
          entity,
          credentials,
        );
        // Its history entry is written with the lifting, or neither.
        return this.deps.workflow.lift(id, {
          by: actor.ref,
          at: this.now().toISOString(),
          reason: input.reason.slice(0, MAX_COMMENT),
        });
      },
    );
  }

  // ---------------------------------------------------------------- sync

  /**
   * Follows every unfinished promotion: finishes those a crash interrupted, notices pull
   * requests merged or closed outside the portal and reviews given on GitHub, and judges the
   * gates again. Run by a scheduled task on one replica at a time.
   */
  async sync(options: { signal?: AbortSignal } = {}): Promise<void> {
    const untidy = await this.deps.workflow.list({ cleanupPending: true });
    for (const promotion of untidy) {
      options.signal?.throwIfAborted();
      const age =
        this.now().getTime() - new Date(promotion.updatedAt).getTime();
      // A younger one may still be being cleaned up by the request that finished it.
      if (age < STUCK_AFTER_MS) continue;
      // Superseded by one still being opened: reopened if that one fails, so kept until it opens.
      const replacement = await this.deps.workflow.findOpen(
        promotion.entityRef,
        promotion.environment,
      );
      if (
        replacement?.state === 'opening' &&
        promotion.reason === supersededReason(replacement.id)
      ) {
        continue;
      }
      try {
        const repository = await this.deps.repositories.get(
          promotion.repositoryId,
        );
        await this.tidy(promotion.id, repository);
      } catch (error) {
        this.deps.logger.warn(
          `Could not clean up after promotion ${promotion.id}: ${error}`,
        );
      }
    }
    const unfinished = await this.deps.workflow.list({ states: OPEN_STATES });
    for (const promotion of unfinished) {
      options.signal?.throwIfAborted();
      try {
        await this.syncPromotion(promotion);
      } catch (error) {
        this.deps.logger.warn(
          `Could not follow promotion ${promotion.id} of ${promotion.entityRef} to ${promotion.environment}: ${error}`,
        );
      }
    }
  }

  /** The unfinished promotions of some repositories: those a webhook may concern. */
  async unfinished(repositoryIds: string[]): Promise<StoredPromotion[]> {
    const promotions = await this.deps.workflow.list({ states: OPEN_STATES });
    return promotions.filter(p => repositoryIds.includes(p.repositoryId));
  }

  /** Follows one unfinished promotion now, as the sync does: a webhook said it moved. */
  async syncNow(promotionId: string): Promise<void> {
    const promotion = await this.deps.workflow.get(promotionId);
    if (OPEN_STATES.includes(promotion.state)) {
      await this.syncPromotion(promotion);
    }
  }

  private async syncPromotion(promotion: StoredPromotion) {
    const repository = await this.deps.repositories.get(promotion.repositoryId);
    const age = this.now().getTime() - new Date(promotion.updatedAt).getTime();
    if (promotion.state === 'opening') {
      if (age < STUCK_AFTER_MS) return;
      try {
        const author = await this.authorOf(promotion.requestedBy);
        await this.completeOpening(promotion, repository, author);
        this.deps.logger.info(
          `Finished opening promotion ${promotion.id} after an interruption`,
        );
        const superseded = await this.deps.workflow.supersededBy(promotion.id);
        if (superseded) {
          await this.tidySuperseded(
            superseded,
            promotion.id,
            promotion.requestedBy,
          );
        }
      } catch (error) {
        const total =
          this.now().getTime() - new Date(promotion.requestedAt).getTime();
        if (total > GIVE_UP_AFTER_MS)
          await this.abandon(promotion, repository, error as Error);
        else throw error;
      }
      return;
    }
    if (promotion.state === 'merging') {
      if (age < STUCK_AFTER_MS) return;
      await this.settleMerging(promotion, repository).catch(() => {});
      return;
    }
    const synced = await this.syncOne(promotion, repository);
    if (synced.state !== 'open') return;
    const { environment } = await this.environmentOf(synced);
    const judged = await this.judge(synced, environment, repository);
    if (judged.queuedUntil) {
      await this.mergeQueued(judged, environment, repository);
    }
  }

  private async authorOf(ref: string): Promise<CommitAuthor> {
    const user = await this.deps.catalog
      .getEntityByRef(ref, {
        credentials: await this.deps.auth.getOwnServiceCredentials(),
      })
      .catch(() => undefined);
    const profile = (user?.spec?.profile ?? {}) as {
      displayName?: string;
      email?: string;
    };
    return {
      name: profile.displayName ?? humanizeEntityRef(ref),
      email:
        profile.email ??
        `${humanizeEntityRef(ref).replace(/[^\w.-]/g, '.')}@backstage.invalid`,
    };
  }

  /**
   * An open promotion as its repository now has it: merged or closed outside the portal,
   * moved to a new head, or reviewed on GitHub.
   */
  private async syncOne(
    promotion: StoredPromotion,
    repository: GitOpsRepository,
  ): Promise<StoredPromotion> {
    if (promotion.state !== 'open') return promotion;
    /** Records what happened outside the portal, once, and the promotion as it now is. */
    const happened = async (
      change: { state: 'merged' | 'closed'; mergedCommit?: string | null },
      actor: 'github' | 'git',
      comment: string,
    ) => {
      if (
        await this.deps.workflow.transition(
          promotion.id,
          ['open'],
          {
            ...change,
            ...(change.state === 'closed' ? { reason: comment } : {}),
            cleanupPending: true,
          },
          [this.entryOn(promotion, change.state, actor, comment)],
        )
      ) {
        await this.auditSync(
          change.state === 'merged' ? 'promotion-merge' : 'promotion-close',
          promotion,
          { outside: actor },
        );
        if (change.state === 'merged') {
          this.refreshAfter(promotion);
        }
        await this.tidy(promotion.id, repository);
      }
      return this.deps.workflow.get(promotion.id);
    };
    let head: string | undefined;
    if (promotion.pullRequest && repository.pullRequests) {
      const pr = await repository.pullRequests.get(
        promotion.pullRequest.number,
      );
      if (pr.state === 'merged') {
        return happened(
          { state: 'merged', mergedCommit: pr.mergeCommit },
          'github',
          'Merged on GitHub, outside the portal',
        );
      }
      if (pr.state === 'closed') {
        return happened(
          { state: 'closed' },
          'github',
          'The pull request was closed on GitHub, outside the portal',
        );
      }
      head = pr.headCommit;
      if (pr.base !== promotion.baseBranch) {
        await this.noteRetargeted(promotion, pr.base);
      }
      await this.syncReviews(promotion, repository);
    } else {
      head = await repository.branchHead(promotion.branch);
      const landed = await this.landedCommit(promotion, repository).catch(
        () => undefined,
      );
      if (
        landed !== undefined &&
        (head === undefined || head === promotion.headCommit)
      ) {
        return happened(
          { state: 'merged', mergedCommit: landed },
          'git',
          'Merged outside the portal',
        );
      }
      if (head === undefined) {
        return happened(
          { state: 'closed' },
          'git',
          `The branch ${promotion.branch} was deleted outside the portal`,
        );
      }
    }
    if (head && head !== promotion.headCommit) {
      // Someone pushed to the branch: decisions on the old head no longer count. The head is
      // taken in, but not as written by the portal: a cleanup never deletes it.
      await this.deps.workflow.transition(
        promotion.id,
        ['open'],
        { headCommit: head },
        [
          this.entryOn(
            promotion,
            'changed',
            'system',
            `The branch moved from ${promotion.headCommit?.slice(
              0,
              12,
            )} to ${head.slice(0, 12)}: earlier decisions no longer count`,
          ),
        ],
      );
    }
    return this.deps.workflow.get(promotion.id);
  }

  /**
   * A pull request pointed at another branch stays open for a person to point it back; history
   * says so once for each branch it is pointed at.
   */
  private async noteRetargeted(promotion: StoredPromotion, base: string) {
    const comment = `The pull request was retargeted to ${base} on GitHub: it is not merged until it is retargeted to ${promotion.baseBranch}`;
    const [last] = (
      await this.deps.workflow.history({
        entityRef: promotion.entityRef,
        environment: promotion.environment,
        limit: 50,
      })
    ).filter(
      e =>
        e.promotionId === promotion.id &&
        e.actor === 'github' &&
        e.comment?.startsWith('The pull request was retargeted to '),
    );
    if (last?.comment === comment) return;
    await this.recordOn(promotion, 'changed', 'github', comment);
  }

  /**
   * Pull-request reviews as decisions of the people behind the GitHub logins. A review counts
   * only from a catalog user annotated with the login who owns the service or belongs to the
   * environment's approval groups (in production, the groups only), as a person approving in the
   * portal would; a person's latest
   * review is their decision, and a dismissed one counts no more.
   */
  private async syncReviews(
    promotion: StoredPromotion,
    repository: GitOpsRepository,
  ) {
    const reviews = await repository.pullRequests!.reviews(
      promotion.pullRequest!.number,
    );
    const latest = new Map<string, (typeof reviews)[number]>();
    for (const review of reviews) {
      if (review.state === 'commented' || !review.user) continue;
      latest.set(review.user.toLowerCase(), review);
    }
    if (latest.size === 0) return;
    const { entity, environment } = await this.environmentOf(promotion);
    // The permission policy cannot judge a reviewer who is not signed in: in production only
    // the approval groups' members count, and nobody when the environment names no groups.
    const owners = environment.policy.production
      ? []
      : (entity.relations ?? [])
          .filter(r => r.type === RELATION_OWNED_BY)
          .map(r => r.targetRef);
    const eligible = new Set(
      [...owners, ...(environment.policy.approvals?.groups ?? [])].map(ref =>
        ref.toLocaleLowerCase('en-US'),
      ),
    );
    for (const review of latest.values()) {
      const person = await this.github.byLogin(review.user);
      if (!person) continue;
      if (review.state === 'dismissed') {
        if (
          await this.deps.workflow.withdraw(promotion.id, person.ref, 'github')
        ) {
          await this.recordOn(
            promotion,
            'changed',
            person.ref,
            'Review dismissed on GitHub',
          );
        }
        continue;
      }
      if (
        !person.ownership.some(ref =>
          eligible.has(ref.toLocaleLowerCase('en-US')),
        )
      ) {
        continue;
      }
      const decision = review.state === 'approved' ? 'approve' : 'reject';
      const at = review.at || this.now().toISOString();
      const outcome = await this.deps.workflow.decide(
        promotion.id,
        {
          by: person.ref,
          ownership: person.ownership,
          decision,
          comment: review.body.slice(0, MAX_COMMENT),
          source: 'github',
          commit: review.commit,
          at,
        },
        this.entryOn(
          promotion,
          decision === 'approve' ? 'approved' : 'rejected',
          person.ref,
          `On GitHub${review.body ? `: ${review.body.slice(0, 500)}` : ''}`,
          at,
        ),
      );
      if (outcome === 'unchanged') continue;
      await this.auditSync(
        decision === 'approve' ? 'promotion-approve' : 'promotion-reject',
        promotion,
        { by: person.ref, source: 'github' },
      );
    }
  }

  // ---------------------------------------------------------------- scheduled merges

  /**
   * Queues a promotion to merge when its change window opens: allowed to those who may merge
   * it, and only when the window is all that holds it. The sync merges it then, if every gate
   * still passes.
   */
  async queue(
    id: string,
    credentials: BackstageCredentials,
    auditRequest?: Parameters<AuditorService['createEvent']>[0]['request'],
  ): Promise<Promotion> {
    return this.audited(
      'promotion-queue',
      { promotionId: id },
      auditRequest,
      async () => {
        const authority = await this.authorizeMerge(id, credentials, 'queued');
        const { actor, environment, repository } = authority;
        let promotion = authority.promotion;
        if (promotion.queuedUntil) {
          throw new ConflictError(
            `Promotion ${promotion.id} is already queued to merge at ${promotion.queuedUntil}`,
          );
        }
        promotion = await this.judge(promotion, environment, repository);
        const blocking = promotion.gates.filter(g => g.state !== 'passed');
        const window = blocking.find(g => g.gate === 'windows');
        const others = blocking.filter(g => g.gate !== 'windows');
        if (others.length > 0) {
          throw new ConflictError(
            `Only a change window may hold a queued merge: ${others
              .map(g => `${g.gate}: ${g.summary}`)
              .join('; ')}`,
          );
        }
        if (!window?.until) {
          throw new ConflictError(
            window
              ? 'The change window never opens; nothing was queued'
              : 'Every gate passes: merge it now',
          );
        }
        const queuedUntil = window.until;
        if (
          !(await this.deps.workflow.transition(
            promotion.id,
            ['open'],
            {
              queuedUntil,
              queuedBy: { ref: actor.ref, service: actor.service },
            },
            [
              this.entryOn(
                promotion,
                'queued',
                actor.ref,
                `Queued to merge when the change window opens at ${queuedUntil}`,
              ),
            ],
          ))
        ) {
          this.requireOpen(
            await this.deps.workflow.get(promotion.id),
            'queued',
          );
        }
        return toApi(await this.deps.workflow.get(promotion.id));
      },
    );
  }

  /** Takes a promotion off the merge queue: for those who may merge it. */
  async unqueue(
    id: string,
    credentials: BackstageCredentials,
    auditRequest?: Parameters<AuditorService['createEvent']>[0]['request'],
  ): Promise<Promotion> {
    return this.audited(
      'promotion-unqueue',
      { promotionId: id },
      auditRequest,
      async () => {
        const actor = await this.actorOf(credentials);
        const promotion = await this.visiblePromotion(id, credentials);
        const { entity } = await this.environmentOf(promotion);
        await this.authorize(
          promotionsMergePermission,
          promotion.entityRef,
          promotion.environment,
          entity,
          credentials,
        );
        this.requireOpen(promotion, 'unqueued');
        if (!promotion.queuedUntil) {
          throw new ConflictError(
            `Promotion ${promotion.id} is not queued to merge`,
          );
        }
        await this.deps.workflow.transition(
          promotion.id,
          ['open'],
          { queuedUntil: null, queuedBy: null },
          [
            this.entryOn(
              promotion,
              'unqueued',
              actor.ref,
              'Taken off the merge queue',
            ),
          ],
        );
        return toApi(await this.deps.workflow.get(promotion.id));
      },
    );
  }

  /**
   * A queued promotion, its gates just judged: merged as whoever queued it when every gate
   * passes and the queuer still may, left queued while only the change window holds it, taken
   * off the queue (history says why) when another gate stopped passing meanwhile or the queuer
   * is gone.
   */
  private async mergeQueued(
    promotion: StoredPromotion,
    environment: PipelineEnvironment,
    repository: GitOpsRepository,
  ) {
    const blocking = promotion.gates.filter(g => g.state !== 'passed');
    if (blocking.length === 1 && blocking[0].gate === 'windows') return;
    const group = await this.deps.groups.activeGroupOf(promotion.id);
    let why: string | undefined;
    if (blocking.length > 0) {
      why = blocking.map(g => `${g.gate}: ${g.summary}`).join('; ');
    } else if (group) {
      why = `it belongs to the group promotion ${group.id} of ${group.systemRef}, which merges it`;
    } else {
      why = await this.queuerGone(promotion, environment);
    }
    if (why) {
      await this.deps.workflow.transition(
        promotion.id,
        ['open'],
        { queuedUntil: null, queuedBy: null },
        [
          this.entryOn(
            promotion,
            'unqueued',
            'system',
            `Not merged when queued: ${why}`.slice(0, MAX_COMMENT),
          ),
        ],
      );
      return;
    }
    // The merge is the queuer's, checked just above.
    const by = promotion.queuedBy!.ref;
    await this.verifyBranch(promotion, repository);
    const merging = { by, overrideReason: null, overriddenGates: null };
    if (
      !(await this.deps.workflow.transition(promotion.id, ['open'], {
        state: 'merging',
        merging,
      }))
    ) {
      return;
    }
    try {
      const mergedCommit = await this.mergeChange(
        promotion,
        repository,
        await this.authorOf(by),
      );
      await this.finishMerge(promotion, repository, mergedCommit, by);
      await this.auditSync('promotion-merge', promotion, { queued: by });
    } catch (error) {
      await this.settleMerging(
        { ...promotion, merging },
        repository,
        error as Error,
      );
    }
  }

  /**
   * Why whoever queued a promotion may no longer merge it: a service the environment's policy no
   * longer lists, or a person no longer a user in the catalog; undefined when they still may.
   */
  private async queuerGone(
    promotion: StoredPromotion,
    environment: PipelineEnvironment,
  ): Promise<string | undefined> {
    const queuer = promotion.queuedBy;
    if (!queuer)
      return 'nobody is recorded as having queued it; queue it again';
    // A catalog that cannot answer throws: the promotion stays queued for the next sync.
    return this.actorGone(
      queuer,
      'who queued it',
      promotion.environment,
      environment,
    );
  }

  /**
   * Why someone who asked for a merge earlier may no longer have it done as them: a service the
   * environment's policy no longer lists, or a person no longer a user in the catalog.
   */
  private async actorGone(
    who: { ref: string; service: boolean },
    role: string,
    environmentName: string,
    environment: PipelineEnvironment,
  ): Promise<string | undefined> {
    if (who.service) {
      return environment.policy.services.includes(who.ref)
        ? undefined
        : `${who.ref}, ${role}, is no longer a service the policy of ${environmentName} lists`;
    }
    const user = who.ref
      ? await this.deps.catalog.getEntityByRef(who.ref, {
          credentials: await this.deps.auth.getOwnServiceCredentials(),
        })
      : undefined;
    return user?.kind.toLocaleLowerCase('en-US') === 'user'
      ? undefined
      : `${
          who.ref || 'nobody recorded'
        }, ${role}, is no longer a user in the catalog`;
  }

  /** Reports a change the sync saw or made, which no request of a person asked for. */
  private async auditSync(
    eventId: string,
    promotion: StoredPromotion,
    meta: Record<string, string | null> = {},
  ) {
    const event = await this.deps.auditor.createEvent({
      eventId,
      severityLevel: 'medium',
      meta: {
        promotionId: promotion.id,
        entityRef: promotion.entityRef,
        environment: promotion.environment,
        by: 'sync',
        ...meta,
      },
    });
    await event.success();
  }

  /** A line of a promotion's history, written now. */
  private recordOn(
    promotion: StoredPromotion,
    action: HistoryEntry['action'],
    actor: string,
    comment: string | null,
    at = this.now().toISOString(),
  ) {
    return this.deps.workflow.record(
      this.entryOn(promotion, action, actor, comment, at),
    );
  }

  /** A line of a promotion's history, to write with a change of its state. */
  private entryOn(
    promotion: StoredPromotion,
    action: HistoryEntry['action'],
    actor: string,
    comment: string | null,
    at = this.now().toISOString(),
  ): Omit<HistoryEntry, 'id'> {
    return {
      entityRef: promotion.entityRef,
      environment: promotion.environment,
      action,
      actor,
      at,
      version: promotion.version,
      kind: promotion.kind,
      promotionId: promotion.id,
      pullRequest: promotion.pullRequest?.number ?? null,
      comment,
    };
  }

  // ---------------------------------------------------------------- audit

  private async audited<T>(
    eventId: string,
    meta: Record<string, string | number | null>,
    request: Parameters<AuditorService['createEvent']>[0]['request'],
    action: () => Promise<T>,
  ): Promise<T> {
    const event: AuditorServiceEvent = await this.deps.auditor.createEvent({
      eventId,
      severityLevel: 'medium',
      request,
      meta,
    });
    try {
      const result = await action();
      await event.success();
      return result;
    } catch (error) {
      await event.fail({ error: error as Error });
      throw error;
    }
  }
}

/** An entity ref as the catalog writes it; an `InputError` when it is not one. */
function canonicalRef(ref: string): string {
  try {
    return stringifyEntityRef(parseEntityRef(ref));
  } catch {
    throw new InputError(`"${ref.slice(0, 100)}" is not an entity reference`);
  }
}

/** Entity refs compare without regard to case, as the catalog compares them. */
export function sameRef(a: string, b: string): boolean {
  return a.toLocaleLowerCase('en-US') === b.toLocaleLowerCase('en-US');
}

/**
 * Someone's words in a pull-request comment: quoted, with mentions and HTML defused so that a
 * comment typed in the portal pings nobody and hides nothing.
 */
export function quoteForMarkdown(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/@/g, '@\u200b')
    .split('\n')
    .map(line => `> ${line}`)
    .join('\n');
}

/** A promotion as the API shows it: without stored internals or deciders' groups. */
export function toApi(p: StoredPromotion): Promotion {
  return {
    id: p.id,
    entityRef: p.entityRef,
    environment: p.environment,
    from: p.from,
    version: p.version,
    previousVersion: p.previousVersion,
    kind: p.kind,
    state: p.state,
    requestedBy: p.requestedBy,
    requestedAt: p.requestedAt,
    updatedAt: p.updatedAt,
    unknownVersion: p.unknownVersion,
    branch: p.branch,
    headCommit: p.headCommit,
    pullRequest: p.pullRequest,
    decisions: p.decisions.map(d => ({
      by: d.by,
      at: d.at,
      decision: d.decision,
      comment: d.comment,
      source: d.source,
      stale: Boolean(d.commit && p.headCommit && d.commit !== p.headCommit),
    })),
    gates: p.gates,
    mergedCommit: p.mergedCommit,
    reason: p.reason,
    queuedUntil: p.queuedUntil ?? null,
  };
}
