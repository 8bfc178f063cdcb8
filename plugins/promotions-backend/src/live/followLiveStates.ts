import { LoggerService } from '@backstage/backend-plugin-api';
import { LiveStateSource } from '@gitops-promotions/plugin-promotions-node';

/** Changes arriving within this long of each other refresh their repository once. */
const SETTLE_MS = 200;

/**
 * Follows every live-state source that can watch (Argo CD's application stream), and refreshes
 * the repositories of entities whose live state changed, so that a sync reaches the store, and
 * so the API, within seconds rather than at the next scheduled refresh. Returns a function that
 * stops following.
 */
export function followLiveStates(options: {
  sources: LiveStateSource[];
  /** The repository an entity is read from, when it is stored. */
  repositoryOf: (entityRef: string) => Promise<string | undefined>;
  /** Every configured repository, refreshed when a source cannot say whose state changed. */
  repositories: string[];
  refresh: (repositoryId: string) => void;
  logger: LoggerService;
}): () => void {
  const { sources, repositoryOf, repositories, refresh, logger } = options;
  const pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    const ids = [...pending];
    pending.clear();
    ids.forEach(refresh);
  };
  const schedule = (repositoryId: string) => {
    pending.add(repositoryId);
    timer ??= setTimeout(flush, SETTLE_MS);
  };
  const onChange = (entityRefs?: string[]) => {
    if (!entityRefs) {
      repositories.forEach(schedule);
      return;
    }
    for (const entityRef of entityRefs) {
      repositoryOf(entityRef).then(
        repositoryId => repositoryId && schedule(repositoryId),
        error =>
          logger.warn(
            `Could not find the repository of ${entityRef} to refresh its live state: ${error}`,
          ),
      );
    }
  };
  const stops = sources.flatMap(source =>
    source.watch ? [source.watch(onChange)] : [],
  );
  return () => {
    stops.forEach(stop => stop());
    clearTimeout(timer);
    timer = undefined;
    pending.clear();
  };
}
