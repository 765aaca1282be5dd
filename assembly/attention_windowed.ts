// Banded (sliding-window) softmax attention, forward and backward: the drivers
// around the tiles of attention_tile.ts. Full attention is the band that covers
// every key and runs this same code (attention_full.ts), so a window reaching every
// key gives full's bits exactly.
//
// Dimensions: B batch, Hq query heads, Hkv kv heads (query head h reads kv head
// h / (Hq / Hkv)), T queries, S keys, d query/key width, dv value width, G globals.
// Layout: q [B, Hq, T, d], k [B, Hkv, S, d], v [B, Hkv, S, dv], out [B, Hq, T, dv],
// lse [B, Hq, T], keyMask u8 [B, S] (0 = padding) or 0, globals i32 [G] sorted unique
// key positions. Strides in elements. The forward overwrites out and lse; the
// backward's contract is in its section below.
//
// Band: query t sits at key position p = t + (S - T) (bottom-right aligned, as
// causal) and sees keys s = p + k * dilation for -left <= k <= right (right = 0 when
// causal). Dilation splits the sequence into residue classes: queries t = r + i*dil
// only meet keys s = rk + j*dil, rk = (r + S - T) mod dil, so each class is a plain
// band over its own packed keys (j - center_i in [-left, right], center_i = i + jOff).
// Global tokens: a query at a global position attends every key (its row is redone
// over the whole sequence after the band pass); every query also attends the global
// keys outside its band (one extra block of gathered keys, masked per element).
// Causal and keyMask apply to every pair. Cost O(T * (w + G) * (d + dv) + G * S * (d + dv)).
//
// Team (assembly/team.ts): the forward's work units are runs of TILES_PER_UNIT query
// tiles of one query head and residue class; a thread packs the keys of each class it
// has units in (its own scratch), and global query rows, redone over every key, are a
// second phase after a barrier. The backward's units are kv heads (all of a kv head's
// dk, dv and its query heads' dq are one thread's). Each tile or head is computed as a
// single thread would: the same bits for any team.

import {
  KEY_BLOCK, LANES, QUERY_BLOCK, UNBOUNDED, addTileColumns, backwardProbabilities, backwardQueryGradients,
  columnsTimesLanes_4x8, fillKeyBias, finishTile, maskBackwardBandScores, maskBackwardGlobalScores, maskBandScores,
  packPanels, packRowsAsLanes, resetTile, rowsTimesLanes_4x8, softmaxBlock, storeBlockMax, STATE_FLOATS,
} from "./attention_tile";
import { bytes, ceil4, ceil8, floorMod, teamScratchFloats, threadRegionAt } from "./layout";
import { teamBarrier, teamShareEnd, teamShareStart, teamSize, teamThread } from "./team";
import { hmaxF32x4 } from "./simd";
import { addRow } from "./rows";

const NEG_INF: f32 = -Infinity;

/** Query tiles (of LANES rows) in one forward work unit. */
const TILES_PER_UNIT: i32 = 8;

// Forward scratch regions, in this order (assembly/layout.ts), every one each thread's own.
const K_TILES = 0, V_TILES = 1, KEY_BIAS = 2, Q_PANEL = 3, SCORES = 4, OUT_T = 5, STATE = 6, ROWS = 7,
  CENTERS = 8, G_K = 9, G_V = 10, G_K_TILES = 11, G_V_TILES = 12, G_BIAS = 13, ROWS_T = 14, F_PLAN = 15, REGIONS = 16;

/** How many of start, start + step, ... are below n. */
// @ts-ignore: decorator
@inline function countOnGrid(n: i32, start: i32, step: i32): i32 {
  return start < n ? (n - start + step - 1) / step : 0;
}

/** Floats of one forward region, in f64 so that an absurd size cannot wrap (the JS heap refuses it with MEMORY). */
function regionFloats(region: i32, S: i32, d: i32, dv: i32, G: i32, _0: i32, _1: i32): f64 {
  const nKpad = ceil4f(S), dvPad = ceil4f(dv), Gpad = ceil4f(G), L = <f64>LANES;
  switch (region) {
    case K_TILES: return nKpad * d;
    case V_TILES: return dvPad * nKpad;
    case KEY_BIAS: return nKpad;
    case Q_PANEL: return <f64>d * L;
    case SCORES: return <f64>KEY_BLOCK * L;
    case OUT_T: return dvPad * L;
    case STATE: return <f64>STATE_FLOATS;
    case ROWS: return L;
    case CENTERS: return L;
    case G_K: return <f64>G * d;
    case G_V: return <f64>G * dv;
    case G_K_TILES: return Gpad * d;
    case G_V_TILES: return dvPad * Gpad;
    case G_BIAS: return Gpad;
    case ROWS_T: return L * dvPad;
    case F_PLAN: return <f64>((offsetof<ForwardCall>() + 3) >> 2);
  }
  return 0;
}

/** n rounded up to a multiple of 4, in f64. */
// @ts-ignore: decorator
@inline function ceil4f(n: f64): f64 {
  return Math.ceil(n / 4) * 4;
}

/** This thread's forward region `which`. */
function region(scratch: usize, which: i32, S: i32, d: i32, dv: i32, G: i32): usize {
  return threadRegionAt(scratch, regionFloats, 0, REGIONS, which, teamThread(), S, d, dv, G, 0, 0);
}

/** Floats of scratch attentionWindowed needs on `threads` threads, in f64 (no wrap). */
export function attentionWindowedScratchFloats(S: i32, d: i32, dv: i32, G: i32, threads: i32): f64 {
  return teamScratchFloats(regionFloats, 0, REGIONS, threads, S, d, dv, G, 0, 0);
}

/**
 * Pack n keys (positions pos0 + j * stride) of one kv head: kTiles, vTiles and the
 * key bias (keyMask and padding -> -inf).
 */
export function packKeysValues(
  kHead: usize, vHead: usize, pos0: i32, n: i32, stride: i32, d: i32, dv: i32, keyMaskRow: usize,
  kTiles: usize, vTiles: usize, keyBias: usize,
): void {
  const nPad = ceil4(n);
  packPanels(4, d, d, n, kHead + bytes(pos0 * d), 1, d * stride, 1, kTiles);
  packPanels(4, n, nPad, dv, vHead + bytes(pos0 * dv), dv * stride, 1, 1, vTiles);
  fillKeyBias(n, nPad, keyMaskRow, pos0, stride, keyBias);
}

