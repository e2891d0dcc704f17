/** One grant as the mutual-exclusion checker sees it (times in ms on `performance.now()`). */
export interface Grant {
  readonly key: string;
  readonly token: string;
  readonly fence: bigint;
  /** When the grant's reply arrived. */
  readonly grantedAt: number;
  /** Send time + ttl − drift: the end of what the holder may believe. */
  believedUntil: number;
  /** When the holder stopped believing (released, or saw the lock lost); Infinity while held. */
  releasedAt: number;
  /** Which client or process took it. */
  readonly owner: string;
}

/** Two grants of one key whose believed intervals overlap. */
export interface Violation {
  readonly first: Grant;
  readonly second: Grant;
}

/** The end of a grant's believed interval. */
export function believedEnd(grant: Grant): number {
  return Math.min(grant.believedUntil, grant.releasedAt);
}

/**
 * Grants whose validity had run out when their holder first looked (`believedUntil ≤
 * grantedAt`): the process stopped between the client's check and the holder's look (hazard 1,
 * a SIGSTOP or a GC pause). The holder never believes them, so the interval checks skip them;
 * callers decide whether each is explained by such a stop.
 */
export function expiredOnArrival(grants: readonly Grant[]): Grant[] {
  return grants.filter((grant) => grant.believedUntil <= grant.grantedAt);
}

const believed = (grants: readonly Grant[]): Grant[] =>
  grants.filter((grant) => grant.believedUntil > grant.grantedAt);

/**
 * Overlapping believed intervals, per key (docs/safety.md): a violation is two grants of one key
 * whose `[grantedAt, min(believedUntil, releasedAt)]` intervals overlap. Grants
 * {@link expiredOnArrival} are never believed and take no part.
 */
export function findViolations(grants: readonly Grant[]): Violation[] {
  const byKey = groupByKey(believed(grants));
  const violations: Violation[] = [];
  for (const list of byKey.values()) {
    list.sort((a, b) => a.grantedAt - b.grantedAt);
    let latest: Grant | undefined;
    for (const grant of list) {
      if (latest !== undefined && grant.grantedAt < believedEnd(latest))
        violations.push({ first: latest, second: grant });
      if (latest === undefined || believedEnd(grant) > believedEnd(latest)) latest = grant;
    }
  }
  return violations;
}

/**
 * Grants whose fence is not above the fence of an earlier grant of the same key; grants
 * {@link expiredOnArrival} take no part (their holder never uses them).
 */
export function findFenceRegressions(grants: readonly Grant[]): Violation[] {
  const regressions: Violation[] = [];
  for (const list of groupByKey(believed(grants)).values()) {
    list.sort((a, b) => a.grantedAt - b.grantedAt);
    let highest: Grant | undefined;
    for (const grant of list) {
      if (highest !== undefined && grant.fence <= highest.fence)
        regressions.push({ first: highest, second: grant });
      if (highest === undefined || grant.fence > highest.fence) highest = grant;
    }
  }
  return regressions;
}

function groupByKey(grants: readonly Grant[]): Map<string, Grant[]> {
  const byKey = new Map<string, Grant[]>();
  for (const grant of grants) {
    let list = byKey.get(grant.key);
    if (list === undefined) {
      list = [];
      byKey.set(grant.key, list);
    }
    list.push(grant);
  }
  return byKey;
}

/** A readable line about a violation, for assertion messages. */
export function describeViolation({ first, second }: Violation): string {
  return `${first.key}: ${first.owner} fence ${first.fence} [${first.grantedAt.toFixed(1)}, ${believedEnd(first).toFixed(1)}] vs ${second.owner} fence ${second.fence} granted ${second.grantedAt.toFixed(1)}`;
}
