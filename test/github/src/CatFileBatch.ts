import { ChildProcess, spawn } from 'node:child_process';

/** An object read by `git cat-file`; `content` is absent when only its header was asked for. */
export interface GitObject {
  id: string;
  type: string;
  size: number;
  content?: Buffer;
}

interface Request {
  command: 'contents' | 'info';
  name: string;
  resolve(object: GitObject | undefined): void;
  reject(error: Error): void;
  /** Requests in flight when the process died are sent once more to its successor. */
  resent: boolean;
}

const EMPTY = Buffer.alloc(0);

/**
 * One long-lived `git cat-file --batch-command` process (git 2.36 or later) that reads objects
 * by name without starting a process per read. The requests of one task are written together,
 * followed by `flush`, and answered in order (`<id> <type> <size>\n<content>\n`, or
 * `<name> missing\n`), so they queue in the pipe; a process that dies is started again on demand.
 */
export class CatFileBatch {
  private process?: ChildProcess;
  private readonly queue: Request[] = [];
  private readonly unsent: Request[] = [];
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** The header of the object whose content is still arriving. */
  private header?: { id: string; type: string; size: number };
  private closed = false;

  constructor(private readonly repoDir: string) {}

  /**
   * The object a name designates (an id, or any revision expression such as `main^{tree}`), with
   * its content, or undefined when there is none.
   */
  read(name: string): Promise<GitObject | undefined> {
    return this.request('contents', name);
  }

  /** The id, type and size of the object a name designates, without reading its content. */
  info(name: string): Promise<GitObject | undefined> {
    return this.request('info', name);
  }

  close() {
    this.closed = true;
    const process = this.process;
    this.process = undefined;
    process?.stdin?.end();
    process?.kill();
    for (const request of this.queue.splice(0))
      request.reject(new Error('git cat-file has been closed'));
  }

  private request(
    command: Request['command'],
    name: string,
  ): Promise<GitObject | undefined> {
    // cat-file reads one name per line: a newline would smuggle in a second command.
    if (name === '' || /[\r\n]/.test(name)) return Promise.resolve(undefined);
    if (this.closed)
      return Promise.reject(new Error('git cat-file has been closed'));
    return new Promise((resolve, reject) => {
      const request = { command, name, resolve, reject, resent: false };
      this.queue.push(request);
      this.send(request);
    });
  }

  /** Commands are written together once the current task has queued all it reads. */
  private send(request: Request) {
    this.unsent.push(request);
    if (this.unsent.length > 1) return;
    queueMicrotask(() => {
      const commands = this.unsent.splice(0);
      if (this.closed) return;
      this.start().stdin!.write(
        `${commands.map(c => `${c.command} ${c.name}\n`).join('')}flush\n`,
      );
    });
  }

  private start(): ChildProcess {
    if (this.process) return this.process;
    const child = spawn('git', ['cat-file', '--batch-command', '--buffer'], {
      cwd: this.repoDir,
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    this.process = child;
    this.chunks = [];
    this.buffered = 0;
    this.header = undefined;
    child.stdout!.on('data', (chunk: Buffer) => {
      if (this.process !== child) return;
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      this.drain();
    });
    // A write to a process that just died fails here; its exit handler resends the requests.
    child.stdin!.on('error', () => {});
    child.on('error', error => this.died(child, error));
    child.on('exit', code =>
      this.died(child, new Error(`git cat-file exited with ${code}`)),
    );
    return child;
  }

  private died(child: ChildProcess, error: Error) {
    if (this.process !== child) return;
    this.process = undefined;
    for (const request of this.queue.splice(0)) {
      if (request.resent || this.closed) {
        request.reject(error);
      } else {
        request.resent = true;
        this.queue.push(request);
        this.send(request);
      }
    }
  }

  /** All buffered bytes as one buffer. */
  private bytes(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0] ?? EMPTY;
  }

  private consume(length: number) {
    const rest = this.bytes().subarray(length);
    this.chunks = rest.length ? [rest] : [];
    this.buffered = rest.length;
  }

  /** Answers every request whose whole answer has arrived. */
  private drain() {
    for (;;) {
      if (!this.header) {
        const bytes = this.bytes();
        const newline = bytes.indexOf(10);
        if (newline < 0) return;
        const line = bytes.subarray(0, newline).toString('utf8');
        this.consume(newline + 1);
        const request = this.queue[0];
        // "<name> missing" and "<name> ambiguous" have no content.
        const [id, type, size] = line.split(' ');
        if (size === undefined) {
          this.queue.shift();
          request?.resolve(undefined);
        } else if (request?.command === 'info') {
          this.queue.shift();
          request.resolve({ id, type, size: Number(size) });
        } else {
          this.header = { id, type, size: Number(size) };
        }
        continue;
      }
      const { id, type, size } = this.header;
      if (this.buffered < size + 1) return;
      const bytes = this.bytes();
      // A copy, so that a small object does not keep a large read buffer alive.
      const content = Buffer.from(bytes.subarray(0, size));
      this.consume(size + 1);
      this.header = undefined;
      this.queue.shift()?.resolve({ id, type, size, content });
    }
  }
}
