import { describe, expect, it } from 'vitest';
import { contactInfoOf } from '../src/contact-info.js';
import type { Hello } from '../src/hello.js';

/** A hello of run `r2`, 3 s old, whose record says it is trusted 800 ms after the read. */
const hello: Hello = {
  runId: 'r2',
  uptimeMs: 3_000,
  ageLimitMs: 4_000,
  nowUs: 10_000_000,
  record: {
    settings: undefined,
    self: 'n0',
    incarnation: { runId: 'r2', trustedFromUs: 10_800_000, served: true },
    raised: undefined,
    members: new Map(),
  },
};

describe('contactInfoOf', () => {
  it('takes a hello read now as it is', () => {
    expect(contactInfoOf(hello, false, 50, 50)).toEqual({
      runId: 'r2',
      uptimeMs: 3_000,
      ageLimitMs: 4_000,
      recordedTrustIn: 800,
      served: true,
      raised: false,
      listed: false,
    });
  });

  it('ages a hello read before a start a hung node held back, to the decision', () => {
    // Found in the simulator (replay 939): taken as read at the decision, a hello read 600 ms
    // earlier kept a node others had already taken back failed over here.
    const info = contactInfoOf(hello, true, 100, 700);
    expect(info).toMatchObject({ uptimeMs: 3_600, ageLimitMs: 4_600, recordedTrustIn: 200 });
    expect(contactInfoOf(hello, true, 0, 2_000).recordedTrustIn).toBe(0);
  });
});
