import { Entity } from '@backstage/catalog-model';
import { entityPathRules, isReadable, pathRuleProblem } from './pathRules';

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

  it("gives a Component named like another rule's glob none of what the glob lays out", () => {
    const layout = [
      '{entity.metadata.name}/**',
      'env-*/{entity.metadata.name}',
      'env-*/{entity.metadata.name}/**',
    ];
    const prod = entityPathRules(layout, named('env-prod'));
    for (const file of ['env-prod/payment', 'env-prod/payment/values.yaml']) {
      expect(isReadable(prod, file)).toBe(false);
    }
    // Its own files under every environment stay its own, and so do another service's.
    expect(isReadable(prod, 'env-dev/env-prod/values.yaml')).toBe(true);
    const payment = entityPathRules(layout, named('payment'));
    expect(isReadable(payment, 'payment/overlays/dev/kustomization.yaml')).toBe(
      true,
    );
    expect(isReadable(payment, 'env-prod/payment')).toBe(true);
    expect(isReadable(payment, 'env-prod/payment/values.yaml')).toBe(true);
    expect(isReadable(payment, 'env-prod/billing/values.yaml')).toBe(false);
  });

  it('gives nothing to rules that put different fields at one place, where a name could be a team or a namespace', () => {
    const owners = ['{entity.metadata.name}/**', '{entity.spec.owner}/**'];
    // A service named after a team would read the team's files, and a team named after a service the service's.
    const shop = entityPathRules(owners, named('shop', 'group:payment'));
    expect(isReadable(shop, 'shop/values.yaml')).toBe(false);
    expect(isReadable(shop, 'payment/overlays/dev/kustomization.yaml')).toBe(
      false,
    );
    const namespaces = [
      '{entity.metadata.name}/**',
      '{entity.metadata.namespace}/{entity.metadata.name}/**',
    ];
    const teamB = entityPathRules(namespaces, named('team-b'));
    expect(isReadable(teamB, 'team-b/shop/overlays/dev/x.yaml')).toBe(false);
    const inTeamB = entityPathRules(namespaces, {
      ...named('shop'),
      metadata: { name: 'shop', namespace: 'team-b' },
    });
    expect(isReadable(inTeamB, 'team-b/shop/overlays/dev/x.yaml')).toBe(false);
    // Under different directories, the same fields stay apart.
    const apart = [
      'services/{entity.metadata.name}/**',
      'teams/{entity.spec.owner}/**',
      '{entity.metadata.namespace}/{entity.metadata.name}/**',
    ];
    const payment = entityPathRules(apart, named('payment', 'group:shop'));
    expect(isReadable(payment, 'services/payment/x.yaml')).toBe(true);
    expect(isReadable(payment, 'teams/shop/x.yaml')).toBe(true);
    expect(isReadable(payment, 'default/payment/x.yaml')).toBe(true);
    // ...though a namespace named like one of those directories stands for none of it.
    const teams = entityPathRules(apart, {
      ...named('shop'),
      metadata: { name: 'shop', namespace: 'teams' },
    });
    expect(isReadable(teams, 'teams/shop/x.yaml')).toBe(false);
  });

  it('lets a rule with a glob beside a field, refused at configuration, allow nothing', () => {
    for (const rule of [
      '{entity.metadata.name}-*/**',
      '{entity.metadata.name}*/**',
      '**/{entity.metadata.name}/**',
    ]) {
      const readable = entityPathRules([rule], named('a'));
      for (const file of ['a-b/values.yaml', 'ab/values.yaml', 'b/a/x.yaml']) {
        expect(isReadable(readable, file)).toBe(false);
      }
    }
  });
});

describe('pathRuleProblem', () => {
  it.each([
    '{entity.metadata.name}/**',
    'charts/{entity.metadata.name}/**',
    'argocd/{entity.metadata.name}-applicationset.yaml',
    'env-*/{entity.metadata.name}/**',
    'teams/{entity.spec.owner}/**',
    '{entity.metadata.namespace}/{entity.metadata.name}/**',
    'shared/**',
  ])('accepts %j', rule => {
    expect(pathRuleProblem(rule)).toBeUndefined();
  });

  it.each([
    [
      '{entity.metadata.name}-*/**',
      '"{entity.metadata.name}-*/**" mixes {entity.metadata.name} and a glob in the segment "{entity.metadata.name}-*", so one entity would also match the files of others (the entity "a" those of "a-b"): give the field fixed text only, such as "{entity.metadata.name}/**" or "{entity.metadata.name}-applicationset.yaml"',
    ],
    [
      'charts/{entity.metadata.name}*',
      '"charts/{entity.metadata.name}*" mixes {entity.metadata.name} and a glob in the segment "{entity.metadata.name}*", so one entity would also match the files of others (the entity "a" those of "a-b"): give the field fixed text only, such as "{entity.metadata.name}/**" or "{entity.metadata.name}-applicationset.yaml"',
    ],
    [
      'teams/{entity.spec.owner}?/**',
      '"teams/{entity.spec.owner}?/**" mixes {entity.spec.owner} and a glob in the segment "{entity.spec.owner}?", so one entity would also match the files of others (the entity "a" those of "a-b"): give the field fixed text only, such as "{entity.spec.owner}/**" or "{entity.spec.owner}-applicationset.yaml"',
    ],
    [
      '**/{entity.metadata.name}/values.yaml',
      '"**/{entity.metadata.name}/values.yaml" puts {entity.metadata.name} after "**", where it could stand at any depth, also inside another entity\'s directory: give the field a fixed place, such as "{entity.metadata.name}/**"',
    ],
    [
      '{entity.metadata.namespace}-{entity.metadata.name}/**',
      '"{entity.metadata.namespace}-{entity.metadata.name}/**" puts {entity.metadata.namespace} and {entity.metadata.name} in the one segment "{entity.metadata.namespace}-{entity.metadata.name}", so different values could spell the same name ("a" and "b-c", "a-b" and "c"): give each field a segment of its own',
    ],
  ])('refuses %j, naming the rule', (rule, problem) => {
    expect(pathRuleProblem(rule)).toBe(problem);
  });
});
