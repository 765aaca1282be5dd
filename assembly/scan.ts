// Scans of whole arrays, for the JS side's checks: the inputs' largest magnitude (the
// value checks of src/ops/) and the outputs' finiteness (the results check); and the
// zero fill of outputs that kernels accumulate into. Large arrays are scanned and filled
// by a team (memory bandwidth grows with the cores that read); a max is exact in any order.

import { teamShareEnd, teamShareStart, teamThread } from "./team";

/**
 * max |x| over n floats at ptr; NaN if any is NaN, Infinity if any is infinite.
 * |x| as raw bits (sign cleared) orders like the values, with Infinity and NaN (exponent
 * all ones) above every finite value, so an unsigned integer max (one instruction)
 * replaces f32x4.max, which V8 lowers to a NaN-propagating sequence: 0.27 -> 0.065 ns
 * a float (2M floats, Node 20, both builds).
 */
export function maxAbsF32(ptr: usize, n: i32): f32 {
  const absMask = i32x4.splat(0x7fffffff);
  let m0 = i32x4.splat(0), m1 = m0, m2 = m0, m3 = m0;
  let i = 0;
  for (; i + 16 <= n; i += 16, ptr += 64) {
    m0 = i32x4.max_u(m0, v128.and(v128.load(ptr), absMask));
    m1 = i32x4.max_u(m1, v128.and(v128.load(ptr, 16), absMask));
    m2 = i32x4.max_u(m2, v128.and(v128.load(ptr, 32), absMask));
    m3 = i32x4.max_u(m3, v128.and(v128.load(ptr, 48), absMask));
  }
  const m = i32x4.max_u(i32x4.max_u(m0, m1), i32x4.max_u(m2, m3));
  const pairs = i32x4.max_u(m, i32x4.shuffle(m, m, 2, 3, 0, 1));
  let bits = <u32>i32x4.extract_lane(i32x4.max_u(pairs, i32x4.shuffle(pairs, pairs, 1, 0, 3, 2)), 0);
  for (; i < n; i++, ptr += 4) bits = max(bits, load<u32>(ptr) & 0x7fffffff);
  return reinterpret<f32>(bits);
}

/** Floats (or bytes) per unit of a team's share: shares start on 64-byte lines. */
const SHARE_FLOATS: i32 = 16;

/**
 * maxAbsF32 of this thread's share of the n floats at ptr, stored at out[thread] (f32);
 * the caller takes the max over out[0, threads) (zeros where a thread had no share).
 */
export function maxAbsF32Team(ptr: usize, n: i32, out: usize): void {
  const units = (n + SHARE_FLOATS - 1) / SHARE_FLOATS;
  const from = teamShareStart(units) * SHARE_FLOATS;
  const to = min(n, teamShareEnd(units) * SHARE_FLOATS);
  store<f32>(out + (<usize>teamThread() << 2), from < to ? maxAbsF32(ptr + (<usize>from << 2), to - from) : 0);
}

/** Zero this thread's share of the `bytes` bytes at ptr (bytes a multiple of 64, ptr 64-aligned). */
export function zeroFillTeam(ptr: usize, bytes: f64): void {
  const lines = <i32>(bytes / 64);
  const from = <usize>teamShareStart(lines) << 6;
  const to = <usize>teamShareEnd(lines) << 6;
  memory.fill(ptr + from, 0, to - from);
}
