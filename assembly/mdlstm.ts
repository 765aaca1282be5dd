// MD-LSTM scan (Graves, Fernández & Schmidhuber 2007; two forget gates), forward and
// backward, as a wavefront of GEMMs like the plain cell (assembly/rnn2d.ts):
//   z = wIn x[b,i,j] + wLeft h[b,i,j-1] + wTop h[b,i-1,j] + bias          (5D gate rows)
//   i = σ(z_i), fl = σ(z_fl), ft = σ(z_ft), g = tanh(z_g), o = σ(z_o)
//   c[b,i,j] = i⊙g + fl⊙c[b,i,j-1] + ft⊙c[b,i-1,j],   h[b,i,j] = o⊙tanh(c[b,i,j])
// h = c = 0 outside the grid.
//
// Dimensions: B batch, H rows, W columns, C input channels, D hidden (hid), G = 5D gate
// rows in the order (i, f_left, f_top, g, o). Layout (row-major, strides in elements):
// x [B, H, W, C]; h, c, dh, dc [B, H, W, D]; wIn [G, C], wLeft / wTop [G, D] (PyTorch
// nn.Linear layout), bias [G]. Origins flip rows / columns as in rnn2d.ts.
//
// Forward: for each diagonal d (skewed layout, assembly/wavefront.ts), the gate
// pre-activations of its cells are three GEMMs into a one-diagonal buffer Z (x @ wIn^T
// plus bias, then the left and the top neighbours' h @ wLeft^T / wTop^T), then the cell
// (lstmCellForward) turns each Z row and the neighbours' c into the cell's c and h.
//
// Backward: h and c are given, so the gates need no wavefront: Z is recomputed for
// every cell at once (per diagonal, no barrier between diagonals), or taken from the
// forward when it saved them (`gates`: a third of the backward's flops, for 5D floats a cell). Then the reverse
// wavefront, G[d] holding dL/dh accumulated so far (skew(dh) on entry):
//   forward: z[right] += wLeft h[cell], z[below] += wTop h[cell], so
//   G[d, cells with a right neighbour] += dz[d+1, right neighbours] @ wLeft (and wTop);
//   forward: c[right] += fl[right] c[cell], c[below] += ft[below] c[cell], so the cell's
//   dc total adds dc_pass[right].toLeft = (fl ⊙ dc)[right] and dc_pass[below].toTop;
// then lstmCellBackward turns each row's Z into dz (in place) and writes the cell's
// dc_pass. The weight gradients are GEMMs with K over cells as in rnn2d.ts, with dz in
// place of dpre; dx = dz @ wIn.
// Outputs: h, c and dx are written (=); dwIn, dwLeft, dwTop and dbias accumulate (+=).
// Scratch: caller-owned, mdlstm{Forward,Backward}ScratchFloats floats.
//
// Team: as rnn2d.ts (one barrier per diagonal; each output computed by one thread in a
// fixed order: the same bits for any team).

import { GEMM_KC, gemmPackB, gemmPackedAFloats } from "./gemm";
import { packedBFloats, regionAt, teamScratchFloats, threadRegionAt } from "./layout";
import { tanhF32x4 } from "./activation";
import { expF32x4 } from "./exp_f32x4";
import { loadLanesF32x4, storeLanesF32x4 } from "./simd";
import { teamBarrier, teamShareEnd, teamShareStart, teamThread } from "./team";
import {
  addRow, copyRow, diagonalFirstRow, diagonalLastRow, diagonalOffsets, gemmAccumulateLongK, gemmShareOfBlock, mine, rowPtr, skewRows,
} from "./wavefront";

// Scratch regions of both directions, in order (assembly/layout.ts); a region one
// direction does not use is empty there. Regions from R_TABLE on are each thread's own.
const R_OFFSETS = 0, R_PACKED_IN = 1, R_PACKED_LEFT = 2, R_PACKED_TOP = 3, R_PACKED_LEFT_T = 4, R_PACKED_TOP_T = 5,
  R_ZERO = 6, R_X = 7, R_GATES = 8, R_H = 9, R_C = 10, R_DH = 11, R_PASS = 12,
  R_TABLE = 13, R_PACKED_CHUNK = 14, R_PACK_A = 15, R_REGIONS = 16;