/**
 * Run one tile (queries in qPanel, band centers at `centers`, ascending) over the
 * keys j in [center - lo', center + hi] of nK packed keys, block by block on the
 * KEY_BLOCK grid. `lo` is the lower edge as a (non-positive) offset.
 */
export function attendBand(
  d: i32, dvPad: i32, nK: i32, kTiles: usize, vTiles: usize, keyBias: usize,
  centers: usize, lo: i32, hi: i32, qPanel: usize, sT: usize, state: usize, oT: usize,
): void {
  const cMin = load<i32>(centers), cMax = load<i32>(centers, 28);
  const jLo = <i32>max<i64>(0, <i64>cMin + lo);
  const jHi = <i32>min<i64>(nK - 1, <i64>cMax + hi);
  if (jLo > jHi) return;
  const nKpad = ceil4(nK);
  const jStart = jLo & ~3, jEnd = ceil4(jHi + 1);
  for (let kb = jStart - jStart % KEY_BLOCK; kb < jEnd; kb += KEY_BLOCK) {
    const jb = max(kb, jStart), je = min(kb + KEY_BLOCK, jEnd);
    const nb = je - jb;
    // interior blocks are inside every lane's band: only the key bias applies
    const edge = <i64>jb - cMax < lo || <i64>(je - 1) - cMin > hi;
    rowsTimesLanes_4x8(d, kTiles, jb, nb, qPanel, sT);
    maskBandScores(sT, nb, jb, keyBias, centers, lo, hi, edge, state);
    softmaxBlock(sT, nb, state, oT, dvPad);
    columnsTimesLanes_4x8(dvPad, vTiles, nKpad, jb, nb, sT, oT);
  }
}

/** Gather the G global keys and values of one kv head and pack them like a key sequence. */
function packGlobalKeys(
  kHead: usize, vHead: usize, d: i32, dv: i32, globals: usize, G: i32, keyMaskRow: usize,
  gK: usize, gV: usize, gkTiles: usize, gvTiles: usize, gBias: usize,
): void {
  const Gpad = ceil4(G);
  for (let gi = 0; gi < G; gi++) {
    const g = load<i32>(globals + bytes(gi));
    memory.copy(gK + bytes(gi * d), kHead + bytes(g * d), bytes(d));
    memory.copy(gV + bytes(gi * dv), vHead + bytes(g * dv), bytes(dv));
  }
  packPanels(4, d, d, G, gK, 1, d, 1, gkTiles);
  packPanels(4, G, Gpad, dv, gV, dv, 1, 1, gvTiles);
  for (let gi = 0; gi < Gpad; gi++) {
    let visible = gi < G;
    if (visible && keyMaskRow != 0) visible = load<u8>(keyMaskRow + <usize>load<i32>(globals + bytes(gi))) != 0;
    store<f32>(gBias + bytes(gi), visible ? 0 : NEG_INF);
  }
}

/**
 * Mask a block of scores against gathered global keys: lane query at aligned
 * position p sees global g unless g is already in its band (same residue class and
 * lo*dil <= g - p <= hi*dil), or causal and g > p; plus the key bias. Stores the
 * block max for softmaxBlock.
 */
export function maskGlobalScores(
  sT: usize, nb: i32, j0: i32, gBias: usize, globals: usize, G: i32, positions: usize,
  rk: i32, dilation: i32, lo: i32, hi: i32, causal: bool, state: usize,
): void {
  const negInf = f32x4.splat(NEG_INF);
  let mx0 = negInf, mx1 = negInf;
  const p0 = v128.load(positions), p1 = v128.load(positions, 16);
  const loV = i32x4.splat(<i32>max<i64>(-UNBOUNDED, <i64>lo * dilation));
  const hiV = i32x4.splat(<i32>min<i64>(UNBOUNDED, <i64>hi * dilation));
  const zero = i32x4.splat(0);
  for (let jj = 0; jj < nb; jj++) {
    const gi = j0 + jj;
    const g = gi < G ? load<i32>(globals + bytes(gi)) : 0;
    const row = sT + bytes(jj * LANES);
    const bias = v128.load32_splat(gBias + bytes(gi));
    const delta0 = i32x4.sub(i32x4.splat(g), p0), delta1 = i32x4.sub(i32x4.splat(g), p1);
    let see0 = i32x4.splat(-1), see1 = i32x4.splat(-1);
    if (floorMod(g - rk, dilation) == 0) {
      see0 = v128.not(v128.and(i32x4.ge_s(delta0, loV), i32x4.le_s(delta0, hiV)));
      see1 = v128.not(v128.and(i32x4.ge_s(delta1, loV), i32x4.le_s(delta1, hiV)));
    }
    if (causal) {
      see0 = v128.and(see0, i32x4.le_s(delta0, zero));
      see1 = v128.and(see1, i32x4.le_s(delta1, zero));
    }
    const s0 = v128.bitselect(f32x4.add(v128.load(row), bias), negInf, see0);
    const s1 = v128.bitselect(f32x4.add(v128.load(row, 16), bias), negInf, see1);
    v128.store(row, s0);
    v128.store(row, s1, 16);
    mx0 = f32x4.pmax(mx0, s0);
    mx1 = f32x4.pmax(mx1, s1);
  }
  storeBlockMax(state, mx0, mx1);
}

/** One forward call: its operands, band and scratch pointers (the table lives in region F_PLAN). */
@unmanaged class ForwardCall {
  Hq: i32; T: i32; S: i32; d: i32; dv: i32; dvPad: i32; group: i32; offset: i32;
  scale: f32; causal: bool;
  /** The band as offsets on the dilated grid: lo = -left, hi = right (0 when causal), within +-UNBOUNDED. */
  lo: i32; hi: i32; dilation: i32;
  q: usize; out: usize; lse: usize; globals: usize; G: i32;
  kTiles: usize; vTiles: usize; keyBias: usize; qPanel: usize; sT: usize; oT: usize; state: usize;
  rowIdx: usize; centers: usize; gK: usize; gV: usize; gkTiles: usize; gvTiles: usize; gBias: usize; rowsT: usize;
}

