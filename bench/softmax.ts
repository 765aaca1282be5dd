// Softmax gradient cost: the exact softmax over V classes (O(N·V·h)) against sampled
// softmax and negative sampling (O(N·k·h)) and hierarchical softmax (O(N·log V·h)),
// loss + every gradient per call, for
// V = 1K ... 1M at h = 128. Each call includes what a user pays: copying operands into
// WASM, validation, drawing candidates, gathering the touched rows.
// The exact softmax at V = 1M is timed on one warm call of a fresh instance of the best
// WASM build (it needs ~1.2 GB of WASM memory), and the pure-JS one only up to V = 10K
// (at 100K one call takes seconds): those cells are measured, never extrapolated.

import { type CreateWeftOptions, createWeft, type Weft } from '../src/index.js';
import { randn } from '../src/rng.js';
import type { BenchContext, FamilyTable } from './context.js';
import { type Cell, medianMs } from './harness.js';
import { lineChart } from './plot.js';
import { ThreadColumns } from './threads.js';

const BATCH = 64;
const HIDDEN = 128;
const NUM_SAMPLED = 64;
const NEGATIVE = 5;
export const SOFTMAX_VOCAB_SIZES = [1_000, 10_000, 100_000, 1_000_000];
/** Largest V the pure-JS exact softmax is timed at. */
const JS_FULL_LIMIT = 10_000;
/** Largest V the exact softmax is timed at with tinybench (above: one call). */
const FULL_REPEAT_LIMIT = 100_000;

function problem(V: number) {
  const input = randn([BATCH, HIDDEN], 1);
  const weights = randn([V, HIDDEN], 2);
  for (let i = 0; i < weights.data.length; i++) weights.data[i] *= 0.1;
  const targets = new Int32Array(BATCH);
  for (let i = 0; i < BATCH; i++) targets[i] = (i * 7919) % V;
  // Zipf counts, ids sorted by frequency (what log-uniform and unigram samplers assume)
  const counts = Float64Array.from({ length: V }, (_, i) => Math.max(1, Math.round(1e7 / (i + 1))));
  return { input, weights, targets, counts };
}

/** The same counts prepared once (weft.softmax.unigramSampler, not timed): what a training loop reuses. */
function preparedSampler(w: Weft, p: Problem) {
  return w.softmax.unigramSampler({ counts: p.counts });
}

/** The Huffman tree of the counts (weft.softmax.huffmanTree, not timed) and the V - 1 inner-node rows. */
function preparedTree(w: Weft, p: Problem) {
  const [V, h] = p.weights.shape;
  return { tree: w.softmax.huffmanTree({ counts: p.counts }), inner: { data: p.weights.data.subarray(0, (V - 1) * h), shape: [V - 1, h] } };
}

type Problem = ReturnType<typeof problem> & { sampler?: ReturnType<typeof preparedSampler>; tree?: ReturnType<typeof preparedTree> };

const OPS = ['full', 'sampled', 'negative', 'prepared', 'hierarchical'] as const;
const ops = {
  full: (w: Weft, p: Problem) => w.softmax.full({ input: p.input, weights: p.weights, targets: p.targets }),
  sampled: (w: Weft, p: Problem) =>
    w.softmax.sampled({ input: p.input, weights: p.weights, targets: p.targets, numSampled: NUM_SAMPLED }),
  negative: (w: Weft, p: Problem) =>
    w.softmax.negativeSampling({ input: p.input, weights: p.weights, targets: p.targets, negative: NEGATIVE, counts: p.counts }),
  prepared: (w: Weft, p: Problem) =>
    w.softmax.negativeSampling({ input: p.input, weights: p.weights, targets: p.targets, negative: NEGATIVE, sampler: p.sampler }),
  hierarchical: (w: Weft, p: Problem) =>
    w.softmax.hierarchical({ input: p.input, weights: p.tree!.inner, targets: p.targets, tree: p.tree!.tree }),
};

const METHOD: Record<(typeof OPS)[number], string> = {
  full: 'full softmax',
  sampled: `sampled (S=${NUM_SAMPLED})`,
  negative: `negative (k=${NEGATIVE})`,
  prepared: `negative, prepared sampler`,
  hierarchical: 'hierarchical (Huffman tree)',
};

/**
 * ms of the second (warm) full-softmax call on a fresh instance, disposed afterwards with
 * its ~1.2 GB of memory; the first call also pays for growing that memory.
 */
async function warmFullMs(options: CreateWeftOptions, p: Problem): Promise<number> {
  const fresh = await createWeft(options);
  try {
    ops.full(fresh, p);
    const t0 = performance.now();
    ops.full(fresh, p);
    return performance.now() - t0;
  } finally {
    fresh.dispose();
  }
}

