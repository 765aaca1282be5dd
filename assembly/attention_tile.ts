// Tiles of exact softmax attention, shared by the full and the windowed kernels.
//
// Dimensions: T queries, S keys, d query/key width, dv value width; j indexes keys
// of the sequence being attended (a dilated residue class or the whole sequence).
// A tile is 8 rows held in the 8 lanes of two f32x4: 8 queries in the forward,
// 8 keys in the backward. Every per-row quantity of the online softmax (running
// max m, running sum l, rescale factor) is then lane-wise: no horizontal reductions.
//
// Packed layouts (all f32, zero-padded, strides in elements):
//   panels of width w over K rows (packPanels): element (k, n) at (n/w * Kpad + k) * w + n%w;
//   kTiles  = K as 4-key panels over d:         key j, dim c at (j/4 * d + c) * 4 + j%4;
//   vTiles  = V as 4-column panels over keys:   key j, col c at (c/4 * nKpad + j) * 4 + c%4;
//   qPanel  = 8 scaled query rows, [d][8];  sT = scores or probabilities, [key][8];
//   oT      = the tile's output accumulator, [dvPad][8];  state = m[8], l[8], block max[8];
//   rowsT   = oT transposed back to rows, [8][dvPad].
// Each score block is one 4x8 GEMM micro-kernel per 4 keys (reduction d), and the
// value update one per 4 value columns (reduction over the block's keys).

import { gemm_4x8 } from "./gemm";
import { bytes, ceil4 } from "./layout";
import { fmaF32x4, loadLanesF32x4, storeLanesF32x4, storeTransposed4x4 } from "./simd";
import { expF32x4 } from "./exp_f32x4";

/** Rows per tile: the lanes of two f32x4. */
export const LANES: i32 = 8;
/**
 * Keys per block of the online softmax (the sT scratch is KEY_BLOCK x 8 floats, 8 KB).
 * 32, 64, 128 and 256 measured alike at T = 4096 (full ~35, windowed ~25 GFLOP/s
 * before the exp rework); 256 rescales least often over long rows.
 */
export const KEY_BLOCK: i32 = 256;
/** Stands for an unbounded window edge; positions are < 2^30 (wasm32 buffers). */
export const UNBOUNDED: i32 = 1 << 30;

const NEG_INF: f32 = -Infinity;

/** Floats of a tile's softmax state: running max m[8], running sum l[8], the current block's max[8]. */
export const STATE_FLOATS: i32 = 3 * LANES;
/** Byte offset of the block max in the state. */
const BLOCK_MAX: usize = 64;

/**
 * Pack B[K, N] (element (k, n) at b + 4 * (k * bRow + n * bCol)), times `scale`, into
 * panels of `width` columns, k-major: (k, n) at dst[(n/width * Kpad + k) * width + n%width].
 * Rows K..Kpad and columns N..ceil(N/width)*width are zero.
 */
