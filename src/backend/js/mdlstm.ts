// Pure-JS twin of assembly/mdlstm.ts: the MD-LSTM recurrence cell after cell in scan
// order, each a mat-vec (the reference in tests, the baseline in benchmarks). Layout as
// there: x [B, H, W, C]; h, c, dh, dc [B, H, W, D]; wIn [G, C], wLeft / wTop [G, D] with
// G = 5D gate rows (i, f_left, f_top, g, o). Sums are JS numbers (f64), states stored as
// f32; weight gradients accumulate in f64.

import { allocF32 } from '../../tensor.js';
import type { Rnn2dBackwardProblem, Rnn2dGradientArrays, Rnn2dProblem } from '../../ops/rnn2d.js';
import type { Call } from '../types.js';
import { ScanGradients, addTransposedMatVec, cellMapper } from './rnn2d.js';

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

/** z[n] = bias[n] + wIn[n, :] . x[cell] + wLeft[n, :] . h[left] + wTop[n, :] . h[top] (offsets -1: outside). */
function gatePreactivations(p: Rnn2dProblem, h: Float32Array, cell: number, left: number, top: number, z: Float64Array): void {
  const { channels: C, hidden: D } = p;
  const x = p.x.data, wIn = p.wIn.data, wLeft = p.wLeft.data, wTop = p.wTop.data, bias = p.bias?.data;
  for (let n = 0; n < 5 * D; n++) {
    let s = bias ? bias[n] : 0;
    for (let k = 0; k < C; k++) s += wIn[n * C + k] * x[cell * C + k];
    if (left >= 0) for (let k = 0; k < D; k++) s += wLeft[n * D + k] * h[left * D + k];
    if (top >= 0) for (let k = 0; k < D; k++) s += wTop[n * D + k] * h[top * D + k];
    z[n] = s;
  }
}

/** Gates in place: σ on i, f_left, f_top, o; tanh on g. */
function activateGates(z: Float64Array, D: number): void {
  for (let n = 0; n < 5 * D; n++) z[n] = n >= 3 * D && n < 4 * D ? Math.tanh(z[n]) : sigmoid(z[n]);
}

export function mdlstmForward(_call: Call, p: Rnn2dProblem): { h: Float32Array; c: Float32Array; gates?: Float32Array } {
  const { batch, height, width, hidden: D } = p;
  const cellOf = cellMapper(p);
  const h = allocF32('rnn2d.forward: h', batch * height * width * D);
  const c = allocF32('rnn2d.forward: c', batch * height * width * D);
  const gates = p.returnGates ? allocF32('rnn2d.forward: gates', batch * height * width * 5 * D) : undefined;
  const z = new Float64Array(5 * D);
  for (let b = 0; b < batch; b++)
    for (let i = 0; i < height; i++)
      for (let j = 0; j < width; j++) {
        const cell = cellOf(b, i, j);
        const left = j > 0 ? cellOf(b, i, j - 1) : -1;
        const top = i > 0 ? cellOf(b, i - 1, j) : -1;
        gatePreactivations(p, h, cell, left, top, z);
        gates?.set(z, cell * 5 * D);
        activateGates(z, D);
        for (let n = 0; n < D; n++) {
          // c = i g + fl c[left] + ft c[top];  h = o tanh(c)
          const cLeft = left >= 0 ? c[left * D + n] : 0, cTop = top >= 0 ? c[top * D + n] : 0;
          const state = Math.fround(z[n] * z[3 * D + n] + z[D + n] * cLeft + z[2 * D + n] * cTop);
          c[cell * D + n] = state;
          h[cell * D + n] = z[4 * D + n] * Math.tanh(state);
        }
      }
  return gates ? { h, c, gates } : { h, c };
}

export function mdlstmBackward(_call: Call, p: Rnn2dBackwardProblem): Rnn2dGradientArrays {
  const { batch, height, width, channels: C, hidden: D } = p;
  const G = 5 * D;
  const wLeft = p.wLeft.data, wTop = p.wTop.data;
  const h = p.h.data, c = p.c!.data, dh = p.dh.data, dcOut = p.dc?.data, saved = p.gates?.data;
  const cellOf = cellMapper(p);
  const cells = batch * height * width;
  const dz = allocF32('rnn2d.backward: dz', cells * G);
  // dc_pass: dc ⊙ f_left (to the left neighbour), dc ⊙ f_top (to the top one), per cell
  const pass = allocF32('rnn2d.backward: dc_pass', cells * 2 * D);
  const dx = allocF32('rnn2d.backward: dx', cells * C);
  const grads = new ScanGradients(G, C, D);
  const z = new Float64Array(G), dhTotal = new Float64Array(D);
  for (let b = 0; b < batch; b++)
    for (let i = height - 1; i >= 0; i--)
      for (let j = width - 1; j >= 0; j--) {
        const cell = cellOf(b, i, j);
        const right = j + 1 < width ? cellOf(b, i, j + 1) : -1;
        const below = i + 1 < height ? cellOf(b, i + 1, j) : -1;
        const left = j > 0 ? cellOf(b, i, j - 1) : -1;
        const top = i > 0 ? cellOf(b, i - 1, j) : -1;
        // forward: z[right] += wLeft h[cell], z[below] += wTop h[cell]
        for (let n = 0; n < D; n++) dhTotal[n] = dh[cell * D + n];
        if (right >= 0) addTransposedMatVec(dhTotal, wLeft, dz, right * G, G, D);
        if (below >= 0) addTransposedMatVec(dhTotal, wTop, dz, below * G, G, D);
        // the forward's saved pre-activations (f32), or recomputed from the given h
        if (saved) for (let n = 0; n < G; n++) z[n] = saved[cell * G + n];
        else gatePreactivations(p, h, cell, left, top, z);
        activateGates(z, D);
        for (let n = 0; n < D; n++) {
          const gi = z[n], fl = z[D + n], ft = z[2 * D + n], g = z[3 * D + n], o = z[4 * D + n];
          const tc = Math.tanh(c[cell * D + n]);
          const cLeft = left >= 0 ? c[left * D + n] : 0, cTop = top >= 0 ? c[top * D + n] : 0;
          // forward: h = o tanh(c); c[right] += fl[right] c; c[below] += ft[below] c
          let dc = dcOut ? dcOut[cell * D + n] : 0;
          if (right >= 0) dc += pass[right * 2 * D + n];
          if (below >= 0) dc += pass[below * 2 * D + D + n];
          dc += dhTotal[n] * o * (1 - tc * tc);
          // forward: c = i g + fl cLeft + ft cTop
          const at = cell * G + n;
          dz[at] = dc * g * gi * (1 - gi);
          dz[at + D] = dc * cLeft * fl * (1 - fl);
          dz[at + 2 * D] = dc * cTop * ft * (1 - ft);
          dz[at + 3 * D] = dc * gi * (1 - g * g);
          dz[at + 4 * D] = dhTotal[n] * tc * o * (1 - o);
          pass[cell * 2 * D + n] = dc * fl;
          pass[cell * 2 * D + D + n] = dc * ft;
        }
        grads.addCell(p, dz, cell, left, top, h, dx);
      }
  return grads.arrays(dx);
}
