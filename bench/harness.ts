// Shared benchmark plumbing: timing with tinybench, GFLOP/s, and plain-text tables.
// Every table compares implementations measured in the same run, interleaved per
// size, because the machines are shared and noisy: read ratios, not absolutes.

import { Bench } from 'tinybench';

export interface TimingOptions {
  /** Minimum time per task in ms. */
  timeMs: number;
  /** Minimum samples per task. */
  iterations: number;
}

export const QUICK: TimingOptions = { timeMs: 150, iterations: 2 };
export const FULL: TimingOptions = { timeMs: 600, iterations: 5 };

/** Median ms per call of each task, run one after another in one tinybench run. */
export async function medianMs(tasks: Record<string, () => unknown>, options: TimingOptions): Promise<Record<string, number>> {
  const bench = new Bench({
    time: options.timeMs,
    iterations: options.iterations,
    warmupTime: 0,
    warmupIterations: 1,
    throws: true,
  });
  for (const [name, fn] of Object.entries(tasks)) bench.add(name, fn);
  await bench.run();
  const result: Record<string, number> = {};
  for (const task of bench.tasks) {
    const r = task.result;
    if (r.state !== 'completed') throw new Error(`benchmark task ${task.name} did not complete (${r.state})`);
    result[task.name] = r.latency.p50 ?? r.latency.mean;
  }
  return result;
}

/** GFLOP/s of `flops` done in `ms`. */
export function gflops(flops: number, ms: number): number {
  return flops / (ms * 1e6);
}

/** Least-squares slope of log(y) over log(x): the exponent p of y ~ x^p. */
export function fitExponent(xs: readonly number[], ys: readonly number[]): number {
  const lx = xs.map(Math.log), ly = ys.map(Math.log);
  const mx = lx.reduce((s, v) => s + v, 0) / lx.length;
  const my = ly.reduce((s, v) => s + v, 0) / ly.length;
  let num = 0, den = 0;
  for (let i = 0; i < lx.length; i++) {
    num += (lx[i] - mx) * (ly[i] - my);
    den += (lx[i] - mx) ** 2;
  }
  return num / den;
}

export type Cell = string | number | undefined;

/** Format a number for a table: 3 significant digits, '-' when missing. */
export function fmt(value: Cell, digits = 3): string {
  if (value === undefined || (typeof value === 'number' && !Number.isFinite(value))) return '-';
  if (typeof value === 'string') return value;
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toString();
  return value.toPrecision(digits);
}

/** A monospace table with a title, right-aligned numbers. */
export function renderTable(title: string, header: readonly string[], rows: readonly Cell[][]): string {
  const cells = [header.map(String), ...rows.map((row) => row.map((c) => fmt(c)))];
  const widths = header.map((_, col) => Math.max(...cells.map((row) => (row[col] ?? '').length)));
  const line = (row: string[]) => row.map((c, col) => (col === 0 ? c.padEnd(widths[col]) : c.padStart(widths[col]))).join('  ');
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [title, line(cells[0]), rule, ...cells.slice(1).map(line)].join('\n');
}

/** A table as GitHub markdown (for report/index.md). */
export function renderMarkdownTable(header: readonly string[], rows: readonly Cell[][]): string {
  const body = rows.map((row) => `| ${row.map((c) => fmt(c)).join(' | ')} |`);
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...body].join('\n');
}
