/**
 * A resolution worker: resolves environments off the backend's main thread, so that a hostile
 * repository can cost its own environment an error, never the event loop that serves pages.
 * Files are asked of the pool, which reads them through the repository's provider.
 */
import { parentPort } from 'node:worker_threads';
import { RepositorySnapshot, TreeFile } from '../../repository/types';
import { resolveEnvironment } from '../index';
import { ResolutionError } from '../types';
import { FromWorker, ToWorker } from './protocol';
import { MAX_WORKER_TREES } from './ResolverPool';

const trees = new Map<
  string,
  { commit: string; files: Map<string, TreeFile> }
>();
const reads = new Map<
  number,
  { resolve(c: Buffer | undefined): void; reject(e: Error): void }
>();
let nextRead = 0;

const post = (message: FromWorker) => parentPort!.postMessage(message);

function snapshotOf(job: number, tree: string): RepositorySnapshot {
  const held = trees.get(tree);
  if (!held) throw new Error(`the worker was not given the tree ${tree}`);
  const { commit, files } = held;
  return {
    commit,
    files,
    readFile: path => {
      if (!files.has(path)) return Promise.resolve(undefined);
      const read = nextRead++;
      return new Promise((resolve, reject) => {
        reads.set(read, { resolve, reject });
        post({ type: 'read', job, read, path });
      });
    },
  };
}

parentPort!.on('message', async (message: ToWorker) => {
  if (message.type === 'tree') {
    trees.set(message.tree, {
      commit: message.commit,
      files: new Map(
        message.files.map(([path, oid, size]) => [path, { path, oid, size }]),
      ),
    });
    while (trees.size > MAX_WORKER_TREES)
      trees.delete(trees.keys().next().value!);
    return;
  }
  if (message.type === 'content') {
    const pending = reads.get(message.read);
    reads.delete(message.read);
    if (!pending) return;
    if (message.error) pending.reject(new Error(message.error));
    else
      pending.resolve(
        message.content ? Buffer.from(message.content) : undefined,
      );
    return;
  }
  const { job } = message;
  try {
    const result = await resolveEnvironment(
      snapshotOf(job, message.tree),
      message.path,
      message.options,
    );
    post({ type: 'resolved', job, result });
  } catch (error) {
    post({
      type: 'failed',
      job,
      message: error instanceof Error ? error.message : String(error),
      ...(error instanceof ResolutionError
        ? { file: error.file, probes: error.probes }
        : {}),
    });
  }
});