export function packPanels(width: i32, K: i32, Kpad: i32, N: i32, b: usize, bRow: i32, bCol: i32, scale: f32, dst: usize): void {
  const panels = (N + width - 1) / width;
  const colBytes = bytes(bCol), rowBytes = bytes(bRow);
  const scaleV = f32x4.splat(scale);
  for (let p = 0; p < panels; p++) {
    const n0 = p * width;
    const cols = min(width, N - n0);
    let out = dst + bytes(p * Kpad * width);
    let k = 0;
    if (width == 8 && cols == 8) {
      if (bCol == 1) {
        // each k row of the panel is two contiguous vectors
        for (let row = b + <usize>n0 * colBytes; k < K; k++, row += rowBytes, out += 32) {
          v128.store(out, f32x4.mul(v128.load(row), scaleV));
          v128.store(out, f32x4.mul(v128.load(row, 16), scaleV), 16);
        }
      } else if (bRow == 1) {
        // the 8 columns are contiguous over k: two 4x4 transposes per 4 k
        const c0 = b + <usize>n0 * colBytes;
        for (; k + 4 <= K; k += 4, out += 128) {
          for (let half = 0; half < 2; half++) {
            const src = c0 + <usize>(half * 4) * colBytes + bytes(k);
            storeTransposed4x4(
              f32x4.mul(v128.load(src), scaleV), f32x4.mul(v128.load(src + colBytes), scaleV),
              f32x4.mul(v128.load(src + 2 * colBytes), scaleV), f32x4.mul(v128.load(src + 3 * colBytes), scaleV),
              out + bytes(half * 4), 32,
            );
          }
        }
      }
    } else if (width == 4 && cols == 4) {
      if (bCol == 1) {
        // each k row of the panel is one contiguous vector (V packed over keys)
        for (let row = b + <usize>n0 * colBytes; k < K; k++, row += rowBytes, out += 16) {
          v128.store(out, f32x4.mul(v128.load(row), scaleV));
        }
      } else if (bRow == 1) {
        // the panel's 4 columns are contiguous over k (K packed over d): 4x4 transposes
        const c0 = b + <usize>n0 * colBytes, c1 = c0 + colBytes, c2 = c1 + colBytes, c3 = c2 + colBytes;
        for (; k + 4 <= K; k += 4, out += 64) {
          const o = bytes(k);
          storeTransposed4x4(
            f32x4.mul(v128.load(c0 + o), scaleV), f32x4.mul(v128.load(c1 + o), scaleV),
            f32x4.mul(v128.load(c2 + o), scaleV), f32x4.mul(v128.load(c3 + o), scaleV), out, 16,
          );
        }
      }
    }
    for (; k < K; k++) {
      const row = b + <usize>k * rowBytes + <usize>n0 * colBytes;
      for (let j = 0; j < width; j++) {
        store<f32>(out + bytes(j), j < cols ? load<f32>(row + <usize>j * colBytes) * scale : 0);
      }
      out += bytes(width);
    }
    memory.fill(out, 0, bytes((Kpad - K) * width));
  }
}

/** Pack the rows rowIdx[0..rows) of a [., width] matrix, times `scale`, as a [width][8] panel (lanes >= rows zero). */
export function packRowsAsLanes(rowIdx: usize, rows: i32, width: i32, src: usize, scale: f32, panel: usize): void {
  let c = 0;
  if (rows == LANES) {
    // two 4x4 transposes per 4 columns: rows 0..3 -> lanes 0..3, rows 4..7 -> lanes 4..7
    const scaleV = f32x4.splat(scale);
    const rowBytes = bytes(width);
    for (; c + 4 <= width; c += 4) {
      for (let half = 0; half < 2; half++) {
        const r = rowIdx + bytes(half * 4);
        const off = bytes(c);
        storeTransposed4x4(
          f32x4.mul(v128.load(src + <usize>load<i32>(r) * rowBytes + off), scaleV),
          f32x4.mul(v128.load(src + <usize>load<i32>(r, 4) * rowBytes + off), scaleV),
          f32x4.mul(v128.load(src + <usize>load<i32>(r, 8) * rowBytes + off), scaleV),
          f32x4.mul(v128.load(src + <usize>load<i32>(r, 12) * rowBytes + off), scaleV),
          panel + bytes(c * LANES + half * 4), bytes(LANES),
        );
      }
    }
  }
  memory.fill(panel + bytes(c * LANES), 0, bytes((width - c) * LANES));
  for (let lane = 0; lane < rows; lane++) {
    const row = src + bytes(load<i32>(rowIdx + bytes(lane)) * width);
    for (let cc = c; cc < width; cc++) {
      store<f32>(panel + bytes(cc * LANES + lane), load<f32>(row + bytes(cc)) * scale);
    }
  }
}

/** keyBias[j] = 0 for a visible key, -inf for a padded one (keyMask[pos] == 0) or j in [n, nPad). */
export function fillKeyBias(n: i32, nPad: i32, keyMaskRow: usize, pos0: i32, posStride: i32, keyBias: usize): void {
  for (let j = 0; j < nPad; j++) {
    let visible = j < n;
    if (visible && keyMaskRow != 0) visible = load<u8>(keyMaskRow + <usize>(pos0 + j * posStride)) != 0;
    store<f32>(keyBias + bytes(j), visible ? 0 : NEG_INF);
  }
}

/**
 * out[r][lane] = sum_k aPanels[r0 + r][k] * bLanes[k][lane] for r < n (n % 4 == 0): rows of
 * 4-row panels (k-major, 4 floats per k; row r0 + r at aPanels + (r0 + r) * K floats) against
 * an [K][8] lane panel, one 4x8 GEMM micro-kernel per 4 rows. Scores in both directions:
 * forward keys x the queries in the lanes, backward queries x the keys in the lanes.
 */
