import { readEntityLayout } from './layout';

const read = (annotations: Record<string, string>) =>
  readEntityLayout({
    'gitops-promotions/repository': 'gitops',
    ...annotations,
  });

describe('readEntityLayout', () => {
  it('reads a directory per environment, a branch, a tag, a repository per environment and a manifest', () => {
    expect(read({ 'gitops-promotions/path': 'shop/overlays/{env}' })).toEqual({
      layout: { repository: 'gitops', path: 'shop/overlays/{env}' },
    });
    expect(
      read({
        'gitops-promotions/path': 'shop/deploy',
        'gitops-promotions/ref': 'env/{env}',
      }),
    ).toEqual({
      layout: { repository: 'gitops', path: 'shop/deploy', ref: 'env/{env}' },
    });
    expect(
      read({
        'gitops-promotions/path': 'shop/deploy',
        'gitops-promotions/tag': 'v*-{env}',
      }),
    ).toEqual({
      layout: { repository: 'gitops', path: 'shop/deploy', tag: 'v*-{env}' },
    });
    expect(
      readEntityLayout({
        'gitops-promotions/repository': 'environment-{env}',
        'gitops-promotions/path': 'shop',
      }),
    ).toEqual({ layout: { repository: 'environment-{env}', path: 'shop' } });
    expect(
      read({ 'gitops-promotions/argocd-manifest': 'argocd/shop.yaml' }),
    ).toEqual({
      layout: { repository: 'gitops', argocdManifest: 'argocd/shop.yaml' },
    });
  });

  it.each([
    [{}, 'gitops-promotions/path is missing'],
    [{ 'gitops-promotions/path': 'shop/deploy' }, 'has no {env} placeholder'],
    [
      {
        'gitops-promotions/path': 'shop/{env}',
        'gitops-promotions/argocd-manifest': 'argocd/shop.yaml',
      },
      'both set',
    ],
    [
      {
        'gitops-promotions/path': 'shop',
        'gitops-promotions/ref': '{env}',
        'gitops-promotions/tag': '{env}',
      },
      'both set',
    ],
    [
      { 'gitops-promotions/path': 'shop', 'gitops-promotions/ref': 'prod' },
      'has no {env}',
    ],
    [
      { 'gitops-promotions/path': 'shop', 'gitops-promotions/ref': '../{env}' },
      'does not give branch names',
    ],
    [
      {
        'gitops-promotions/path': 'shop',
        'gitops-promotions/ref': '{env}\nmain',
      },
      'does not give branch names',
    ],
    [
      { 'gitops-promotions/path': 'shop', 'gitops-promotions/tag': '-{env}*' },
      'does not give tag names',
    ],
    [
      {
        'gitops-promotions/path': 'shop',
        'gitops-promotions/tag': 'v**-{env}',
      },
      'does not give tag names',
    ],
    [
      {
        'gitops-promotions/path': '../{env}',
        'gitops-promotions/ref': '{env}',
      },
      'escapes the repository',
    ],
    [
      { 'gitops-promotions/argocd-manifest': '/etc/argocd.yaml' },
      'is absolute',
    ],
    [
      { 'gitops-promotions/argocd-manifest': 'argocd/../../x.yaml' },
      'escapes the repository',
    ],
    [
      { 'gitops-promotions/argocd-manifest': 'argocd/{env}.yaml' },
      'is one file',
    ],
    [
      {
        'gitops-promotions/argocd-manifest': 'argocd/shop.yaml',
        'gitops-promotions/ref': '{env}',
      },
      'cannot be combined',
    ],
  ])('refuses %j', (annotations, problem) => {
    const result = read(annotations);
    expect(result).toEqual({ problem: expect.stringContaining(problem) });
  });

  it.each([
    [
      '%2e%2e/{env}',
      'escapes the repository with ".." written in percent-escapes',
    ],
    [
      'shop/..%2F{env}',
      'escapes the repository with ".." written in percent-escapes',
    ],
    [
      'shop/%2E.%5c{env}',
      'escapes the repository with ".." written in percent-escapes',
    ],
    [
      '%252e%252e/{env}',
      'escapes the repository with ".." written in percent-escapes',
    ],
    ['%2Fetc/{env}', 'is absolute once its percent-escapes are decoded'],
  ])(
    'refuses the path %j, whose percent-escapes spell a way out of the repository',
    (path, problem) => {
      expect(read({ 'gitops-promotions/path': path })).toEqual({
        problem: `gitops-promotions/path: the path "${path}" ${problem}${
          problem.startsWith('is absolute')
            ? '; it must be relative to the repository root'
            : ''
        }`,
      });
    },
  );

  it('keeps a path whose percent signs spell no way out, such as 100%25 or a %2e-prefixed name', () => {
    for (const path of [
      'shop/100%25/{env}',
      'shop/%2eenv/{env}',
      'shop/a%2e%2eb/{env}',
    ]) {
      expect(read({ 'gitops-promotions/path': path })).toEqual({
        layout: { repository: 'gitops', path },
      });
    }
  });

  it('refuses a repository template that gives no repository id', () => {
    expect(
      readEntityLayout({
        'gitops-promotions/repository': '../{env}',
        'gitops-promotions/path': 'shop',
      }),
    ).toEqual({
      problem: expect.stringContaining('not a valid repository id'),
    });
  });
});
