// Attention: exact (full), sliding-window and linear (elu1, FAVOR+) forward and
// backward, B = 1, H = 8, d = dv = 64, over T; weft's WASM builds against the pure-JS
// twin and against tfjs-wasm full attention written as a tfjs user would
// (matMul -> softmax -> matMul). Time per call in ms, GFLOP/s of the work each
// kernel executes, and the log-log slope of time over T (1K..64K).
// Every ratio compares numbers of this run; sizes a baseline cannot finish in
// reasonable time are left out, never extrapolated.

import type { Tensor, Weft } from '../src/index.js';
import type { BenchContext, FamilyTable, Implementation } from './context.js';
import { lineChart } from './plot.js';
import { type Cell, fitExponent, fmt, gflops, medianMs } from './harness.js';
import type { Tf } from './peers/tfjs.js';
import { ThreadColumns } from './threads.js';

const H = 8;
const D = 64;
/** FAVOR+ features in the benchmark (the issue's configuration). */
const FAVOR_FEATURES = 256;
/** Chunk of the causal linear kernels (assembly/attention_linear.ts LINEAR_CHUNK), for the flop count. */
const LINEAR_CHUNK = 32;

interface Inputs {
  q: Tensor;
  k: Tensor;
  v: Tensor;
  dout: Tensor;
}

interface Kernel {
  name: string;
  /** Largest T (full attention is O(T^2)). */
  maxT: number;
  /** Expected exponent of time over T, to predict the next size's time. */
  order: number;
  flops(T: number): number;
  run(weft: Weft, x: Inputs): unknown;
}

/** Visible (query, key) pairs of a band [left, right] over T = S positions. */
function bandPairs(T: number, left: number, right: number): number {
  let pairs = 0;
  for (let t = 0; t < T; t++) pairs += Math.min(T - 1, t + right) - Math.max(0, t - left) + 1;
  return pairs;
}

/**
 * Flops linear attention executes per head (F features, w = dv + 1 value columns
 * with the ones column of the denominator, chunks of C), forward or backward.
 */
function linearFlops(T: number, F: number, favor: boolean, causal: boolean, backward: boolean): number {
  const d = D, dv = D, w = dv + 1, C = LINEAR_CHUNK;
  const features = favor ? 2 * d * F : 0; // x W^T per row
  // forward: per token the key update phi(k)^T v' and the read phi(q) KV', plus the causal intra-chunk products
  const intra = causal ? 2 * C * F + 2 * C * w : 0;
  const forward = 2 * features + 4 * F * w + intra;
  if (!backward) return T * forward;
  // backward: the forward again, dphi(Q) = dN' KV'^T, G updates, dphi(K) = V' G^T, dv = phi(K) G,
  // the feature gradients, and inside causal chunks E, E phi(K), E^T phi(Q), P^T dnum
  const extra = 2 * w * F * 3 + 2 * F * dv + (favor ? 2 * features + 2 * 2 * d * F : 0) + (causal ? 2 * C * (w + F) * 3 + 2 * C * dv : 0);
  return T * (forward + extra);
}

