import type { Member } from './member.js';
import type { ContactInfo, MembershipTiming } from './types.js';

/**
 * Until when a node's keys are refused after its server answered: a restart found by its
 * `run_id` waits out `Q` from when it was seen down and from the new run's start (the old
 * runs' leases died by then); a young server that served before, met for the first time,
 * waits out `Q` from its start; and whatever another client recorded for this incarnation
 * counts too.
 */
export function trustAfterContact<T>(
  m: Member<T>,
  info: ContactInfo,
  now: number,
  timing: MembershipTiming,
): { trustAt: number; restarted: boolean } {
  const q = timing.quarantine;
  let trustAt = m.trustAt;
  const restarted = m.known && m.runId !== info.runId;
  // Its old runs' leases ended when this client saw it go down, and in any case when the new
  // run started, which its age dates: another client may have used a run this one never saw
  // (a crash loop), or the node was up for the others while this client refused it (both
  // found in the simulator: counted from this client's outage alone, the quarantine was over).
  if (restarted) {
    trustAt = Math.max(trustAt, (m.downSince ?? now) + q, now + q - info.uptimeMs);
  }
  if (info.recordedTrustIn !== undefined) {
    trustAt = Math.max(trustAt, now + info.recordedTrustIn);
  } else if (
    !m.known &&
    // One this client failed over was out of reach for a quarantine already: any lease of
    // its earlier run is over, and other clients may be taking it back now.
    !m.failedOver &&
    timing.restartQuarantine &&
    info.served &&
    info.uptimeMs < q
  ) {
    trustAt = Math.max(trustAt, now + q - info.uptimeMs);
  }
  return { trustAt, restarted };
}

/**
 * For how long a node that answers again (or for the first time) must also be won on its
 * successors: another client may have failed it over and still grant its keys there
 * (docs/safety.md, "views").
 * @param downFor - how long this client saw it down; `undefined` at a first contact
 */
export function windowAfterContact(
  info: ContactInfo,
  downFor: number | undefined,
  timing: MembershipTiming,
): number {
  const { quarantine: q, detectionLag: lag, handoffWindow } = timing;
  // Back from an outage: another client that saw it down up to a detection lag sooner may
  // have failed it over; until the whole window has passed it may still be in its own.
  if (downFor !== undefined) return downFor + 2 * lag >= q ? handoffWindow : 0;
  // Young and served before: it may have restarted empty, and others failed its old run over.
  if (info.served && info.uptimeMs < q + lag && timing.restartQuarantine) return handoffWindow;
  // No client lists it, or this run is surely younger than a quarantine: nobody can have
  // failed it over.
  if (!info.listed || info.ageLimitMs < q) return 0;
  // Old: others may have failed it over during an outage this client never saw, and not seen
  // it back yet. They do within a detection lag of its return; a lock one of them took on a
  // successor just before is believed for a quarantine more (found in the simulator: a window
  // of the detection lag alone ended while such a lock was still held).
  return lag + q;
}
