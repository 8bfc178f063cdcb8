import { InputError, NotAllowedError } from '@backstage/errors';
import { ImageRef } from '@gitops-promotions/plugin-promotions-common';
import {
  displayVersion,
  FileChange,
  gitBlobId,
  GitOpsRepository,
  isReadable,
  parseImage,
  PipelineEnvironment,
  PromotionsConfig,
  PromotionsResolverService,
  ReadablePaths,
  RepositoryConfig,
  RepositorySnapshot,
  ResolvedEnvironment,
} from '@gitops-promotions/plugin-promotions-node';
import {
  EntityTarget,
  EnvironmentSpec,
  manifestGitRepository,
  manifestSpecs,
  specResolveOptions,
  writableSpec,
} from '../state/entityTarget';
import { StoredEnvironment } from '../state/PromotionsStore';
import {
  readSpecSource,
  ReadSourceDeps,
  SourceRead,
} from '../state/readSource';
import { editManifestVersion } from './editManifest';
import { editVersion } from './editVersion';
import { overlaySnapshot } from './overlaySnapshot';

/** What someone asks for: a version for an environment, from an upstream or its own history. */
export interface PlanRequest {
  to: string;
  version?: string;
  from?: string;
  /** The service's image only (the default), or every image the upstream runs. */
  images?: 'service' | 'all';
  /** Promote a version no upstream runs. */
  allowUnknownVersion?: boolean;
  kind?: 'promotion' | 'rollback';
}

/** Exactly what a promotion would write, and what it was worked out from. */
export interface Plan {
  environment: PipelineEnvironment;
  kind: 'promotion' | 'rollback';
  version: string;
  previousVersion: string | null;
  from: string[];
  unknownVersion: boolean;
  /** The images set in the target. */
  images: ImageRef[];
  /** The repository the environment is read from, and written to. */
  repository: GitOpsRepository;
  /** The branch the environment is read from, which the promotion merges into. */
  baseBranch: string;
  /** That branch as the plan was made on it. */
  base: RepositorySnapshot;
  changes: FileChange[];
  /** How the environment is read with the change: its path, and how it is resolved. */
  spec: EnvironmentSpec;
  path: string;
  before: ResolvedEnvironment;
  /** The environment resolved with the change, rendered. */
  afterResolved: ResolvedEnvironment;
  /** Upstream environments with the version each runs at the base. */
  upstreams: Array<{
    name: string;
    version: string | null;
    resolved?: ResolvedEnvironment;
    /** Where the upstream was read: its repository and commit. */
    read?: SourceRead;
  }>;
}

/** A tag as registries accept it, or a digest: nothing YAML or a shell would read otherwise. */
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

const badVersion = (version: string) =>
  new InputError(
    `"${version.slice(
      0,
      80,
    )}" is not a version: a tag (letters, digits, _ . -, up to 128), a sha256 digest, or tag@digest`,
  );

/** A tag, a digest, `tag@digest`, or a digest as `displayVersion` shortens it. */
function isVersionText(text: string): boolean {
  if (/^sha256:[a-f0-9]{12}$/.test(text)) return true;
  try {
    imageForVersion('x', text);
    return true;
  } catch {
    return false;
  }
}

/** The image a version text names for an image name: a tag, a digest, or `tag@digest`. */
export function imageForVersion(name: string, version: string): ImageRef {
  const [tag, digest, extra] = version.split('@');
  if (extra !== undefined) throw badVersion(version);
  if (digest !== undefined) {
    if (!TAG.test(tag) || !DIGEST.test(digest)) throw badVersion(version);
    return { name, tag, digest };
  }
  if (DIGEST.test(version)) return { name, tag: null, digest: version };
  if (!TAG.test(version)) throw badVersion(version);
  return { name, tag: version, digest: null };
}

/** An environment of an entity's pipeline by name; an `InputError` listing them when there is none. */
export function environmentNamed(
  target: EntityTarget,
  name: string,
): PipelineEnvironment {
  const environment = target.pipeline.find(e => e.name === name);
  if (!environment) {
    throw new InputError(
      `"${String(name).slice(0, 64)}" is not an environment of ${
        target.entityRef
      } (environments: ${target.pipeline.map(e => e.name).join(', ')})`,
    );
  }
  return environment;
}

/** Whether a changed path lies inside the environment's own path (its directory or values file). */
function insideEnvironment(path: string, environmentPathText: string) {
  return (
    path === environmentPathText ||
    path.startsWith(`${environmentPathText.replace(/\/+$/, '')}/`)
  );
}

