// What every family benchmark receives: the weft instances to compare, the
// measured peak, the tfjs peer (or null) and the timing budget.

import { createWeft, type Weft } from '../src/index.js';
import { supportsRelaxedSimd } from '../src/backend/wasm/instantiate.js';
import { FULL, QUICK, type Cell, type TimingOptions } from './harness.js';
import { loadTfjsWasm, type Tf } from './peers/tfjs.js';
import { measurePeak, type Peak } from './peak.js';
import { StatusLine } from '../src/cli/progress.js';
import type { VegaLiteSpec } from './plot.js';

export interface Implementation {
  /** Column label: 'wasm-relaxed', 'wasm-simd' or 'js'. */
  label: string;
  weft: Weft;
}

/** The best WASM build on every thread the runtime reports: the N of the thread columns. */
export interface ThreadedImplementation extends Implementation {
  /** Its `features.threads` (>= 2). */
  threads: number;
}

export interface BenchContext {
  quick: boolean;
  timing: TimingOptions;
  /** WASM variants first (best first), then the pure-JS backend; all on one thread. */
  impls: Implementation[];
  /** impls[0]'s build with `threads: 'auto'`; null where that gives one thread (the thread columns are left out). */
  threaded: ThreadedImplementation | null;
  peak: Peak;
  tf: Tf | null;
  /** Say what is being measured (a progress line on a TTY). */
  progress: StatusLine;
}

/** A titled table. */
export interface Table {
  title: string;
  header: string[];
  rows: Cell[][];
}

/** One family's result: tables for the terminal and the report, and its plot. */
export interface FamilyTable extends Table {
  /** File-name key of the family (report/<slug>.svg). */
  slug: string;
  /** Further tables of the family (e.g. 2D-RNN vs conv). */
  extraTables?: Table[];
  notes?: string[];
  /** A vega-lite spec rendered to report/<slug>.svg. */
  plot?: VegaLiteSpec;
  /** The N-vs-1-thread speedup of each row measured on threads (the report's speedup plot). */
  threadSpeedups?: ThreadSpeedup[];
}

export async function createBenchContext(quick: boolean, progress: StatusLine): Promise<BenchContext> {
  const impls: Implementation[] = [];
  // threads: 1 everywhere but the threaded instance, so that these columns stay one-thread numbers
  if (supportsRelaxedSimd()) impls.push({ label: 'wasm-relaxed', weft: await createWeft({ simd: 'relaxed', threads: 1 }) });
  else console.log('(wasm-relaxed skipped: run node with --experimental-wasm-relaxed-simd on Node 20)');
  impls.push({ label: 'wasm-simd', weft: await createWeft({ simd: 'simd', threads: 1 }) });
  impls.push({ label: 'js', weft: await createWeft({ backend: 'js' }) });
  const best = impls[0];
  const auto = await createWeft({ simd: best.label === 'wasm-relaxed' ? 'relaxed' : 'simd', threads: 'auto' });
  let threaded: ThreadedImplementation | null = null;
  if (auto.features.threads > 1) {
    threaded = { label: `${best.label} ${auto.features.threads} threads`, weft: auto, threads: auto.features.threads };
  } else {
    console.log(`(thread columns left out: threads 'auto' gives one thread here${auto.features.threadsReason ? `: ${auto.features.threadsReason}` : ''})`);
    auto.dispose();
  }
  const timing = quick ? QUICK : FULL;
  progress.show('peak probes');
  const peak = await measurePeak(quick, threaded?.threads ?? 1);
  progress.show('loading tfjs-wasm');
  const tf = await loadTfjsWasm();
  return { quick, timing, impls, threaded, peak, tf, progress };
}

/** End every instance's worker threads (the run is over). */
export function disposeBenchContext(ctx: BenchContext): void {
  for (const impl of ctx.impls) impl.weft.dispose();
  ctx.threaded?.weft.dispose();
}

/** One row measured on 1 and N threads. */
export interface ThreadSpeedup {
  /** The family's slug. */
  family: string;
  /** The row, as the table names it (e.g. '1024x1024x1024', 'windowed [128,128] T=4096'). */
  row: string;
  threads: number;
  /** One-thread time over N-thread time (or N-thread rate over one-thread rate). */
  speedup: number;
}

/** The parallel peak probe's result, as the notes and the report's plot use it. */
export interface ProbeSpeedup {
  threads: number;
  speedup: number;
}
