// Shared GEMM: C[M, N] (= | +=) A[M, K] @ B[K, N], f32, single thread.
//
// Dimensions: M rows of A and C, N columns of B and C, K the reduction.
// Layout: A and B are read through element strides (aRow, aCol), (bRow, bCol), so
// transposed operands cost nothing extra; C is row-major with row stride ldc.
// All strides are in elements (f32), pointers in bytes.
//
// Scheme (GotoBLAS / XNNPACK "loadsplat"):
//   1. B is packed once into panels of NR columns, k-major: panel p holds
//      B[k, p*NR + j] at ((p*K + k) * NR + j); columns past N are zero.
//      Callers that reuse B (the 2D-RNN weights) pack once and call gemmPacked
//      many times.
//   2. A is packed per (MC x KC) block into MR-row tiles, k-major, so the
//      micro-kernel reads A with constant offsets (one pointer bump per k);
//      rows that do not fill a tile are packed as plain rows for the 1-row kernel.
//   3. For each B panel slice (KC x NR, 8 KB, stays in L1) the micro-kernel runs
//      over every A tile of the block (MC x KC, stays in L2).
// Outputs: C is overwritten on the first K block unless `accumulate`, then added to.

import { fmaF32x4, loadLanesF32x4, storeLanesF32x4, storeTransposed4x4 } from "./simd";
import { shareStart, teamBarrier, teamShareEnd, teamShareStart, teamSize, teamThread } from "./team";

/** Columns per B panel and micro-kernel tile (two f32x4). */
export const GEMM_NR: i32 = 8;
/** Rows per micro-kernel tile (see gemm_4x8 for why 4). */
export const GEMM_MR: i32 = 4;
/** Reduction block: a KC x NR panel slice is 8 KB (L1). */
export const GEMM_KC: i32 = 256;
/** Row block: an MC x KC packed A block is 128 KB (L2). Multiple of GEMM_MR. */
export const GEMM_MC: i32 = 128;

/** Floats of scratch gemmPackB needs for a K x N operand. */
export function gemmPackedBFloats(K: i32, N: i32): i32 {
  return ((N + GEMM_NR - 1) / GEMM_NR) * GEMM_NR * K;
}

/** Floats of scratch gemmPacked needs for its A blocks. */
export function gemmPackedAFloats(): i32 {
  return GEMM_MC * GEMM_KC;
}

/** Pack B[K, N] (element (k, n) at b + 4 * (k * bRow + n * bCol)) into NR-column panels. */
export function gemmPackB(K: i32, N: i32, b: usize, bRow: i32, bCol: i32, packed: usize): void {
  gemmPackBPanels(K, N, b, bRow, bCol, packed, 0, (N + GEMM_NR - 1) / GEMM_NR);
}

/** gemmPackB of the panels [p0, p1) only (a team packs its shares). */
export function gemmPackBPanels(K: i32, N: i32, b: usize, bRow: i32, bCol: i32, packed: usize, p0: i32, p1: i32): void {
  for (let p = p0; p < p1; p++) {
    const col0 = p * GEMM_NR;
    const cols = min(GEMM_NR, N - col0);
    let dst = packed + (<usize>(p * K * GEMM_NR) << 2);
    if (bCol == 1 && cols == GEMM_NR) {
      // row-major B: each k row of the panel is two contiguous vectors
      let src = b + (<usize>col0 << 2);
      const rowBytes = <usize>bRow << 2;
      for (let k = 0; k < K; k++) {
        v128.store(dst, v128.load(src));
        v128.store(dst, v128.load(src, 16), 16);
        src += rowBytes;
        dst += GEMM_NR << 2;
      }
    } else {
      for (let k = 0; k < K; k++) {
        const rowBase = b + (<usize>(k * bRow) << 2);
        for (let j = 0; j < GEMM_NR; j++) {
          const value: f32 = j < cols ? load<f32>(rowBase + (<usize>((col0 + j) * bCol) << 2)) : 0;
          store<f32>(dst + (<usize>j << 2), value);
        }
        dst += GEMM_NR << 2;
      }
    }
  }
}

