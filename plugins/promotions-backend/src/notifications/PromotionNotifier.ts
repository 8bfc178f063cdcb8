import { LoggerService } from '@backstage/backend-plugin-api';
import {
  Entity,
  parseEntityRef,
  RELATION_OWNED_BY,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { NotificationSeverity } from '@backstage/plugin-notifications-common';
import { NotificationService } from '@backstage/plugin-notifications-node';
import { OtherDrift } from '@gitops-promotions/plugin-promotions-common';
import {
  PipelineEnvironment,
  PromotionsConfig,
} from '@gitops-promotions/plugin-promotions-node';
import { Knex } from 'knex';
import { readEntityTarget } from '../state/entityTarget';
import { humanizeEntityRef } from '../workflow/people';
import { OPEN_STATES, StoredPromotion } from '../workflow/WorkflowStore';

const TABLE = 'promotions_notifications';

interface SentRow {
  promotion_id: string;
  event: string;
  entity_ref: string;
  environment: string;
  sent_at: Date | string;
}

/** One thing to tell: to whom, and what. */
interface Message {
  event: string;
  recipients: string[];
  exclude?: string;
  title: string;
  description: string;
  severity: NotificationSeverity;
}

/** A user or group entity ref, lower case, or undefined for anything else (a service, garbage). */
function personOrGroup(ref: unknown): string | undefined {
  if (typeof ref !== 'string' || ref.length > 255) return undefined;
  try {
    const parsed = parseEntityRef(ref);
    if (!['user', 'group'].includes(parsed.kind.toLocaleLowerCase('en-US'))) {
      return undefined;
    }
    return stringifyEntityRef(parsed).toLocaleLowerCase('en-US');
  } catch {
    return undefined;
  }
}

/** The duration in words, in its largest whole unit. */
function durationText(ms: number): string {
  const hours = Math.floor(ms / 3_600_000);
  if (hours >= 48) return `${Math.floor(hours / 24)} days`;
  if (hours >= 1) return hours === 1 ? '1 hour' : `${hours} hours`;
  const minutes = Math.max(1, Math.floor(ms / 60_000));
  return minutes === 1 ? '1 minute' : `${minutes} minutes`;
}

/**
 * Tells people about promotions through Backstage notifications: the approvers of one that waits
 * for approval, the requester of one a failed gate blocks, the owners and requester of one open
 * past its environment's `stalePromotion`, and the owners of a rollback asked for or merged. Each
 * event is told once, recorded before it is sent; a failure to send is logged, never thrown.
 */
export class PromotionNotifier {
  constructor(
    private readonly deps: {
      db: Knex;
      notifications: NotificationService;
      config: PromotionsConfig;
      logger: LoggerService;
      /** The catalog entity as the last refresh stored it, for its owners and pipeline. */
      entityOf: (entityRef: string) => Promise<Entity | null | undefined>;
      /** The entity's Promotions tab. */
      entityUrl: (entityRef: string) => string;
      now?: () => Date;
    },
  ) {}

  private now() {
    return this.deps.now?.() ?? new Date();
  }

  /** Tells what a promotion's new state calls for; never throws. */
  async changed(promotion: StoredPromotion | undefined): Promise<void> {
    if (!promotion) return;
    try {
      const entity = await this.deps.entityOf(promotion.entityRef);
      for (const message of this.messagesFor(promotion, entity ?? null)) {
        await this.tell(promotion, message);
      }
    } catch (error) {
      this.deps.logger.warn(
        `Could not notify about promotion ${promotion.id}: ${error}`,
      );
    }
  }

  /** Tells about the open promotions past their environment's `stalePromotion`; never throws. */
  async staleCheck(open: StoredPromotion[]): Promise<void> {
    const now = this.now().getTime();
    // No promotion younger than the shortest limit anywhere can be stale: its entity is not read.
    const shortest = Math.min(
      ...[...this.deps.config.pipelines.values()].flatMap(environments =>
        environments.flatMap(e =>
          e.policy.stalePromotionMs === undefined
            ? []
            : [e.policy.stalePromotionMs],
        ),
      ),
    );
    for (const promotion of open) {
      try {
        if (!OPEN_STATES.includes(promotion.state)) continue;
        if (!(now - new Date(promotion.requestedAt).getTime() > shortest)) {
          continue;
        }
        const entity = await this.deps.entityOf(promotion.entityRef);
        const limit = this.environmentOf(promotion, entity ?? null)?.policy
          .stalePromotionMs;
        if (limit === undefined) continue;
        const age = now - new Date(promotion.requestedAt).getTime();
        if (!(age > limit)) continue;
        await this.tell(promotion, {
          event: 'stale',
          recipients: [
            ...this.owners(entity ?? null),
            ...[personOrGroup(promotion.requestedBy)].filter(
              (ref): ref is string => !!ref,
            ),
          ],
          title: `Promotion of ${this.name(promotion)} to ${
            promotion.environment
          } open for ${durationText(age)}`,
          description: `Opened by ${this.who(
            promotion.requestedBy,
          )}, it is still not merged or closed, longer than the ${durationText(
            limit,
          )} ${promotion.environment} allows.`,
          severity: 'normal',
        });
      } catch (error) {
        this.deps.logger.warn(
          `Could not check whether promotion ${promotion.id} is stale: ${error}`,
        );
      }
    }
  }

  /**
   * The `stale-promotion` drift of each environment of an entity with an open promotion the
   * stale check told about.
   */
  async staleDrift(entityRef: string): Promise<Map<string, OtherDrift[]>> {
    const rows = await this.deps
      .db<SentRow>(TABLE)
      .join(
        'promotions_requests',
        'promotions_requests.id',
        `${TABLE}.promotion_id`,
      )
      .where(`${TABLE}.entity_ref`, entityRef)
      .andWhere(`${TABLE}.event`, 'stale')
      .whereIn('promotions_requests.state', OPEN_STATES)
      .select(
        `${TABLE}.environment as environment`,
        'promotions_requests.requested_at as requested_at',
        'promotions_requests.requested_by as requested_by',
      );
    const drift = new Map<string, OtherDrift[]>();
    for (const row of rows as Array<{
      environment: string;
      requested_at: Date | string;
      requested_by: string;
    }>) {
      drift.set(row.environment, [
        ...(drift.get(row.environment) ?? []),
        {
          kind: 'stale-promotion',
          summary: `A promotion opened by ${this.who(
            row.requested_by,
          )} on ${new Date(
            row.requested_at,
          ).toISOString()} is still open, past the environment's limit`,
        },
      ]);
    }
    return drift;
  }

  private messagesFor(
    promotion: StoredPromotion,
    entity: Entity | null,
  ): Message[] {
    const messages: Message[] = [];
    const name = this.name(promotion);
    const requester = personOrGroup(promotion.requestedBy);
    if (promotion.kind === 'rollback') {
      if (OPEN_STATES.includes(promotion.state)) {
        messages.push({
          event: 'rollback-requested',
          recipients: this.owners(entity),
          exclude: requester,
          title: `Rollback of ${name} in ${promotion.environment} to ${promotion.version}`,
          description: `${this.who(promotion.requestedBy)} asked to roll ${
            promotion.environment
          } back from ${promotion.previousVersion ?? 'an unknown version'} to ${
            promotion.version
          }.`,
          severity: 'high',
        });
      } else if (promotion.state === 'merged') {
        messages.push({
          event: 'rollback-merged',
          recipients: this.owners(entity),
          title: `${name} in ${promotion.environment} rolled back to ${promotion.version}`,
          description: `The rollback asked for by ${this.who(
            promotion.requestedBy,
          )} is merged: ${promotion.environment} now asks for ${
            promotion.version
          }.`,
          severity: 'high',
        });
      }
    }
    if (promotion.state !== 'open') return messages;
    const gates = promotion.gates ?? [];
    if (gates.some(g => g.gate === 'approvals' && g.state === 'pending')) {
      const groups =
        this.environmentOf(promotion, entity)?.policy.approvals?.groups ?? [];
      messages.push({
        event: 'approval',
        recipients:
          groups.length > 0
            ? groups.map(personOrGroup).filter((ref): ref is string => !!ref)
            : this.owners(entity),
        exclude: requester,
        title: `Approval wanted: ${name} ${promotion.version} to ${promotion.environment}`,
        description: `${this.who(promotion.requestedBy)} asks to promote ${
          promotion.version
        } to ${promotion.environment}; it waits for your approval.`,
        severity: 'normal',
      });
    }
    const failing = gates
      .filter(g => g.state === 'failed')
      .map(g => g.gate)
      .sort();
    if (failing.length > 0 && requester) {
      messages.push({
        event: `blocked:${failing.join(',')}`.slice(0, 255),
        recipients: [requester],
        title: `Merge blocked: ${name} ${promotion.version} to ${promotion.environment}`,
        description: `Failed gates: ${failing.join(', ')}.`,
        severity: 'high',
      });
    }
    return messages;
  }

  /** Records the event, then sends it; an event already recorded is not sent again. */
  private async tell(promotion: StoredPromotion, message: Message) {
    const recipients = [...new Set(message.recipients)].filter(
      ref => ref !== message.exclude,
    );
    if (recipients.length === 0) return;
    try {
      await this.deps.db<SentRow>(TABLE).insert({
        promotion_id: promotion.id,
        event: message.event,
        entity_ref: promotion.entityRef,
        environment: promotion.environment,
        sent_at: this.now(),
      });
    } catch (error) {
      if (isDuplicate(error)) return;
      throw error;
    }
    try {
      await this.deps.notifications.send({
        recipients: {
          type: 'entity',
          entityRef: recipients,
          ...(message.exclude ? { excludeEntityRef: message.exclude } : {}),
        },
        payload: {
          title: message.title,
          description: message.description,
          link: this.deps.entityUrl(promotion.entityRef),
          severity: message.severity,
          topic: `promotion:${promotion.id}`,
          scope: `promotions:${promotion.id}:${message.event}`,
        },
      });
    } catch (error) {
      // Told nobody: forget it, so that the next change or sync tries again.
      await this.deps
        .db<SentRow>(TABLE)
        .where({ promotion_id: promotion.id, event: message.event })
        .delete()
        .catch(() => undefined);
      this.deps.logger.warn(
        `Could not send the ${message.event} notification of promotion ${promotion.id}: ${error}`,
      );
    }
  }

  private environmentOf(
    promotion: StoredPromotion,
    entity: Entity | null,
  ): PipelineEnvironment | undefined {
    if (!entity) return undefined;
    try {
      return readEntityTarget(entity, this.deps.config).pipeline.find(
        e => e.name === promotion.environment,
      );
    } catch {
      return undefined;
    }
  }

  /** The entity's owners: its ownedBy relations, else its spec.owner. */
  private owners(entity: Entity | null): string[] {
    if (!entity) return [];
    const related = (entity.relations ?? [])
      .filter(r => r.type === RELATION_OWNED_BY)
      .map(r => personOrGroup(r.targetRef));
    const owners = related.filter((ref): ref is string => !!ref);
    if (owners.length > 0) return owners;
    const owner = entity.spec?.owner;
    if (typeof owner !== 'string') return [];
    const ref = personOrGroup(
      owner.includes(':')
        ? owner
        : `group:${entity.metadata.namespace ?? 'default'}/${owner}`,
    );
    return ref ? [ref] : [];
  }

  private name(promotion: StoredPromotion) {
    return humanizeEntityRef(promotion.entityRef);
  }

  private who(ref: string) {
    return humanizeEntityRef(String(ref).slice(0, 255));
  }
}

/** Whether an error is the database refusing a duplicate key. */
function isDuplicate(error: unknown): boolean {
  const text = String((error as { message?: string })?.message);
  const code = (error as { code?: string })?.code;
  return (
    code === '23505' ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    /UNIQUE constraint failed|duplicate key/i.test(text)
  );
}