// @ts-ignore: decorator
@inline export function rowsTimesLanes_4x8(K: i32, aPanels: usize, r0: i32, n: i32, bLanes: usize, out: usize): void {
  for (let r = 0; r < n; r += 4) {
    gemm_4x8(K, aPanels + bytes((r0 + r) * K), bLanes, out + bytes(r * LANES), LANES << 2, LANES, false);
  }
}

/**
 * Add keyBias[j0 + jj] to score row jj; when `edge`, also -inf where the key is
 * outside the lane's band: visible iff lo <= j - center[lane] <= hi. Stores the
 * block's lane-wise max at state + BLOCK_MAX for softmaxBlock.
 */
export function maskBandScores(
  sT: usize, nb: i32, j0: i32, keyBias: usize, centers: usize, lo: i32, hi: i32, edge: bool, state: usize,
): void {
  const negInf = f32x4.splat(NEG_INF);
  let mx0 = negInf, mx1 = negInf;
  const c0 = v128.load(centers), c1 = v128.load(centers, 16);
  const loV = i32x4.splat(lo), hiV = i32x4.splat(hi);
  for (let jj = 0; jj < nb; jj++) {
    const row = sT + bytes(jj * LANES);
    const bias = v128.load32_splat(keyBias + bytes(j0 + jj));
    let s0 = f32x4.add(v128.load(row), bias);
    let s1 = f32x4.add(v128.load(row, 16), bias);
    if (edge) {
      const j = i32x4.splat(j0 + jj);
      const d0 = i32x4.sub(j, c0), d1 = i32x4.sub(j, c1);
      const in0 = v128.and(i32x4.ge_s(d0, loV), i32x4.le_s(d0, hiV));
      const in1 = v128.and(i32x4.ge_s(d1, loV), i32x4.le_s(d1, hiV));
      s0 = v128.bitselect(s0, negInf, in0);
      s1 = v128.bitselect(s1, negInf, in1);
    }
    v128.store(row, s0);
    v128.store(row, s1, 16);
    mx0 = f32x4.pmax(mx0, s0);
    mx1 = f32x4.pmax(mx1, s1);
  }
  storeBlockMax(state, mx0, mx1);
}

/** Record a block's lane-wise max (lanes 0..3, 4..7) for softmaxBlock. */
// @ts-ignore: decorator
@inline export function storeBlockMax(state: usize, mx0: v128, mx1: v128): void {
  v128.store(state + BLOCK_MAX, mx0);
  v128.store(state + BLOCK_MAX, mx1, 16);
}

/**
 * Online softmax over one block of masked scores (lane-wise), the block max
 * already at state + BLOCK_MAX (stored by the mask pass):
 *   m' = max(m, max_j s[j]);  p[j] = exp(s[j] - m');  l' = l * exp(m - m') + sum_j p[j];
 *   oT *= exp(m - m').  sT is overwritten with p. A lane that has seen no key keeps
 *   m = -inf and l = 0 (exponents use 0 in place of m' = -inf, so no inf - inf).
 */
export function softmaxBlock(sT: usize, nb: i32, state: usize, oT: usize, dvPad: i32): void {
  const negInf = f32x4.splat(NEG_INF);
  const mOld0 = v128.load(state), mOld1 = v128.load(state, 16);
  const mx0 = f32x4.pmax(mOld0, v128.load(state + BLOCK_MAX));
  const mx1 = f32x4.pmax(mOld1, v128.load(state + BLOCK_MAX, 16));
  const zero = f32x4.splat(0);
  const use0 = v128.bitselect(zero, mx0, f32x4.eq(mx0, negInf));
  const use1 = v128.bitselect(zero, mx1, f32x4.eq(mx1, negInf));
  let sum0 = zero, sum1 = zero;
  for (let jj = 0; jj < nb; jj++) {
    const row = sT + bytes(jj * LANES);
    const p0 = expF32x4(f32x4.sub(v128.load(row), use0));
    const p1 = expF32x4(f32x4.sub(v128.load(row, 16), use1));
    v128.store(row, p0);
    v128.store(row, p1, 16);
    sum0 = f32x4.add(sum0, p0);
    sum1 = f32x4.add(sum1, p1);
  }
  const corr0 = expF32x4(f32x4.sub(mOld0, use0));
  const corr1 = expF32x4(f32x4.sub(mOld1, use1));
  v128.store(state, mx0);
  v128.store(state, mx1, 16);
  v128.store(state, fmaF32x4(v128.load(state, 32), corr0, sum0), 32);
  v128.store(state, fmaF32x4(v128.load(state, 48), corr1, sum1), 48);
  const one = f32x4.splat(1);
  if (!(i32x4.all_true(f32x4.eq(corr0, one)) && i32x4.all_true(f32x4.eq(corr1, one)))) {
    for (let c = 0; c < dvPad; c++) {
      const row = oT + bytes(c * LANES);
      v128.store(row, f32x4.mul(v128.load(row), corr0));
      v128.store(row, f32x4.mul(v128.load(row, 16), corr1), 16);
    }
  }
}