// Pack rows [row0, row0 + rows) x columns [k0, k0 + kc) of A: full MR-row tiles
// k-major (tile t: A[row0 + t*MR + r, k0 + k] at (t*MR*kc + k*MR + r)), then the
// leftover rows one after another, each kc contiguous floats.
function packABlock(a: usize, aRow: i32, aCol: i32, row0: i32, rows: i32, k0: i32, kc: i32, packed: usize): void {
  const tiles = rows / GEMM_MR;
  const rowBytes = <usize>aRow << 2, colBytes = <usize>aCol << 2;
  let dst = packed;
  for (let t = 0; t < tiles; t++) {
    const tileRow = row0 + t * GEMM_MR;
    let k = 0;
    // Vector paths: packing was a third of the multiply when N or K is small
    // (attention's 32 x 65 x 256 and transposed 256 x 65 x 32 products).
    if (aRow == 1) {
      // the tile's 4 rows are contiguous at each k: one vector per k
      for (let src = a + (<usize>(tileRow + k0 * aCol) << 2); k < kc; k++, src += colBytes, dst += 16) {
        v128.store(dst, v128.load(src));
      }
    } else if (aCol == 1) {
      // each row is contiguous over k: 4 x 4 transposes
      const src = a + (<usize>(tileRow * aRow + k0) << 2);
      for (; k + 4 <= kc; k += 4, dst += 64) {
        const at = src + (<usize>k << 2);
        storeTransposed4x4(v128.load(at), v128.load(at + rowBytes), v128.load(at + 2 * rowBytes), v128.load(at + 3 * rowBytes), dst, 16);
      }
    }
    for (; k < kc; k++) {
      const src = a + (<usize>(tileRow * aRow + (k0 + k) * aCol) << 2);
      for (let r = 0; r < GEMM_MR; r++) {
        store<f32>(dst + (<usize>r << 2), load<f32>(src + <usize>r * rowBytes));
      }
      dst += GEMM_MR << 2;
    }
  }
  for (let r = tiles * GEMM_MR; r < rows; r++) {
    const src = a + (<usize>((row0 + r) * aRow + k0 * aCol) << 2);
    if (aCol == 1) {
      memory.copy(dst, src, <usize>kc << 2);
    } else {
      const colBytes = <usize>aCol << 2;
      for (let k = 0; k < kc; k++) store<f32>(dst + (<usize>k << 2), load<f32>(src + <usize>k * colBytes));
    }
    dst += <usize>kc << 2;
  }
}

// c[r, 0..nr) (= | +=) sum_k aTile[k, r] * bPanel[k, 0..8), r < 4.
// Preconditions: aTile is k-major with 4 floats per k, bPanel 8 floats per k, 1 <= nr <= 8.
// 4 x 8 keeps 8 accumulators + 2 B vectors + 1 splat in registers; 6 x 8 spilled
// in V8 (15 usable xmm): 1024^3 went 25.8 -> 50.6 GFLOP/s relaxed, 27.5 -> 39.3 plain.
// Exported for the attention tiles (assembly/attention_tile.ts), which run it on their own panels.
// @ts-ignore: decorator
@inline export function gemm_4x8(kc: i32, ap: usize, bp: usize, c: usize, ldcBytes: usize, nr: i32, accumulate: bool): void {
  const c0 = c, c1 = c0 + ldcBytes, c2 = c1 + ldcBytes, c3 = c2 + ldcBytes;
  const zero = f32x4.splat(0);
  let acc00 = zero, acc01 = zero, acc10 = zero, acc11 = zero;
  let acc20 = zero, acc21 = zero, acc30 = zero, acc31 = zero;
  const lo = min(nr, 4), hi = nr - 4;
  if (accumulate) {
    acc00 = loadLanesF32x4(c0, lo); acc01 = loadLanesF32x4(c0 + 16, hi);
    acc10 = loadLanesF32x4(c1, lo); acc11 = loadLanesF32x4(c1 + 16, hi);
    acc20 = loadLanesF32x4(c2, lo); acc21 = loadLanesF32x4(c2 + 16, hi);
    acc30 = loadLanesF32x4(c3, lo); acc31 = loadLanesF32x4(c3 + 16, hi);
  }
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(bp), b1 = v128.load(bp, 16);
    let a = v128.load32_splat(ap);
    acc00 = fmaF32x4(a, b0, acc00); acc01 = fmaF32x4(a, b1, acc01);
    a = v128.load32_splat(ap, 4);
    acc10 = fmaF32x4(a, b0, acc10); acc11 = fmaF32x4(a, b1, acc11);
    a = v128.load32_splat(ap, 8);
    acc20 = fmaF32x4(a, b0, acc20); acc21 = fmaF32x4(a, b1, acc21);
    a = v128.load32_splat(ap, 12);
    acc30 = fmaF32x4(a, b0, acc30); acc31 = fmaF32x4(a, b1, acc31);
    ap += 16;
    bp += 32;
  }
  if (nr == GEMM_NR) {
    v128.store(c0, acc00); v128.store(c0, acc01, 16);
    v128.store(c1, acc10); v128.store(c1, acc11, 16);
    v128.store(c2, acc20); v128.store(c2, acc21, 16);
    v128.store(c3, acc30); v128.store(c3, acc31, 16);
  } else {
    storeLanesF32x4(c0, acc00, lo); storeLanesF32x4(c0 + 16, acc01, hi);
    storeLanesF32x4(c1, acc10, lo); storeLanesF32x4(c1 + 16, acc11, hi);
    storeLanesF32x4(c2, acc20, lo); storeLanesF32x4(c2 + 16, acc21, hi);
    storeLanesF32x4(c3, acc30, lo); storeLanesF32x4(c3 + 16, acc31, hi);
  }
}

