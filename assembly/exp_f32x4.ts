// exp on four f32 lanes, for softmax. Cephes expf: x = n ln2 + r with |r| <= ln2/2
// (Cody-Waite two-constant reduction), exp(r) by a degree-6 polynomial, 2^n by
// building the exponent bits. Relative error below 2e-7 for x in [-87.3, 88];
// x below -87.3 (including -Infinity, a masked logit) gives exactly 0.
// Softmax only calls it with x <= 0 (logit minus the running max).

import { fmaF32x4 } from "./simd";

const LOG2E: f32 = 1.44269504088896341;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
const MIN_ARG: f32 = -87.3365447505531;
const MAX_ARG: f32 = 88.0;

/** e^x lane-wise. */
// @ts-ignore: decorator
@inline export function expF32x4(x: v128): v128 {
  const xc = f32x4.min(f32x4.max(x, f32x4.splat(MIN_ARG)), f32x4.splat(MAX_ARG));
  const n = f32x4.nearest(f32x4.mul(xc, f32x4.splat(LOG2E)));
  // r = x - n ln2, in two steps so r keeps its low bits
  let r = fmaF32x4(n, f32x4.splat(-LN2_HI), xc);
  r = fmaF32x4(n, f32x4.splat(-LN2_LO), r);
  let p = f32x4.splat(1.9875691500e-4);
  p = fmaF32x4(p, r, f32x4.splat(1.3981999507e-3));
  p = fmaF32x4(p, r, f32x4.splat(8.3334519073e-3));
  p = fmaF32x4(p, r, f32x4.splat(4.1665795894e-2));
  p = fmaF32x4(p, r, f32x4.splat(1.6666665459e-1));
  p = fmaF32x4(p, r, f32x4.splat(5.0000001201e-1));
  // exp(r) = 1 + r + r^2 p(r)
  p = fmaF32x4(p, f32x4.mul(r, r), f32x4.add(r, f32x4.splat(1)));
  const pow2n = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  const y = f32x4.mul(p, pow2n);
  return v128.and(y, f32x4.ge(x, f32x4.splat(MIN_ARG)));
}

/** e^x for one f32, through the same lanes so scalar tails match the vector body. */
// @ts-ignore: decorator
@inline export function expF32(x: f32): f32 {
  return f32x4.extract_lane(expF32x4(f32x4.splat(x)), 0);
}