/**
 * Windowed attention forward (see the header). left/right >= UNBOUNDED mean no edge;
 * scratch: attentionWindowedScratchFloats(S, d, dv, G) floats.
 */
export function attentionWindowed(
  B: i32, Hq: i32, Hkv: i32, T: i32, S: i32, d: i32, dv: i32,
  q: usize, k: usize, v: usize, keyMask: usize, scale: f32, causal: bool,
  left: i32, right: i32, dilation: i32, globals: usize, G: i32,
  out: usize, lse: usize, scratch: usize,
): void {
  const c = changetype<ForwardCall>(region(scratch, F_PLAN, S, d, dv, G));
  c.Hq = Hq; c.T = T; c.S = S; c.d = d; c.dv = dv; c.dvPad = ceil4(dv); c.group = Hq / Hkv; c.offset = S - T;
  c.scale = scale; c.causal = causal;
  c.lo = -min(left, UNBOUNDED); c.hi = causal ? 0 : min(right, UNBOUNDED); c.dilation = dilation;
  c.q = q; c.out = out; c.lse = lse; c.globals = globals; c.G = G;
  c.kTiles = region(scratch, K_TILES, S, d, dv, G);
  c.vTiles = region(scratch, V_TILES, S, d, dv, G);
  c.keyBias = region(scratch, KEY_BIAS, S, d, dv, G);
  c.qPanel = region(scratch, Q_PANEL, S, d, dv, G);
  c.sT = region(scratch, SCORES, S, d, dv, G);
  c.oT = region(scratch, OUT_T, S, d, dv, G);
  c.state = region(scratch, STATE, S, d, dv, G);
  c.rowIdx = region(scratch, ROWS, S, d, dv, G);
  c.centers = region(scratch, CENTERS, S, d, dv, G);
  c.gK = region(scratch, G_K, S, d, dv, G);
  c.gV = region(scratch, G_V, S, d, dv, G);
  c.gkTiles = region(scratch, G_K_TILES, S, d, dv, G);
  c.gvTiles = region(scratch, G_V_TILES, S, d, dv, G);
  c.gBias = region(scratch, G_BIAS, S, d, dv, G);
  c.rowsT = region(scratch, ROWS_T, S, d, dv, G);
  // phase 1: the band (and global keys) of every query tile, units split among the threads
  const classes = min(dilation, T);
  let unitsPerHead = 0;
  for (let r = 0; r < classes; r++) unitsPerHead += unitsOfClass(c, r);
  const total = B * Hkv * unitsPerHead;
  const first = teamShareStart(total), end = teamShareEnd(total);
  let u = 0;
  for (let b = 0; b < B; b++) {
    const keyMaskRow: usize = keyMask == 0 ? 0 : keyMask + <usize>(b * S);
    for (let hk = 0; hk < Hkv; hk++) {
      const kHead = k + bytes((b * Hkv + hk) * S * d);
      const vHead = v + bytes((b * Hkv + hk) * S * dv);
      const head0 = b * Hq + hk * c.group; // first query head of this kv head
      let globalsPacked = false;
      for (let r = 0; r < classes; r++) {
        const n = unitsOfClass(c, r);
        if (u < end && u + n > first) {
          if (G > 0 && !globalsPacked) {
            packGlobalKeys(kHead, vHead, d, dv, globals, G, keyMaskRow, c.gK, c.gV, c.gkTiles, c.gvTiles, c.gBias);
            globalsPacked = true;
          }
          attendResidueClass(c, kHead, vHead, keyMaskRow, head0, r, max(0, first - u), min(n, end - u));
        }
        u += n;
      }
    }
  }
  if (G == 0) return;
  // phase 2: rows of global queries attend to every key: redo them over the whole
  // sequence (after every thread has written its band rows), a query head a unit
  teamBarrier();
  const heads = B * Hq;
  let packedFor = -1;
  for (let h = teamShareStart(heads), hEnd = teamShareEnd(heads); h < hEnd; h++) {
    const b = h / Hq, hk = (h % Hq) / c.group, kv = b * Hkv + hk;
    if (kv != packedFor) {
      const keyMaskRow: usize = keyMask == 0 ? 0 : keyMask + <usize>(b * S);
      packKeysValues(k + bytes(kv * S * d), v + bytes(kv * S * dv), 0, S, 1, d, dv, keyMaskRow, c.kTiles, c.vTiles, c.keyBias);
      packedFor = kv;
    }
    attendGlobalQueries(c, h);
  }
}

/** Work units of residue class r of one kv head: runs of TILES_PER_UNIT tiles of each query head of its group. */
function unitsOfClass(c: ForwardCall, r: i32): i32 {
  const tiles = (countOnGrid(c.T, r, c.dilation) + LANES - 1) / LANES;
  return c.group * ((tiles + TILES_PER_UNIT - 1) / TILES_PER_UNIT);
}

/**
 * Units [u0, u1) (unitsOfClass order: query head, then runs of tiles) of queries r, r + dil,
 * ... of the query heads of a kv head (from head0) against keys rk, rk + dil, ... (their
 * band; query i's is centred on key i + jOff), and the global keys outside it.
 */
