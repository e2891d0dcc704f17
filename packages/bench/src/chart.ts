import type { BenchReport, ContenderResult } from './results.js';

/** Title of the throughput chart and of the HTML report. */
export const CHART_TITLE = 'Lock throughput: acquire+release pairs/s, higher is better';

const WIDTH = 900;
const HEIGHT = 480;
const LEFT = 76;
const RIGHT = WIDTH - 24;
const BOTTOM = HEIGHT - 44;
const LEGEND_TOP = 82;
// Room above the tallest bar (it may reach the top tick) for its value and "errors" mark.
const HEADROOM = 40;
// Upright labels need more: "1.2M errors" is about 70 units long at 11 px.
const VERTICAL_HEADROOM = 76;
// Okabe–Ito (told apart with the common colour-vision deficiencies; its yellow left out, no
// contrast on white), then grey and two of Paul Tol's; an 11th contender reuses the first.
const PALETTE = [
  '#0072B2',
  '#E69F00',
  '#009E73',
  '#CC79A7',
  '#56B4E9',
  '#D55E00',
  '#000000',
  '#999999',
  '#882255',
  '#44AA99',
];
const ERROR_COLOUR = '#C00000';

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Plot area, in SVG user units. */
interface Frame {
  readonly top: number;
  readonly bottom: number;
  readonly left: number;
  readonly right: number;
}

/**
 * A pairs/s figure in at most four significant characters: `850`, `85.4k`, `123k`, `1.2M`.
 *
 * @example
 * ```ts
 * formatRate(85_432); // '85.4k'
 * formatRate(20_000); // '20k'
 * ```
 */
export function formatRate(value: number): string {
  const abs = Math.abs(value);
  if (abs < 1000) return String(Math.round(value * 100) / 100);
  const [scaled, suffix] = abs >= 999_950 ? [value / 1e6, 'M'] : [value / 1e3, 'k'];
  const digits = Math.abs(scaled) >= 99.95 ? 0 : 1;
  return `${scaled.toFixed(digits).replace(/\.0$/, '')}${suffix}`;
}

/**
 * Gridline values from 0 to at least `max`, 4 to 6 of them, a step of 1, 2, 2.5 or 5 times a
 * power of ten. A `max` of 0 or less (every run failed) gives the ticks for 1.
 *
 * @example
 * ```ts
 * niceTicks(85_432); // [0, 20000, 40000, 60000, 80000, 100000]
 * ```
 */
export function niceTicks(max: number): number[] {
  const target = max > 0 && Number.isFinite(max) ? max : 1;
  // Each step is at most 2.5× the one before, so the first that needs ≤ 5 intervals needs ≥ 3.
  for (let magnitude = 10 ** Math.floor(Math.log10(target / 5)); ; magnitude *= 10) {
    for (const multiple of [1, 2, 2.5, 5]) {
      const step = multiple * magnitude;
      const intervals = Math.ceil(target / step - 1e-9);
      if (intervals <= 5) {
        return Array.from({ length: intervals + 1 }, (_, i) => Number((i * step).toPrecision(12)));
      }
    }
  }
}

/**
 * The report's throughput as a self-contained SVG grouped bar chart (900×480, with a
 * `viewBox`): one group per node count, ascending; within it one bar per contender, in the
 * order contenders first appear in `results`, each with one colour throughout and a legend.
 * Every bar is a `<rect class="bar">` with its value printed above it; a result with errors
 * is marked "errors" in red, and one with no throughput is drawn as a zero-height bar.
 *
 * Pure: the same report gives the same text.
 */
export function throughputSvg(report: BenchReport): string {
  const legend = legendItems(contenderOrder(report.results));
  const ticks = niceTicks(Math.max(0, ...report.results.map((r) => r.pairsPerSecond)));
  const at = layout(report.results, ticks.at(-1) ?? 1, legend.bottom);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="system-ui, sans-serif" role="img">`,
    `<title>${escapeXml(CHART_TITLE)}</title>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    ...heading(report),
    ...legend.svg,
    ...yAxis(ticks, at.frame),
    ...groups(report.results, at),
    '</svg>',
  ].join('\n');
}

/**
 * The report as a self-contained HTML page (no external assets, no scripts): title, workload,
 * machine, date and command, the {@link throughputSvg} chart inline, then one table per node
 * count with each contender's pairs/s, ratio to raw, acquire latency percentiles, CPU per pair,
 * failures and errors (with the first error's text).
 */
