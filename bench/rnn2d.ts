// 2D-RNN benchmarks: forward, and forward + backward, for n x n grids (B = 8, C = 3,
// tanh, top-left), weft's two WASM builds against the pure-JS backend, the tfjs-wasm
// per-diagonal peer (bench/peers/tfjs_rnn2d.ts) and the shared matmul at the shape of
// the scan's largest diagonal GEMM, all measured interleaved in one run. Then the
// homework's "compare with a convnet": a stack of 3x3 convs of the same width whose
// receptive field covers the image, at n = 32, and the backward of one of its layers
// (dx + dw + dbias) against tfjs-wasm's gradient of the same conv.
// Only what was measured is printed: a size too slow for the JS backend in this mode
// shows '-' (never an extrapolation).

import type { Tensor, Weft } from '../src/index.js';
import type { BenchContext, FamilyTable, Implementation, Table } from './context.js';
import { type Cell, fitExponent, gflops, medianMs } from './harness.js';
import { lineChart } from './plot.js';
import type { Tf } from './peers/tfjs.js';
import { ThreadColumns } from './threads.js';
import { type TfRnn2dWeights, loadTfGradients, tfRnn2dForward, tfRnn2dTrainingStep } from './peers/tfjs_rnn2d.js';
import { lstmSection } from './rnn2d_lstm.js';
import { type TfConv2dDx, type TfConv2dOperands, tfConv2dBackward } from './peers/tfjs_conv2d.js';

const BATCH = 8;
const CHANNELS = 3;
const HIDDEN = [32, 128];
/**
 * The JS backend runs a size only when one call costs at most this many flops, and
 * the tfjs training step (~1 s per GFLOP) likewise: `--quick` takes 30-40 s.
 */
const JS_FLOP_BUDGET = { quick: 1.5e8, full: 3e9 };
const TFJS_TRAINING_FLOP_BUDGET = { quick: 2e9, full: Infinity };

const gridSizes = (quick: boolean) => (quick ? [16, 32, 64] : [16, 32, 64, 128]);

interface Rnn2dCase {
  n: number;
  hidden: number;
  flops: number;
  args: { x: Tensor; wIn: Tensor; wLeft: Tensor; wTop: Tensor; bias: Tensor };
}

function makeCase(weft: Weft, n: number, hidden: number): Rnn2dCase {
  const scaled = (t: Tensor, s: number) => weft.tensor(t.data.map((v) => v * s), t.shape);
  // contracting recurrence (as a trained one): the states stay in tanh's linear range
  const recurrent = 0.6 / Math.sqrt(2 * hidden);
  return {
    n,
    hidden,
    flops: weft.rnn2d.flops({ batch: BATCH, height: n, width: n, inputChannels: CHANNELS, hidden }),
    args: {
      x: weft.randn([BATCH, n, n, CHANNELS], n),
      wIn: scaled(weft.randn([hidden, CHANNELS], 1), 1 / Math.sqrt(CHANNELS)),
      wLeft: scaled(weft.randn([hidden, hidden], 2), recurrent),
      wTop: scaled(weft.randn([hidden, hidden], 3), recurrent),
      bias: scaled(weft.randn([hidden], 4), 0.1),
    },
  };
}

function tfWeights(tf: Tf, c: Rnn2dCase): { x: ReturnType<Tf['tensor']>; w: TfRnn2dWeights } {
  const t = (v: Tensor) => tf.tensor(v.data, v.shape);
  return { x: t(c.args.x), w: { wIn: t(c.args.wIn), wLeft: t(c.args.wLeft), wTop: t(c.args.wTop), bias: t(c.args.bias) } };
}

/** One tfjs forward, read back to JS as weft's output is. */
function tfForwardTask(tf: Tf, peer: ReturnType<typeof tfWeights>): () => void {
  return () => {
    const h = tfRnn2dForward(tf, peer.x, peer.w);
    h.dataSync();
    h.dispose();
  };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let k = 0; k < a.length; k++) worst = Math.max(worst, Math.abs(a[k] - b[k]));
  return worst;
}

