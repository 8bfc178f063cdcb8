import {
  FileChange,
  gitBlobId,
  RepositorySnapshot,
  TreeFile,
} from '@gitops-promotions/plugin-promotions-node';

/** A snapshot with some files changed or deleted, as it would be after a commit of them. */
export function overlaySnapshot(
  snapshot: RepositorySnapshot,
  changes: FileChange[],
): RepositorySnapshot {
  const files = new Map<string, TreeFile>(snapshot.files);
  const contents = new Map<string, Buffer | null>();
  for (const { path, content } of changes) {
    contents.set(path, content);
    if (content === null) files.delete(path);
    else {
      files.set(path, { path, oid: gitBlobId(content), size: content.length });
    }
  }
  return {
    commit: `${snapshot.commit}+changes`,
    files,
    readFile: async path =>
      contents.has(path)
        ? contents.get(path) ?? undefined
        : snapshot.readFile(path),
  };
}
