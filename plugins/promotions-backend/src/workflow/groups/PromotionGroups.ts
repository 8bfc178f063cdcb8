import { randomUUID } from 'node:crypto';
import {
  AuditorService,
  BackstageCredentials,
  LoggerService,
} from '@backstage/backend-plugin-api';
import {
  CompoundEntityRef,
  Entity,
  parseEntityRef,
  RELATION_PART_OF,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import {
  ConflictError,
  InputError,
  NotAllowedError,
  NotFoundError,
} from '@backstage/errors';
import { CatalogService } from '@backstage/plugin-catalog-node';
import {
  Promotion,
  PromotionGroup,
  PromotionGroupRequest,
  SystemPromotions,
} from '@gitops-promotions/plugin-promotions-common';
import { PromotionsConfig } from '@gitops-promotions/plugin-promotions-node';
import { EntityVisibility } from '../../service/EntityVisibility';
import { readEntityTarget } from '../../state/entityTarget';
import { PromotionsStore } from '../../state/PromotionsStore';
import {
  PreparedMerge,
  PromotionsWorkflow,
  sameRef,
  toApi,
} from '../PromotionsWorkflow';
import { WorkflowStore } from '../WorkflowStore';
import { GroupStore, MergeLease, StoredGroup } from './GroupStore';

type AuditRequest = Parameters<AuditorService['createEvent']>[0]['request'];

/** Members of a group, at most: each is a pull request to review. */
export const MAX_MEMBERS = 50;

/** How long a group may be opened without progress before its request is taken for dead. */
const STUCK_OPENING_MS = 60_000;

/** How long a group may be merged without progress before its merge is taken for dead. */
const STUCK_MERGING_MS = 2 * 60_000;

/** What a caller who may not read a member's promotions is told in its place. */
export const HIDDEN_MEMBER = 'a member you may not read';

/** The refusal of a group request or merge, naming each member at fault. */
function memberErrors(
  what: string,
  failures: Array<{ entityRef: string; error: Error }>,
): Error {
  const message = `${what}: ${failures
    .map(f => `${f.entityRef}: ${f.error.message}`)
    .join('; ')}`;
  const names = new Set(failures.map(f => f.error.name));
  if (names.size === 1 && names.has('NotAllowedError')) {
    return new NotAllowedError(message);
  }
  if (names.size === 1 && names.has('NotFoundError')) {
    return new NotFoundError(message);
  }
  if (names.size === 1 && names.has('ConflictError')) {
    return new ConflictError(message);
  }
  return new InputError(message);
}

const asError = (error: unknown): Error =>
  error instanceof Error ? error : new Error(String(error));

/**
 * Promotions of several components of one system to one environment, as one release: one
 * promotion per component, each with its own gates and change, merged together only when
 * every member's gates pass. Merges across changes cannot be atomic: a member that fails to
 * merge blocks the group, and the members merged before it stay merged.
 */
export class PromotionGroups {
  constructor(
    private readonly deps: {
      workflow: PromotionsWorkflow;
      groups: GroupStore;
      store: PromotionsStore;
      /** The promotions as stored, for members the caller may not read. */
      promotions: Pick<WorkflowStore, 'get'>;
      visibility: EntityVisibility;
      catalog: CatalogService;
      config: PromotionsConfig;
      auditor: AuditorService;
      logger: LoggerService;
      now?: () => Date;
    },
  ) {}

  private now() {
    return (this.deps.now?.() ?? new Date()).toISOString();
  }

  /** The system, as the caller may read it from the catalog. */
  private async systemOf(
    system: Omit<CompoundEntityRef, 'kind'>,
    credentials: BackstageCredentials,
  ): Promise<{ ref: string; entity: Entity }> {
    const ref = stringifyEntityRef({ kind: 'system', ...system });
    const entity = await this.deps.catalog.getEntityByRef(ref, {
      credentials,
    });
    if (!entity) throw new NotFoundError(`No system ${ref} in the catalog`);
    return { ref, entity };
  }

  /** Whether an entity is a component of the system: by its `partOf` relation or `spec.system`. */
  private static partOf(entity: Entity, systemRef: string): boolean {
    if (entity.kind.toLocaleLowerCase('en-US') !== 'component') return false;
    if (
      (entity.relations ?? []).some(
        r => r.type === RELATION_PART_OF && sameRef(r.targetRef, systemRef),
      )
    ) {
      return true;
    }
    const system = entity.spec?.system;
    if (typeof system !== 'string' || !system) return false;
    try {
      return sameRef(
        stringifyEntityRef(
          parseEntityRef(system, {
            defaultKind: 'system',
            defaultNamespace: entity.metadata.namespace ?? 'default',
          }),
        ),
        systemRef,
      );
    } catch {
      return false;
    }
  }

  private actorRef(credentials: BackstageCredentials): string {
    const principal = credentials.principal as {
      type: string;
      userEntityRef?: string;
      subject?: string;
    };
    if (principal.type === 'user' && principal.userEntityRef) {
      return principal.userEntityRef;
    }
    if (principal.type === 'service' && principal.subject) {
      return principal.subject;
    }
    throw new NotAllowedError('Sign in to act on promotions');
  }

  private async audited<T>(
    eventId: string,
    meta: Record<string, string | number | null>,
    request: AuditRequest,
    action: () => Promise<T>,
  ): Promise<T> {
    const event = await this.deps.auditor.createEvent({
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
      await event.fail({ error: asError(error) });
      throw error;
    }
  }

  // ---------------------------------------------------------------- reading

  /**
   * Which of some entities the caller may read the promotions of, judged on the copies given,
   * else on those the last refresh stored.
   */
  private async readable(
    entities: Array<{ entityRef: string; entity?: Entity | null }>,
    credentials: BackstageCredentials,
  ): Promise<(entityRef: string) => boolean> {
    const scope = await this.deps.visibility.among(credentials);
    if (scope.kind === 'all') return () => true;
    if (scope.kind === 'none' || !entities.length) return () => false;
    const visible = await scope.visible(
      await Promise.all(
        entities.map(async ({ entityRef, entity }) => ({
          entityRef,
          entity:
            entity ?? (await this.deps.store.get(entityRef))?.entity ?? null,
        })),
      ),
    );
    return entityRef => visible.has(entityRef);
  }

  /**
   * A system's components with the version each environment runs, and its groups. A component
   * whose promotions the caller may not read is listed as hidden, without its versions.
   */
  async ofSystem(
    system: Omit<CompoundEntityRef, 'kind'>,
    credentials: BackstageCredentials,
  ): Promise<SystemPromotions> {
    const { ref } = await this.systemOf(system, credentials);
    const { items } = await this.deps.catalog.getEntities(
      { filter: { kind: 'component', 'relations.partOf': ref } },
      { credentials },
    );
    const components = items
      .filter(e => PromotionGroups.partOf(e, ref))
      .map(entity => ({ entity, entityRef: stringifyEntityRef(entity) }))
      .sort((a, b) => a.entityRef.localeCompare(b.entityRef));
    const mayRead = await this.readable(components, credentials);
    const readable = components.map(c => c.entityRef).filter(mayRead);
    const [stored, ages] = await Promise.all([
      this.deps.store.environments(readable),
      this.deps.store.ages(readable),
    ]);
    const result: SystemPromotions['components'] = [];
    for (const { entity, entityRef } of components) {
      const hidden = !mayRead(entityRef);
      let pipeline: string[];
      try {
        pipeline = readEntityTarget(entity, this.deps.config).pipeline.map(
          e => e.name,
        );
      } catch {
        // Not promoted through a GitOps repository: listed, with nothing to promote.
        pipeline = [];
      }
      const age = hidden
        ? undefined
        : ages.find(a => sameRef(a.entityRef, entityRef));
      result.push({
        entityRef,
        title: entity.metadata.title ?? null,
        hidden,
        asOf: age?.asOf?.toISOString() ?? null,
        ...(age?.error
          ? {
              refreshError: {
                message: age.error.message,
                at: age.error.at.toISOString(),
              },
            }
          : {}),
        environments: pipeline.map(name => {
          const env = hidden
            ? undefined
            : stored.find(
                s => sameRef(s.entityRef, entityRef) && s.environment === name,
              );
          return {
            name,
            version:
              env?.resolution.ok === true ? env.resolution.version : null,
          };
        }),
      });
    }
    const groups = await this.deps.groups.ofSystem(ref);
    return {
      systemRef: ref,
      components: result,
      groups: await Promise.all(groups.map(g => this.view(g, credentials))),
    };
  }

  /** A group, for someone who may read its system. */
  async get(id: string, credentials: BackstageCredentials) {
    const group = await this.groupFor(id, credentials);
    return this.view(group, credentials);
  }

  private async groupFor(id: string, credentials: BackstageCredentials) {
    const group = await this.deps.groups.get(id);
    if (!group) throw new NotFoundError(`No promotion group ${id}`);
    const { namespace, name } = parseEntityRef(group.systemRef);
    await this.systemOf({ namespace, name }, credentials).catch(() => {
      throw new NotFoundError(`No promotion group ${id}`);
    });
    return group;
  }

  /** Why a member keeps the group from merging, or null when it does not. */
  private static blockingReason(member: Promotion): string | null {
    if (member.state === 'merged') return null;
    if (member.state === 'closed' || member.state === 'failed') {
      return `${member.state}${member.reason ? `: ${member.reason}` : ''}`;
    }
    if (member.state !== 'open') return `still ${member.state}`;
    const waiting = member.gates.filter(g => g.state !== 'passed');
    if (!waiting.length) return null;
    return waiting.map(g => `${g.gate} ${g.state}: ${g.summary}`).join(', ');
  }

  private async members(group: StoredGroup, credentials: BackstageCredentials) {
    return Promise.all(
      group.members.map(m =>
        this.deps.workflow.get(m.promotionId, credentials),
      ),
    );
  }

  /**
   * The group with the members the caller may read. An open group with a member that failed or
   * was closed is shown blocked, with that member's reason; it is not written, so reading
   * changes nothing. What would name a member the caller may not read is said without it.
   */
  private async view(
    group: StoredGroup,
    credentials: BackstageCredentials,
  ): Promise<PromotionGroup> {
    const all = (
      await Promise.all(
        group.members.map(m =>
          this.deps.promotions.get(m.promotionId).then(toApi, error => {
            // A member whose promotion is not asked for yet has nothing to show.
            if ((error as Error)?.name === 'NotFoundError') return undefined;
            throw error;
          }),
        ),
      )
    ).filter((m): m is Promotion => m !== undefined);
    const mayRead = await this.readable(all, credentials);
    const hidden = all.filter(m => !mayRead(m.entityRef));
    const naming = (text: string | null) => {
      if (text === null) return null;
      const lower = text.toLocaleLowerCase('en-US');
      return hidden.some(m =>
        lower.includes(m.entityRef.toLocaleLowerCase('en-US')),
      )
        ? HIDDEN_MEMBER
        : text;
    };
    const blocking = all.flatMap(m => {
      const reason = PromotionGroups.blockingReason(m);
      if (reason === null) return [];
      return mayRead(m.entityRef)
        ? [{ entityRef: m.entityRef, promotionId: m.id, reason }]
        : [{ entityRef: '', promotionId: '', reason: HIDDEN_MEMBER }];
    });
    let { state, reason } = group;
    const dead = all.find(m => m.state === 'closed' || m.state === 'failed');
    if (state === 'open' && dead) {
      state = 'blocked';
      reason = mayRead(dead.entityRef)
        ? `${dead.entityRef} ${PromotionGroups.blockingReason(dead)}`
        : `${HIDDEN_MEMBER} ${
            dead.state === 'closed' ? 'was closed' : 'failed'
          }`;
    } else {
      reason = naming(reason);
    }
    const history = await this.deps.groups.history(group.id);
    return {
      id: group.id,
      systemRef: group.systemRef,
      environment: group.environment,
      requestedBy: group.requestedBy,
      requestedAt: group.requestedAt,
      updatedAt: group.updatedAt,
      state,
      reason,
      members: all.filter(m => mayRead(m.entityRef)),
      hiddenMembers: hidden.length,
      blocking,
      history: history.map(e => ({ ...e, reason: naming(e.reason) })),
    };
  }

  // ---------------------------------------------------------------- acting

  /**
   * Asks for one promotion per member through the workflow, each permission-checked there. If
   * any member's request fails, the members already opened are closed with a note and the
   * whole request is refused, naming each member's reason.
   */
  async request(
    system: Omit<CompoundEntityRef, 'kind'>,
    credentials: BackstageCredentials,
    input: PromotionGroupRequest,
    auditRequest?: AuditRequest,
  ): Promise<PromotionGroup> {
    return this.audited(
      'promotion-group-request',
      {
        systemRef: stringifyEntityRef({ kind: 'system', ...system }),
        environment: input.to,
        members: input.members.length,
      },
      auditRequest,
      async () => {
        const actor = this.actorRef(credentials);
        const { ref: systemRef } = await this.systemOf(system, credentials);
        if (!input.members.length || input.members.length > MAX_MEMBERS) {
          throw new InputError(
            `A group has between 1 and ${MAX_MEMBERS} members`,
          );
        }
        // Each member must be a component of the system, as the caller reads the catalog.
        const refusals: Array<{ entityRef: string; error: Error }> = [];
        const members: Array<{ entityRef: string; version?: string }> = [];
        for (const member of input.members) {
          let entityRef: string;
          try {
            entityRef = stringifyEntityRef(
              parseEntityRef(member.entityRef, { defaultKind: 'component' }),
            );
          } catch {
            refusals.push({
              entityRef: member.entityRef.slice(0, 255),
              error: new InputError('is not an entity reference'),
            });
            continue;
          }
          if (members.some(m => sameRef(m.entityRef, entityRef))) {
            refusals.push({
              entityRef,
              error: new InputError('is named twice'),
            });
            continue;
          }
          const entity = await this.deps.catalog.getEntityByRef(entityRef, {
            credentials,
          });
          if (!entity || !PromotionGroups.partOf(entity, systemRef)) {
            refusals.push({
              entityRef,
              error: new InputError(`is not a component of ${systemRef}`),
            });
            continue;
          }
          members.push({ entityRef, version: member.version });
        }
        if (refusals.length) {
          throw memberErrors('The group cannot be requested', refusals);
        }

        // Stored first, and each member before its promotion is asked for: a request that
        // dies midway leaves a group `recover` closes, with every promotion it opened.
        const id = randomUUID();
        await this.deps.groups.open(
          {
            id,
            systemRef,
            environment: input.to,
            requestedBy: actor,
            requestedAt: this.now(),
          },
          { action: 'requested', actor, reason: null },
        );
        const opened: Promotion[] = [];
        const failures: Array<{ entityRef: string; error: Error }> = [];
        for (const [position, member] of members.entries()) {
          try {
            const promotionId = randomUUID();
            await this.deps.groups.addMember(
              id,
              { promotionId, entityRef: member.entityRef, position },
              this.now(),
            );
            const promotion = await this.deps.workflow.request(
              member.entityRef,
              credentials,
              { to: input.to, version: member.version },
              auditRequest,
              { id: promotionId },
            );
            if (promotion.state === 'failed' || promotion.state === 'closed') {
              failures.push({
                entityRef: member.entityRef,
                error: new ConflictError(
                  promotion.reason ?? `the promotion ${promotion.state}`,
                ),
              });
            } else {
              opened.push(promotion);
            }
          } catch (error) {
            failures.push({
              entityRef: member.entityRef,
              error: asError(error),
            });
          }
        }
        if (failures.length) {
          const note = `Closed because the group promotion of ${systemRef} to ${
            input.to
          } failed: ${failures
            .map(f => `${f.entityRef}: ${f.error.message}`)
            .join('; ')}`.slice(0, 4000);
          const failedRequests = failures.length;
          for (const promotion of opened) {
            await this.deps.workflow
              .close(promotion.id, credentials, { reason: note }, auditRequest)
              .catch(error =>
                failures.push({
                  entityRef: promotion.entityRef,
                  error: new ConflictError(
                    `opened as ${promotion.id}, and could not be closed: ${
                      asError(error).message
                    }`,
                  ),
                }),
              );
          }
          // A group never opened is forgotten; one with a member left open stays, closed, to say so.
          if (failures.length > failedRequests) {
            await this.deps.groups.transition(
              id,
              ['opening'],
              { state: 'closed', reason: note },
              { action: 'closed', actor, reason: note },
              this.now(),
            );
          } else {
            await this.deps.groups.delete(id);
          }
          throw memberErrors('The group promotion was not opened', failures);
        }
        if (
          !(await this.deps.groups.transition(
            id,
            ['opening'],
            { state: 'open', reason: null },
            null,
            this.now(),
          ))
        ) {
          // Taken for dead and closed by `recover` meanwhile: what it opened since goes too.
          for (const promotion of opened) {
            await this.deps.workflow.closeBySystem(
              promotion.id,
              `Closed because the group promotion of ${systemRef} to ${input.to} was given up while it was being opened`,
            );
          }
          throw new ConflictError(
            'The group promotion was given up while its members were being opened; ask again',
          );
        }
        return this.get(id, credentials);
      },
    );
  }

  /** Which members the caller may not do `action` to, each with why. */
  private async refusedTo(
    action: 'merge' | 'promote',
    members: Promotion[],
    credentials: BackstageCredentials,
  ) {
    const refused: Array<{ entityRef: string; error: Error }> = [];
    for (const member of members) {
      const actions = await this.deps.workflow
        .allowedActions(member.entityRef, credentials)
        .catch(() => ({} as Record<string, string[]>));
      if (!(actions[member.environment] ?? []).includes(action)) {
        refused.push({
          entityRef: member.entityRef,
          error: new NotAllowedError(
            `You may not ${
              action === 'merge' ? 'merge promotions to' : 'promote to'
            } ${member.environment} of ${member.entityRef}`,
          ),
        });
      }
    }
    return refused;
  }

  /** Refuses to merge a group that is merged, closed or being merged already. */
  private static requireMergeable(group: StoredGroup) {
    if (group.state === 'merging') {
      throw new ConflictError('The group is already being merged');
    }
    if (group.state === 'merged' || group.state === 'closed') {
      throw new ConflictError(`The group is already ${group.state}`);
    }
  }

  /**
   * Merges every member, one after another through the workflow, once every member passed the
   * workflow's checks of a merge, done afresh for each before any is merged: its branch as the
   * repository has it and not moved since it was reviewed, its gates judged again. The group is
   * taken for the merge first, at once: a second merge asked for meanwhile is refused, and so is
   * closing the group or a member until the merge ends. A member that then fails to merge blocks
   * the group with its reason: the members merged before it stay merged, the others stay open.
   */
  async merge(
    id: string,
    credentials: BackstageCredentials,
    auditRequest?: AuditRequest,
  ): Promise<PromotionGroup> {
    return this.audited(
      'promotion-group-merge',
      { groupId: id },
      auditRequest,
      async () => {
        const actor = this.actorRef(credentials);
        const group = await this.groupFor(id, credentials);
        PromotionGroups.requireMergeable(group);
        const members = await this.members(group, credentials);
        const refused = await this.refusedTo('merge', members, credentials);
        if (refused.length) {
          throw memberErrors('You may not merge this group', refused);
        }
        const lease = randomUUID();
        const by = {
          ref: actor,
          service:
            (credentials.principal as { type?: string }).type === 'service',
        };
        if (
          !(await this.deps.groups.takeMerge(
            id,
            [group.state],
            { lease, by },
            this.now(),
          ))
        ) {
          const now = await this.deps.groups.get(id);
          if (now) PromotionGroups.requireMergeable(now);
          throw new ConflictError(
            'The group changed while its merge was asked for; ask again',
          );
        }
        // Until a member merges, a refusal gives the group back as it was, and writes no history.
        const release = () =>
          this.deps.groups.transition(
            id,
            ['merging'],
            { state: group.state as 'open' | 'blocked', reason: group.reason },
            null,
            this.now(),
            lease,
          );
        const prepared: PreparedMerge[] = [];
        const failures: Array<{ entityRef: string; error: Error }> = [];
        try {
          for (const member of members) {
            if (member.state === 'merged') continue;
            try {
              prepared.push(
                await this.deps.workflow.prepareMerge(
                  member.id,
                  credentials,
                  {},
                  { group: id },
                ),
              );
            } catch (error) {
              failures.push({
                entityRef: member.entityRef,
                error: asError(error),
              });
            }
            await this.renew(id, lease);
          }
        } catch (error) {
          await release();
          throw error;
        }
        if (failures.length) {
          await release();
          throw memberErrors(
            'The group cannot be merged until every member passes; no member was merged',
            failures,
          );
        }
        await this.mergeMembers(id, prepared, lease, actor, auditRequest);
        return this.get(id, credentials);
      },
    );
  }

  /** Renews the lease of a merge after progress; refuses to go on when another merge holds it. */
  private async renew(id: string, lease: string) {
    if (!(await this.deps.groups.renewMerge(id, lease, this.now()))) {
      throw new ConflictError(
        'The merge of the group made no progress for too long and was taken over; it goes on there',
      );
    }
  }

  /**
   * Merges members checked by the workflow, in order, with the group taken by `lease`; the group is
   * then merged, or blocked by the first member that fails to merge.
   */
  private async mergeMembers(
    id: string,
    prepared: PreparedMerge[],
    lease: string,
    actor: string,
    auditRequest?: AuditRequest,
    interrupted = '',
  ) {
    for (const member of prepared) {
      const { promotion } = member;
      let error: Error | undefined;
      try {
        const merged = await this.deps.workflow.mergeGroupMember(
          member,
          id,
          auditRequest,
        );
        if (merged.state !== 'merged') {
          error = new Error(
            merged.reason ?? `the promotion is ${merged.state}`,
          );
        }
      } catch (thrown) {
        error = asError(thrown);
      }
      if (error) {
        const reason =
          `${interrupted}${promotion.entityRef} could not be merged: ${error.message}`.slice(
            0,
            4000,
          );
        await this.deps.groups.transition(
          id,
          ['merging'],
          { state: 'blocked', reason },
          { action: 'blocked', actor, reason },
          this.now(),
          lease,
        );
        throw new ConflictError(
          `${reason}. Members merged before it stay merged; the others stay open`,
        );
      }
      await this.deps.groups.record(
        id,
        { action: 'member-merged', actor, reason: promotion.entityRef },
        this.now(),
      );
      await this.renew(id, lease);
    }
    await this.deps.groups.transition(
      id,
      ['merging'],
      { state: 'merged', reason: null },
      { action: 'merged', actor, reason: null },
      this.now(),
      lease,
    );
  }

  /** Closes every open member, then the group. */
  async close(
    id: string,
    credentials: BackstageCredentials,
    input: { reason?: string },
    auditRequest?: AuditRequest,
  ): Promise<PromotionGroup> {
    return this.audited(
      'promotion-group-close',
      { groupId: id },
      auditRequest,
      async () => {
        const actor = this.actorRef(credentials);
        const group = await this.groupFor(id, credentials);
        if (group.state === 'merging') {
          throw new ConflictError(
            'The group is being merged: it cannot be closed until its merge ends',
          );
        }
        if (group.state === 'merged' || group.state === 'closed') {
          throw new ConflictError(`The group is already ${group.state}`);
        }
        const open = (await this.members(group, credentials)).filter(
          m => m.state === 'open',
        );
        // Whoever asked may take it back; otherwise closing is for those who may merge.
        const refused = [
          ...(await this.refusedTo(
            'promote',
            open.filter(m => sameRef(m.requestedBy, actor)),
            credentials,
          )),
          ...(await this.refusedTo(
            'merge',
            open.filter(m => !sameRef(m.requestedBy, actor)),
            credentials,
          )),
        ];
        if (refused.length) {
          throw memberErrors('You may not close this group', refused);
        }
        const reason = (input.reason ?? '').slice(0, 4000) || null;
        for (const member of open) {
          await this.deps.workflow.close(
            member.id,
            credentials,
            { reason: reason ?? `Closed with its group by ${actor}` },
            auditRequest,
          );
        }
        if (
          !(await this.deps.groups.transition(
            id,
            ['open', 'blocked'],
            { state: 'closed', reason: reason ?? `Closed by ${actor}` },
            { action: 'closed', actor, reason },
            this.now(),
          ))
        ) {
          const now = await this.deps.groups.get(id);
          throw new ConflictError(
            `The group was ${
              now?.state === 'merging' ? 'being merged' : now?.state ?? 'gone'
            } meanwhile; it was not closed`,
          );
        }
        return this.get(id, credentials);
      },
    );
  }

  // ---------------------------------------------------------------- recovery

  /**
   * Finishes what a backend that died left behind, run by the scheduled sync: a request that died
   * while opening a group has each member's promotion closed and the group closed, saying why (a
   * member still being opened is waited for, as the workflow's sync opens or fails it; one never
   * stored is dropped); a merge that died midway is resumed.
   */
  async recover(options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.recoverOpening(options);
    const before = new Date(
      Date.parse(this.now()) - STUCK_MERGING_MS,
    ).toISOString();
    for (const group of await this.deps.groups.stuckMerging(before)) {
      options.signal?.throwIfAborted();
      try {
        await this.resume(group);
      } catch (error) {
        this.deps.logger.warn(
          `Could not resume the merge of the group promotion ${group.id}, which was interrupted: ${error}`,
        );
      }
    }
  }

  /**
   * Resumes a group's merge that a backend dying midway left `merging`, as whoever asked for it:
   * each member not merged yet is checked afresh, and merged only when every one of them passes;
   * otherwise the group is blocked, naming the members merged and the one at fault. A member whose
   * own merge was interrupted is waited for: the workflow's sync finds out whether it landed.
   */
  private async resume(
    group: Omit<StoredGroup, 'state'> & { merging: MergeLease },
  ) {
    const members = await Promise.all(
      group.members.map(m =>
        this.deps.promotions.get(m.promotionId).catch(() => undefined),
      ),
    );
    if (members.some(m => m?.state === 'merging')) return;
    const lease = randomUUID();
    // Another replica's sync may have resumed it first.
    if (
      !(await this.deps.groups.renewMerge(
        group.id,
        group.merging.lease,
        this.now(),
        lease,
      ))
    ) {
      return;
    }
    const by = group.merging.by;
    const merged = members.flatMap(m =>
      m?.state === 'merged' ? [m.entityRef] : [],
    );
    const interrupted = `The merge by ${by.ref} was interrupted ${
      merged.length
        ? `after ${merged.join(', ')} merged`
        : 'before any member merged'
    }`;
    await this.deps.groups.record(
      group.id,
      { action: 'merge-interrupted', actor: 'promotions', reason: interrupted },
      this.now(),
    );
    const prepared: PreparedMerge[] = [];
    const failures: Array<{ entityRef: string; error: Error }> = [];
    for (const [index, member] of group.members.entries()) {
      if (members[index]?.state === 'merged') continue;
      try {
        prepared.push(
          await this.deps.workflow.prepareResumedGroupMember(
            member.promotionId,
            group.id,
            by,
          ),
        );
      } catch (error) {
        failures.push({ entityRef: member.entityRef, error: asError(error) });
      }
      await this.renew(group.id, lease);
    }
    const event = await this.deps.auditor.createEvent({
      eventId: 'promotion-group-merge',
      severityLevel: 'medium',
      meta: { groupId: group.id, by: 'sync', resumedFor: by.ref },
    });
    if (failures.length) {
      const reason =
        `${interrupted}; the others were not merged, since ${failures
          .map(f => `${f.entityRef}: ${f.error.message}`)
          .join('; ')}`.slice(0, 4000);
      await this.deps.groups.transition(
        group.id,
        ['merging'],
        { state: 'blocked', reason },
        { action: 'blocked', actor: 'promotions', reason },
        this.now(),
        lease,
      );
      await event.fail({ error: new ConflictError(reason) });
      return;
    }
    try {
      await this.mergeMembers(
        group.id,
        prepared,
        lease,
        by.ref,
        undefined,
        `${interrupted}; then `,
      );
      await event.success();
    } catch (error) {
      await event.fail({ error: asError(error) });
    }
  }

  /** Closes the groups whose request died while their members were opened. */
  private async recoverOpening(options: { signal?: AbortSignal }) {
    const before = new Date(
      Date.parse(this.now()) - STUCK_OPENING_MS,
    ).toISOString();
    for (const group of await this.deps.groups.stuckOpening(before)) {
      options.signal?.throwIfAborted();
      const reason = `Its request by ${group.requestedBy} was interrupted before every member was opened; the members opened were closed. Ask again`;
      try {
        let waiting = false;
        for (const member of group.members) {
          const state = await this.deps.workflow.closeBySystem(
            member.promotionId,
            `Closed because the request of its group promotion of ${group.systemRef} to ${group.environment} was interrupted`,
          );
          if (state === undefined) {
            await this.deps.groups.removeMember(group.id, member.promotionId);
          } else if (state === 'opening' || state === 'merging') {
            waiting = true;
          }
        }
        if (waiting) continue;
        if (
          await this.deps.groups.transition(
            group.id,
            ['opening'],
            { state: 'closed', reason },
            { action: 'closed', actor: 'promotions', reason },
            this.now(),
          )
        ) {
          const event = await this.deps.auditor.createEvent({
            eventId: 'promotion-group-close',
            severityLevel: 'medium',
            meta: { groupId: group.id, by: 'sync', reason },
          });
          await event.success();
        }
      } catch (error) {
        this.deps.logger.warn(
          `Could not close the group promotion ${group.id}, whose request was interrupted: ${error}`,
        );
      }
    }
  }
}
