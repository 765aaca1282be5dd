// 2D-RNN scan: h[b,i,j] = act(wIn x[b,i,j] + wLeft h[b,i,j-1] + wTop h[b,i-1,j] + bias),
// h = 0 outside the grid, forward and backward, as a wavefront of GEMMs.
//
// Dimensions: B batch, H rows, W columns, C input channels, D hidden (hid).
// Layout of the arguments (row-major, strides in elements): x [B, H, W, C],
// h / dh [B, H, W, D], wIn [D, C], wLeft / wTop [D, D] (PyTorch nn.Linear layout:
// W @ v), bias [D]. A "cell" is one (b, i, j).
//
// Origins: the kernels scan in local coordinates (i, j) from the top-left and map
// them to memory with flipRows / flipCols (memory row = H-1-i when flipRows), so the
// "left" neighbour is the one nearer the origin's column, without flipped copies.
//
// Diagonal-major ("skewed") layout (helpers in assembly/wavefront.ts): cells on an anti-diagonal d = i + j depend only on
// diagonal d - 1, so the kernels keep per-cell rows (x, states, gradients) in scratch
// ordered by diagonal: diagonal d holds cells iLo(d) <= i <= iHi(d), row
// offsets[d] + (i - iLo(d)) * B + b. Then the left neighbours of a diagonal's cells
// are one contiguous block of rows of diagonal d-1, and so are the top neighbours
// (the same block shifted by B rows), and every step reads and writes contiguous
// memory. (In [B, H, W, D] order a diagonal's cells are (W-1)*D floats apart, and
// gathering them cost 44 vs 36 ms CPU per forward at B = 8, 128 x 128, hid = 32; 75 vs
// 67 ms per backward.) The arguments are converted once per call (skewRows),
// O(cells * (C + D)) copies against O(cells * D^2) of arithmetic.
//
// Forward:
//   1. S = skew(x) @ wIn^T + bias for every cell at once (one GEMM, M = B*H*W).
//   2. For each diagonal d: S[d, cells with a left neighbour] += S[d-1, their left
//      neighbours] @ wLeft^T and likewise with wTop^T: two GEMMs over all the
//      diagonal's cells and batch items that read their A operand in place and
//      accumulate into S; then S[d] = act(S[d]).
//   3. h = unskew(S).
// Backward (reverse wavefront, d from H+W-2 down to 0), G = skew(dh) on entry:
//   forward: pre[right] += wLeft h[cell], pre[below] += wTop h[cell], so
//   G[d, cells with a right neighbour] += G[d+1, right neighbours] @ wLeft (and wTop,
//   below), then G[d] *= act'(skew(h)[d]): G is dpre. Then the weight gradients as GEMMs
//   with K over cells: dwIn += G^T skew(x); per diagonal, dwLeft += G[d, cells with a
//   left neighbour]^T skew(h)[d-1, those neighbours], likewise dwTop; dbias += sum G;
//   dx = unskew(G @ wIn).
// Outputs: h and dx are written (=); dwIn, dwLeft, dwTop and dbias are accumulated (+=),
// so the caller zeroes them for a plain gradient.
// Scratch: a caller-owned buffer of rnn2d{Forward,Backward}ScratchFloats floats.
//
// Team (assembly/team.ts): every phase splits independent rows among the threads and
// ends at a barrier: the conversions split cells, step 1 and dx split rows, each
// diagonal splits its rows (its two GEMMs and activation: one barrier a diagonal), the
// weight gradients split the rows of dwIn / dwLeft / dwTop (each thread runs the whole
// reduction over cells, in order, for its rows) and dbias its columns. Every output is
// computed by one thread in the order a single thread would use: the same bits for
// any team.

