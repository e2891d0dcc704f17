import type { Hello } from './hello.js';
import type { ContactInfo } from './membership/types.js';
import type { Incarnation } from './record.js';

/** The incarnation the node's own record names, if it is the server's current one. */
export function ownIncarnation(hello: Hello): Incarnation | undefined {
  const incarnation = hello.record.incarnation;
  return incarnation?.runId === hello.runId ? incarnation : undefined;
}

/** ms from when the hello was read until the node's current incarnation is trusted. */
export function recordedTrustIn(hello: Hello): number | undefined {
  const incarnation = ownIncarnation(hello);
  if (incarnation === undefined) return undefined;
  return Math.max(0, (incarnation.trustedFromUs - hello.nowUs) / 1000);
}

/**
 * What a hello read at `metAt` says as of `now`, for the membership's decision: the server
 * is older by then, and a recorded trust time nearer (found in the simulator: read long
 * before a start a hung node held back, a recorded trust time counted from the start kept a
 * node others had taken back failed over here, well past their windows).
 * @param listed - whether the records read list the node as a member that has served
 */
export function contactInfoOf(
  hello: Hello,
  listed: boolean,
  metAt: number,
  now: number,
): ContactInfo {
  const age = now - metAt;
  const trustIn = recordedTrustIn(hello);
  return {
    runId: hello.runId,
    uptimeMs: hello.uptimeMs + age,
    ageLimitMs: hello.ageLimitMs + age,
    recordedTrustIn: trustIn === undefined ? undefined : Math.max(0, trustIn - age),
    // The first client to meet this incarnation knew better whether it had served: it
    // looked before anyone listed it.
    served: ownIncarnation(hello)?.served ?? listed,
    raised: hello.record.raised === hello.runId,
    listed,
  };
}