/** A benchmark against a peer computing something else is meaningless: check it once. */
function checkTfPeer(tf: Tf, weft: Weft, withGradients: boolean): void {
  const c = makeCase(weft, 9, 12);
  const { x, w } = tfWeights(tf, c);
  const { h } = weft.rnn2d.forward(c.args);
  const dh = weft.randn(h.shape, 5);
  const grads = weft.rnn2d.backward({ ...c.args, h, dh });
  const tfH = tfRnn2dForward(tf, x, w);
  const dhT = tf.tensor(dh.data, dh.shape);
  const tfGrads = withGradients ? tfRnn2dTrainingStep(tf, x, w, dhT) : [];
  const pairs: [string, ArrayLike<number>, ArrayLike<number>][] = [['h', tfH.dataSync(), h.data]];
  if (withGradients) {
    pairs.push(
      ['dwIn', tfGrads[0].dataSync(), grads.dwIn.data],
      ['dwLeft', tfGrads[1].dataSync(), grads.dwLeft.data],
      ['dwTop', tfGrads[2].dataSync(), grads.dwTop.data],
      ['dbias', tfGrads[3].dataSync(), grads.dbias.data],
    );
  }
  for (const [name, got, want] of pairs) {
    const diff = maxAbsDiff(got, want);
    if (!(diff < 1e-3)) throw new Error(`tfjs rnn2d peer disagrees with weft on ${name}: max |diff| ${diff}`);
  }
  tf.dispose([tfH, dhT, x, ...Object.values(w), ...tfGrads]);
}

/** matmul GFLOP/s of the scan's largest diagonal GEMM: [B*n, 2 hid] @ [2 hid, hid]. */
function diagonalMatmulTask(impl: Implementation, n: number, hidden: number): { task: () => unknown; flops: number } {
  const a = impl.weft.randn([BATCH * n, 2 * hidden], 7);
  const b = impl.weft.randn([2 * hidden, hidden], 8);
  return { task: () => impl.weft.matmul(a, b), flops: 2 * BATCH * n * 2 * hidden * hidden };
}

const wasmImpls = (ctx: BenchContext) => ctx.impls.filter((impl) => impl.label !== 'js');
const jsImpl = (ctx: BenchContext) => ctx.impls.find((impl) => impl.label === 'js');
const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined ? a / b : undefined);
const budget = (ctx: BenchContext) => JS_FLOP_BUDGET[ctx.quick ? 'quick' : 'full'];

function exponentNotes(label: string, sizes: number[], timesByHidden: Map<number, number[]>): string[] {
  return [...timesByHidden].map(
    ([hidden, times]) =>
      `${label}, hid ${hidden}: time ~ n^${fitExponent(sizes, times).toFixed(2)} (least-squares fit over n = ${sizes.join(', ')})`,
  );
}

/** Measured times, kept for the plot: one point per (implementation, size). */
type Points = Record<string, unknown>[];

interface Section {
  table: Table;
  notes: string[];
}

