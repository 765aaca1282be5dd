// Operations on f32 rows of length n (any n: an 8-wide SIMD body, a 4-wide step,
// then a scalar tail). Pointers in bytes, n in elements. Used by the softmax and
// skip-gram kernels, whose rows are embeddings and weight rows, and by the gradient
// sums of attention and conv2d.

import { fmaF32x4, hsumF32x4 } from "./simd";

/** sum_k a[k] b[k] */
// @ts-ignore: decorator
@inline export function dotRow(a: usize, b: usize, n: i32): f32 {
  // two accumulators hide the add latency
  let acc0 = f32x4.splat(0), acc1 = f32x4.splat(0);
  let k = 0;
  for (; k + 8 <= n; k += 8) {
    const o = <usize>k << 2;
    acc0 = fmaF32x4(v128.load(a + o), v128.load(b + o), acc0);
    acc1 = fmaF32x4(v128.load(a + o, 16), v128.load(b + o, 16), acc1);
  }
  if (k + 4 <= n) {
    const o = <usize>k << 2;
    acc0 = fmaF32x4(v128.load(a + o), v128.load(b + o), acc0);
    k += 4;
  }
  let s = hsumF32x4(f32x4.add(acc0, acc1));
  for (; k < n; k++) s += load<f32>(a + (<usize>k << 2)) * load<f32>(b + (<usize>k << 2));
  return s;
}

/** y[k] += alpha x[k] */
// @ts-ignore: decorator
@inline export function axpyRow(alpha: f32, x: usize, y: usize, n: i32): void {
  const av = f32x4.splat(alpha);
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const o = <usize>k << 2;
    v128.store(y + o, fmaF32x4(av, v128.load(x + o), v128.load(y + o)));
  }
  for (; k < n; k++) {
    const o = <usize>k << 2;
    store<f32>(y + o, load<f32>(y + o) + alpha * load<f32>(x + o));
  }
}

/** sum[k] += row[k]: one f32 add per element, so any vector width gives the same bits. */
// @ts-ignore: decorator
@inline export function addRow(sum: usize, row: usize, n: i32): void {
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const o = <usize>k << 2;
    v128.store(sum + o, f32x4.add(v128.load(sum + o), v128.load(row + o)));
  }
  for (; k < n; k++) {
    const o = <usize>k << 2;
    store<f32>(sum + o, load<f32>(sum + o) + load<f32>(row + o));
  }
}

/** y[k] = 0 */
// @ts-ignore: decorator
@inline export function zeroRow(y: usize, n: i32): void {
  memory.fill(y, 0, <usize>n << 2);
}
