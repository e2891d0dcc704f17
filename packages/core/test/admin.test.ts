import { describe, expect, it } from 'vitest';
import { checkForceReleaseOptions, resolveLocksOptions } from '../src/admin/index.js';
import { fingerprintOf, FINGERPRINT_LENGTH, InvalidArgumentError } from '../src/index.js';

describe('token fingerprints', () => {
  it('are the first 8 hex characters of the token’s SHA-1 (FIPS 180 vector)', () => {
    expect(FINGERPRINT_LENGTH).toBe(8);
    // SHA-1("abc") = a9993e36 4706816a ba3e2571 7850c26c 9cd0d89d
    expect(fingerprintOf('abc')).toBe('a9993e36');
    expect(fingerprintOf('abd')).not.toBe('a9993e36');
  });
});

describe('operator call options', () => {
  it('locks: defaults, and refusals that name the option', () => {
    expect(resolveLocksOptions(undefined)).toEqual({ match: '*', count: 100, signal: undefined });
    expect(resolveLocksOptions({ match: 'order:*', count: 7 })).toMatchObject({
      match: 'order:*',
      count: 7,
    });
    expect(() => resolveLocksOptions({ count: 10_001 })).toThrow(
      /count must be an integer from 1 to 10000/,
    );
    expect(() => resolveLocksOptions({ match: '\uD800' })).toThrow(InvalidArgumentError);
    expect(() => resolveLocksOptions({ cursor: 1 } as never)).toThrow(
      /unknown locks option "cursor"/,
    );
  });

  it('forceRelease: a fingerprint is 8 hex characters, any case, kept in lower case', () => {
    expect(checkForceReleaseOptions(undefined, 'k')).toBeUndefined();
    expect(checkForceReleaseOptions({}, 'k')).toBeUndefined();
    expect(checkForceReleaseOptions({ fingerprint: 'A9993E36' }, 'k')).toBe('a9993e36');
    for (const fingerprint of ['a9993e3', 'a9993e366', 'g9993e36', '', ' a9993e36']) {
      expect(() => checkForceReleaseOptions({ fingerprint }, 'k')).toThrow(
        /fingerprint must be 8 hex characters/,
      );
    }
  });
});
