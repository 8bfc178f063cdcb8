import { hasControlCharacter } from '@gitops-promotions/plugin-promotions-common';
import { RepositoryConfig } from '../config/readPromotionsConfig';
import { parseSetImage } from '../resolve/setImages';
import { HelmLayering, HelmParameter } from '../resolve/types';
import { repositoryPath } from './applications';
import { ArgoCdApplication, ArgoCdManifest, ArgoCdSource } from './types';

/**
 * Where one environment's desired state is read from, as an Argo CD Application names it.
 *
 * @public
 */
export interface ManifestEnvironment {
  /** The pipeline environment. */
  environment: string;
  /** The Application's name. */
  application: string;
  /** The configured repository the Application's source reads (by `url` or `argocdRepoURL`). */
  repositoryId: string;
  /**
   * The source's `targetRevision` when it is not the repository's branch nor `HEAD` nor empty:
   * a branch, tag or commit to read instead.
   */
  ref?: string;
  /** The source's path (a Kustomize or plain directory, or a Helm chart directory), cleaned. */
  path: string;
  /**
   * For a Helm source (one with a `helm` block, or a chart by `isHelmChart`): its values as Argo
   * CD has Helm layer them, value files as paths from the repository's root.
   */
  helm?: HelmLayering;
  /** The source's `kustomize.images`, which Argo CD sets with `kustomize edit set image`. */
  kustomizeImages?: string[];
}

/**
 * How `manifestEnvironments` reads a manifest.
 *
 * @public
 */
export interface ManifestEnvironmentsOptions {
  /** The manifest's path, named in messages. */
  file: string;
  /** The pipeline's environments, in order. */
  environments: string[];
  /** The configured repositories, which sources name by URL. */
  repositories: RepositoryConfig[];
  /** Whether a directory of the repository holds a Helm chart (`Chart.yaml`). */
  isHelmChart?: (path: string) => boolean;
}

/** Generator parameters and labels that name an Application's environment. */
const ENVIRONMENT_KEYS = new Set(['env', 'environment', 'stage']);

const SEPARATORS = '-_.';

/** Longest path or revision read from a manifest; real ones are far shorter. */
const MAX_TEXT = 1024;

class EnvironmentError extends Error {}

const quoted = (text: string) => JSON.stringify(text.slice(0, 200));

/**
 * Whether an Argo CD `repoURL` names a configured repository, by its `url` or `argocdRepoURL`:
 * hosts compared without case, scheme, user and port ignored, `.git` and trailing `/` dropped,
 * `git@host:owner/repo` the same as `https://host/owner/repo`.
 *
 * @public
 */
export function isRepositoryURL(
  repository: RepositoryConfig,
  repoURL: string,
): boolean {
  const key = repositoryKey(repoURL);
  return [repository.url, repository.argocdRepoURL].some(
    url => !!url && repositoryKey(url) === key,
  );
}

/** A repository URL as compared: host lower-cased, scheme, user and port dropped, no `.git`. */
function repositoryKey(url: string): string {
  const text = url.trim();
  let host = '';
  let path = text;
  const scp = /^(?:[^@/:\s]+@)?([^@/:\s]+):(?!\/\/)(.*)$/.exec(text);
  if (scp) [, host, path] = scp;
  else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    try {
      const parsed = new URL(text);
      host = parsed.hostname;
      path = parsed.pathname;
    } catch {
      // Not a URL after all: compared as written.
    }
  }
  let trimmed = path.replace(/^\/+/, '').replace(/\/+$/, '');
  if (trimmed.toLowerCase().endsWith('.git')) trimmed = trimmed.slice(0, -4);
  return `${host.toLowerCase()}/${trimmed.replace(/\/+$/, '')}`;
}

/** Whether a revision names the repository's own branch: empty, `HEAD`, or the branch itself. */
const isBranchItself = (revision: string, repository: RepositoryConfig) =>
  revision === '' ||
  revision === 'HEAD' ||
  revision === repository.branch ||
  revision === `refs/heads/${repository.branch}`;

