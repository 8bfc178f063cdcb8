import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { gitEnvironment, GitCommandError } from './runGit';

interface Pending {
  oid: string;
  resolve(content: Buffer | undefined): void;
  reject(error: Error): void;
}

/**
 * Reads objects through one long-lived `git cat-file --batch`, so that reading thousands of
 * files costs one process, not one each. Requests are answered in the order they were sent;
 * the process is started on first use and again after it dies.
 */
export class GitObjectReader {
  private child?: ChildProcessWithoutNullStreams;
  private readonly pending: Pending[] = [];
  private buffer = Buffer.alloc(0);

  constructor(private readonly gitDir: string) {}

  /** The content of a blob, or undefined when the repository has no such object. */
  read(oid: string): Promise<Buffer | undefined> {
    if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(oid)) {
      return Promise.reject(new Error(`"${oid}" is not an object id`));
    }
    return new Promise((resolve, reject) => {
      const child = this.process();
      this.pending.push({ oid, resolve, reject });
      child.stdin.write(`${oid}\n`);
    });
  }

  close() {
    this.child?.kill();
    this.child = undefined;
  }

  private process(): ChildProcessWithoutNullStreams {
    if (this.child) return this.child;
    const child = spawn('git', ['cat-file', '--batch'], {
      cwd: this.gitDir,
      env: gitEnvironment(),
    });
    this.child = child;
    this.buffer = Buffer.alloc(0);
    let stderr = '';
    child.stderr.on('data', chunk => {
      stderr = `${stderr}${chunk}`.slice(-2000);
    });
    child.stdout.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.drain();
    });
    // git's own words name local paths: they travel as the error's detail, for the log only.
    const fail = (detail: string, code?: number | null) => {
      if (this.child === child) this.child = undefined;
      const error = new GitCommandError('cat-file', detail, code ?? undefined);
      for (const request of this.pending.splice(0)) request.reject(error);
    };
    child.on('error', error => fail(error.message));
    child.on('exit', code => fail(stderr.trim() || `exit code ${code}`, code));
    child.stdin.on('error', () => {
      // The exit handler reports why the process went away.
    });
    // Idle readers should not keep the backend from exiting.
    child.unref();
    return child;
  }

  /** Answers every request whose whole answer has arrived. */
  private drain() {
    for (;;) {
      const request = this.pending[0];
      if (!request) return;
      const newline = this.buffer.indexOf(0x0a);
      if (newline < 0) return;
      const header = this.buffer.subarray(0, newline).toString('utf8');
      if (header.endsWith(' missing')) {
        this.buffer = this.buffer.subarray(newline + 1);
        this.pending.shift();
        request.resolve(undefined);
        continue;
      }
      const [, type, sizeText] = header.split(' ');
      const size = Number(sizeText);
      if (!Number.isInteger(size)) {
        this.pending.shift();
        request.reject(new Error(`git cat-file answered "${header}"`));
        this.close();
        return;
      }
      // The content is followed by one newline.
      if (this.buffer.length < newline + 1 + size + 1) return;
      const content = Buffer.from(
        this.buffer.subarray(newline + 1, newline + 1 + size),
      );
      this.buffer = this.buffer.subarray(newline + 1 + size + 1);
      this.pending.shift();
      if (type === 'blob') request.resolve(content);
      else request.reject(new Error(`${request.oid} is a ${type}, not a blob`));
    }
  }
}
