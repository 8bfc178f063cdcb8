import { parse, stringify } from 'yaml';
import { resolveEnvironment, ResolvedEnvironment, ResolutionError } from '.';
import { memorySnapshot } from '../testing/memorySnapshot';
import { editSetImage, parseSetImage } from './setImages';
import {
  imageSet,
  imagesOf,
  kustomizeBuild,
  Rendered,
} from './__fixtures__/kustomizeJudge';

const digest = `sha256:${'ab'.repeat(32)}`;

const deployment = (name: string, images: string[]) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  template:
    spec:
      containers:
${images
  .map((image, i) => `        - name: c${i}\n          image: ${image}`)
  .join('\n')}
`;

/** A base whose own kustomization sets an image, and an overlay Argo CD would edit. */
const repository = {
  'base/kustomization.yaml': `resources: [deployment.yaml]
images:
  - name: ghcr.io/acme/worker
    newTag: "0.9"
`,
  'base/deployment.yaml': deployment('shop', [
    'nginx:1.25',
    'ghcr.io/acme/app:1.0',
    'ghcr.io/acme/worker',
    'api:3',
    `redis@${digest}`,
    'localhost:5000/tools/cli:1',
  ]),
  'prod/kustomization.yaml': `resources: [../base]
images:
  - name: web
    newTag: "7"
  - name: nginx
    newName: ghcr.io/acme/nginx
    tagSuffix: -alpine
imageTags:
  - name: redis
    newTag: "7.2"
