// The MD-LSTM cell of rnn2d (cell 'lstm'): forward and forward + backward for n x n
// grids (B = 8, C = 3, top-left), weft's WASM builds against the pure-JS backend, the
// tfjs-wasm per-diagonal composition (bench/peers/tfjs_rnn2d.ts, cell 'lstm') and the
// shared matmul at the shape of one neighbour's diagonal GEMM, interleaved in one run.

import type { Tensor, Weft } from '../src/index.js';
import type { BenchContext, Implementation, Table } from './context.js';
import { type Cell, gflops, medianMs } from './harness.js';
import type { Tf } from './peers/tfjs.js';
import type { ThreadColumns } from './threads.js';
import { tfRnn2dForward, tfRnn2dTrainingStep } from './peers/tfjs_rnn2d.js';

const BATCH = 8;
const CHANNELS = 3;
const HIDDEN = 64;
/** Flops of one call the JS backend and the tfjs training step may take (quick / full). */
const JS_FLOP_BUDGET = { quick: 1.5e8, full: 3e9 };
const TFJS_TRAINING_FLOP_BUDGET = { quick: 2e9, full: Infinity };

type LstmArgs = { x: Tensor; wIn: Tensor; wLeft: Tensor; wTop: Tensor; bias: Tensor; cell: 'lstm' };

interface LstmCase {
  n: number;
  flops: number;
  args: LstmArgs;
}

function makeCase(weft: Weft, n: number, hidden: number): LstmCase {
  const scaled = (t: Tensor, s: number) => weft.tensor(t.data.map((v) => v * s), t.shape);
  const recurrent = 0.6 / Math.sqrt(2 * hidden);
  return {
    n,
    flops: weft.rnn2d.flops({ batch: BATCH, height: n, width: n, inputChannels: CHANNELS, hidden, cell: 'lstm' }),
    args: {
      x: weft.randn([BATCH, n, n, CHANNELS], n),
      wIn: scaled(weft.randn([5 * hidden, CHANNELS], 1), 1 / Math.sqrt(CHANNELS)),
      wLeft: scaled(weft.randn([5 * hidden, hidden], 2), recurrent),
      wTop: scaled(weft.randn([5 * hidden, hidden], 3), recurrent),
      bias: scaled(weft.randn([5 * hidden], 4), 0.1),
      cell: 'lstm',
    },
  };
}

function tfWeights(tf: Tf, c: LstmCase) {
  const t = (v: Tensor) => tf.tensor(v.data, v.shape);
  return { x: t(c.args.x), w: { wIn: t(c.args.wIn), wLeft: t(c.args.wLeft), wTop: t(c.args.wTop), bias: t(c.args.bias) } };
}

/** The peer must compute the same thing: check h and the weight gradients once, on a small case. */
function checkTfPeer(tf: Tf, weft: Weft, withGradients: boolean): void {
  const c = makeCase(weft, 7, 6);
  const { x, w } = tfWeights(tf, c);
  const out = weft.rnn2d.forward(c.args);
  const dh = weft.randn(out.h.shape, 5);
  const grads = weft.rnn2d.backward({ ...c.args, ...out, dh });
  const tfH = tfRnn2dForward(tf, x, w, 'lstm');
  const dhT = tf.tensor(dh.data, dh.shape);
  const tfGrads = withGradients ? tfRnn2dTrainingStep(tf, x, w, dhT, 'lstm') : [];
  const pairs: [string, ArrayLike<number>, ArrayLike<number>][] = [['h', tfH.dataSync(), out.h.data]];
  ['dwIn', 'dwLeft', 'dwTop', 'dbias'].forEach((key, k) => {
    if (withGradients) pairs.push([key, tfGrads[k].dataSync(), grads[key as 'dwIn'].data]);
  });
  for (const [name, got, want] of pairs) {
    let diff = 0;
    for (let k = 0; k < got.length; k++) diff = Math.max(diff, Math.abs(got[k] - want[k]));
    if (!(diff < 1e-3)) throw new Error(`tfjs rnn2d lstm peer disagrees with weft on ${name}: max |diff| ${diff}`);
  }
  tf.dispose([tfH, dhT, x, ...Object.values(w), ...tfGrads]);
}

/** matmul of one neighbour's GEMM on the largest diagonal: [B*n, hid] @ [hid, 5 hid]. */
function diagonalMatmulTask(impl: Implementation, n: number, hidden: number): { task: () => unknown; flops: number } {
  const a = impl.weft.randn([BATCH * n, hidden], 7);
  const b = impl.weft.randn([hidden, 5 * hidden], 8);
  return { task: () => impl.weft.matmul(a, b), flops: 2 * BATCH * n * hidden * 5 * hidden };
}