function attendResidueClass(c: ForwardCall, kHead: usize, vHead: usize, keyMaskRow: usize, head0: i32, r: i32, u0: i32, u1: i32): void {
  const T = c.T, d = c.d, dv = c.dv, dvPad = c.dvPad, dilation = c.dilation;
  const rk = floorMod(r + c.offset, dilation);
  const jOff = (r + c.offset - rk) / dilation;
  const nQ = countOnGrid(T, r, dilation), nK = countOnGrid(c.S, rk, dilation);
  const runs = unitsOfClass(c, r) / c.group, runRows = LANES * TILES_PER_UNIT;
  packKeysValues(kHead, vHead, rk, nK, dilation, d, dv, keyMaskRow, c.kTiles, c.vTiles, c.keyBias);
  for (let unit = u0; unit < u1; unit++) {
    const h = head0 + unit / runs; // b * Hq + query head
    const qHead = c.q + bytes(h * T * d), outHead = c.out + bytes(h * T * dv), lseHead = c.lse + bytes(h * T);
    const iStart = (unit % runs) * runRows, iEnd = min(nQ, iStart + runRows);
    for (let i0 = iStart; i0 < iEnd; i0 += LANES) {
      const rows = min(LANES, nQ - i0);
      for (let lane = 0; lane < LANES; lane++) {
        const i = i0 + min(lane, rows - 1); // padding lanes repeat the last row
        store<i32>(c.rowIdx + bytes(lane), r + i * dilation);
        store<i32>(c.centers + bytes(lane), i + jOff);
      }
      packRowsAsLanes(c.rowIdx, rows, d, qHead, c.scale, c.qPanel);
      resetTile(c.state, c.oT, dvPad);
      attendBand(d, dvPad, nK, c.kTiles, c.vTiles, c.keyBias, c.centers, c.lo, c.hi, c.qPanel, c.sT, c.state, c.oT);
      if (c.G > 0) attendGlobalKeys(c, rk);
      finishTile(c.state, c.oT, dv, rows, c.rowIdx, outHead, lseHead, c.rowsT);
    }
  }
}

/**
 * The tile in c.qPanel (query rows c.rowIdx, residue class rk of the keys) against the
 * gathered global keys outside its band: the online softmax continues over them.
 */
function attendGlobalKeys(c: ForwardCall, rk: i32): void {
  const G = c.G, Gpad = ceil4(G);
  // aligned positions t + S - T of the lanes, for the global-key mask
  for (let lane = 0; lane < LANES; lane++) {
    store<i32>(c.centers + bytes(lane), load<i32>(c.rowIdx + bytes(lane)) + c.offset);
  }
  for (let jb = 0; jb < Gpad; jb += KEY_BLOCK) {
    const nb = min(KEY_BLOCK, Gpad - jb);
    rowsTimesLanes_4x8(c.d, c.gkTiles, jb, nb, c.qPanel, c.sT);
    maskGlobalScores(c.sT, nb, jb, c.gBias, c.globals, G, c.centers, rk, c.dilation, c.lo, c.hi, c.causal, c.state);
    softmaxBlock(c.sT, nb, c.state, c.oT, c.dvPad);
    columnsTimesLanes_4x8(c.dvPad, c.gvTiles, Gpad, jb, nb, c.sT, c.oT);
  }
}

/**
 * Query head h (b * Hq + head) at the global positions: every key of the sequence
 * (packed undilated in c.kTiles / vTiles / keyBias), tiles of up to 8 such rows.
 */
function attendGlobalQueries(c: ForwardCall, h: i32): void {
  const T = c.T, d = c.d, dv = c.dv, G = c.G, globals = c.globals;
  const qHead = c.q + bytes(h * T * d), outHead = c.out + bytes(h * T * dv), lseHead = c.lse + bytes(h * T);
  let gi = 0;
  while (gi < G) {
    let rows = 0;
    for (; gi < G && rows < LANES; gi++) {
      const g = load<i32>(globals + bytes(gi));
      const t = g - c.offset;
      if (t < 0 || t >= T) continue;
      store<i32>(c.rowIdx + bytes(rows), t);
      store<i32>(c.centers + bytes(rows), g);
      rows++;
    }
    if (rows == 0) break;
    for (let lane = rows; lane < LANES; lane++) {
      store<i32>(c.rowIdx + bytes(lane), load<i32>(c.rowIdx + bytes(rows - 1)));
      store<i32>(c.centers + bytes(lane), load<i32>(c.centers + bytes(rows - 1)));
    }
    packRowsAsLanes(c.rowIdx, rows, d, qHead, c.scale, c.qPanel);
    resetTile(c.state, c.oT, c.dvPad);
    attendBand(d, c.dvPad, c.S, c.kTiles, c.vTiles, c.keyBias, c.centers, -UNBOUNDED, c.causal ? 0 : UNBOUNDED, c.qPanel, c.sT, c.state, c.oT);
    finishTile(c.state, c.oT, dv, rows, c.rowIdx, outHead, lseHead, c.rowsT);
  }
}

// ---------------------------------------------------------------------------
// Backward: the same band, seen from the keys. Key tiles of 8 (lanes) meet the
// queries whose band holds them, in blocks of QUERY_BLOCK (attention_tile.ts,
// "Backward tiles"); p is recomputed from lse. Per residue class the queries are
// packed twice (4-query panels over d for the scores, 4-column panels over queries
// for dk/dv) with their lse and D = dout . out; rows of global queries are zeroed in
// dout there and redone over every key afterwards, as in the forward. dq, dk and dv
// must be zero on entry: dk and dv accumulate over the query heads of a group.

// Backward scratch regions, in this order (assembly/layout.ts), every one each thread's own.
const B_Q_ROW = 0, B_Q_COL = 1, B_DO_ROW = 2, B_DO_COL = 3, B_LSE = 4, B_D = 5, B_CENTERS = 6, B_DQ = 7,
  B_KEY_BIAS = 8, B_K_PANEL = 9, B_V_PANEL = 10, B_K_ROWS = 11, B_P = 12, B_DS = 13, B_DK_T = 14, B_DV_T = 15,
  B_A_T = 16, B_ROWS_T = 17, B_G_K = 18, B_G_V = 19, B_G_DK = 20, B_G_DV = 21, B_G_BIAS = 22, B_G_Q = 23,
  B_G_DO = 24, B_G_OUT = 25, B_G_LSE = 26, B_LANES = 27, B_PLAN = 28, B_CALL = 29, B_P_MAX = 30, B_REGIONS = 31;

