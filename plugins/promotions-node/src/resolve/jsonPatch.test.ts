import { applyJsonPatch } from './jsonPatch';

const document = () => ({
  metadata: { annotations: { 'example.com/team': 'pay', 'a~b': 'x' } },
  spec: { containers: [{ name: 'app', image: 'app:1', args: ['--a'] }] },
});

describe('applyJsonPatch', () => {
  it('adds, replaces and removes, with "-" for the end of a list', () => {
    const patched = applyJsonPatch(document(), [
      { op: 'replace', path: '/spec/containers/0/image', value: 'app:2' },
      { op: 'add', path: '/spec/containers/0/args/-', value: '--b' },
      { op: 'add', path: '/spec/containers/0/args/0', value: '--first' },
      { op: 'remove', path: '/metadata/annotations/a~0b' },
    ]) as any;
    expect(patched.spec.containers[0]).toEqual({
      name: 'app',
      image: 'app:2',
      args: ['--first', '--a', '--b'],
    });
    expect(patched.metadata.annotations).toEqual({ 'example.com/team': 'pay' });
  });

  it('reads ~1 in a pointer as a slash', () => {
    const patched = applyJsonPatch(document(), [
      {
        op: 'replace',
        path: '/metadata/annotations/example.com~1team',
        value: 'ops',
      },
    ]) as any;
    expect(patched.metadata.annotations['example.com/team']).toBe('ops');
  });

  it('copies, moves and tests', () => {
    const patched = applyJsonPatch(document(), [
      { op: 'test', path: '/spec/containers/0/name', value: 'app' },
      { op: 'copy', from: '/spec/containers/0', path: '/spec/containers/-' },
      {
        op: 'move',
        from: '/metadata/annotations/a~0b',
        path: '/metadata/labels',
      },
    ]) as any;
    expect(patched.spec.containers).toHaveLength(2);
    expect(patched.metadata.labels).toBe('x');
  });

  it.each([
    [
      { op: 'frobnicate', path: '/spec' },
      'unknown JSON patch operation "frobnicate"',
    ],
    [
      { op: 'replace', path: '/spec/missing/deeper', value: 1 },
      'path "/spec/missing/deeper" does not exist',
    ],
    [
      { op: 'copy', from: '/spec/missing/deeper', path: '/spec/copy' },
      'path "/spec/missing/deeper" does not exist',
    ],
    [
      { op: 'add', path: '', value: {} },
      'the whole document cannot be replaced',
    ],
    [
      { op: 'remove', path: '/spec/containers/3' },
      'index 3 in "/spec/containers/3" is out of range',
    ],
    [
      { op: 'test', path: '/spec/containers/0/name', value: 'web' },
      'test failed at "/spec/containers/0/name"',
    ],
    [{ op: 'add', path: 'spec', value: 1 }, '"spec" is not a JSON pointer'],
  ])('refuses %j', (operation, message) => {
    expect(() => applyJsonPatch(document(), [operation])).toThrow(message);
  });

  it('reads missing keys as kustomize does: replace sets them, copy and test see null', () => {
    const patched = applyJsonPatch(document(), [
      { op: 'replace', path: '/spec/replicas', value: 2 },
      { op: 'copy', from: '/spec/missing', path: '/spec/copied' },
      { op: 'test', path: '/spec/absent', value: null },
    ]) as any;
    expect(patched.spec.replicas).toBe(2);
    expect(patched.spec.copied).toBeNull();
  });

  it('leaves the input unchanged', () => {
    const input = document();
    applyJsonPatch(input, [{ op: 'remove', path: '/spec' }]);
    expect(input).toEqual(document());
  });
});
