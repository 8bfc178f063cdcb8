import { Entity } from '@backstage/catalog-model';
import { entityPathRules, isReadable } from './pathRules';

const named = (name: string, owner?: string): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name },
  spec: owner ? { owner } : {},
});

describe('entityPathRules', () => {
  const rules = ['{entity.metadata.name}/**', 'teams/{entity.spec.owner}/**'];

  it("lets an entity read its own paths and its owner's, nothing else", () => {
    const readable = entityPathRules(rules, named('payment', 'group:shop'));
    expect(
      isReadable(readable, 'payment/overlays/dev/kustomization.yaml'),
    ).toBe(true);
    expect(isReadable(readable, 'teams/shop/values.yaml')).toBe(true);
    expect(isReadable(readable, 'billing/overlays/dev/x.yaml')).toBe(false);
    expect(isReadable(readable, 'teams/billing/values.yaml')).toBe(false);
  });

  it.each(['.github', '..', '.', 'a/b', '*', 'pay*'])(
    'gives a value %j no path: it is not a name a path may be built from',
    name => {
      const readable = entityPathRules(rules, named(name, name));
      for (const file of [
        '.github/workflows/release.yml',
        'payment/x.yaml',
        'teams/shop/x.yaml',
        'x.yaml',
      ]) {
        expect(isReadable(readable, file)).toBe(false);
      }
    },
  );

  it('lets a rule fill in for Components of the default namespace only, unless it names the namespace', () => {
    const shop = (kind: string, namespace?: string): Entity => ({
      apiVersion: 'backstage.io/v1alpha1',
      kind,
      metadata: { name: 'shop', ...(namespace ? { namespace } : {}) },
      spec: { owner: 'group:shop' },
    });
    const file = 'shop/overlays/dev/kustomization.yaml';
    expect(isReadable(entityPathRules(rules, shop('Component')), file)).toBe(
      true,
    );
    expect(
      isReadable(entityPathRules(rules, shop('Component', 'default')), file),
    ).toBe(true);
    // Another team's Resource or Component named like the service reads none of its files.
    for (const other of [
      shop('Resource'),
      shop('System'),
      shop('Component', 'team-b'),
    ]) {
      const readable = entityPathRules(rules, other);
      expect(isReadable(readable, file)).toBe(false);
      expect(isReadable(readable, 'teams/shop/values.yaml')).toBe(false);
    }
    expect(entityPathRules(rules, shop('Resource')).description).toBe(
      '{entity.metadata.name}/**, teams/{entity.spec.owner}/**, for Component entities only',
    );
    // A rule naming the namespace serves every namespace, each its own directory.
    const namespaced = [
      '{entity.metadata.namespace}/{entity.metadata.name}/**',
    ];
    expect(
      isReadable(
        entityPathRules(namespaced, shop('Component', 'team-b')),
        'team-b/shop/overlays/dev/kustomization.yaml',
      ),
    ).toBe(true);
    expect(
      isReadable(
        entityPathRules(namespaced, shop('Component', 'team-b')),
        'default/shop/overlays/dev/kustomization.yaml',
      ),
    ).toBe(false);
  });

  it("gives a Component named after one of the rules' own directories none of that directory", () => {
    const layout = [
      '{entity.metadata.name}/**',
      'charts/{entity.metadata.name}/**',
      'argocd/{entity.metadata.name}-applicationset.yaml',
      'teams/{entity.spec.owner}/**',
    ];
    for (const name of ['charts', 'argocd', 'Teams']) {
      const readable = entityPathRules(layout, named(name, 'group:shop'));
      for (const file of [
        'charts/payment/values-prod.yaml',
        'argocd/payment-applicationset.yaml',
        'teams/billing/values.yaml',
      ]) {
        expect(isReadable(readable, file)).toBe(false);
      }
      // Its own chart, ApplicationSet and team stay its own.
      expect(isReadable(readable, `charts/${name}/values-prod.yaml`)).toBe(
        true,
      );
      expect(isReadable(readable, 'teams/shop/values.yaml')).toBe(true);
    }
    // An owner named like a directory reads only its own team's.
    const owner = entityPathRules(layout, named('payment', 'group:charts'));
    expect(isReadable(owner, 'teams/charts/values.yaml')).toBe(true);
    expect(isReadable(owner, 'payment/overlays/dev/kustomization.yaml')).toBe(
      true,
    );
  });
});