/** Floats of one backward region, in f64 (no wrap). */
function backwardRegionFloats(region: i32, T: i32, S: i32, d: i32, dv: i32, G: i32, _0: i32): f64 {
  const Tq = ceil4f(T), dPad = ceil4f(d), dvPad = ceil4f(dv), Gpad = Math.ceil(<f64>G / 8) * 8, L = <f64>LANES;
  const gRows = <f64>min(G, T);
  switch (region) {
    case B_Q_ROW: return Tq * d;
    case B_Q_COL: return dPad * Tq;
    case B_DO_ROW: return Tq * dv;
    case B_DO_COL: return dvPad * Tq;
    case B_LSE: case B_D: case B_CENTERS: return Tq;
    case B_DQ: return Tq * d;
    case B_KEY_BIAS: return Math.ceil(<f64>S / 8) * 8;
    case B_K_PANEL: return <f64>d * L;
    case B_V_PANEL: return <f64>dv * L;
    case B_K_ROWS: return Math.ceil(<f64>d / 8) * 8 * L;
    case B_P: case B_DS: return <f64>QUERY_BLOCK * L;
    case B_DK_T: return dPad * L;
    case B_DV_T: return dvPad * L;
    case B_A_T: return 4 * L;
    case B_ROWS_T: return L * max(dPad, dvPad);
    case B_G_K: case B_G_DK: return <f64>G * d;
    case B_G_V: case B_G_DV: return <f64>G * dv;
    case B_G_BIAS: return Gpad;
    case B_G_Q: return gRows * d;
    case B_G_DO: case B_G_OUT: return gRows * dv;
    case B_G_LSE: return gRows;
    case B_LANES: return 2 * L;
    case B_PLAN: return <f64>((offsetof<BackwardScratch>() + 3) >> 2);
    case B_CALL: return <f64>((offsetof<BackwardCall>() + 3) >> 2);
    case B_P_MAX: return 4;
  }
  return 0;
}

/** Backward region `which` of thread `thread`. */
function backwardRegion(scratch: usize, which: i32, T: i32, S: i32, d: i32, dv: i32, G: i32, thread: i32 = teamThread()): usize {
  return threadRegionAt(scratch, backwardRegionFloats, 0, B_REGIONS, which, thread, T, S, d, dv, G, 0);
}

/** Floats of scratch attentionWindowedBackward needs on `threads` threads, in f64 (no wrap). */
export function attentionWindowedBackwardScratchFloats(T: i32, S: i32, d: i32, dv: i32, G: i32, threads: i32): f64 {
  return teamScratchFloats(backwardRegionFloats, 0, B_REGIONS, threads, T, S, d, dv, G, 0);
}

/** The pointers of one backward call's scratch regions; the table itself lives in region B_PLAN. */
@unmanaged class BackwardScratch {
  qRow: usize; qCol: usize; doRow: usize; doCol: usize; lse: usize; D: usize; centers: usize; dq: usize;
  keyBias: usize; kPanel: usize; vPanel: usize; kRows: usize; p: usize; ds: usize; dkT: usize; dvT: usize;
  aT: usize; rowsT: usize;
  /** Lanes of a global-key tile: positions g (8 i32) and whether g shares the queries' residue class (8 i32 masks). */
  laneKeys: usize; laneSameClass: usize;
  /** Lane-wise max of every probability exp(s - lse) (4 floats), returned by the backward. */
  pMax: usize;
}

/**
 * Pack nQ query rows (row i at element offset rowOf(i) = row0 + i * rowStride of
 * the head) for the backward: q scaled in both panel layouts, dout in both, lse
 * (-inf -> +inf so p = 0) and D = dout . out. Rows i with zeroRow[i] (globals, see
 * the header) get dout = 0 and D = 0.
 */
function packBackwardQueries(
  nQ: i32, d: i32, dv: i32, scale: f32, qHead: usize, doHead: usize, outHead: usize, lseHead: usize,
  row0: i32, rowStride: i32, w: BackwardScratch,
): void {
  const nQpad = ceil4(nQ);
  packPanels(4, d, d, nQ, qHead + bytes(row0 * d), 1, d * rowStride, scale, w.qRow);
  packPanels(4, nQ, nQpad, d, qHead + bytes(row0 * d), d * rowStride, 1, scale, w.qCol);
  packPanels(4, dv, dv, nQ, doHead + bytes(row0 * dv), 1, dv * rowStride, 1, w.doRow);
  packPanels(4, nQ, nQpad, dv, doHead + bytes(row0 * dv), dv * rowStride, 1, 1, w.doCol);
  for (let i = 0; i < nQpad; i++) {
    let l: f32 = Infinity, D: f32 = 0;
    if (i < nQ) {
      const t = row0 + i * rowStride;
      const lse = load<f32>(lseHead + bytes(t));
      if (lse != -Infinity) l = lse;
      const dout = doHead + bytes(t * dv), out = outHead + bytes(t * dv);
      for (let c = 0; c < dv; c++) D += load<f32>(dout + bytes(c)) * load<f32>(out + bytes(c));
    }
    store<f32>(w.lse + bytes(i), l);
    store<f32>(w.D + bytes(i), D);
  }
}

/** Zero query row i of the packed dout (both layouts) and its D: the row's gradient comes from elsewhere. */
function dropBackwardQuery(i: i32, nQ: i32, dv: i32, w: BackwardScratch): void {
  const nQpad = ceil4(nQ);
  for (let c = 0; c < dv; c++) {
    store<f32>(w.doRow + bytes(((i >> 2) * dv + c) * 4 + (i & 3)), 0);
    store<f32>(w.doCol + bytes(((c >> 2) * nQpad + i) * 4 + (c & 3)), 0);
  }
  store<f32>(w.D + bytes(i), 0);
}

/**
 * One key tile (nk keys already packed in w.kPanel / vPanel / kRows, 8 key bias
 * floats at `bias`, key lanes j0 + 0..7) against the packed queries [iLo, iHi) in blocks;
 * dkT/dvT are overwritten, dq rows at w.dq accumulate. Band mode: row i sees lane j
 * iff lo <= j - centers[i] <= hi (when `alwaysEdge`, every block is masked element
 * by element). Global mode (`dilation` > 0): the lanes are the global keys at
 * w.laneKeys, centers[i] the rows' aligned positions, and the mask is the forward's
 * maskGlobalScores (outside the band, causal).
 */
