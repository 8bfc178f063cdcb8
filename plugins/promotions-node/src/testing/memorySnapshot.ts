import { gitBlobId } from '../repository/directorySnapshot';
import { RepositorySnapshot, TreeFile } from '../repository/types';

/**
 * An in-memory repository snapshot from `{ path: content }`, for tests.
 *
 * @public
 */
export function memorySnapshot(
  files: Record<string, string>,
  commit = 'test',
): RepositorySnapshot {
  const entries = new Map<string, TreeFile>();
  const contents = new Map<string, Buffer>();
  for (const [path, text] of Object.entries(files)) {
    const content = Buffer.from(text);
    entries.set(path, { path, oid: gitBlobId(content), size: content.length });
    contents.set(path, content);
  }
  return { commit, files: entries, readFile: async path => contents.get(path) };
}