/**
 * Works out a promotion or rollback: which images the target gets, and the exact file changes,
 * made on the branch as it is now. Nothing is written. Bad requests are `InputError`s that say
 * why; a change outside the service's own files is refused.
 */
export async function planPromotion(options: {
  request: PlanRequest;
  target: EntityTarget;
  /** The repository the entity is refreshed with. */
  repository: GitOpsRepository;
  /** Every configured repository: environments may be read from others. */
  repositories: ReadSourceDeps['repositories'];
  logger: ReadSourceDeps['logger'];
  resolver: PromotionsResolverService;
  /** The entity's stored environments, for the target's history of versions. */
  stored: StoredEnvironment[];
  /** For an entity read through an Argo CD manifest: the config and what it may read. */
  manifest?: {
    config: PromotionsConfig;
    readableIn: (repository: RepositoryConfig) => ReadablePaths;
  };
}): Promise<Plan> {
  const { request, resolver } = options;
  let target = options.target;
  const environment = environmentNamed(target, request.to);
  const kind = request.kind ?? 'promotion';
  if (request.version !== undefined) imageForVersion('x', request.version);
  const cannotRead = (error: unknown): never => {
    throw new InputError(
      `${environment.name} cannot be read, so it cannot be changed: ${
        error instanceof Error ? error.message : String(error)
      }`,
    );
  };
  const sources: ReadSourceDeps = {
    repositories: options.repositories,
    tags: new Map(),
    logger: options.logger,
  };
  const home: SourceRead = {
    repository: options.repository,
    snapshot: await options.repository.snapshot(),
  };
  // An Argo CD manifest gives the specs: read from it as it is on the branch now.
  const specsIn = async (snapshot: RepositorySnapshot) => {
    if (!options.manifest) {
      throw new InputError(
        `${target.entityRef}: ${environment.name} is read through an Argo CD manifest, which this request cannot read`,
      );
    }
    return manifestSpecs(
      target,
      snapshot,
      options.manifest.config,
      options.manifest.readableIn,
    );
  };
  if (!target.specs) {
    const found = await specsIn(home.snapshot);
    const entry = found.get(environment.name);
    if (!entry || 'error' in entry) {
      cannotRead(entry?.error ?? 'the manifest does not give it');
    }
    target = {
      ...target,
      specs: [...found.values()].filter(
        (e): e is EnvironmentSpec => !('error' in e),
      ),
    };
  }
  const spec = writableSpec(target, environment.name);
  /**
   * Whether the manifest, at one of its last 200 commits, gave the environment a version, read
   * with the files the environment reads now: how a version only a manifest sets is found.
   */
  const manifestRan = async (
    wanted: string,
    manifest: string,
    specAt: (
      snapshot: RepositorySnapshot,
    ) => Promise<EnvironmentSpec | { error: string } | undefined>,
  ) => {
    const commits = await home.repository.history(
      home.snapshot.commit,
      [manifest],
      200,
    );
    for (const commit of commits) {
      const at = await home.repository.snapshotAt(commit.sha);
      const old = await specAt(at).catch(() => undefined);
      if (!old || 'error' in old) continue;
      const read = await readSpecSource(
        old,
        { repository: home.repository, snapshot: at },
        sources,
      ).catch(() => undefined);
      if (!read) continue;
      const resolved = await resolver
        .resolve(read.snapshot, old.path, specResolveOptions(target, old))
        .catch(() => undefined);
      if (resolved?.version === wanted) return true;
    }
    return false;
  };
  const path = spec.path;
  const readOf = (s: EnvironmentSpec) => readSpecSource(s, home, sources);
  const targetRead = await readOf(spec).catch(cannotRead);
  const resolveAt = (
    snapshot: RepositorySnapshot,
    s: EnvironmentSpec,
    render = false,
  ) =>
    resolver.resolve(snapshot, s.path, {
      ...specResolveOptions(target, s),
      render,
    });
  const before = await resolveAt(targetRead.snapshot, spec, true).catch(
    cannotRead,
  );

  const upstreams: Plan['upstreams'] = [];
  for (const name of environment.requires) {
    const upstreamSpec = target.specs?.find(s => s.name === name);
    const read = upstreamSpec
      ? await readOf(upstreamSpec).catch(() => undefined)
      : undefined;
    const resolved =
      read && upstreamSpec
        ? await resolveAt(read.snapshot, upstreamSpec).catch(() => undefined)
        : undefined;
    upstreams.push({
      name,
      version: resolved?.version ?? null,
      resolved,
      read,
    });
  }

  let images: ImageRef[];
  let version: string;
  let from: string[] = [];
  let unknownVersion = false;
  const serviceImageOf = (candidates: ImageRef[], wantedVersion?: string) => {
    if (target.image) {
      const name = parseImage(target.image).name;
      return candidates.find(
        i => i.name === name || i.name.endsWith(`/${name}`),
      );
    }
    return (
      candidates.find(
        i => wantedVersion && displayVersion(i) === wantedVersion,
      ) ?? candidates[0]
    );
  };

  if (kind === 'rollback') {
    if (!request.version) {
      throw new InputError('A rollback names the version to roll back to');
    }
    version = request.version;
    const commit = await commitRunning(
      options,
      {
        repository: targetRead.repository,
        base: targetRead.snapshot,
        spec,
      },
      version,
    );
    // A version a manifest set: the manifest's own history says whether the environment ran it.
    const setByManifest =
      !commit && spec.manifest
        ? await manifestRan(version, spec.manifest, async at =>
            (await specsIn(at)).get(environment.name),
          )
        : false;
    if (!commit && !setByManifest) {
      throw new InputError(
        `${environment.name} of ${target.entityRef} never ran ${version} in the history read: roll back to a version it ran`,
      );
    }
    let service: ImageRef | undefined;
    if (commit) {
      const then = await resolveAt(
        await targetRead.repository.snapshotAt(commit),
        spec,
      );
      service = serviceImageOf(then.images, version);
      images = pick(then.images, request.images, service);
    } else {
      images = [];
    }
    // A version a manifest sets is not in the files of the commit: it is the version asked for.
    if (spec.manifest && (!service || displayVersion(service) !== version)) {
      const current = serviceImageOf(
        before.images,
        before.version ?? undefined,
      );
      images = current ? [imageForVersion(current.name, version)] : [];
    }
  } else if (environment.requires.length === 0) {
    // The first environment: versions come from builds, so the version is named.
    if (request.from !== undefined) {
      throw new InputError(
        `${environment.name} is promoted from no environment`,
      );
    }
    if (!request.version) {
      throw new InputError(
        `${environment.name} is the first environment: name the version to deploy`,
      );
    }
    version = request.version;
    const service = serviceImageOf(before.images, before.version ?? undefined);
    if (!service) {
      throw new InputError(
        `${environment.name} runs no image to give version ${version} to`,
      );
    }
    images = [imageForVersion(service.name, version)];
  } else {
    if (
      request.from !== undefined &&
      !environment.requires.includes(request.from)
    ) {
      throw new InputError(
        `${environment.name} is not promoted from "${String(request.from).slice(
          0,
          64,
        )}" (it is promoted from: ${
          environment.requires.join(', ') || 'nothing'
        })`,
      );
    }
    const candidates = upstreams.filter(
      u => u.resolved && (!request.from || u.name === request.from),
    );
    const wanted = request.version ?? candidates[0]?.version ?? undefined;
    if (!wanted) {
      throw new InputError(
        `${environment.name} has no upstream running a version: name the version to promote`,
      );
    }
    version = wanted;
    const source = candidates.find(u => u.version === version);
    if (source) {
      from = upstreams.filter(u => u.version === version).map(u => u.name);
      const upstreamImages = source.resolved!.images;
      const service = serviceImageOf(upstreamImages, version);
      images = pick(
        upstreamImages.filter(i => before.images.some(b => b.name === i.name)),
        request.images,
        service,
      );
    } else if (request.allowUnknownVersion) {
      unknownVersion = true;
      const service = serviceImageOf(
        before.images,
        before.version ?? undefined,
      );
      if (!service) {
        throw new InputError(
          `${environment.name} runs no image to give version ${version} to`,
        );
      }
      images = [imageForVersion(service.name, version)];
    } else {
      const running = upstreams
        .map(u => `${u.name} runs ${u.version ?? 'nothing known'}`)
        .join(', ');
      throw new InputError(
        `No upstream of ${environment.name} runs ${version} (${
          running || 'it has no upstream'
        }); ask with allowUnknownVersion to promote it anyway`,
      );
    }
  }
  // A version read from an upstream's files or the history is held to the rule of one asked for.
  const unfit = [version, ...images.flatMap(i => [i.tag, i.digest])].find(
    (text): text is string => text !== null && !isVersionText(text),
  );
  if (unfit !== undefined) {
    throw new InputError(
      `${
        from.length > 0
          ? `${from.join(', ')}, upstream of ${environment.name},`
          : `The history of ${environment.name}`
      } ${badVersion(unfit).message.replace(
        /^(".*") is not a version/s,
        'names $1, which is not a version',
      )}; nothing was changed`,
    );
  }
  if (images.length === 0) {
    throw new InputError(
      `${environment.name} runs none of the images of version ${version}`,
    );
  }
  if (before.version === version && sameImages(before.images, images)) {
    throw new InputError(`${environment.name} already runs ${version}`);
  }

  // A Helm environment keeps one version key: the service's image is all it can set.
  if (before.layout === 'helm') images = images.slice(0, 1);

  const versionKey = target.versionKey ?? 'image.tag';
  // Where each version is set: a manifest sets it in the manifest, or leaves it to the files.
  const manifestChanges: FileChange[] = [];
  let inFiles = images;
  if (spec.manifest) {
    inFiles = [];
    let manifestAfter = home.snapshot;
    for (const image of images) {
      const edited = await editManifestVersion({
        file: spec.manifest,
        snapshot: manifestAfter,
        environment: {
          environment: spec.name,
          application: spec.application ?? '',
        },
        image,
        versionKey,
        readOptions: {
          gitRepository: manifestGitRepository(
            target,
            home.snapshot,
            options.manifest!.readableIn,
          ),
        },
      });
      if ('change' in edited) {
        manifestChanges.splice(0, 1, edited.change);
        manifestAfter = overlaySnapshot(manifestAfter, [edited.change]);
      } else {
        inFiles.push(image);
      }
    }
  }
  // One promotion writes one branch: the manifest's, or the environment's files'.
  const filesAtHome =
    targetRead.repository === home.repository &&
    targetRead.snapshot.commit === home.snapshot.commit;
  if (manifestChanges.length > 0 && inFiles.length > 0 && !filesAtHome) {
    throw new InputError(
      `${environment.name}: ${spec.manifest} sets the version of ${images
        .filter(i => !inFiles.includes(i))
        .map(i => i.name)
        .join(', ')}, and the files at ${
        targetRead.source?.ref ?? 'another branch'
      } the version of ${inFiles
        .map(i => i.name)
        .join(', ')}: promote the service's image alone`,
    );
  }
  const write = manifestChanges.length > 0 ? home : targetRead;
  if (write.source && write.source.kind !== 'branch') {
    throw new InputError(
      `${environment.name} is read at the ${write.source.kind} ${write.source.ref}: the portal changes only environments read from a branch`,
    );
  }
  const repository = write.repository;
  const baseBranch = write.source?.ref ?? repository.branch;
  const base = write.snapshot;

  // Each image edited in turn, on the files as the previous edit left them.
  let after = overlaySnapshot(base, manifestChanges);
  const changed = new Map<string, FileChange>(
    manifestChanges.map(change => [change.path, change]),
  );
  for (const image of inFiles) {
    const changes = await editVersion({
      snapshot: after,
      path,
      image,
      versionKey,
      inputs: before.inputs,
    });
    for (const change of changes) changed.set(change.path, change);
    after = overlaySnapshot(after, changes);
  }
  const changes = [...changed.values()].filter(change => {
    const old = base.files.get(change.path);
    return !old || !change.content || gitBlobId(change.content) !== old.oid;
  });
  for (const change of changes) {
    const isManifest = change.path === spec.manifest && write === home;
    if (!isManifest && !insideEnvironment(change.path, path)) {
      throw new NotAllowedError(
        `Refusing to write ${change.path}: a promotion of ${
          environment.name
        } writes only inside ${path}${
          spec.manifest ? ` or ${spec.manifest}` : ''
        }`,
      );
    }
    const readable = isManifest ? target.readable : spec.readable;
    if (!isReadable(readable, change.path)) {
      throw new NotAllowedError(
        `Refusing to write ${change.path}: ${target.entityRef} may only change ${readable.description}`,
      );
    }
  }
  if (changes.length === 0) {
    throw new InputError(`${environment.name} already runs ${version}`);
  }
  // The change must do what it says: the environment, resolved with it, runs the images asked
  // for. With a manifest changed, the environment is read again as the new manifest gives it.
  let afterSpec = spec;
  const written = overlaySnapshot(base, changes);
  let afterSnapshot = written;
  const specsAfter =
    manifestChanges.length > 0 ? await specsIn(written) : undefined;
  if (specsAfter) {
    const again = specsAfter.get(environment.name);
    if (!again || 'error' in again) {
      throw new InputError(
        `With the change, ${environment.name} could not be read: ${
          again?.error ?? 'the manifest no longer gives it'
        }; nothing was changed`,
      );
    }
    afterSpec = again;
    afterSnapshot = (
      await readSpecSource(
        afterSpec,
        { repository: home.repository, snapshot: afterSnapshot },
        sources,
      )
    ).snapshot;
  }
  const result = await resolveAt(afterSnapshot, afterSpec, true).catch(
    error => {
      throw new InputError(
        `With the change, ${environment.name} could not be read: ${
          (error as Error).message
        }; nothing was changed`,
      );
    },
  );
  if (!sameImages(result.images, images)) {
    throw new InputError(
      `${
        environment.name
      } does not take its version from the files the promotion can change (it would still run ${
        result.version ?? 'nothing known'
      }); nothing was changed`,
    );
  }
  // A promotion changes its environment alone: another environment reading the same files (the
  // same path through a manifest, or a resource of its overlay) must deploy what it did.
  for (const other of target.specs!) {
    if (other.name === environment.name) continue;
    const otherRead = await readOf(other).catch(() => undefined);
    if (!otherRead) continue;
    const readsWritten =
      otherRead.repository.id === repository.id &&
      (otherRead.source?.ref ?? otherRead.repository.branch) === baseBranch &&
      otherRead.snapshot.commit === base.commit;
    if (!readsWritten && !specsAfter) continue;
    const otherBefore = await resolveAt(otherRead.snapshot, other).catch(
      () => undefined,
    );
    if (!otherBefore) continue;
    let otherAfter: ResolvedEnvironment | undefined;
    const otherSpec = specsAfter ? specsAfter.get(other.name) : other;
    if (otherSpec && !('error' in otherSpec)) {
      const snapshot = readsWritten
        ? written
        : (
            await readSpecSource(
              otherSpec,
              { repository: home.repository, snapshot: written },
              sources,
            ).catch(() => undefined)
          )?.snapshot;
      otherAfter = snapshot
        ? await resolveAt(snapshot, otherSpec).catch(() => undefined)
        : undefined;
    }
    if (
      !otherAfter ||
      otherAfter.images.length !== otherBefore.images.length ||
      !sameImages(otherAfter.images, otherBefore.images)
    ) {
      throw new NotAllowedError(
        `Refusing the change: it would also change what ${
          other.name
        } deploys (${otherBefore.version ?? 'nothing known'} → ${
          otherAfter
            ? otherAfter.version ?? 'nothing known'
            : 'an environment that cannot be read'
        }); a promotion of ${environment.name} changes ${
          environment.name
        } alone. Nothing was changed`,
      );
    }
  }
  return {
    environment,
    kind,
    version,
    previousVersion: before.version,
    from,
    unknownVersion,
    images,
    repository,
    baseBranch,
    base,
    changes,
    spec: afterSpec,
    path,
    before,
    afterResolved: result,
    upstreams,
  };
}