function backwardKeyTile(
  d: i32, dv: i32, nQ: i32, iLo: i32, iHi: i32, j0: i32, nk: i32, lo: i32, hi: i32,
  bias: usize, alwaysEdge: bool, w: BackwardScratch, dilation: i32 = 0, causal: bool = false,
): void {
  const nQpad = ceil4(nQ), dPad = ceil4(d), dvPad = ceil4(dv);
  memory.fill(w.dkT, 0, bytes(dPad * LANES));
  memory.fill(w.dvT, 0, bytes(dvPad * LANES));
  if (iLo >= iHi) return;
  const iStart = iLo & ~3, iEnd = min(ceil4(iHi), nQpad);
  for (let ib = iStart - iStart % QUERY_BLOCK; ib < iEnd; ib += QUERY_BLOCK) {
    const i0 = max(ib, iStart), i1 = min(ib + QUERY_BLOCK, iEnd);
    const nq = i1 - i0;
    let edge = alwaysEdge;
    if (!edge) {
      const cFirst = load<i32>(w.centers + bytes(i0)), cLast = load<i32>(w.centers + bytes(i1 - 1));
      edge = <i64>j0 - cLast < lo || <i64>(j0 + nk - 1) - cFirst > hi;
    }
    rowsTimesLanes_4x8(d, w.qRow, i0, nq, w.kPanel, w.p);
    if (dilation > 0) {
      maskBackwardGlobalScores(w.p, nq, i0, bias, w.laneKeys, w.laneSameClass, w.centers, lo, hi, dilation, causal);
    } else {
      maskBackwardBandScores(w.p, nq, i0, bias, j0, w.centers, lo, hi, edge);
    }
    rowsTimesLanes_4x8(dv, w.doRow, i0, nq, w.vPanel, w.ds);
    backwardProbabilities(w.p, w.ds, nq, w.lse + bytes(i0), w.D + bytes(i0), w.pMax);
    columnsTimesLanes_4x8(dvPad, w.doCol, nQpad, i0, nq, w.p, w.dvT);
    columnsTimesLanes_4x8(dPad, w.qCol, nQpad, i0, nq, w.ds, w.dkT);
    backwardQueryGradients(d, w.ds, nq, w.kRows, w.dq, i0, w.aT);
  }
}

/** Pack nk keys (row j0 + lane at element offset (pos0 + lane * stride) * width) into the tile panels. */
function packKeyTile(kHead: usize, vHead: usize, pos0: i32, stride: i32, nk: i32, d: i32, dv: i32, scale: f32, w: BackwardScratch): void {
  packPanels(LANES, d, d, nk, kHead + bytes(pos0 * d), 1, d * stride, 1, w.kPanel);
  packPanels(LANES, dv, dv, nk, vHead + bytes(pos0 * dv), 1, dv * stride, 1, w.vPanel);
  packPanels(LANES, nk, LANES, d, kHead + bytes(pos0 * d), d * stride, 1, scale, w.kRows);
}

/**
 * One backward call: its operands, band, the global-token buffers and the heads being
 * worked on (set by the driver loop); the table lives in region B_CALL.
 */
@unmanaged class BackwardCall {
  T: i32; S: i32; d: i32; dv: i32; offset: i32;
  scale: f32; causal: bool;
  /** The band as offsets on the dilated grid: lo = -left, hi = right (0 when causal), within +-UNBOUNDED. */
  lo: i32; hi: i32; dilation: i32;
  globals: usize; G: i32;
  /** The current kv head's G global keys and values, their dk/dv sums, and key bias (ceil8(G) floats, -inf past G). */
  gK: usize; gV: usize; gdK: usize; gdV: usize; gBias: usize;
  /** The current query head's rows at global positions, gathered: q, dout, out, lse (at most min(G, T) rows). */
  gQ: usize; gDo: usize; gOut: usize; gLse: usize;
  /** The current kv head of k, v, dk, dv and its batch's keyMask row (0 when none). */
  kHead: usize; vHead: usize; dkHead: usize; dvHead: usize; keyMaskRow: usize;
  /** The current query head of q, dout, out, lse, dq. */
  qHead: usize; doHead: usize; outHead: usize; lseHead: usize; dqHead: usize;
  w: BackwardScratch;
}

/** Lay out the backward's working regions in scratch and return their pointer table (pMax zeroed). */
function backwardScratch(scratch: usize, T: i32, S: i32, d: i32, dv: i32, G: i32): BackwardScratch {
  const w = changetype<BackwardScratch>(backwardRegion(scratch, B_PLAN, T, S, d, dv, G));
  w.pMax = backwardRegion(scratch, B_P_MAX, T, S, d, dv, G);
  v128.store(w.pMax, f32x4.splat(0));
  w.qRow = backwardRegion(scratch, B_Q_ROW, T, S, d, dv, G);
  w.qCol = backwardRegion(scratch, B_Q_COL, T, S, d, dv, G);
  w.doRow = backwardRegion(scratch, B_DO_ROW, T, S, d, dv, G);
  w.doCol = backwardRegion(scratch, B_DO_COL, T, S, d, dv, G);
  w.lse = backwardRegion(scratch, B_LSE, T, S, d, dv, G);
  w.D = backwardRegion(scratch, B_D, T, S, d, dv, G);
  w.centers = backwardRegion(scratch, B_CENTERS, T, S, d, dv, G);
  w.dq = backwardRegion(scratch, B_DQ, T, S, d, dv, G);
  w.keyBias = backwardRegion(scratch, B_KEY_BIAS, T, S, d, dv, G);
  w.kPanel = backwardRegion(scratch, B_K_PANEL, T, S, d, dv, G);
  w.vPanel = backwardRegion(scratch, B_V_PANEL, T, S, d, dv, G);
  w.kRows = backwardRegion(scratch, B_K_ROWS, T, S, d, dv, G);
  w.p = backwardRegion(scratch, B_P, T, S, d, dv, G);
  w.ds = backwardRegion(scratch, B_DS, T, S, d, dv, G);
  w.dkT = backwardRegion(scratch, B_DK_T, T, S, d, dv, G);
  w.dvT = backwardRegion(scratch, B_DV_T, T, S, d, dv, G);
  w.aT = backwardRegion(scratch, B_A_T, T, S, d, dv, G);
  w.rowsT = backwardRegion(scratch, B_ROWS_T, T, S, d, dv, G);
  w.laneKeys = backwardRegion(scratch, B_LANES, T, S, d, dv, G);
  w.laneSameClass = w.laneKeys + bytes(LANES);
  return w;
}

