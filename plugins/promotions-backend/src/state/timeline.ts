import { GitOpsRepository } from '@gitops-promotions/plugin-promotions-node';

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

/**
 * The timeline of an environment at `head`: read from the history of its inputs, or, when a
 * timeline was read before, extended with the commits since, so that history is not read and
 * resolved again at every refresh.
 */
export async function timelineAt(options: {
  repository: GitOpsRepository;
  head: string;
  /** The environment's path and the files it was resolved from. */
  paths: string[];
  versionAt: VersionAt;
  stored?: VersionTimeline | null;
}): Promise<VersionTimeline> {
  const { repository, head, paths, versionAt, stored } = options;
  if (stored?.head === head) return stored;
  const commits = await repository.history(head, paths, TIMELINE_DEPTH);
  const known = new Map(stored?.commits.map(c => [c.sha, c]) ?? []);
  const timeline: VersionTimeline = { head, commits: [] };
  for (const commit of commits) {
    // A commit seen before deployed what it deployed then: history does not change.
    const seen = known.get(commit.sha);
    timeline.commits.push(
      seen ?? {
        sha: commit.sha,
        at: commit.authoredAt,
        version: await versionAt(commit.sha),
      },
    );
  }
  return timeline;
}
