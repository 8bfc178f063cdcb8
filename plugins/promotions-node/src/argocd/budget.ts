import { TemplateBudget } from './goTemplate';
import { ArgoCdLimits } from './types';

/**
 * How much reading one Argo CD manifest may do unless told otherwise.
 *
 * @public
 */
export const DEFAULT_ARGOCD_LIMITS: ArgoCdLimits = {
  fileBytes: 1024 * 1024,
  files: 1000,
  bytes: 32 * 1024 * 1024,
  applications: 1000,
  templateSteps: 2_000_000,
  templateOutput: 16 * 1024 * 1024,
  values: 2_000_000,
  milliseconds: 5000,
};

/** Reading the manifest went past one of its limits; the message says which. */
export class LimitError extends Error {}

/** Counts one manifest's work against its limits, and stops it with the reason when over. */
export class ReadBudget implements TemplateBudget {
  private steps = 0;
  private output = 0;
  private files = 0;
  private bytes = 0;
  private values = 0;
  private readonly deadline: number;

  constructor(
    readonly limits: ArgoCdLimits,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.deadline = now() + limits.milliseconds;
  }

  spend(steps: number, output: number) {
    this.steps += steps;
    this.output += output;
    if (this.steps > this.limits.templateSteps)
      throw new LimitError(
        `the templates take more than ${this.limits.templateSteps} steps`,
      );
    if (this.output > this.limits.templateOutput)
      throw new LimitError(
        `the templates write more than ${this.limits.templateOutput} characters`,
      );
    if ((this.steps & 1023) === 0) this.time();
  }

  /** A file a git generator is about to read. */
  readFile(path: string, size: number) {
    if (++this.files > this.limits.files)
      throw new LimitError(
        `the git generators read more than ${this.limits.files} files`,
      );
    if (size > this.limits.fileBytes)
      throw new LimitError(
        `${path} is ${size} bytes, more than the ${this.limits.fileBytes} allowed`,
      );
    this.bytes += size;
    if (this.bytes > this.limits.bytes)
      throw new LimitError(
        `the git generators read more than ${this.limits.bytes} bytes`,
      );
    this.time();
  }

  /** Values about to be copied; counted before the copy is made. */
  copy(count: number) {
    this.values += count;
    if (this.values > this.limits.values)
      throw new LimitError(
        `the manifest copies more than ${this.limits.values} values into its Applications`,
      );
    if ((this.values & 4095) === 0) this.time();
  }

  /** The values in a parameter set or template, counted against the copy limit as they are walked. */
  copyValue(value: unknown) {
    const stack: unknown[] = [value];
    while (stack.length > 0) {
      const next = stack.pop();
      this.copy(1);
      if (Array.isArray(next)) stack.push(...next);
      else if (typeof next === 'object' && next !== null)
        stack.push(...Object.values(next));
    }
  }

  /** Parameter sets (Applications to be) a generator produced. */
  generated(count: number) {
    if (count > this.limits.applications)
      throw new LimitError(
        `the manifest generates more than ${this.limits.applications} Applications`,
      );
    this.time();
  }

  time() {
    if (this.now() > this.deadline)
      throw new LimitError(
        `reading the manifest took more than ${this.limits.milliseconds} ms`,
      );
  }
}
