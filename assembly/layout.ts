// Index and address arithmetic shared by every kernel, and the one way a kernel lays
// out its scratch.
//
// Scratch: a kernel's caller-owned scratch block is a list of regions, numbered by the
// kernel's constants in the order they sit. The kernel writes one function giving each
// region's size in floats from up to six of its dimensions (a RegionSizes); both its
// exported `<kernel>ScratchFloats` (floatsBefore the region count) and its region
// pointers (regionAt) come from the running sum of those sizes, each rounded up to a
// 64-byte line. Sizes are f64 so that an absurd request is computed exactly (and refused
// by the JS heap with MEMORY) instead of wrapping around in i32.

import { GEMM_NR } from "./gemm";

/** Byte size of `floats` f32 (or i32) elements. */
// @ts-ignore: decorator
@inline export function bytes(floats: i32): usize {
  return <usize>floats << 2;
}

// @ts-ignore: decorator
@inline export function ceil4(n: i32): i32 {
  return (n + 3) & ~3;
}

// @ts-ignore: decorator
@inline export function ceil8(n: i32): i32 {
  return (n + 7) & ~7;
}

/** Non-negative remainder a mod m (m > 0). */
// @ts-ignore: decorator
@inline export function floorMod(a: i32, m: i32): i32 {
  const r = a % m;
  return r < 0 ? r + m : r;
}

/** n floats rounded up to a 64-byte line, so every region starts aligned. */
// @ts-ignore: decorator
@inline export function lineFloats(n: f64): f64 {
  return Math.ceil(n / 16) * 16;
}

/** gemmPackedBFloats(K, N) in f64. */
// @ts-ignore: decorator
@inline export function packedBFloats(K: f64, N: f64): f64 {
  return Math.ceil(N / GEMM_NR) * GEMM_NR * K;
}

/** A kernel's region sizes: the floats of `region`, given up to six of the kernel's dimensions (unused ones 0). */
export type RegionSizes = (region: i32, a: i32, b: i32, c: i32, d: i32, e: i32, f: i32) => f64;

/** Floats before `region` of a layout (every region starts on a 64-byte line). */
export function floatsBefore(sizes: RegionSizes, region: i32, a: i32, b: i32, c: i32, d: i32, e: i32, f: i32): f64 {
  let floats: f64 = 0;
  for (let r = 0; r < region; r++) floats += lineFloats(sizes(r, a, b, c, d, e, f));
  return floats;
}

/** The address of `region` of a layout in the scratch block at `scratch`. */
export function regionAt(scratch: usize, sizes: RegionSizes, region: i32, a: i32, b: i32, c: i32, d: i32, e: i32, f: i32): usize {
  return scratch + (<usize>floatsBefore(sizes, region, a, b, c, d, e, f) << 2);
}

// Team scratch: regions [0, firstPrivate) are shared by a call's threads, regions
// [firstPrivate, count) are each thread's own, repeated once per thread after the shared ones.

/** Floats of a team's scratch for `threads` threads. */
export function teamScratchFloats(
  sizes: RegionSizes, firstPrivate: i32, count: i32, threads: i32, a: i32, b: i32, c: i32, d: i32, e: i32, f: i32,
): f64 {
  const shared = floatsBefore(sizes, firstPrivate, a, b, c, d, e, f);
  return shared + <f64>threads * (floatsBefore(sizes, count, a, b, c, d, e, f) - shared);
}

/** The address of private `region` (>= firstPrivate) of thread `thread` in a team's scratch. */
export function threadRegionAt(
  scratch: usize, sizes: RegionSizes, firstPrivate: i32, count: i32, region: i32, thread: i32,
  a: i32, b: i32, c: i32, d: i32, e: i32, f: i32,
): usize {
  const shared = floatsBefore(sizes, firstPrivate, a, b, c, d, e, f);
  const perThread = floatsBefore(sizes, count, a, b, c, d, e, f) - shared;
  return scratch + (<usize>(shared + <f64>thread * perThread + floatsBefore(sizes, region, a, b, c, d, e, f) - shared) << 2);
}
