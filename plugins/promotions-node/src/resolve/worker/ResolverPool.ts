import { ResourceLimits, Worker } from 'node:worker_threads';
import { LoggerService } from '@backstage/backend-plugin-api';
import { RepositorySnapshot } from '../../repository/types';
import { DEFAULT_RESOLVE_LIMITS } from '../budget';
import { ResolutionError, ResolvedEnvironment, ResolveOptions } from '../types';
import { FromWorker, ToWorker } from './protocol';

/** Jobs one worker works on at once: resolutions wait on file reads, which overlap. */
const JOBS_PER_WORKER = 4;
/** Trees each worker holds, oldest forgotten first; the same number the worker keeps. */
export const MAX_WORKER_TREES = 8;
/** Time past a job's own budget after which its worker is stopped. */
const GRACE_MS = 2000;

interface Job {
  id: number;
  snapshot: RepositorySnapshot;
  path: string;
  options: ResolveOptions;
  resolve(result: ResolvedEnvironment): void;
  reject(error: Error): void;
  /** Whether this job was already started once on a worker that was stopped for another. */
  retried: boolean;
  timer?: NodeJS.Timeout;
}

interface PoolWorker {
  worker: Worker;
  jobs: Map<number, Job>;
  /** Commits whose tree this worker holds. */
  trees: Set<string>;
}

/**
 * Resolves environments on worker threads. A job that outlives its time budget stops its
 * worker: its environment gets an error, the other jobs on that worker start again on a new one,
 * and the backend's event loop never waits for any of it.
 *
 * @public
 */
export class ResolverPool {
  private readonly workers: PoolWorker[] = [];
  /** An id for each tree sent to workers: commits alone do not tell working directories apart. */
  private readonly treeIds = new WeakMap<object, string>();
  private nextTree = 0;
  private readonly queue: Job[] = [];
  private nextJob = 0;
  private closed = false;

  constructor(
    private readonly options: {
      size: number;
      logger: LoggerService;
      /** The worker's entry file; the package's own by default. */
      entry?: string;
      /**
       * Each worker's memory caps: a resolution that needs more stops its worker and fails
       * its environment, never the backend.
       */
      resourceLimits?: ResourceLimits;
    },
  ) {}

