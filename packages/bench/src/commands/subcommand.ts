import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ShardlockError } from '@shardlock/core';
import { UsageError } from '../args.js';
import { CLUSTER_FLAGS, clusterInput, type ClusterInput } from './cluster-input.js';
import { EXIT } from './exit-codes.js';
import type { CommandIo } from './io.js';
import { errorLine } from './output.js';

/** What a subcommand's `run` is given. */
export interface CommandContext {
  /** Its own flags' values (the shared ones are in `input`). */
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
  readonly input: ClusterInput;
  /** `--json`. */
  readonly json: boolean;
  readonly io: CommandIo;
}

/** One operator subcommand: its flags, its help, its work. */
export interface Subcommand {
  readonly name: string;
  /** The whole `--help` text. */
  readonly usage: string;
  /** Flags beyond {@link CLUSTER_FLAGS}. */
  readonly flags: NonNullable<ParseArgsConfig['options']>;
  /** How many positional arguments it takes. */
  readonly positionals: { readonly min: number; readonly max: number; readonly name: string };
  /** Does the work; resolves to the exit code. */
  run(context: CommandContext): Promise<number>;
}

/**
 * Parses `argv` for `command` and runs it. Usage errors print the message and the help and
 * exit 2; a thrown error prints one line (it names the node and the cause) and exits 2 for
 * a configuration the cluster refuses, 130 when interrupted, else 1.
 */
export async function runSubcommand(
  command: Subcommand,
  argv: readonly string[],
  io: CommandIo,
): Promise<number> {
  let context: CommandContext;
  try {
    const parsed = parseArgs({
      args: [...argv],
      options: { ...CLUSTER_FLAGS, ...command.flags },
      allowPositionals: true,
      strict: true,
    });
    const values = parsed.values as CommandContext['values'];
    const { positionals } = parsed;
    if (values.help === true) {
      io.stdout.write(command.usage);
      return EXIT.OK;
    }
    const { min, max, name } = command.positionals;
    if (positionals.length < min || positionals.length > max) {
      const wanted =
        min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
      throw new UsageError(
        `${command.name} takes ${wanted} ${name}, received ${positionals.length}`,
      );
    }
    context = {
      values,
      positionals,
      input: clusterInput(values, io.env),
      json: values.json === true,
      io,
    };
  } catch (error) {
    if (!(error instanceof UsageError) && !isParseError(error)) throw error;
    io.stderr.write(`shardlock ${command.name}: ${(error as Error).message}\n\n${command.usage}`);
    return EXIT.USAGE;
  }
  try {
    return await command.run(context);
  } catch (error) {
    errorLine(io.stderr, error);
    return exitCodeOf(error);
  }
}

/** The exit code of an error a subcommand threw. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError) return EXIT.USAGE;
  if (error instanceof ShardlockError) {
    if (error.code === 'ERR_INVALID_ARGUMENT' || error.code === 'ERR_SETTINGS_MISMATCH') {
      return EXIT.USAGE;
    }
    if (error.code === 'ERR_LOCK_ABORTED') return EXIT.INTERRUPTED;
  }
  return EXIT.NODE_FAILED;
}

function isParseError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

/**
 * Reads a whole-number flag.
 * @throws {@link UsageError}
 */
export function integerFlag(
  value: string | boolean | undefined,
  flag: string,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  const text = String(value);
  const number = Number(text);
  if (!/^\d+$/.test(text) || number < min || number > max) {
    throw new UsageError(
      `--${flag} takes a whole number from ${min} to ${max}, received ${JSON.stringify(text)}`,
    );
  }
  return number;
}