/** The scratch of one call, as one thread sees it (in its region R_TABLE). */
@unmanaged class MdlstmScratch {
  /** Diagonal offsets table, H + W i32. */
  offsets: usize;
  /** wIn^T, wLeft^T and wTop^T packed as GEMM B operands (the gates); wLeft and wTop as stored (the backward's dh). */
  packedIn: usize; packedLeft: usize; packedTop: usize; packedLeftT: usize; packedTopT: usize;
  /** D zeros: the c, dc and dc_pass rows of cells outside the grid. */
  zero: usize;
  /** Skewed rows: x, gate pre-activations (forward: one diagonal; backward: every cell, then dz), h, c. */
  x: usize; gates: usize; h: usize; c: usize;
  /** Backward, skewed: dL/dh accumulated; dc_pass (2D a cell: toLeft, toTop; dc on entry in toLeft). */
  dh: usize; pass: usize;
  /** This thread's: the backward's packed B chunks, packed A. */
  packedChunk: usize; packA: usize;
}

/** Floats of one region (f64 so an absurd size cannot wrap); `backward` is 1 for the backward's layout. */
function regionFloats(region: i32, batch: i32, height: i32, width: i32, channels: i32, hidden: i32, backward: i32): f64 {
  const cells = <f64>batch * <f64>height * <f64>width;
  const gates = 5 * <f64>hidden;
  switch (region) {
    case R_OFFSETS: return <f64>height + <f64>width;
    case R_PACKED_IN: return packedBFloats(channels, gates);
    case R_PACKED_LEFT: case R_PACKED_TOP: return packedBFloats(hidden, gates);
    case R_PACKED_LEFT_T: case R_PACKED_TOP_T: return backward ? packedBFloats(gates, hidden) : 0;
    case R_ZERO: return <f64>hidden;
    case R_X: return cells * channels;
    // the forward needs one diagonal's gates at a time (at most min(H, W) * B rows)
    case R_GATES: return (backward ? cells : <f64>min(height, width) * <f64>batch) * gates;
    case R_H: case R_C: return cells * hidden;
    case R_DH: return backward ? cells * hidden : 0;
    case R_PASS: return backward ? 2 * cells * hidden : 0;
    case R_TABLE: return <f64>((offsetof<MdlstmScratch>() + 3) >> 2);
    case R_PACKED_CHUNK: return backward ? max(packedBFloats(GEMM_KC, max(hidden, channels)), packedBFloats(gates, channels)) : 0;
    case R_PACK_A: return <f64>gemmPackedAFloats();
  }
  return 0;
}