export function reportHtml(report: BenchReport): string {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeXml(CHART_TITLE)}</title>`,
    `<style>${PAGE_CSS}</style>`,
    '</head>',
    '<body>',
    `<h1>${escapeXml(CHART_TITLE)}</h1>`,
    `<p>${escapeXml(workloadLine(report))}<br>${escapeXml(machineLine(report))}<br>`,
    `${escapeXml(report.date)}, ${escapeXml(report.cluster)} cluster: <code>${escapeXml(report.command)}</code></p>`,
    `<figure>${throughputSvg(report)}</figure>`,
    ...nodeCounts(report.results).map((nodes) => resultTable(report.results, nodes)),
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

const PAGE_CSS = [
  'body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:960px;padding:0 1rem;color:#222}',
  'h1{font-size:1.4rem}p{color:#555;line-height:1.5}figure{margin:1.5rem 0}',
  'svg{max-width:100%;height:auto}table{border-collapse:collapse;margin-bottom:1.5rem}',
  'th,td{padding:.3rem .7rem;border-bottom:1px solid #ddd;text-align:right}',
  'th:first-child,td:first-child{text-align:left}.err{color:#c00000}small{display:block}',
].join('');

/** Text for XML and HTML alike: the five special characters escaped, C0 controls dropped. */
export function escapeXml(text: string): string {
  // XML 1.0 forbids C0 controls other than tab, LF and CR even as references, and an error
  // message may carry them.
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, '');
  return clean.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

/** A coordinate with two decimals at most. */
function px(value: number): string {
  return String(Math.round(value * 100) / 100);
}

function contenderOrder(results: readonly ContenderResult[]): string[] {
  return [...new Set(results.map((r) => r.contender))];
}

function nodeCounts(results: readonly ContenderResult[]): number[] {
  return [...new Set(results.map((r) => r.nodes))].sort((a, b) => a - b);
}

function nodeLabel(nodes: number): string {
  return `${nodes} node${nodes === 1 ? '' : 's'}`;
}

function grouped(value: number): string {
  return value.toLocaleString('en-US');
}

function workloadLine(report: BenchReport): string {
  const w = report.workload;
  const keys = w.keySpace === null ? 'a fresh key per pair' : `key space ${grouped(w.keySpace)}`;
  const length =
    w.operations === undefined
      ? `${grouped(w.durationMs / 1000)} s per run`
      : `${grouped(w.operations)} ops per run`;
  return `concurrency ${w.concurrency} · ${keys} · ttl ${grouped(w.ttlMs)} ms · hold ${grouped(w.holdMs)} ms · ${length}`;
}

function machineLine(report: BenchReport): string {
  const m = report.machine;
  const redis = m.redis === undefined ? '' : ` · redis ${m.redis}`;
  return `${m.cpu} · ${m.cores} cores · ${m.memoryGiB} GiB · node ${m.node}${redis} · ${report.date.slice(0, 10)}`;
}

function heading(report: BenchReport): string[] {
  return [
    `<text x="${LEFT}" y="30" font-size="18" font-weight="600" fill="#222">${escapeXml(CHART_TITLE)}</text>`,
    `<text x="${LEFT}" y="50" font-size="12" fill="#555">${escapeXml(workloadLine(report))}</text>`,
    `<text x="${LEFT}" y="66" font-size="12" fill="#555">${escapeXml(machineLine(report))}</text>`,
  ];
}

/** Legend entries left to right, wrapping onto a new row at the right edge. */
function legendItems(contenders: readonly string[]): { svg: string[]; bottom: number } {
  const svg: string[] = [];
  let x = LEFT;
  let y = LEGEND_TOP;
  contenders.forEach((name, i) => {
    // 7.5 units a character at 12 px covers wide fonts such as DejaVu Sans.
    const width = 18 + name.length * 7.5 + 20;
    if (x + width > RIGHT && x > LEFT) [x, y] = [LEFT, y + 20];
    svg.push(
      `<rect x="${px(x)}" y="${y}" width="12" height="12" rx="2" fill="${colour(i)}"/>`,
      `<text x="${px(x + 18)}" y="${y + 10.5}" font-size="12" fill="#222">${escapeXml(name)}</text>`,
    );
    x += width;
  });
  return { svg, bottom: y + 12 };
}

/** The chart colour of the contender at `index` in a chart's order. */
export function colour(index: number): string {
  return PALETTE[index % PALETTE.length] ?? '#777777';
}

function yAxis(ticks: readonly number[], frame: Frame): string[] {
  const top = ticks.at(-1) ?? 1;
  const lines = ticks.map((tick) => {
    const y = px(frame.bottom - (tick / top) * (frame.bottom - frame.top));
    const stroke = tick === 0 ? '#555' : '#e3e3e3';
    return [
      `<line x1="${frame.left}" x2="${frame.right}" y1="${y}" y2="${y}" stroke="${stroke}"/>`,
      `<text x="${frame.left - 8}" y="${y}" dy="0.35em" text-anchor="end" font-size="12" fill="#555">${formatRate(tick)}</text>`,
    ];
  });
  const middle = px((frame.top + frame.bottom) / 2);
  return [
    ...lines.flat(),
    `<text transform="translate(20 ${middle}) rotate(-90)" text-anchor="middle" font-size="12" fill="#555">pairs/s</text>`,
  ];
}

/** Where the bars go: the plot area, the node-count groups and each contender's slot. */
interface Layout {
  readonly frame: Frame;
  readonly counts: readonly number[];
  readonly contenders: readonly string[];
  readonly groupWidth: number;
  readonly slot: number;
  /** Value labels run upwards when a slot is too narrow for them side by side. */
  readonly vertical: boolean;
  /** The top tick: a bar this tall reaches `frame.top`. */
  readonly top: number;
}

function layout(results: readonly ContenderResult[], top: number, legendBottom: number): Layout {
  const counts = nodeCounts(results);
  const contenders = contenderOrder(results);
  const groupWidth = (RIGHT - LEFT) / Math.max(1, counts.length);
  // Bars stay at most 64 units wide, so a single group does not turn into slabs.
  const slot = Math.min(64, (groupWidth * 0.84) / Math.max(1, contenders.length));
  // "85.4k" is about 30 units wide at 11 px; narrower slots would print values over each other.
  const vertical = slot < 32;
  const headroom = vertical ? VERTICAL_HEADROOM : HEADROOM;
  const frame = { top: legendBottom + headroom, bottom: BOTTOM, left: LEFT, right: RIGHT };
  return { frame, counts, contenders, groupWidth, slot, vertical, top };
}

/** The bars, their values and the node-count label under each group. */
function groups(results: readonly ContenderResult[], at: Layout): string[] {
  const labels = at.counts.map((nodes, g) => {
    const x = px(at.frame.left + at.groupWidth * (g + 0.5));
    return `<text x="${x}" y="${at.frame.bottom + 22}" text-anchor="middle" font-size="13" fill="#222">${nodeLabel(nodes)}</text>`;
  });
  const bars = results.map((result) => {
    const g = at.counts.indexOf(result.nodes);
    const c = at.contenders.indexOf(result.contender);
    const start = at.frame.left + at.groupWidth * (g + 0.5) - (at.slot * at.contenders.length) / 2;
    return bar(result, start + at.slot * c, colour(c), at);
  });
  return [...labels, ...bars.flat()];
}

/** One bar in the slot starting at `x`, its value above it and a red mark if it failed. */
function bar(result: ContenderResult, x: number, fill: string, at: Layout): string[] {
  const value = Math.max(0, result.pairsPerSecond);
  const height = (value / at.top) * (at.frame.bottom - at.frame.top);
  const y = at.frame.bottom - height;
  const tooltip = `${result.contender}, ${nodeLabel(result.nodes)}: ${grouped(Math.round(value))} pairs/s, ${grouped(result.errors)} errors`;
  const rect = `<rect class="bar" x="${px(x + at.slot * 0.06)}" y="${px(y)}" width="${px(at.slot * 0.88)}" height="${px(height)}" fill="${fill}"><title>${escapeXml(tooltip)}</title></rect>`;
  const mark = result.errors > 0 ? 'errors' : value === 0 ? 'failed' : undefined;
  return [rect, ...valueLabel(formatRate(value), mark, x + at.slot / 2, y, at.vertical)];
}

function valueLabel(
  text: string,
  mark: string | undefined,
  x: number,
  y: number,
  vertical: boolean,
): string[] {
  const red = `font-weight="600" fill="${ERROR_COLOUR}"`;
  if (vertical) {
    const tail = mark === undefined ? '' : ` <tspan ${red}>${mark}</tspan>`;
    return [
      `<text transform="translate(${px(x)} ${px(y - 4)}) rotate(-90)" dy="0.35em" font-size="11" fill="#222">${text}${tail}</text>`,
    ];
  }
  const label = `<text x="${px(x)}" y="${px(y - 4)}" text-anchor="middle" font-size="11" fill="#222">${text}</text>`;
  if (mark === undefined) return [label];
  return [
    label,
    `<text x="${px(x)}" y="${px(y - 17)}" text-anchor="middle" font-size="11" ${red}>${mark}</text>`,
  ];
}

function resultTable(results: readonly ContenderResult[], nodes: number): string {
  const head = ['contender', 'pairs/s', '× raw', 'p50 µs', 'p99 µs', 'p99.9 µs', 'CPU µs/pair'];
  const rows = results.filter((r) => r.nodes === nodes).map(resultRow);
  return [
    `<h2>${nodeLabel(nodes)}</h2>`,
    '<table>',
    `<thead><tr>${[...head, 'failures', 'errors'].map((h) => `<th>${h}</th>`).join('')}</tr></thead>`,
    `<tbody>\n${rows.join('\n')}\n</tbody>`,
    '</table>',
  ].join('\n');
}

function resultRow(result: ContenderResult): string {
  const ratio = result.ratioToRaw === null ? '—' : `${result.ratioToRaw.toFixed(2)}×`;
  const error = result.firstError === null ? '' : `<small>${escapeXml(result.firstError)}</small>`;
  const cells = [
    `<td title="${escapeXml(result.description)}">${escapeXml(result.contender)}</td>`,
    ...[
      grouped(result.pairsPerSecond),
      ratio,
      grouped(result.acquireMicros.p50),
      grouped(result.acquireMicros.p99),
      grouped(result.acquireMicros.p999),
      result.cpuMicrosPerPair.toFixed(1),
      grouped(result.failures),
    ].map((cell) => `<td>${cell}</td>`),
    `<td${result.errors > 0 ? ' class="err"' : ''}>${grouped(result.errors)}${error}</td>`,
  ];
  return `<tr>${cells.join('')}</tr>`;
}
