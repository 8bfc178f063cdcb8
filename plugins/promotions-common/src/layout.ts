import {
  ANNOTATION_ARGOCD_MANIFEST,
  ANNOTATION_PATH,
  ANNOTATION_REF,
  ANNOTATION_REPOSITORY,
  ANNOTATION_TAG,
  ENV_PLACEHOLDER,
} from './annotations';
import {
  hasControlCharacter,
  isBranchName,
  pathTemplateProblem,
  repositoryIdProblem,
} from './paths';

/**
 * Where an entity's environments are read from, as its annotations say.
 *
 * @public
 */
export interface EntityLayout {
  /** A repository id, or a template with `{env}` naming one repository per environment. */
  repository: string;
  /** The path template; absent when an Argo CD manifest gives the paths. */
  path?: string;
  /** A branch template with `{env}`. */
  ref?: string;
  /** A tag pattern with `{env}` and `*`. */
  tag?: string;
  /** An Argo CD manifest in the repository. */
  argocdManifest?: string;
}

const annotation = (annotations: Record<string, string>, name: string) =>
  annotations[name]?.trim() || undefined;

/** A sample environment name, to check what a template gives once filled in. */
const SAMPLE_ENVIRONMENT = 'env';

/**
 * Reads an entity's layout annotations and says what is wrong with them, in one sentence naming
 * the annotation, or returns the layout. Templates are checked as written and once filled in.
 *
 * @public
 */
export function readEntityLayout(
  annotations: Record<string, string>,
): { layout: EntityLayout } | { problem: string } {
  const repository = annotation(annotations, ANNOTATION_REPOSITORY);
  const path = annotation(annotations, ANNOTATION_PATH);
  const ref = annotation(annotations, ANNOTATION_REF);
  const tag = annotation(annotations, ANNOTATION_TAG);
  const argocdManifest = annotation(annotations, ANNOTATION_ARGOCD_MANIFEST);
  const fill = (template: string) =>
    template.split(ENV_PLACEHOLDER).join(SAMPLE_ENVIRONMENT);
  const problem = (text: string) => ({ problem: text });

  if (!repository) return problem(`${ANNOTATION_REPOSITORY} is missing`);
  const repositoryProblem = repositoryIdProblem(fill(repository));
  if (repositoryProblem) {
    return problem(`${ANNOTATION_REPOSITORY}: ${repositoryProblem}`);
  }
  if (!path && !argocdManifest) {
    return problem(
      `${ANNOTATION_PATH} is missing (or name an Argo CD manifest with ${ANNOTATION_ARGOCD_MANIFEST})`,
    );
  }
  if (path && argocdManifest) {
    return problem(
      `${ANNOTATION_PATH} and ${ANNOTATION_ARGOCD_MANIFEST} are both set; the manifest gives the paths, so set only one`,
    );
  }
  if (ref && tag) {
    return problem(
      `${ANNOTATION_REF} and ${ANNOTATION_TAG} are both set; an environment is read from a branch or from a tag`,
    );
  }
  const perEnvironment = repository.includes(ENV_PLACEHOLDER) || ref || tag;
  if (argocdManifest) {
    if (perEnvironment) {
      return problem(
        `${ANNOTATION_ARGOCD_MANIFEST} gives each environment's repository and revision; it cannot be combined with ${ANNOTATION_REF}, ${ANNOTATION_TAG} or a repository template`,
      );
    }
    if (argocdManifest.includes(ENV_PLACEHOLDER)) {
      return problem(
        `${ANNOTATION_ARGOCD_MANIFEST} is one file: it has no {env}`,
      );
    }
    const manifestProblem = pathTemplateProblem(argocdManifest, {
      environmentElsewhere: true,
    });
    if (manifestProblem) {
      return problem(`${ANNOTATION_ARGOCD_MANIFEST}: ${manifestProblem}`);
    }
    return { layout: { repository, argocdManifest } };
  }
  for (const [name, value] of [
    [ANNOTATION_REF, ref],
    [ANNOTATION_TAG, tag],
  ] as const) {
    if (value && !value.includes(ENV_PLACEHOLDER)) {
      return problem(
        `${name} "${value}" has no ${ENV_PLACEHOLDER}: every environment would read the same one`,
      );
    }
  }
  if (ref && !isBranchName(fill(ref))) {
    return problem(`${ANNOTATION_REF}: "${ref}" does not give branch names`);
  }
  if (tag && !tagPatternUsable(fill(tag))) {
    return problem(
      `${ANNOTATION_TAG}: "${tag}" does not give tag names (letters, digits, ".", "_", "-", "/" and "*" for any run of characters)`,
    );
  }
  const pathProblem = pathTemplateProblem(path!, {
    environmentElsewhere: Boolean(perEnvironment),
  });
  if (pathProblem) return problem(`${ANNOTATION_PATH}: ${pathProblem}`);
  return {
    layout: {
      repository,
      path,
      ...(ref ? { ref } : {}),
      ...(tag ? { tag } : {}),
    },
  };
}

/** A tag pattern git could name tags by: a branch name, once each `*` stands for a character. */
function tagPatternUsable(pattern: string) {
  return (
    !hasControlCharacter(pattern) &&
    !pattern.includes('**') &&
    isBranchName(pattern.split('*').join('x'))
  );
}
