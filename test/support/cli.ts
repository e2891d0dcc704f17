import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { main } from '../../packages/bench/src/cli.js';

/** The built `shardlock` command (`pnpm build` makes it; `pnpm test` builds first). */
export const CLI = fileURLToPath(new URL('../../packages/bench/dist/cli.js', import.meta.url));

/** How a `shardlock` run ended. */
export interface CliExit {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the built command as a child process, stdin not a terminal (closed at once, or fed
 * `input`), with `env` over this process's environment.
 */
export function spawnCli(
  args: readonly string[],
  options: { env?: Record<string, string>; input?: string } = {},
): Promise<CliExit> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin.end(options.input ?? '');
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Runs the command's `main` in this process with streams of its own: faster than a child,
 * and the only way to give it a terminal (`tty`) to ask on, answered with `answer`.
 */
export async function runCli(
  args: readonly string[],
  options: {
    env?: NodeJS.ProcessEnv;
    tty?: boolean;
    /** The answer to the question, or what makes it (run once the question is asked). */
    answer?: string | (() => Promise<string>);
    signal?: AbortSignal;
  } = {},
): Promise<CliExit> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const stdin = Object.assign(new PassThrough(), { isTTY: options.tty ?? false });
  let out = '';
  let err = '';
  let answered = false;
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
    // Answer the question once it is asked, as a person at the terminal would.
    const { answer } = options;
    if (answer !== undefined && !answered && err.includes('[y/N]')) {
      answered = true;
      void (typeof answer === 'string' ? Promise.resolve(answer) : answer()).then((text) =>
        stdin.end(`${text}\n`),
      );
    }
  });
  const code = await main(args, {
    stdout,
    stderr,
    stdin,
    env: options.env ?? {},
    signal: options.signal ?? new AbortController().signal,
  });
  return { code, stdout: out, stderr: err };
}