export async function benchSoftmax(ctx: BenchContext): Promise<FamilyTable> {
  const best = ctx.impls[0];
  // quick runs leave out the N-thread full softmax at V=1M (two more multi-second calls on a fresh instance)
  const threads = new ThreadColumns(ctx, 'softmax', {
    headlines: ['full softmax V=1000K', 'full softmax V=100K'],
    selection: ctx.quick ? `quick mode: every row but full softmax at V=${SOFTMAX_VOCAB_SIZES.at(-1)! / 1000}K` : undefined,
  });
  const simd = best.label === 'wasm-relaxed' ? 'relaxed' : 'simd';
  const rows: Cell[][] = [];
  const points: Record<string, unknown>[] = [];
  for (const V of SOFTMAX_VOCAB_SIZES) {
    ctx.progress.show(`softmax gradients V=${V}`);
    const p: Problem = problem(V);
    p.sampler = preparedSampler(best.weft, p);
    p.tree = preparedTree(best.weft, p);
    const ms: Record<string, Record<string, number>> = { full: {}, sampled: {}, negative: {}, prepared: {}, hierarchical: {} };
    for (const op of OPS) {
      const tasks: Record<string, () => unknown> = {};
      for (const impl of ctx.impls) {
        if (op === 'full' && (V > FULL_REPEAT_LIMIT || (impl.label === 'js' && V > JS_FULL_LIMIT))) continue;
        tasks[impl.label] = () => ops[op](impl.weft, p);
      }
      threads.addTask(tasks, (weft) => ops[op](weft, p), !(op === 'full' && V > FULL_REPEAT_LIMIT));
      if (Object.keys(tasks).length > 0) Object.assign(ms[op], await medianMs(tasks, ctx.timing));
    }
    if (V > FULL_REPEAT_LIMIT) {
      ms.full[best.label] = await warmFullMs({ simd, threads: 1 }, p);
      if (threads.threaded && !ctx.quick) ms.full[threads.key] = await warmFullMs({ simd, threads: threads.threaded.threads }, p);
    }
    for (const op of OPS) {
      const speedup = ms.full[best.label] / ms[op][best.label];
      for (const [label, t] of Object.entries(ms[op])) points.push({ V, ms: t, series: `${op} ${label}` });
      rows.push([
        op === 'full' ? `${V / 1000}K` : '',
        METHOD[op],
        ...ctx.impls.map((impl) => ms[op][impl.label]),
        op === 'full' ? '1' : speedup,
        ms[op].js !== undefined ? ms[op].js / ms[op][best.label] : undefined,
        ...threads.timeCells(`${METHOD[op]} V=${V / 1000}K`, ms[op][best.label], ms[op][threads.key]),
      ]);
    }
  }
  return {
    slug: 'softmax',
    plot: lineChart({
      title: `softmax gradients, ms per call vs V (N=${BATCH}, h=${HIDDEN}): full is O(V), sampled and negative are not, hierarchical O(log V)`,
      x: { field: 'V', title: 'classes V', log: true },
      y: { field: 'ms', title: 'ms per call', log: true },
      series: 'series',
      values: points,
    }),
    title: `softmax gradients, ms per call (N=${BATCH} rows, h=${HIDDEN}; loss + dInput + weight gradients)`,
    header: ['V', 'method', ...ctx.impls.map((i) => `${i.label} ms`), `x faster than full (${best.label})`, `js / ${best.label}`, ...threads.header(' ms')],
    rows,
    threadSpeedups: threads.speedups,
    notes: [
      `sampled: TF sampled_softmax_loss, log-uniform sampler, ${NUM_SAMPLED} unique shared candidates, -log Q, accidental hits removed;`,
      `negative: word2vec SGNS, ${NEGATIVE} unigram^0.75 draws per row, counts passed each call (re-checked: O(V));`,
      `prepared sampler: the same draws from weft.softmax.unigramSampler({ counts }), built once outside the timing: O(N·k·h).`,
      `hierarchical: word2vec's hierarchical softmax over weft.softmax.huffmanTree({ counts }) (Zipf counts; built once outside the timing), weights [V-1, h]: O(N·log V·h), a path of ~log2 V nodes per row.`,
      `full at V=1M: the second (warm) call on a fresh ${best.label} instance${threads.threaded && !ctx.quick ? ` (another one on ${threads.threaded.threads} threads)` : ''}; pure-JS full only up to V=${JS_FULL_LIMIT / 1000}K ('-').`,
      ...threads.notes(),
    ],
  };
}
