// matmul GFLOP/s: weft (both WASM builds), the pure-JS backend and tfjs-wasm,
// per size, with ratios and % of the same run's peak probe.

import type { BenchContext, FamilyTable } from './context.js';
import { gflops, medianMs } from './harness.js';

/** [M, N, K]: square sizes, a tall-skinny GEMM (2D-RNN input projection shape) and a mat-vec. */
export const MATMUL_SIZES: [number, number, number][] = [
  [64, 64, 64],
  [256, 256, 256],
  [1024, 1024, 1024],
  [4096, 64, 64],
  [1, 512, 512],
];

export async function benchMatmul(ctx: BenchContext): Promise<FamilyTable> {
  const rows = [];
  const peakOf = (label: string) => (label === 'wasm-relaxed' ? ctx.peak.relaxed : label === 'wasm-simd' ? ctx.peak.simd : undefined);
  const best = ctx.impls[0];
  for (const [M, N, K] of MATMUL_SIZES) {
    const a = best.weft.randn([M, K], 1);
    const b = best.weft.randn([K, N], 2);
    const tasks: Record<string, () => unknown> = {};
    for (const impl of ctx.impls) tasks[impl.label] = () => impl.weft.matmul(a, b);
    const tf = ctx.tf;
    if (tf) {
      const ta = tf.tensor2d(a.data, [M, K]);
      const tb = tf.tensor2d(b.data, [K, N]);
      tasks['tfjs-wasm'] = () => {
        const c = tf.matMul(ta, tb);
        c.dataSync();
        c.dispose();
      };
    }
    const ms = await medianMs(tasks, ctx.timing);
    if (tf) tf.disposeVariables();
    const flops = 2 * M * N * K;
    const g = (label: string) => (ms[label] === undefined ? undefined : gflops(flops, ms[label]));
    const bestG = g(best.label)!;
    const peak = peakOf(best.label);
    rows.push([
      `${M}x${N}x${K}`,
      ...ctx.impls.map((impl) => g(impl.label)),
      g('tfjs-wasm'),
      peak ? (100 * bestG) / peak : undefined,
      bestG / g('js')!,
      g('tfjs-wasm') ? bestG / g('tfjs-wasm')! : undefined,
    ]);
  }
  return {
    title: `matmul, GFLOP/s (M x N x K, one core; ratios use ${best.label})`,
    header: ['size', ...ctx.impls.map((i) => i.label), 'tfjs-wasm', '% peak', 'x js', 'x tfjs'],
    rows,
  };
}
