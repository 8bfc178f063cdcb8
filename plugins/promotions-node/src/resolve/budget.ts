import { ResolutionError } from './types';

/**
 * How much one environment's resolution may read and compute before it is stopped: a hostile
 * or broken repository costs that environment an error, never the backend its memory or time.
 *
 * @public
 */
export interface ResolveLimits {
  /** Files read, counting each once. */
  files: number;
  /** Bytes of files read. */
  bytes: number;
  /** Kubernetes objects rendered, over every file read. */
  objects: number;
  /** Values copied by patches, generators and merges: what a copy bomb would grow. */
  copies: number;
  /** Time from the first read to the result. */
  milliseconds: number;
}

/** @public */
export const DEFAULT_RESOLVE_LIMITS: ResolveLimits = {
  files: 2000,
  bytes: 32 * 1024 * 1024,
  objects: 5000,
  copies: 1_000_000,
  milliseconds: 5000,
};

/** Counts one resolution's work against its limits and stops it, with the reason, when over. */
export class ResolveBudget {
  private readonly files = new Set<string>();
  private bytes = 0;
  private objects = 0;
  private copies = 0;
  private readonly deadline: number;

  constructor(
    readonly limits: ResolveLimits = DEFAULT_RESOLVE_LIMITS,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.deadline = now() + limits.milliseconds;
  }

  /** A file about to be read. */
  read(path: string, size: number) {
    if (this.files.has(path)) return;
    this.files.add(path);
    this.bytes += size;
    if (this.files.size > this.limits.files) {
      throw new ResolutionError(
        path,
        `the environment reads more than ${this.limits.files} files`,
      );
    }
    if (this.bytes > this.limits.bytes) {
      throw new ResolutionError(
        path,
        `the environment reads more than ${this.limits.bytes} bytes`,
      );
    }
    this.time(path);
  }

  /** Objects rendered from a file. */
  render(count: number, file: string) {
    this.objects += count;
    if (this.objects > this.limits.objects) {
      throw new ResolutionError(
        file,
        `the environment renders more than ${this.limits.objects} objects`,
      );
    }
  }

  /** Values about to be copied on behalf of a file; counted before the copy is made. */
  copy(value: unknown, file: string) {
    this.copies += countValues(value, this.limits.copies - this.copies + 1);
    if (this.copies > this.limits.copies) {
      throw new ResolutionError(
        file,
        `the environment copies more than ${this.limits.copies} values; a patch multiplies its input`,
      );
    }
    this.time(file);
  }

  /** Stops the resolution once its time is up. */
  time(file: string) {
    if (this.now() > this.deadline) {
      throw new ResolutionError(
        file,
        `resolving the environment took more than ${this.limits.milliseconds} ms`,
      );
    }
  }
}

/** The number of values in a JSON value, counting no further than `stopAt`. */
function countValues(value: unknown, stopAt: number): number {
  let count = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && count < stopAt) {
    const next = stack.pop();
    count++;
    if (Array.isArray(next)) {
      for (const item of next) stack.push(item);
    } else if (typeof next === 'object' && next !== null) {
      for (const item of Object.values(next)) stack.push(item);
    }
  }
  return count;
}
