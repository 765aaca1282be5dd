// exp on four f32 lanes, for softmax and attention. Cephes expf: x = n ln2 + r with |r| <= ln2/2
// (Cody-Waite two-constant reduction), exp(r) by a degree-6 polynomial, 2^n by
// building the exponent bits. Relative error below 2e-7 for x in [-87.3, 88];
// x below -87.3 (including -Infinity, a masked logit) gives exactly 0.
// Softmax only calls it with x <= 0 (logit minus the running max); FAVOR+ features
// and elu1 likewise (logit minus its stabiliser, min(x, 0)).

import { fmaF32x4 } from "./simd";

const LOG2E: f32 = 1.44269504088896341;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
const MIN_ARG: f32 = -87.3365447505531;
const MAX_ARG: f32 = 88.0;

/**
 * e^x lane-wise. n is rounded by adding 1.5 * 2^23 (the sum's low bits then hold n, so
 * no nearest/trunc_sat), and the clamps use pmin/pmax (one instruction each, where
 * the NaN-exact min/max take several in V8): the attention softmax pass went
 * 19.5 -> 11 ms of an 87 ms windowed call.
 */
// @ts-ignore: decorator
@inline export function expF32x4(x: v128): v128 {
  const magic = f32x4.splat(12582912.0); // 1.5 * 2^23
  const xc = f32x4.pmin(f32x4.pmax(x, f32x4.splat(MIN_ARG)), f32x4.splat(MAX_ARG));
  const shifted = fmaF32x4(xc, f32x4.splat(LOG2E), magic);
  const n = f32x4.sub(shifted, magic);
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
  // bits(shifted) = bits(magic) + n, so (n + 127) << 23 is 2^n
  const pow2n = i32x4.shl(i32x4.add(shifted, i32x4.splat(127 - 0x4b400000)), 23);
  const y = f32x4.mul(p, pow2n);
  return v128.and(y, f32x4.ge(x, f32x4.splat(MIN_ARG)));
}

/** e^x for one f32, through the same lanes so scalar tails match the vector body. */
// @ts-ignore: decorator
@inline export function expF32(x: f32): f32 {
  return f32x4.extract_lane(expF32x4(f32x4.splat(x)), 0);
}