/** Lay out this thread's view of a call's scratch and return its pointer table. */
function layOut(scratch: usize, batch: i32, height: i32, width: i32, channels: i32, hidden: i32, backward: i32): MdlstmScratch {
  const thread = teamThread();
  const t = changetype<MdlstmScratch>(threadRegionAt(scratch, regionFloats, R_TABLE, R_REGIONS, R_TABLE, thread, batch, height, width, channels, hidden, backward));
  t.offsets = regionAt(scratch, regionFloats, R_OFFSETS, batch, height, width, channels, hidden, backward);
  t.packedIn = regionAt(scratch, regionFloats, R_PACKED_IN, batch, height, width, channels, hidden, backward);
  t.packedLeft = regionAt(scratch, regionFloats, R_PACKED_LEFT, batch, height, width, channels, hidden, backward);
  t.packedTop = regionAt(scratch, regionFloats, R_PACKED_TOP, batch, height, width, channels, hidden, backward);
  t.packedLeftT = regionAt(scratch, regionFloats, R_PACKED_LEFT_T, batch, height, width, channels, hidden, backward);
  t.packedTopT = regionAt(scratch, regionFloats, R_PACKED_TOP_T, batch, height, width, channels, hidden, backward);
  t.zero = regionAt(scratch, regionFloats, R_ZERO, batch, height, width, channels, hidden, backward);
  t.x = regionAt(scratch, regionFloats, R_X, batch, height, width, channels, hidden, backward);
  t.gates = regionAt(scratch, regionFloats, R_GATES, batch, height, width, channels, hidden, backward);
  t.h = regionAt(scratch, regionFloats, R_H, batch, height, width, channels, hidden, backward);
  t.c = regionAt(scratch, regionFloats, R_C, batch, height, width, channels, hidden, backward);
  t.dh = regionAt(scratch, regionFloats, R_DH, batch, height, width, channels, hidden, backward);
  t.pass = regionAt(scratch, regionFloats, R_PASS, batch, height, width, channels, hidden, backward);
  t.packedChunk = threadRegionAt(scratch, regionFloats, R_TABLE, R_REGIONS, R_PACKED_CHUNK, thread, batch, height, width, channels, hidden, backward);
  t.packA = threadRegionAt(scratch, regionFloats, R_TABLE, R_REGIONS, R_PACK_A, thread, batch, height, width, channels, hidden, backward);
  return t;
}

/** Floats of scratch mdlstmForward needs on `threads` threads (f64 so an absurd size cannot wrap). */
export function mdlstmForwardScratchFloats(batch: i32, height: i32, width: i32, channels: i32, hidden: i32, threads: i32): f64 {
  return teamScratchFloats(regionFloats, R_TABLE, R_REGIONS, threads, batch, height, width, channels, hidden, 0);
}

/** Floats of scratch mdlstmBackward needs on `threads` threads (f64 so an absurd size cannot wrap). */
export function mdlstmBackwardScratchFloats(batch: i32, height: i32, width: i32, channels: i32, hidden: i32, threads: i32): f64 {
  return teamScratchFloats(regionFloats, R_TABLE, R_REGIONS, threads, batch, height, width, channels, hidden, 1);
}

// Gate nonlinearities. σ(z) = 1 / (1 + e^-z) and σ'(z) = e^-z σ(z)^2, tanh'(z) =
// 4 e^-2z / (1 + e^-2z)^2: one exp each, accurate relative to the value in both tails.
// (0.5 + 0.5 tanh(z/2) and σ(1 - σ) lose σ' to cancellation where σ rounds to 1: it
// came out ~1e-7 instead of ~0, which a 3e38 weight fed back as 1e30 gradients.)
// tanh itself is the rational approximation of assembly/activation.ts (accurate near 0).

/** e^-z lane-wise. */
// @ts-ignore: decorator
@inline function expNeg(z: v128): v128 {
  return expF32x4(f32x4.neg(z));
}

/** σ(z) from e = e^-z. */
// @ts-ignore: decorator
@inline function sigmoidOf(e: v128): v128 {
  const one = f32x4.splat(1);
  return f32x4.div(one, f32x4.add(one, e));
}

/** σ'(z) from e = e^-z and s = σ(z). */
// @ts-ignore: decorator
@inline function sigmoidSlope(e: v128, s: v128): v128 {
  return f32x4.mul(e, f32x4.mul(s, s));
}

/** tanh'(v) from e = e^-2v: 4 σ(2v) σ(-2v). */
// @ts-ignore: decorator
@inline function tanhSlope(e: v128): v128 {
  const s = sigmoidOf(e);
  return f32x4.mul(f32x4.splat(4), sigmoidSlope(e, s));
}

