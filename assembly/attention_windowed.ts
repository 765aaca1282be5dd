// Banded (sliding-window) softmax attention, forward: the driver around the tiles
// of attention_tile.ts. Full attention is the band that covers every key and runs
// this same code (attention_full.ts), so a window >= T gives full's bits exactly.
//
// Dimensions: B batch, Hq query heads, Hkv kv heads (query head h reads kv head
// h / (Hq / Hkv)), T queries, S keys, d query/key width, dv value width, G globals.
// Layout: q [B, Hq, T, d], k [B, Hkv, S, d], v [B, Hkv, S, dv], out [B, Hq, T, dv],
// lse [B, Hq, T], keyMask u8 [B, S] (0 = padding) or 0, globals i32 [G] sorted unique
// key positions. Strides in elements. Outputs are overwritten.
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

import {
  KEY_BLOCK, LANES, UNBOUNDED, bytes, ceil4, fillKeyBias, finishTile, floorMod, maskBandScores, packPanels,
  packRowsAsLanes, resetTile, storeBlockMax, softmaxBlock, STATE_FLOATS, tileScores, tileValues,
} from "./attention_tile";

const NEG_INF: f32 = -Infinity;

// Forward scratch regions, in this order, each rounded up to 4 floats (16-byte aligned).
const K_TILES = 0, V_TILES = 1, KEY_BIAS = 2, Q_PANEL = 3, SCORES = 4, OUT_T = 5, STATE = 6, ROWS = 7,
  CENTERS = 8, G_K = 9, G_V = 10, G_K_TILES = 11, G_V_TILES = 12, G_BIAS = 13, ROWS_T = 14, REGIONS = 15;

function regionFloats(region: i32, S: i32, d: i32, dv: i32, G: i32): i32 {
  const nKpad = ceil4(S), dvPad = ceil4(dv), Gpad = ceil4(G);
  switch (region) {
    case K_TILES: return nKpad * d;
    case V_TILES: return dvPad * nKpad;
    case KEY_BIAS: return nKpad;
    case Q_PANEL: return d * LANES;
    case SCORES: return KEY_BLOCK * LANES;
    case OUT_T: return dvPad * LANES;
    case STATE: return STATE_FLOATS;
    case ROWS: return LANES;
    case CENTERS: return LANES;
    case G_K: return G * d;
    case G_V: return G * dv;
    case G_K_TILES: return Gpad * d;
    case G_V_TILES: return dvPad * Gpad;
    case G_BIAS: return Gpad;
    case ROWS_T: return LANES * dvPad;
  }
  return 0;
}

function region(scratch: usize, which: i32, S: i32, d: i32, dv: i32, G: i32): usize {
  let floats = 0;
  for (let r = 0; r < which; r++) floats += ceil4(regionFloats(r, S, d, dv, G));
  return scratch + bytes(floats);
}

