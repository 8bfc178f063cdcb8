import { ChildProcess } from 'node:child_process';
import { CatFileBatch } from './CatFileBatch';
import { appendCommit, createGitFixture, git } from './testing/gitFixture';

describe('CatFileBatch', () => {
  const batches: CatFileBatch[] = [];
  afterEach(() => batches.splice(0).forEach(batch => batch.close()));
  function open(dir: string) {
    const batch = new CatFileBatch(dir);
    batches.push(batch);
    return batch;
  }

  const big = 'x'.repeat(3 * 1024 * 1024);
  const dir = createGitFixture([
    {
      message: 'Files of every size',
      files: { 'empty.txt': '', 'small.txt': 'small\n', 'big.txt': big },
    },
  ]);
  const id = (path: string) => git(dir, ['rev-parse', `main:${path}`]);

  it('reads objects by id or revision, many at once, each with its own content', async () => {
    const batch = open(dir);
    const names = ['small.txt', 'big.txt', 'empty.txt', 'small.txt'];
    const objects = await Promise.all(names.map(name => batch.read(id(name))));
    expect(objects.map(o => o?.content?.toString())).toEqual([
      'small\n',
      big,
      '',
      'small\n',
    ]);
    expect(objects[1]).toMatchObject({ type: 'blob', size: big.length });
    const tree = await batch.read('main^{tree}');
    expect(tree).toMatchObject({
      type: 'tree',
      id: git(dir, ['rev-parse', 'main^{tree}']),
    });
  });

  it('answers undefined for what does not exist, and refuses a second name smuggled in a line', async () => {
    const batch = open(dir);
    await expect(batch.read('0'.repeat(40))).resolves.toBeUndefined();
    await expect(batch.read('no-such-branch')).resolves.toBeUndefined();
    await expect(
      batch.read(`main\n${id('small.txt')}`),
    ).resolves.toBeUndefined();
    await expect(batch.read(id('small.txt'))).resolves.toMatchObject({
      size: 6,
    });
  });

  it('gives the type and size of an object without its content', async () => {
    const batch = open(dir);
    await expect(batch.info('no-such-branch')).resolves.toBeUndefined();
    await expect(batch.info(id('big.txt'))).resolves.toEqual({
      id: id('big.txt'),
      type: 'blob',
      size: big.length,
    });
  });

  it('sees commits made after it started, and starts again when its process dies', async () => {
    const work = createGitFixture([
      { message: 'First', files: { 'a.txt': 'a' } },
    ]);
    const batch = open(work);
    await expect(batch.read('main')).resolves.toMatchObject({ type: 'commit' });
    const second = appendCommit(work, {
      message: 'Second',
      files: { 'a.txt': 'b' },
    });
    await expect(batch.read('main')).resolves.toMatchObject({ id: second });
    git(work, ['gc', '-q']);
    const process = (batch as unknown as { process: ChildProcess }).process;
    const reading = batch.read('main:a.txt');
    process.kill();
    await expect(reading).resolves.toMatchObject({ content: Buffer.from('b') });
    const successor = (batch as unknown as { process: ChildProcess }).process;
    expect(successor).not.toBe(process);
    successor.kill();
    await expect(batch.read('main~1:a.txt')).resolves.toMatchObject({
      content: Buffer.from('a'),
    });
  });
});
