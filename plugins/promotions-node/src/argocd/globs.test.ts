import { doublestarMatcher, gitPathspecMatcher, goPathMatcher } from './globs';

describe('the path patterns of git generators', () => {
  it.each([
    ['apps/*', 'apps/payment', true],
    ['apps/*', 'apps/payment/base', false],
    ['apps/?at', 'apps/cat', true],
    ['apps/[a-c]*', 'apps/cart', true],
    ['apps/[^a-c]*', 'apps/cart', false],
    ['apps/\\*', 'apps/*', true],
    ['*', 'apps', true],
  ])("Go's path.Match: %s on %s is %s", (pattern, path, expected) => {
    expect(goPathMatcher(pattern)(path)).toBe(expected);
  });

  it('refuses a malformed path.Match pattern', () => {
    expect(() => goPathMatcher('apps/[a-')).toThrow('unclosed [');
    expect(() => goPathMatcher('apps/\\')).toThrow('trailing \\');
  });

  it.each([
    ['clusters/*/config.json', 'clusters/prod/eu/config.json', true],
    ['*.json', 'a/b/c.json', true],
    ['clusters', 'clusters/prod/config.json', true],
    ['clusters/', 'clusters/prod/config.json', true],
    ['clusters', 'clusters-old/config.json', false],
    ['./clusters/dev/config.json', 'clusters/dev/config.json', true],
    ['clusters/[[:alpha:]]*/config.json', 'clusters/dev/config.json', true],
    ['.', 'anything/at/all.yaml', true],
  ])('git pathspec: %s on %s is %s', (pattern, path, expected) => {
    expect(gitPathspecMatcher(pattern)(path)).toBe(expected);
  });

  it.each([
    ['**/config.json', 'config.json', true],
    ['**/config.json', 'a/b/config.json', true],
    ['clusters/**', 'clusters/a/b.yaml', true],
    ['clusters/*/config.json', 'clusters/prod/eu/config.json', false],
    ['clusters/{dev,prod}/config.json', 'clusters/prod/config.json', true],
    ['clusters/{dev,prod}/config.json', 'clusters/qa/config.json', false],
    ['../outside/*.json', '../outside/x.json', false],
  ])('doublestar: %s on %s is %s', (pattern, path, expected) => {
    expect(doublestarMatcher(pattern)(path)).toBe(expected);
  });

  it('matches a pathological pattern against a long path in linear time', () => {
    const started = performance.now();
    const match = gitPathspecMatcher(`${'*a'.repeat(200)}b`);
    expect(match('a'.repeat(4000))).toBe(false);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