/**
 * Windowed attention backward (see the header and the forward's band). out and
 * lse are the forward's; scratch: attentionWindowedBackwardScratchFloats(T, S, d, dv, G).
 * Returns the largest probability exp(s - lse) met: at most 1 up to rounding when
 * lse is the forward's (the caller refuses an lse that makes it larger).
 */
export function attentionWindowedBackward(
  B: i32, Hq: i32, Hkv: i32, T: i32, S: i32, d: i32, dv: i32,
  q: usize, k: usize, v: usize, keyMask: usize, scale: f32, causal: bool,
  left: i32, right: i32, dilation: i32, globals: usize, G: i32,
  out: usize, lse: usize, dout: usize, dq: usize, dk: usize, dvOut: usize, scratch: usize,
): f32 {
  const c = changetype<BackwardCall>(backwardRegion(scratch, B_CALL, T, S, d, dv, G));
  c.T = T; c.S = S; c.d = d; c.dv = dv; c.offset = S - T;
  c.scale = scale; c.causal = causal;
  c.lo = -min(left, UNBOUNDED); c.hi = causal ? 0 : min(right, UNBOUNDED); c.dilation = dilation;
  c.globals = globals; c.G = G;
  c.gK = backwardRegion(scratch, B_G_K, T, S, d, dv, G);
  c.gV = backwardRegion(scratch, B_G_V, T, S, d, dv, G);
  c.gdK = backwardRegion(scratch, B_G_DK, T, S, d, dv, G);
  c.gdV = backwardRegion(scratch, B_G_DV, T, S, d, dv, G);
  c.gBias = backwardRegion(scratch, B_G_BIAS, T, S, d, dv, G);
  c.gQ = backwardRegion(scratch, B_G_Q, T, S, d, dv, G);
  c.gDo = backwardRegion(scratch, B_G_DO, T, S, d, dv, G);
  c.gOut = backwardRegion(scratch, B_G_OUT, T, S, d, dv, G);
  c.gLse = backwardRegion(scratch, B_G_LSE, T, S, d, dv, G);
  c.w = backwardScratch(scratch, T, S, d, dv, G);
  const group = Hq / Hkv;
  // a kv head a unit: its dk, dv and its query heads' dq are this thread's alone
  for (let kv = teamShareStart(B * Hkv), kvEnd = teamShareEnd(B * Hkv); kv < kvEnd; kv++) {
    const b = kv / Hkv, hk = kv % Hkv;
    c.keyMaskRow = keyMask == 0 ? 0 : keyMask + <usize>(b * S);
    {
      const kvRow0 = (b * Hkv + hk) * S;
      c.kHead = k + bytes(kvRow0 * d); c.vHead = v + bytes(kvRow0 * dv);
      c.dkHead = dk + bytes(kvRow0 * d); c.dvHead = dvOut + bytes(kvRow0 * dv);
      if (G > 0) gatherGlobalKeys(c);
      for (let hq = 0; hq < group; hq++) {
        const row0 = (b * Hq + hk * group + hq) * T;
        c.qHead = q + bytes(row0 * d); c.doHead = dout + bytes(row0 * dv);
        c.outHead = out + bytes(row0 * dv); c.lseHead = lse + bytes(row0); c.dqHead = dq + bytes(row0 * d);
        for (let r = 0; r < min(dilation, T); r++) backwardResidueClass(c, r);
        if (G > 0) backwardGlobalQueries(c);
      }
      if (G > 0) addGlobalKeyGradients(c);
    }
  }
  // the largest probability any thread met (a max: the same whichever thread met it)
  teamBarrier();
  let pMax = v128.load(c.w.pMax);
  for (let thread = 1; thread < teamSize(); thread++) pMax = f32x4.pmax(pMax, v128.load(backwardRegion(scratch, B_P_MAX, T, S, d, dv, G, thread)));
  return hmaxF32x4(pMax);
}

/** Gather the current kv head's global keys and values with their key bias, and zero their dk/dv sums. */
function gatherGlobalKeys(c: BackwardCall): void {
  const d = c.d, dv = c.dv, G = c.G, keyMaskRow = c.keyMaskRow;
  for (let gi = 0; gi < G; gi++) {
    const g = load<i32>(c.globals + bytes(gi));
    memory.copy(c.gK + bytes(gi * d), c.kHead + bytes(g * d), bytes(d));
    memory.copy(c.gV + bytes(gi * dv), c.vHead + bytes(g * dv), bytes(dv));
    const visible = keyMaskRow == 0 || load<u8>(keyMaskRow + <usize>g) != 0;
    store<f32>(c.gBias + bytes(gi), visible ? 0 : NEG_INF);
  }
  for (let gi = G; gi < ceil8(G); gi++) store<f32>(c.gBias + bytes(gi), NEG_INF);
  memory.fill(c.gdK, 0, bytes(G * d));
  memory.fill(c.gdV, 0, bytes(G * dv));
}

/**
 * Queries r, r + dil, ... of the current query head against keys rk, rk + dil, ...
 * (their band; query i's is centred on key i + jOff) in tiles of 8 keys, then against
 * the global keys outside it. dk/dv of the band keys accumulate; the class's dq rows
 * are written (0 for global queries, whose dq comes from backwardGlobalQueries).
 */
