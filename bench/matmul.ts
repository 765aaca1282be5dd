// matmul GFLOP/s: weft (both WASM builds), the pure-JS backend and tfjs-wasm,
// per size, with ratios and % of the same run's peak probe.

import type { BenchContext, FamilyTable } from './context.js';
import { gflops, medianMs } from './harness.js';
import { groupedBarChart } from './plot.js';
import { ThreadColumns } from './threads.js';

/** [M, N, K]: square sizes, a tall-skinny GEMM (2D-RNN input projection shape) and a mat-vec. */
export const MATMUL_SIZES: [number, number, number][] = [
  [64, 64, 64],
  [256, 256, 256],
  [1024, 1024, 1024],
  [4096, 64, 64],
  [1, 512, 512],
];

/** Peak GFLOP/s of the build behind an implementation label (undefined for JS). */
export function peakOf(ctx: BenchContext, label: string): number | undefined {
  return label === 'wasm-relaxed' ? ctx.peak.relaxed : label === 'wasm-simd' ? ctx.peak.simd : undefined;
}

export async function benchMatmul(ctx: BenchContext): Promise<FamilyTable> {
  const rows = [];
  const points: Record<string, unknown>[] = [];
  const best = ctx.impls[0];
  const threads = new ThreadColumns(ctx, 'matmul', { headlines: ['1024x1024x1024'] });
  for (const [M, N, K] of MATMUL_SIZES) {
    ctx.progress.show(`matmul ${M}x${N}x${K}`);
    const a = best.weft.randn([M, K], 1);
    const b = best.weft.randn([K, N], 2);
    const tasks: Record<string, () => unknown> = {};
    for (const impl of ctx.impls) tasks[impl.label] = () => impl.weft.matmul(a, b);
    threads.addTask(tasks, (weft) => weft.matmul(a, b));
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
    const flops = 2 * M * N * K;
    const g = (label: string) => (ms[label] === undefined ? undefined : gflops(flops, ms[label]));
    const bestG = g(best.label)!;
    const peak = peakOf(ctx, best.label);
    for (const label of Object.keys(ms)) points.push({ size: `${M}x${N}x${K}`, impl: label, gflops: g(label) });
    rows.push([
      `${M}x${N}x${K}`,
      ...ctx.impls.map((impl) => g(impl.label)),
      g('tfjs-wasm'),
      peak ? (100 * bestG) / peak : undefined,
      bestG / g('js')!,
      g('tfjs-wasm') ? bestG / g('tfjs-wasm')! : undefined,
      ...threads.rateCells(`${M}x${N}x${K}`, bestG, g(threads.key)),
    ]);
  }
  const rules = [{ y: ctx.peak.simd, label: `peak mul+add ${ctx.peak.simd.toFixed(1)}` }];
  if (ctx.peak.relaxed) rules.push({ y: ctx.peak.relaxed, label: `peak relaxed madd ${ctx.peak.relaxed.toFixed(1)}` });
  return {
    slug: 'matmul',
    title: `matmul, GFLOP/s (M x N x K, one core but the thread columns; ratios use ${best.label})`,
    header: ['size', ...ctx.impls.map((i) => i.label), 'tfjs-wasm', '% peak', 'x js', 'x tfjs', ...threads.header()],
    rows,
    notes: threads.notes(),
    threadSpeedups: threads.speedups,
    plot: groupedBarChart({
      title: `matmul GFLOP/s per size (M x N x K), one core${threads.threaded ? ` (and ${threads.key})` : ''}; dashed: measured one-core peaks`,
      category: { field: 'size', title: 'M x N x K', order: MATMUL_SIZES.map(([M, N, K]) => `${M}x${N}x${K}`) },
      y: { field: 'gflops', title: 'GFLOP/s' },
      series: 'impl',
      values: points,
      rules,
    }),
  };
}