/** The MD-LSTM rows: one table, forward and forward + backward per grid size. */
export async function lstmSection(
  ctx: BenchContext, threads: ThreadColumns, tfTraining: boolean,
): Promise<{ table: Table; notes: string[] }> {
  const best = ctx.impls[0];
  const wasm = ctx.impls.filter((impl) => impl.label !== 'js');
  const js = ctx.impls.find((impl) => impl.label === 'js');
  const tf = ctx.tf;
  if (tf) checkTfPeer(tf, best.weft, tfTraining);
  const jsBudget = JS_FLOP_BUDGET[ctx.quick ? 'quick' : 'full'];
  const rows: Cell[][] = [];
  for (const n of ctx.quick ? [16, 32, 64] : [16, 32, 64, 128]) {
    ctx.progress.show(`rnn2d lstm n=${n} hid=${HIDDEN}`);
    const c = makeCase(best.weft, n, HIDDEN);
    const out = best.weft.rnn2d.forward(c.args);
    const dh = best.weft.randn(out.h.shape, 9);
    const forward = (weft: Weft) => weft.rnn2d.forward(c.args);
    const step = (weft: Weft) => {
      const fwd = weft.rnn2d.forward(c.args);
      return weft.rnn2d.backward({ ...c.args, ...fwd, dh });
    };
    const tasks: Record<string, () => unknown> = {};
    for (const impl of wasm) {
      tasks[`${impl.label} fwd`] = () => forward(impl.weft);
      tasks[`${impl.label} step`] = () => step(impl.weft);
    }
    threads.addTask(tasks, forward, true, 'threads fwd');
    threads.addTask(tasks, step, true, 'threads step');
    tasks['backward only'] = () => best.weft.rnn2d.backward({ ...c.args, ...out, dh });
    const saving = { ...c.args, returnGates: true };
    const saved = best.weft.rnn2d.forward(saving);
    tasks['forward, gates'] = () => best.weft.rnn2d.forward(saving);
    tasks['backward from gates'] = () => best.weft.rnn2d.backward({ ...saving, ...saved, dh });
    if (js && c.flops <= jsBudget) tasks['js fwd'] = () => forward(js.weft);
    if (js && 3 * c.flops <= jsBudget) tasks['js step'] = () => step(js.weft);
    const peer = tf ? tfWeights(tf, c) : undefined;
    const dhT = tf ? tf.tensor(dh.data, dh.shape) : undefined;
    if (tf && peer) {
      tasks['tfjs fwd'] = () => {
        const h = tfRnn2dForward(tf, peer.x, peer.w, 'lstm');
        h.dataSync();
        h.dispose();
      };
      if (tfTraining && dhT && 3 * c.flops <= TFJS_TRAINING_FLOP_BUDGET[ctx.quick ? 'quick' : 'full']) {
        tasks['tfjs step'] = () => {
          const grads = tfRnn2dTrainingStep(tf, peer.x, peer.w, dhT, 'lstm');
          for (const g of grads) g.dataSync();
          tf.dispose(grads);
        };
      }
    }
    const matmul = diagonalMatmulTask(best, n, HIDDEN);
    tasks.matmul = matmul.task;
    const ms = await medianMs(tasks, ctx.timing);
    if (tf && peer && dhT) tf.dispose([peer.x, dhT, ...Object.values(peer.w)]);
    const fwdMs = ms[`${best.label} fwd`], stepMs = ms[`${best.label} step`];
    const g = gflops(c.flops, fwdMs);
    rows.push([
      String(n),
      ...wasm.map((impl) => ms[`${impl.label} fwd`]),
      g,
      (100 * g) / gflops(matmul.flops, ms.matmul),
      ms['backward only'] / fwdMs,
      ms['backward from gates'] / ms['forward, gates'],
      ...wasm.map((impl) => ms[`${impl.label} step`]),
      ms['js fwd'] && ms['js fwd'] / fwdMs,
      ms['js step'] && ms['js step'] / stepMs,
      ms['tfjs fwd'] && ms['tfjs fwd'] / fwdMs,
      ms['tfjs step'] && ms['tfjs step'] / stepMs,
      ...threads.timeCells(`lstm forward n=${n} hid=${HIDDEN}`, fwdMs, ms['threads fwd']),
      ...threads.timeCells(`lstm forward+backward n=${n} hid=${HIDDEN}`, stepMs, ms['threads step']),
    ]);
  }
  return {
    table: {
      title: `rnn2d cell 'lstm' (MD-LSTM), ms per call (B = ${BATCH}, n x n grid, C = ${CHANNELS}, hid = ${HIDDEN}; GFLOP/s and ratios use ${best.label})`,
      header: [
        'n', ...wasm.map((i) => `${i.label} fwd`), 'fwd GFLOP/s', '% matmul', 'bwd/fwd', 'bwd/fwd, gates', ...wasm.map((i) => `${i.label} fwd+bwd`),
        'x js fwd', 'x js fwd+bwd', 'x tfjs fwd', 'x tfjs fwd+bwd', ...threads.header(' fwd'), ...threads.header(' fwd+bwd'),
      ],
      rows,
    },
    notes: [
      `lstm: fwd GFLOP/s counts rnn2d.flops({ cell: 'lstm' }) = 2*B*n^2*5 hid*(C + 2 hid) (gating not counted); % matmul is over weft.matmul's on [B*n, hid] @ [hid, 5 hid] (one neighbour's GEMM on the largest diagonal), same run.`,
      `lstm: bwd/fwd is backward alone over forward alone (the backward recomputes the gates from h: ~3x the forward's flops); bwd/fwd, gates: with returnGates (the forward writes the gate pre-activations, the backward skips their recompute: ~2x). tfjs-wasm: the same per-diagonal composition with split/sigmoid/tanh (no dx, as for the tanh cell).`,
    ],
  };
}
