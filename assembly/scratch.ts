// Scratch sizing shared by kernels that carve several buffers out of one caller-owned
// block. Sizes are f64 so that an absurd request is computed exactly (and refused by
// the JS heap with MEMORY) instead of wrapping around in i32.

import { GEMM_NR } from "./gemm";

/** n floats rounded up to a 64-byte line, so every sub-buffer starts aligned. */
// @ts-ignore: decorator
@inline export function lineFloats(n: f64): f64 {
  return Math.ceil(n / 16) * 16;
}

/** gemmPackedBFloats(K, N) in f64. */
// @ts-ignore: decorator
@inline export function packedBFloats(K: f64, N: f64): f64 {
  return Math.ceil(N / GEMM_NR) * GEMM_NR * K;
}

/** The sub-buffer that follows one of `floats` floats starting at `start` (line-aligned). */
// @ts-ignore: decorator
@inline export function bufferAfter(start: usize, floats: f64): usize {
  return start + (<usize>lineFloats(floats) << 2);
}
