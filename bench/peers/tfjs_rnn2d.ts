// The 2D-RNN as a tfjs user would write it on tfjs-wasm: one anti-diagonal at a time
// (its cells are independent), each a handful of tfjs ops: gather the diagonal's
// inputs, slice + pad the previous diagonal for the left and top neighbours, one
// matMul against [wLeft | wTop], tanh. Top-left origin, tanh, with bias. The MD-LSTM
// cell (cell 'lstm') the same way: the matMul gives the 5 gate blocks, then split,
// sigmoid / tanh and the two-neighbour cell update.
//
// tfjs-backend-wasm has no UnsortedSegmentSum, so tf.gather has no gradient there:
// the inputs are gathered before the projection (x is data, not differentiated) and
// the training loss sum(h * dh) is taken per diagonal, so gradients flow through
// slice, pad, concat, matMul and tanh only. Training therefore returns dwIn, dwLeft,
// dwTop and dbias but not dx.

import type { Tf } from './tfjs.js';

let gradients: Promise<boolean> | undefined;

/**
 * tf.grads needs the gradient registry, which tfjs-core alone leaves empty (its
 * register_all_gradients is an extensionless ESM file Node cannot load); the union
 * package @tensorflow/tfjs registers every gradient in the shared global registry.
 */
export function loadTfGradients(): Promise<boolean> {
  gradients ??= import('@tensorflow/tfjs').then(
    () => true,
    (err: Error) => {
      console.log(`(tfjs-wasm training peer skipped: ${err.message.split('\n')[0]})`);
      return false;
    },
  );
  return gradients;
}

type Tensor = ReturnType<Tf['tensor']>;

export interface TfRnn2dWeights {
  wIn: Tensor; // [G, C], G = D (tanh cell) or 5D (lstm)
  wLeft: Tensor; // [G, D]
  wTop: Tensor; // [G, D]
  bias: Tensor; // [G]
}

/** One anti-diagonal d: its first row, cell count, and flat (i*W + j) indices. */
interface Diagonal {
  iLo: number;
  cells: number;
  flat: Int32Array;
}

function diagonals(height: number, width: number): Diagonal[] {
  const out: Diagonal[] = [];
  for (let d = 0; d <= height + width - 2; d++) {
    const iLo = Math.max(0, d - width + 1), iHi = Math.min(d, height - 1);
    const flat = new Int32Array(iHi - iLo + 1);
    for (let i = iLo; i <= iHi; i++) flat[i - iLo] = i * width + (d - i);
    out.push({ iLo, cells: flat.length, flat });
  }
  return out;
}

/** The left and top neighbours' rows [B, cells, F] of diagonal d, from the previous diagonal's prev [B, pCells, F] (zeros where missing). */
function neighbourRows(tf: Tf, prev: Tensor, diags: Diagonal[], d: number, batch: number): [Tensor, Tensor] {
  const { iLo, cells } = diags[d];
  const { iLo: pLo, cells: pCells } = diags[d - 1];
  const features = prev.shape[2] as number;
  const pHi = pLo + pCells - 1;
  // left of (i, j) is (i, j-1): previous diagonal position i - pLo, missing for j = 0 (the last cell)
  const nLeft = Math.min(iLo + cells - 1, pHi) - iLo + 1;
  const left = tf.pad(tf.slice(prev, [0, iLo - pLo, 0], [batch, nLeft, features]), [[0, 0], [0, cells - nLeft], [0, 0]]);
  // top of (i, j) is (i-1, j): previous position i - 1 - pLo, missing for i = 0 (the first cell)
  const first = Math.max(iLo, 1);
  const nTop = iLo + cells - first;
  const top = tf.pad(tf.slice(prev, [0, first - 1 - pLo, 0], [batch, nTop, features]), [[0, 0], [cells - nTop, 0], [0, 0]]);
  return [left, top];
}

/** Cell of the scan: the plain tanh cell, or the MD-LSTM with 5 gate blocks (i, f_left, f_top, g, o). */
export type TfRnn2dCell = 'rnn' | 'lstm';

/**
 * The per-diagonal states [B, cells, D] of the scan over x [B, H, W, C], given the
 * diagonals' inputs xDiagonals[d] [B, cells, C] (h; for the lstm also the cell states c).
 */
