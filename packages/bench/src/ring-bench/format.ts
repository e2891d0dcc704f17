// How the ring bench prints numbers and its progress.

/** `value` with `digits` decimals. */
export const fixed = (value: number, digits = 4): string => value.toFixed(digits);

/** A fraction as a percentage with 3 decimals: `0.0909` → `9.090 %`. */
export const pct = (value: number): string => `${(value * 100).toFixed(3)} %`;

/** Rounded, with thousands separators: `2048000` → `2,048,000`. */
export const int = (value: number): string => Math.round(value).toLocaleString('en-US');

/** Writes a progress line to stderr, so stdout holds only the report. */
export const progress = (text: string): void => {
  process.stderr.write(`${text}\n`);
};
