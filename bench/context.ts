// What every family benchmark receives: the weft instances to compare, the
// measured peak, the tfjs peer (or null) and the timing budget.

import { createWeft, type Weft } from '../src/index.js';
import { supportsRelaxedSimd } from '../src/backend/wasm/instantiate.js';
import { FULL, QUICK, type Cell, type TimingOptions } from './harness.js';
import { loadTfjsWasm, type Tf } from './peers/tfjs.js';
import { measurePeak, type Peak } from './peak.js';

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
}

/** One family's result: a table for the terminal and the report. */
export interface FamilyTable {
  title: string;
  header: string[];
  rows: Cell[][];
  notes?: string[];
}

export async function createBenchContext(quick: boolean): Promise<BenchContext> {
  const impls: Implementation[] = [];
  if (supportsRelaxedSimd()) impls.push({ label: 'wasm-relaxed', weft: await createWeft({ simd: 'relaxed' }) });
  else console.log('(wasm-relaxed skipped: run node with --experimental-wasm-relaxed-simd on Node 20)');
  impls.push({ label: 'wasm-simd', weft: await createWeft({ simd: 'simd' }) });
  impls.push({ label: 'js', weft: await createWeft({ backend: 'js' }) });
  const timing = quick ? QUICK : FULL;
  return { quick, timing, impls, peak: await measurePeak(quick), tf: await loadTfjsWasm() };
}
