// Lane helpers shared by every kernel.
//
// One source, two builds: `ASC_FEATURE_RELAXED_SIMD` is a compile-time constant
// (asconfig target "relaxed" enables the feature, "simd" does not), so each
// helper folds to a single instruction sequence in each build.

/** True in the relaxed-SIMD build. Kernels use it to pick a tile shape. */
export const RELAXED: bool = ASC_FEATURE_RELAXED_SIMD;

/** acc + a * b lane-wise: one fused relaxed madd, or mul then add in the plain build. */
@inline export function fmaF32x4(a: v128, b: v128, acc: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, acc);
  return f32x4.add(f32x4.mul(a, b), acc);
}

/** Sum of the four lanes of v. */
@inline export function hsumF32x4(v: v128): f32 {
  const pairs = f32x4.add(v, i32x4.shuffle(v, v, 2, 3, 0, 1));
  const all = f32x4.add(pairs, i32x4.shuffle(pairs, pairs, 1, 0, 3, 2));
  return f32x4.extract_lane(all, 0);
}

/** Maximum of the four lanes of v. */
@inline export function hmaxF32x4(v: v128): f32 {
  const pairs = f32x4.max(v, i32x4.shuffle(v, v, 2, 3, 0, 1));
  const all = f32x4.max(pairs, i32x4.shuffle(pairs, pairs, 1, 0, 3, 2));
  return f32x4.extract_lane(all, 0);
}

/** Store the first `n` (0..4) lanes of v at ptr; n == 4 is one v128 store. */
@inline export function storeLanesF32x4(ptr: usize, v: v128, n: i32): void {
  if (n >= 4) {
    v128.store(ptr, v);
    return;
  }
  if (n > 0) store<f32>(ptr, f32x4.extract_lane(v, 0));
  if (n > 1) store<f32>(ptr, f32x4.extract_lane(v, 1), 4);
  if (n > 2) store<f32>(ptr, f32x4.extract_lane(v, 2), 8);
}

/** Load the first `n` (0..4) floats at ptr into lanes, zero in the rest; never reads past ptr + 4n. */
@inline export function loadLanesF32x4(ptr: usize, n: i32): v128 {
  if (n >= 4) return v128.load(ptr);
  let v = f32x4.splat(0);
  if (n > 0) v = f32x4.replace_lane(v, 0, load<f32>(ptr));
  if (n > 1) v = f32x4.replace_lane(v, 1, load<f32>(ptr, 4));
  if (n > 2) v = f32x4.replace_lane(v, 2, load<f32>(ptr, 8));
  return v;
}

/**
 * Store the transpose of the 4x4 block whose rows are r0..r3: row i of the result
 * (lane i of every r) at dst + i * strideBytes.
 */
@inline export function storeTransposed4x4(r0: v128, r1: v128, r2: v128, r3: v128, dst: usize, strideBytes: usize): void {
  const t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5), t1 = i32x4.shuffle(r0, r1, 2, 6, 3, 7);
  const t2 = i32x4.shuffle(r2, r3, 0, 4, 1, 5), t3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
  v128.store(dst, i32x4.shuffle(t0, t2, 0, 1, 4, 5));
  v128.store(dst + strideBytes, i32x4.shuffle(t0, t2, 2, 3, 6, 7));
  v128.store(dst + 2 * strideBytes, i32x4.shuffle(t1, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * strideBytes, i32x4.shuffle(t1, t3, 2, 3, 6, 7));
}
