import {
  BackstageCredentials,
  PermissionsRegistryService,
  PermissionsService,
  UserInfoService,
} from '@backstage/backend-plugin-api';
import { Entity } from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import {
  AuthorizeResult,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import { createConditionAuthorizer } from '@backstage/plugin-permission-node';
import {
  environmentResourceRef,
  InboxItem,
  InboxPage,
  promotionsApprovePermission,
  promotionsMergePermission,
} from '@gitops-promotions/plugin-promotions-common';
import {
  PromotionsEnvironmentResource,
  promotionsEnvironmentResourceRef,
} from '@gitops-promotions/plugin-promotions-node';
import { Knex } from 'knex';
import { z } from 'zod';
import { EntityVisibility } from '../service/EntityVisibility';
import { PromotionsStore } from '../state/PromotionsStore';
import { toApi } from './PromotionsWorkflow';
import { WorkflowStore } from './WorkflowStore';

/** Candidates read from the database at a time. */
const BATCH = 200;
/** Candidates one request looks at, at most: past this a short page comes with a cursor. */
const MAX_SCANNED = 5_000;

/** Where a page starts: after this promotion, in (requested_at, id) order. */
const cursorSchema = z.tuple([
  z.string().datetime({ offset: true }),
  z.string().uuid(),
]);

interface Candidate {
  id: string;
  entity_ref: string;
  environment: string;
  requested_at: Date | string | number;
}

/** The position of a candidate as a cursor the client hands back. */
function encodeCursor(candidate: Candidate): string {
  const at = new Date(candidate.requested_at).toISOString();
  return Buffer.from(JSON.stringify([at, candidate.id])).toString('base64url');
}

function decodeCursor(cursor: string): { at: Date; id: string } {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InputError('Invalid inbox cursor');
  }
  const parsed = cursorSchema.safeParse(value);
  if (!parsed.success) throw new InputError('Invalid inbox cursor');
  return { at: new Date(parsed.data[0]), id: parsed.data[1] };
}

/**
 * The approver inbox: the open promotions a person may approve or merge and has not decided on,
 * across every service they may see, oldest first. Paged with a keyset over (requested_at, id),
 * so a page costs the same however many promotions there are and promotions opened meanwhile
 * never shift a page. What the database can judge (state, environment, the requester, the
 * person's own decisions) it filters; the permission policy's conditions and the entity's
 * visibility are applied to bounded batches of candidates until a page is full.
 */
export class PromotionsInbox {
  private readonly authorizeResource: ReturnType<
    typeof createConditionAuthorizer<PromotionsEnvironmentResource, unknown>
  >;

  constructor(
    private readonly deps: {
      db: Knex;
      workflow: WorkflowStore;
      store: PromotionsStore;
      visibility: EntityVisibility;
      permissions: PermissionsService;
      permissionsRegistry: PermissionsRegistryService;
      userInfo: UserInfoService;
      /** The permission resources of environments, as the workflow decides on them. */
      resources: (
        refs: string[],
      ) => Promise<Array<PromotionsEnvironmentResource | undefined>>;
    },
  ) {
    this.authorizeResource = createConditionAuthorizer(
      deps.permissionsRegistry.getPermissionRuleset(
        promotionsEnvironmentResourceRef,
      ),
    );
  }