  resolve(
    snapshot: RepositorySnapshot,
    path: string,
    options: ResolveOptions = {},
  ): Promise<ResolvedEnvironment> {
    if (this.closed) {
      return Promise.reject(new Error('The resolver pool is closed'));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({
        id: this.nextJob++,
        snapshot,
        path,
        options,
        resolve,
        reject,
        retried: false,
      });
      this.dispatch();
    });
  }

  async close() {
    this.closed = true;
    for (const job of this.queue.splice(0)) {
      job.reject(new Error('The resolver pool is closed'));
    }
    await Promise.all(this.workers.splice(0).map(w => w.worker.terminate()));
  }

  private dispatch() {
    while (this.queue.length > 0) {
      let target = this.workers.find(w => w.jobs.size < JOBS_PER_WORKER);
      if (!target && this.workers.length < this.options.size) {
        target = this.spawn();
      }
      if (!target) return;
      this.start(target, this.queue.shift()!);
    }
  }

  private treeId(snapshot: RepositorySnapshot): string {
    let id = this.treeIds.get(snapshot.files);
    if (!id) {
      id = `${snapshot.commit}#${this.nextTree++}`;
      this.treeIds.set(snapshot.files, id);
    }
    return id;
  }

  private start(target: PoolWorker, job: Job) {
    const { snapshot } = job;
    const tree = this.treeId(snapshot);
    if (!target.trees.has(tree)) {
      this.send(target, {
        type: 'tree',
        tree,
        commit: snapshot.commit,
        files: [...snapshot.files.values()].map(f => [f.path, f.oid, f.size]),
      });
      target.trees.add(tree);
      // The worker forgets its oldest trees in the same order.
      while (target.trees.size > MAX_WORKER_TREES) {
        target.trees.delete(target.trees.values().next().value!);
      }
    }
    target.jobs.set(job.id, job);
    const budget = (job.options.limits ?? DEFAULT_RESOLVE_LIMITS).milliseconds;
    job.timer = setTimeout(
      () => this.stop(target, job, budget + GRACE_MS),
      Math.max(0, budget) + GRACE_MS,
    );
    this.send(target, {
      type: 'resolve',
      job: job.id,
      tree,
      path: job.path,
      options: job.options,
    });
  }

  /** Stops a worker whose job will not end: that job fails, the others start again. */
  private stop(target: PoolWorker, culprit: Job, ms: number) {
    this.options.logger.warn(
      `Resolving ${culprit.path} at ${culprit.snapshot.commit} did not end within ${ms} ms; stopping its worker`,
    );
    this.remove(target);
    target.worker.terminate().catch(() => {});
    for (const job of target.jobs.values()) {
      clearTimeout(job.timer);
      if (job === culprit || job.retried) {
        job.reject(
          new ResolutionError(
            job.path,
            `resolving the environment did not end within ${ms} ms and was stopped`,
          ),
        );
      } else {
        job.retried = true;
        this.queue.unshift(job);
      }
    }
    target.jobs.clear();
    this.dispatch();
  }

  private spawn(): PoolWorker {
    const entry =
      this.options.entry ??
      require.resolve('@gitops-promotions/plugin-promotions-node/worker');
    // From source (development and tests), the worker compiles TypeScript as the backend does.
    const execArgv = entry.endsWith('.ts')
      ? [
          ...process.execArgv,
          '--require',
          require.resolve('@backstage/cli/config/nodeTransform.cjs'),
        ]
      : undefined;
    const worker = new Worker(entry, {
      execArgv,
      resourceLimits: this.options.resourceLimits,
    });
    const pooled: PoolWorker = { worker, jobs: new Map(), trees: new Set() };
    worker.on('message', (message: FromWorker) =>
      this.receive(pooled, message),
    );
    worker.on('error', error => this.crashed(pooled, error as Error));
    worker.on('exit', code => {
      if (this.workers.includes(pooled)) {
        this.crashed(pooled, new Error(`the worker exited with ${code}`));
      }
    });
    // An idle pool should not keep the backend from exiting.
    worker.unref();
    this.workers.push(pooled);
    return pooled;
  }

  private crashed(target: PoolWorker, error: Error) {
    this.options.logger.warn(`A resolution worker failed: ${error.message}`);
    this.remove(target);
    const outOfMemory =
      (error as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY';
    for (const job of target.jobs.values()) {
      clearTimeout(job.timer);
      if (job.retried && outOfMemory) {
        job.reject(
          new ResolutionError(
            job.path,
            `resolving the environment needed more than the ${
              this.options.resourceLimits?.maxOldGenerationSizeMb ?? 'allowed'
            } MB a resolution worker may use, and was stopped`,
          ),
        );
      } else if (job.retried) job.reject(error);
      else {
        job.retried = true;
        this.queue.unshift(job);
      }
    }
    target.jobs.clear();
    this.dispatch();
  }

  private remove(target: PoolWorker) {
    const index = this.workers.indexOf(target);
    if (index >= 0) this.workers.splice(index, 1);
  }

  private receive(target: PoolWorker, message: FromWorker) {
    const job = target.jobs.get(message.job);
    if (!job) return;
    if (message.type === 'read') {
      job.snapshot.readFile(message.path).then(
        content =>
          this.send(target, {
            type: 'content',
            read: message.read,
            content: content ?? null,
          }),
        error =>
          this.send(target, {
            type: 'content',
            read: message.read,
            content: null,
            error: error instanceof Error ? error.message : String(error),
          }),
      );
      return;
    }
    clearTimeout(job.timer);
    target.jobs.delete(job.id);
    if (message.type === 'resolved') job.resolve(message.result);
    else if (message.file !== undefined) {
      job.reject(
        ResolutionError.withMessage(
          message.file,
          message.message,
          message.probes,
        ),
      );
    } else job.reject(new Error(message.message));
    this.dispatch();
  }

  private send(target: PoolWorker, message: ToWorker) {
    target.worker.postMessage(message);
  }
}