function scanDiagonals(
  tf: Tf, xDiagonals: Tensor[], diags: Diagonal[], w: TfRnn2dWeights, batch: number, hidden: number, cell: TfRnn2dCell,
): { h: Tensor[]; c: Tensor[] } {
  const wCat = tf.concat([w.wLeft, w.wTop], 1); // [G, 2D]: [h_left | h_top] @ wCat^T
  const h: Tensor[] = [], c: Tensor[] = [];
  for (let d = 0; d < diags.length; d++) {
    const { cells } = diags[d];
    const xd = tf.reshape(xDiagonals[d], [batch * cells, -1]);
    let pre = tf.add(tf.matMul(xd, w.wIn, false, true), w.bias);
    if (d > 0) {
      const [left, top] = neighbourRows(tf, h[d - 1], diags, d, batch);
      const neighbours = tf.reshape(tf.concat([left, top], 2), [batch * cells, 2 * hidden]);
      pre = tf.add(pre, tf.matMul(neighbours, wCat, false, true));
    }
    if (cell === 'rnn') {
      h.push(tf.reshape(tf.tanh(pre), [batch, cells, hidden]));
      continue;
    }
    const [zi, zfl, zft, zg, zo] = tf.split(tf.reshape(pre, [batch, cells, 5 * hidden]), 5, 2);
    let state = tf.mul(tf.sigmoid(zi), tf.tanh(zg));
    if (d > 0) {
      const [cLeft, cTop] = neighbourRows(tf, c[d - 1], diags, d, batch);
      state = tf.add(state, tf.add(tf.mul(tf.sigmoid(zfl), cLeft), tf.mul(tf.sigmoid(zft), cTop)));
    }
    c.push(state);
    h.push(tf.mul(tf.sigmoid(zo), tf.tanh(state)));
  }
  return { h, c };
}

/** The per-diagonal inputs of x [B, H, W, C] (plain data: gathered outside any gradient). */
function gatherDiagonals(tf: Tf, x: Tensor, diags: Diagonal[]): Tensor[] {
  const [batch, height, width, channels] = x.shape;
  const flatX = tf.reshape(x, [batch, height * width, channels]);
  return diags.map((diag) => tf.gather(flatX, Array.from(diag.flat), 1));
}

/** h [B, H, W, D] of the top-left scan (tanh cell, or the lstm's h). */
export function tfRnn2dForward(tf: Tf, x: Tensor, w: TfRnn2dWeights, cell: TfRnn2dCell = 'rnn'): Tensor {
  return tf.tidy(() => {
    const [batch, height, width] = x.shape;
    const hidden = w.wLeft.shape[1] as number;
    const diags = diagonals(height, width);
    const states = scanDiagonals(tf, gatherDiagonals(tf, x, diags), diags, w, batch, hidden, cell).h;
    // back to raster order: the diagonals concatenated hold cell flat[k] at position k
    const order = new Int32Array(height * width);
    let position = 0;
    for (const diag of diags) for (const cell of diag.flat) order[cell] = position++;
    return tf.reshape(tf.gather(tf.concat(states, 1), Array.from(order), 1), [batch, height, width, hidden]);
  });
}

/** Gradients of sum(h * dh) with respect to the weights (see the header: no dx). */
export function tfRnn2dTrainingStep(tf: Tf, x: Tensor, w: TfRnn2dWeights, dh: Tensor, cell: TfRnn2dCell = 'rnn'): Tensor[] {
  return tf.tidy(() => {
    const [batch, height, width] = x.shape;
    const hidden = w.wLeft.shape[1] as number;
    const diags = diagonals(height, width);
    const xDiagonals = gatherDiagonals(tf, x, diags);
    const dhDiagonals = gatherDiagonals(tf, dh, diags);
    const loss = (wIn: Tensor, wLeft: Tensor, wTop: Tensor, bias: Tensor) => {
      const states = scanDiagonals(tf, xDiagonals, diags, { wIn, wLeft, wTop, bias }, batch, hidden, cell).h;
      return tf.addN(states.map((s, d) => tf.sum(tf.mul(s, dhDiagonals[d])))) as Tensor;
    };
    return tf.grads(loss as (...args: Tensor[]) => Tensor)([w.wIn, w.wLeft, w.wTop, w.bias]);
  });
}