// One cell's forward on lanes [k, k + lanes) of its D: z holds the row's 5 gate blocks
// of pre-activations, D floats apart (`gate` bytes).
// @ts-ignore: decorator
@inline function lstmCellForwardLanes(z: usize, gate: usize, cLeft: usize, cTop: usize, c: usize, h: usize, lanes: i32): void {
  const i = sigmoidOf(expNeg(loadLanesF32x4(z, lanes)));
  const fl = sigmoidOf(expNeg(loadLanesF32x4(z + gate, lanes)));
  const ft = sigmoidOf(expNeg(loadLanesF32x4(z + 2 * gate, lanes)));
  const g = tanhF32x4(loadLanesF32x4(z + 3 * gate, lanes));
  const o = sigmoidOf(expNeg(loadLanesF32x4(z + 4 * gate, lanes)));
  // c = i g + fl cLeft + ft cTop (this order in the JS twin too)
  const cell = f32x4.add(f32x4.add(f32x4.mul(i, g), f32x4.mul(fl, loadLanesF32x4(cLeft, lanes))), f32x4.mul(ft, loadLanesF32x4(cTop, lanes)));
  storeLanesF32x4(c, cell, lanes);
  storeLanesF32x4(h, f32x4.mul(o, tanhF32x4(cell)), lanes);
}

/** c and h of one cell from its gate pre-activations z [5D] and its neighbours' c (D floats each). */
function lstmCellForward(z: usize, cLeft: usize, cTop: usize, c: usize, h: usize, hidden: i32): void {
  const gate = <usize>hidden << 2;
  let k = 0;
  for (; k + 4 <= hidden; k += 4) {
    const offset = <usize>k << 2;
    lstmCellForwardLanes(z + offset, gate, cLeft + offset, cTop + offset, c + offset, h + offset, 4);
  }
  if (k < hidden) {
    const offset = <usize>k << 2;
    lstmCellForwardLanes(z + offset, gate, cLeft + offset, cTop + offset, c + offset, h + offset, hidden - k);
  }
}

// One cell's backward on lanes [k, k + lanes): z (pre-activations in, dz out), the
// cell's c and its neighbours', dL/dh so far, dc from outside (dcIn), the dc_pass
// parts of its right and lower neighbours, and its own dc_pass (out; may be dcIn's row).
// @ts-ignore: decorator
@inline function lstmCellBackwardLanes(
  z: usize, gate: usize, c: usize, cLeft: usize, cTop: usize, dh: usize, dcIn: usize,
  fromRight: usize, fromBelow: usize, toLeft: usize, toTop: usize, lanes: i32,
): void {
  const ei = expNeg(loadLanesF32x4(z, lanes)), efl = expNeg(loadLanesF32x4(z + gate, lanes));
  const eft = expNeg(loadLanesF32x4(z + 2 * gate, lanes)), eo = expNeg(loadLanesF32x4(z + 4 * gate, lanes));
  const i = sigmoidOf(ei), fl = sigmoidOf(efl), ft = sigmoidOf(eft), o = sigmoidOf(eo);
  const zg = loadLanesF32x4(z + 3 * gate, lanes), cell = loadLanesF32x4(c, lanes);
  const g = tanhF32x4(zg), tc = tanhF32x4(cell);
  const two = f32x4.splat(2);
  const dhTotal = loadLanesF32x4(dh, lanes);
  // forward: h = o tanh(c);  c[right] += fl[right] c;  c[below] += ft[below] c
  const dcOuter = f32x4.add(f32x4.add(loadLanesF32x4(dcIn, lanes), loadLanesF32x4(fromRight, lanes)), loadLanesF32x4(fromBelow, lanes));
  const dc = f32x4.add(dcOuter, f32x4.mul(f32x4.mul(dhTotal, o), tanhSlope(expNeg(f32x4.mul(two, cell)))));
  // forward: c = i g + fl cLeft + ft cTop, i = σ(z_i), ..., g = tanh(z_g)
  storeLanesF32x4(z, f32x4.mul(f32x4.mul(dc, g), sigmoidSlope(ei, i)), lanes);
  storeLanesF32x4(z + gate, f32x4.mul(f32x4.mul(dc, loadLanesF32x4(cLeft, lanes)), sigmoidSlope(efl, fl)), lanes);
  storeLanesF32x4(z + 2 * gate, f32x4.mul(f32x4.mul(dc, loadLanesF32x4(cTop, lanes)), sigmoidSlope(eft, ft)), lanes);
  storeLanesF32x4(z + 3 * gate, f32x4.mul(f32x4.mul(dc, i), tanhSlope(expNeg(f32x4.mul(two, zg)))), lanes);
  storeLanesF32x4(z + 4 * gate, f32x4.mul(f32x4.mul(dhTotal, tc), sigmoidSlope(eo, o)), lanes);
  storeLanesF32x4(toLeft, f32x4.mul(dc, fl), lanes);
  storeLanesF32x4(toTop, f32x4.mul(dc, ft), lanes);
}