// c[0..nr) (= | +=) sum_k aRow[k] * bPanel[k, 0..8), for the rows a 4x8 tile leaves over.
// Each output is one multiply-add chain in k order from its start value, exactly as in
// gemm_4x8, so a row's bits do not depend on which kernel computed it: thread teams may
// split rows anywhere (a 4-way k unroll into separate accumulators was faster, but
// rounded differently from the 4x8 tile).
// @ts-ignore: decorator
@inline function gemm_1x8(kc: i32, ap: usize, bp: usize, c: usize, nr: i32, accumulate: bool): void {
  const loN = min(nr, 4), hiN = nr - 4;
  let lo = f32x4.splat(0), hi = lo;
  if (accumulate) {
    lo = loadLanesF32x4(c, loN);
    hi = loadLanesF32x4(c + 16, hiN);
  }
  for (let k = 0; k < kc; k++) {
    const a = v128.load32_splat(ap);
    lo = fmaF32x4(a, v128.load(bp), lo);
    hi = fmaF32x4(a, v128.load(bp, 16), hi);
    ap += 4;
    bp += 32;
  }
  storeLanesF32x4(c, lo, loN);
  storeLanesF32x4(c + 16, hi, hiN);
}

/**
 * C[M, N] (= | +=) A[M, K] @ Bpacked, with B packed by gemmPackB(K, N, ...).
 * A element (m, k) at a + 4 * (m * aRow + k * aCol); C row stride ldc elements.
 * `packA` is scratch of gemmPackedAFloats() floats. With K == 0, C is zeroed unless `accumulate`.
 * Each element of C is one chain over k in order, so any split of the rows (callers
 * offset a and c) or of the panels (gemmPackedPanels) gives the same bits.
 */
export function gemmPacked(
  M: i32, N: i32, K: i32,
  a: usize, aRow: i32, aCol: i32,
  packedB: usize,
  c: usize, ldc: i32, accumulate: bool,
  packA: usize,
): void {
  gemmPackedPanels(M, N, K, a, aRow, aCol, packedB, c, ldc, accumulate, packA, 0, (N + GEMM_NR - 1) / GEMM_NR);
}

