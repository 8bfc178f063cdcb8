/** The layouts the template writes a new service in. */
export type ServiceLayoutKind = 'kustomize' | 'helm';

/**
 * Where a new service's files go: the one place `promotions:plan-environments` lays them out and
 * `promotions:publish-git` checks them against.
 */
export interface ServiceLayout {
  serviceDirectory: string;
  /** The `gitops-promotions/path` annotation: each environment's directory or values file. */
  pathTemplate: string;
  /** The only files the layout may write, as globs (`**` any depth, `*` one segment). */
  ownedPaths: string[];
}

/**
 * The layout of a service whose name and environments are DNS-1123 labels: its base or chart,
 * one directory or values file per environment, its catalog file and its Argo CD manifest.
 */
export function serviceLayout(
  service: string,
  layout: ServiceLayoutKind,
  environments: string[],
): ServiceLayout {
  const serviceDirectory = layout === 'helm' ? `charts/${service}` : service;
  const own =
    layout === 'helm'
      ? [
          `${serviceDirectory}/Chart.yaml`,
          `${serviceDirectory}/values.yaml`,
          `${serviceDirectory}/templates/**`,
          ...environments.map(env => `${serviceDirectory}/values-${env}.yaml`),
        ]
      : [
          `${serviceDirectory}/base/**`,
          ...environments.map(env => `${serviceDirectory}/overlays/${env}/**`),
        ];
  return {
    serviceDirectory,
    pathTemplate:
      layout === 'helm'
        ? `${serviceDirectory}/values-{env}.yaml`
        : `${serviceDirectory}/overlays/{env}`,
    ownedPaths: [
      ...own,
      `${serviceDirectory}/catalog-info.yaml`,
      `argocd/${service}-applicationset.yaml`,
    ],
  };
}

/** Whether a repository-relative file is one of the layout's own. */
export function isOwnedPath(layout: ServiceLayout, file: string): boolean {
  return layout.ownedPaths.some(glob =>
    glob.endsWith('/**')
      ? file.startsWith(glob.slice(0, -2)) && file.length > glob.length - 2
      : file === glob,
  );
}

/**
 * Why a path given to an action may not name a place in the repository, or undefined: it must
 * be relative, without `.`/`..` or hidden segments (`.github`), percent-encoding, backslashes,
 * empty segments or control characters.
 */
export function repositoryPathProblem(
  what: string,
  value: string,
): string | undefined {
  const segments = value.split('/');
  if (
    !value ||
    segments.some(s => !/^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(s)) ||
    value.length > 255
  ) {
    return `${what} ${JSON.stringify(
      value,
    )} must be a relative path of letters, digits, "_", "." and "-", with no segment that is empty or starts with "."`;
  }
  return undefined;
}