import { GEMM_KC, gemmPackB, gemmPackedAFloats } from "./gemm";
import { packedBFloats, regionAt, teamScratchFloats, threadRegionAt } from "./layout";
import { activateRowInPlace, activationGradRowInPlace } from "./activation";
import { teamBarrier, teamShareEnd, teamShareStart, teamThread } from "./team";
import {
  addRow, diagonalFirstRow, diagonalLastRow, diagonalOffsets, gemmAccumulateLongK, gemmShareOfBlock, mine, rowPtr, skewRows,
} from "./wavefront";

// Scratch regions of both directions, in order (assembly/layout.ts); a region one
// direction does not use is empty there. Regions from R_TABLE on are each thread's own:
// R_TABLE holds its Rnn2dScratch pointer table.
const R_OFFSETS = 0, R_PACKED_LEFT = 1, R_PACKED_TOP = 2, R_PACKED_IN = 3, R_X_SKEWED = 4, R_STATES = 5, R_GRADS = 6,
  R_TABLE = 7, R_PACKED_CHUNK = 8, R_PACK_A = 9, R_REGIONS = 10;

/** The scratch of one call, as one thread sees it: pointers to its regions (in its region R_TABLE). */
@unmanaged class Rnn2dScratch {
  /** Diagonal offsets table, H + W i32. */
  offsets: usize;
  /** wLeft and wTop packed as GEMM B operands; the forward's wIn. */
  packedLeft: usize; packedTop: usize; packedIn: usize;
  /** x, and the states (forward) or h (backward), in the skewed layout. */
  xSkewed: usize; states: usize;
  /** The backward's gradient rows (skewed). */
  grads: usize;
  /** This thread's: the backward's KC-row chunks of x or h (or all of wIn), packed A. */
  packedChunk: usize; packA: usize;
}

/** Floats of one region (f64 so an absurd size cannot wrap); `backward` is 1 for the backward's layout. */
function regionFloats(region: i32, batch: i32, height: i32, width: i32, channels: i32, hidden: i32, backward: i32): f64 {
  const cells = <f64>batch * <f64>height * <f64>width;
  switch (region) {
    case R_OFFSETS: return <f64>height + <f64>width;
    case R_PACKED_LEFT: case R_PACKED_TOP: return packedBFloats(hidden, hidden);
    case R_PACKED_IN: return backward ? 0 : packedBFloats(channels, hidden);
    case R_X_SKEWED: return cells * channels;
    case R_STATES: return cells * hidden;
    case R_GRADS: return backward ? cells * hidden : 0;
    case R_TABLE: return <f64>((offsetof<Rnn2dScratch>() + 3) >> 2);
    case R_PACKED_CHUNK: return backward ? backwardPackedFloats(hidden, channels) : 0;
    case R_PACK_A: return <f64>gemmPackedAFloats();
  }
  return 0;
}

// The backward's packed-B buffer: KC-row chunks of x or h, or all of wIn.
// @ts-ignore: decorator
@inline function backwardPackedFloats(hidden: i32, channels: i32): f64 {
  return max(packedBFloats(GEMM_KC, max(hidden, channels)), packedBFloats(hidden, channels));
}

/** Lay out this thread's view of a call's scratch and return its pointer table. */
function layOut(scratch: usize, batch: i32, height: i32, width: i32, channels: i32, hidden: i32, backward: i32): Rnn2dScratch {
  const thread = teamThread();
  const t = changetype<Rnn2dScratch>(threadRegionAt(scratch, regionFloats, R_TABLE, R_REGIONS, R_TABLE, thread, batch, height, width, channels, hidden, backward));
  t.offsets = regionAt(scratch, regionFloats, R_OFFSETS, batch, height, width, channels, hidden, backward);
  t.packedLeft = regionAt(scratch, regionFloats, R_PACKED_LEFT, batch, height, width, channels, hidden, backward);
  t.packedTop = regionAt(scratch, regionFloats, R_PACKED_TOP, batch, height, width, channels, hidden, backward);
  t.packedIn = regionAt(scratch, regionFloats, R_PACKED_IN, batch, height, width, channels, hidden, backward);
  t.xSkewed = regionAt(scratch, regionFloats, R_X_SKEWED, batch, height, width, channels, hidden, backward);
  t.states = regionAt(scratch, regionFloats, R_STATES, batch, height, width, channels, hidden, backward);
  t.grads = regionAt(scratch, regionFloats, R_GRADS, batch, height, width, channels, hidden, backward);
  t.packedChunk = threadRegionAt(scratch, regionFloats, R_TABLE, R_REGIONS, R_PACKED_CHUNK, thread, batch, height, width, channels, hidden, backward);
  t.packA = threadRegionAt(scratch, regionFloats, R_TABLE, R_REGIONS, R_PACK_A, thread, batch, height, width, channels, hidden, backward);
  return t;
}