/** dz (over z, in place) and the cell's dc_pass; see lstmCellBackwardLanes. */
function lstmCellBackward(
  z: usize, c: usize, cLeft: usize, cTop: usize, dh: usize, dcIn: usize, fromRight: usize, fromBelow: usize, pass: usize, hidden: i32,
): void {
  const gate = <usize>hidden << 2;
  let k = 0;
  for (; k + 4 <= hidden; k += 4) {
    const o = <usize>k << 2;
    lstmCellBackwardLanes(z + o, gate, c + o, cLeft + o, cTop + o, dh + o, dcIn + o, fromRight + o, fromBelow + o, pass + o, pass + gate + o, 4);
  }
  if (k < hidden) {
    const o = <usize>k << 2;
    lstmCellBackwardLanes(
      z + o, gate, c + o, cLeft + o, cTop + o, dh + o, dcIn + o, fromRight + o, fromBelow + o, pass + o, pass + gate + o, hidden - k,
    );
  }
}

/**
 * z[rows s0..s1 of diagonal d] = bias + x @ wIn^T + h[left] @ wLeft^T + h[top] @ wTop^T, this
 * thread's share [s0, s1) of the diagonal's rows; `block` is the diagonal's first Z row.
 */
function diagonalGates(
  d: i32, s0: i32, s1: i32, batch: i32, height: i32, width: i32, channels: i32, hidden: i32,
  t: MdlstmScratch, bias: usize, block: usize,
): void {
  const gates = 5 * hidden;
  const iLo = diagonalFirstRow(d, width), iHi = diagonalLastRow(d, height);
  const here = load<i32>(t.offsets + (<usize>d << 2));
  const rows = (iHi - iLo + 1) * batch;
  if (bias != 0) {
    for (let row = s0; row < s1; row++) memory.copy(rowPtr(block, row, gates), bias, <usize>gates << 2);
  }
  gemmShareOfBlock(s0, s1, 0, rows, channels, gates, rowPtr(t.x, here, channels), t.packedIn, block, bias != 0, t.packA);
  if (d == 0) return;
  const pLo = diagonalFirstRow(d - 1, width), pHi = diagonalLastRow(d - 1, height);
  const prev = load<i32>(t.offsets + (<usize>(d - 1) << 2));
  // left of (i, j) is (i, j-1) on d-1: cells iLo..min(iHi, pHi)
  const withLeft = (min(iHi, pHi) - iLo + 1) * batch;
  gemmShareOfBlock(s0, s1, 0, withLeft, hidden, gates, rowPtr(t.h, prev + (iLo - pLo) * batch, hidden), t.packedLeft, block, true, t.packA);
  // top of (i, j) is (i-1, j) on d-1: cells max(iLo, 1)..iHi
  const firstWithTop = (max(iLo, 1) - iLo) * batch;
  gemmShareOfBlock(
    s0, s1, firstWithTop, rows - firstWithTop, hidden, gates, rowPtr(t.h, prev + (max(iLo, 1) - 1 - pLo) * batch, hidden),
    t.packedTop, rowPtr(block, firstWithTop, gates), true, t.packA,
  );
}

