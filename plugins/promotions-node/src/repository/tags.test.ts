import { pickTag, tagPatternProblem } from './tags';

/** Tags named as given, each naming a commit made of its own name, so a pick is easy to read. */
const tags = (...names: string[]) =>
  names.map(name => ({ name, commit: `commit of ${name}` }));

/** Every order of a list, to show a pick does not depend on the order tags come in. */
function orders<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((item, i) =>
    orders([...items.slice(0, i), ...items.slice(i + 1)]).map(rest => [
      item,
      ...rest,
    ]),
  );
}

const picked = (names: string[], pattern: string) => {
  const answers = new Set(
    orders(tags(...names)).map(order => pickTag(order, pattern)?.name),
  );
  expect(answers.size).toBe(1);
  return [...answers][0];
};

describe('pickTag', () => {
  it('picks v1.10.0-prod over v1.9.0-prod: versions compare by number, not as text', () => {
    expect(
      picked(['v1.9.0-prod', 'v1.10.0-prod', 'v1.2.0-prod'], 'v*-prod'),
    ).toBe('v1.10.0-prod');
  });

  it('picks v2-prod over v1.10.0-prod: a missing minor and patch count as zero', () => {
    expect(picked(['v1.10.0-prod', 'v2-prod', 'v1.9.9-prod'], 'v*-prod')).toBe(
      'v2-prod',
    );
    expect(picked(['1.0-prod', '1.0.1-prod'], '*-prod')).toBe('1.0.1-prod');
  });

  it('ranks a pre-release below its release, and pre-releases as semantic versioning does', () => {
    expect(
      picked(['v1.2.0-rc.1-prod', 'v1.2.0-prod', 'v1.1.9-prod'], 'v*-prod'),
    ).toBe('v1.2.0-prod');
    expect(picked(['v1.2.0-rc.2', 'v1.2.0-rc.10', 'v1.2.0-beta'], 'v*')).toBe(
      'v1.2.0-rc.10',
    );
    expect(picked(['v1.2.0-rc.1', 'v1.1.0'], 'v*')).toBe('v1.2.0-rc.1');
    expect(picked(['build-9', 'build-10', 'build-2'], 'build-*')).toBe(
      'build-10',
    );
  });

  it('compares what is not a version as text, below any version', () => {
    expect(picked(['release-alpha', 'release-beta'], 'release-*')).toBe(
      'release-beta',
    );
    expect(picked(['release-zeta', 'release-1.0.0'], 'release-*')).toBe(
      'release-1.0.0',
    );
    expect(picked(['v1.2-prod', 'v1.2.0-prod'], 'v*-prod')).toBe('v1.2.0-prod');
  });

  it('matches `*` within one part of a name, never across `/`', () => {
    const all = tags('v1.0.0-prod', 'v3.0.0-stage', 'team/v9.0.0-prod');
    expect(pickTag(all, 'v*-prod')?.name).toBe('v1.0.0-prod');
    expect(pickTag(all, 'team/v*-prod')?.name).toBe('team/v9.0.0-prod');
    expect(pickTag(all, '*/v*-prod')?.name).toBe('team/v9.0.0-prod');
    expect(pickTag(tags('v1-prod-eu', 'v2-prod-us'), 'v*-prod-*')?.name).toBe(
      'v2-prod-us',
    );
  });

  it('answers undefined when no tag matches', () => {
    expect(pickTag(tags('v1.0.0-stage', 'v1.0.0'), 'v*-prod')).toBeUndefined();
    expect(pickTag([], 'v*')).toBeUndefined();
    expect(pickTag(tags('v1.0.0-prod'), 'v1.0.0-stage')).toBeUndefined();
  });

  it('names exactly the tag a pattern without `*` names, whatever its version', () => {
    const all = tags('v1.2.0-stage', 'v1.10.0-stage');
    expect(pickTag(all, 'v1.2.0-stage')).toEqual({
      name: 'v1.2.0-stage',
      commit: 'commit of v1.2.0-stage',
    });
  });

  it('names no tag with a pattern git would refuse', () => {
    const all = tags('a..b', '-rf', 'v1 prod');
    expect(pickTag(all, 'a..b')).toBeUndefined();
    expect(pickTag(all, '-rf')).toBeUndefined();
    expect(pickTag(all, 'v1 prod')).toBeUndefined();
  });

  it('answers at once for a pattern made to backtrack', () => {
    const name = `${'a'.repeat(150)}c`;
    const pattern = `${'*a'.repeat(90)}*b`;
    const started = Date.now();
    expect(pickTag(tags(name), pattern)).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(500);
  });
});

describe('tagPatternProblem', () => {
  it('accepts tag names and `*` globs', () => {
    for (const pattern of [
      'v1.2.0-stage',
      'v*-prod',
      '*',
      'release/*/prod',
      'v*.*.*',
      'x$(id)',
    ]) {
      expect(tagPatternProblem(pattern)).toBeUndefined();
    }
  });

  it.each([
    ['', /is empty/],
    ['v1..2', /holds "\.\."/],
    ['v~1', /holds "~"/],
    ['v^1', /holds "\^"/],
    ['v:1', /holds ":"/],
    ['v?', /holds "\?"/],
    ['v[12]', /holds "\["/],
    ['v\\1', /holds "\\"/],
    ['v 1', /space or control character/],
    ['v\n1', /space or control character/],
    ['v\u00001', /space or control character/],
    ['v\u007f', /space or control character/],
    ['-v1', /starts with "-"/],
    ['--upload-pack=touch', /starts with "-"/],
    ['/v1', /starts with "\/"/],
    ['v1/', /ends with "\/"/],
    ['v1.lock', /ending in "\.lock"/],
    ['v1.lock/prod', /ending in "\.lock"/],
    ['v1.', /ends with "\."/],
    ['.v1', /starting with "\."/],
    ['v1//prod', /holds "\/\/"/],
    ['v@{1}', /holds "@\{"/],
    ['@', /is "@"/],
  ])('refuses %j', (pattern, problem) => {
    expect(tagPatternProblem(pattern)).toMatch(problem);
  });

  it('refuses a pattern longer than 200 characters', () => {
    expect(tagPatternProblem(`v${'1'.repeat(199)}`)).toBeUndefined();
    expect(tagPatternProblem(`v${'1'.repeat(200)}`)).toBe(
      'The tag pattern is 201 characters long; at most 200 are allowed',
    );
  });
});
