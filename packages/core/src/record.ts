import { SettingsMismatchError } from './errors.js';

/**
 * The cluster's record, kept in a hash on every node (`${keyPrefix}cluster`): the settings
 * every client must share, which id names the server, which incarnation of the server was
 * trusted from when, and which node ids have served and since when. It is how a client that
 * starts late learns what it never saw (docs/safety.md, "late clients").
 */
export interface ClusterRecord {
  /** The shared settings, as {@link settingsText} writes them. */
  readonly settings: string | undefined;
  /** The node id the first client gave this server. */
  readonly self: string | undefined;
  /** This server's incarnation, once a client has met it. */
  readonly incarnation: Incarnation | undefined;
  /**
   * Quorum mode: the `run_id` of the incarnation whose fence counter a client raised to the
   * other members' (a replica that may have restarted empty votes only after that).
   */
  readonly raised: string | undefined;
  /** Node ids that have served (or were removed), by id. */
  readonly members: ReadonlyMap<string, MemberEntry>;
}

/** A server's incarnation as the first client to meet it recorded it. */
export interface Incarnation {
  readonly runId: string;
  /** On the server's clock, µs. */
  readonly trustedFromUs: number;
  /** False when it was met brand new: no record listed its id, so it held no lease before. */
  readonly served: boolean;
}

/** One node id in a record. */
export interface MemberEntry {
  readonly weight: number;
  /** `serving`: a member since `sinceUs`; `removed`: taken out at `sinceUs`. */
  readonly state: 'serving' | 'removed';
  /** On the recording server's clock, µs; 0 for the members a cluster was founded with. */
  readonly sinceUs: number;
}

/** The settings that decide owners and quarantines: every client of a cluster shares them. */
export interface SharedSettings {
  readonly maxTtl: number;
  readonly driftFactor: number;
  readonly vnodes: number;
  readonly replicas: number;
}

const SETTING_NAMES = ['maxTtl', 'driftFactor', 'vnodes', 'replicas'] as const;

/** The record field that names the incarnation whose fence counter was raised. */
export const RAISED_FIELD = 'raised';

/** The record field of a member id. */
export function memberField(id: string): string {
  return `m:${id}`;
}

/** A member entry's value; `since` is µs or `'@now'` (the server's time when written). */
export function memberValue(
  weight: number,
  state: MemberEntry['state'],
  since: number | '@now',
): string {
  return `${weight}:${state === 'serving' ? 's' : 'r'}:${since}`;
}

/** The settings as the record keeps them: `maxTtl=60000;driftFactor=0.01;vnodes=4096;replicas=1`. */
export function settingsText(settings: SharedSettings): string {
  return SETTING_NAMES.map((name) => `${name}=${settings[name]}`).join(';');
}

/** Reads a record from the flat field/value list `HGETALL` gives. */
export function parseRecord(flat: readonly unknown[]): ClusterRecord {
  let settings: string | undefined;
  let self: string | undefined;
  let incarnation: ClusterRecord['incarnation'];
  let raised: string | undefined;
  const members = new Map<string, MemberEntry>();
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const field = String(flat[i]);
    const value = String(flat[i + 1]);
    if (field === 'settings') settings = value;
    else if (field === 'self') self = value;
    else if (field === 'inc') incarnation = parseIncarnation(value);
    else if (field === RAISED_FIELD) raised = value;
    else if (field.startsWith('m:')) {
      const entry = parseMember(value);
      if (entry !== undefined) members.set(field.slice(2), entry);
    }
  }
  return { settings, self, incarnation, raised, members };
}

/** Reads `run_id:trustedFromµs:n|s`. */
export function parseIncarnation(value: string): Incarnation | undefined {
  const match = /^(\w+):(\d+):([ns])$/.exec(value);
  if (match === null) return undefined;
  return { runId: match[1]!, trustedFromUs: Number(match[2]), served: match[3] === 's' };
}

function parseMember(value: string): MemberEntry | undefined {
  const match = /^([\d.e+-]+):([sr]):(\d+)$/.exec(value);
  if (match === null) return undefined;
  return {
    weight: Number(match[1]),
    state: match[2] === 's' ? 'serving' : 'removed',
    sinceUs: Number(match[3]),
  };
}

/**
 * Compares the recorded settings with this client's.
 * @throws {@link SettingsMismatchError} naming the first setting that differs
 */
export function checkSettings(recorded: string, mine: SharedSettings, nodeId: string): void {
  const stored = new Map(
    recorded.split(';').map((pair) => {
      const at = pair.indexOf('=');
      return [pair.slice(0, at), pair.slice(at + 1)] as const;
    }),
  );
  for (const name of SETTING_NAMES) {
    const value = stored.get(name);
    if (value !== String(mine[name])) {
      throw new SettingsMismatchError(
        `${name} is ${mine[name]} here but ${value ?? 'absent'} in the cluster's record on node ${JSON.stringify(nodeId)}: every client of a cluster must use the same ${name}`,
        name,
        { nodeId },
      );
    }
  }
  for (const name of stored.keys()) {
    if (!(SETTING_NAMES as readonly string[]).includes(name)) {
      throw new SettingsMismatchError(
        `the cluster's record on node ${JSON.stringify(nodeId)} has a setting ${JSON.stringify(name)} this client does not know: a newer client wrote it`,
        name,
        { nodeId },
      );
    }
  }
}

/**
 * Compares what a record says of this client's nodes with what the client says.
 * @throws {@link SettingsMismatchError} when the server is recorded under another id, or a
 *   serving node with another weight
 */
export function checkMembers(
  record: ClusterRecord,
  nodeId: string,
  weights: ReadonlyMap<string, number>,
): void {
  if (record.self !== undefined && record.self !== nodeId) {
    throw new SettingsMismatchError(
      `the server this client calls ${JSON.stringify(nodeId)} is recorded as node ${JSON.stringify(record.self)}: every client must give each server the same id`,
      'nodes',
      { nodeId },
    );
  }
  for (const [id, entry] of record.members) {
    const weight = weights.get(id);
    if (weight === undefined || entry.state !== 'serving' || entry.weight === weight) continue;
    throw new SettingsMismatchError(
      `node ${JSON.stringify(id)} has weight ${weight} here but ${entry.weight} in the cluster's record on node ${JSON.stringify(nodeId)}`,
      `nodes[${JSON.stringify(id)}].weight`,
      { nodeId },
    );
  }
}