async function forwardSection(ctx: BenchContext, threads: ThreadColumns, points: Points): Promise<Section> {
  const best = ctx.impls[0];
  const js = jsImpl(ctx);
  const tf = ctx.tf;
  const sizes = gridSizes(ctx.quick);
  const rows: Cell[][] = [];
  const times = new Map<number, number[]>();
  for (const hidden of HIDDEN)
    for (const n of sizes) {
      ctx.progress.show(`rnn2d forward n=${n} hid=${hidden}`);
      const c = makeCase(best.weft, n, hidden);
      const tasks: Record<string, () => unknown> = {};
      for (const impl of wasmImpls(ctx)) tasks[impl.label] = () => impl.weft.rnn2d.forward(c.args);
      threads.addTask(tasks, (weft) => weft.rnn2d.forward(c.args));
      if (js && c.flops <= budget(ctx)) tasks.js = () => js.weft.rnn2d.forward(c.args);
      const peer = tf ? tfWeights(tf, c) : undefined;
      if (tf && peer) {
        tasks['tfjs-wasm'] = tfForwardTask(tf, peer);
      }
      const matmul = diagonalMatmulTask(best, n, hidden);
      tasks.matmul = matmul.task;
      const ms = await medianMs(tasks, ctx.timing);
      if (tf && peer) tf.dispose([peer.x, ...Object.values(peer.w)]);
      const bestMs = ms[best.label];
      times.set(hidden, [...(times.get(hidden) ?? []), bestMs]);
      for (const label of [...ctx.impls.map((i) => i.label), threads.key, 'tfjs-wasm']) {
        if (ms[label] !== undefined) points.push({ n, ms: ms[label], series: `${label} h=${hidden}` });
      }
      const g = gflops(c.flops, bestMs);
      rows.push([
        String(n), String(hidden),
        ...wasmImpls(ctx).map((impl) => ms[impl.label]),
        ms.js,
        ms['tfjs-wasm'],
        g,
        (100 * g) / gflops(matmul.flops, ms.matmul),
        ratio(ms.js, bestMs),
        ratio(ms['tfjs-wasm'], bestMs),
        ...threads.timeCells(`forward n=${n} hid=${hidden}`, bestMs, ms[threads.key]),
      ]);
    }
  return {
    table: {
      title: `rnn2d forward, ms per call (B = ${BATCH}, n x n grid, C = ${CHANNELS}, tanh; GFLOP/s and ratios use ${best.label})`,
      header: ['n', 'hid', ...wasmImpls(ctx).map((i) => i.label), 'js', 'tfjs-wasm', 'GFLOP/s', '% matmul', 'x js', 'x tfjs', ...threads.header()],
      rows,
    },
    notes: [
      `% matmul: rnn2d GFLOP/s over weft.matmul's on [B*n, 2 hid] @ [2 hid, hid] (the largest diagonal GEMM), ${best.label}, same run.`,
      `tfjs-wasm: per-diagonal composition of tfjs ops (bench/peers/tfjs_rnn2d.ts), checked against weft first.`,
      ...exponentNotes('forward', sizes, times),
    ],
  };
}

async function trainingSection(ctx: BenchContext, threads: ThreadColumns, tf: Tf | null): Promise<Section> {
  const best = ctx.impls[0];
  const js = jsImpl(ctx);
  const sizes = gridSizes(ctx.quick);
  const rows: Cell[][] = [];
  const times = new Map<number, number[]>();
  for (const hidden of HIDDEN)
    for (const n of sizes) {
      ctx.progress.show(`rnn2d forward+backward n=${n} hid=${hidden}`);
      const c = makeCase(best.weft, n, hidden);
      const { h } = best.weft.rnn2d.forward(c.args);
      const dh = best.weft.randn(h.shape, 9);
      const step = (weft: Weft) => () => {
        const out = weft.rnn2d.forward(c.args);
        return weft.rnn2d.backward({ ...c.args, h: out.h, dh });
      };
      const tasks: Record<string, () => unknown> = {};
      for (const impl of wasmImpls(ctx)) tasks[impl.label] = step(impl.weft);
      threads.addTask(tasks, (weft) => step(weft)());
      // forward + backward is ~3x the forward's flops
      if (js && 3 * c.flops <= budget(ctx)) tasks.js = step(js.weft);
      tasks['forward only'] = () => best.weft.rnn2d.forward(c.args);
      tasks['backward only'] = () => best.weft.rnn2d.backward({ ...c.args, h, dh });
      const peer = tf ? tfWeights(tf, c) : undefined;
      const dhT = tf ? tf.tensor(dh.data, dh.shape) : undefined;
      if (tf && peer && dhT && 3 * c.flops <= TFJS_TRAINING_FLOP_BUDGET[ctx.quick ? 'quick' : 'full']) {
        tasks['tfjs-wasm'] = () => {
          const grads = tfRnn2dTrainingStep(tf, peer.x, peer.w, dhT);
          for (const g of grads) g.dataSync();
          tf.dispose(grads);
        };
      }
      const ms = await medianMs(tasks, ctx.timing);
      if (tf && peer && dhT) tf.dispose([peer.x, dhT, ...Object.values(peer.w)]);
      const bestMs = ms[best.label];
      times.set(hidden, [...(times.get(hidden) ?? []), bestMs]);
      rows.push([
        String(n), String(hidden),
        ...wasmImpls(ctx).map((impl) => ms[impl.label]),
        ms.js,
        ms['tfjs-wasm'],
        ms['backward only'] / ms['forward only'],
        gflops(3 * c.flops, bestMs),
        ratio(ms.js, bestMs),
        ratio(ms['tfjs-wasm'], bestMs),
        ...threads.timeCells(`forward+backward n=${n} hid=${hidden}`, bestMs, ms[threads.key]),
      ]);
    }
  return {
    table: {
      title: `rnn2d forward + backward, ms per step (B = ${BATCH}, C = ${CHANNELS}, tanh; ratios use ${best.label})`,
      header: ['n', 'hid', ...wasmImpls(ctx).map((i) => i.label), 'js', 'tfjs-wasm', 'bwd/fwd', 'GFLOP/s', 'x js', 'x tfjs', ...threads.header()],
      rows,
    },
    notes: [
      `bwd/fwd: backward alone over forward alone, ${best.label}. GFLOP/s counts a step as 3 x rnn2d.flops.`,
      `tfjs-wasm computes the weight gradients but not dx (tfjs-wasm has no gather gradient; see the peer).`,
      ...exponentNotes('forward + backward', sizes, times),
    ],
  };
}

