// Pointwise activations of the 2D-RNN and conv2d kernels, on rows of f32.
//
// Codes (shared with src/ops/activation.ts): 0 identity, 1 tanh, 2 relu, 3 sigmoid.
// Rows are `n` contiguous floats, updated in place; tails (n % 4) go through the lane
// helpers, so any n >= 0 works. identity is the absence of a call.
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

// Coefficients, read with load32_splat: V8 rebuilds a v128.const inside a loop with
// several instructions, a splat load is one (with the 2-vector unroll of the row
// loops: 4.6 -> 2.8 ns per tanh vector relaxed, 6.1 -> 4.0 plain, measured).
const TANH_CONSTANTS = memory.data<f32>([
  7.90531110763549805, -7.90531110763549805, // clamp
  -2.76076847742355e-16, 2.00018790482477e-13, -8.60467152213735e-11, 5.12229709037114e-8, // numerator, x^13 ..
  1.48572235717979e-5, 6.37261928875436e-4, 4.89352455891786e-3, // .. x^1
  1.19825839466702e-6, 1.18534705686654e-4, 2.268434632439e-3, 4.89352518554385e-3, // denominator, x^6 .. x^0
  0.0004, // below it tanh(x) rounds to x in f32, and the ratio would lose a few ulp
]);

/** tanh lane-wise (the rational approximation above). */
// @ts-ignore: decorator
@inline export function tanhF32x4(v: v128): v128 {
  const c = TANH_CONSTANTS;
  // pmin/pmax are single minps/maxps on x86 (min/max need a NaN-fixing sequence);
  // a NaN input stays NaN either way
  const x = f32x4.pmax(f32x4.pmin(v, v128.load32_splat(c)), v128.load32_splat(c, 4));
  const x2 = f32x4.mul(x, x);
  let p = fmaF32x4(x2, v128.load32_splat(c, 8), v128.load32_splat(c, 12));
  p = fmaF32x4(x2, p, v128.load32_splat(c, 16));
  p = fmaF32x4(x2, p, v128.load32_splat(c, 20));
  p = fmaF32x4(x2, p, v128.load32_splat(c, 24));
  p = fmaF32x4(x2, p, v128.load32_splat(c, 28));
  p = fmaF32x4(x2, p, v128.load32_splat(c, 32));
  p = f32x4.mul(p, x);
  let q = fmaF32x4(x2, v128.load32_splat(c, 36), v128.load32_splat(c, 40));
  q = fmaF32x4(x2, q, v128.load32_splat(c, 44));
  q = fmaF32x4(x2, q, v128.load32_splat(c, 48));
  const tiny = f32x4.lt(f32x4.abs(v), v128.load32_splat(c, 52));
  return v128.bitselect(v, f32x4.div(p, q), tiny);
}

// @ts-ignore: decorator
@inline function activateF32x4(v: v128, kind: i32): v128 {
  if (kind == ACT_TANH) return tanhF32x4(v);
  if (kind == ACT_RELU) return f32x4.pmax(v, f32x4.splat(0));
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

// The row loops are written once and instantiated per activation by one small
// function each: Binaryen folds identical inlined loops that differ only in a
// constant back into one loop with a runtime switch, so they are kept apart and the
// per-vector code has no branches (tanh rows: 10.6% -> 7.5% of a 64x64, hid-128
// forward). Two vectors per iteration: the two tanh chains overlap (their latency,
// not the instruction count, bounds one vector at a time).
// @ts-ignore: decorator
@inline function activateRowAs(row: usize, n: i32, kind: i32): void {
  let k = 0;
  for (; k + 8 <= n; k += 8) {
    const offset = <usize>k << 2;
    const v0 = activateF32x4(v128.load(row + offset), kind);
    const v1 = activateF32x4(v128.load(row + offset, 16), kind);
    v128.store(row + offset, v0);
    v128.store(row + offset, v1, 16);
  }
  for (; k < n; k += 4) {
    const offset = <usize>k << 2;
    const lanes = min(4, n - k);
    storeLanesF32x4(row + offset, activateF32x4(loadLanesF32x4(row + offset, lanes), kind), lanes);
  }
}

// @ts-ignore: decorator
@inline function gradRowAs(g: usize, y: usize, n: i32, kind: i32): void {
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const offset = <usize>k << 2;
    v128.store(g + offset, f32x4.mul(v128.load(g + offset), derivativeFromOutputF32x4(v128.load(y + offset), kind)));
  }
  const tail = n - k;
  if (tail > 0) {
    const offset = <usize>k << 2;
    const scaled = f32x4.mul(loadLanesF32x4(g + offset, tail), derivativeFromOutputF32x4(loadLanesF32x4(y + offset, tail), kind));
    storeLanesF32x4(g + offset, scaled, tail);
  }
}

function tanhRow(row: usize, n: i32): void { activateRowAs(row, n, ACT_TANH); }
function reluRow(row: usize, n: i32): void { activateRowAs(row, n, ACT_RELU); }
function sigmoidRow(row: usize, n: i32): void { activateRowAs(row, n, ACT_SIGMOID); }

/** row[k] = act(row[k]), k < n. */
export function activateRowInPlace(row: usize, n: i32, kind: i32): void {
  if (kind == ACT_TANH) tanhRow(row, n);
  else if (kind == ACT_RELU) reluRow(row, n);
  else if (kind == ACT_SIGMOID) sigmoidRow(row, n);
}

function tanhGradRow(g: usize, y: usize, n: i32): void { gradRowAs(g, y, n, ACT_TANH); }
function reluGradRow(g: usize, y: usize, n: i32): void { gradRowAs(g, y, n, ACT_RELU); }
function sigmoidGradRow(g: usize, y: usize, n: i32): void { gradRowAs(g, y, n, ACT_SIGMOID); }

/** g[k] *= act'(pre[k]), where y[k] = act(pre[k]) is the activation's output, k < n. */
export function activationGradRowInPlace(g: usize, y: usize, n: i32, kind: i32): void {
  if (kind == ACT_TANH) tanhGradRow(g, y, n);
  else if (kind == ACT_RELU) reluGradRow(g, y, n);
  else if (kind == ACT_SIGMOID) sigmoidGradRow(g, y, n);
}
