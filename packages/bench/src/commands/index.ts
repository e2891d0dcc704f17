// The operator subcommands of `shardlock`: one module each, over the client's own calls.
import { INSPECT_COMMAND } from './inspect-command.js';
import { LOCKS_COMMAND } from './locks-command.js';
import { NODES_COMMAND } from './nodes-command.js';
import { RING_COMMAND } from './ring-command.js';
import type { Subcommand } from './subcommand.js';
import { UNLOCK_COMMAND } from './unlock-command.js';

export { EXIT } from './exit-codes.js';
export { runSubcommand } from './subcommand.js';
export type { CommandIo } from './io.js';
export type { Subcommand } from './subcommand.js';

/** The operator subcommands by name. */
export const SUBCOMMANDS: ReadonlyMap<string, Subcommand> = new Map(
  [LOCKS_COMMAND, INSPECT_COMMAND, UNLOCK_COMMAND, NODES_COMMAND, RING_COMMAND].map((c) => [
    c.name,
    c,
  ]),
);

/** The top of `shardlock --help`. */
export const OVERVIEW = `Usage: shardlock <command> [options]   (shardlock <command> --help for each)

Commands:
  bench                  lock-traffic benchmark (the default: shardlock --nodes-count 3 …)
  locks                  held locks on every node, the longest lease first
  inspect KEY            who holds KEY, for how long, with which fence, on which node(s)
  unlock KEY             delete KEY's lock (asks first; --yes to skip; --fingerprint F)
  nodes                  every node's state, memory, eviction policy, age, with problems flagged
  ring KEY…              owner and preference list of keys; --simulate-add/--simulate-remove ID

Exit codes: 0 done; 1 a node could not be reached or refused a command; 2 bad usage or
configuration; 3 unlock deleted nothing; 4 nodes flagged a problem; 130 interrupted.
`;
