import { describe, expect, it } from 'vitest';
import { formatRate, niceTicks, reportHtml, throughputSvg } from '../src/chart.js';
import { REPORT_SCHEMA, type BenchReport, type ContenderResult } from '../src/results.js';

function result(contender: string, nodes: number, pairsPerSecond: number): ContenderResult {
  return {
    contender,
    description: `${contender} description`,
    nodes,
    nodesUsed: nodes,
    pairs: pairsPerSecond * 10,
    pairsPerSecond,
    failures: 0,
    errors: 0,
    firstError: null,
    acquireMicros: { p50: 310, p99: 1450, p999: 4200, max: 9000, mean: 400, count: 1000 },
    cpuMicrosPerPair: 21.4,
    pairsPerCpuSecond: 46_729,
    clients: 1,
    commandsPerGrant: 2,
    commands: { set: pairsPerSecond * 10, evalsha: pairsPerSecond * 10 },
    contended: null,
    ratioToRaw: null,
  };
}

// Two node counts, listed out of order, three contenders; raw at 5 nodes failed outright.
const RESULTS: readonly ContenderResult[] = [
  result('shardlock', 5, 85_432),
  { ...result('raw', 5, 0), errors: 7, firstError: 'ReplyError: <boom> & "quotes"' },
  result('redlock', 5, 21_358),
  result('shardlock', 1, 30_000),
  result('raw', 1, 40_000),
  result('redlock', 1, 12_000),
];

function report(results: readonly ContenderResult[] = RESULTS): BenchReport {
  return {
    schema: REPORT_SCHEMA,
    date: '2025-06-01T10:20:30.000Z',
    command: 'shardlock bench --json',
    machine: {
      cpu: 'Test CPU @ 3.0GHz',
      cores: 8,
      memoryGiB: 16,
      node: 'v20.19.0',
      platform: 'linux x64',
      redis: '7.2.4',
    },
    cluster: 'embedded',
    workload: {
      durationMs: 10_000,
      rounds: 5,
      operations: undefined,
      concurrency: 64,
      keySpace: 1000,
      zipf: 0,
      clients: 1,
      waitTimeoutMs: 10_000,
      ttlMs: 10_000,
      holdMs: 0,
      retries: 0,
      retryDelayMs: 50,
    },
    results,
  };
}

