import { resolveEnvironment, ResolutionError } from '.';
import { memorySnapshot } from '../testing/memorySnapshot';

const deployment =
  'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: payment }\nspec:\n  template:\n    spec:\n      containers: [{ name: payment, image: "ghcr.io/acme/payment:1.0.0" }]\n';
const base = {
  'payment/base/deployment.yaml': deployment,
  'payment/base/kustomization.yaml': 'resources: [deployment.yaml]\n',
};
const overlay = (kustomization: string) => ({
  ...base,
  'payment/overlays/dev/kustomization.yaml': kustomization,
});

/** A chain of kustomizations `d0 -> d1 -> ... -> d<n>`. */
function chain(length: number): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < length; i++)
    files[`d${i}/kustomization.yaml`] = `resources: [../d${i + 1}]\n`;
  files[`d${length}/kustomization.yaml`] = 'resources: []\n';
  return files;
}

/** Two kustomizations per level, each referring to both of the next level: 2^levels builds. */
function diamond(levels: number): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < levels; i++) {
    for (const side of ['a', 'b'])
      files[`l${i}/${side}/kustomization.yaml`] = `resources: [../../l${
        i + 1
      }/a, ../../l${i + 1}/b]\n`;
  }
  for (const side of ['a', 'b'])
    files[`l${levels}/${side}/kustomization.yaml`] = 'resources: []\n';
  return files;
}

const manyObjects = Array.from(
  { length: 5001 },
  (_, i) => `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c${i} }\n`,
).join('---\n');

