import type { Writable } from 'node:stream';
import { formatTable, type TableRow } from '../report.js';
import { println } from './io.js';

/** JSON with bigints (fences) as decimal strings and errors as `{ code, message }`. */
export function toJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, v: unknown) => {
      if (typeof v === 'bigint') return v.toString();
      if (v instanceof Error) {
        const { code } = v as { code?: unknown };
        return { code: typeof code === 'string' ? code : undefined, message: v.message };
      }
      return v;
    },
    2,
  );
}

// Columns that hold names, never amounts, whatever they look like (`7e3a01ff`, `n1`).
const TEXT_COLUMNS = new Set(['key', 'node', 'fingerprint', 'run_id', 'address']);

/** Prints `rows` as a table, or `empty` when there are none. */
export function printTable(stream: Writable, rows: readonly TableRow[], empty: string): void {
  println(stream, rows.length === 0 ? empty : formatTable(rows, TEXT_COLUMNS));
}

/** A duration for people: `850 ms`, `12.3 s`, `4 m 05 s`, `3 h 02 m`, `2 d 4 h`. */
export function duration(ms: number | undefined): string {
  if (ms === undefined) return '';
  if (ms < 0) return 'no expiry';
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  const s = ms / 1_000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const whole = Math.floor(s);
  if (whole < 3_600) return `${Math.floor(whole / 60)} m ${String(whole % 60).padStart(2, '0')} s`;
  if (whole < 86_400) {
    return `${Math.floor(whole / 3_600)} h ${String(Math.floor((whole % 3_600) / 60)).padStart(2, '0')} m`;
  }
  return `${Math.floor(whole / 86_400)} d ${Math.floor((whole % 86_400) / 3_600)} h`;
}

/** Bytes for people: `812 B`, `1.4 MiB`. */
export function bytes(value: number | undefined): string {
  if (value === undefined) return '';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let amount = value;
  let unit = 0;
  while (amount >= 1024 && unit < units.length - 1) {
    amount /= 1024;
    unit++;
  }
  return unit === 0 ? `${amount} B` : `${amount.toFixed(1)} ${units[unit]!}`;
}

/** A share from 0 to 1 as a percentage: `20.1 %`. */
export function percent(share: number): string {
  return `${(share * 100).toFixed(1)} %`;
}

/** The one line an error gets on stderr: `shardlock: <what happened, naming the node>`. */
export function errorLine(stream: Writable, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  println(stream, `shardlock: ${message.split('\n')[0]!}`);
}