/**
 * outT[c][lane] += sum_{r < n} colPanels[c][r0 + r] * lanes[r][lane] for c < width4 (a multiple
 * of 4): 4-column panels over nPad rows ((c/4 * nPad + r) * 4 + c%4) against an [n][8] lane
 * panel, one 4x8 GEMM micro-kernel per 4 columns. The forward's out += p v (vTiles, p) and
 * the backward's dv += p^T dout, dk += ds^T q (doCol / qCol, p / ds).
 */
// @ts-ignore: decorator
@inline export function columnsTimesLanes_4x8(width4: i32, colPanels: usize, nPad: i32, r0: i32, n: i32, lanes: usize, outT: usize): void {
  for (let c = 0; c < width4; c += 4) {
    gemm_4x8(n, colPanels + bytes(c * nPad + r0 * 4), lanes, outT + bytes(c * LANES), LANES << 2, LANES, true);
  }
}

/** m = -inf, l = 0, oT = 0: a tile that has seen no key. */
export function resetTile(state: usize, oT: usize, dvPad: i32): void {
  const negInf = f32x4.splat(NEG_INF);
  v128.store(state, negInf);
  v128.store(state, negInf, 16);
  memory.fill(state + 32, 0, 32);
  memory.fill(oT, 0, bytes(dvPad * LANES));
}

/**
 * Write the tile's rows: out[row] = oT[:, lane] / l, lse[row] = m + log(l); a row
 * that saw no key (l == 0) gets zeros and lse = -inf. Row `lane` is rowIdx[lane].
 * Scratch `rowsT` holds 8 x dvPad floats (the tile transposed back to rows).
 */
export function finishTile(state: usize, oT: usize, dv: i32, rows: i32, rowIdx: usize, out: usize, lse: usize, rowsT: usize): void {
  const dvPad = ceil4(dv);
  for (let c = 0; c < dvPad; c += 4) {
    for (let half = 0; half < 2; half++) {
      const src = oT + bytes(c * LANES + half * 4);
      storeTransposed4x4(
        v128.load(src), v128.load(src, 32), v128.load(src, 64), v128.load(src, 96),
        rowsT + bytes(half * 4 * dvPad + c), bytes(dvPad),
      );
    }
  }
  for (let lane = 0; lane < rows; lane++) {
    const row = load<i32>(rowIdx + bytes(lane));
    const m = load<f32>(state + bytes(lane));
    const l = load<f32>(state + bytes(LANES + lane));
    const inv = f32x4.splat(l > 0 ? 1 / l : 0);
    const src = rowsT + bytes(lane * dvPad);
    const dst = out + bytes(row * dv);
    for (let c = 0; c < dv; c += 4) {
      storeLanesF32x4(dst + bytes(c), f32x4.mul(v128.load(src + bytes(c)), inv), dv - c);
    }
    store<f32>(lse + bytes(row), l > 0 ? m + Mathf.log(l) : NEG_INF);
  }
}

