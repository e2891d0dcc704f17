// Where and how the bench ran, printed above its tables.
import os from 'node:os';
import path from 'node:path';

/** The machine, the Node version, the time and the command of a run. */
export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memory: string;
  readonly os: string;
  readonly node: string;
  /** ISO 8601, when the run started. */
  readonly date: string;
  /** The command as typed: `pnpm bench → node dist/ring.bench.js` under pnpm. */
  readonly command: string;
}

/** Describes this machine and process. */
export function describeMachine(): Machine {
  const cpus = os.cpus();
  const script = path.relative(process.cwd(), process.argv[1] ?? 'ring.bench.js');
  const event = process.env.npm_lifecycle_event;
  const via = event === undefined ? '' : `pnpm ${event} → `;
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    date: new Date().toISOString(),
    command: `${via}node ${[script, ...process.argv.slice(2)].join(' ')}`,
  };
}

/** One line: CPU, cores, memory, OS; Node; date. */
export function machineLine(machine: Machine): string {
  const { cpu, cores, memory, node, date } = machine;
  return `${cpu}, ${cores} cores, ${memory}, ${machine.os}; Node ${node}; ${date}`;
}
