import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { reportHtml, throughputSvg } from './chart.js';
import { gapSvg } from './gap-chart.js';
import type { BenchReport } from './results.js';

/** Writes the JSON report to `file`, or to stdout for `-`. */
export function writeJson(report: BenchReport, file: string): void {
  const text = `${JSON.stringify(report, null, 2)}\n`;
  if (file === '-') process.stdout.write(text);
  else writeFileSync(file, text);
}

/**
 * Writes report.json, throughput.svg and report.html into `dir`, and handoff-gap.svg for a
 * contended run (`--keys`); returns their paths.
 */
export function writeOutDir(report: BenchReport, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const files = [join(dir, 'report.json'), join(dir, 'throughput.svg'), join(dir, 'report.html')];
  writeJson(report, files[0]!);
  writeFileSync(files[1]!, throughputSvg(report));
  writeFileSync(files[2]!, reportHtml(report));
  if (report.workload.keySpace !== null) {
    files.push(join(dir, 'handoff-gap.svg'));
    writeFileSync(files[3]!, gapSvg(report));
  }
  return files;
}
