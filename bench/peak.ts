// Peak probe: one-core GFLOP/s of each WASM build (see assembly/peak.ts for the
// two loop forms). Kernels are judged against this number from the same run.

import { compileEmbedded, instantiateKernels, supportsRelaxedSimd } from '../src/backend/wasm/instantiate.js';
import type { KernelExports } from '../src/backend/wasm/exports.js';
import { fmt, renderTable } from './harness.js';

export interface Peak {
  /** f32x4 mul + add, GFLOP/s. */
  simd: number;
  /** f32x4.relaxed_madd, GFLOP/s (undefined when the runtime cannot compile it). */
  relaxed?: number;
  table: string;
}

function bestOf(runs: number, fn: () => number): number {
  let best = 0;
  for (let r = 0; r < runs; r++) best = Math.max(best, fn());
  return best;
}

function probe(kernels: KernelExports, iterations: number, runs: number): { chains: number; loadSplat: number } {
  const operands = (kernels.heapBase() + 63) & ~63;
  new Float32Array(kernels.memory.buffer, operands, 16).fill(0.5);
  const timed = (body: () => void, flopsPerIteration: number) => () => {
    const t0 = performance.now();
    body();
    return (iterations * flopsPerIteration) / ((performance.now() - t0) * 1e6);
  };
  kernels.peakProbeChains(1000, 1);
  kernels.peakProbeLoadSplat(1000, operands);
  return {
    chains: bestOf(runs, timed(() => kernels.peakProbeChains(iterations, 1), 96)),
    loadSplat: bestOf(runs, timed(() => kernels.peakProbeLoadSplat(iterations, operands), 80)),
  };
}

export async function measurePeak(quick: boolean): Promise<Peak> {
  const iterations = quick ? 5_000_000 : 20_000_000;
  const runs = quick ? 3 : 7;
  const rows: (string | number)[][] = [];
  const simd = probe(await instantiateKernels(await compileEmbedded('simd')), iterations, runs);
  rows.push(['f32x4 mul+add (wasm-simd)', simd.chains, simd.loadSplat, Math.max(simd.chains, simd.loadSplat)]);
  let relaxedPeak: number | undefined;
  if (supportsRelaxedSimd()) {
    const relaxed = probe(await instantiateKernels(await compileEmbedded('relaxed')), iterations, runs);
    relaxedPeak = Math.max(relaxed.chains, relaxed.loadSplat);
    rows.push(['f32x4.relaxed_madd (wasm-relaxed)', relaxed.chains, relaxed.loadSplat, relaxedPeak]);
  }
  const table = renderTable(
    'Peak probe: one core, GFLOP/s (peak = the larger of the two loop forms)',
    ['instruction', '12 chains', 'load+splat', 'peak'],
    rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c))),
  );
  return { simd: Math.max(simd.chains, simd.loadSplat), relaxed: relaxedPeak, table };
}
