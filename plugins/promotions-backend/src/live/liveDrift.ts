import {
  formatImage,
  ImageRef,
  LastChange,
  LiveApplication,
  LiveDrift,
  LiveState,
} from '@gitops-promotions/plugin-promotions-common';

/** A running image as Argo CD lists it (`name:tag`, `name@digest`, `name:tag@digest`). */
function parseImage(image: string): ImageRef {
  const at = image.indexOf('@');
  const digest = at >= 0 ? image.slice(at + 1) : null;
  const rest = at >= 0 ? image.slice(0, at) : image;
  const colon = rest.lastIndexOf(':');
  const tagged = colon > rest.lastIndexOf('/');
  return {
    name: tagged ? rest.slice(0, colon) : rest,
    tag: tagged ? rest.slice(colon + 1) : null,
    digest,
  };
}

const runs = (desired: ImageRef, live: ImageRef) =>
  desired.digest && live.digest
    ? desired.digest === live.digest
    : (desired.tag ?? 'latest') === (live.tag ?? 'latest');

/** `since <time>` when known, for the one-line summaries. */
const since = (at: string | null) => (at ? ` since ${at}` : '');

const of = (application: LiveApplication) => ({
  source: application.source,
  instance: application.instance,
  application: application.name,
});

function outOfSync(
  application: LiveApplication,
  lastChange: LastChange | null,
): LiveDrift {
  // A change to Git after the last sync put it out of sync then, before the backend may have seen it.
  const gitChange =
    lastChange &&
    (!application.syncedAt ||
      Date.parse(lastChange.at) > Date.parse(application.syncedAt))
      ? lastChange.at
      : null;
  const at =
    [application.outOfSyncSince, gitChange]
      .filter((t): t is string => !!t)
      .sort((a, b) => Date.parse(a) - Date.parse(b))[0] ?? null;
  return {
    kind: 'out-of-sync',
    ...of(application),
    since: at,
    summary: `Argo CD reports ${application.name} OutOfSync${since(at)}`,
  };
}

function liveMismatches(
  application: LiveApplication,
  desired: ImageRef[],
): LiveDrift[] {
  // A module's source may hand any value over; only image names that are strings are compared.
  const live = (Array.isArray(application.images) ? application.images : [])
    .filter((image): image is string => typeof image === 'string')
    .map(parseImage);
  const rollout = application.rollout;
  const drifts: LiveDrift[] = [];
  for (const image of desired) {
    const running = live.filter(l => l.name === image.name);
    if (running.length === 0 || running.every(l => runs(image, l))) continue;
    // A canary of the desired image is on its way, which its rollout shows; it is not drift.
    const canary =
      typeof rollout?.canaryImage === 'string' &&
      parseImage(rollout.canaryImage);
    if (
      canary &&
      canary.name === image.name &&
      runs(image, canary) &&
      !rollout.aborted
    )
      continue;
    const values = running.map(ref => formatImage(ref));
    drifts.push({
      kind: 'live-mismatch',
      ...of(application),
      since: null,
      image: { name: image.name, desired: formatImage(image), live: values },
      summary: `${application.name} runs ${values.join(
        ', ',
      )} where Git has ${formatImage(image)}`,
    });
  }
  return drifts;
}

/**
 * What runs against what Git says, for one environment: an application Argo CD (or Flux)
 * reports OutOfSync, a running image other than the desired one, and a synced revision older
 * than the latest commit that touched the environment. The history of the environment's inputs
 * (newest first) is asked for only when the synced revision is neither that commit nor the head.
 */
export async function liveDrift(input: {
  live: LiveState | null;
  desired: ImageRef[];
  lastChange: LastChange | null;
  /** The commit of the repository the environment was read at. */
  head: string;
  history: () => Promise<Array<{ sha: string; at: string }>>;
}): Promise<LiveDrift[]> {
  const { live, desired, lastChange, head } = input;
  const drifts: LiveDrift[] = [];
  for (const application of live?.applications ?? []) {
    if (application.syncStatus === 'OutOfSync')
      drifts.push(outOfSync(application, lastChange));
    drifts.push(...liveMismatches(application, desired));
    const synced = application.revision;
    if (!synced || !lastChange || [lastChange.commit, head].includes(synced))
      continue;
    const history = await input.history();
    const index = history.findIndex(commit => commit.sha === synced);
    // A revision outside the environment's history may be newer; only a known older one is waiting.
    if (index <= 0) continue;
    const firstNotSynced = history[index - 1];
    drifts.push({
      kind: 'waiting-for-sync',
      ...of(application),
      since: firstNotSynced.at,
      revision: { synced, latest: lastChange.commit, commits: index },
      summary: `${application.name} runs ${synced.slice(0, 7)}, ${index} ${
        index === 1 ? 'change' : 'changes'
      } behind ${lastChange.commit.slice(0, 7)}, waiting for sync${since(
        firstNotSynced.at,
      )}`,
    });
  }
  return drifts;
}
