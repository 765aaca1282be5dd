// 2D-RNN scan: h[b,i,j] = act(wIn x[b,i,j] + wLeft h[b,i,j-1] + wTop h[b,i-1,j] + bias),
// h = 0 outside the grid, forward and backward, as a wavefront of GEMMs.
//
// Dimensions: B batch, H rows, W columns, C input channels, D hidden (hid).
// Layout (row-major, strides in elements): x [B, H, W, C], h / dh / dpre [B, H, W, D],
// wIn [D, C], wLeftTop [2, D, D] (wLeft then wTop, PyTorch nn.Linear layout: W @ v),
// bias [D]. A "cell" is one (b, i, j); its row of h starts at cell * D.
//
// Origins: the kernels scan in local coordinates (i, j) from the top-left and map
// them to memory with flipRows / flipCols (memory row = H-1-i when flipRows), so the
// "left" neighbour is the one nearer the origin's column without copying flipped
// tensors (mapping the index is free; flipping x, h, dh, dx cost 4 extra passes).
//
// Forward:
//   1. P = x @ wIn^T + bias for every cell at once, written into h (one GEMM, M = B*H*W).
//   2. Cells on an anti-diagonal d = i + j depend only on diagonal d - 1, so for each d
//      gather A[r] = [h_left | h_top] (zeros at the border) for all its cells and batch
//      items, G = A @ [wLeft^T; wTop^T] (one GEMM, K = 2D, weights packed once per call),
//      then h[cell] = act(P[cell] + G[r]) in place.
// Backward (reverse wavefront, d from H+W-2 down to 0):
//   dpre[cell] = (dh[cell] + wLeft^T dpre[right] + wTop^T dpre[below]) * act'(h[cell]),
//   the two products as one GEMM of [dpre_right | dpre_below] with [wLeft; wTop].
//   Then every weight gradient is one GEMM over all cells (K = B*H*W):
//   dwIn += dpre^T x, dwLeft += dpre^T h(left neighbour), dwTop += dpre^T h(top neighbour),
//   dbias += sum dpre, dx = dpre @ wIn.
// Outputs: h and dx are written (=); dwIn, dwLeftTop and dbias are accumulated (+=),
// so the caller zeroes them for a plain gradient.
// Scratch: a caller-owned buffer of rnn2d{Forward,Backward}ScratchFloats floats.

import { GEMM_KC, gemmPackB, gemmPacked, gemmPackedAFloats } from "./gemm";
import { lineFloats, packedBFloats } from "./scratch";
import { activateRow, activationGradRow } from "./activation";

/** Rows of the largest anti-diagonal GEMM: every batch item of the longest diagonal. */
function wavefrontRows(batch: i32, height: i32, width: i32): i32 {
  return batch * min(height, width);
}

// Memory cell of local (b, i, j) for the scan origin encoded by flipRows / flipCols.
// @ts-ignore: decorator
@inline function cellOf(b: i32, i: i32, j: i32, height: i32, width: i32, flipRows: bool, flipCols: bool): i32 {
  const row = flipRows ? height - 1 - i : i;
  const col = flipCols ? width - 1 - j : j;
  return (b * height + row) * width + col;
}

// @ts-ignore: decorator
@inline function rowPtr(base: usize, cell: i32, rowFloats: i32): usize {
  return base + (<usize>cell * <usize>rowFloats << 2);
}

/** Floats of scratch rnn2dForward needs (f64 so an absurd size cannot wrap). */
export function rnn2dForwardScratchFloats(batch: i32, height: i32, width: i32, channels: i32, hidden: i32): f64 {
  const rows = <f64>wavefrontRows(batch, height, width);
  return (
    lineFloats(packedBFloats(channels, hidden)) +
    lineFloats(<f64>hidden * 2 * hidden) +
    lineFloats(packedBFloats(2 * hidden, hidden)) +
    lineFloats(rows * 2 * hidden) +
    lineFloats(rows * hidden) +
    lineFloats(<f64>gemmPackedAFloats())
  );
}

