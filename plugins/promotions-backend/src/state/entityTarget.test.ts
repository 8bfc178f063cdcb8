import { ConfigReader } from '@backstage/config';
import { readPromotionsConfig } from '@gitops-promotions/plugin-promotions-node';
import { component } from '../__testUtils__';
import { readEntityTarget, writableSpec } from './entityTarget';

const config = readPromotionsConfig(
  new ConfigReader({
    promotions: {
      repositories: ['gitops', 'environment-dev', 'environment-staging'].map(
        id => ({
          id,
          provider: 'git',
          url: `/srv/${id}`,
          paths: ['{entity.metadata.name}/**'],
        }),
      ),
    },
  }),
);

const target = (annotations: Record<string, string>) =>
  readEntityTarget(
    component('shop', {
      'gitops-promotions/repository': 'gitops',
      ...annotations,
    }),
    config,
  );

describe('readEntityTarget', () => {
  it('gives each environment its repository, branch or tag, and the workflow only the ones it writes', () => {
    const byDirectory = target({ 'gitops-promotions/path': 'shop/{env}' });
    expect(writableSpec(byDirectory, 'prod')).toMatchObject({
      path: 'shop/prod',
      read: { kind: 'default' },
    });
    const byBranch = target({
      'gitops-promotions/path': 'shop/deploy',
      'gitops-promotions/ref': 'env/{env}',
    });
    expect(byBranch.specs!.map(s => s.read)).toEqual([
      { kind: 'branch', name: 'env/dev' },
      { kind: 'branch', name: 'env/staging' },
      { kind: 'branch', name: 'env/prod' },
    ]);
    expect(writableSpec(byBranch, 'staging')).toMatchObject({
      path: 'shop/deploy',
      read: { kind: 'branch', name: 'env/staging' },
    });
    const byTag = target({
      'gitops-promotions/path': 'shop/deploy',
      'gitops-promotions/tag': 'v*-{env}',
    });
    expect(() => writableSpec(byTag, 'staging')).toThrow(
      'component:default/shop: promoting from the portal is not supported here: staging is read from tags matching v*-staging: a new tag promotes it, and the portal does not make or move tags',
    );
    const byManifest = target({
      'gitops-promotions/argocd-manifest': 'shop/argocd.yaml',
    });
    expect(byManifest.specs).toBeUndefined();
    expect(() => writableSpec(byManifest, 'dev')).toThrow(
      /dev is not given by the Argo CD manifest shop\/argocd\.yaml/,
    );
  });

  it('names the environment whose repository a template gives that is not configured', () => {
    expect(() =>
      target({
        'gitops-promotions/repository': 'environment-{env}',
        'gitops-promotions/path': 'shop/deploy',
      }),
    ).toThrow(
      'component:default/shop: gitops-promotions/repository "environment-prod" (for prod) is not a configured repository (configured: gitops, environment-dev, environment-staging)',
    );
  });

  it('takes a Kustomize directory that is the top of what the entity may read', () => {
    const top = target({
      'gitops-promotions/path': 'shop',
      'gitops-promotions/ref': 'env/{env}',
    });
    expect(top.specs!.map(spec => spec.path)).toEqual(['shop', 'shop', 'shop']);
    // Not a way around the rules: another service's directory is still refused.
    expect(() =>
      target({
        'gitops-promotions/path': 'cart',
        'gitops-promotions/ref': 'env/{env}',
      }),
    ).toThrow(/reads cart for dev, which repository gitops does not let/);
  });

  it('refuses a manifest the entity may not read', () => {
    expect(() =>
      target({
        'gitops-promotions/argocd-manifest': 'argocd/all-services.yaml',
      }),
    ).toThrow(
      /gitops-promotions\/argocd-manifest "argocd\/all-services\.yaml" is not a file repository gitops lets this entity read/,
    );
  });
});
