import { applyTemplatePatch } from './templatePatch';

const application = {
  metadata: {
    name: 'api',
    finalizers: ['a'],
    labels: { team: 'x', tier: 'web' },
  },
  spec: {
    project: 'shop',
    source: {
      repoURL: 'x',
      path: 'api',
      helm: { valuesObject: { replicas: 1, image: { tag: '1' } } },
    },
    syncPolicy: { syncOptions: ['CreateNamespace=true'], retry: { limit: 2 } },
  },
};

describe('applying a templatePatch as a strategic merge patch on an Application', () => {
  it('merges maps, replaces lists, deletes nulls and keeps the project', () => {
    expect(
      applyTemplatePatch(application, {
        metadata: {
          labels: { tier: null, env: 'prod' },
          finalizers: ['b', 'a'],
        },
        spec: {
          project: 'other',
          syncPolicy: {
            syncOptions: ['PruneLast=true'],
            automated: { prune: true },
          },
        },
      }),
    ).toEqual({
      metadata: {
        name: 'api',
        finalizers: ['a', 'b'],
        labels: { team: 'x', env: 'prod' },
      },
      spec: {
        project: 'shop',
        source: application.spec.source,
        syncPolicy: {
          syncOptions: ['PruneLast=true'],
          retry: { limit: 2 },
          automated: { prune: true },
        },
      },
    });
  });

  it('replaces or deletes a map with $patch', () => {
    const patched = applyTemplatePatch(application, {
      spec: {
        syncPolicy: { $patch: 'replace', automated: {} },
        source: { helm: { $patch: 'delete' } },
      },
    });
    expect(patched.spec).toEqual({
      project: 'shop',
      source: { repoURL: 'x', path: 'api' },
      syncPolicy: { automated: {} },
    });
  });

  it('leaves the Application as it is for an empty patch', () => {
    expect(applyTemplatePatch(application, null)).toBe(application);
  });

  it('sets scalars inside valuesObject, but refuses to merge its maps as Argo CD does', () => {
    const patched = applyTemplatePatch(application, {
      spec: { source: { helm: { valuesObject: { replicas: 3 } } } },
    }) as typeof application;
    expect(patched.spec.source.helm.valuesObject).toEqual({
      replicas: 3,
      image: { tag: '1' },
    });
    expect(() =>
      applyTemplatePatch(application, {
        spec: { source: { helm: { valuesObject: { image: { tag: '2' } } } } },
      }),
    ).toThrow(
      'unable to find api field in struct RawExtension for the json field "image"',
    );
  });

  it('refuses a patch that is not a map', () => {
    expect(() => applyTemplatePatch(application, ['x'])).toThrow(
      'invalid templatePatch: json: cannot unmarshal array into Go value of type v1alpha1.Application',
    );
  });
});
