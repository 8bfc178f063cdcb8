import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { stringify } from 'yaml';

/** One JSON log line of the backend. */
export interface LogLine {
  level: string;
  message: string;
  plugin?: string;
  [key: string]: unknown;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
/** The benchmark's own package: its backend runs from here, inside the repository. */
export const BENCH_DIR = path.dirname(
  require.resolve('@internal/bench/package.json'),
);

/** A real backend in a child process, with its logs, memory and HTTP API at hand. */
export class BackendProcess {
  readonly logs: LogLine[] = [];
  private child?: ChildProcess;
  private readonly waiters: Array<{
    match: (line: LogLine) => boolean;
    resolve: (line: LogLine) => void;
  }> = [];

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly config: object,
    private readonly workDir: string,
    /** The compiled backend to run (`compileBackend`). */
    private readonly entry: string,
    /** Environment variables of its own, beside the benchmark's. */
    private readonly env: Record<string, string> = {},
  ) {}

  get baseUrl() {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.child!.pid!;
  }

  async start(): Promise<void> {
    const configFile = path.join(this.workDir, `${this.name}.yaml`);
    fs.writeFileSync(configFile, stringify(this.config));
    this.child = spawn(process.execPath, [this.entry, '--config', configFile], {
      cwd: BENCH_DIR,
      env: {
        ...process.env,
        NODE_ENV: 'production',
        LOG_LEVEL: 'debug',
        ...this.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buffer = '';
    this.child.stdout!.on('data', chunk => {
      buffer += chunk;
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      for (const text of lines) this.record(text);
    });
    let errors = '';
    this.child.stderr!.on('data', chunk => {
      errors = `${errors}${chunk}`.slice(-4000);
    });
    const exited = new Promise<never>((_, reject) =>
      this.child!.once('exit', code =>
        reject(new Error(`${this.name} exited with ${code}: ${errors}`)),
      ),
    );
    await Promise.race([
      this.waitForLog(l => /Plugin initialization complete/.test(l.message)),
      exited,
    ]);
    exited.catch(() => {});
  }

  /** Resolves with the first log line (from now on, or already seen after `since`) that matches. */
  waitForLog(
    match: (line: LogLine) => boolean,
    since = this.logs.length,
  ): Promise<LogLine> {
    const seen = this.logs.slice(since).find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise(resolve => this.waiters.push({ match, resolve }));
  }

  /**
   * Peak resident memory since the last `resetPeakMemory`, in bytes: the whole process, its
   * resolution worker threads included.
   */
  peakMemory(): number {
    const status = fs.readFileSync(`/proc/${this.pid}/status`, 'utf8');
    return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) * 1024;
  }

  /** Resident memory now, in bytes. */
  memory(): number {
    const status = fs.readFileSync(`/proc/${this.pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
  }

  /** Makes the kernel measure peak memory from now on. */
  resetPeakMemory() {
    fs.writeFileSync(`/proc/${this.pid}/clear_refs`, '5');
  }

  kill() {
    this.child?.kill('SIGKILL');
  }

  async stop() {
    // A process killed by a signal has no exit code, only its signal.
    if (
      !this.child ||
      this.child.exitCode !== null ||
      this.child.signalCode !== null
    ) {
      return;
    }
    const done = new Promise(resolve => this.child!.once('exit', resolve));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), 10_000);
    await done;
    clearTimeout(timer);
  }

  async request(
    method: string,
    urlPath: string,
    token?: string,
  ): Promise<{
    status: number;
    body: string;
    headers: http.IncomingHttpHeaders;
  }> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        `${this.baseUrl}${urlPath}`,
        {
          method,
          agent,
          headers: token ? { authorization: `Bearer ${token}` } : {},
        },
        res => {
          const chunks: Buffer[] = [];
          res.on('data', chunk => chunks.push(chunk));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString(),
              headers: res.headers,
            }),
          );
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  private record(text: string) {
    let line: LogLine;
    try {
      line = JSON.parse(text);
    } catch {
      line = { level: 'info', message: text };
    }
    // Other plugins' debug lines are many and of no interest here.
    if (line.level === 'debug' && line.plugin !== 'promotions') return;
    if (
      process.env.BENCH_VERBOSE &&
      (line.plugin === 'promotions' || /warn|error/.test(line.level))
    ) {
      // eslint-disable-next-line no-console
      console.log(`      [${this.name}] ${line.level} ${line.message}`);
    }
    this.logs.push(line);
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      if (this.waiters[i].match(line)) {
        this.waiters[i].resolve(line);
        this.waiters.splice(i, 1);
      }
    }
  }
}