/** gemmPacked restricted to the NR-column panels [p0, p1) of C. */
export function gemmPackedPanels(
  M: i32, N: i32, K: i32,
  a: usize, aRow: i32, aCol: i32,
  packedB: usize,
  c: usize, ldc: i32, accumulate: bool,
  packA: usize, p0: i32, p1: i32,
): void {
  if (M <= 0 || N <= 0 || p0 >= p1) return;
  const ldcBytes = <usize>ldc << 2;
  if (K <= 0) {
    if (!accumulate) {
      const col0 = p0 * GEMM_NR, cols = min(N, p1 * GEMM_NR) - col0;
      for (let m = 0; m < M; m++) memory.fill(c + <usize>m * ldcBytes + (<usize>col0 << 2), 0, <usize>cols << 2);
    }
    return;
  }
  for (let kb = 0; kb < K; kb += GEMM_KC) {
    const kc = min(GEMM_KC, K - kb);
    const add = accumulate || kb > 0;
    for (let ib = 0; ib < M; ib += GEMM_MC) {
      const mc = min(GEMM_MC, M - ib);
      packABlock(a, aRow, aCol, ib, mc, kb, kc, packA);
      const tiles = mc / GEMM_MR;
      const tileBytes = <usize>(GEMM_MR * kc) << 2;
      const leftoverA = packA + <usize>tiles * tileBytes;
      for (let p = p0; p < p1; p++) {
        const nr = min(GEMM_NR, N - p * GEMM_NR);
        const bp = packedB + (<usize>((p * K + kb) * GEMM_NR) << 2);
        const cPanel = c + (<usize>(p * GEMM_NR) << 2) + <usize>ib * ldcBytes;
        for (let t = 0; t < tiles; t++) {
          gemm_4x8(kc, packA + <usize>t * tileBytes, bp, cPanel + <usize>(t * GEMM_MR) * ldcBytes, ldcBytes, nr, add);
        }
        for (let r = tiles * GEMM_MR; r < mc; r++) {
          const ap = leftoverA + (<usize>((r - tiles * GEMM_MR) * kc) << 2);
          gemm_1x8(kc, ap, bp, cPanel + <usize>r * ldcBytes, nr, add);
        }
      }
    }
  }
}

// c[0..N) (= | +=) sum_k aRow[k * aCol] * B[k, 0..N), B row-major (unit column stride).
// For rows too few to pay for packing B (a mat-vec reads B once; packing would
// read and write it once more): 32 columns at a time in 8 accumulators, then 4, then a scalar tail.
function gemvRow(N: i32, K: i32, a: usize, aColBytes: usize, b: usize, bRowBytes: usize, c: usize, accumulate: bool): void {
  let j = 0;
  for (; j + 32 <= N; j += 32) {
    const zero = f32x4.splat(0);
    let s0 = zero, s1 = zero, s2 = zero, s3 = zero, s4 = zero, s5 = zero, s6 = zero, s7 = zero;
    let ap = a, bp = b + (<usize>j << 2);
    for (let k = 0; k < K; k++) {
      const av = v128.load32_splat(ap);
      s0 = fmaF32x4(av, v128.load(bp), s0); s1 = fmaF32x4(av, v128.load(bp, 16), s1);
      s2 = fmaF32x4(av, v128.load(bp, 32), s2); s3 = fmaF32x4(av, v128.load(bp, 48), s3);
      s4 = fmaF32x4(av, v128.load(bp, 64), s4); s5 = fmaF32x4(av, v128.load(bp, 80), s5);
      s6 = fmaF32x4(av, v128.load(bp, 96), s6); s7 = fmaF32x4(av, v128.load(bp, 112), s7);
      ap += aColBytes;
      bp += bRowBytes;
    }
    const cp = c + (<usize>j << 2);
    if (accumulate) {
      s0 = f32x4.add(s0, v128.load(cp)); s1 = f32x4.add(s1, v128.load(cp, 16));
      s2 = f32x4.add(s2, v128.load(cp, 32)); s3 = f32x4.add(s3, v128.load(cp, 48));
      s4 = f32x4.add(s4, v128.load(cp, 64)); s5 = f32x4.add(s5, v128.load(cp, 80));
      s6 = f32x4.add(s6, v128.load(cp, 96)); s7 = f32x4.add(s7, v128.load(cp, 112));
    }
    v128.store(cp, s0); v128.store(cp, s1, 16); v128.store(cp, s2, 32); v128.store(cp, s3, 48);
    v128.store(cp, s4, 64); v128.store(cp, s5, 80); v128.store(cp, s6, 96); v128.store(cp, s7, 112);
  }
  for (; j < N; j += 4) {
    const lanes = min(4, N - j);
    let s = f32x4.splat(0);
    let ap = a, bp = b + (<usize>j << 2);
    for (let k = 0; k < K; k++) {
      s = fmaF32x4(v128.load32_splat(ap), loadLanesF32x4(bp, lanes), s);
      ap += aColBytes;
      bp += bRowBytes;
    }
    const cp = c + (<usize>j << 2);
    if (accumulate) s = f32x4.add(s, loadLanesF32x4(cp, lanes));
    storeLanesF32x4(cp, s, lanes);
  }
}

