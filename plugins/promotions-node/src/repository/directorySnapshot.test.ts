import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { directorySnapshot, gitBlobId } from './directorySnapshot';

describe('directorySnapshot', () => {
  it('lists files with the same blob ids git gives them, skipping .git', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'promotions-dir-'));
    fs.mkdirSync(path.join(root, 'svc/overlays/dev'), { recursive: true });
    fs.writeFileSync(
      path.join(root, 'svc/overlays/dev/kustomization.yaml'),
      'resources: []\n',
    );
    execFileSync('git', ['init', '-q'], { cwd: root });
    const gitId = execFileSync(
      'git',
      ['hash-object', 'svc/overlays/dev/kustomization.yaml'],
      { cwd: root },
    )
      .toString()
      .trim();

    const snapshot = await directorySnapshot(root);
    expect([...snapshot.files.keys()]).toEqual([
      'svc/overlays/dev/kustomization.yaml',
    ]);
    expect(snapshot.files.get('svc/overlays/dev/kustomization.yaml')!.oid).toBe(
      gitId,
    );
    expect(gitBlobId(Buffer.from('resources: []\n'))).toBe(gitId);
    expect(
      (await snapshot.readFile(
        'svc/overlays/dev/kustomization.yaml',
      ))!.toString(),
    ).toBe('resources: []\n');
    expect(await snapshot.readFile('nope')).toBeUndefined();
  });

  it('refuses a file, or a directory of files, larger than its limits, before holding it', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'promotions-dir-'));
    fs.writeFileSync(path.join(root, 'a.yaml'), 'x'.repeat(600));
    fs.writeFileSync(path.join(root, 'b.yaml'), 'x'.repeat(600));
    await expect(
      directorySnapshot(root, { fileBytes: 500, totalBytes: 10_000 }),
    ).rejects.toThrow(
      /^[ab]\.yaml is 600 bytes, more than the 500 a file may have$/,
    );
    await expect(
      directorySnapshot(root, { fileBytes: 1000, totalBytes: 1000 }),
    ).rejects.toThrow(
      /^the directory holds more than 1000 bytes of files, at [ab]\.yaml$/,
    );
    const snapshot = await directorySnapshot(root, {
      fileBytes: 1000,
      totalBytes: 1200,
    });
    expect(snapshot.files.size).toBe(2);
  });
});