`,
};

const OVERLAY = 'prod/kustomization.yaml';

/** What Argo CD would set, one list per case: replacing, adding, keeping with `*`, chaining. */
const CASES: Array<[string, string[]]> = [
  ['a new tag', ['ghcr.io/acme/app:1.4.2']],
  ['a new name and tag', ['nginx=registry.acme.example/nginx:1.27']],
  ['a digest', [`ghcr.io/acme/app@${digest}`]],
  ['a tag and a digest', [`ghcr.io/acme/app:2.0@${digest}`]],
  ['a new name alone', ['api=ghcr.io/acme/api']],
  ['a registry with a port', ['localhost:5000/tools/cli:2']],
  ['the kept new name', ['nginx=*:1.26']],
  ['an entry of imageTags', ['redis:7.4']],
  ['a name another entry then retags', ['api=web']],
  ['an image the base already set', ['ghcr.io/acme/worker:1.0']],
  [
    'several at once, the last of a name winning',
    ['ghcr.io/acme/app:1.1', 'nginx:1.0', 'ghcr.io/acme/app:1.2'],
  ],
];

const edited = (images: string[]) =>
  editSetImage(parse(repository[OVERLAY]), images, OVERLAY);

describe('kustomize edit set image', () => {
  it('reads each form of argument as kustomize v5.5 does', () => {
    expect(
      [
        'nginx=ghcr.io/acme/nginx:1.2',
        'ghcr.io/acme/app:1.2',
        `app@${digest}`,
        `app:1.2@${digest}`,
        'app=other',
        'localhost:5000/app:1.0',
        'app=*:*',
      ].map(parseSetImage),
    ).toEqual([
      { name: 'nginx', newName: 'ghcr.io/acme/nginx', newTag: '1.2' },
      { name: 'ghcr.io/acme/app', newTag: '1.2' },
      { name: 'app', digest },
      { name: 'app', newTag: '1.2', digest },
      { name: 'app', newName: 'other' },
      { name: 'localhost:5000/app', newTag: '1.0' },
      { name: 'app', newName: '*', newTag: '*' },
    ]);
  });

  it('refuses a bare name, an empty argument and a registry port without a tag', () => {
    expect(
      ['nginx', '', 'localhost:5000/app', 'x'.repeat(2000)].map(parseSetImage),
    ).toEqual([undefined, undefined, undefined, undefined]);
    expect(() => edited(['nginx'])).toThrow(
      new ResolutionError(
        OVERLAY,
        'kustomize edit set image refuses "nginx": give name=newName:tag, name=newName@digest, name:tag or name@digest',
      ),
    );
  });

  it('replaces the entry of the same name, keeps the rest, moves imageTags in and sorts by name', () => {
    expect(edited(['nginx:1.27', 'ghcr.io/acme/app:1.4.2'])).toEqual({
      resources: ['../base'],
      images: [
        { name: 'ghcr.io/acme/app', newTag: '1.4.2' },
        { name: 'nginx', newTag: '1.27' },
        { name: 'redis', newTag: '7.2' },
        { name: 'web', newTag: '7' },
      ],
    });
  });

  it('keeps what "*" names from the entry it replaces, dropping its tagSuffix', () => {
    expect(edited(['nginx=*:1.26']).images[0]).toEqual({
      name: 'nginx',
      newName: 'ghcr.io/acme/nginx',
      newTag: '1.26',
    });
    expect(edited(['fresh=*:*@*']).images[0]).toEqual({ name: 'fresh' });
  });

  it('keeps the first entry of a name the kustomization lists twice', () => {
    const kustomization = {
      images: [
        { name: 'app', newTag: '1' },
        { name: 'app', newTag: '2' },
      ],
    };
    expect(editSetImage(kustomization, ['other:3'], OVERLAY).images).toEqual([
      { name: 'app', newTag: '1' },
      { name: 'other', newTag: '3' },
    ]);
  });

  it('leaves the kustomization as it is when no image is set', () => {
    const kustomization = parse(repository[OVERLAY]);
    expect(editSetImage(kustomization, [], OVERLAY)).toBe(kustomization);
  });

  describe('judged by kubectl kustomize on the edited kustomization', () => {
    let rendered: Map<string, Rendered>;
    let unedited: ResolvedEnvironment;
    beforeAll(async () => {
      unedited = await resolveEnvironment(memorySnapshot(repository), 'prod');
      [rendered] = await kustomizeBuild([
        {
          files: Object.fromEntries(
            CASES.map(([name, images]) => [
              `${name}/${OVERLAY}`,
              stringify(edited(images)),
            ]).concat(
              Object.entries(repository)
                .filter(([file]) => file !== OVERLAY)
                .flatMap(([file, text]) =>
                  CASES.map(([name]) => [`${name}/${file}`, text]),
                ),
            ),
          ),
          environments: CASES.map(([name]) => `${name}/prod`),
        },
      ]);
    }, 120_000);

    it.each(CASES)(
      'resolves %s to the images kustomize renders',
      async (name, images) => {
        const resolved = await resolveEnvironment(
          memorySnapshot(repository),
          'prod',
          { kustomizeImages: images },
        );
        const built = rendered.get(`${name}/prod`)!;
        if ('error' in built) throw new Error(built.error);
        expect(imageSet(resolved.images)).toEqual(
          imageSet(imagesOf(built.objects)),
        );
        // Every case changes an image: the edit is applied, not skipped.
        expect(imageSet(resolved.images)).not.toEqual(
          imageSet(unedited.images),
        );
      },
    );
  });

  it('changes only the top kustomization, not a base it refers to', async () => {
    const resolved = await resolveEnvironment(
      memorySnapshot(repository),
      'prod',
      { kustomizeImages: ['ghcr.io/acme/worker:1.0'] },
    );
    // The base's own entry sets 0.9 first; the overlay's new entry then sets 1.0 over it.
    expect(resolved.images).toContainEqual({
      name: 'ghcr.io/acme/worker',
      tag: '1.0',
      digest: null,
    });
    const unedited = await resolveEnvironment(
      memorySnapshot(repository),
      'base',
      { kustomizeImages: [] },
    );
    expect(unedited.images).toContainEqual({
      name: 'ghcr.io/acme/worker',
      tag: '0.9',
      digest: null,
    });
  });

  it('fails the environment on an image kustomize would refuse', async () => {
    await expect(
      resolveEnvironment(memorySnapshot(repository), 'prod', {
        kustomizeImages: ['nginx'],
      }),
    ).rejects.toThrow(
      /prod\/kustomization.yaml: kustomize edit set image refuses "nginx"/,
    );
  });
});
