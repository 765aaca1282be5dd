// Pure-JS twin of assembly/rnn2d.ts: the plain per-cell recurrence, cell after cell
// in scan order, each a mat-vec (the reference in tests, the baseline in benchmarks).
// Layout as there: x [B, H, W, C], h / dh [B, H, W, D], wIn [D, C], wLeft / wTop [D, D].
// The scan runs in local coordinates (i, j) from the origin; cellOf maps them to memory.
// Sums are JS numbers (f64) and stored as f32; weight gradients accumulate in f64.

import { allocF32 } from '../../tensor.js';
import type { Rnn2dBackwardProblem, Rnn2dGradientArrays, Rnn2dProblem } from '../../ops/rnn2d.js';
import { activationDerivativeFromOutput, activationFn } from './activation.js';
import type { Call } from '../types.js';

type CellOf = (b: number, i: number, j: number) => number;

/** (b, i, j) in scan coordinates -> the cell's index in [B, H, W] memory order. */
export function cellMapper(p: Rnn2dProblem): CellOf {
  const { height, width, flipRows, flipCols } = p;
  return (b, i, j) => (b * height + (flipRows ? height - 1 - i : i)) * width + (flipCols ? width - 1 - j : j);
}

export function rnn2dForward(_call: Call, p: Rnn2dProblem): Float32Array {
  const { batch, height, width, channels: C, hidden: D } = p;
  const x = p.x.data, wIn = p.wIn.data, wLeft = p.wLeft.data, wTop = p.wTop.data, bias = p.bias?.data;
  const act = activationFn(p.activation);
  const cellOf = cellMapper(p);
  const h = allocF32('rnn2d.forward: h', batch * height * width * D);
  for (let b = 0; b < batch; b++)
    for (let i = 0; i < height; i++)
      for (let j = 0; j < width; j++) {
        const cell = cellOf(b, i, j);
        const left = j > 0 ? cellOf(b, i, j - 1) * D : -1;
        const top = i > 0 ? cellOf(b, i - 1, j) * D : -1;
        for (let n = 0; n < D; n++) {
          // h[cell, n] = act(bias[n] + wIn[n, :] . x[cell] + wLeft[n, :] . h[left] + wTop[n, :] . h[top])
          let s = bias ? bias[n] : 0;
          for (let c = 0; c < C; c++) s += wIn[n * C + c] * x[cell * C + c];
          if (left >= 0) for (let k = 0; k < D; k++) s += wLeft[n * D + k] * h[left + k];
          if (top >= 0) for (let k = 0; k < D; k++) s += wTop[n * D + k] * h[top + k];
          h[cell * D + n] = act(s);
        }
      }
  return h;
}

export function rnn2dBackward(_call: Call, p: Rnn2dBackwardProblem): Rnn2dGradientArrays {
  const { batch, height, width, channels: C, hidden: D } = p;
  const wLeft = p.wLeft.data, wTop = p.wTop.data, h = p.h.data, dh = p.dh.data;
  const derivative = activationDerivativeFromOutput(p.activation);
  const cellOf = cellMapper(p);
  const cells = batch * height * width;
  const dpre = allocF32('rnn2d.backward: dpre', cells * D);
  const dx = allocF32('rnn2d.backward: dx', cells * C);
  const grads = new ScanGradients(D, C, D);
  const dhTotal = new Float64Array(D);
  // reverse scan order: a cell's gradient needs its right and lower neighbours' dpre first
  for (let b = 0; b < batch; b++)
    for (let i = height - 1; i >= 0; i--)
      for (let j = width - 1; j >= 0; j--) {
        const cell = cellOf(b, i, j);
        // forward: pre[right] += wLeft h[cell], pre[below] += wTop h[cell]
        for (let n = 0; n < D; n++) dhTotal[n] = dh[cell * D + n];
        if (j + 1 < width) addTransposedMatVec(dhTotal, wLeft, dpre, cellOf(b, i, j + 1) * D, D, D);
        if (i + 1 < height) addTransposedMatVec(dhTotal, wTop, dpre, cellOf(b, i + 1, j) * D, D, D);
        for (let n = 0; n < D; n++) dpre[cell * D + n] = dhTotal[n] * derivative(h[cell * D + n]);

        grads.addCell(p, dpre, cell, j > 0 ? cellOf(b, i, j - 1) : -1, i > 0 ? cellOf(b, i - 1, j) : -1, h, dx);
      }
  return grads.arrays(dx);
}

// out[n] += sum_k w[k, n] v[offset + k], k < K  (w^T v, w row-major [K, N])
export function addTransposedMatVec(out: Float64Array, w: Float32Array, v: Float32Array, offset: number, K: number, N: number): void {
  for (let k = 0; k < K; k++) {
    const vk = v[offset + k];
    for (let n = 0; n < N; n++) out[n] += w[k * N + n] * vk;
  }
}

/**
 * f64 sums of one scan's weight gradients, G gate rows (G = D for the plain cell, 5D for
 * the lstm): dwIn [G, C], dwLeft / dwTop [G, D], dbias [G].
 */
export class ScanGradients {
  readonly dwIn: Float64Array;
  readonly dwLeft: Float64Array;
  readonly dwTop: Float64Array;
  readonly dbias: Float64Array;

  constructor(private readonly G: number, private readonly C: number, private readonly D: number) {
    this.dwIn = new Float64Array(G * C);
    this.dwLeft = new Float64Array(G * D);
    this.dwTop = new Float64Array(G * D);
    this.dbias = new Float64Array(G);
  }

  /**
   * Add cell `cell`'s share, dz = row `cell` of dz [cells, G] (dL/d of the cell's G pre-activations),
   * whose neighbours are the cells `left` and `top` (-1: outside), and write dx[cell] = wIn^T dz.
   */
  addCell(p: Rnn2dProblem, dz: Float32Array, cell: number, left: number, top: number, h: Float32Array, dx: Float32Array): void {
    const { G, C, D } = this;
    const x = p.x.data, wIn = p.wIn.data;
    for (let n = 0; n < G; n++) {
      // forward: z[cell, n] = bias[n] + wIn[n, :] . x[cell] + wLeft[n, :] . h[left] + wTop[n, :] . h[top]
      const g = dz[cell * G + n];
      this.dbias[n] += g;
      for (let c = 0; c < C; c++) this.dwIn[n * C + c] += g * x[cell * C + c];
      if (left >= 0) for (let k = 0; k < D; k++) this.dwLeft[n * D + k] += g * h[left * D + k];
      if (top >= 0) for (let k = 0; k < D; k++) this.dwTop[n * D + k] += g * h[top * D + k];
    }
    for (let c = 0; c < C; c++) {
      // dx[cell, c] = sum_n dz[cell, n] wIn[n, c]
      let s = 0;
      for (let n = 0; n < G; n++) s += dz[cell * G + n] * wIn[n * C + c];
      dx[cell * C + c] = s;
    }
  }

  arrays(dx: Float32Array): Rnn2dGradientArrays {
    return {
      dx,
      dwIn: Float32Array.from(this.dwIn),
      dwLeft: Float32Array.from(this.dwLeft),
      dwTop: Float32Array.from(this.dwTop),
      dbias: Float32Array.from(this.dbias),
    };
  }
}
