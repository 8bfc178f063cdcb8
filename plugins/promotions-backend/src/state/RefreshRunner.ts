import crypto from 'node:crypto';
import { LoggerService } from '@backstage/backend-plugin-api';
import { PromotionsStore } from './PromotionsStore';
import { RefreshSummary, RepositoryRefresher } from './RepositoryRefresher';

/** How long a refresh holds its repository before another replica may take it over. */
const LEASE_MS = 60_000;
/** How often a running refresh renews its lease. */
const RENEW_MS = 20_000;

/**
 * Runs refreshes: on schedule, and at once when asked (a page view of an entity not read yet, a
 * webhook, CI after a push). A lease in the database lets one refresh of a repository run at a
 * time across every replica; a refresh asked for meanwhile is run again by the lease's holder
 * when it ends, so nothing asked for is lost.
 */
export class RefreshRunner {
  private readonly owner = `${process.pid}-${crypto.randomUUID()}`;
  private readonly running = new Map<string, Promise<unknown>>();

  constructor(
    private readonly deps: {
      refresher: RepositoryRefresher;
      store: PromotionsStore;
      logger: LoggerService;
      onRefreshed?: (summary: RefreshSummary) => void;
    },
  ) {}

  /** Asks for a refresh soon, without waiting for it. */
  request(repositoryId: string): void {
    this.run(repositoryId).catch(error =>
      this.deps.logger.warn(
        `The refresh of repository ${repositoryId} failed: ${error}`,
      ),
    );
  }

  /**
   * Refreshes a repository now, then again while refreshes were asked for during it. Answers
   * undefined when another refresh holds the repository; that one runs again for this request.
   */
  async run(
    repositoryId: string,
    signal?: AbortSignal,
  ): Promise<RefreshSummary | undefined> {
    const { store, refresher, logger } = this.deps;
    if (this.running.has(repositoryId)) {
      await store.requestRefresh(repositoryId);
      return undefined;
    }
    const marker = Promise.resolve();
    this.running.set(repositoryId, marker);
    try {
      if (!(await store.acquireLease(repositoryId, this.owner, LEASE_MS))) {
        await store.requestRefresh(repositoryId);
        return undefined;
      }
      const renew = setInterval(() => {
        store
          .acquireLease(repositoryId, this.owner, LEASE_MS)
          .catch(error =>
            logger.warn(
              `Could not renew the lease of ${repositoryId}: ${error}`,
            ),
          );
      }, RENEW_MS);
      // Requests made before a refresh read the repository's head are answered by it.
      let covered = new Date(0);
      let first: RefreshSummary | undefined;
      try {
        for (;;) {
          logger.debug(`Refreshing repository ${repositoryId}`);
          const summary = await refresher.refresh(repositoryId, signal);
          covered = summary.readAt;
          first ??= summary;
          this.deps.onRefreshed?.(summary);
          // The caller's refresh is the first; later ones answer requests made during it.
          if (!(await store.refreshRequestedSince(repositoryId, covered))) {
            return first;
          }
        }
      } finally {
        clearInterval(renew);
        await store.releaseLease(repositoryId, this.owner);
        // A request that came while the lease was being given back is not left waiting.
        if (
          !signal?.aborted &&
          covered.getTime() > 0 &&
          (await store.refreshRequestedSince(repositoryId, covered))
        ) {
          setImmediate(() => this.request(repositoryId));
        }
      }
    } finally {
      this.running.delete(repositoryId);
    }
  }
}
