import type { Decision } from './membership/types.js';
import { movedShare } from './membership/views.js';
import type { Emit } from './events.js';

/** The decisions membership only tells about. */
type Told = Extract<Decision, { type: 'quarantined' | 'restarted' | 'rebalance' | 'handoffEnd' }>;

/** Emits the client event a decision stands for. */
export function emitDecision(emit: Emit, decision: Told, now: number): void {
  switch (decision.type) {
    case 'quarantined':
      emit('nodeQuarantined', {
        nodeId: decision.nodeId,
        until: Math.max(0, Math.round(decision.until - now)),
      });
      return;
    case 'restarted':
      emit('nodeRestarted', { nodeId: decision.nodeId });
      return;
    case 'rebalance': {
      // The share is sampled over 4,096 keys: worked out only if someone reads it.
      const { before, after } = decision;
      let share: number | undefined;
      emit('rebalance', {
        epoch: decision.epoch,
        reason: decision.reason,
        nodeId: decision.nodeId,
        get movedShare() {
          return (share ??= movedShare(before, after));
        },
      });
      return;
    }
    case 'handoffEnd':
      emit('handoffEnd', { epoch: decision.epoch });
  }
}
