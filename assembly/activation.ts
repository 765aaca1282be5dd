// Pointwise activations of the 2D-RNN and conv2d kernels, on rows of f32.
//
// Codes (shared with src/ops/activation.ts): 0 identity, 1 tanh, 2 relu, 3 sigmoid.
// Rows are `n` contiguous floats; tails (n % 4) go through the lane helpers, so any
// n >= 0 works. Outputs are written (=), and may alias an input.
//
// tanh is Eigen's rational approximation (ptanh_float: odd degree-13 numerator over
// an even degree-6 denominator, input clamped to +-7.9053 where it reaches 1):
// |error| <= 3.3e-7 over [-12, 12] (measured in f32 against Math.tanh), never above 1.
// sigmoid(x) = 0.5 + 0.5 tanh(x / 2): absolute error <= 1.7e-7.
// Derivatives are taken from the activation's output y (what backward receives):
// tanh' = 1 - y^2, sigmoid' = y (1 - y), relu' = [y > 0], identity' = 1.

import { fmaF32x4, loadLanesF32x4, storeLanesF32x4 } from "./simd";

export const ACT_IDENTITY: i32 = 0;
export const ACT_TANH: i32 = 1;
export const ACT_RELU: i32 = 2;
export const ACT_SIGMOID: i32 = 3;

// @ts-ignore: decorator
@inline function tanhF32x4(v: v128): v128 {
  const clamp = f32x4.splat(7.90531110763549805);
  const x = f32x4.max(f32x4.min(v, clamp), f32x4.neg(clamp));
  const x2 = f32x4.mul(x, x);
  let p = fmaF32x4(x2, f32x4.splat(-2.76076847742355e-16), f32x4.splat(2.00018790482477e-13));
  p = fmaF32x4(x2, p, f32x4.splat(-8.60467152213735e-11));
  p = fmaF32x4(x2, p, f32x4.splat(5.12229709037114e-8));
  p = fmaF32x4(x2, p, f32x4.splat(1.48572235717979e-5));
  p = fmaF32x4(x2, p, f32x4.splat(6.37261928875436e-4));
  p = fmaF32x4(x2, p, f32x4.splat(4.89352455891786e-3));
  p = f32x4.mul(p, x);
  let q = fmaF32x4(x2, f32x4.splat(1.19825839466702e-6), f32x4.splat(1.18534705686654e-4));
  q = fmaF32x4(x2, q, f32x4.splat(2.268434632439e-3));
  q = fmaF32x4(x2, q, f32x4.splat(4.89352518554385e-3));
  // below 4e-4 tanh(x) rounds to x in f32; the ratio would lose a few ulp there
  const tiny = f32x4.lt(f32x4.abs(v), f32x4.splat(0.0004));
  return v128.bitselect(v, f32x4.div(p, q), tiny);
}

// @ts-ignore: decorator
@inline function activateF32x4(v: v128, kind: i32): v128 {
  if (kind == ACT_TANH) return tanhF32x4(v);
  if (kind == ACT_RELU) return f32x4.max(v, f32x4.splat(0));
  if (kind == ACT_SIGMOID) {
    const half = f32x4.splat(0.5);
    return fmaF32x4(half, tanhF32x4(f32x4.mul(v, half)), half);
  }
  return v;
}

// act'(pre) expressed through y = act(pre).
// @ts-ignore: decorator
@inline function derivativeFromOutputF32x4(y: v128, kind: i32): v128 {
  const one = f32x4.splat(1);
  if (kind == ACT_TANH) return f32x4.sub(one, f32x4.mul(y, y));
  if (kind == ACT_RELU) return v128.and(f32x4.gt(y, f32x4.splat(0)), one);
  if (kind == ACT_SIGMOID) return f32x4.mul(y, f32x4.sub(one, y));
  return one;
}

/** out[k] = act(a[k] + b[k]), k < n; b == 0 means out[k] = act(a[k]). out may alias a or b. */
export function activateRow(out: usize, a: usize, b: usize, n: i32, kind: i32): void {
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const offset = <usize>k << 2;
    let v = v128.load(a + offset);
    if (b != 0) v = f32x4.add(v, v128.load(b + offset));
    v128.store(out + offset, activateF32x4(v, kind));
  }
  const tail = n - k;
  if (tail > 0) {
    const offset = <usize>k << 2;
    let v = loadLanesF32x4(a + offset, tail);
    if (b != 0) v = f32x4.add(v, loadLanesF32x4(b + offset, tail));
    storeLanesF32x4(out + offset, activateF32x4(v, kind), tail);
  }
}

/** out[k] = (g1[k] + g2[k]) * act'(y[k]) with y the activation's output, k < n. out may alias g1 or g2. */
export function activationGradRow(out: usize, g1: usize, g2: usize, y: usize, n: i32, kind: i32): void {
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const offset = <usize>k << 2;
    const g = f32x4.add(v128.load(g1 + offset), v128.load(g2 + offset));
    v128.store(out + offset, f32x4.mul(g, derivativeFromOutputF32x4(v128.load(y + offset), kind)));
  }
  const tail = n - k;
  if (tail > 0) {
    const offset = <usize>k << 2;
    const g = f32x4.add(loadLanesF32x4(g1 + offset, tail), loadLanesF32x4(g2 + offset, tail));
    storeLanesF32x4(out + offset, f32x4.mul(g, derivativeFromOutputF32x4(loadLanesF32x4(y + offset, tail), kind)), tail);
  }
}