/** Zero this call's R_ZERO row and pack the gates' B operands (each a job of one thread). */
function prepare(t: MdlstmScratch, batch: i32, height: i32, width: i32, channels: i32, hidden: i32, wIn: usize, wLeft: usize, wTop: usize): void {
  const gates = 5 * hidden;
  if (teamThread() == 0) {
    diagonalOffsets(batch, height, width, t.offsets);
    memory.fill(t.zero, 0, <usize>hidden << 2);
  }
  // B[k, n] = w[n, k]
  if (mine(0)) gemmPackB(channels, gates, wIn, 1, channels, t.packedIn);
  if (mine(1)) gemmPackB(hidden, gates, wLeft, 1, hidden, t.packedLeft);
  if (mine(2)) gemmPackB(hidden, gates, wTop, 1, hidden, t.packedTop);
}

/**
 * Forward scan: h and c [B, H, W, D] are written, and the gate pre-activations z
 * [B, H, W, 5D] unless gates == 0 (the backward can then skip recomputing them). See the
 * file header. bias == 0: no bias.
 */
export function mdlstmForward(
  batch: i32, height: i32, width: i32, channels: i32, hidden: i32,
  x: usize, wIn: usize, wLeft: usize, wTop: usize, bias: usize,
  flipRows: bool, flipCols: bool, h: usize, c: usize, gates: usize, scratch: usize,
): void {
  const gateFloats = 5 * hidden;
  const t = layOut(scratch, batch, height, width, channels, hidden, 0);
  const offsets = t.offsets, zero = t.zero;
  prepare(t, batch, height, width, channels, hidden, wIn, wLeft, wTop);
  teamBarrier();
  skewRows(x, t.x, channels, channels, true, batch, height, width, flipRows, flipCols, offsets);
  teamBarrier();

  for (let d = 0; d <= height + width - 2; d++) {
    const iLo = diagonalFirstRow(d, width), iHi = diagonalLastRow(d, height);
    const rows = (iHi - iLo + 1) * batch;
    const s0 = teamShareStart(rows), s1 = teamShareEnd(rows);
    diagonalGates(d, s0, s1, batch, height, width, channels, hidden, t, bias, t.gates);
    const here = load<i32>(offsets + (<usize>d << 2));
    const pLo = d > 0 ? diagonalFirstRow(d - 1, width) : 0;
    const prev = d > 0 ? load<i32>(offsets + (<usize>(d - 1) << 2)) : 0;
    for (let row = s0; row < s1; row++) {
      const i = iLo + row / batch, b = row % batch;
      const cLeft = d - i > 0 ? rowPtr(t.c, prev + (i - pLo) * batch + b, hidden) : zero;
      const cTop = i > 0 ? rowPtr(t.c, prev + (i - 1 - pLo) * batch + b, hidden) : zero;
      const z = rowPtr(t.gates, row, gateFloats);
      lstmCellForward(z, cLeft, cTop, rowPtr(t.c, here + row, hidden), rowPtr(t.h, here + row, hidden), hidden);
      if (gates != 0) {
        const memoryRow = flipRows ? height - 1 - i : i, memoryCol = flipCols ? width - 1 - (d - i) : d - i;
        copyRow(rowPtr(gates, (b * height + memoryRow) * width + memoryCol, gateFloats), z, gateFloats);
      }
    }
    teamBarrier();
  }

  skewRows(t.h, h, hidden, hidden, false, batch, height, width, flipRows, flipCols, offsets);
  skewRows(t.c, c, hidden, hidden, false, batch, height, width, flipRows, flipCols, offsets);
}

/**
 * Backward scan from the forward's h and c (and its gate pre-activations [B, H, W, G], or
 * gates == 0 to recompute them). Writes dx [B, H, W, C]; accumulates dwIn [G, C], dwLeft and
 * dwTop [G, D] and dbias [G]. dc == 0: no gradient flows into c from outside.
 */