// ---------------------------------------------------------------------------
// Backward tiles (FlashAttention-2 maths, recomputing p from lse). Here a tile is
// 8 KEYS in the lanes and queries are streamed in blocks of QUERY_BLOCK rows:
//   s[i][lane]  = sum_c qRow[i][c] kPanel[c][lane]        (qRow: 4-query panels over d, scaled)
//   p           = exp(s - lse[i]);  dp = sum_c doRow[i][c] vPanel[c][lane]
//   ds          = p * (dp - D[i]),  D[i] = dout[i] . out[i]
//   dvT[c][lane] += sum_i doCol[c][i] p[i][lane]          (dv = p^T dout)
//   dkT[c][lane] += sum_i qCol[c][i] ds[i][lane]          (dk = scale ds^T q)
//   dq[i][c]    += sum_lane ds[i][lane] kRows[lane][c]    (dq = scale ds k)
// so four of the five products reduce over d, dv or the query block and only dq
// over the 8 keys. Layouts: qCol/doCol are 4-column panels over queries
// ((c/4 * nQpad + i) * 4 + c%4), kPanel/vPanel [width][8], kRows 8-column panels
// over the 8 keys ((c/8 * 8 + lane) * 8 + c%8), p/ds [QUERY_BLOCK][8].

/** Queries per block of the backward (p and ds scratch are QUERY_BLOCK x 8 floats). */
export const QUERY_BLOCK: i32 = 64;

/**
 * Add the key bias lanes (8 floats at `bias`) to backward scores and, when `edge`, -inf outside each
 * row's band: row i sees key lane j0 + lane iff lo <= j - centers[i0 + ii] <= hi.
 */
export function maskBackwardBandScores(
  s: usize, nq: i32, i0: i32, bias: usize, j0: i32, centers: usize, lo: i32, hi: i32, edge: bool,
): void {
  const negInf = f32x4.splat(NEG_INF);
  const bias0 = v128.load(bias), bias1 = v128.load(bias, 16);
  const j0v = i32x4.add(i32x4.splat(j0), i32x4(0, 1, 2, 3)), j1v = i32x4.add(j0v, i32x4.splat(4));
  const loV = i32x4.splat(lo), hiV = i32x4.splat(hi);
  for (let ii = 0; ii < nq; ii++) {
    const row = s + bytes(ii * LANES);
    let s0 = f32x4.add(v128.load(row), bias0);
    let s1 = f32x4.add(v128.load(row, 16), bias1);
    if (edge) {
      const c = i32x4.splat(load<i32>(centers + bytes(i0 + ii)));
      const d0 = i32x4.sub(j0v, c), d1 = i32x4.sub(j1v, c);
      s0 = v128.bitselect(s0, negInf, v128.and(i32x4.ge_s(d0, loV), i32x4.le_s(d0, hiV)));
      s1 = v128.bitselect(s1, negInf, v128.and(i32x4.ge_s(d1, loV), i32x4.le_s(d1, hiV)));
    }
    v128.store(row, s0);
    v128.store(row, s1, 16);
  }
}

/**
 * The backward twin of the forward's global-key mask, keys in the lanes: row i (aligned
 * position positions[i0 + ii]) sees global g = laneKeys[lane] unless g is in its band
 * (laneSameClass[lane] and lo*dil <= g - p <= hi*dil), or causal and g > p; plus the bias.
 */
export function maskBackwardGlobalScores(
  s: usize, nq: i32, i0: i32, bias: usize, laneKeys: usize, laneSameClass: usize, positions: usize,
  lo: i32, hi: i32, dilation: i32, causal: bool,
): void {
  const negInf = f32x4.splat(NEG_INF);
  const bias0 = v128.load(bias), bias1 = v128.load(bias, 16);
  const g0 = v128.load(laneKeys), g1 = v128.load(laneKeys, 16);
  const same0 = v128.load(laneSameClass), same1 = v128.load(laneSameClass, 16);
  const loV = i32x4.splat(<i32>max<i64>(-UNBOUNDED, <i64>lo * dilation));
  const hiV = i32x4.splat(<i32>min<i64>(UNBOUNDED, <i64>hi * dilation));
  const zero = i32x4.splat(0);
  for (let ii = 0; ii < nq; ii++) {
    const row = s + bytes(ii * LANES);
    const p = i32x4.splat(load<i32>(positions + bytes(i0 + ii)));
    const d0 = i32x4.sub(g0, p), d1 = i32x4.sub(g1, p);
    let see0 = v128.not(v128.and(same0, v128.and(i32x4.ge_s(d0, loV), i32x4.le_s(d0, hiV))));
    let see1 = v128.not(v128.and(same1, v128.and(i32x4.ge_s(d1, loV), i32x4.le_s(d1, hiV))));
    if (causal) {
      see0 = v128.and(see0, i32x4.le_s(d0, zero));
      see1 = v128.and(see1, i32x4.le_s(d1, zero));
    }
    v128.store(row, v128.bitselect(f32x4.add(v128.load(row), bias0), negInf, see0));
    v128.store(row, v128.bitselect(f32x4.add(v128.load(row, 16), bias1), negInf, see1), 16);
  }
}

