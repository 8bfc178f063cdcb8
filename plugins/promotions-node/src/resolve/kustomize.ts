import { RepositorySnapshot } from '../repository/types';
import { ResolveBudget } from './budget';
import { generate } from './generators';
import { checkKustomization, NOT_READ } from './kustomization';
import { fileIn, inside, isRemote } from './paths';
import { isDirectory } from './probes';
import { applyJson6902Patches, applyPatches } from './patches';
import { applyReplacements } from './replacements';
import {
  accumulate,
  BuildContext,
  checkUnique,
  isObject,
  loadResources,
  readDocuments,
  Resource,
} from './resources';
import { editSetImage } from './setImages';
import { setImages, setReplicas, transformMetadata } from './transformers';
import { ResolutionError } from './types';

export type { Resource } from './resources';

const KUSTOMIZATION_FILES = [
  'kustomization.yaml',
  'kustomization.yml',
  'Kustomization',
];
const MAX_DEPTH = 20;
/** Kustomizations one environment may visit, counting repeats: stops a diamond of references. */
const MAX_KUSTOMIZATIONS = 500;

function kustomizationFile(
  snapshot: RepositorySnapshot,
  dir: string,
): string | undefined {
  return KUSTOMIZATION_FILES.map(name => (dir ? `${dir}/${name}` : name)).find(
    f => snapshot.files.has(f),
  );
}

async function readKustomization(
  ctx: BuildContext,
  file: string,
): Promise<Record<string, any>> {
  const documents = await readDocuments(ctx, file);
  if (documents.length > 1) {
    throw new ResolutionError(
      file,
      'a kustomization must be one YAML document',
    );
  }
  const kustomization = documents[0] ?? {};
  if (!isObject(kustomization))
    throw new ResolutionError(file, 'a kustomization must be a YAML mapping');
  checkKustomization(kustomization, file);
  return kustomization;
}

interface Visit {
  dir: string;
  /** The kustomizations that led here, outermost first, to report cycles. */
  stack: string[];
  /** The file that referred to this directory, blamed when it holds no kustomization. */
  referrer: string;
  /** Resources accumulated so far, when this directory is used as a component. */
  accumulated?: Resource[];
  /** Images set with `kustomize edit set image` in this directory before building. */
  editImages?: string[];
}

/**
 * Builds one kustomization by kustomize's order: resources, components, generators, patches,
 * then namespace, name prefix and suffix, labels and annotations, `patchesJson6902`, replicas,
 * images, and replacements last.
 */
async function build(
  ctx: BuildContext,
  { dir, stack, referrer, accumulated, editImages = [] }: Visit,
): Promise<Resource[]> {
  const file = kustomizationFile(ctx.snapshot, dir);
  if (!file) {
    throw new ResolutionError(
      referrer,
      `no kustomization.yaml, kustomization.yml or Kustomization in "${
        dir || '.'
      }"`,
    );
  }
  if (stack.includes(dir)) {
    throw new ResolutionError(
      file,
      `kustomizations refer to each other in a cycle: ${[...stack, dir].join(
        ' -> ',
      )}`,
    );
  }
  if (stack.length >= MAX_DEPTH) {
    throw new ResolutionError(
      file,
      `kustomizations are nested more than ${MAX_DEPTH} deep`,
    );
  }
  ctx.budget.time(file);
  if (++ctx.kustomizations > MAX_KUSTOMIZATIONS) {
    throw new ResolutionError(
      file,
      `the environment refers to more than ${MAX_KUSTOMIZATIONS} kustomizations`,
    );
  }
  const kustomization = editSetImage(
    await readKustomization(ctx, file),
    editImages,
    file,
  );
  const isComponent = kustomization.kind === 'Component';
  if (accumulated && !isComponent) {
    throw new ResolutionError(
      referrer,
      `"${dir || '.'}" is used as a component but is not kind: Component`,
    );
  }
  if (!accumulated && isComponent) {
    throw new ResolutionError(
      referrer,
      `"${dir || '.'}" is a Component; list it under components`,
    );
  }
  for (const field of NOT_READ) {
    const value = kustomization[field];
    if (value !== undefined && value !== null)
      ctx.warnings.push(`${file}: not read: ${field}`);
  }
  const inner = [...stack, dir];

  let resources = accumulated ? [...accumulated] : [];
  // The deprecated `bases` are resources, read after the others.
  const references: string[] = [
    ...(kustomization.resources ?? []),
    ...(kustomization.bases ?? []),
  ];
  for (const reference of references) {
    if (isRemote(reference)) {
      ctx.warnings.push(`${file}: not read: remote resource "${reference}"`);
      continue;
    }
    const target = inside(dir, reference, file);
    if (ctx.snapshot.files.has(target)) {
      const path = fileIn(dir, reference, file);
      resources = accumulate(resources, await loadResources(ctx, path), path);
    } else if (isDirectory(ctx.snapshot, target)) {
      const built = await build(ctx, {
        dir: target,
        stack: inner,
        referrer: file,
      });
      resources = accumulate(resources, built, file);
    } else throw new ResolutionError(file, `resource "${reference}" not found`);
  }
  for (const reference of kustomization.components ?? []) {
    if (isRemote(reference)) {
      ctx.warnings.push(`${file}: not read: remote component "${reference}"`);
      continue;
    }
    const target = inside(dir, reference, file);
    resources = await build(ctx, {
      dir: target,
      stack: inner,
      referrer: file,
      accumulated: resources,
    });
  }

  resources = await generate(ctx, dir, file, kustomization, resources);
  resources = await applyPatches(ctx, dir, file, kustomization, resources);
  resources = transformMetadata(kustomization, resources, file);
  if (kustomization.namespace)
    checkUnique(resources, file, 'is there twice once namespace is set');
  resources = await applyJson6902Patches(
    ctx,
    dir,
    file,
    kustomization,
    resources,
  );
  resources = setReplicas(kustomization, resources, file);
  resources = setImages(kustomization, resources, file);
  return applyReplacements(ctx, dir, file, kustomization, resources);
}

/**
 * Builds the kustomization in `dir`, after setting `editImages` in it as `kustomize edit set
 * image` would, and returns what it renders, the files read and warnings.
 */
export async function buildKustomization(
  snapshot: RepositorySnapshot,
  dir: string,
  budget: ResolveBudget = new ResolveBudget(),
  editImages: string[] = [],
) {
  const ctx: BuildContext = {
    snapshot,
    inputs: new Set(),
    warnings: [],
    parsed: new Map(),
    kustomizations: 0,
    budget,
  };
  const root = inside('', dir, dir);
  const resources = await build(ctx, {
    dir: root,
    stack: [],
    referrer: dir || '.',
    editImages,
  });
  return { resources, inputs: [...ctx.inputs].sort(), warnings: ctx.warnings };
}
