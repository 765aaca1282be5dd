// The thread columns every family table gains: the best WASM build on N threads
// (ctx.threaded, N = the cores the runtime reports) next to the same build on one
// thread (ctx.impls[0]), measured in the same tinybench run as the row's other
// columns, and the speedup N vs 1; then a note that judges the family's speedups
// against the one the parallel peak probe reached in the same run.

import type { Weft } from '../src/index.js';
import type { BenchContext, ProbeSpeedup, ThreadSpeedup, ThreadedImplementation } from './context.js';
import type { Cell } from './harness.js';

const times = (x: number) => `${x.toFixed(2)}x`;
const percent = (part: number, whole: number) => `${Math.round((100 * part) / whole)}%`;

/**
 * The family's thread note: its headline row's speedup as a share of the probe's, then
 * the median and range over every row measured on threads (the largest alone would pick
 * the luckiest sample), e.g. "matmul 1024x1024x1024: 1.90x on 2 threads = 96% of the
 * 1.98x the peak probe reached; 5 rows: median 1.20x (61%), 0.88x-1.90x".
 * The headline is the first of `headlines` that was measured, else the median row.
 */
export function threadNote(family: string, speedups: readonly ThreadSpeedup[], probe: ProbeSpeedup | undefined, headlines: readonly string[] = []): string {
  if (speedups.length === 0) return `threads: no ${family} row was measured on threads in this mode`;
  const sorted = [...speedups].sort((a, b) => a.speedup - b.speedup);
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  const headline = headlines.map((name) => speedups.find((s) => s.row === name)).find((s) => s !== undefined) ?? median;
  const ofProbe = (s: number) => (probe ? ` (${percent(s, probe.speedup)})` : '');
  const reference = probe
    ? ` = ${percent(headline.speedup, probe.speedup)} of the ${times(probe.speedup)} the peak probe reached`
    : ' (no parallel peak probe in this run)';
  const spread = sorted.length > 1
    ? `; ${sorted.length} rows: median ${times(median.speedup)}${ofProbe(median.speedup)}, ${times(sorted[0].speedup)}-${times(sorted[sorted.length - 1].speedup)}`
    : '';
  return `threads: ${family} ${headline.row}: ${times(headline.speedup)} on ${headline.threads} threads${reference}${spread}`;
}

/** A family's thread columns: the N-thread task of each row, its cells, and the notes. */
export class ThreadColumns {
  readonly speedups: ThreadSpeedup[] = [];
  readonly threaded: ThreadedImplementation | null;

  /**
   * `headlines`: the rows the note names first, in order of preference (the family's
   * largest, most compute-bound rows); `selection` says which rows get the columns when
   * not all do (e.g. in quick mode).
   */
  constructor(
    private readonly ctx: BenchContext,
    private readonly family: string,
    private readonly options: { headlines?: string[]; selection?: string } = {},
  ) {
    this.threaded = ctx.threaded;
  }

  /** The task (and result) key of the N-thread measurement. */
  get key(): string {
    return this.threaded?.label ?? 'threads';
  }

  /** Headers of the two columns ([] without threads); `unit` as the table's other value columns put it. */
  header(unit = ''): string[] {
    return this.threaded ? [`${this.threaded.threads} threads${unit}`, `speedup ${this.threaded.threads}/1`] : [];
  }

  /**
   * Add the row's N-thread task to the tasks measured with its one-thread twin, when
   * `measured`, under `key` (another key where one tinybench run times several rows).
   */
  addTask(tasks: Record<string, () => unknown>, run: (weft: Weft) => unknown, measured = true, key = this.key): void {
    const threaded = this.threaded;
    if (threaded && measured) tasks[key] = () => run(threaded.weft);
  }

  /** [N-thread ms, speedup] of a row from its times ([] without threads; '-' where not measured). */
  timeCells(row: string, oneThreadMs: number | undefined, threadsMs: number | undefined): Cell[] {
    return this.cells(row, threadsMs, oneThreadMs !== undefined && threadsMs !== undefined ? oneThreadMs / threadsMs : undefined);
  }

  /** [N-thread rate, speedup] of a row from its rates (GFLOP/s, words/s). */
  rateCells(row: string, oneThreadRate: number | undefined, threadsRate: number | undefined): Cell[] {
    return this.cells(row, threadsRate, oneThreadRate !== undefined && threadsRate !== undefined ? threadsRate / oneThreadRate : undefined);
  }

  private cells(row: string, value: number | undefined, speedup: number | undefined): Cell[] {
    if (!this.threaded) return [];
    if (speedup !== undefined) this.speedups.push({ family: this.family, row, threads: this.threaded.threads, speedup });
    return [value, speedup];
  }

  /** What the columns are, and the family's speedups against the peak probe's. */
  notes(): string[] {
    const threaded = this.threaded;
    if (!threaded) return [];
    const best = this.ctx.impls[0].label;
    const probe = this.ctx.peak.parallel;
    return [
      `${threaded.threads} threads: ${best} with createWeft({ threads: 'auto' }) (${threaded.threads} threads), measured with its one-thread twin; ` +
        `speedup = one-thread ${best} over ${threaded.threads} threads${this.options.selection ? `; ${this.options.selection}` : ''}.`,
      threadNote(this.family, this.speedups, probe, this.options.headlines),
    ];
  }
}
