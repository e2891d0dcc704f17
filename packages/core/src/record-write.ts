import type { Connection } from './connection.js';
import { NodeUnavailableError } from './errors.js';
import {
  checkSettings,
  memberField,
  memberValue,
  parseIncarnation,
  type SharedSettings,
} from './record.js';

/** An incarnation a client met: its `run_id`, ms until trusted, whether it may have served. */
export interface Met {
  readonly runId: string;
  readonly trustIn: number;
  readonly served: boolean;
}

/** What a record write needs to know of the client. */
export interface RecordContext {
  readonly recordKey: string;
  /** `settingsText()` of the client's settings. */
  readonly settingsText: string;
  readonly settings: SharedSettings;
  /** The client's members and their weights. */
  readonly weights: ReadonlyMap<string, number>;
  /** Ids this client is adding now (recorded `since` the server's time, not the founding). */
  readonly addedNow: ReadonlySet<string>;
  /**
   * Ids added less than a handoff window ago by a change this client applied: written where
   * absent as added now, not "since the founding", which would make them look long-standing
   * to a client started before the change (docs/safety.md, late clients). Now is later than
   * the add: a reader honours the add a little longer, never shorter. Left out, a node that
   * missed the add's listing (it hung meanwhile) never lists them (found in the simulator,
   * seed 731: the added node restarted empty, and a client started then took it for new).
   */
  readonly recent: ReadonlySet<string>;
}

/**
 * Writes what this client knows into a node's record (`scripts/contact.ts`, RECORD_SCRIPT):
 * the settings and the node's id where absent, the incarnation it met, its members where
 * absent (since the founding, or since now for those it is adding), and `extra` triples.
 * @returns ms from now until the stored incarnation is trusted, when another client recorded
 *   a later trust for the incarnation this client met; else `undefined`
 * @throws {@link SettingsMismatchError} when the record holds other settings
 * @throws {@link NodeUnavailableError} when the node does not answer
 */
export async function writeRecord(
  conn: Connection,
  nodeId: string,
  context: RecordContext,
  met: Met | undefined,
  extra: readonly string[] = [],
): Promise<number | undefined> {
  const args = [
    context.settingsText,
    nodeId,
    met?.runId ?? '',
    String(Math.ceil(met?.trustIn ?? 0)),
    met?.served === false ? 'n' : 's',
  ];
  for (const [id, weight] of context.weights) {
    const since = context.addedNow.has(id) || context.recent.has(id) ? '@now' : 0;
    args.push(memberField(id), memberValue(weight, 'serving', since), 'n');
  }
  args.push(...extra);
  let reply: unknown[];
  try {
    reply = await conn.record([context.recordKey], args);
  } catch (cause) {
    throw new NodeUnavailableError(
      `node ${JSON.stringify(nodeId)} did not take the cluster record: ${(cause as Error).message}`,
      { nodeId, cause },
    );
  }
  const [settings, , incarnation, nowUs] = reply as [string, string, string, unknown];
  if (settings !== context.settingsText) checkSettings(settings, context.settings, nodeId);
  const stored = parseIncarnation(incarnation);
  if (met === undefined || stored?.runId !== met.runId) return undefined;
  const trustIn = (stored.trustedFromUs - Number(nowUs)) / 1000;
  return trustIn > met.trustIn + 1 ? trustIn : undefined;
}
