// Peak probe: one-core GFLOP/s of each WASM build (see assembly/peak.ts for the
// two loop forms). Kernels are judged against this number from the same run.

import { type KernelInstance, compileEmbedded, instantiateKernels, supportsRelaxedSimd } from '../src/backend/wasm/instantiate.js';
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

function probe({ exports, memory }: KernelInstance, iterations: number, runs: number): { chains: number; loadSplat: number } {
  const operands = (exports.heapBase() + 63) & ~63;
  new Float32Array(memory.buffer, operands, 16).fill(0.5);
  const timed = (body: () => void, flopsPerIteration: number) => () => {
    const t0 = performance.now();
    body();
    return (iterations * flopsPerIteration) / ((performance.now() - t0) * 1e6);
  };
  exports.peakProbeChains({ iterations: 1000, seed: 1 });
  exports.peakProbeLoadSplat({ iterations: 1000, operands });
  return {
    chains: bestOf(runs, timed(() => exports.peakProbeChains({ iterations, seed: 1 }), 96)),
    loadSplat: bestOf(runs, timed(() => exports.peakProbeLoadSplat({ iterations, operands }), 80)),
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
