import { InvalidArgumentError } from './errors.js';

/** Describes a received value for an error message without dumping large objects. */
export function received(value: unknown): string {
  if (typeof value === 'string') {
    return JSON.stringify(
      value.length > 64 ? `${value.slice(0, 64)}…(${value.length} chars)` : value,
    );
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return typeof value === 'object' ? 'an object' : typeof value;
}

/** Throws unless `value` is a plain object whose own keys are all in `known`. */
export function checkKnownKeys(value: unknown, known: ReadonlySet<string>, what: string): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(`${what} must be an object, received ${received(value)}`);
  }
  for (const name in value) {
    if (!known.has(name)) {
      throw new InvalidArgumentError(
        `unknown ${what} option ${JSON.stringify(name)}; known: ${[...known].join(', ')}`,
      );
    }
  }
}

/** Throws unless `value` is an integer in `[min, max]`; returns it. */
export function checkInteger(
  value: unknown,
  name: string,
  min: number,
  max: number,
  unit = '',
): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(
      `${name} must be an integer from ${min} to ${max}${unit}, received ${received(value)}`,
    );
  }
  return value;
}

/** Throws unless `value` is a finite number in `[min, max]`; returns it. */
export function checkNumber(
  value: unknown,
  name: string,
  min: number,
  max: number,
  unit = '',
): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new InvalidArgumentError(
      `${name} must be a finite number from ${min} to ${max}${unit}, received ${received(value)}`,
    );
  }
  return value;
}