// c[r, 0..N) (= | +=) sum_k a_r[k * aCol] * B[k, 0..N) for the `rows` (2 or 3) rows a_r at
// a + r * aRow, B row-major (unit column stride), read once for all of them: a mat-vec per
// row would stream B once per row (3CosMul's three terms over a 40 MB table of unit vectors:
// 7.9 -> see bench similarity). 8 columns at a time in 3 x 2 accumulators, then 4, then a
// lane tail. Each element is gemvRow's fma chain over k, so either path gives the same bits.
// With 2 rows the third accumulators repeat row 1 and are not stored.
function gemv_3x8(
  rows: i32, N: i32, K: i32, a: usize, aRowBytes: usize, aColBytes: usize, b: usize, bRowBytes: usize,
  c: usize, cRowBytes: usize, accumulate: bool,
): void {
  const a1 = a + aRowBytes, a2 = rows > 2 ? a1 + aRowBytes : a1;
  const c1 = c + cRowBytes, c2 = c1 + cRowBytes;
  let j = 0;
  for (; j + 8 <= N; j += 8) {
    const zero = f32x4.splat(0);
    let s00 = zero, s01 = zero, s10 = zero, s11 = zero, s20 = zero, s21 = zero;
    let ak: usize = 0, bp = b + (<usize>j << 2);
    for (let k = 0; k < K; k++) {
      const b0 = v128.load(bp), b1 = v128.load(bp, 16);
      const x0 = v128.load32_splat(a + ak), x1 = v128.load32_splat(a1 + ak), x2 = v128.load32_splat(a2 + ak);
      s00 = fmaF32x4(x0, b0, s00); s01 = fmaF32x4(x0, b1, s01);
      s10 = fmaF32x4(x1, b0, s10); s11 = fmaF32x4(x1, b1, s11);
      s20 = fmaF32x4(x2, b0, s20); s21 = fmaF32x4(x2, b1, s21);
      ak += aColBytes;
      bp += bRowBytes;
    }
    const offset = <usize>j << 2;
    if (accumulate) {
      s00 = f32x4.add(s00, v128.load(c + offset)); s01 = f32x4.add(s01, v128.load(c + offset, 16));
      s10 = f32x4.add(s10, v128.load(c1 + offset)); s11 = f32x4.add(s11, v128.load(c1 + offset, 16));
    }
    v128.store(c + offset, s00); v128.store(c + offset, s01, 16);
    v128.store(c1 + offset, s10); v128.store(c1 + offset, s11, 16);
    if (rows > 2) {
      if (accumulate) {
        s20 = f32x4.add(s20, v128.load(c2 + offset)); s21 = f32x4.add(s21, v128.load(c2 + offset, 16));
      }
      v128.store(c2 + offset, s20); v128.store(c2 + offset, s21, 16);
    }
  }
  for (; j < N; j += 4) {
    const lanes = min(4, N - j);
    let s0 = f32x4.splat(0), s1 = s0, s2 = s0;
    let ak: usize = 0, bp = b + (<usize>j << 2);
    for (let k = 0; k < K; k++) {
      const bv = loadLanesF32x4(bp, lanes);
      s0 = fmaF32x4(v128.load32_splat(a + ak), bv, s0);
      s1 = fmaF32x4(v128.load32_splat(a1 + ak), bv, s1);
      s2 = fmaF32x4(v128.load32_splat(a2 + ak), bv, s2);
      ak += aColBytes;
      bp += bRowBytes;
    }
    const offset = <usize>j << 2;
    if (accumulate) {
      s0 = f32x4.add(s0, loadLanesF32x4(c + offset, lanes));
      s1 = f32x4.add(s1, loadLanesF32x4(c1 + offset, lanes));
    }
    storeLanesF32x4(c + offset, s0, lanes);
    storeLanesF32x4(c1 + offset, s1, lanes);
    if (rows > 2) {
      if (accumulate) s2 = f32x4.add(s2, loadLanesF32x4(c2 + offset, lanes));
      storeLanesF32x4(c2 + offset, s2, lanes);
    }
  }
}