/** Floats of scratch rnn2dForward needs on `threads` threads (f64 so an absurd size cannot wrap). */
export function rnn2dForwardScratchFloats(batch: i32, height: i32, width: i32, channels: i32, hidden: i32, threads: i32): f64 {
  return teamScratchFloats(regionFloats, R_TABLE, R_REGIONS, threads, batch, height, width, channels, hidden, 0);
}

/** Floats of scratch rnn2dBackward needs on `threads` threads (f64 so an absurd size cannot wrap). */
export function rnn2dBackwardScratchFloats(batch: i32, height: i32, width: i32, channels: i32, hidden: i32, threads: i32): f64 {
  return teamScratchFloats(regionFloats, R_TABLE, R_REGIONS, threads, batch, height, width, channels, hidden, 1);
}

/** Forward scan; h [B, H, W, D] is written. See the file header. bias == 0: no bias. */
export function rnn2dForward(
  batch: i32, height: i32, width: i32, channels: i32, hidden: i32,
  x: usize, wIn: usize, wLeft: usize, wTop: usize, bias: usize,
  activation: i32, flipRows: bool, flipCols: bool,
  h: usize, scratch: usize,
): void {
  const cells = batch * height * width;
  const t = layOut(scratch, batch, height, width, channels, hidden, 0);
  const offsets = t.offsets, packedIn = t.packedIn, packedLeft = t.packedLeft, packedTop = t.packedTop;
  const xSkewed = t.xSkewed, states = t.states, packA = t.packA;

  if (teamThread() == 0) diagonalOffsets(batch, height, width, offsets);
  // B operands wIn^T, wLeft^T and wTop^T: B[k, n] = w[n, k]
  if (mine(0)) gemmPackB(channels, hidden, wIn, 1, channels, packedIn);
  if (mine(1)) gemmPackB(hidden, hidden, wLeft, 1, hidden, packedLeft);
  if (mine(2)) gemmPackB(hidden, hidden, wTop, 1, hidden, packedTop);
  teamBarrier();
  skewRows(x, xSkewed, channels, channels, true, batch, height, width, flipRows, flipCols, offsets);
  teamBarrier();

  // 1. S[cell] = bias + wIn x[cell] for this thread's rows
  const r0 = teamShareStart(cells), r1 = teamShareEnd(cells);
  if (bias != 0) {
    for (let row = r0; row < r1; row++) memory.copy(rowPtr(states, row, hidden), bias, <usize>hidden << 2);
  }
  gemmShareOfBlock(r0, r1, 0, cells, channels, hidden, xSkewed, packedIn, states, bias != 0, packA);
  teamBarrier();

  // 2. the wavefront: each diagonal's rows split among the threads
  for (let d = 0; d <= height + width - 2; d++) {
    const iLo = diagonalFirstRow(d, width), iHi = diagonalLastRow(d, height);
    const here = load<i32>(offsets + (<usize>d << 2));
    const rows = (iHi - iLo + 1) * batch;
    const s0 = teamShareStart(rows), s1 = teamShareEnd(rows);
    const block = rowPtr(states, here, hidden);
    if (d > 0) {
      const pLo = diagonalFirstRow(d - 1, width), pHi = diagonalLastRow(d - 1, height);
      const prev = load<i32>(offsets + (<usize>(d - 1) << 2));
      // left of (i, j) is (i, j-1) on d-1: cells iLo..min(iHi, pHi) (the cell in column 0 has none)
      const withLeft = (min(iHi, pHi) - iLo + 1) * batch;
      gemmShareOfBlock(s0, s1, 0, withLeft, hidden, hidden, rowPtr(states, prev + (iLo - pLo) * batch, hidden), packedLeft, block, true, packA);
      // top of (i, j) is (i-1, j) on d-1: cells max(iLo, 1)..iHi (the cell in row 0 has none)
      const firstWithTop = (max(iLo, 1) - iLo) * batch;
      gemmShareOfBlock(
        s0, s1, firstWithTop, rows - firstWithTop, hidden, hidden, rowPtr(states, prev + (max(iLo, 1) - 1 - pLo) * batch, hidden),
        packedTop, rowPtr(block, firstWithTop, hidden), true, packA,
      );
    }
    if (s1 > s0) activateRowInPlace(rowPtr(block, s0, hidden), (s1 - s0) * hidden, activation);
    teamBarrier();
  }

  // 3. back to [B, H, W, D]
  skewRows(states, h, hidden, hidden, false, batch, height, width, flipRows, flipCols, offsets);
}