/**
 * From masked scores s (overwritten with p) and dp (overwritten with ds):
 * p = exp(s - lse[i]), ds = p * (dp - D[i]). Rows that saw no key carry lse = +inf (p = 0).
 * pMax (4 floats) keeps the lane-wise max of every p: above 1 (beyond rounding) the
 * lse given by the caller is below the row's largest score, i.e. not the forward's.
 */
export function backwardProbabilities(s: usize, dp: usize, nq: i32, lse: usize, D: usize, pMax: usize): void {
  let mx = v128.load(pMax);
  for (let ii = 0; ii < nq; ii++) {
    const row = bytes(ii * LANES);
    const l = v128.load32_splat(lse + bytes(ii)), dRow = v128.load32_splat(D + bytes(ii));
    const p0 = expF32x4(f32x4.sub(v128.load(s + row), l));
    const p1 = expF32x4(f32x4.sub(v128.load(s + row, 16), l));
    mx = f32x4.pmax(mx, f32x4.pmax(p0, p1));
    v128.store(s + row, p0);
    v128.store(s + row, p1, 16);
    v128.store(dp + row, f32x4.mul(p0, f32x4.sub(v128.load(dp + row), dRow)));
    v128.store(dp + row, f32x4.mul(p1, f32x4.sub(v128.load(dp + row, 16), dRow)), 16);
  }
  v128.store(pMax, mx);
}

/** dq[i0 + ii][c] += sum_lane ds[ii][lane] kRows[lane][c] (dq row stride d; aT: 32 floats of scratch). */
export function backwardQueryGradients(d: i32, ds: usize, nq: i32, kRows: usize, dq: usize, i0: i32, aT: usize): void {
  const ldcBytes = bytes(d);
  for (let ii = 0; ii < nq; ii += 4) {
    // the 4 x 8 block of ds, transposed to the micro-kernel's k-major A tile [lane][4]
    const src = ds + bytes(ii * LANES);
    storeTransposed4x4(v128.load(src), v128.load(src, 32), v128.load(src, 64), v128.load(src, 96), aT, 16);
    storeTransposed4x4(v128.load(src, 16), v128.load(src, 48), v128.load(src, 80), v128.load(src, 112), aT + 64, 16);
    const rowPtr = dq + bytes((i0 + ii) * d);
    for (let c = 0; c < d; c += 8) {
      gemm_4x8(LANES, aT, kRows + bytes(c * LANES), rowPtr + bytes(c), ldcBytes, min(8, d - c), true);
    }
  }
}

/**
 * rows[lane] += xT[:, lane] for lane < rows: row `lane` of width w at
 * dst + (lane * rowStride) floats. rowsT: 8 x ceil4(w) floats of scratch.
 */
export function addTileColumns(xT: usize, w: i32, rows: i32, dst: usize, rowStride: i32, rowsT: usize): void {
  const wPad = ceil4(w);
  for (let c = 0; c < wPad; c += 4) {
    for (let half = 0; half < 2; half++) {
      const src = xT + bytes(c * LANES + half * 4);
      storeTransposed4x4(v128.load(src), v128.load(src, 32), v128.load(src, 64), v128.load(src, 96), rowsT + bytes(half * 4 * wPad + c), bytes(wPad));
    }
  }
  for (let lane = 0; lane < rows; lane++) {
    const row = dst + bytes(lane * rowStride);
    const src = rowsT + bytes(lane * wPad);
    for (let c = 0; c < w; c += 4) {
      const n = min(4, w - c);
      storeLanesF32x4(row + bytes(c), f32x4.add(loadLanesF32x4(row + bytes(c), n), v128.load(src + bytes(c))), n);
    }
  }
}