const cases: Array<[string, Record<string, string>, string, string, string]> = [
  [
    'a missing overlay',
    base,
    'payment/overlays/qa',
    'payment/overlays/qa',
    'no kustomization.yaml, kustomization.yml or Kustomization in "payment/overlays/qa"',
  ],
  [
    'a resource directory without a kustomization',
    {
      ...overlay('resources: [../../base, ../../extra]\n'),
      'payment/extra/configmap.yaml': 'kind: ConfigMap\n',
    },
    'payment/overlays/dev',
    'payment/overlays/dev/kustomization.yaml',
    'no kustomization.yaml, kustomization.yml or Kustomization in "payment/extra"',
  ],
  [
    'a missing resource',
    overlay('resources: [../../base, ingress.yaml]\n'),
    'payment/overlays/dev',
    'payment/overlays/dev/kustomization.yaml',
    'resource "ingress.yaml" not found',
  ],
  [
    'a missing patch file',
    overlay('resources: [../../base]\npatches: [{ path: version.yml }]\n'),
    'payment/overlays/dev',
    'payment/overlays/dev/kustomization.yaml',
    'patch "version.yml" not found',
  ],
  [
    'a missing values file',
    {},
    'charts/x/values-dev.yaml',
    'charts/x/values-dev.yaml',
    'values file not found',
  ],
  [
    'malformed YAML',
    { 'svc/kustomization.yaml': 'resources:\n  - a\n b: [\n' },
    'svc',
    'svc/kustomization.yaml',
    'invalid YAML at line 3',
  ],
  [
    'malformed values',
    { 'chart/values-dev.yaml': 'image:\n  tag: "1\n' },
    'chart/values-dev.yaml',
    'chart/values-dev.yaml',
    'invalid YAML at line',
  ],
  [
    'a resource outside the repository',
    { 'svc/kustomization.yaml': 'resources: [../../etc/passwd]\n' },
    'svc',
    'svc/kustomization.yaml',
    '"../../etc/passwd" is outside the repository',
  ],
  [
    'an absolute resource path',
    { 'svc/kustomization.yaml': 'resources: [/etc/passwd]\n' },
    'svc',
    'svc/kustomization.yaml',
    '"/etc/passwd" is an absolute path; it must be relative',
  ],
  [
    'a patch outside the repository',
    overlay(
      'resources: [../../base]\npatchesStrategicMerge: [../../../../secret.yaml]\n',
    ),
    'payment/overlays/dev',
    'payment/overlays/dev/kustomization.yaml',
    'is outside the repository',
  ],
  [
    'an environment path outside the repository',
    base,
    '../payment/base',
    '../payment/base',
    'is outside the repository',
  ],
  [
    'a values path outside the repository',
    {},
    '../values.yaml',
    '../values.yaml',
    'is outside the repository',
  ],
  [
    'a cycle',
    {
      'a/kustomization.yaml': 'resources: [../b]\n',
      'b/kustomization.yaml': 'resources: [../a]\n',
    },
    'a',
    'a/kustomization.yaml',
    'kustomizations refer to each other in a cycle: a -> b -> a',
  ],
  [
    'a kustomization that includes itself',
    { 'a/kustomization.yaml': 'resources: [.]\n' },
    'a',
    'a/kustomization.yaml',
    'cycle: a -> a',
  ],
  [
    'kustomizations nested too deep',
    chain(25),
    'd0',
    'd20/kustomization.yaml',
    'kustomizations are nested more than 20 deep',
  ],
  [
    'a diamond of kustomizations',
    diamond(16),
    'l0/a',
    'l16/b/kustomization.yaml',
    'the environment refers to more than 500 kustomizations',
  ],
  [
    'too many objects',
    {
      'svc/kustomization.yaml': 'resources: [all.yaml]\n',
      'svc/all.yaml': manyObjects,
    },
    'svc',
    'svc/all.yaml',
    'the environment renders more than 5000 objects',
  ],
  [
    'an alias bomb',
    {
      'svc/kustomization.yaml': `a: &a [x, x, x, x, x, x, x, x, x, x]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
e: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
`,
    },
    'svc',
    'svc/kustomization.yaml',
    'YAML rejected: Excessive alias count',
  ],
  [
    'an oversized file',
    {
      'svc/kustomization.yaml': `resources: []\n#${'x'.repeat(1024 * 1024)}\n`,
    },
    'svc',
    'svc/kustomization.yaml',
    'more than the 1048576 allowed',
  ],
  [
    'an unknown JSON patch operation',
    overlay(
      'resources: [../../base]\npatches:\n  - target: { kind: Deployment }\n    patch: \'[{"op": "frobnicate", "path": "/spec"}]\'\n',
    ),
    'payment/overlays/dev',
    'payment/overlays/dev/kustomization.yaml',
    'JSON patch on Deployment/payment failed: unknown JSON patch operation "frobnicate"',
  ],
  [
    'a JSON patch whose path does not exist',
    {
      ...overlay(
        'resources: [../../base]\npatchesJson6902: [{ target: { kind: Deployment, name: payment }, path: patch.yaml }]\n',
      ),
      'payment/overlays/dev/patch.yaml':
        '- { op: replace, path: /spec/strategy/type, value: Recreate }\n',
    },
    'payment/overlays/dev',
    'payment/overlays/dev/patch.yaml',
    'JSON patch on Deployment/payment failed: path "/spec/strategy/type" does not exist',
  ],
  [
    'a JSON patch without a target',
    overlay(
      'resources: [../../base]\npatches: [{ patch: \'[{"op": "remove", "path": "/spec"}]\' }]\n',
    ),
    'payment/overlays/dev',
    'payment/overlays/dev/kustomization.yaml',
    'a JSON 6902 patch needs a target',
  ],
  [
    'a strategic merge patch without a name',
    overlay(
      'resources: [../../base]\npatches: [{ patch: "kind: Deployment\\nspec: { replicas: 2 }" }]\n',
    ),
    'payment/overlays/dev',
    'payment/overlays/dev/kustomization.yaml',
    'the patch is neither a strategic merge patch (objects with kind and metadata.name) nor a JSON patch',
  ],
  [
    'an invalid target name pattern',
    overlay(
      'resources: [../../base]\npatches: [{ target: { name: "pay(" }, patch: \'[{"op": "remove", "path": "/spec"}]\' }]\n',
    ),
    'payment/overlays/dev',
    'payment/overlays/dev/kustomization.yaml',
    'patch target name "pay(" is not a valid regular expression',
  ],
  [
    'a kustomization used as a component',
    overlay('resources: [../../base]\ncomponents: [../../base]\n'),
    'payment/overlays/dev',
    'payment/overlays/dev/kustomization.yaml',
    '"payment/base" is used as a component but is not kind: Component',
  ],
  [
    'a document that is not a Kubernetes object',
    {
      'svc/kustomization.yaml': 'resources: [x.yaml]\n',
      'svc/x.yaml': 'just: data\n',
    },
    'svc',
    'svc/x.yaml',
    'every document must be a Kubernetes object with kind and metadata.name',
  ],
  [
    'a kustomization that is not a mapping',
    { 'svc/kustomization.yaml': '- resources\n' },
    'svc',
    'svc/kustomization.yaml',
    'a kustomization must be a YAML mapping',
  ],
  [
    'a merge generator with nothing to merge into',
    {
      'svc/kustomization.yaml':
        'configMapGenerator: [{ name: cfg, behavior: merge, literals: [A=1] }]\n',
    },
    'svc',
    'svc/kustomization.yaml',
    'configMapGenerator "cfg" has behavior merge but no ConfigMap of that name exists',
  ],
  [
    'a strategic merge patch that names no resource',
    {
      ...overlay(
        'resources: [../../base]\npatchesStrategicMerge: [version.yml]\n',
      ),
      'payment/overlays/dev/version.yml':
        'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: billing }\nspec: { replicas: 2 }\n',
    },
    'payment/overlays/dev',
    'payment/overlays/dev/version.yml',
    'no resource matches the strategic merge patch of Deployment "billing" (apps/v1)',
  ],
  [
    'a values file that is not a mapping',
    { 'c/values-dev.yaml': '- a\n' },
    'c/values-dev.yaml',
    'c/values-dev.yaml',
    'a values file must be a YAML mapping',
  ],
];

describe('hostile input: files the resolver refuses with a clear error naming the file', () => {
  it.each(cases)('%s', async (_name, files, path, file, message) => {
    const error = await resolveEnvironment(memorySnapshot(files), path).catch(
      e => e,
    );
    expect(error).toBeInstanceOf(ResolutionError);
    expect(error.file).toBe(file);
    expect(error.message).toContain(`${file}: `);
    expect(error.message).toContain(message);
  });
});
