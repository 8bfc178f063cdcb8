import { VersionTimeline } from '../state/timeline';

/** The portal's newest merge to an environment. */
export interface PortalMerge {
  version: string | null;
  at: Date;
  /** The commits that may stand for it on the branch: the promotion's own and the one that landed. */
  commits: string[];
}

/**
 * What an upstream environment runs now, and since when it runs it without a break: the start
 * of its current run of that version, never an earlier run it was rolled back from.
 *
 * The stored state is the last refresh's. A merge the portal made after that refresh is newer
 * than it: then the environment runs what was merged, since the merge. Read fresh at the
 * branch's head (a preview), a version the stored state does not show started at a moment not
 * known yet.
 */
export function upstreamRun(options: {
  /** What the environment runs at the branch's head, when it was just read there. */
  fresh?: { version: string | null };
  stored?: { version: string | null; timeline: VersionTimeline | null };
  lastMerge?: PortalMerge;
}): { version: string | null; since: Date | null } {
  const { fresh, stored, lastMerge } = options;
  const commits = stored?.timeline?.commits ?? [];
  let known: { version: string | null; since: Date | null };
  // A stored state that cannot tell what runs is not replaced by what was merged before it.
  if (lastMerge && stored?.version && lastMerge.version !== stored.version) {
    // Either the refresh came before the merge, or someone changed the environment after it.
    const changedAfter =
      commits.some(c => lastMerge.commits.includes(c.sha)) ||
      commits.some(c => new Date(c.at) > lastMerge.at);
    known = changedAfter
      ? { version: stored.version, since: runStart(commits, stored) }
      : { version: lastMerge.version, since: lastMerge.at };
  } else {
    let since = runStart(commits, stored);
    // A promotion's commit is dated when it was asked for; its run starts when it landed.
    if (lastMerge && since && lastMerge.at > since) since = lastMerge.at;
    // Without a timeline, the newest merge is all that is known of the run.
    if (lastMerge && !stored?.timeline && stored?.version) since = lastMerge.at;
    known = { version: stored?.version ?? null, since };
  }
  if (!fresh || fresh.version === known.version) return known;
  return { version: fresh.version, since: null };
}

/** When the run of the stored version at the top of the timeline began; null when it does not show. */
function runStart(
  commits: VersionTimeline['commits'],
  stored: { version: string | null } | undefined,
): Date | null {
  if (!stored?.version) return null;
  let since: Date | null = null;
  for (const commit of commits) {
    if (commit.version !== stored.version) break;
    since = new Date(commit.at);
  }
  return since;
}