function kernels(): Kernel[] {
  const attention = (pairs: (T: number) => number, perPair: number) => (T: number) => H * pairs(T) * perPair * D;
  const full = (T: number) => T * T;
  const fullCausal = (T: number) => (T * (T + 1)) / 2;
  const linear = (featureMap: 'elu1' | 'favor', causal: boolean) => (weft: Weft, x: Inputs) =>
    weft.attention.linear({ q: x.q, k: x.k, v: x.v, causal, featureMap, numFeatures: FAVOR_FEATURES });
  const linearBackward = (featureMap: 'elu1' | 'favor', causal: boolean) => (weft: Weft, x: Inputs) =>
    weft.attention.linearBackward({ ...x, causal, featureMap, numFeatures: FAVOR_FEATURES });
  const linearCost = (favor: boolean, causal: boolean, backward: boolean) => (T: number) =>
    H * linearFlops(T, favor ? FAVOR_FEATURES : D, favor, causal, backward);
  // forward: two GEMMs of 2 d per visible pair; backward (FlashAttention-2): five
  return [
    { name: 'full', maxT: 16384, order: 2, flops: attention(full, 4), run: (w, x) => w.attention.full(x) },
    { name: 'full causal', maxT: 16384, order: 2, flops: attention(fullCausal, 4), run: (w, x) => w.attention.full({ ...x, causal: true }) },
    { name: 'windowed [128,128]', maxT: Infinity, order: 1, flops: attention((T) => bandPairs(T, 128, 128), 4), run: (w, x) => w.attention.windowed({ ...x, window: [128, 128] }) },
    { name: 'windowed [256,0] causal', maxT: Infinity, order: 1, flops: attention((T) => bandPairs(T, 256, 0), 4), run: (w, x) => w.attention.windowed({ ...x, window: [256, 0], causal: true }) },
    { name: 'linear elu1', maxT: Infinity, order: 1, flops: linearCost(false, false, false), run: linear('elu1', false) },
    { name: 'linear elu1 causal', maxT: Infinity, order: 1, flops: linearCost(false, true, false), run: linear('elu1', true) },
    { name: `linear favor-${FAVOR_FEATURES}`, maxT: Infinity, order: 1, flops: linearCost(true, false, false), run: linear('favor', false) },
    { name: `linear favor-${FAVOR_FEATURES} causal`, maxT: Infinity, order: 1, flops: linearCost(true, true, false), run: linear('favor', true) },
    { name: 'full bwd', maxT: 4096, order: 2, flops: attention(full, 10), run: (w, x) => w.attention.fullBackward(x) },
    { name: 'full causal bwd', maxT: 4096, order: 2, flops: attention(fullCausal, 10), run: (w, x) => w.attention.fullBackward({ ...x, causal: true }) },
    { name: 'windowed [128,128] bwd', maxT: Infinity, order: 1, flops: attention((T) => bandPairs(T, 128, 128), 10), run: (w, x) => w.attention.windowedBackward({ ...x, window: [128, 128] }) },
    { name: 'windowed [256,0] causal bwd', maxT: Infinity, order: 1, flops: attention((T) => bandPairs(T, 256, 0), 10), run: (w, x) => w.attention.windowedBackward({ ...x, window: [256, 0], causal: true }) },
    { name: 'linear elu1 bwd', maxT: Infinity, order: 1, flops: linearCost(false, false, true), run: linearBackward('elu1', false) },
    { name: 'linear elu1 causal bwd', maxT: Infinity, order: 1, flops: linearCost(false, true, true), run: linearBackward('elu1', true) },
    { name: `linear favor-${FAVOR_FEATURES} bwd`, maxT: Infinity, order: 1, flops: linearCost(true, false, true), run: linearBackward('favor', false) },
    { name: `linear favor-${FAVOR_FEATURES} causal bwd`, maxT: Infinity, order: 1, flops: linearCost(true, true, true), run: linearBackward('favor', true) },
  ];
}

/** Sampling of short calls: the family has ~100 of them, so quick runs sample less (whole family ~60 s). */
const QUICK_SAMPLING = { timeMs: 50, iterations: 3 };

/** Median ms of fn: tinybench when a call is short, else the median of a few plain calls. */
async function timeCall(fn: () => unknown, predictedMs: number, ctx: BenchContext): Promise<number> {
  if (predictedMs < 300) return (await medianMs({ call: fn }, ctx.quick ? QUICK_SAMPLING : ctx.timing)).call;
  const samples = predictedMs > 3000 || ctx.quick ? 1 : 3;
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[Math.floor(samples / 2)];
}

/** tfjs-wasm full attention, the way a tfjs user writes it: softmax(q k^T * scale) v. */
function tfjsFull(tf: Tf, x: Inputs, T: number): { run: () => void; dispose: () => void } {
  const q = tf.tensor3d(x.q.data, [H, T, D]), k = tf.tensor3d(x.k.data, [H, T, D]), v = tf.tensor3d(x.v.data, [H, T, D]);
  return {
    run: () => {
      const out = tf.tidy(() => tf.matMul(tf.softmax(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(D))), v));
      out.dataSync();
      out.dispose();
    },
    dispose: () => tf.dispose([q, k, v]),
  };
}