/**
 * Backward scan. Needs the forward's h. Writes dx [B, H, W, C]; accumulates dwIn [D, C],
 * dwLeft and dwTop [D, D] and dbias [D]. See the file header.
 */
export function rnn2dBackward(
  batch: i32, height: i32, width: i32, channels: i32, hidden: i32,
  x: usize, wIn: usize, wLeft: usize, wTop: usize, h: usize, dh: usize,
  activation: i32, flipRows: bool, flipCols: bool,
  dx: usize, dwIn: usize, dwLeft: usize, dwTop: usize, dbias: usize, scratch: usize,
): void {
  const cells = batch * height * width;
  const t = layOut(scratch, batch, height, width, channels, hidden, 1);
  const offsets = t.offsets, packedLeft = t.packedLeft, packedTop = t.packedTop, packedChunk = t.packedChunk;
  const xSkewed = t.xSkewed, hSkewed = t.states, grads = t.grads, packA = t.packA;

  if (teamThread() == 0) diagonalOffsets(batch, height, width, offsets);
  // B operands wLeft and wTop as stored: B[k, n] = w[k, n]
  if (mine(0)) gemmPackB(hidden, hidden, wLeft, hidden, 1, packedLeft);
  if (mine(1)) gemmPackB(hidden, hidden, wTop, hidden, 1, packedTop);
  teamBarrier();
  skewRows(x, xSkewed, channels, channels, true, batch, height, width, flipRows, flipCols, offsets);
  skewRows(h, hSkewed, hidden, hidden, true, batch, height, width, flipRows, flipCols, offsets);
  skewRows(dh, grads, hidden, hidden, true, batch, height, width, flipRows, flipCols, offsets);
  teamBarrier();

  for (let d = height + width - 2; d >= 0; d--) {
    const iLo = diagonalFirstRow(d, width), iHi = diagonalLastRow(d, height);
    const here = load<i32>(offsets + (<usize>d << 2));
    const rows = (iHi - iLo + 1) * batch;
    const s0 = teamShareStart(rows), s1 = teamShareEnd(rows);
    const block = rowPtr(grads, here, hidden);
    if (d < height + width - 2) {
      const nLo = diagonalFirstRow(d + 1, width);
      const next = load<i32>(offsets + (<usize>(d + 1) << 2));
      // right of (i, j) is (i, j+1) on d+1, for cells max(iLo, nLo)..iHi (not in the last column)
      const firstWithRight = (max(iLo, nLo) - iLo) * batch;
      gemmShareOfBlock(
        s0, s1, firstWithRight, rows - firstWithRight, hidden, hidden, rowPtr(grads, next + (max(iLo, nLo) - nLo) * batch, hidden),
        packedLeft, rowPtr(block, firstWithRight, hidden), true, packA,
      );
      // below (i, j) is (i+1, j) on d+1, for cells iLo..min(iHi, H-2) (not in the last row)
      const withBelow = (min(iHi, height - 2) - iLo + 1) * batch;
      gemmShareOfBlock(s0, s1, 0, withBelow, hidden, hidden, rowPtr(grads, next + (iLo + 1 - nLo) * batch, hidden), packedTop, block, true, packA);
    }
    // dpre = (dh + the two products) * act'(h), in place
    if (s1 > s0) activationGradRowInPlace(rowPtr(block, s0, hidden), rowPtr(hSkewed, here + s0, hidden), (s1 - s0) * hidden, activation);
    teamBarrier();
  }

  // dbias[n] += sum_cell dpre[cell, n]: this thread's columns, every row in order
  const n0 = teamShareStart(hidden), n1 = teamShareEnd(hidden);
  for (let row = 0; row < cells; row++) addRow(dbias + (<usize>n0 << 2), rowPtr(grads, row, hidden) + (<usize>n0 << 2), n1 - n0);
  // dwIn[n, c] += sum_cell dpre[cell, n] x[cell, c] for this thread's rows n: A = dpre^T (both skewed alike)
  gemmAccumulateLongK(
    n1 - n0, channels, cells, grads + (<usize>n0 << 2), 1, hidden, xSkewed, channels, 1, dwIn + (<usize>(n0 * channels) << 2),
    channels, packedChunk, packA,
  );
  // dwLeft[n, k] += sum dpre[cell, n] h[left(cell), k], dwTop likewise, for this thread's rows n:
  // per diagonal, the cells with a left (top) neighbour and those neighbours are contiguous blocks
  for (let d = 1; d <= height + width - 2; d++) {
    const iLo = diagonalFirstRow(d, width), iHi = diagonalLastRow(d, height);
    const pLo = diagonalFirstRow(d - 1, width), pHi = diagonalLastRow(d - 1, height);
    const here = load<i32>(offsets + (<usize>d << 2)), prev = load<i32>(offsets + (<usize>(d - 1) << 2));
    gemmAccumulateLongK(
      n1 - n0, hidden, (min(iHi, pHi) - iLo + 1) * batch, rowPtr(grads, here, hidden) + (<usize>n0 << 2), 1, hidden,
      rowPtr(hSkewed, prev + (iLo - pLo) * batch, hidden), hidden, 1, dwLeft + (<usize>(n0 * hidden) << 2), hidden, packedChunk, packA,
    );
    const firstWithTop = max(iLo, 1);
    gemmAccumulateLongK(
      n1 - n0, hidden, (iHi - firstWithTop + 1) * batch, rowPtr(grads, here + (firstWithTop - iLo) * batch, hidden) + (<usize>n0 << 2), 1, hidden,
      rowPtr(hSkewed, prev + (firstWithTop - 1 - pLo) * batch, hidden), hidden, 1, dwTop + (<usize>(n0 * hidden) << 2), hidden, packedChunk, packA,
    );
  }
  // every thread is done reading x (dwIn) before dx overwrites it
  teamBarrier();
  // dx[cell, c] = sum_n dpre[cell, n] wIn[n, c] for this thread's rows, computed skewed into xSkewed
  gemmPackB(hidden, channels, wIn, channels, 1, packedChunk);
  const r0 = teamShareStart(cells), r1 = teamShareEnd(cells);
  gemmShareOfBlock(r0, r1, 0, cells, hidden, channels, grads, packedChunk, xSkewed, false, packA);
  teamBarrier();
  skewRows(xSkewed, dx, channels, channels, false, batch, height, width, flipRows, flipCols, offsets);
}