/** Forward scan; h [B, H, W, D] is written. See the file header. bias == 0: no bias. */
export function rnn2dForward(
  batch: i32, height: i32, width: i32, channels: i32, hidden: i32,
  x: usize, wIn: usize, wLeftTop: usize, bias: usize,
  activation: i32, flipRows: bool, flipCols: bool,
  h: usize, scratch: usize,
): void {
  const cells = batch * height * width;
  const rowsMax = wavefrontRows(batch, height, width);
  const k2 = 2 * hidden;
  const packedIn = scratch;
  const catWeights = packedIn + (<usize>lineFloats(packedBFloats(channels, hidden)) << 2);
  const packedRec = catWeights + (<usize>lineFloats(<f64>hidden * k2) << 2);
  const gathered = packedRec + (<usize>lineFloats(packedBFloats(k2, hidden)) << 2);
  const product = gathered + (<usize>lineFloats(<f64>rowsMax * k2) << 2);
  const packA = product + (<usize>lineFloats(<f64>rowsMax * hidden) << 2);
  const hiddenBytes = <usize>hidden << 2;

  // 1. h[cell] = bias + wIn x[cell]: B[c, n] = wIn[n, c] read through strides
  gemmPackB(channels, hidden, wIn, 1, channels, packedIn);
  if (bias != 0) {
    for (let cell = 0; cell < cells; cell++) memory.copy(rowPtr(h, cell, hidden), bias, hiddenBytes);
  }
  gemmPacked(cells, hidden, channels, x, channels, 1, packedIn, h, hidden, bias != 0, packA);

  // [wLeft | wTop] row n = wLeft[n, :] ++ wTop[n, :]; its transpose is the [2D, D] B operand
  for (let n = 0; n < hidden; n++) {
    const dst = catWeights + (<usize>(n * k2) << 2);
    memory.copy(dst, wLeftTop + (<usize>(n * hidden) << 2), hiddenBytes);
    memory.copy(dst + hiddenBytes, wLeftTop + (<usize>((hidden + n) * hidden) << 2), hiddenBytes);
  }
  gemmPackB(k2, hidden, catWeights, 1, k2, packedRec);

  // 2. the wavefront: diagonal d = i + j
  for (let d = 0; d <= height + width - 2; d++) {
    const iLo = max(0, d - width + 1), iHi = min(d, height - 1);
    // A[r] = [h_left | h_top], r = b * cells + (i - iLo): batch-major, so each batch item's
    // cells are one constant-stride stream ((W-1)*D floats apart) the prefetcher follows
    let r = 0;
    for (let b = 0; b < batch; b++) {
      for (let i = iLo; i <= iHi; i++) {
        const j = d - i;
        const aRow = gathered + (<usize>(r * k2) << 2);
        if (j > 0) memory.copy(aRow, rowPtr(h, cellOf(b, i, j - 1, height, width, flipRows, flipCols), hidden), hiddenBytes);
        else memory.fill(aRow, 0, hiddenBytes);
        if (i > 0) memory.copy(aRow + hiddenBytes, rowPtr(h, cellOf(b, i - 1, j, height, width, flipRows, flipCols), hidden), hiddenBytes);
        else memory.fill(aRow + hiddenBytes, 0, hiddenBytes);
        r++;
      }
    }
    // G = A @ [wLeft^T; wTop^T]; h[cell] = act(P[cell] + G[r])
    gemmPacked(r, hidden, k2, gathered, k2, 1, packedRec, product, hidden, false, packA);
    r = 0;
    for (let b = 0; b < batch; b++) {
      for (let i = iLo; i <= iHi; i++) {
        const j = d - i;
        const hRow = rowPtr(h, cellOf(b, i, j, height, width, flipRows, flipCols), hidden);
        activateRow(hRow, hRow, product + (<usize>(r * hidden) << 2), hidden, activation);
        r++;
      }
    }
  }
}

// The backward's second packed-B buffer: KC-row chunks of x or h, or all of wIn.
function backwardPackedFloats(hidden: i32, channels: i32): f64 {
  return max(packedBFloats(GEMM_KC, max(hidden, channels)), packedBFloats(hidden, channels));
}

/** Floats of scratch rnn2dBackward needs (f64 so an absurd size cannot wrap). */
export function rnn2dBackwardScratchFloats(batch: i32, height: i32, width: i32, channels: i32, hidden: i32): f64 {
  const rows = <f64>wavefrontRows(batch, height, width);
  const cells = <f64>batch * <f64>height * <f64>width;
  return (
    lineFloats(cells * hidden) +
    lineFloats(packedBFloats(2 * hidden, hidden)) +
    lineFloats(rows * 2 * hidden) +
    lineFloats(rows * hidden) +
    lineFloats(backwardPackedFloats(hidden, channels)) +
    lineFloats(<f64>gemmPackedAFloats())
  );
}