/** A stack of 3x3 'same' convs, C -> hid -> ... -> hid, tanh. */
interface ConvStack {
  layers: number;
  weights: Tensor[];
  biases: Tensor[];
}

function makeConvStack(weft: Weft, layers: number, hidden: number): ConvStack {
  const weights: Tensor[] = [], biases: Tensor[] = [];
  for (let l = 0; l < layers; l++) {
    const inC = l === 0 ? CHANNELS : hidden;
    const w = weft.randn([hidden, 3, 3, inC], 100 + l);
    const scale = 1 / Math.sqrt(9 * inC);
    weights.push(weft.tensor(w.data.map((v) => v * scale), w.shape));
    biases.push(weft.zeros([hidden]));
  }
  return { layers, weights, biases };
}

function runConvStack(weft: Weft, stack: ConvStack, x: Tensor): Tensor {
  let y = x;
  for (let l = 0; l < stack.layers; l++) {
    y = weft.conv2d.forward({ x: y, w: stack.weights[l], bias: stack.biases[l], padding: 'same', activation: 'tanh' }).y;
  }
  return y;
}

async function convSection(ctx: BenchContext, threads: ThreadColumns): Promise<Section> {
  const best = ctx.impls[0];
  const weft = best.weft;
  const tf = ctx.tf;
  const n = 32;
  // pixel (i, j) of L stacked 3x3 convs sees a (2L+1)^2 window: the corner pixels see the
  // whole n x n image when L = n - 1, as the 2D-RNN's far corner does
  const layers = n - 1;
  const rows: Cell[][] = [];
  for (const hidden of ctx.quick ? [32] : HIDDEN) {
    ctx.progress.show(`rnn2d vs conv stack, hid=${hidden}`);
    const c = makeCase(weft, n, hidden);
    const stack = makeConvStack(weft, layers, hidden);
    const origins = ['top-left', 'top-right', 'bottom-left', 'bottom-right'] as const;
    const models = {
      rnn: (w: Weft) => w.rnn2d.forward(c.args),
      rnn4: (w: Weft) => origins.map((origin) => w.rnn2d.forward({ ...c.args, origin })),
      conv: (w: Weft) => runConvStack(w, stack, c.args.x),
    };
    const tasks: Record<string, () => unknown> = {};
    for (const [model, run] of Object.entries(models)) {
      tasks[model] = () => run(weft);
      threads.addTask(tasks, run, true, `${model} threads`);
    }
    const tfStack = tf ? stack.weights.map((w) => tf.transpose(tf.tensor(w.data, w.shape), [1, 2, 3, 0])) : [];
    const tfX = tf ? tf.tensor(c.args.x.data, c.args.x.shape) : undefined;
    const peer = tf ? tfWeights(tf, c) : undefined;
    if (tf && peer) {
      tasks['tfjs rnn'] = tfForwardTask(tf, peer);
    }
    if (tf && tfX) {
      tasks['tfjs conv'] = () => {
        const y = tf.tidy(() => {
          let t = tfX as ReturnType<Tf['tensor4d']>;
          for (const w of tfStack) t = tf.tanh(tf.conv2d(t, w as ReturnType<Tf['tensor4d']>, 1, 'same'));
          return t;
        });
        y.dataSync();
        y.dispose();
      };
    }
    const ms = await medianMs(tasks, ctx.timing);
    if (tf && tfX && peer) tf.dispose([tfX, ...tfStack, peer.x, ...Object.values(peer.w)]);
    const rnnParams = weft.rnn2d.paramCount({ inputChannels: CHANNELS, hidden });
    let convParams = 0, convFlops = 0;
    for (let l = 0; l < layers; l++) {
      const conv = { inputChannels: l === 0 ? CHANNELS : hidden, outChannels: hidden, kernel: [3, 3] as [number, number] };
      convParams += weft.conv2d.paramCount(conv);
      convFlops += weft.conv2d.flops({ ...conv, batch: BATCH, height: n, width: n, padding: 'same' });
    }
    const threadCells = (model: keyof typeof models, row: string) => threads.timeCells(`${row} hid=${hidden}`, ms[model], ms[`${model} threads`]);
    rows.push([`2D-RNN, 1 origin`, String(hidden), rnnParams, c.flops / 1e6, `quadrant up to (i+1)x(j+1); all at the far corner`, ms.rnn, ms['tfjs rnn'], ...threadCells('rnn', '2D-RNN 1 origin')]);
    rows.push([`2D-RNN, 4 origins`, String(hidden), 4 * rnnParams, (4 * c.flops) / 1e6, `whole image, every pixel`, ms.rnn4, undefined, ...threadCells('rnn4', '2D-RNN 4 origins')]);
    rows.push([`${layers} x conv 3x3`, String(hidden), convParams, convFlops / 1e6, `${2 * layers + 1}x${2 * layers + 1} window: whole image, every pixel`, ms.conv, ms['tfjs conv'], ...threadCells('conv', `${layers} x conv 3x3`)]);
  }
  return {
    table: {
      title: `2D-RNN vs a 3x3 conv stack with the same receptive field, forward, ${n}x${n}, B = ${BATCH}, C = ${CHANNELS}, tanh (weft ${best.label})`,
      header: ['model', 'hid', 'params', 'MFLOP', 'receptive field of pixel (i, j)', 'weft ms', 'tfjs-wasm ms', ...threads.header(' ms')],
      rows,
    },
    notes: [
      `4 origins: four scans (as ReNet / MD-RNNs combine them), so every pixel sees the whole image, as with the conv stack.`,
      `The conv stack needs n - 1 layers for that field; the RNN's cost does not grow with the field it covers.`,
    ],
  };
}