  async page(
    credentials: BackstageCredentials,
    options: {
      environment?: string;
      owner?: string;
      cursor?: string;
      limit: number;
    },
  ): Promise<InboxPage> {
    const principal = credentials.principal as { type: string };
    if (principal.type !== 'user') return { items: [], nextCursor: null };
    const after = options.cursor ? decodeCursor(options.cursor) : undefined;
    const { userEntityRef } = await this.deps.userInfo.getUserInfo(credentials);
    const [approve, merge] = await this.deps.permissions.authorizeConditional(
      [
        { permission: promotionsApprovePermission },
        { permission: promotionsMergePermission },
      ],
      { credentials },
    );
    if (
      approve.result === AuthorizeResult.DENY &&
      merge.result === AuthorizeResult.DENY
    ) {
      return { items: [], nextCursor: null };
    }
    const owner = options.owner?.toLocaleLowerCase('en-US');
    const found: Array<{
      candidate: Candidate;
      item: Omit<InboxItem, 'promotion'>;
    }> = [];
    const entities = new Map<string, Promise<Entity | undefined>>();
    let position = after;
    let scanned = 0;
    let last: Candidate | undefined;
    let exhausted = false;
    while (found.length <= options.limit && !exhausted) {
      if (scanned >= MAX_SCANNED) break;
      const batch = await this.candidates(userEntityRef, {
        environment: options.environment,
        after: position,
      });
      scanned += batch.length;
      exhausted = batch.length < BATCH;
      const resources = await this.deps.resources(
        batch.map(c => environmentResourceRef(c.entity_ref, c.environment)),
      );
      for (const [i, candidate] of batch.entries()) {
        last = candidate;
        const item = await this.judge(
          candidate,
          resources[i],
          [approve, merge],
          owner,
          credentials,
          entities,
        );
        if (item) found.push({ candidate, item });
        if (found.length > options.limit) break;
      }
      if (last) position = { at: new Date(last.requested_at), id: last.id };
    }
    const page = found.slice(0, options.limit);
    let nextCursor: string | null = null;
    if (found.length > options.limit) {
      nextCursor = encodeCursor(page[page.length - 1].candidate);
    } else if (!exhausted && last) {
      // The scan stopped short of the end: the next page goes on from where it stopped.
      nextCursor = encodeCursor(last);
    }
    const items: InboxItem[] = [];
    for (const { candidate, item } of page) {
      const promotion = await this.deps.workflow.get(candidate.id);
      items.push({ promotion: toApi(promotion), ...item });
    }
    return { items, nextCursor };
  }

  /** Open promotions after a position, that the person did not ask for nor decided on. */
  private async candidates(
    userEntityRef: string,
    options: { environment?: string; after?: { at: Date; id: string } },
  ): Promise<Candidate[]> {
    const me = userEntityRef.toLocaleLowerCase('en-US');
    const query = this.deps
      .db('promotions_requests as r')
      .select('r.id', 'r.entity_ref', 'r.environment', 'r.requested_at')
      .where('r.state', 'open')
      .whereRaw('lower(r.requested_by) <> ?', [me])
      .whereNotExists(builder =>
        builder
          .select(this.deps.db.raw('1'))
          .from('promotions_decisions as d')
          .whereRaw('d.request_id = r.id')
          .whereRaw('lower(d.decided_by) = ?', [me])
          // A decision on an earlier head no longer counts: the change waits for them again.
          .whereRaw("(d.commit_sha = '' or d.commit_sha = r.head_commit)"),
      )
      .orderBy([
        { column: 'r.requested_at', order: 'asc' },
        { column: 'r.id', order: 'asc' },
      ])
      .limit(BATCH);
    if (options.environment) {
      query.where('r.environment', options.environment);
    }
    if (options.after) {
      const { at, id } = options.after;
      query.where(builder =>
        builder
          .where('r.requested_at', '>', at)
          .orWhere(inner =>
            inner.where('r.requested_at', '=', at).andWhere('r.id', '>', id),
          ),
      );
    }
    return query;
  }

  /** What the person may do to a candidate, or undefined when it is not theirs to decide. */
  private async judge(
    candidate: Candidate,
    resource: PromotionsEnvironmentResource | undefined,
    decisions: PolicyDecision[],
    owner: string | undefined,
    credentials: BackstageCredentials,
    entities: Map<string, Promise<Entity | undefined>>,
  ): Promise<Omit<InboxItem, 'promotion'> | undefined> {
    if (!resource) return undefined;
    if (
      owner &&
      !resource.owners.some(o => o.toLocaleLowerCase('en-US') === owner)
    ) {
      return undefined;
    }
    const actions = (['approve', 'merge'] as const).filter((_, i) => {
      const decision = decisions[i];
      if (decision.result === AuthorizeResult.ALLOW) return true;
      if (decision.result !== AuthorizeResult.CONDITIONAL) return false;
      try {
        return this.authorizeResource(decision, resource);
      } catch {
        // A rule this plugin cannot apply fails closed.
        return false;
      }
    });
    if (actions.length === 0) return undefined;
    let entity = entities.get(candidate.entity_ref);
    if (!entity) {
      entity = this.visibleEntity(candidate.entity_ref, credentials);
      entities.set(candidate.entity_ref, entity);
    }
    if (!(await entity)) return undefined;
    return { actions: [...actions], owners: resource.owners };
  }

  private async visibleEntity(
    entityRef: string,
    credentials: BackstageCredentials,
  ): Promise<Entity | undefined> {
    const stored = await this.deps.store.get(entityRef);
    const access = await this.deps.visibility.check(
      entityRef,
      stored?.entity ?? undefined,
      credentials,
    );
    return access.kind === 'allowed' ? access.entity : undefined;
  }
}
