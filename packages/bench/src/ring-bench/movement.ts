// Movement: which keys change owner when a node joins or leaves a ring of default options.
import { HashRing } from '@shardlock/ring';
import { movementOnAdd, movementOnRemove, randomIdSets } from '../ring-metrics.js';
import { fixed, int, pct, progress } from './format.js';
import { ID_SEED, ID_SETS } from './inputs.js';
import { TARGET, type BenchResults } from './results.js';

/** Keys whose owners are compared before and after each change. */
export const MOVEMENT_KEYS = 200_000;

type Check = [change: string, measure: string, value: string, bound: string, ok?: boolean];

/** Adds a node to `ring` and removes each of its nodes in turn; records the targets. */
export function movementSection(results: BenchResults, ring: HashRing): void {
  progress('movement…');
  const keys = Array.from({ length: MOVEMENT_KEYS }, (_, i) => `key:${i}`);
  const newId = `node-${ring.size}`;
  const add = movementOnAdd(ring, newId, keys);
  const bound = TARGET.addOverFair * add.fairShare;
  const limit = `≤ ${pct(bound)}`;
  const removals = ring.nodes.map(({ id }) => movementOnRemove(ring, id, keys));
  const clean = removals.filter((removal) => removal.onlyRemovedNodesKeys).length;
  const moved = removals.map((removal) => removal.movedFraction);
  const sets = randomIdSets(ID_SETS, ring.size + 1, ID_SEED + 1);
  const overFair = sets.map((set) => {
    const id = set.pop()!;
    return new HashRing(set).add(id).shares().get(id)! / add.fairShare;
  });
  const over = overFair.filter((ratio) => ratio > TARGET.addOverFair).length;
  const added = `add ${newId} to ${ring.size}`;
  const randomAdd = `add a random id to ${ring.size} random ids, ${ID_SETS} sets`;
  const removed = `remove each of the ${ring.size}`;
  const moves = `${pct(Math.min(...moved))} – ${pct(Math.max(...moved))}`;
  const checks: Check[] = [
    [
      added,
      `moved keys (${int(MOVEMENT_KEYS)} keys)`,
      pct(add.movedFraction),
      limit,
      add.movedFraction <= bound,
    ],
    [added, 'new node’s exact share (arcs)', pct(add.exactShare), limit, add.exactShare <= bound],
    [
      added,
      'moved keys that went to the new node',
      add.allToNewNode ? 'all' : 'not all',
      'all',
      add.allToNewNode,
    ],
    [
      randomAdd,
      'new node’s exact share / fair, worst',
      fixed(Math.max(...overFair)),
      `≤ ${TARGET.addOverFair}`,
      over === 0,
    ],
    [
      removed,
      'nodes whose removal moved only their keys',
      `${clean} of ${removals.length}`,
      'all',
      clean === removals.length,
    ],
    [removed, 'moved keys, min – max', moves, ''],
  ];
  const rows = checks.map(([change, measure, value, bound, ok]) => ({
    change,
    measure,
    value,
    bound,
    verdict: ok === undefined ? '' : results.target(`${change}: ${measure}`, value, bound, ok),
  }));
  const n = ring.size + 1;
  results.section('Movement (default options)', rows, [
    `keys: \`key:0\` … \`key:${MOVEMENT_KEYS - 1}\`; the fair share of node ${n} is 1/${n} = ${pct(add.fairShare)}, so the bound is ${TARGET.addOverFair} × 1/${n}.`,
    `adding a random id: ${over} of ${ID_SETS} sets over ${TARGET.addOverFair} × fair.`,
  ]);
}
