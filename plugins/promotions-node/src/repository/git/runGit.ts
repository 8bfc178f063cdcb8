import { execFile } from 'node:child_process';

const MAX_OUTPUT = 256 * 1024 * 1024;

/**
 * Environment of every git command: no prompts, no optional locks, no configuration from the
 * machine or the user that could change what is read or run hooks and credential helpers.
 */
export function gitEnvironment(
  extra: NodeJS.ProcessEnv = {},
): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GIT_TERMINAL_PROMPT: '0',
    GIT_OPTIONAL_LOCKS: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_ASKPASS: '',
    SSH_ASKPASS: '',
    ...extra,
  };
}

/**
 * A git command failed. The message says which command; `detail` holds git's own words, which
 * may name local paths, so they go to the log and never into an answer to a user.
 */
export class GitCommandError extends Error {
  readonly detail: string;
  readonly exitCode: number | undefined;
  constructor(command: string, detail: string, exitCode: number | undefined) {
    super(`git ${command} failed`);
    this.name = 'GitCommandError';
    this.detail = detail;
    this.exitCode = exitCode;
  }
}

/** Runs git without a shell or prompts and returns its standard output. */
export function runGit(
  args: string[],
  options: {
    cwd?: string;
    env?: NodeJS.ProcessEnv;
    input?: Buffer | string;
    timeoutMs?: number;
  } = {},
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'git',
      args,
      {
        cwd: options.cwd,
        encoding: 'buffer',
        maxBuffer: MAX_OUTPUT,
        timeout: options.timeoutMs ?? 120_000,
        env: gitEnvironment(options.env),
      },
      (error, stdout, stderr) => {
        if (error) {
          const code = (error as { code?: unknown }).code;
          reject(
            new GitCommandError(
              args[0],
              stderr.toString('utf8').trim() || error.message,
              typeof code === 'number' ? code : undefined,
            ),
          );
        } else {
          resolve(stdout);
        }
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}
