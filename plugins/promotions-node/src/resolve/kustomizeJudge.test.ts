import path from 'node:path';
import { resolveEnvironment, ResolvedEnvironment, ResolutionError } from '.';
import { buildKustomization } from './kustomize';
import { memorySnapshot } from '../testing/memorySnapshot';
import { KUSTOMIZE_CASES, KustomizeCase } from './__fixtures__/kustomizeCases';
import {
  comparableOf,
  containerImages,
  differences,
  imageSet,
  imagesOf,
  kustomizeBuild,
  leavesOf,
  placesOf,
  Rendered,
  WORKLOAD_KINDS,
} from './__fixtures__/kustomizeJudge';
import {
  exampleRepositoryTrees,
  kustomizeEnvironments,
  shopRepositoryFiles,
} from '@internal/promotions-fixtures';

/**
 * kustomize is the judge: every environment resolves to the images kustomize renders, and to
 * the same configuration once namespace, name prefix and suffix and images are taken out of
 * both; every pair of environments differs in the same keys, with the same values.
 */

const repository = (name: string, files: Record<string, string>) => {
  const environments = kustomizeEnvironments(files);
  // Environments of one service are compared with each other: dev with prod, qa with staging-eu.
  const service = (env: string) => env.split('/')[0];
  const pairs = environments.flatMap((a, i) =>
    environments
      .slice(i + 1)
      .filter(b => service(a) === service(b))
      .map(b => [a, b] as [string, string]),
  );
  return { name, files, environments, pairs };
};

const cases: KustomizeCase[] = [
  repository('the shop fixture', shopRepositoryFiles()),
  // As the portal reads them: built by scripts/prepare-example-repo.mjs, every branch and tag.
  ...exampleRepositoryTrees(path.resolve(__dirname, '../../../..')).map(tree =>
    repository(
      `the example repository ${tree.repository} at ${tree.ref}`,
      tree.files,
    ),
  ),
  ...KUSTOMIZE_CASES,
];

type Resolved = ResolvedEnvironment | ResolutionError;
const judged = new Map<
  KustomizeCase,
  { kustomize: Map<string, Rendered>; resolver: Map<string, Resolved> }
>();

beforeAll(async () => {
  // A case of fields the resolver does not read is built without them: remote bases and
  // charts would be fetched.
  const rendered = await kustomizeBuild(
    cases.map(c => ({ ...c, files: { ...c.files, ...c.readAs } })),
  );
  await Promise.all(
    cases.map(async (c, i) => {
      const resolver = new Map<string, Resolved>();
      for (const environment of c.environments) {
        resolver.set(
          environment,
          await resolveEnvironment(memorySnapshot(c.files), environment, {
            render: true,
          }).catch(error => {
            if (error instanceof ResolutionError) return error;
            throw error;
          }),
        );
      }
      judged.set(c, { kustomize: rendered[i], resolver });
    }),
  );
}, 120_000);

const notRead = (resolved: ResolvedEnvironment) =>
  resolved.warnings.flatMap(w => /not read: (.*)$/.exec(w)?.[1] ?? []).sort();

function verdict(c: KustomizeCase, environment: string) {
  const { kustomize, resolver } = judged.get(c)!;
  return {
    rendered: kustomize.get(environment)!,
    resolved: resolver.get(environment)!,
  };
}

/** How a build ended: it rendered, it failed as the case expects, or with this message. */
function outcome(failure: string | undefined, expectedToFail: boolean) {
  if (failure === undefined) return 'renders';
  return expectedToFail ? 'fails' : failure;
}

/**
 * What the resolver answered for an environment and what kustomize says it should have: the
 * same outcome, and when both render, the same images and the same comparable configuration.
 * A field the resolver does not apply is reported, and the rest answered as kustomize renders
 * the case without it: never a failure, never a silent change.
 */