/** Why a revision is not a ref name git would take, by a conservative reading of its rules. */
function refProblem(ref: string): string | undefined {
  if (ref.length > 255) return 'is longer than 255 characters';
  if (hasControlCharacter(ref) || /[\s~^:?*[\\]/.test(ref))
    return 'holds a character a ref name cannot';
  if (
    ref.startsWith('-') ||
    ref.startsWith('/') ||
    ref.endsWith('/') ||
    ref.endsWith('.') ||
    ref.includes('..') ||
    ref.includes('//') ||
    ref.includes('@{') ||
    ref === '@' ||
    ref.split('/').some(part => part.startsWith('.') || part.endsWith('.lock'))
  )
    return 'is not a valid ref name';
  return undefined;
}

/** Why a path written in a manifest is refused before it is cleaned, if it is. */
function pathProblem(path: string): string | undefined {
  if (path.length > MAX_TEXT) return `is longer than ${MAX_TEXT} characters`;
  if (hasControlCharacter(path) || path.includes('\\'))
    return 'holds a control character or a backslash';
  if (/%[0-9a-f]{2}/i.test(path))
    return 'is URL-encoded; write the path as it is in the repository';
  return undefined;
}

class ApplicationReader {
  private readonly keys: Array<[string, RepositoryConfig]>;

  constructor(private readonly options: ManifestEnvironmentsOptions) {
    this.keys = options.repositories.flatMap(repository =>
      [repository.url, repository.argocdRepoURL]
        .filter((url): url is string => !!url)
        .map((url): [string, RepositoryConfig] => [
          repositoryKey(url),
          repository,
        ]),
    );
  }

  private fail(application: ArgoCdApplication, message: string): never {
    throw new EnvironmentError(
      `Application ${quoted(application.name)} of ${
        this.options.file
      } ${message}`,
    );
  }

  private repository(application: ArgoCdApplication, repoURL: string | null) {
    if (!repoURL) this.fail(application, 'has a source without repoURL');
    const key = repositoryKey(repoURL);
    const found = this.keys.find(([candidate]) => candidate === key);
    if (!found)
      this.fail(
        application,
        `reads ${quoted(
          repoURL,
        )}, which is no repository of promotions.repositories (by url or argocdRepoURL)`,
      );
    return found[1];
  }

  /** The revision to read instead of the repository's branch, if any. */
  private ref(
    application: ArgoCdApplication,
    source: ArgoCdSource,
    repository: RepositoryConfig,
  ): string | undefined {
    const revision = (source.targetRevision ?? '').trim();
    if (isBranchItself(revision, repository)) return undefined;
    const problem = refProblem(revision);
    if (problem)
      this.fail(
        application,
        `has targetRevision ${quoted(revision)}, which ${problem}`,
      );
    return revision;
  }

  private path(application: ArgoCdApplication, what: string, path: string) {
    const problem = pathProblem(path);
    if (problem)
      this.fail(application, `has ${what} ${quoted(path)}, which ${problem}`);
    return path;
  }

  private sourcePath(application: ArgoCdApplication, path: string): string {
    this.path(application, 'path', path);
    if (path.startsWith('/'))
      this.fail(
        application,
        `has path ${quoted(
          path,
        )}, an absolute path; it must be relative to the repository's root`,
      );
    const cleaned = repositoryPath('', path);
    if (cleaned === null)
      this.fail(
        application,
        `has path ${quoted(path)}, which leaves the repository`,
      );
    return cleaned;
  }

  private helm(
    application: ArgoCdApplication,
    source: ArgoCdSource,
    repository: RepositoryConfig,
    ref: string | undefined,
    path: string,
  ): HelmLayering {
    const helm = source.helm;
    const valueFiles = (helm?.valueFiles ?? []).map(valueFile => {
      const what = `value file ${quoted(valueFile.file)}`;
      this.path(application, 'the value file', valueFile.file);
      if (valueFile.from === 'url')
        this.fail(application, `reads ${what} from a URL, which is not read`);
      if (
        valueFile.from === 'ref' &&
        valueFile.repoURL === null &&
        valueFile.path === null
      )
        this.fail(
          application,
          `reads ${what}, but no source has ref "${valueFile.ref}"`,
        );
      if (valueFile.path === null)
        this.fail(application, `reads ${what}, which leaves the repository`);
      if (valueFile.from === 'ref') {
        const other = this.repository(application, valueFile.repoURL);
        if (other.id !== repository.id)
          this.fail(
            application,
            `reads ${what} from repository "${other.id}", not from "${repository.id}" it deploys`,
          );
        const revision = (valueFile.targetRevision ?? '').trim();
        const otherRef = isBranchItself(revision, other) ? undefined : revision;
        if (otherRef !== ref)
          this.fail(
            application,
            `reads ${what} at ${otherRef ?? repository.branch}, not at ${
              ref ?? repository.branch
            } it deploys`,
          );
      }
      return valueFile.path;
    });
    const parameters: HelmParameter[] = (helm?.parameters ?? []).map(
      ({ name, value, forceString }) => ({ name, value, forceString }),
    );
    return {
      chartPath: path,
      valueFiles,
      values: helm?.values ?? null,
      valuesObject: helm?.valuesObject ?? null,
      parameters,
      ignoreMissingValueFiles: helm?.ignoreMissingValueFiles ?? false,
      manifest: this.options.file,
    };
  }

  read(
    application: ArgoCdApplication,
    environment: string,
  ): ManifestEnvironment {
    const chart = application.sources.find(source => source.chart);
    if (chart)
      this.fail(
        application,
        `reads chart ${quoted(
          chart.chart!,
        )} from a Helm repository, which is not read`,
      );
    const deployed = application.sources.filter(source => source.path);
    if (deployed.length === 0)
      this.fail(application, 'has no source with a path');
    if (deployed.length > 1)
      this.fail(
        application,
        `deploys ${deployed.length} sources with a path (${deployed
          .map(source => quoted(source.path!))
          .join(', ')}); only one can be the environment`,
      );
    const source = deployed[0];
    const repository = this.repository(application, source.repoURL);
    const ref = this.ref(application, source, repository);
    const path = this.sourcePath(application, source.path!);
    const images = source.kustomize?.images ?? [];
    if (source.helm && source.kustomize)
      this.fail(
        application,
        'has both a helm and a kustomize block in one source, which Argo CD refuses',
      );
    for (const image of images)
      if (!parseSetImage(image))
        this.fail(
          application,
          `sets kustomize image ${quoted(
            image,
          )}, which is none of name=newName:tag, name=newName@digest, name:tag or name@digest`,
        );
    const isHelm =
      !!source.helm ||
      (!source.kustomize && (this.options.isHelmChart?.(path) ?? false));
    return {
      environment,
      application: application.name,
      repositoryId: repository.id,
      ...(ref !== undefined ? { ref } : {}),
      path,
      ...(isHelm
        ? { helm: this.helm(application, source, repository, ref, path) }
        : {}),
      ...(images.length > 0 ? { kustomizeImages: images } : {}),
    };
  }
}

/** Where a name holds an environment between separators, the last one wins; the longer at a tie. */
function environmentInName(
  name: string,
  environments: string[],
): string | undefined {
  let best: { environment: string; end: number } | undefined;
  for (const environment of environments) {
    if (!environment) continue;
    for (
      let start = name.indexOf(environment);
      start >= 0;
      start = name.indexOf(environment, start + 1)
    ) {
      const end = start + environment.length;
      const bounded =
        (start === 0 || SEPARATORS.includes(name[start - 1])) &&
        (end === name.length || SEPARATORS.includes(name[end]));
      if (
        bounded &&
        (!best ||
          end > best.end ||
          (end === best.end && environment.length > best.environment.length))
      )
        best = { environment, end };
    }
  }
  return best?.environment;
}

function environmentInMap(
  map: Record<string, unknown>,
  environments: Set<string>,
): string | undefined {
  for (const [key, value] of Object.entries(map)) {
    if (
      ENVIRONMENT_KEYS.has(key.toLowerCase()) &&
      typeof value === 'string' &&
      environments.has(value)
    )
      return value;
  }
  return undefined;
}

/**
 * The environment an Application deploys, by the first of: a generator parameter `env`,
 * `environment` or `stage`; a label of those names; a part of its name between `-`, `_` and `.`;
 * the same of its destination namespace.
 */
function environmentOf(
  application: ArgoCdApplication,
  environments: string[],
): string | undefined {
  const names = new Set(environments);
  return (
    environmentInMap(application.generatedBy?.parameters ?? {}, names) ??
    environmentInMap(application.labels, names) ??
    environmentInName(application.name, environments) ??
    environmentInName(application.destination.namespace ?? '', environments)
  );
}

const listed = (names: string[]) =>
  names.length <= 2
    ? names.join(' and ')
    : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;

/**
 * Each pipeline environment's source, as the Applications a manifest declares or generates
 * name it: its repository, revision and path, and for a Helm source its values layered as Argo
 * CD has Helm layer them. Every environment has an entry, an error when no Application deploys
 * it, when several do, or when what its Application reads cannot be read here. Applications of
 * no environment are left out.
 *
 * @public
 */
export function manifestEnvironments(
  manifest: ArgoCdManifest,
  options: ManifestEnvironmentsOptions,
): Map<string, ManifestEnvironment | { error: string }> {
  const { file, environments } = options;
  const byEnvironment = new Map<string, ArgoCdApplication[]>();
  for (const application of manifest.applications) {
    // Argo CD creates no Application without a name.
    if (!application.name) continue;
    const environment = environmentOf(application, environments);
    if (environment === undefined) continue;
    byEnvironment.set(environment, [
      ...(byEnvironment.get(environment) ?? []),
      application,
    ]);
  }
  const reader = new ApplicationReader(options);
  const result = new Map<string, ManifestEnvironment | { error: string }>();
  for (const environment of environments) {
    const applications = byEnvironment.get(environment) ?? [];
    if (applications.length === 0) {
      const notes =
        manifest.notes.length > 0 ? `; ${manifest.notes.join('; ')}` : '';
      result.set(environment, {
        error: `no Application of ${file} deploys ${environment}${notes}`,
      });
    } else if (applications.length > 1) {
      result.set(environment, {
        error: `Applications ${listed(
          applications.map(application => quoted(application.name)),
        )} of ${file} ${
          applications.length === 2 ? 'both' : 'all'
        } deploy ${environment}; only one may`,
      });
    } else {
      try {
        result.set(environment, reader.read(applications[0], environment));
      } catch (error) {
        if (!(error instanceof EnvironmentError)) throw error;
        result.set(environment, { error: error.message });
      }
    }
  }
  return result;
}