export async function benchAttention(ctx: BenchContext): Promise<FamilyTable> {
  const sizes = ctx.quick ? [256, 1024, 4096] : [256, 1024, 4096, 16384, 65536];
  // a baseline runs at a size only when the previous size predicts it finishes within this
  // (quick runs: the JS twin at the first size only)
  const baselineBudgetMs = ctx.quick ? 0 : 20000;
  // tfjs full attention at T = 4096 is the yardstick of the targets (~17 s a call here)
  const tfjsBudgetMs = ctx.quick ? 3000 : 45000;
  const wasmImpls = ctx.impls.filter((i) => i.label !== 'js');
  const js = ctx.impls.find((i) => i.label === 'js');
  const best = wasmImpls[0];
  // quick runs time the N-thread column from T = 1024 up (the shortest calls add ~10 s otherwise)
  const threadsFromT = ctx.quick ? 1024 : 0;
  const threads = new ThreadColumns(ctx, 'attention', {
    headlines: ['windowed [128,128] T=4096'],
    selection: ctx.quick ? `quick mode: rows from T=${threadsFromT} up` : undefined,
  });
  const list = kernels();
  // ms[kernel][impl][T]
  const ms = new Map<string, Map<string, Map<number, number>>>();
  const record = (kernel: string, impl: string, T: number, value: number) => {
    if (!ms.has(kernel)) ms.set(kernel, new Map());
    if (!ms.get(kernel)!.has(impl)) ms.get(kernel)!.set(impl, new Map());
    ms.get(kernel)!.get(impl)!.set(T, value);
  };
  const lookup = (kernel: string, impl: string, T: number) => ms.get(kernel)?.get(impl)?.get(T);
  /** The time a size should take, from the last size measured (undefined: never measured). */
  const predict = (kernel: Kernel | 'tfjs', impl: string, T: number) => {
    const name = kernel === 'tfjs' ? 'tfjs full' : kernel.name;
    const order = kernel === 'tfjs' ? 2 : kernel.order;
    const seen = [...(ms.get(name)?.get(impl)?.entries() ?? [])].filter(([t]) => t < T);
    if (seen.length === 0) return undefined;
    const [t0, m0] = seen[seen.length - 1];
    return m0 * (T / t0) ** order;
  };

  for (const T of sizes) {
    const weft = best.weft;
    const x: Inputs = { q: weft.randn([1, H, T, D], 1), k: weft.randn([1, H, T, D], 2), v: weft.randn([1, H, T, D], 3), dout: weft.randn([1, H, T, D], 4) };
    for (const kernel of list) {
      if (T > kernel.maxT || (ctx.quick && kernel.name.endsWith('bwd') && T > 1024)) continue;
      ctx.progress.show(`attention ${kernel.name} T=${T}`);
      for (const impl of wasmImpls) {
        const predicted = predict(kernel, impl.label, T) ?? 0;
        record(kernel.name, impl.label, T, await timeCall(() => kernel.run(impl.weft, x), predicted, ctx));
      }
      const threaded = threads.threaded;
      if (threaded && T >= threadsFromT) {
        // N threads take at most the one-thread time, which was just measured
        const predicted = lookup(kernel.name, best.label, T) ?? 0;
        record(kernel.name, threads.key, T, await timeCall(() => kernel.run(threaded.weft, x), predicted, ctx));
      }
      if (js) {
        const predicted = predict(kernel, 'js', T);
        const first = T === sizes[0];
        if (first || (predicted !== undefined && predicted < baselineBudgetMs && lookup(kernel.name, 'js', sizes[sizes.indexOf(T) - 1]) !== undefined)) {
          record(kernel.name, 'js', T, await timeCall(() => kernel.run(js.weft, x), predicted ?? 0, ctx));
        }
      }
    }
    const tf = ctx.tf;
    // tfjs materialises H x T x T scores (8 GiB at T = 16K): up to 4096, within the budget
    const tfPredicted = predict('tfjs', 'tfjs', T);
    if (tf && T <= 4096 && (T === sizes[0] || (tfPredicted !== undefined && tfPredicted < tfjsBudgetMs))) {
      ctx.progress.show(`attention tfjs-wasm full T=${T}`);
      const peer = tfjsFull(tf, x, T);
      if (T === sizes[0]) peer.run(); // tfjs-wasm compiles its kernels on the first call
      record('tfjs full', 'tfjs', T, await timeCall(peer.run, tfPredicted ?? 0, ctx));
      peer.dispose();
    }
  }

  // matmul GFLOP/s of the best build in this run, the yardstick of the windowed target
  const a = best.weft.randn([1024, 1024], 5), b = best.weft.randn([1024, 1024], 6);
  const matmulGflops = gflops(2 * 1024 ** 3, (await medianMs({ mm: () => best.weft.matmul(a, b) }, ctx.timing)).mm);

  const rows: Cell[][] = [];
  const backwardRows: Cell[][] = [];
  const notes: string[] = [];
  const fit = (kernel: string) => {
    const points = sizes.filter((T) => T >= 1024).map((T) => [T, lookup(kernel, best.label, T)] as const).filter(([, m]) => m !== undefined);
    return points.length >= 2 ? fitExponent(points.map(([T]) => T), points.map(([, m]) => m!)) : undefined;
  };
  for (const kernel of list) {
    for (const T of sizes) {
      const bestMs = lookup(kernel.name, best.label, T);
      if (bestMs === undefined) continue;
      const jsMs = lookup(kernel.name, 'js', T);
      const tfMs = kernel.name.endsWith('bwd') ? undefined : lookup('tfjs full', 'tfjs', T);
      (kernel.name.endsWith('bwd') ? backwardRows : rows).push([
        kernel.name,
        T,
        ...wasmImpls.map((impl) => lookup(kernel.name, impl.label, T)),
        jsMs,
        gflops(kernel.flops(T), bestMs),
        jsMs === undefined ? undefined : jsMs / bestMs,
        tfMs === undefined ? undefined : tfMs / bestMs,
        T === sizes[sizes.length - 1] || T === kernel.maxT || (ctx.quick && kernel.name.endsWith('bwd') && T === 1024) ? fit(kernel.name) : undefined,
        ...threads.timeCells(`${kernel.name} T=${T}`, bestMs, lookup(kernel.name, threads.key, T)),
      ]);
    }
  }
  for (const T of sizes) {
    const tfMs = lookup('tfjs full', 'tfjs', T);
    if (tfMs !== undefined) rows.push(['tfjs-wasm full', T, ...wasmImpls.map(() => undefined), undefined, gflops(4 * H * T * T * D, tfMs), undefined, 1, undefined, ...threads.header().map(() => undefined)]);
  }
  // the targets are stated at T = 4096; quick runs measure tfjs up to 1024 only
  const tfSizes = sizes.filter((T) => lookup('tfjs full', 'tfjs', T) !== undefined);
  const targetT = tfSizes.length > 0 ? tfSizes[tfSizes.length - 1] : 4096;
  const tfAtTarget = lookup('tfjs full', 'tfjs', targetT);
  const ratio = (kernel: string) => {
    const m = lookup(kernel, best.label, targetT);
    return tfAtTarget !== undefined && m !== undefined ? fmt(tfAtTarget / m) : '-';
  };
  notes.push(`times in ms (B=1, H=${H}, d=dv=${D}); GFLOP/s and the x columns use ${best.label}; x tfjs = tfjs-wasm full attention at the same T / this kernel; slope = fitted exponent of time over T from 1K up`);
  notes.push(`targets (stated at T=4096) at T=${targetT} vs tfjs-wasm full: full ${ratio('full')}x (>= 5); windowed ${ratio('windowed [128,128]')}x / ${ratio('windowed [256,0] causal')}x, linear elu1 ${ratio('linear elu1')}x / ${ratio('linear elu1 causal')}x, favor ${ratio(`linear favor-${FAVOR_FEATURES}`)}x / ${ratio(`linear favor-${FAVOR_FEATURES} causal`)}x (>= 100)`);
  const windowedShare = (kernel: string) => {
    const m = lookup(kernel, best.label, sizes[sizes.length - 1]);
    const k = list.find((l) => l.name === kernel)!;
    return m === undefined ? '-' : `${fmt(gflops(k.flops(sizes[sizes.length - 1]), m))} GFLOP/s = ${fmt((100 * gflops(k.flops(sizes[sizes.length - 1]), m)) / matmulGflops)}%`;
  };
  notes.push(`matmul 1024^3 in this run: ${fmt(matmulGflops)} GFLOP/s (${best.label}); windowed at T=${sizes[sizes.length - 1]}: [128,128] ${windowedShare('windowed [128,128]')}, [256,0] ${windowedShare('windowed [256,0] causal')} of it (target >= 50%)`);
  notes.push(...threads.notes());
  const header = ['kernel', 'T', ...wasmImpls.map((i: Implementation) => i.label), 'js', 'GFLOP/s', 'x js', 'x tfjs', 'slope', ...threads.header()];
  const points = [...list.filter((k) => !k.name.endsWith('bwd')).map((k) => k.name), 'tfjs full'].flatMap((name) =>
    sizes.flatMap((T) => {
      const m = lookup(name, name === 'tfjs full' ? 'tfjs' : best.label, T);
      const slope = name === 'tfjs full' ? undefined : fit(name);
      const series = name === 'tfjs full' ? 'tfjs-wasm full' : slope === undefined ? name : `${name} (slope ${slope.toFixed(2)})`;
      return m === undefined ? [] : [{ T, ms: m, series }];
    }),
  );
  return {
    slug: 'attention',
    title: `attention forward, ms per call (B=1, H=${H}, d=${D}, one core but the thread columns; T = tokens)`,
    header,
    rows,
    extraTables: [{ title: `attention backward (dq, dk, dv), ms per call (B=1, H=${H}, d=${D})`, header, rows: backwardRows }],
    notes,
    threadSpeedups: threads.speedups,
    plot: lineChart({
      title: `attention forward, ms per call vs T (${best.label}, H=${H}, d=${D}): full is O(T^2), windowed and linear O(T)`,
      x: { field: 'T', title: 'tokens T', log: true },
      y: { field: 'ms', title: 'ms per call', log: true },
      series: 'series',
      values: points,
    }),
  };
}