/** Channels (C -> O) of the conv layers whose backward is timed: the stack's first layer, then hid -> hid. */
const CONV_BACKWARD_LAYERS: readonly [number, number][] = [[CHANNELS, 32], [32, 32], [128, 128]];
/** The JS backend runs a layer's backward only up to this many flops (the 32 -> 32 layer: ~0.25 s a call). */
const CONV_JS_FLOP_BUDGET = { quick: 1e9, full: 2e9 };

/** One 3x3 'same' tanh conv layer of the stack, its forward output and a dL/dy. */
function makeConvLayer(weft: Weft, n: number, channels: number, outChannels: number) {
  const w = weft.randn([outChannels, 3, 3, channels], 200 + channels);
  const args = {
    x: weft.randn([BATCH, n, n, channels], 201),
    w: weft.tensor(w.data.map((v) => v / Math.sqrt(9 * channels)), w.shape),
    bias: weft.zeros([outChannels]),
    padding: 'same' as const,
    activation: 'tanh' as const,
  };
  const { y } = weft.conv2d.forward(args);
  return { args, y, dy: weft.randn(y.shape, 202) };
}

type ConvLayer = ReturnType<typeof makeConvLayer>;

function tfConvOperands(tf: Tf, layer: ConvLayer): TfConv2dOperands {
  const t = (v: Tensor) => tf.tensor4d(v.data, v.shape as [number, number, number, number]);
  // weft's w [O, kh, kw, C] is tfjs's filter [kh, kw, C, O] transposed
  return { x: t(layer.args.x), filter: tf.transpose(t(layer.args.w), [1, 2, 3, 0]), y: t(layer.y), dy: t(layer.dy) };
}

