// The wavefront machinery of the 2D scans (assembly/rnn2d.ts, assembly/mdlstm.ts): the
// diagonal-major ("skewed") layout, conversions to and from [B, H, W, F], and the GEMM
// helpers that work on a thread's share of a diagonal's rows.
//
// Skewed layout: cells on an anti-diagonal d = i + j depend only on diagonal d - 1, so
// per-cell rows are kept ordered by diagonal: diagonal d holds cells
// iLo(d) <= i <= iHi(d), row offsets[d] + (i - iLo(d)) * B + b. The left neighbours of a
// diagonal's cells are then one contiguous block of rows of diagonal d-1, and so are the
// top neighbours (the same block shifted by B rows).

import { GEMM_KC, gemmPackB, gemmPacked } from "./gemm";
import { teamShareEnd, teamShareStart, teamSize, teamThread } from "./team";

// the scans' dbias sums (sum[k] += row[k]) use the shared row helper
export { addRow } from "./rows";

// @ts-ignore: decorator
@inline export function diagonalFirstRow(d: i32, width: i32): i32 {
  return max(0, d - width + 1);
}

// @ts-ignore: decorator
@inline export function diagonalLastRow(d: i32, height: i32): i32 {
  return min(d, height - 1);
}

// @ts-ignore: decorator
@inline export function rowPtr(base: usize, row: i32, rowFloats: i32): usize {
  return base + (<usize>row * <usize>rowFloats << 2);
}

/** offsets[d] = first skewed row of diagonal d, d <= H + W - 1 (the last entry is the total). */
export function diagonalOffsets(batch: i32, height: i32, width: i32, offsets: usize): void {
  let rows = 0;
  for (let d = 0; d < height + width - 1; d++) {
    store<i32>(offsets + (<usize>d << 2), rows);
    rows += (diagonalLastRow(d, height) - diagonalFirstRow(d, width) + 1) * batch;
  }
  store<i32>(offsets + (<usize>(height + width - 1) << 2), rows);
}

// dst[0..n) = src[0..n): rows are short (C or D floats), where a memory.copy call
// costs more than the copy.
// @ts-ignore: decorator
@inline export function copyRow(dst: usize, src: usize, n: i32): void {
  let k = 0;
  for (; k + 4 <= n; k += 4) v128.store(dst + (<usize>k << 2), v128.load(src + (<usize>k << 2)));
  for (; k < n; k++) store<f32>(dst + (<usize>k << 2), load<f32>(src + (<usize>k << 2)));
}

/**
 * Copy this thread's share of the rows of `rowFloats` between [B, H, W, F] order and the
 * skewed order (toSkewed: src is [B, H, W, F]); skewed rows are `skewedStride` floats
 * apart (>= rowFloats). Walks the source in order, so only the
 * writes are scattered (they do not stall like scattered reads): with per-row memory.copy
 * and skewed-order reads the conversions took 19% of a 128 x 128, hid-32 forward.
 */
export function skewRows(
  src: usize, dst: usize, rowFloats: i32, skewedStride: i32, toSkewed: bool,
  batch: i32, height: i32, width: i32, flipRows: bool, flipCols: bool, offsets: usize,
): void {
  const cells = batch * height * width;
  const first = teamShareStart(cells), end = teamShareEnd(cells);
  if (toSkewed) {
    for (let cell = first; cell < end; cell++) {
      const col = cell % width, row = (cell / width) % height, b = cell / (width * height);
      const i = flipRows ? height - 1 - row : row;
      const d = i + (flipCols ? width - 1 - col : col);
      const skewed = load<i32>(offsets + (<usize>d << 2)) + (i - diagonalFirstRow(d, width)) * batch + b;
      copyRow(rowPtr(dst, skewed, skewedStride), rowPtr(src, cell, rowFloats), rowFloats);
    }
  } else {
    // skewed rows [first, end): start at the diagonal holding `first`
    let d = 0;
    while (load<i32>(offsets + (<usize>(d + 1) << 2)) <= first) d++;
    let skewed = load<i32>(offsets + (<usize>d << 2));
    for (; d <= height + width - 2 && skewed < end; d++)
      for (let i = diagonalFirstRow(d, width); i <= diagonalLastRow(d, height); i++) {
        const row = flipRows ? height - 1 - i : i;
        const col = flipCols ? width - 1 - (d - i) : d - i;
        for (let b = 0; b < batch; b++, skewed++) {
          if (skewed < first || skewed >= end) continue;
          copyRow(rowPtr(dst, (b * height + row) * width + col, rowFloats), rowPtr(src, skewed, skewedStride), rowFloats);
        }
      }
  }
}

/**
 * c[r] (+)= a[r] @ Bpacked for this thread's rows r of [first, first + rows) of a block that
 * starts at `share0`, i.e. the intersection of the block with the thread's share [s0, s1).
 */
export function gemmShareOfBlock(
  s0: i32, s1: i32, first: i32, rows: i32, K: i32, N: i32,
  a: usize, packedB: usize, c: usize, accumulate: bool, packA: usize,
): void {
  const r0 = max(s0, first), r1 = min(s1, first + rows);
  if (r0 >= r1) return;
  gemmPacked(r1 - r0, N, K, rowPtr(a, r0 - first, K), K, 1, packedB, rowPtr(c, r0 - first, N), N, accumulate, packA);
}


/** Run job j of `jobs` small jobs on thread j % teamSize (packing the weights). */
// @ts-ignore: decorator
@inline export function mine(job: i32): bool {
  return job % teamSize() == teamThread();
}


// c[M, N] += a[M, K] @ b[K, N] for a long reduction (K = cells): B is packed one
// KC-row chunk at a time into `packedB` (gemmPackedBFloats(GEMM_KC, N) floats), so
// scratch stays small and each chunk is reused from L1/L2 by every A tile.
export function gemmAccumulateLongK(
  M: i32, N: i32, K: i32,
  a: usize, aRow: i32, aCol: i32,
  b: usize, bRow: i32, bCol: i32,
  c: usize, ldc: i32, packedB: usize, packA: usize,
): void {
  for (let k0 = 0; k0 < K; k0 += GEMM_KC) {
    const kc = min(GEMM_KC, K - k0);
    gemmPackB(kc, N, b + (<usize>k0 * <usize>bRow << 2), bRow, bCol, packedB);
    gemmPacked(M, N, kc, a + (<usize>k0 * <usize>aCol << 2), aRow, aCol, packedB, c, ldc, true, packA);
  }
}