// Streamed mat-vec, for one row against a B too large for the caches: c[j] = sum_k a[k] B[k, j]
// over one chunk of c (GEMV_STREAM_COLUMNS: its running sums stay in L1), k outer, 4 rows of
// B per pass, so B is read front to back in long runs. gemvRow's 32-column blocks walk down
// all K rows of B at once (K streams a row stride apart, more than the prefetchers follow):
// a 100K x 100 table of unit vectors: 2.3-2.5 -> 1.65-1.75 ms. (For 2-3 rows gemv_3x8 stays
// ahead: the rows' running sums in memory cost more loads and stores than the streams save,
// 3 rows 4.3-5.5 -> 8-9 ms.) Each element's fma chain over k is gemvRow's, and the bias is
// added after it, as gemvRow adds it: the bits do not depend on the path.

/** Columns of c a streamed mat-vec keeps in L1 (8 KB). */
const GEMV_STREAM_COLUMNS: i32 = 2048;
/**
 * B of at least this many floats (1 MB) and columns is streamed: measured as fast from
 * 0.5 MB, faster from 2 MB (100 x 5000: 0.07 -> 0.045 ms; 100 x 40000: 0.87 -> 0.61 ms).
 * Few columns (a long reduction) keep gemvRow's sums in registers.
 */
const GEMV_STREAM_FLOATS: i64 = 1 << 18;
const GEMV_STREAM_MIN_COLUMNS: i32 = 256;

// c[0..N) = sum_k a[k * aCol] * B[k, 0..N): 4 rows of B per pass over c.
function gemvStream_1x4(N: i32, K: i32, a: usize, aColBytes: usize, b: usize, bRowBytes: usize, c: usize): void {
  memory.fill(c, 0, <usize>N << 2);
  const full = N & ~3, lanes = N - full, tail = <usize>full << 2;
  let k = 0;
  for (; k + 4 <= K; k += 4) {
    const ak = a + <usize>k * aColBytes, b0 = b + <usize>k * bRowBytes;
    const x0 = v128.load32_splat(ak), x1 = v128.load32_splat(ak + aColBytes);
    const x2 = v128.load32_splat(ak + 2 * aColBytes), x3 = v128.load32_splat(ak + 3 * aColBytes);
    const b1 = b0 + bRowBytes, b2 = b1 + bRowBytes, b3 = b2 + bRowBytes;
    for (let o: usize = 0; o < tail; o += 16) {
      let s = v128.load(c + o);
      s = fmaF32x4(x0, v128.load(b0 + o), s);
      s = fmaF32x4(x1, v128.load(b1 + o), s);
      s = fmaF32x4(x2, v128.load(b2 + o), s);
      s = fmaF32x4(x3, v128.load(b3 + o), s);
      v128.store(c + o, s);
    }
    if (lanes > 0) {
      let s = loadLanesF32x4(c + tail, lanes);
      s = fmaF32x4(x0, loadLanesF32x4(b0 + tail, lanes), s);
      s = fmaF32x4(x1, loadLanesF32x4(b1 + tail, lanes), s);
      s = fmaF32x4(x2, loadLanesF32x4(b2 + tail, lanes), s);
      s = fmaF32x4(x3, loadLanesF32x4(b3 + tail, lanes), s);
      storeLanesF32x4(c + tail, s, lanes);
    }
  }
  for (; k < K; k++) {
    const x = v128.load32_splat(a + <usize>k * aColBytes), bk = b + <usize>k * bRowBytes;
    for (let o: usize = 0; o < tail; o += 16) v128.store(c + o, fmaF32x4(x, v128.load(bk + o), v128.load(c + o)));
    if (lanes > 0) storeLanesF32x4(c + tail, fmaF32x4(x, loadLanesF32x4(bk + tail, lanes), loadLanesF32x4(c + tail, lanes)), lanes);
  }
}

