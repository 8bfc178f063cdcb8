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
});
