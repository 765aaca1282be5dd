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

export interface BenchContext {
  quick: boolean;
  timing: TimingOptions;
  /** WASM variants first (best first), then the pure-JS backend. */
  impls: Implementation[];
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
}

export async function createBenchContext(quick: boolean, progress: StatusLine): Promise<BenchContext> {
  const impls: Implementation[] = [];
  if (supportsRelaxedSimd()) impls.push({ label: 'wasm-relaxed', weft: await createWeft({ simd: 'relaxed' }) });
  else console.log('(wasm-relaxed skipped: run node with --experimental-wasm-relaxed-simd on Node 20)');
  impls.push({ label: 'wasm-simd', weft: await createWeft({ simd: 'simd' }) });
  impls.push({ label: 'js', weft: await createWeft({ backend: 'js' }) });
  const timing = quick ? QUICK : FULL;
  progress.show('peak probe');
  const peak = await measurePeak(quick);
  progress.show('loading tfjs-wasm');
  const tf = await loadTfjsWasm();
  return { quick, timing, impls, peak, tf, progress };
}
