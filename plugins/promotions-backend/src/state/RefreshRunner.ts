import crypto from 'node:crypto';
import { LoggerService } from '@backstage/backend-plugin-api';
import { LeaseLostError, PromotionsStore } from './PromotionsStore';
import { RefreshSummary, RepositoryRefresher } from './RepositoryRefresher';

/** How long a refresh holds its repository before another replica may take it over. */
const LEASE_MS = 60_000;
/** How often a running refresh renews its lease. */
const RENEW_MS = 20_000;

/**
 * Runs refreshes: on schedule, and at once when asked (a page view of an entity not read yet, a
 * webhook, CI after a push). A lease in the database lets one refresh of a repository run at a
 * time across every replica; a refresh asked for meanwhile is run again by the lease's holder
 * when it ends, so nothing asked for is lost. A refresh whose lease passed to another replica
 * (it could not renew it in time) stops, and the store refuses whatever it would still write.
 */
export class RefreshRunner {
  private readonly owner = `${process.pid}-${crypto.randomUUID()}`;
  private readonly running = new Map<string, Promise<unknown>>();
  /** The head each repository was last refreshed at. */
  private readonly revisions = new Map<string, string | null>();

  constructor(
    private readonly deps: {
      refresher: RepositoryRefresher;
      store: PromotionsStore;
      logger: LoggerService;
      onRefreshed?: (summary: RefreshSummary) => void;
      /** Told of a refresh that failed as a whole (not one that gave its lease away). */
      onFailed?: (repositoryId: string, error: unknown) => void;
      /** How long a lease lasts, and how often it is renewed; the defaults suit production. */
      leaseMs?: number;
      renewMs?: number;
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
      const leaseMs = this.deps.leaseMs ?? LEASE_MS;
      if (!(await store.acquireLease(repositoryId, this.owner, leaseMs))) {
        await store.requestRefresh(repositoryId);
        return undefined;
      }
      const lost = new AbortController();
      const renew = setInterval(() => {
        store.renewLease(repositoryId, this.owner, leaseMs).then(
          held => {
            if (!held) lost.abort(new LeaseLostError(repositoryId, this.owner));
          },
          error =>
            logger.warn(
              `Could not renew the lease of ${repositoryId}: ${error}`,
            ),
        );
      }, this.deps.renewMs ?? RENEW_MS);
      const refreshSignal = signal
        ? AbortSignal.any([signal, lost.signal])
        : lost.signal;
      // Requests made before a refresh read the repository's head are answered by it.
      let covered = new Date(0);
      let first: RefreshSummary | undefined;
      try {
        for (;;) {
          logger.debug(`Refreshing repository ${repositoryId}`);
          const summary = await refresher.refresh(repositoryId, {
            signal: refreshSignal,
            leaseOwner: this.owner,
          });
          covered = summary.readAt;
          first ??= summary;
          this.deps.onRefreshed?.(summary);
          // Entities that read an environment from here are refreshed with their own repository:
          // a new head here asks for theirs (not the first one seen, which every start reads).
          const before = this.revisions.get(repositoryId);
          this.revisions.set(repositoryId, summary.revision);
          if (before !== undefined && before !== summary.revision) {
            for (const dependent of summary.dependents ?? []) {
              this.request(dependent);
            }
          }
          // The caller's refresh is the first; later ones answer requests made during it.
          if (!(await store.refreshRequestedSince(repositoryId, covered))) {
            return first;
          }
        }
      } catch (error) {
        if (!(lost.signal.aborted || error instanceof LeaseLostError)) {
          this.deps.onFailed?.(repositoryId, error);
          throw error;
        }
        // The replica that holds the lease now runs the refreshes asked for.
        logger.warn(
          `Stopped refreshing repository ${repositoryId}: another replica took over its lease`,
        );
        return first;
      } finally {
        clearInterval(renew);
        await store.releaseLease(repositoryId, this.owner);
        // A request that came while the lease was being given back is not left waiting.
        if (
          !refreshSignal.aborted &&
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
