import { colour, escapeXml } from './chart.js';
import type { BenchReport, ContenderResult } from './results.js';

/** Title of the handoff-gap chart. */
const GAP_CHART_TITLE =
  'Handoff gap: release to the next grant of a waited-for key, lower is better';

const WIDTH = 900;
const HEIGHT = 480;
const LEFT = 76;
const RIGHT = WIDTH - 190;
const TOP = 80;
const BOTTOM = HEIGHT - 50;

/** One line of the chart. */
interface Series {
  readonly label: string;
  readonly points: readonly (readonly [percentile: number, micros: number])[];
}

/**
 * The handoff-gap distribution of a contended report as a self-contained SVG percentile plot
 * (900×480, with a `viewBox`): one line per contender (and node count, when several), the
 * percentile on x (spaced by `−log10(1 − p)`, so the tail gets room: 50, 90, 99, 99.9 are
 * evenly apart) and the gap on a log scale of ms on y. A contender without gaps (a fresh-key
 * run, or no release ever had a waiter) has no line. Pure: the same report, the same text.
 */
export function gapSvg(report: BenchReport): string {
  const series = gapSeries(report.results);
  const values = series.flatMap((s) => s.points.map(([, micros]) => Math.max(1, micros)));
  const low = Math.floor(Math.log10(Math.min(10, ...values) / 1000));
  const high = Math.max(low + 1, Math.ceil(Math.log10(Math.max(1000, ...values) / 1000)));
  const x = (percentile: number): number =>
    LEFT + (Math.min(3, -Math.log10(1 - percentile / 100)) / 3) * (RIGHT - LEFT);
  const y = (micros: number): number =>
    BOTTOM - ((Math.log10(Math.max(1, micros) / 1000) - low) / (high - low)) * (BOTTOM - TOP);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="system-ui, sans-serif" role="img">`,
    `<title>${escapeXml(GAP_CHART_TITLE)}</title>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${LEFT}" y="30" font-size="18" font-weight="600" fill="#222">${escapeXml(GAP_CHART_TITLE)}</text>`,
    `<text x="${LEFT}" y="50" font-size="12" fill="#555">${escapeXml(subtitle(report))}</text>`,
    ...axes(low, high, x, y),
    ...series.flatMap((s, i) => line(s, i, x, y)),
    ...(series.length === 0
      ? [
          `<text x="${(LEFT + RIGHT) / 2}" y="${(TOP + BOTTOM) / 2}" text-anchor="middle" font-size="14" fill="#555">no handoff gaps measured</text>`,
        ]
      : []),
    '</svg>',
    '',
  ].join('\n');
}

function gapSeries(results: readonly ContenderResult[]): Series[] {
  const several = new Set(results.map((r) => r.nodes)).size > 1;
  return results.flatMap((r) => {
    const points = r.contended?.handoffGapPercentiles ?? [];
    if (points.length === 0) return [];
    return [{ label: several ? `${r.contender}, ${r.nodes} nodes` : r.contender, points }];
  });
}

function subtitle(report: BenchReport): string {
  const w = report.workload;
  const clients = w.clients === 1 ? '' : ` from ${w.clients} processes`;
  return `${w.keySpace ?? 0} hot keys${w.zipf === 0 ? '' : ` (Zipf ${w.zipf})`}, hold ${w.holdMs} ms, ${w.concurrency} in flight${clients} · ${report.date.slice(0, 10)}`;
}

function axes(
  low: number,
  high: number,
  x: (percentile: number) => number,
  y: (micros: number) => number,
): string[] {
  const out: string[] = [];
  for (let decade = low; decade <= high; decade++) {
    const at = y(10 ** decade * 1000).toFixed(2);
    const label = decade >= 0 ? String(10 ** decade) : (10 ** decade).toFixed(-decade);
    out.push(
      `<line x1="${LEFT}" x2="${RIGHT}" y1="${at}" y2="${at}" stroke="${decade === low ? '#555' : '#e3e3e3'}"/>`,
      `<text x="${LEFT - 8}" y="${at}" dy="0.35em" text-anchor="end" font-size="12" fill="#555">${label}</text>`,
    );
  }
  for (const p of [0, 50, 90, 99, 99.9]) {
    const at = x(p).toFixed(2);
    out.push(
      `<line x1="${at}" x2="${at}" y1="${TOP}" y2="${BOTTOM}" stroke="#e3e3e3"/>`,
      `<text x="${at}" y="${BOTTOM + 18}" text-anchor="middle" font-size="12" fill="#555">p${p}</text>`,
    );
  }
  out.push(
    `<text transform="translate(20 ${(TOP + BOTTOM) / 2}) rotate(-90)" text-anchor="middle" font-size="12" fill="#555">gap, ms (log)</text>`,
    `<text x="${(LEFT + RIGHT) / 2}" y="${BOTTOM + 38}" text-anchor="middle" font-size="12" fill="#555">percentile of handoffs</text>`,
  );
  return out;
}

function line(
  series: Series,
  index: number,
  x: (percentile: number) => number,
  y: (micros: number) => number,
): string[] {
  const stroke = colour(index);
  const points = series.points.map(([p, micros]) => `${x(p).toFixed(2)},${y(micros).toFixed(2)}`);
  const legendY = TOP + index * 20;
  return [
    `<polyline class="gap" fill="none" stroke="${stroke}" stroke-width="2" points="${points.join(' ')}"><title>${escapeXml(series.label)}</title></polyline>`,
    `<rect x="${RIGHT + 16}" y="${legendY}" width="12" height="12" rx="2" fill="${stroke}"/>`,
    `<text x="${RIGHT + 34}" y="${legendY + 10.5}" font-size="12" fill="#222">${escapeXml(series.label)}</text>`,
  ];
}
