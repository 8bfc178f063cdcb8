import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { RepositorySnapshot, TreeFile } from './types';

/**
 * The Git blob id of some content, so files on disk compare with files in a repository.
 *
 * @public
 */
export function gitBlobId(content: Buffer): string {
  return crypto
    .createHash('sha1')
    .update(`blob ${content.length}\0`)
    .update(content)
    .digest('hex');
}

/**
 * A snapshot of a directory on disk (a scaffolder workspace, for example), read like a
 * repository tree. `.git` is skipped; symbolic links are not followed. A file or a whole
 * directory larger than `limits` is refused, since every file is held in memory.
 *
 * @public
 */
export async function directorySnapshot(
  root: string,
  limits: { fileBytes: number; totalBytes: number } = {
    fileBytes: 4 * 1024 * 1024,
    totalBytes: 32 * 1024 * 1024,
  },
): Promise<RepositorySnapshot> {
  const files = new Map<string, TreeFile>();
  const contents = new Map<string, Buffer>();
  let total = 0;
  const walk = async (dir: string) => {
    for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
      if (entry.name === '.git') continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) {
        const relative = path.relative(root, full).split(path.sep).join('/');
        // Sized before reading, so that no file is held in memory beyond the limits.
        const { size } = await fs.stat(full);
        if (size > limits.fileBytes) {
          throw new Error(
            `${relative} is ${size} bytes, more than the ${limits.fileBytes} a file may have`,
          );
        }
        total += size;
        if (total > limits.totalBytes) {
          throw new Error(
            `the directory holds more than ${limits.totalBytes} bytes of files, at ${relative}`,
          );
        }
        const content = await fs.readFile(full);
        files.set(relative, {
          path: relative,
          oid: gitBlobId(content),
          size: content.length,
        });
        contents.set(relative, content);
      }
    }
  };
  await walk(root);
  return {
    commit: 'workspace',
    files,
    readFile: async filePath => contents.get(filePath),
  };
}