/** One tfjs backward, its three gradients read back to JS as weft's are. */
function tfConvBackwardTask(tf: Tf, operands: TfConv2dOperands, dxBy: TfConv2dDx): () => void {
  return () => {
    const grads = tfConv2dBackward(tf, operands, dxBy);
    for (const g of grads) g.dataSync();
    tf.dispose(grads);
  };
}

/** The composed tfjs gradients must be weft's (both dx routes), or the row means nothing. */
function checkTfConvPeer(tf: Tf, weft: Weft): void {
  const layer = makeConvLayer(weft, 7, 5, 11);
  const operands = tfConvOperands(tf, layer);
  const g = weft.conv2d.backward({ ...layer.args, y: layer.y, dy: layer.dy });
  for (const dxBy of ['conv2d', 'conv2dTranspose'] as const) {
    const [dx, dw, dbias] = tfConv2dBackward(tf, operands, dxBy);
    const dwOKKC = tf.transpose(dw, [3, 0, 1, 2]);
    for (const [name, got, want] of [['dx', dx, g.dx], ['dw', dwOKKC, g.dw], ['dbias', dbias, g.dbias]] as const) {
      const diff = maxAbsDiff(got.dataSync(), want.data);
      if (!(diff < 1e-3)) throw new Error(`tfjs conv2d gradient (dx by ${dxBy}) disagrees with weft on ${name}: max |diff| ${diff}`);
    }
    tf.dispose([dx, dw, dbias, dwOKKC]);
  }
  tf.dispose(Object.values(operands));
}

