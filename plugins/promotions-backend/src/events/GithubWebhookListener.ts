import { LoggerService } from '@backstage/backend-plugin-api';
import { EventParams, EventsService } from '@backstage/plugin-events-node';
import { RepositoryConfig } from '@gitops-promotions/plugin-promotions-node';
import { GITHUB_TOPICS, readGithubEvent } from './githubEvents';
import { WorkCoalescer } from './WorkCoalescer';

/** An unfinished promotion, as much of it as a webhook is matched against. */
export interface FollowedPromotion {
  id: string;
  repositoryId: string;
  branch: string;
  headCommit: string | null;
}

/**
 * Follows GitHub webhooks received by the events backend (signatures checked by its GitHub
 * module): a push to a repository's branch refreshes that repository at once, and a pull
 * request, review, check or status of a promotion's branch syncs that promotion at once.
 * Polling stays the fallback for whatever a webhook does not say. Nothing here waits for the
 * work, so that GitHub is answered within its timeout, and nothing a payload holds can throw.
 */
export class GithubWebhookListener {
  private readonly syncs: WorkCoalescer;

  constructor(
    private readonly deps: {
      repositories: () => Iterable<RepositoryConfig>;
      logger: LoggerService;
      /** Asks for a repository's refresh; the runner runs one at a time and one more after. */
      requestRefresh: (repositoryId: string) => void;
      /** The unfinished promotions of some repositories. */
      unfinished: (repositoryIds: string[]) => Promise<FollowedPromotion[]>;
      /** Follows one promotion now, as the scheduled sync does. */
      sync: (promotionId: string) => Promise<void>;
      /**
       * Takes a delivery by its `x-github-delivery` id: false when a replica sharing the
       * database (or this one) took it already.
       */
      takeDelivery?: (deliveryId: string) => Promise<boolean>;
    },
  ) {
    this.syncs = new WorkCoalescer((id, error) =>
      deps.logger.warn(
        `Could not follow promotion ${id} after a GitHub webhook: ${error}`,
      ),
    );
  }

  async subscribe(events: EventsService): Promise<void> {
    await events.subscribe({
      id: 'promotions-github-webhooks',
      topics: GITHUB_TOPICS,
      onEvent: params => this.onEvent(params),
    });
  }

  /** Handles one delivery; never throws. */
  async onEvent(params: EventParams): Promise<void> {
    const { logger } = this.deps;
    const delivery = headerOf(params.metadata, 'x-github-delivery');
    const described = `GitHub webhook ${params.topic}${
      delivery ? ` (delivery ${delivery})` : ''
    }`;
    try {
      const request = readGithubEvent(
        params.topic,
        params.eventPayload,
        this.deps.repositories(),
      );
      if (request.kind === 'ignored') {
        if (request.malformed) {
          logger.warn(`Ignored ${described}: ${request.reason}`);
        } else {
          logger.debug(`Ignored ${described}: ${request.reason}`);
        }
        return;
      }
      if (delivery && !(await this.take(delivery, described))) {
        logger.debug(`Ignored ${described}: it was handled already`);
        return;
      }
      if (request.kind === 'push') {
        for (const id of request.readFrom) {
          logger.info(`Refreshing repository ${id} after ${described}`);
          this.deps.requestRefresh(id);
        }
        if (request.branch !== undefined) {
          // A promotion's branch moved; any other branch may be an environment's (a branch per
          // environment), which the refresh reads.
          const synced = await this.syncMatching(request.repositoryIds, {
            branches: [request.branch],
            commits: [],
          });
          if (synced === 0) {
            for (const id of request.repositoryIds) {
              if (!request.readFrom.includes(id)) this.deps.requestRefresh(id);
            }
          }
        }
        return;
      }
      const synced = await this.syncMatching(request.repositoryIds, request);
      if (synced === 0) {
        logger.debug(`Ignored ${described}: it concerns no open promotion`);
      }
    } catch (error) {
      logger.warn(`Could not handle ${described}: ${error}`);
    }
  }

  /** Whether this replica acts on a delivery; when that cannot be told, it acts. */
  private async take(delivery: string, described: string): Promise<boolean> {
    if (!this.deps.takeDelivery) return true;
    try {
      return await this.deps.takeDelivery(delivery);
    } catch (error) {
      // Acting twice costs a refresh; not acting leaves the page behind until the next poll.
      this.deps.logger.warn(
        `Could not record ${described} as handled, handling it anyway: ${error}`,
      );
      return true;
    }
  }

  /** Resolves when the syncs asked for so far have run: for tests. */
  idle(): Promise<void> {
    return this.syncs.idle();
  }

  private async syncMatching(
    repositoryIds: string[],
    match: { branches: string[]; commits: string[] },
  ): Promise<number> {
    const promotions = (await this.deps.unfinished(repositoryIds)).filter(
      promotion =>
        match.branches.includes(promotion.branch) ||
        (promotion.headCommit !== null &&
          match.commits.includes(promotion.headCommit.toLowerCase())),
    );
    for (const promotion of promotions) {
      this.deps.logger.info(
        `Following promotion ${promotion.id} after a GitHub webhook`,
      );
      this.syncs.request(promotion.id, () => this.deps.sync(promotion.id));
    }
    return promotions.length;
  }
}

function headerOf(
  metadata: EventParams['metadata'],
  name: string,
): string | undefined {
  const value = metadata?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' && /^[\w-]{1,64}$/.test(first)
    ? first
    : undefined;
}
