// Peak probes: the one-core f32 throughput this build can reach, measured two ways
// because each form limits a different build (the benchmark takes the larger):
//  - peakProbeChains: 12 independent chains acc = acc * x + y. Bound by FMA
//    throughput in the relaxed build; in the plain build mul and add both sit on
//    the chain, so it under-reports (37.8 vs 45.2 GFLOP/s measured).
//  - peakProbeLoadSplat: the GEMM inner loop without pointer bumps: 10
//    accumulators fed by 2 vector loads and 5 splat loads from L1, so the
//    multiply is off the accumulator chain.
// Both use the build's fmaF32x4 (relaxed madd, or mul + add).
// Flops: chains = iterations * 96, loadSplat = iterations * 80.

import { fmaF32x4, hsumF32x4 } from "./simd";

/** 12 chains of acc = acc * x + y; returns a checksum so the loop is kept. */
export function peakProbeChains(iterations: i32, seed: f32): f32 {
  const x = f32x4.splat(0.999), y = f32x4.splat(0.001);
  let a0 = f32x4.splat(seed), a1 = f32x4.splat(seed + 1), a2 = f32x4.splat(seed + 2), a3 = f32x4.splat(seed + 3);
  let a4 = f32x4.splat(seed + 4), a5 = f32x4.splat(seed + 5), a6 = f32x4.splat(seed + 6), a7 = f32x4.splat(seed + 7);
  let a8 = f32x4.splat(seed + 8), a9 = f32x4.splat(seed + 9), a10 = f32x4.splat(seed + 10), a11 = f32x4.splat(seed + 11);
  for (let i = 0; i < iterations; i++) {
    a0 = fmaF32x4(a0, x, y); a1 = fmaF32x4(a1, x, y); a2 = fmaF32x4(a2, x, y); a3 = fmaF32x4(a3, x, y);
    a4 = fmaF32x4(a4, x, y); a5 = fmaF32x4(a5, x, y); a6 = fmaF32x4(a6, x, y); a7 = fmaF32x4(a7, x, y);
    a8 = fmaF32x4(a8, x, y); a9 = fmaF32x4(a9, x, y); a10 = fmaF32x4(a10, x, y); a11 = fmaF32x4(a11, x, y);
  }
  const sum = f32x4.add(
    f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7))),
    f32x4.add(f32x4.add(a8, a9), f32x4.add(a10, a11)),
  );
  return hsumF32x4(sum);
}

/** GEMM-shaped probe reading 13 floats at `operands` (caller-owned, 16-byte aligned). */
export function peakProbeLoadSplat(iterations: i32, operands: usize): f32 {
  const zero = f32x4.splat(0);
  let a0 = zero, a1 = zero, a2 = zero, a3 = zero, a4 = zero, a5 = zero, a6 = zero, a7 = zero, a8 = zero, a9 = zero;
  for (let i = 0; i < iterations; i++) {
    const b0 = v128.load(operands), b1 = v128.load(operands, 16);
    let s = v128.load32_splat(operands, 32);
    a0 = fmaF32x4(s, b0, a0); a1 = fmaF32x4(s, b1, a1);
    s = v128.load32_splat(operands, 36);
    a2 = fmaF32x4(s, b0, a2); a3 = fmaF32x4(s, b1, a3);
    s = v128.load32_splat(operands, 40);
    a4 = fmaF32x4(s, b0, a4); a5 = fmaF32x4(s, b1, a5);
    s = v128.load32_splat(operands, 44);
    a6 = fmaF32x4(s, b0, a6); a7 = fmaF32x4(s, b1, a7);
    s = v128.load32_splat(operands, 48);
    a8 = fmaF32x4(s, b0, a8); a9 = fmaF32x4(s, b1, a9);
  }
  const sum = f32x4.add(
    f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)),
    f32x4.add(f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)), f32x4.add(a8, a9)),
  );
  return hsumF32x4(sum);
}