async function convBackwardSection(ctx: BenchContext, threads: ThreadColumns): Promise<Section> {
  const best = ctx.impls[0];
  const js = jsImpl(ctx);
  const tf = ctx.tf;
  const n = 32;
  if (tf) checkTfConvPeer(tf, best.weft);
  const rows: Cell[][] = [];
  for (const [channels, outChannels] of CONV_BACKWARD_LAYERS) {
    ctx.progress.show(`conv2d backward ${channels} -> ${outChannels}`);
    const layer = makeConvLayer(best.weft, n, channels, outChannels);
    const backward = (weft: Weft) => weft.conv2d.backward({ ...layer.args, y: layer.y, dy: layer.dy });
    // dw is a product of the forward's size, and so is dx with 'same' padding
    const flops = 2 * best.weft.conv2d.flops({ batch: BATCH, height: n, width: n, inputChannels: channels, outChannels, kernel: 3, padding: 'same' });
    const tasks: Record<string, () => unknown> = {};
    for (const impl of wasmImpls(ctx)) tasks[impl.label] = () => backward(impl.weft);
    threads.addTask(tasks, backward);
    if (js && flops <= CONV_JS_FLOP_BUDGET[ctx.quick ? 'quick' : 'full']) tasks.js = () => backward(js.weft);
    tasks['forward only'] = () => best.weft.conv2d.forward(layer.args);
    const operands = tf ? tfConvOperands(tf, layer) : undefined;
    if (tf && operands) {
      tasks['tfjs-wasm'] = tfConvBackwardTask(tf, operands, 'conv2d');
      tasks['tfjs conv2dTranspose'] = tfConvBackwardTask(tf, operands, 'conv2dTranspose');
    }
    const ms = await medianMs(tasks, ctx.timing);
    if (tf && operands) tf.dispose(Object.values(operands));
    const bestMs = ms[best.label];
    rows.push([
      `${channels} -> ${outChannels}`, flops / 1e6,
      ...wasmImpls(ctx).map((impl) => ms[impl.label]),
      ms.js,
      ms['tfjs-wasm'],
      ms['tfjs conv2dTranspose'],
      bestMs / ms['forward only'],
      gflops(flops, bestMs),
      ratio(ms.js, bestMs),
      ratio(ms['tfjs-wasm'], bestMs),
      ...threads.timeCells(`conv2d backward ${channels}->${outChannels}`, bestMs, ms[threads.key]),
    ]);
  }
  return {
    table: {
      title: `conv2d backward (dx + dw + dbias), ms per call, one 3x3 'same' tanh layer, ${n}x${n}, B = ${BATCH} (ratios use ${best.label})`,
      header: [
        'C -> O', 'MFLOP', ...wasmImpls(ctx).map((i) => i.label), 'js', 'tfjs-wasm', 'tfjs, dx by conv2dTranspose',
        'bwd/fwd', 'GFLOP/s', 'x js', 'x tfjs', ...threads.header(),
      ],
      rows,
    },
    notes: [
      `conv2d backward: MFLOP counts dw and dx, 2 x conv2d.flops; bwd/fwd is the backward over the forward alone, ${best.label}.`,
      `tfjs-wasm has no conv2d filter gradient (tf.grads throws: Conv2DBackpropFilter is not registered on wasm), so its gradient ` +
        `is composed (bench/peers/tfjs_conv2d.ts, checked against weft first): dw as an XNNPACK conv2d with batch and channels swapped, ` +
        `dx as a conv2d with the flipped filter ('tfjs-wasm', the x tfjs column) or by tf.conv2dTranspose, tfjs-wasm's own input-gradient kernel.`,
    ],
  };
}

/** The rnn2d family: forward, forward + backward, and the conv comparison. */
export async function benchRnn2d(ctx: BenchContext): Promise<FamilyTable> {
  const points: Points = [];
  const tfTraining = ctx.tf !== null && (await loadTfGradients());
  if (ctx.tf) checkTfPeer(ctx.tf, ctx.impls[0].weft, tfTraining);
  const threads = new ThreadColumns(ctx, 'rnn2d', { headlines: ['forward n=128 hid=128', 'forward n=64 hid=128'] });
  const forward = await forwardSection(ctx, threads, points);
  const training = await trainingSection(ctx, threads, tfTraining ? ctx.tf : null);
  const lstm = await lstmSection(ctx, threads, tfTraining);
  const conv = await convSection(ctx, threads);
  const convBackward = await convBackwardSection(ctx, threads);
  return {
    slug: 'rnn2d',
    ...forward.table,
    extraTables: [training.table, lstm.table, conv.table, convBackward.table],
    notes: [...forward.notes, ...training.notes, ...lstm.notes, ...conv.notes, ...convBackward.notes, ...threads.notes()],
    threadSpeedups: threads.speedups,
    plot: lineChart({
      title: `rnn2d forward, ms per call vs grid side n (B = ${BATCH}, C = ${CHANNELS}); n^2 is a slope of 2`,
      x: { field: 'n', title: 'n (grid is n x n)', log: true },
      y: { field: 'ms', title: 'ms per call', log: true },
      series: 'series',
      values: points,
    }),
  };
}
