import crypto from 'node:crypto';
import { RepositorySnapshot, TreeFile } from '../repository/types';
import { ReadablePaths } from '../config/pathRules';
import { ResolveBudget } from './budget';
import { ResolutionError } from './types';

/**
 * What a resolution asked of a repository tree: each file it looked up (with its blob id, or
 * null when it was absent) and each directory it asked about. Asked again of another tree and
 * answered the same, the resolution would be the same: this is what lets a refresh skip every
 * environment none of whose inputs changed.
 *
 * @public
 */
export interface Probes {
  files: Record<string, string | null>;
  directories: Record<string, boolean>;
}

/** The directories that hold at least one file, computed once per tree. */
const directoryIndexes = new WeakMap<
  ReadonlyMap<string, TreeFile>,
  Set<string>
>();

/**
 * Whether a directory holds any file in a tree (the root always does).
 *
 * @public
 */
export function hasDirectory(
  files: ReadonlyMap<string, TreeFile>,
  dir: string,
): boolean {
  if (dir === '') return files.size > 0;
  let index = directoryIndexes.get(files);
  if (!index) {
    index = new Set();
    for (const file of files.keys()) {
      let slash = file.lastIndexOf('/');
      while (slash > 0) {
        const parent = file.slice(0, slash);
        if (index.has(parent)) break;
        index.add(parent);
        slash = parent.lastIndexOf('/');
      }
    }
    directoryIndexes.set(files, index);
  }
  return index.has(dir);
}

/**
 * Whether a tree answers every probe as the tree they were recorded on did.
 *
 * @public
 */
export function probesHold(probes: Probes, snapshot: RepositorySnapshot) {
  for (const [path, oid] of Object.entries(probes.files)) {
    if ((snapshot.files.get(path)?.oid ?? null) !== oid) return false;
  }
  for (const [dir, present] of Object.entries(probes.directories)) {
    if (hasDirectory(snapshot.files, dir) !== present) return false;
  }
  return true;
}

/**
 * A digest of the answers a tree gives to some probes: equal digests mean equal inputs.
 *
 * @public
 */
export function probesDigest(probes: Probes): string {
  const hash = crypto.createHash('sha256');
  for (const path of Object.keys(probes.files).sort()) {
    hash.update(`f\0${path}\0${probes.files[path] ?? '-'}\0`);
  }
  for (const dir of Object.keys(probes.directories).sort()) {
    hash.update(`d\0${dir}\0${probes.directories[dir] ? 1 : 0}\0`);
  }
  return hash.digest('hex');
}

/** Tree files as the resolver sees them: every lookup is written down. */
class RecordedFiles implements ReadonlyMap<string, TreeFile> {
  constructor(
    private readonly inner: ReadonlyMap<string, TreeFile>,
    private readonly probes: Probes,
  ) {}
  get size() {
    return this.inner.size;
  }
  has(path: string) {
    return this.get(path) !== undefined;
  }
  get(path: string) {
    const file = this.inner.get(path);
    this.probes.files[path] = file?.oid ?? null;
    return file;
  }
  hasDirectory(dir: string) {
    const present = hasDirectory(this.inner, dir);
    this.probes.directories[dir] = present;
    return present;
  }
  forEach(
    callback: (
      value: TreeFile,
      key: string,
      map: ReadonlyMap<string, TreeFile>,
    ) => void,
  ) {
    this.inner.forEach((value, key) => callback(value, key, this));
  }
  entries() {
    return this.inner.entries();
  }
  keys() {
    return this.inner.keys();
  }
  values() {
    return this.inner.values();
  }
  [Symbol.iterator]() {
    return this.inner[Symbol.iterator]();
  }
}

/**
 * A snapshot whose file and directory lookups are recorded into `probes`.
 *
 * @public
 */
export function recordingSnapshot(
  snapshot: RepositorySnapshot,
  budget?: ResolveBudget,
  readable?: ReadablePaths,
): {
  snapshot: RepositorySnapshot;
  probes: Probes;
} {
  const probes: Probes = { files: {}, directories: {} };
  const files = new RecordedFiles(snapshot.files, probes);
  const allowed = readable?.patterns.map(pattern => new RegExp(pattern));
  return {
    probes,
    snapshot: {
      commit: snapshot.commit,
      files,
      readFile: async path => {
        const file = files.get(path);
        if (allowed && !allowed.some(re => re.test(path))) {
          throw new ResolutionError(
            path,
            `the environment may not read this file (${readable!.description})`,
          );
        }
        if (file) budget?.read(path, file.size);
        return snapshot.readFile(path);
      },
    },
  };
}

/**
 * Whether a directory holds any file, recorded when the tree records its lookups.
 *
 * @public
 */
export function isDirectory(snapshot: RepositorySnapshot, dir: string) {
  const files = snapshot.files;
  return files instanceof RecordedFiles
    ? files.hasDirectory(dir)
    : hasDirectory(files, dir);
}
