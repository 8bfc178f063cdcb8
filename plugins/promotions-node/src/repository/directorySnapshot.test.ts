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
});