function backwardResidueClass(c: BackwardCall, r: i32): void {
  const w = c.w, T = c.T, d = c.d, dv = c.dv, dilation = c.dilation, offset = c.offset, lo = c.lo, hi = c.hi;
  const rk = floorMod(r + offset, dilation);
  const jOff = (r + offset - rk) / dilation;
  const nQ = countOnGrid(T, r, dilation), nK = countOnGrid(c.S, rk, dilation);
  packBackwardQueries(nQ, d, dv, c.scale, c.qHead, c.doHead, c.outHead, c.lseHead, r, dilation, w);
  for (let i = 0; i < ceil4(nQ); i++) store<i32>(w.centers + bytes(i), min(i, nQ - 1) + jOff);
  for (let gi = 0; gi < c.G; gi++) {
    // global queries of this class: their rows come from the pass over every key
    const t = load<i32>(c.globals + bytes(gi)) - offset;
    if (t >= 0 && t < T && t % dilation == r) dropBackwardQuery(t / dilation, nQ, dv, w);
  }
  memory.fill(w.dq, 0, bytes(ceil4(nQ) * d));
  fillKeyBias(nK, ceil8(nK), c.keyMaskRow, rk, dilation, w.keyBias);
  for (let j0 = 0; j0 < nK; j0 += LANES) {
    const nk = min(LANES, nK - j0);
    packKeyTile(c.kHead, c.vHead, rk + j0 * dilation, dilation, nk, d, dv, c.scale, w);
    // queries whose band [c + lo, c + hi] meets keys j0 .. j0 + nk - 1
    const iLo = <i32>max<i64>(0, <i64>j0 - jOff - hi);
    const iHi = <i32>min<i64>(nQ, <i64>j0 + nk - 1 - jOff - lo + 1);
    backwardKeyTile(d, dv, nQ, iLo, iHi, j0, nk, lo, hi, w.keyBias + bytes(j0), false, w);
    addTileColumns(w.dkT, d, nk, c.dkHead + bytes((rk + j0 * dilation) * d), d * dilation, w.rowsT);
    addTileColumns(w.dvT, dv, nk, c.dvHead + bytes((rk + j0 * dilation) * dv), dv * dilation, w.rowsT);
  }
  if (c.G > 0) backwardGlobalKeys(c, nQ, r, rk);
  for (let i = 0; i < nQ; i++) {
    memory.copy(c.dqHead + bytes((r + i * dilation) * d), w.dq + bytes(i * d), bytes(d));
  }
}

/**
 * The nQ queries of class r packed in c.w (keys of class rk) against the gathered global
 * keys outside their band, 8 keys a tile: dq accumulates in w.dq, the keys' dk/dv in c.gdK / gdV.
 */
function backwardGlobalKeys(c: BackwardCall, nQ: i32, r: i32, rk: i32): void {
  const w = c.w, d = c.d, dv = c.dv, G = c.G, dilation = c.dilation;
  // aligned positions t + S - T of the rows, for the global-key mask
  for (let i = 0; i < ceil4(nQ); i++) store<i32>(w.centers + bytes(i), r + min(i, nQ - 1) * dilation + c.offset);
  for (let g0 = 0; g0 < G; g0 += LANES) {
    const nk = min(LANES, G - g0);
    packKeyTile(c.gK + bytes(g0 * d), c.gV + bytes(g0 * dv), 0, 1, nk, d, dv, c.scale, w);
    for (let lane = 0; lane < LANES; lane++) {
      const g = load<i32>(c.globals + bytes(g0 + min(lane, nk - 1)));
      store<i32>(w.laneKeys + bytes(lane), g);
      store<i32>(w.laneSameClass + bytes(lane), floorMod(g - rk, dilation) == 0 ? -1 : 0);
    }
    backwardKeyTile(d, dv, nQ, 0, nQ, g0, nk, c.lo, c.hi, c.gBias + bytes(g0), true, w, dilation, c.causal);
    addTileColumns(w.dkT, d, nk, c.gdK + bytes(g0 * d), d, w.rowsT);
    addTileColumns(w.dvT, dv, nk, c.gdV + bytes(g0 * dv), dv, w.rowsT);
  }
}

/**
 * The current query head's rows at global positions against every key of the sequence
 * (undilated): dk/dv accumulate, and the rows' dq is added to the zeros their class pass wrote.
 */
function backwardGlobalQueries(c: BackwardCall): void {
  const w = c.w, T = c.T, S = c.S, d = c.d, dv = c.dv, offset = c.offset;
  let nG = 0;
  for (let gi = 0; gi < c.G; gi++) {
    const g = load<i32>(c.globals + bytes(gi));
    const t = g - offset;
    if (t < 0 || t >= T) continue;
    memory.copy(c.gQ + bytes(nG * d), c.qHead + bytes(t * d), bytes(d));
    memory.copy(c.gDo + bytes(nG * dv), c.doHead + bytes(t * dv), bytes(dv));
    memory.copy(c.gOut + bytes(nG * dv), c.outHead + bytes(t * dv), bytes(dv));
    store<f32>(c.gLse + bytes(nG), load<f32>(c.lseHead + bytes(t)));
    store<i32>(w.centers + bytes(nG), g);
    nG++;
  }
  if (nG == 0) return;
  packBackwardQueries(nG, d, dv, c.scale, c.gQ, c.gDo, c.gOut, c.gLse, 0, 1, w);
  for (let i = nG; i < ceil4(nG); i++) store<i32>(w.centers + bytes(i), load<i32>(w.centers + bytes(nG - 1)));
  memory.fill(w.dq, 0, bytes(ceil4(nG) * d));
  fillKeyBias(S, ceil8(S), c.keyMaskRow, 0, 1, w.keyBias);
  for (let j0 = 0; j0 < S; j0 += LANES) {
    const nk = min(LANES, S - j0);
    packKeyTile(c.kHead, c.vHead, j0, 1, nk, d, dv, c.scale, w);
    backwardKeyTile(d, dv, nG, 0, nG, j0, nk, -UNBOUNDED, c.causal ? 0 : UNBOUNDED, w.keyBias + bytes(j0), c.causal, w);
    addTileColumns(w.dkT, d, nk, c.dkHead + bytes(j0 * d), d, w.rowsT);
    addTileColumns(w.dvT, dv, nk, c.dvHead + bytes(j0 * dv), dv, w.rowsT);
  }
  for (let i = 0; i < nG; i++) {
    addRow(c.dqHead + bytes((load<i32>(w.centers + bytes(i)) - offset) * d), w.dq + bytes(i * d), d);
  }
}

/** Add the gathered global keys' dk/dv sums into the current kv head's dk and dv rows. */
function addGlobalKeyGradients(c: BackwardCall): void {
  const d = c.d, dv = c.dv;
  for (let gi = 0; gi < c.G; gi++) {
    const g = load<i32>(c.globals + bytes(gi));
    addRow(c.dkHead + bytes(g * d), c.gdK + bytes(gi * d), d);
    addRow(c.dvHead + bytes(g * dv), c.gdV + bytes(gi * dv), dv);
  }
}
