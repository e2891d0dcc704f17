import type { HashFunction } from '../src/index.js';

const decoder = new TextDecoder();

/**
 * A hash whose points can be worked out by hand: a decimal string hashes to its number,
 * and any other text (a virtual-node label such as `a#0`) to the number in `table`.
 */
export function tableHash(table: Record<string, number>): HashFunction {
  return (bytes) => {
    const text = decoder.decode(bytes);
    if (/^\d+$/.test(text)) return Number(text);
    const value = table[text];
    if (value === undefined) throw new Error(`tableHash: no point for ${JSON.stringify(text)}`);
    return value;
  };
}

/** Keys `prefix0` … `prefix{count-1}`. */
export function keys(count: number, prefix = 'key:'): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${i}`);
}