function sameImages(running: ImageRef[], wanted: ImageRef[]) {
  return wanted.every(w =>
    running.some(
      r => r.name === w.name && r.tag === w.tag && r.digest === w.digest,
    ),
  );
}

/** The service's image alone, or every image, as asked. */
function pick(
  images: ImageRef[],
  which: PlanRequest['images'],
  service: ImageRef | undefined,
): ImageRef[] {
  if (which === 'all') return images;
  return service ? [service] : [];
}

/** The newest commit at which an environment ran a version: from its timeline, else further back. */
async function commitRunning(
  options: Parameters<typeof planPromotion>[0],
  at: {
    repository: GitOpsRepository;
    base: RepositorySnapshot;
    spec: EnvironmentSpec;
  },
  version: string,
): Promise<string | undefined> {
  const { repository, spec } = at;
  const stored = options.stored.find(e => e.environment === spec.name);
  const inTimeline = stored?.timeline?.commits.find(c => c.version === version);
  if (inTimeline) return inTimeline.sha;
  // Older than the timeline: walk the environment's history, a bounded number of commits.
  const inputs = stored?.resolution.inputs ?? [spec.path];
  const commits = await repository.history(at.base.commit, inputs, 200);
  const seen = new Set(stored?.timeline?.commits.map(c => c.sha) ?? []);
  for (const commit of commits.filter(c => !seen.has(c.sha))) {
    const resolved = await options.resolver
      .resolve(
        await repository.snapshotAt(commit.sha),
        spec.path,
        specResolveOptions(options.target, spec),
      )
      .catch(() => undefined);
    if (resolved?.version === version) return commit.sha;
  }
  return undefined;
}
