// Shared pieces of the 2D-scan tests (tests/rnn2d.test.ts, tests/mdlstm.test.ts): the
// parameter bundle, grid flips (another route to each origin than the backends' index
// remapping) and central differences over a tensor's entries.

import type { Rnn2dOrigin, Tensor } from '../src/index.js';
import { centralDifferences } from './helpers.js';

export interface Params {
  x: Tensor;
  wIn: Tensor;
  wLeft: Tensor;
  wTop: Tensor;
  bias?: Tensor;
}

type Grid = Float32Array | Float64Array;

/** Copy of a [B, H, W, F] grid with rows and/or columns reversed. */
export function flipGrid<T extends Grid>(data: T, shape: readonly number[], flipRows: boolean, flipCols: boolean): T {
  const [B, H, W, F] = shape;
  const out = new (data.constructor as { new (n: number): T })(data.length);
  for (let b = 0; b < B; b++)
    for (let i = 0; i < H; i++)
      for (let j = 0; j < W; j++) {
        const src = ((b * H + i) * W + j) * F;
        const dst = ((b * H + (flipRows ? H - 1 - i : i)) * W + (flipCols ? W - 1 - j : j)) * F;
        for (let f = 0; f < F; f++) out[dst + f] = data[src + f];
      }
  return out;
}

/** [flipRows, flipCols] of an origin. */
export const flipsOf = (origin: Rnn2dOrigin): [boolean, boolean] => [origin.startsWith('bottom'), origin.endsWith('right')];

/**
 * dloss/dt for every entry of t by central differences, eps = 1e-5 on an f64 copy of the data
 * (the f32 data would round eps away): truncation ~eps^2 |L'''| ~ 1e-10, rounding ~1e-16 / eps
 * ~ 1e-11, far below the f32 errors under test.
 */
export function tensorGradient(t: Tensor, loss: () => number): Float64Array {
  const original = t.data;
  const data64 = Float64Array.from(original);
  (t as unknown as { data: Float64Array }).data = data64;
  try {
    return centralDifferences(data64, loss, 1e-5);
  } finally {
    t.data = original;
  }
}