/** Floats of scratch attendWindowed needs. */
export function attentionForwardScratchFloats(S: i32, d: i32, dv: i32, G: i32): i32 {
  return <i32>(region(0, REGIONS, S, d, dv, G) >> 2);
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
    tileScores(d, kTiles, jb, nb, qPanel, sT);
    maskBandScores(sT, nb, jb, keyBias, centers, lo, hi, edge, state);
    softmaxBlock(sT, nb, state, oT, dvPad);
    tileValues(dvPad, vTiles, nKpad, jb, nb, sT, oT);
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

/**
 * Windowed attention forward (see the header). left/right >= UNBOUNDED mean no edge;
 * scratch: attentionForwardScratchFloats(S, d, dv, G) floats.
 */
export function attendWindowed(
  B: i32, Hq: i32, Hkv: i32, T: i32, S: i32, d: i32, dv: i32,
  q: usize, k: usize, v: usize, keyMask: usize, scale: f32, causal: bool,
  left: i32, right: i32, dilation: i32, globals: usize, G: i32,
  out: usize, lse: usize, scratch: usize,
): void {
  const kTiles = region(scratch, K_TILES, S, d, dv, G);
  const vTiles = region(scratch, V_TILES, S, d, dv, G);
  const keyBias = region(scratch, KEY_BIAS, S, d, dv, G);
  const qPanel = region(scratch, Q_PANEL, S, d, dv, G);
  const sT = region(scratch, SCORES, S, d, dv, G);
  const oT = region(scratch, OUT_T, S, d, dv, G);
  const state = region(scratch, STATE, S, d, dv, G);
  const rowIdx = region(scratch, ROWS, S, d, dv, G);
  const centers = region(scratch, CENTERS, S, d, dv, G);
  const gK = region(scratch, G_K, S, d, dv, G);
  const gV = region(scratch, G_V, S, d, dv, G);
  const gkTiles = region(scratch, G_K_TILES, S, d, dv, G);
  const gvTiles = region(scratch, G_V_TILES, S, d, dv, G);
  const gBias = region(scratch, G_BIAS, S, d, dv, G);
  const rowsT = region(scratch, ROWS_T, S, d, dv, G);

  const group = Hq / Hkv;
  const offset = S - T;
  const dvPad = ceil4(dv);
  const lo = -min(left, UNBOUNDED);
  const hi = causal ? 0 : min(right, UNBOUNDED);
  for (let b = 0; b < B; b++) {
    const keyMaskRow: usize = keyMask == 0 ? 0 : keyMask + <usize>(b * S);
    for (let hk = 0; hk < Hkv; hk++) {
      const kHead = k + bytes((b * Hkv + hk) * S * d);
      const vHead = v + bytes((b * Hkv + hk) * S * dv);
      if (G > 0) packGlobalKeys(kHead, vHead, d, dv, globals, G, keyMaskRow, gK, gV, gkTiles, gvTiles, gBias);
      for (let r = 0; r < min(dilation, T); r++) {
        const nQ = (T - r + dilation - 1) / dilation;
        const rk = floorMod(r + offset, dilation);
        const jOff = (r + offset - rk) / dilation;
        const nK = rk < S ? (S - rk + dilation - 1) / dilation : 0;
        packKeysValues(kHead, vHead, rk, nK, dilation, d, dv, keyMaskRow, kTiles, vTiles, keyBias);
        for (let hq = 0; hq < group; hq++) {
          const h = hk * group + hq;
          const qHead = q + bytes((b * Hq + h) * T * d);
          const outHead = out + bytes((b * Hq + h) * T * dv);
          const lseHead = lse + bytes((b * Hq + h) * T);
          for (let i0 = 0; i0 < nQ; i0 += LANES) {
            const rows = min(LANES, nQ - i0);
            for (let lane = 0; lane < LANES; lane++) {
              const i = i0 + min(lane, rows - 1); // padding lanes repeat the last row
              store<i32>(rowIdx + bytes(lane), r + i * dilation);
              store<i32>(centers + bytes(lane), i + jOff);
            }
            packRowsAsLanes(rowIdx, rows, d, qHead, scale, qPanel);
            resetTile(state, oT, dvPad);
            attendBand(d, dvPad, nK, kTiles, vTiles, keyBias, centers, lo, hi, qPanel, sT, state, oT);
            if (G > 0) {
              // aligned positions t + S - T of the lanes, for the global-key mask
              for (let lane = 0; lane < LANES; lane++) {
                store<i32>(centers + bytes(lane), load<i32>(rowIdx + bytes(lane)) + offset);
              }
              const Gpad = ceil4(G);
              for (let jb = 0; jb < Gpad; jb += KEY_BLOCK) {
                const nb = min(KEY_BLOCK, Gpad - jb);
                tileScores(d, gkTiles, jb, nb, qPanel, sT);
                maskGlobalScores(sT, nb, jb, gBias, globals, G, centers, rk, dilation, lo, hi, causal, state);
                softmaxBlock(sT, nb, state, oT, dvPad);
                tileValues(dvPad, gvTiles, Gpad, jb, nb, sT, oT);
              }
            }
            finishTile(state, oT, dv, rows, rowIdx, outHead, lseHead, rowsT);
          }
        }
      }
      if (G > 0) {
        // Rows of global queries attend to every key: redo them over the whole sequence.
        if (dilation > 1) packKeysValues(kHead, vHead, 0, S, 1, d, dv, keyMaskRow, kTiles, vTiles, keyBias);
        for (let hq = 0; hq < group; hq++) {
          const h = hk * group + hq;
          const qHead = q + bytes((b * Hq + h) * T * d);
          const outHead = out + bytes((b * Hq + h) * T * dv);
          const lseHead = lse + bytes((b * Hq + h) * T);
          let gi = 0;
          while (gi < G) {
            let rows = 0;
            for (; gi < G && rows < LANES; gi++) {
              const g = load<i32>(globals + bytes(gi));
              const t = g - offset;
              if (t < 0 || t >= T) continue;
              store<i32>(rowIdx + bytes(rows), t);
              store<i32>(centers + bytes(rows), g);
              rows++;
            }
            if (rows == 0) break;
            for (let lane = rows; lane < LANES; lane++) {
              store<i32>(rowIdx + bytes(lane), load<i32>(rowIdx + bytes(rows - 1)));
              store<i32>(centers + bytes(lane), load<i32>(centers + bytes(rows - 1)));
            }
            packRowsAsLanes(rowIdx, rows, d, qHead, scale, qPanel);
            resetTile(state, oT, dvPad);
            attendBand(d, dvPad, S, kTiles, vTiles, keyBias, centers, -UNBOUNDED, causal ? 0 : UNBOUNDED, qPanel, sT, state, oT);
            finishTile(state, oT, dv, rows, rowIdx, outHead, lseHead, rowsT);
          }
        }
      }
    }
  }
}