// c[0..N) += bias[0..N)
function addBias(c: usize, bias: usize, N: i32): void {
  for (let j = 0; j < N; j += 4) {
    const lanes = min(4, N - j), o = <usize>j << 2;
    storeLanesF32x4(c + o, f32x4.add(loadLanesF32x4(c + o, lanes), loadLanesF32x4(bias + o, lanes)), lanes);
  }
}

/** Rows below which matmul multiplies from B in place instead of packing it (1x512x512: 4.8 -> see bench). */
export const GEMM_SMALL_M: i32 = 4;
/**
 * Floats of packB scratch matmul needs for one B: none where it multiplies from B in
 * place (fewer than GEMM_SMALL_M rows, row-major B), so a mat-vec over a large table does
 * not reserve a second table's worth of memory.
 */
export function matmulPackBFloats(M: i32, N: i32, K: i32, bCol: i32): i32 {
  return M < GEMM_SMALL_M && bCol == 1 ? 0 : gemmPackedBFloats(K, N);
}
/** Columns of C a thread takes at once on the small-M path (one gemvRow block). */
const GEMV_COLUMNS: i32 = 32;
/** Panels of C a work unit of the packed path covers (256 columns). */
const PANEL_GROUP: i32 = 32;

/**
 * Batched C[b] = A[b] @ B[b] (+ bias), b < batch. A batch stride of 0 broadcasts
 * that operand (B is then packed once). `bias` (N floats) or 0; C is [batch, M, N]
 * row-major and overwritten. Scratch: packB of matmulPackBFloats(M, N, K, bCol) floats (one per
 * thread of the team when B has a batch stride and batch > 1), packA of
 * gemmPackedAFloats() floats per thread.
 * Team: the small-M path splits (row, 32-column block) units; a per-item B splits the
 * batch items (each thread packs its own B); a shared B is packed by the team's panel
 * shares, then (row block, 256-column group) units are split. Every element of C is one
 * chain over k in the same order whoever computes it (gemmPacked), so any team gives
 * the same bits.
 */
