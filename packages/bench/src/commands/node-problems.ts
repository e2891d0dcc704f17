import type { ClusterRecord } from '@shardlock/core/internal';

/** A problem `shardlock nodes` flags on a node. */
export interface NodeProblem {
  /**
   * `unreachable`; `eviction` (a policy that can drop locks); `young` (started less than
   * maxTtl + drift ago: it may have restarted empty); `settings` (its record's shared settings
   * differ from the command's); `identity` (its record names the server differently);
   * `no-record` (other nodes have a record, it has none).
   */
  readonly code: 'unreachable' | 'eviction' | 'young' | 'settings' | 'identity' | 'no-record';
  readonly message: string;
}

/** What {@link nodeProblems} looks at. */
export interface ProblemInput {
  readonly id: string;
  readonly error: string | undefined;
  readonly policy: string | undefined;
  /** bytes; 0: no limit. */
  readonly maxmemory: number | undefined;
  readonly uptimeSeconds: number | undefined;
  readonly record: ClusterRecord | undefined;
  /** `maxTtl + drift`, ms: how long clients quarantine a young server. */
  readonly quarantineMs: number;
  /** The settings the command uses, as `settingsText` writes them. */
  readonly settings: string;
  /** Whether another node holds a record. */
  readonly othersHaveRecord: boolean;
}

/** The problems of one node; pure, so each rule is unit-tested. */
export function nodeProblems(node: ProblemInput): NodeProblem[] {
  if (node.error !== undefined) return [{ code: 'unreachable', message: node.error }];
  const problems: NodeProblem[] = [];
  const { policy } = node;
  if (policy?.startsWith('allkeys-') === true) {
    problems.push({
      code: 'eviction',
      message: `maxmemory-policy ${policy} may evict held locks and fence counters (clients refuse this node): use noeviction`,
    });
  } else if (policy?.startsWith('volatile-') === true && (node.maxmemory ?? 0) > 0) {
    problems.push({
      code: 'eviction',
      message: `maxmemory-policy ${policy} with maxmemory set may evict held locks (they carry a TTL) when memory runs out: use noeviction`,
    });
  }
  if (node.uptimeSeconds !== undefined && node.uptimeSeconds * 1000 < node.quarantineMs) {
    problems.push({
      code: 'young',
      message: `started ${node.uptimeSeconds} s ago, less than maxTtl + drift (${(node.quarantineMs / 1000).toFixed(1)} s): if it restarted, the locks it held are gone while their holders may still believe them; clients quarantine its keys until then`,
    });
  }
  const { record } = node;
  if (record === undefined) {
    if (node.othersHaveRecord) {
      problems.push({
        code: 'no-record',
        message:
          'no cluster record while other nodes have one: it restarted empty, or no client has met it yet',
      });
    }
    return problems;
  }
  if (record.settings !== undefined && record.settings !== node.settings) {
    problems.push({ code: 'settings', message: settingsDiff(record.settings, node.settings) });
  }
  if (record.self !== undefined && record.self !== node.id) {
    problems.push({
      code: 'identity',
      message: `its record names this server ${JSON.stringify(record.self)}, the command calls it ${JSON.stringify(node.id)}: every client must give each server the same id`,
    });
  }
  return problems;
}

function settingsDiff(recorded: string, mine: string): string {
  const parse = (text: string): Map<string, string> =>
    new Map(
      text.split(';').map((pair) => [pair.split('=')[0]!, pair.split('=')[1] ?? ''] as const),
    );
  const theirs = parse(recorded);
  const ours = parse(mine);
  const names = new Set([...theirs.keys(), ...ours.keys()]);
  const diffs = [...names]
    .filter((name) => theirs.get(name) !== ours.get(name))
    .map(
      (name) =>
        `${name} ${theirs.get(name) ?? 'absent'} in its record, ${ours.get(name) ?? 'absent'} here`,
    );
  return `settings differ from the cluster's: ${diffs.join('; ')} (clients with either refuse to start on the other's nodes)`;
}