function judge(c: KustomizeCase, environment: string) {
  const { rendered, resolved } = verdict(c, environment);
  const failure =
    resolved instanceof ResolutionError ? resolved.message : undefined;
  const fails = Boolean(c.fails);
  const kustomize = 'error' in rendered ? rendered.error : undefined;
  const outcomes = {
    actual: {
      kustomize: outcome(kustomize, fails),
      resolver: outcome(failure, fails),
    },
    expected: {
      kustomize: fails ? 'fails' : 'renders',
      resolver: fails ? 'fails' : 'renders',
    },
  };
  if ('error' in rendered || resolved instanceof ResolutionError)
    return outcomes;
  return {
    actual: {
      ...outcomes.actual,
      notRead: notRead(resolved),
      images: imageSet(resolved.images),
      differences: differences(
        leavesOf(resolved.comparable),
        leavesOf(comparableOf(rendered.objects, c.files, environment)),
      ),
    },
    expected: {
      ...outcomes.expected,
      notRead: [...(c.notRead ?? [])].sort(),
      images: imageSet(imagesOf(rendered.objects)),
      differences: [],
    },
  };
}

/** Objects by kind and original name, with the names and namespaces they are deployed with. */
async function places(c: KustomizeCase, environment: string) {
  const { rendered } = verdict(c, environment);
  if ('error' in rendered) return { actual: [], expected: [] };
  const { resources } = await buildKustomization(
    memorySnapshot(c.files),
    environment,
  );
  return {
    actual: resources
      .map(
        ({ object, originalName }) =>
          `${object.kind}/${originalName} as ${object.metadata.name} in ${
            object.metadata.namespace ?? '-'
          }`,
      )
      .sort(),
    expected: placesOf(rendered.objects, c.files, environment),
  };
}

/** Each container's image in each workload, as the resolver renders it and as kustomize does. */
function workloadImages(c: KustomizeCase, environment: string) {
  const { rendered, resolved } = verdict(c, environment);
  // Where either fails, the environment's own test says whether both should have.
  if ('error' in rendered || resolved instanceof ResolutionError)
    return { actual: [], expected: [] };
  return {
    actual: containerImages(resolved.rendered as Array<Record<string, any>>),
    expected: containerImages(rendered.objects),
  };
}

/** The keys and values in which two environments differ, by the resolver and by kustomize. */
function pairDifferences(c: KustomizeCase, a: string, b: string) {
  const sides = [a, b].map(env => verdict(c, env));
  // Where kustomize fails, each environment's own test asks the resolver to fail too.
  if (sides.some(({ rendered }) => 'error' in rendered))
    return { actual: [], expected: [] };
  const [mineA, mineB] = sides.map(({ resolved }) =>
    resolved instanceof ResolutionError
      ? new Map([['failed', resolved.message]])
      : leavesOf(resolved.comparable),
  );
  const [judgeA, judgeB] = sides.map(({ rendered }, i) =>
    leavesOf(
      comparableOf(
        (rendered as { objects: Array<Record<string, any>> }).objects,
        c.files,
        [a, b][i],
      ),
    ),
  );
  return {
    actual: differences(mineA, mineB),
    expected: differences(judgeA, judgeB),
  };
}

describe('kustomize judges the resolver', () => {
  it('renders every workload kind that carries containers, with their images', () => {
    const kinds = new Set(
      [...judged.values()].flatMap(({ kustomize }) =>
        [...kustomize.values()].flatMap(rendered =>
          'error' in rendered
            ? []
            : containerImages(rendered.objects).map(line => line.split('/')[0]),
        ),
      ),
    );
    expect(WORKLOAD_KINDS.filter(kind => !kinds.has(kind))).toEqual([]);
  });

  describe.each(cases.map(c => [c.name, c] as const))('%s', (_name, c) => {
    it.each(c.environments)(
      '%s renders what kustomize renders',
      environment => {
        const { actual, expected } = judge(c, environment);
        expect(actual).toEqual(expected);
      },
    );

    it.each(c.environments)(
      '%s runs the image kustomize renders in each container of each workload',
      environment => {
        const { actual, expected } = workloadImages(c, environment);
        expect(actual).toEqual(expected);
      },
    );

    it.each(c.environments)(
      '%s names and places objects as kustomize does',
      async environment => {
        const { actual, expected } = await places(c, environment);
        expect(actual).toEqual(expected);
      },
    );

    const pairs = c.pairs ?? [];
    if (pairs.length === 0) return;
    it.each(pairs)('%s and %s differ in the same keys', (a, b) => {
      const { actual, expected } = pairDifferences(c, a, b);
      expect(actual).toEqual(expected);
    });
  });
});
