import { gitBlobId } from '../repository/directorySnapshot';
import { RepositorySnapshot, TreeFile } from '../repository/types';

/**
 * A repository snapshot held in memory: the files of `{ path: content }` at a commit named
 * `commit`, with the blob ids Git would give them. Use it where a module's code reads a
 * `RepositorySnapshot`, for example as what the `snapshot()` of a `GitOpsRepository` stub
 * handed to a promotion gate returns.
 *
 * @param files - The content of each file, by its path from the repository root.
 * @param commit - The commit the snapshot says it is of.
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