// c[M, N] += a[M, K] @ b[K, N] for a long reduction (K = cells): B is packed one
// KC-row chunk at a time into `packedB` (gemmPackedBFloats(GEMM_KC, N) floats), so
// scratch stays small and each chunk is reused from L1/L2 by every A tile.
function gemmAccumulateLongK(
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

/**
 * Backward scan. Needs the forward's h. Writes dx [B, H, W, C]; accumulates dwIn [D, C],
 * dwLeftTop [2, D, D] (dwLeft then dwTop) and dbias [D]. See the file header.
 */
export function rnn2dBackward(
  batch: i32, height: i32, width: i32, channels: i32, hidden: i32,
  x: usize, wIn: usize, wLeftTop: usize, h: usize, dh: usize,
  activation: i32, flipRows: bool, flipCols: bool,
  dx: usize, dwIn: usize, dwLeftTop: usize, dbias: usize, scratch: usize,
): void {
  const cells = batch * height * width;
  const rowsMax = wavefrontRows(batch, height, width);
  const k2 = 2 * hidden;
  const dpre = scratch;
  const packedRecT = dpre + (<usize>lineFloats(<f64>cells * hidden) << 2);
  const gathered = packedRecT + (<usize>lineFloats(packedBFloats(k2, hidden)) << 2);
  const product = gathered + (<usize>lineFloats(<f64>rowsMax * k2) << 2);
  const packedChunk = product + (<usize>lineFloats(<f64>rowsMax * hidden) << 2);
  const packA = packedChunk + (<usize>lineFloats(backwardPackedFloats(hidden, channels)) << 2);
  const hiddenBytes = <usize>hidden << 2;

  // [wLeft; wTop] as stored is the [2D, D] B operand of the reverse step
  gemmPackB(k2, hidden, wLeftTop, hidden, 1, packedRecT);

  // forward: pre[i,j] = ... + wLeft h[i,j-1] + wTop h[i-1,j], so h[i,j] feeds the cells right and below
  for (let d = height + width - 2; d >= 0; d--) {
    const iLo = max(0, d - width + 1), iHi = min(d, height - 1);
    let r = 0;
    for (let b = 0; b < batch; b++) {
      for (let i = iLo; i <= iHi; i++) {
        const j = d - i;
        const aRow = gathered + (<usize>(r * k2) << 2);
        if (j + 1 < width) memory.copy(aRow, rowPtr(dpre, cellOf(b, i, j + 1, height, width, flipRows, flipCols), hidden), hiddenBytes);
        else memory.fill(aRow, 0, hiddenBytes);
        if (i + 1 < height) memory.copy(aRow + hiddenBytes, rowPtr(dpre, cellOf(b, i + 1, j, height, width, flipRows, flipCols), hidden), hiddenBytes);
        else memory.fill(aRow + hiddenBytes, 0, hiddenBytes);
        r++;
      }
    }
    // G = [dpre_right | dpre_below] @ [wLeft; wTop]; dpre[cell] = (dh[cell] + G[r]) * act'(h[cell])
    gemmPacked(r, hidden, k2, gathered, k2, 1, packedRecT, product, hidden, false, packA);
    r = 0;
    for (let b = 0; b < batch; b++) {
      for (let i = iLo; i <= iHi; i++) {
        const j = d - i;
        const cell = cellOf(b, i, j, height, width, flipRows, flipCols);
        activationGradRow(
          rowPtr(dpre, cell, hidden), rowPtr(dh, cell, hidden), product + (<usize>(r * hidden) << 2),
          rowPtr(h, cell, hidden), hidden, activation,
        );
        r++;
      }
    }
  }

  // dbias[n] += sum_cell dpre[cell, n]
  for (let cell = 0; cell < cells; cell++) addRow(dbias, rowPtr(dpre, cell, hidden), hidden);
  // dwIn[n, c] += sum_cell dpre[cell, n] x[cell, c]: A = dpre^T
  gemmAccumulateLongK(hidden, channels, cells, dpre, 1, hidden, x, channels, 1, dwIn, channels, packedChunk, packA);
  // dx[cell, c] = sum_n dpre[cell, n] wIn[n, c]
  gemmPackB(hidden, channels, wIn, channels, 1, packedChunk);
  gemmPacked(cells, channels, hidden, dpre, hidden, 1, packedChunk, dx, channels, false, packA);

  // dwTop[n, k] += sum dpre[cell, n] h[top(cell), k]. Within one batch item the cells
  // with a top neighbour are one contiguous run, and so are their neighbours (W cells
  // before, or after when flipRows), so each batch item is one GEMM.
  const dwLeft = dwLeftTop, dwTop = dwLeftTop + (<usize>(hidden * hidden) << 2);
  const run = (height - 1) * width;
  for (let b = 0; b < batch && run > 0; b++) {
    const first = b * height * width;
    const dpreStart = flipRows ? first : first + width;
    const hStart = flipRows ? first + width : first;
    gemmAccumulateLongK(
      hidden, hidden, run, rowPtr(dpre, dpreStart, hidden), 1, hidden,
      rowPtr(h, hStart, hidden), hidden, 1, dwTop, hidden, packedChunk, packA,
    );
  }

  // dwLeft[n, k] += sum dpre[cell, n] h[left(cell), k]. The left neighbour is always one
  // cell before (after, when flipCols), so after zeroing dpre on the origin's column
  // (cells that have no left neighbour, and would pair with the previous row's end)
  // all of it is one GEMM over B*H*W - 1 cells. dpre is not needed after this.
  if (width > 1 && cells > 0) {
    const originCol = flipCols ? width - 1 : 0;
    for (let row = 0; row < batch * height; row++) memory.fill(rowPtr(dpre, row * width + originCol, hidden), 0, hiddenBytes);
    gemmAccumulateLongK(
      hidden, hidden, cells - 1, rowPtr(dpre, flipCols ? 0 : 1, hidden), 1, hidden,
      rowPtr(h, flipCols ? 1 : 0, hidden), hidden, 1, dwLeft, hidden, packedChunk, packA,
    );
  }
}

// sum[k] += row[k], k < n
function addRow(sum: usize, row: usize, n: i32): void {
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const offset = <usize>k << 2;
    v128.store(sum + offset, f32x4.add(v128.load(sum + offset), v128.load(row + offset)));
  }
  for (; k < n; k++) {
    const offset = <usize>k << 2;
    store<f32>(sum + offset, load<f32>(sum + offset) + load<f32>(row + offset));
  }
}
