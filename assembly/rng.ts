// xoshiro128** (Blackman & Vigna): the one seeded generator of weft.
// src/rng.ts implements the same steps; a test checks both give the same stream.
// State: 4 x u32 in caller-owned memory (no globals, so kernels stay reentrant).

// @ts-ignore: decorator
@inline function rotl(x: u32, k: u32): u32 {
  return (x << k) | (x >>> (32 - k));
}

/** Next u32 of the stream whose state is at `state`; advances the state. */
// @ts-ignore: decorator
@inline export function rngNextU32(state: usize): u32 {
  const s0 = load<u32>(state), s1 = load<u32>(state, 4), s2 = load<u32>(state, 8), s3 = load<u32>(state, 12);
  const result = rotl(s1 * 5, 7) * 9;
  const t = s1 << 9;
  let n2 = s2 ^ s0;
  let n3 = s3 ^ s1;
  const n1 = s1 ^ n2;
  const n0 = s0 ^ n3;
  n2 ^= t;
  n3 = rotl(n3, 11);
  store<u32>(state, n0);
  store<u32>(state, n1, 4);
  store<u32>(state, n2, 8);
  store<u32>(state, n3, 12);
  return result;
}

/** Uniform f32 in [0, 1) from the top 24 bits (exact, so identical in JS). */
// @ts-ignore: decorator
@inline export function rngNextFloat(state: usize): f32 {
  return <f32>(rngNextU32(state) >>> 8) * (1.0 / 16777216.0);
}

/** Fill out[0..n) with the next n u32 of the stream. */
export function rngFillU32(state: usize, out: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<u32>(out + (<usize>i << 2), rngNextU32(state));
}
