import { GitOpsRepository } from '@gitops-promotions/plugin-promotions-node';
import { untilAborted } from '../untilAborted';

/** What an environment deployed after each commit that touched its inputs, newest first. */
export interface VersionTimeline {
  /** The head the timeline was read or last extended at. */
  head: string;
  commits: Array<{ sha: string; at: string; version: string | null }>;
}

/** How far back an environment's history is kept to know which versions it went through. */
export const TIMELINE_DEPTH = 30;

/** The version an environment deploys at a commit; null when it cannot be resolved there. */
export type VersionAt = (commit: string) => Promise<string | null>;

/** Whether `head` descends from `commit`, so that history up to `commit` is still its history. */
export type DescendsFrom = (commit: string) => Promise<boolean>;

/**
 * The timeline of an environment at `head`: when a timeline was read before at an ancestor of
 * `head`, extended with the commits since that touched the environment's inputs; otherwise read
 * from the history of its inputs. History is not read again, nor resolved again, at each refresh.
 */
export async function timelineAt(options: {
  repository: GitOpsRepository;
  head: string;
  /** The environment's path and the files it was resolved from. */
  paths: string[];
  versionAt: VersionAt;
  stored?: VersionTimeline | null;
  descendsFrom: DescendsFrom;
  /** Stops reading, between commits and during each read. */
  signal?: AbortSignal;
}): Promise<VersionTimeline> {
  const { repository, head, paths, versionAt, stored, signal } = options;
  if (stored?.head === head) return stored;
  signal?.throwIfAborted();
  // A rewritten branch leaves the stored history behind: it is read again from the head.
  const extend = stored
    ? await untilAborted(options.descendsFrom(stored.head), signal)
    : false;
  const commits = await untilAborted(
    repository.history(
      head,
      paths,
      TIMELINE_DEPTH,
      extend ? { since: stored!.head } : undefined,
    ),
    signal,
  );
  const known = new Map(stored?.commits.map(c => [c.sha, c]) ?? []);
  const timeline: VersionTimeline = { head, commits: [] };
  for (const commit of commits) {
    signal?.throwIfAborted();
    // A commit seen before deployed what it deployed then: history does not change.
    const seen = known.get(commit.sha);
    timeline.commits.push(
      seen ?? {
        sha: commit.sha,
        at: commit.authoredAt,
        version: await untilAborted(versionAt(commit.sha), signal),
      },
    );
  }
  if (extend) {
    const added = new Set(timeline.commits.map(c => c.sha));
    timeline.commits.push(...stored!.commits.filter(c => !added.has(c.sha)));
    timeline.commits.splice(TIMELINE_DEPTH);
  }
  return timeline;
}