export function mdlstmBackward(
  batch: i32, height: i32, width: i32, channels: i32, hidden: i32,
  x: usize, wIn: usize, wLeft: usize, wTop: usize, bias: usize, h: usize, c: usize, gates: usize, dh: usize, dc: usize,
  flipRows: bool, flipCols: bool,
  dx: usize, dwIn: usize, dwLeft: usize, dwTop: usize, dbias: usize, scratch: usize,
): void {
  const gateFloats = 5 * hidden;
  const cells = batch * height * width;
  const t = layOut(scratch, batch, height, width, channels, hidden, 1);
  const offsets = t.offsets, zero = t.zero, packA = t.packA, packedChunk = t.packedChunk;
  prepare(t, batch, height, width, channels, hidden, wIn, wLeft, wTop);
  // B[k, n] = w[k, n]: dh[cell] += w^T dz[neighbour]
  if (mine(3)) gemmPackB(gateFloats, hidden, wLeft, hidden, 1, t.packedLeftT);
  if (mine(4)) gemmPackB(gateFloats, hidden, wTop, hidden, 1, t.packedTopT);
  teamBarrier();
  skewRows(x, t.x, channels, channels, true, batch, height, width, flipRows, flipCols, offsets);
  skewRows(h, t.h, hidden, hidden, true, batch, height, width, flipRows, flipCols, offsets);
  skewRows(c, t.c, hidden, hidden, true, batch, height, width, flipRows, flipCols, offsets);
  skewRows(dh, t.dh, hidden, hidden, true, batch, height, width, flipRows, flipCols, offsets);
  // dc from outside waits in each cell's dc_pass toLeft half (read before it is overwritten)
  if (dc != 0) skewRows(dc, t.pass, hidden, 2 * hidden, true, batch, height, width, flipRows, flipCols, offsets);
  if (gates != 0) skewRows(gates, t.gates, gateFloats, gateFloats, true, batch, height, width, flipRows, flipCols, offsets);
  teamBarrier();

  // every cell's gate pre-activations, from the given h (no wavefront), unless the forward saved them
  if (gates == 0) {
    for (let d = 0; d <= height + width - 2; d++) {
      const rows = (diagonalLastRow(d, height) - diagonalFirstRow(d, width) + 1) * batch;
      const here = load<i32>(offsets + (<usize>d << 2));
      diagonalGates(d, teamShareStart(rows), teamShareEnd(rows), batch, height, width, channels, hidden, t, bias, rowPtr(t.gates, here, gateFloats));
    }
    teamBarrier();
  }

  for (let d = height + width - 2; d >= 0; d--) {
    const iLo = diagonalFirstRow(d, width), iHi = diagonalLastRow(d, height);
    const here = load<i32>(offsets + (<usize>d << 2));
    const rows = (iHi - iLo + 1) * batch;
    const s0 = teamShareStart(rows), s1 = teamShareEnd(rows);
    const dhBlock = rowPtr(t.dh, here, hidden);
    const nLo = diagonalFirstRow(d + 1, width);
    const next = load<i32>(offsets + (<usize>(d + 1) << 2));
    if (d < height + width - 2) {
      // right of (i, j) is (i, j+1) on d+1, for cells max(iLo, nLo)..iHi
      const firstWithRight = (max(iLo, nLo) - iLo) * batch;
      gemmShareOfBlock(
        s0, s1, firstWithRight, rows - firstWithRight, gateFloats, hidden, rowPtr(t.gates, next + (max(iLo, nLo) - nLo) * batch, gateFloats),
        t.packedLeftT, rowPtr(dhBlock, firstWithRight, hidden), true, packA,
      );
      // below (i, j) is (i+1, j) on d+1, for cells iLo..min(iHi, H-2)
      const withBelow = (min(iHi, height - 2) - iLo + 1) * batch;
      gemmShareOfBlock(s0, s1, 0, withBelow, gateFloats, hidden, rowPtr(t.gates, next + (iLo + 1 - nLo) * batch, gateFloats), t.packedTopT, dhBlock, true, packA);
    }
    const pLo = d > 0 ? diagonalFirstRow(d - 1, width) : 0;
    const prev = d > 0 ? load<i32>(offsets + (<usize>(d - 1) << 2)) : 0;
    for (let row = s0; row < s1; row++) {
      const i = iLo + row / batch, b = row % batch, j = d - i;
      const cell = here + row;
      const cLeft = j > 0 ? rowPtr(t.c, prev + (i - pLo) * batch + b, hidden) : zero;
      const cTop = i > 0 ? rowPtr(t.c, prev + (i - 1 - pLo) * batch + b, hidden) : zero;
      const fromRight = j + 1 < width ? rowPtr(t.pass, next + (i - nLo) * batch + b, 2 * hidden) : zero;
      const fromBelow = i + 1 < height ? rowPtr(t.pass, next + (i + 1 - nLo) * batch + b, 2 * hidden) + (<usize>hidden << 2) : zero;
      const pass = rowPtr(t.pass, cell, 2 * hidden);
      lstmCellBackward(
        rowPtr(t.gates, cell, gateFloats), rowPtr(t.c, cell, hidden), cLeft, cTop, rowPtr(t.dh, cell, hidden),
        dc != 0 ? pass : zero, fromRight, fromBelow, pass, hidden,
      );
    }
    teamBarrier();
  }

  // weight gradients: dz plays dpre's part in rnn2d.ts (thread's rows n of G, every cell in order)
  const n0 = teamShareStart(gateFloats), n1 = teamShareEnd(gateFloats);
  const dz = t.gates;
  for (let row = 0; row < cells; row++) addRow(dbias + (<usize>n0 << 2), rowPtr(dz, row, gateFloats) + (<usize>n0 << 2), n1 - n0);
  gemmAccumulateLongK(
    n1 - n0, channels, cells, dz + (<usize>n0 << 2), 1, gateFloats, t.x, channels, 1, dwIn + (<usize>(n0 * channels) << 2), channels, packedChunk, packA,
  );
  for (let d = 1; d <= height + width - 2; d++) {
    const iLo = diagonalFirstRow(d, width), iHi = diagonalLastRow(d, height);
    const pLo = diagonalFirstRow(d - 1, width), pHi = diagonalLastRow(d - 1, height);
    const here = load<i32>(offsets + (<usize>d << 2)), prev = load<i32>(offsets + (<usize>(d - 1) << 2));
    gemmAccumulateLongK(
      n1 - n0, hidden, (min(iHi, pHi) - iLo + 1) * batch, rowPtr(dz, here, gateFloats) + (<usize>n0 << 2), 1, gateFloats,
      rowPtr(t.h, prev + (iLo - pLo) * batch, hidden), hidden, 1, dwLeft + (<usize>(n0 * hidden) << 2), hidden, packedChunk, packA,
    );
    const firstWithTop = max(iLo, 1);
    gemmAccumulateLongK(
      n1 - n0, hidden, (iHi - firstWithTop + 1) * batch, rowPtr(dz, here + (firstWithTop - iLo) * batch, gateFloats) + (<usize>n0 << 2), 1, gateFloats,
      rowPtr(t.h, prev + (firstWithTop - 1 - pLo) * batch, hidden), hidden, 1, dwTop + (<usize>(n0 * hidden) << 2), hidden, packedChunk, packA,
    );
  }
  // every thread is done reading x (dwIn) before dx overwrites it
  teamBarrier();
  // dx[cell, c] = sum_n dz[cell, n] wIn[n, c], computed skewed into t.x
  gemmPackB(gateFloats, channels, wIn, channels, 1, packedChunk);
  const r0 = teamShareStart(cells), r1 = teamShareEnd(cells);
  gemmShareOfBlock(r0, r1, 0, cells, gateFloats, channels, dz, packedChunk, t.x, false, packA);
  teamBarrier();
  skewRows(t.x, dx, channels, channels, false, batch, height, width, flipRows, flipCols, offsets);
}
