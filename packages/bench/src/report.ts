/** One row of a table: column name to cell. */
export type TableRow = Record<string, string | number>;

/**
 * Formats rows as a Markdown table, padded so it also reads well in a terminal and pastes
 * into a README as is. Columns are the rows' keys in order of first appearance; a missing
 * cell is empty. Numbers are printed with `String()`, so callers round them (or pass them
 * formatted, e.g. `'1.0287'`, `'12.5 %'`). A column whose cells all look like numbers, with
 * an optional unit, is right-aligned; any other column, and those named in `text` (hex
 * fingerprints, ids), is left-aligned.
 *
 * @example
 * ```ts
 * formatTable([{ nodes: 10, verdict: 'PASS' }]);
 * // | nodes | verdict |
 * // | ----: | :------ |
 * // |    10 | PASS    |
 * ```
 */
export function formatTable(
  rows: readonly TableRow[],
  text: ReadonlySet<string> = new Set(),
): string {
  const columns: string[] = [];
  const numeric = new Map<string, boolean>();
  for (const row of rows) {
    for (const [column, value] of Object.entries(row)) {
      if (!numeric.has(column)) columns.push(column);
      numeric.set(
        column,
        (numeric.get(column) ?? true) && !text.has(column) && looksNumeric(value),
      );
    }
  }
  const cells = rows.map((row) => columns.map((column) => escape(row[column])));
  const widths = columns.map((column, c) =>
    Math.max(3, column.length, ...cells.map((line) => line[c]!.length)),
  );
  const pad = (text: string, c: number): string =>
    numeric.get(columns[c]!) === true ? text.padStart(widths[c]!) : text.padEnd(widths[c]!);
  const rule = widths.map((width, c) =>
    numeric.get(columns[c]!) === true ? `${'-'.repeat(width - 1)}:` : `:${'-'.repeat(width - 1)}`,
  );
  const line = (parts: readonly string[]): string => `| ${parts.join(' | ')} |`;
  return [
    line(columns.map((column, c) => pad(column, c))),
    line(rule),
    ...cells.map((row) => line(row.map((cell, c) => pad(cell, c)))),
  ].join('\n');
}

// A number, maybe signed, with thousands separators and decimals, then maybe one unit word.
const NUMERIC = /^[-+−]?\d[\d,]*(\.\d+)?( ?[^\s\d]+)?$/;

function looksNumeric(value: string | number): boolean {
  return typeof value === 'number' || NUMERIC.test(value);
}

/** A cell's text; `|` would end the cell in Markdown, so it is escaped. */
function escape(value: string | number | undefined): string {
  return value === undefined ? '' : String(value).replaceAll('|', '\\|');
}