/** Every tag closed in order and every `&` starts an entity: enough to catch broken output. */
function expectWellFormed(markup: string, voidElements: readonly string[] = []): void {
  const stack: string[] = [];
  for (const [tag, closing, name = '', selfClosing] of markup.matchAll(
    /<(\/?)([a-zA-Z][\w:-]*)(?:\s[^<>]*?)?(\/?)>/g,
  )) {
    if (closing === '/') expect(stack.pop(), tag).toBe(name);
    else if (selfClosing !== '/' && !voidElements.includes(name)) stack.push(name);
  }
  expect(stack).toEqual([]);
  expect(markup.match(/&(?!(amp|lt|gt|quot|#39);)/g)).toBeNull();
}

interface Bar {
  readonly title: string;
  readonly x: number;
  readonly height: number;
}

function bars(svg: string): Bar[] {
  return [
    ...svg.matchAll(/<rect class="bar" x="([\d.]+)" [^>]*height="([\d.]+)"[^>]*><title>([^<]*)</g),
  ].map(([, x = '', height = '', title = '']) => ({ title, x: Number(x), height: Number(height) }));
}

function barFor(svg: string, contender: string, nodes: string): Bar {
  const found = bars(svg).find((bar) => bar.title.startsWith(`${contender}, ${nodes}:`));
  if (found === undefined) throw new Error(`no bar for ${contender} at ${nodes}`);
  return found;
}

describe('formatRate', () => {
  it('prints pairs/s compactly', () => {
    expect(formatRate(85_432)).toBe('85.4k');
    expect(formatRate(20_000)).toBe('20k');
    expect(formatRate(123_456)).toBe('123k');
    expect(formatRate(1_234_567)).toBe('1.2M');
    expect(formatRate(999_999)).toBe('1M');
    expect(formatRate(850)).toBe('850');
    expect(formatRate(0.25)).toBe('0.25');
  });
});

describe('niceTicks', () => {
  it('covers the maximum with 4 to 6 round steps from 0', () => {
    expect(niceTicks(85_432)).toEqual([0, 20_000, 40_000, 60_000, 80_000, 100_000]);
    expect(niceTicks(100_000)).toEqual([0, 20_000, 40_000, 60_000, 80_000, 100_000]);
    expect(niceTicks(0)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    for (const max of [1, 7, 13, 99, 101, 333, 2_501, 49_999, 61_000, 1.7e6, 0.003]) {
      const ticks = niceTicks(max);
      const step = ticks[1]!;
      expect(ticks.length, `max ${max}`).toBeGreaterThanOrEqual(4);
      expect(ticks.length, `max ${max}`).toBeLessThanOrEqual(6);
      expect(ticks.at(-1)!).toBeGreaterThanOrEqual(max);
      expect(ticks.at(-2)!).toBeLessThan(max);
      const mantissa = step / 10 ** Math.floor(Math.log10(step));
      expect([1, 2, 2.5, 5]).toContain(Number(mantissa.toPrecision(6)));
    }
  });
});

describe('throughputSvg', () => {
  const svg = throughputSvg(report());

  it('is one well-formed <svg> root with a viewBox', () => {
    expect(svg).toMatch(
      /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" [^>]*viewBox="0 0 900 480"/,
    );
    expect(svg.endsWith('</svg>')).toBe(true);
    expect(svg.match(/<svg/g)).toHaveLength(1);
    expectWellFormed(svg);
  });

  it('draws one bar per result, the failed one at zero height and marked', () => {
    expect(bars(svg)).toHaveLength(RESULTS.length);
    expect(barFor(svg, 'raw', '5 nodes').height).toBe(0);
    expect(svg.match(/>errors</g)).toHaveLength(1);
  });

  it('sizes bars in proportion to pairs/s', () => {
    const shardlock = barFor(svg, 'shardlock', '5 nodes').height;
    const redlock = barFor(svg, 'redlock', '5 nodes').height;
    const slow = barFor(svg, 'redlock', '1 node').height;
    expect(Math.abs(shardlock / redlock / (85_432 / 21_358) - 1)).toBeLessThan(0.01);
    expect(Math.abs(shardlock / slow / (85_432 / 12_000) - 1)).toBeLessThan(0.01);
  });

  it('groups by node count ascending, contenders in the same slot and colour', () => {
    const one = barFor(svg, 'shardlock', '1 node');
    const five = barFor(svg, 'shardlock', '5 nodes');
    expect(one.x).toBeLessThan(five.x);
    expect(barFor(svg, 'redlock', '1 node').x - one.x).toBeCloseTo(
      barFor(svg, 'redlock', '5 nodes').x - five.x,
      6,
    );
    const fills = [...svg.matchAll(/<rect class="bar"[^>]*fill="([^"]+)"><title>shardlock,/g)];
    expect(new Set(fills.map(([, fill]) => fill)).size).toBe(1);
    expect(svg.indexOf('>1 node<')).toBeLessThan(svg.indexOf('>5 nodes<'));
  });

  it('has a title, workload and machine lines, a legend, gridlines and value labels', () => {
    expect(svg).toContain('Lock throughput: acquire+release pairs/s, higher is better');
    expect(svg).toContain('concurrency 64 · key space 1,000 · ttl 10,000 ms');
    expect(svg).toContain('Test CPU @ 3.0GHz · 8 cores');
    expect(svg).toContain('2025-06-01');
    for (const name of ['shardlock', 'raw', 'redlock']) expect(svg).toContain(`>${name}</text>`);
    for (const tick of ['0', '20k', '40k', '60k', '80k', '100k'])
      expect(svg).toContain(`>${tick}</text>`);
    for (const value of ['85.4k', '21.4k', '30k', '40k', '12k'])
      expect(svg).toContain(`>${value}</text>`);
  });

  it('escapes text for XML', () => {
    const nasty = 'a<b&"c">\'d';
    const text = throughputSvg(
      report([{ ...result(nasty, 3, 1000), description: '</svg>' }, result('raw', 3, 2000)]),
    );
    expect(text).toContain('a&lt;b&amp;&quot;c&quot;&gt;&#39;d');
    expect(text).not.toContain('a<b');
    expectWellFormed(text);
  });

  it('still draws a chart when every run failed', () => {
    const text = throughputSvg(report([{ ...result('raw', 1, 0), errors: 3 }]));
    expect(bars(text)).toEqual([expect.objectContaining({ height: 0 })]);
    expectWellFormed(text);
  });
});

describe('reportHtml', () => {
  const html = reportHtml(report());

  it('is a self-contained page holding the chart', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain(throughputSvg(report()));
    expect(html).not.toMatch(/<script|<link|src=|href=/);
    expectWellFormed(html, ['meta', 'br']);
  });

  it('has one table per node count and one row per result', () => {
    expect(html.match(/<table>/g)).toHaveLength(2);
    expect(html.indexOf('<h2>1 node</h2>')).toBeLessThan(html.indexOf('<h2>5 nodes</h2>'));
    const rows = [...html.matchAll(/<tbody>([\s\S]*?)<\/tbody>/g)].flatMap(
      ([, body = '']) => body.match(/<tr>/g) ?? [],
    );
    expect(rows).toHaveLength(RESULTS.length);
    expect(html).toContain('<td>85,432</td>');
    expect(html).toContain('<td>1,450</td>');
  });

  it('escapes the first error and every other text', () => {
    expect(html).toContain('ReplyError: &lt;boom&gt; &amp; &quot;quotes&quot;');
    expect(html).not.toContain('<boom>');
  });
});
