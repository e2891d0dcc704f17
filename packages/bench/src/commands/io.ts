import { createInterface } from 'node:readline/promises';
import type { Readable, Writable } from 'node:stream';

/** Where a subcommand reads and writes: the process's own streams, or a test's. */
export interface CommandIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
  /** Read only by `unlock`'s question. */
  readonly stdin: Readable & { readonly isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
  /** Aborts on Ctrl-C. */
  readonly signal: AbortSignal;
}

/** Writes `text` and a newline. */
export function println(stream: Writable, text = ''): void {
  stream.write(`${text}\n`);
}

/** Asks a yes/no question on stderr and reads the answer from stdin; only `y`/`yes` is yes. */
export async function confirm(io: CommandIo, question: string): Promise<boolean> {
  const lines = createInterface({ input: io.stdin, output: io.stderr, terminal: false });
  try {
    const answer = await lines.question(`${question} [y/N] `, { signal: io.signal });
    return /^\s*y(es)?\s*$/i.test(answer);
  } catch {
    return false;
  } finally {
    lines.close();
  }
}