export function matmul(
  batch: i32, M: i32, N: i32, K: i32,
  a: usize, aBatch: i32, aRow: i32, aCol: i32,
  b: usize, bBatch: i32, bRow: i32, bCol: i32,
  bias: usize, c: usize, packB: usize, packA: usize,
): void {
  const cBatchBytes = <usize>(M * N) << 2;
  const thread = teamThread();
  const ownPackA = packA + (<usize>(thread * gemmPackedAFloats()) << 2);
  if (M == 1 && bCol == 1 && N >= GEMV_STREAM_MIN_COLUMNS && <i64>K * <i64>N >= GEMV_STREAM_FLOATS) {
    // one row against a B beyond the caches: chunks of columns, B streamed front to back
    const chunks = (N + GEMV_STREAM_COLUMNS - 1) / GEMV_STREAM_COLUMNS;
    const units = batch * chunks;
    for (let u = teamShareStart(units), end = teamShareEnd(units); u < end; u++) {
      const bi = u / chunks, j0 = (u % chunks) * GEMV_STREAM_COLUMNS;
      const columns = min(GEMV_STREAM_COLUMNS, N - j0);
      const cChunk = c + <usize>bi * cBatchBytes + (<usize>j0 << 2);
      gemvStream_1x4(columns, K, a + (<usize>(bi * aBatch) << 2), <usize>aCol << 2, b + (<usize>(bi * bBatch + j0) << 2), <usize>bRow << 2, cChunk);
      if (bias != 0) addBias(cChunk, bias + (<usize>j0 << 2), columns);
    }
    return;
  }
  if (M < GEMM_SMALL_M && M > 1 && bCol == 1) {
    // every row against each 32-column block of B at once: B streamed once, not M times
    const blocks = (N + GEMV_COLUMNS - 1) / GEMV_COLUMNS;
    const units = batch * blocks;
    for (let u = teamShareStart(units), end = teamShareEnd(units); u < end; u++) {
      const bi = u / blocks, j0 = (u % blocks) * GEMV_COLUMNS;
      const columns = min(GEMV_COLUMNS, N - j0);
      const cBlock = c + <usize>bi * cBatchBytes + (<usize>j0 << 2);
      if (bias != 0) for (let m = 0; m < M; m++) memory.copy(cBlock + (<usize>(m * N) << 2), bias + (<usize>j0 << 2), <usize>columns << 2);
      gemv_3x8(
        M, columns, K, a + (<usize>(bi * aBatch) << 2), <usize>aRow << 2, <usize>aCol << 2,
        b + (<usize>(bi * bBatch + j0) << 2), <usize>bRow << 2, cBlock, <usize>N << 2, bias != 0,
      );
    }
    return;
  }
  if (M < GEMM_SMALL_M && bCol == 1) {
    const blocks = (N + GEMV_COLUMNS - 1) / GEMV_COLUMNS;
    const units = batch * M * blocks;
    for (let u = teamShareStart(units), end = teamShareEnd(units); u < end; u++) {
      const bi = u / (M * blocks), m = (u / blocks) % M, j0 = (u % blocks) * GEMV_COLUMNS;
      const columns = min(GEMV_COLUMNS, N - j0);
      const cRow = c + <usize>bi * cBatchBytes + (<usize>(m * N + j0) << 2);
      if (bias != 0) memory.copy(cRow, bias + (<usize>j0 << 2), <usize>columns << 2);
      gemvRow(
        columns, K, a + (<usize>(bi * aBatch + m * aRow) << 2), <usize>aCol << 2,
        b + (<usize>(bi * bBatch + j0) << 2), <usize>bRow << 2, cRow, bias != 0,
      );
    }
    return;
  }
  const panels = (N + GEMM_NR - 1) / GEMM_NR;
  if (bBatch != 0 && batch > 1) {
    // every item has its own B: items are the units, each packed by the thread that takes it
    const ownPackB = packB + (<usize>thread * <usize>gemmPackedBFloats(K, N) << 2);
    for (let bi = teamShareStart(batch), end = teamShareEnd(batch); bi < end; bi++) {
      gemmPackB(K, N, b + (<usize>(bi * bBatch) << 2), bRow, bCol, ownPackB);
      multiplyRows(0, M, 0, panels, N, K, a + (<usize>(bi * aBatch) << 2), aRow, aCol, ownPackB, bias, c + <usize>bi * cBatchBytes, ownPackA);
    }
    return;
  }
  // one B for every item: packed once by the team, then (item, row block, panel group) units
  gemmPackBPanels(K, N, b, bRow, bCol, packB, shareStart(panels, teamSize(), thread), shareStart(panels, teamSize(), thread + 1));
  teamBarrier();
  const rowBlocks = (M + GEMM_MC - 1) / GEMM_MC, groups = (panels + PANEL_GROUP - 1) / PANEL_GROUP;
  const units = batch * rowBlocks * groups;
  for (let u = teamShareStart(units), end = teamShareEnd(units); u < end; u++) {
    const bi = u / (rowBlocks * groups), r0 = ((u / groups) % rowBlocks) * GEMM_MC, g = u % groups;
    multiplyRows(
      r0, min(M, r0 + GEMM_MC), g * PANEL_GROUP, min(panels, (g + 1) * PANEL_GROUP), N, K,
      a + (<usize>(bi * aBatch) << 2), aRow, aCol, packB, bias, c + <usize>bi * cBatchBytes, ownPackA,
    );
  }
}

/** Rows [r0, r1) x panels [p0, p1) of C = A @ Bpacked (+ bias) for one batch item. */
function multiplyRows(
  r0: i32, r1: i32, p0: i32, p1: i32, N: i32, K: i32,
  a: usize, aRow: i32, aCol: i32, packedB: usize, bias: usize, c: usize, packA: usize,
): void {
  const rowBytes = <usize>N << 2;
  const col0 = p0 * GEMM_NR, columns = min(N, p1 * GEMM_NR) - col0;
  if (bias != 0) {
    for (let m = r0; m < r1; m++) memory.copy(c + <usize>m * rowBytes + (<usize>col0 << 2), bias + (<usize>col0 << 2), <usize>columns << 2);
  }
  gemmPackedPanels(r1 - r0, N, K, a + (<usize>(r0 * aRow) << 2), aRow, aCol, packedB, c + <usize>r0 * rowBytes, N, bias != 0, packA, p0, p1);
}
