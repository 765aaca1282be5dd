// Kernelized (linear) attention: out_t = phi(q_t) KV / (phi(q_t) . z + eps), with
// KV = sum_s phi(k_s) v_s^T and z = sum_s phi(k_s) over the keys t sees.
//
// Dimensions: B batch, Hq / Hkv heads (query head h reads kv head h / (Hq / Hkv)),
// T queries, S keys, d query/key width, dv value width, F features, C = LINEAR_CHUNK.
// Layout: q [B, Hq, T, d], k [B, Hkv, S, d], v [B, Hkv, S, dv], out [B, Hq, T, dv],
// keyMask u8 [B, S] or 0, W [F, d] (FAVOR+ random features). Strides in elements;
// out is overwritten.
//
// Values are carried as V' = [V | 1] (dv + 1 columns), so one GEMM gives both the
// numerator and, in its last column, the denominator: KV' = phi(K)^T V' is [F, dv + 1].
// Bidirectional: one pass over the keys (KV'), then num' = phi(Q_c) KV' per query chunk.
// Causal: chunks of C tokens, query t at key position t + S - T:
//   num'_c = (phi(Q_c) phi(K_c)^T (.) lower) V'_c + phi(Q_c) KV'_prefix;  KV'_prefix += phi(K_c)^T V'_c
// so the inner work is GEMMs (assembly/gemm.ts), never per-token outer products.
//
// Feature maps: elu1 = elu(x) + 1, relu = max(x, 0), favor = exp(w_i . x - |x|^2 / 2) / sqrt(F)
// with x = sqrt(scale) q (so phi(q) . phi(k) estimates exp(scale q . k)). FAVOR+ is
// stabilised by a per-row max c_q for queries and a running max c_K over the keys
// (KV' rescaled when it grows); both factors cancel between numerator and
// denominator, and eps is scaled by exp(-c_q - c_K) too, so the result is exactly
// the formula above in unstabilised units (and independent of chunking).

import { GEMM_NR, gemmPacked, gemmPackedAFloats, gemmPackedBFloats } from "./gemm";
import { bytes, ceil4, packPanels } from "./attention_tile";
import { expF32x4 } from "./exp_f32x4";
import { hmaxF32x4, hsumF32x4, loadLanesF32x4, storeLanesF32x4 } from "./simd";

/**
 * Tokens per chunk of the causal prefix sums (and of the key / query passes). The
 * intra-chunk products cost 2 C (F + dv) flops per token against 4 F dv for the
 * prefix: 32 halves that part of 64 at the same GEMM efficiency (FAVOR+ causal,
 * T = 4096, H = 8: 271 -> 227 ms in a noisy run).
 */
export const LINEAR_CHUNK: i32 = 32;

/**
 * Rows per pass where no causal mask applies (bidirectional passes, keys every query
 * sees): the products then have 128-row operands, 20-30% faster than 32-row ones in
 * a matmul probe (FAVOR+ at T = 4096, H = 8: bidirectional 119 -> 116 ms, causal
 * 142 -> 137 ms).
 */
export const PASS_CHUNK: i32 = 128;

export const FEATURE_ELU1: i32 = 0;
export const FEATURE_RELU: i32 = 1;
export const FEATURE_FAVOR: i32 = 2;

const NEG_INF: f32 = -Infinity;

// Linear scratch regions, in this order, each rounded up to 4 floats.
// Regions past L_REGIONS are used by the backward only.
const L_PACKED_W = 0, L_PACK_A = 1, L_PHI_K = 2, L_V_ONE = 3, L_PACKED_V = 4, L_KV = 5, L_PACKED_KV = 6,
  L_PHI_Q = 7, L_PACKED_KT = 8, L_A = 9, L_NUM = 10, L_ROW_MAX = 11, L_REGIONS = 12,
  L_PACKED_WT = 12, L_GRAD_PHI = 13, L_DX = 14, L_E = 15, L_PACK_1 = 16, L_PACK_2 = 17, L_G = 18,
  L_PACKED_K = 19, L_BACKWARD_REGIONS = 20;

function linearRegionFloats(region: i32, d: i32, dv: i32, F: i32): i32 {
  const C = LINEAR_CHUNK, P = PASS_CHUNK, w = dv + 1;
  switch (region) {
    case L_PACKED_W: return gemmPackedBFloats(d, F);
    case L_PACK_A: return gemmPackedAFloats();
    case L_PHI_K: case L_PHI_Q: return P * F;
    case L_V_ONE: return P * w;
    case L_PACKED_V: return gemmPackedBFloats(P, w);
    case L_KV: return F * w;
    case L_PACKED_KV: return gemmPackedBFloats(F, w);
    case L_PACKED_KT: return gemmPackedBFloats(F, C);
    case L_A: return C * C;
    case L_NUM: return P * w;
    case L_ROW_MAX: return P;
    case L_PACKED_WT: return gemmPackedBFloats(F, d);
    case L_GRAD_PHI: return P * F;
    case L_DX: return P * d;
    case L_E: return C * C;
    case L_PACK_1: case L_PACK_2:
      return max(max(max(gemmPackedBFloats(w, F), gemmPackedBFloats(P, F)), max(gemmPackedBFloats(w, C), gemmPackedBFloats(P, w))), gemmPackedBFloats(F, w));
    case L_G: return F * w;
    case L_PACKED_K: return gemmPackedBFloats(C, F);
  }
  return 0;
}

function linearRegion(scratch: usize, which: i32, d: i32, dv: i32, F: i32): usize {
  let floats = 0;
  for (let r = 0; r < which; r++) floats += ceil4(linearRegionFloats(r, d, dv, F));
  return scratch + bytes(floats);
}

/** Bytes at the start of the scratch for the LinearCall table (16-byte aligned). */
// @ts-ignore: decorator
@inline function callBytes(): usize {
  return (offsetof<LinearCall>() + 15) & ~15;
}

/** Floats of scratch attentionLinearForward needs. */
export function attentionLinearScratchFloats(d: i32, dv: i32, F: i32): i32 {
  return <i32>((callBytes() + linearRegion(0, L_REGIONS, d, dv, F)) >> 2);
}

/** The call's constants and scratch pointers; the table lives at the start of the scratch (callBytes()). */
@unmanaged export class LinearCall {
  d: i32; dv: i32; F: i32; featureMap: i32; rootScale: f32; invRootF: f32; eps: f32;
  packedW: usize; packA: usize; phiK: usize; vOne: usize; packedV: usize; kv: usize; packedKV: usize;
  phiQ: usize; packedKT: usize; a: usize; num: usize; rowMax: usize;
  /** Running key stabiliser c_K (FAVOR+; 0 for the other maps, -inf before the first visible key). */
  keyMax: f32;
  // backward only
  packedWt: usize; gradPhi: usize; dx: usize; e: usize; pack1: usize; pack2: usize; g: usize; packedK: usize;
  /** dN' = [dout / den | -(dout . out) / den] of every query of the group's heads, [group][T][dv + 1]. */
  dN: usize;
  /** c_K after each causal chunk (index 0: the keys before the first query), [chunks + 1]. */
  keyMaxAt: usize;
}

function setUpLinearCall(
  scratch: usize, d: i32, dv: i32, F: i32, featureMap: i32, W: usize, scale: f32, eps: f32,
): LinearCall {
  const call = changetype<LinearCall>(scratch);
  const base = scratch + callBytes();
  call.d = d; call.dv = dv; call.F = F; call.featureMap = featureMap; call.eps = eps;
  call.rootScale = Mathf.sqrt(scale);
  call.invRootF = 1 / Mathf.sqrt(<f32>F);
  call.packedW = linearRegion(base, L_PACKED_W, d, dv, F);
  call.packA = linearRegion(base, L_PACK_A, d, dv, F);
  call.phiK = linearRegion(base, L_PHI_K, d, dv, F);
  call.vOne = linearRegion(base, L_V_ONE, d, dv, F);
  call.packedV = linearRegion(base, L_PACKED_V, d, dv, F);
  call.kv = linearRegion(base, L_KV, d, dv, F);
  call.packedKV = linearRegion(base, L_PACKED_KV, d, dv, F);
  call.phiQ = linearRegion(base, L_PHI_Q, d, dv, F);
  call.packedKT = linearRegion(base, L_PACKED_KT, d, dv, F);
  call.a = linearRegion(base, L_A, d, dv, F);
  call.num = linearRegion(base, L_NUM, d, dv, F);
  call.rowMax = linearRegion(base, L_ROW_MAX, d, dv, F);
  // FAVOR+: g = s x W^T is a GEMM with B = s W^T [d, F], packed once per call
  if (featureMap == FEATURE_FAVOR) {
    packB(d, F, W, 1, d, call.packedW);
    const n = gemmPackedBFloats(d, F);
    for (let i = 0; i < n; i++) store<f32>(call.packedW + bytes(i), load<f32>(call.packedW + bytes(i)) * call.rootScale);
  }
  return call;
}

/** Row r of x: x[r] . x[r] (d floats, row stride d). */
function squaredNorm(x: usize, d: i32): f32 {
  let sum = f32x4.splat(0);
  for (let c = 0; c < d; c += 4) {
    const xv = loadLanesF32x4(x + bytes(c), min(4, d - c));
    sum = f32x4.add(sum, f32x4.mul(xv, xv));
  }
  return hsumF32x4(sum);
}

/** Lane-wise max over one row of F floats. */
function rowMax(row: usize, F: i32): f32 {
  let m = f32x4.splat(NEG_INF);
  let f = 0;
  for (; f + 4 <= F; f += 4) m = f32x4.pmax(m, v128.load(row + bytes(f)));
  let result = hmaxF32x4(m);
  for (; f < F; f++) result = max(result, load<f32>(row + bytes(f)));
  return result;
}

/**
 * Features of n rows x (row stride d) into phi [n, F]: elu1 / relu directly; for
 * FAVOR+ the projections g_i = s (w_i . x) (s = sqrt(scale), folded into the packed
 * W), to be stabilised and exponentiated by the caller.
 */
export function featureLogits(call: LinearCall, x: usize, n: i32, phi: usize): void {
  const d = call.d, F = call.F;
  if (call.featureMap == FEATURE_FAVOR) {
    gemmPacked(n, F, d, x, d, 1, call.packedW, phi, F, false, call.packA);
    return;
  }
  const zero = f32x4.splat(0), one = f32x4.splat(1);
  for (let r = 0; r < n; r++) {
    const row = x + bytes(r * d), out = phi + bytes(r * F);
    for (let c = 0; c < d; c += 4) {
      const xv = loadLanesF32x4(row + bytes(c), min(4, d - c));
      const y = call.featureMap == FEATURE_RELU
        ? f32x4.pmax(xv, zero)
        // elu(x) + 1 = x + 1 for x > 0, exp(x) otherwise
        : v128.bitselect(f32x4.add(xv, one), expF32x4(f32x4.pmin(xv, zero)), f32x4.gt(xv, zero));
      storeLanesF32x4(out + bytes(c), y, d - c);
    }
  }
}

/**
 * phi[r] = exp(phi[r] - shift_r) / sqrt(F) for rows r < n, shift_r = rowShift[r] + shift
 * (rowShift may be 0). Two vectors per step and the lane tail only at the row's end:
 * 30 -> 14 ms of a 150 ms FAVOR+ call (T = 4096, H = 8, F = 256).
 */
export function exponentiateFeatures(call: LinearCall, phi: usize, n: i32, rowShift: usize, shift: f32): void {
  const F = call.F;
  const scaleV = f32x4.splat(call.invRootF);
  for (let r = 0; r < n; r++) {
    const c = f32x4.splat(rowShift != 0 ? load<f32>(rowShift + bytes(r)) + shift : shift);
    let p = phi + bytes(r * F);
    let f = 0;
    for (; f + 8 <= F; f += 8, p += 32) {
      const e0 = expF32x4(f32x4.sub(v128.load(p), c));
      const e1 = expF32x4(f32x4.sub(v128.load(p, 16), c));
      v128.store(p, f32x4.mul(e0, scaleV));
      v128.store(p, f32x4.mul(e1, scaleV), 16);
    }
    for (; f < F; f += 4, p += 16) {
      const m = min(4, F - f);
      storeLanesF32x4(p, f32x4.mul(expF32x4(f32x4.sub(loadLanesF32x4(p, m), c)), scaleV), m);
    }
  }
}

/**
 * Features of query rows t0 .. t0 + n (row stride d at qHead) into call.phiQ. FAVOR+:
 * u_i = g_i - s^2 |x|^2 / 2 is stabilised by c_q = max_i u_i, so the |x|^2 term cancels
 * inside the exp (phi_i = exp(g_i - max g) / sqrt(F)) and only c_q, kept in
 * call.rowMax for the eps term, carries it. Other maps: rowMax = 0.
 */
export function queryFeatures(call: LinearCall, qHead: usize, t0: i32, n: i32): void {
  const d = call.d, F = call.F;
  const x = qHead + bytes(t0 * d);
  featureLogits(call, x, n, call.phiQ);
  if (call.featureMap == FEATURE_FAVOR) {
    const halfS2: f32 = 0.5 * call.rootScale * call.rootScale;
    for (let r = 0; r < n; r++) {
      const row = call.phiQ + bytes(r * F);
      const g = rowMax(row, F);
      exponentiateFeatures(call, row, 1, 0, g);
      store<f32>(call.rowMax + bytes(r), g - halfS2 * squaredNorm(x + bytes(r * d), d));
    }
  } else {
    memory.fill(call.rowMax, 0, bytes(n));
  }
}

/**
 * Features of key rows s0 .. s0 + n into call.phiK (masked rows zero) and V' = [V | 1]
 * into call.vOne. For FAVOR+ the running max c_K grows to cover these keys and
 * KV' (the prefix so far) is rescaled by exp(c_old - c_new) to stay in its units.
 */
export function keyFeatures(call: LinearCall, kHead: usize, vHead: usize, s0: i32, n: i32, maskRow: usize): void {
  const d = call.d, dv = call.dv, F = call.F, w = dv + 1;
  const chunkMask: usize = maskRow == 0 ? 0 : maskRow + <usize>s0;
  const x = kHead + bytes(s0 * d);
  featureLogits(call, x, n, call.phiK);
  if (call.featureMap == FEATURE_FAVOR) {
    // u_i = g_i - s^2 |x|^2 / 2 per row (in place), and the max over the visible rows
    const halfS2 = f32x4.splat(0.5 * call.rootScale * call.rootScale);
    let chunkMax: f32 = NEG_INF;
    for (let r = 0; r < n; r++) {
      const row = call.phiK + bytes(r * F);
      const shift = f32x4.mul(halfS2, f32x4.splat(squaredNorm(x + bytes(r * d), d)));
      for (let f = 0; f < F; f += 4) {
        const m = min(4, F - f);
        storeLanesF32x4(row + bytes(f), f32x4.sub(loadLanesF32x4(row + bytes(f), m), shift), m);
      }
      if (chunkMask == 0 || load<u8>(chunkMask + <usize>r) != 0) chunkMax = max(chunkMax, rowMax(row, F));
    }
    const old = call.keyMax;
    const grown = max(old, chunkMax);
    if (grown > old) {
      if (old != NEG_INF) {
        const factor = f32x4.splat(Mathf.exp(old - grown));
        for (let i = 0; i < F * w; i += 4) {
          const n = min(4, F * w - i);
          storeLanesF32x4(call.kv + bytes(i), f32x4.mul(loadLanesF32x4(call.kv + bytes(i), n), factor), n);
        }
      }
      call.keyMax = grown;
    }
    exponentiateFeatures(call, call.phiK, n, 0, call.keyMax);
  }
  for (let r = 0; r < n; r++) {
    if (chunkMask != 0 && load<u8>(chunkMask + <usize>r) == 0) memory.fill(call.phiK + bytes(r * F), 0, bytes(F));
    memory.copy(call.vOne + bytes(r * w), vHead + bytes((s0 + r) * dv), bytes(dv));
    store<f32>(call.vOne + bytes(r * w + dv), 1);
  }
  packB(n, w, call.vOne, w, 1, call.packedV);
}

/** KV' += phi(K_c)^T V'_c for the n keys last prepared by keyFeatures. */
// @ts-ignore: decorator
@inline export function absorbKeys(call: LinearCall, n: i32): void {
  gemmPacked(call.F, call.dv + 1, n, call.phiK, 1, call.F, call.packedV, call.kv, call.dv + 1, true, call.packA);
}

/**
 * The denominator of row r of num' (call.num): num'[r, dv] + eps exp(-c_q - c_K), the
 * eps term in the units of the stabilised features (infinite before any key: out = 0).
 */
function denominator(call: LinearCall, r: i32): f32 {
  const w = call.dv + 1;
  let epsTerm: f32 = call.eps;
  if (call.featureMap == FEATURE_FAVOR) {
    epsTerm = call.keyMax == NEG_INF ? <f32>Infinity : call.eps * Mathf.exp(-load<f32>(call.rowMax + bytes(r)) - call.keyMax);
  }
  return load<f32>(call.num + bytes(r * w + call.dv)) + epsTerm;
}

/**
 * Start a kv head: KV' = 0, no stabiliser yet, then absorb the keys every query sees
 * (all S of them when bidirectional, those before the first query's position when causal).
 */
function absorbSharedKeys(call: LinearCall, kHead: usize, vHead: usize, shared: i32, maskRow: usize): void {
  call.keyMax = call.featureMap == FEATURE_FAVOR ? NEG_INF : 0;
  memory.fill(call.kv, 0, bytes(call.F * (call.dv + 1)));
  for (let s0 = 0; s0 < shared; s0 += PASS_CHUNK) {
    const n = min(PASS_CHUNK, shared - s0);
    keyFeatures(call, kHead, vHead, s0, n, maskRow);
    absorbKeys(call, n);
  }
}

/**
 * Before a query chunk: (causal) the features of its own nk keys from s0 with
 * phi(K_c)^T packed for intraChunk, and the prefix KV' (which they may have
 * rescaled) packed for reading.
 */
function startQueryChunk(call: LinearCall, kHead: usize, vHead: usize, s0: i32, nk: i32, causal: bool, maskRow: usize): void {
  const F = call.F, w = call.dv + 1;
  if (nk > 0) {
    keyFeatures(call, kHead, vHead, s0, nk, maskRow);
    packB(F, nk, call.phiK, 1, F, call.packedKT);
  }
  if (causal) packB(F, w, call.kv, w, 1, call.packedKV);
}

/**
 * out rows t0 .. t0 + n from num' (call.num, [n, dv + 1]):
 * out = num'[:, :dv] / (num'[:, dv] + eps exp(-c_q - c_K)); 0 where that is not positive
 * (a row that sees no key, or relu features all zero with eps = 0).
 */
export function writeLinearRows(call: LinearCall, outHead: usize, t0: i32, n: i32): void {
  const dv = call.dv, w = dv + 1;
  for (let r = 0; r < n; r++) {
    const num = call.num + bytes(r * w);
    const den = denominator(call, r);
    const inv = f32x4.splat(den > 0 ? 1 / den : 0);
    const dst = outHead + bytes((t0 + r) * dv);
    for (let c = 0; c < dv; c += 4) {
      const n = min(4, dv - c);
      storeLanesF32x4(dst + bytes(c), f32x4.mul(loadLanesF32x4(num + bytes(c), n), inv), n);
    }
  }
}

/** A[ii][jj] = 0 where key s0 + jj comes after query t0 + ii's position (s > t + offset). */
export function maskCausal(a: usize, nq: i32, nk: i32, t0: i32, s0: i32, offset: i32): void {
  for (let ii = 0; ii < nq; ii++) {
    const first = max(0, t0 + ii + offset - s0 + 1); // first hidden key of the row
    if (first < nk) memory.fill(a + bytes(ii * nk + first), 0, bytes(nk - first));
  }
}

/** The queries' own chunk: num' = (phi(Q_c) phi(K_c)^T (.) lower) V'_c (call.a is [nq, nk]). */
export function intraChunk(call: LinearCall, nq: i32, nk: i32, t0: i32, s0: i32, offset: i32): void {
  const F = call.F, w = call.dv + 1;
  gemmPacked(nq, nk, F, call.phiQ, F, 1, call.packedKT, call.a, nk, false, call.packA);
  maskCausal(call.a, nq, nk, t0, s0, offset);
  gemmPacked(nq, w, nk, call.a, nk, 1, call.packedV, call.num, w, false, call.packA);
}

/**
 * Linear attention forward (see the header). featureMap: FEATURE_*; W [F, d] for
 * FAVOR+ (else unused, F = d); scratch: attentionLinearScratchFloats(d, dv, F) floats.
 */
export function attentionLinearForward(
  B: i32, Hq: i32, Hkv: i32, T: i32, S: i32, d: i32, dv: i32,
  q: usize, k: usize, v: usize, keyMask: usize, featureMap: i32, W: usize, F: i32,
  scale: f32, eps: f32, causal: bool, out: usize, scratch: usize,
): void {
  const call = setUpLinearCall(scratch, d, dv, F, featureMap, W, scale, eps);
  const group = Hq / Hkv, w = dv + 1, C = causal ? LINEAR_CHUNK : PASS_CHUNK, offset = S - T;
  for (let b = 0; b < B; b++) {
    const maskRow: usize = keyMask == 0 ? 0 : keyMask + <usize>(b * S);
    for (let hk = 0; hk < Hkv; hk++) {
      const kHead = k + bytes((b * Hkv + hk) * S * d), vHead = v + bytes((b * Hkv + hk) * S * dv);
      absorbSharedKeys(call, kHead, vHead, causal ? min(max(offset, 0), S) : S, maskRow);
      if (!causal) packB(F, w, call.kv, w, 1, call.packedKV);
      for (let t0 = 0; t0 < T; t0 += C) {
        const nq = min(C, T - t0);
        // causal: the chunk's own keys [s0, s1), then the prefix they join
        const s0 = clamp(t0 + offset, 0, S), s1 = clamp(t0 + nq + offset, 0, S);
        const nk = causal ? s1 - s0 : 0;
        startQueryChunk(call, kHead, vHead, s0, nk, causal, maskRow);
        for (let hq = 0; hq < group; hq++) {
          const h = hk * group + hq;
          const qHead = q + bytes((b * Hq + h) * T * d), outHead = out + bytes((b * Hq + h) * T * dv);
          queryFeatures(call, qHead, t0, nq);
          if (nk > 0) intraChunk(call, nq, nk, t0, s0, offset);
          gemmPacked(nq, w, F, call.phiQ, F, 1, call.packedKV, call.num, w, nk > 0, call.packA);
          writeLinearRows(call, outHead, t0, nq);
        }
        if (nk > 0) absorbKeys(call, nk);
      }
    }
  }
}

/** B[K, N] (element (k, n) at b + 4 * (k * bRow + n * bCol)) packed as gemmPackB does, with SIMD transposes. */
// @ts-ignore: decorator
@inline function packB(K: i32, N: i32, b: usize, bRow: i32, bCol: i32, packed: usize): void {
  packPanels(GEMM_NR, K, K, N, b, bRow, bCol, 1, packed);
}

// @ts-ignore: decorator
@inline function clamp(x: i32, lo: i32, hi: i32): i32 {
  return min(max(x, lo), hi);
}

// ---------------------------------------------------------------------------
// Backward. With N' = [num | den] = phi(Q) KV' (last column the denominator) and
// out = num / den: dN' = [dout / den | -(dout . out) / den], and
//   dphi(q_t) = dN'_t KV'_t^T            (KV'_t: the prefix query t read)
//   dphi(k_s) = G_s [v_s, 1],  dv_s = G_s[:, :dv]^T phi(k_s),  G_s = sum_{t sees s} phi(q_t) dN'_t^T.
// Pass 1 runs the forward chunk by chunk (so KV'_t is at hand) and gives dq; pass 2
// walks the chunks backwards carrying G (suffix sums) and gives dk, dv. Inside a
// causal chunk the masked products E = dN'_c V'_c^T and P = phi(Q_c) phi(K_c)^T take
// the place of the prefix and suffix sums. FAVOR+ stabilisers are constants for the
// gradient (the result does not depend on them); G is kept in the units of the key
// chunk at hand, rescaled by exp(c_K(c) - c_K(c + 1)) when stepping back a chunk.

/** Floats of scratch attentionLinearBackward needs (group = Hq / Hkv). */
export function attentionLinearBackwardScratchFloats(T: i32, group: i32, d: i32, dv: i32, F: i32): i32 {
  const chunks = (T + LINEAR_CHUNK - 1) / LINEAR_CHUNK; // causal chunks (bidirectional ones are fewer)
  return <i32>((callBytes() + linearRegion(0, L_BACKWARD_REGIONS, d, dv, F)) >> 2) + ceil4(group * T * (dv + 1)) + ceil4(chunks + 1);
}

function setUpLinearBackward(
  scratch: usize, T: i32, group: i32, d: i32, dv: i32, F: i32, featureMap: i32, W: usize, scale: f32, eps: f32,
): LinearCall {
  const call = setUpLinearCall(scratch, d, dv, F, featureMap, W, scale, eps);
  const base = scratch + callBytes();
  call.packedWt = linearRegion(base, L_PACKED_WT, d, dv, F);
  call.gradPhi = linearRegion(base, L_GRAD_PHI, d, dv, F);
  call.dx = linearRegion(base, L_DX, d, dv, F);
  call.e = linearRegion(base, L_E, d, dv, F);
  call.pack1 = linearRegion(base, L_PACK_1, d, dv, F);
  call.pack2 = linearRegion(base, L_PACK_2, d, dv, F);
  call.g = linearRegion(base, L_G, d, dv, F);
  call.packedK = linearRegion(base, L_PACKED_K, d, dv, F);
  call.dN = linearRegion(base, L_BACKWARD_REGIONS, d, dv, F);
  call.keyMaxAt = call.dN + bytes(ceil4(group * T * (dv + 1)));
  // FAVOR+ dx = s (g . phi) W - ...: a GEMM with B = W [F, d]
  if (featureMap == FEATURE_FAVOR) packB(F, d, W, d, 1, call.packedWt);
  return call;
}

/**
 * dx [n, d] (call.dx) of feature rows phi [n, F] of x (row stride d) from
 * g = dL/dphi (call.gradPhi, overwritten): elu1 g (x > 0 ? 1 : exp x), relu g [x > 0],
 * FAVOR+ sum_i g_i phi_i (s w_i - s^2 x) (the stabiliser is a constant).
 */
export function featureGradient(call: LinearCall, x: usize, n: i32, phi: usize): void {
  const d = call.d, F = call.F, g = call.gradPhi, dx = call.dx;
  if (call.featureMap == FEATURE_FAVOR) {
    const s = call.rootScale;
    for (let r = 0; r < n; r++) {
      const gRow = g + bytes(r * F), phiRow = phi + bytes(r * F);
      let total: f32 = 0;
      for (let f = 0; f < F; f++) {
        const gp = load<f32>(gRow + bytes(f)) * load<f32>(phiRow + bytes(f)) * s;
        store<f32>(gRow + bytes(f), gp);
        total += gp;
      }
      store<f32>(call.rowMax + bytes(r), total * s); // sum_i g_i phi_i s^2, reusing rowMax (already used)
    }
    gemmPacked(n, d, F, g, F, 1, call.packedWt, dx, d, false, call.packA);
    for (let r = 0; r < n; r++) {
      const shift = load<f32>(call.rowMax + bytes(r));
      const xRow = x + bytes(r * d), dxRow = dx + bytes(r * d);
      for (let c = 0; c < d; c++) store<f32>(dxRow + bytes(c), load<f32>(dxRow + bytes(c)) - shift * load<f32>(xRow + bytes(c)));
    }
    return;
  }
  const zero = f32x4.splat(0), one = f32x4.splat(1);
  for (let r = 0; r < n; r++) {
    const xRow = x + bytes(r * d), gRow = g + bytes(r * F), dxRow = dx + bytes(r * d);
    for (let c = 0; c < d; c += 4) {
      const m = min(4, d - c);
      const xv = loadLanesF32x4(xRow + bytes(c), m);
      // d phi / dx: 1 for x > 0; else exp(x) (elu1) or 0 (relu)
      const below = call.featureMap == FEATURE_RELU ? zero : expF32x4(f32x4.pmin(xv, zero));
      const slope = v128.bitselect(one, below, f32x4.gt(xv, zero));
      storeLanesF32x4(dxRow + bytes(c), f32x4.mul(loadLanesF32x4(gRow + bytes(c), m), slope), m);
    }
  }
}

/**
 * dN'_c for query rows t0 .. t0 + n from num' (call.num) and dout (and out when
 * given, else num / den): written to dN.
 */
function queryChunkGradients(call: LinearCall, doutHead: usize, outHead: usize, t0: i32, n: i32, dN: usize): void {
  const dv = call.dv, w = dv + 1;
  for (let r = 0; r < n; r++) {
    const num = call.num + bytes(r * w);
    const den = denominator(call, r);
    const inv: f32 = den > 0 ? 1 / den : 0;
    const dout = doutHead + bytes((t0 + r) * dv), dst = dN + bytes(r * w);
    let dot: f32 = 0;
    for (let c = 0; c < dv; c++) {
      const o = outHead != 0 ? load<f32>(outHead + bytes((t0 + r) * dv + c)) : load<f32>(num + bytes(c)) * inv;
      const g = load<f32>(dout + bytes(c));
      dot += g * o;
      store<f32>(dst + bytes(c), g * inv);
    }
    store<f32>(dst + bytes(dv), -dot * inv);
  }
}

/** rows[r] (= | +=) call.dx[r] for r < n (row stride d at dst). */
function storeRows(call: LinearCall, dst: usize, n: i32, accumulate: bool): void {
  const d = call.d;
  for (let i = 0; i < n * d; i++) {
    const value = load<f32>(call.dx + bytes(i));
    store<f32>(dst + bytes(i), accumulate ? load<f32>(dst + bytes(i)) + value : value);
  }
}

/**
 * Gradients of the keys last prepared by keyFeatures (rows s0 .. s0 + n) from G
 * (call.g, in these keys' units): dphi(K) = V' G^T into call.gradPhi, dv += phi(K) G[:, :dv].
 * `accumulate` adds to dphi(K) (the intra-chunk part computed first) instead of overwriting.
 */
function keyGradientsFromSuffix(call: LinearCall, n: i32, dvRows: usize, accumulate: bool): void {
  const F = call.F, dv = call.dv, w = dv + 1;
  packB(w, F, call.g, 1, w, call.pack1);
  gemmPacked(n, F, w, call.vOne, w, 1, call.pack1, call.gradPhi, F, accumulate, call.packA);
  packB(F, dv, call.g, w, 1, call.pack1);
  gemmPacked(n, dv, F, call.phiK, F, 1, call.pack1, dvRows, dv, true, call.packA);
}

/** G += phi(Q_c)^T dN'_c for n query rows (features in call.phiQ); `packed` is scratch for dN'_c. */
function gatherQueries(call: LinearCall, n: i32, dN: usize, packed: usize): void {
  const F = call.F, w = call.dv + 1;
  packB(n, w, dN, w, 1, packed);
  gemmPacked(F, w, n, call.phiQ, 1, F, packed, call.g, w, true, call.packA);
}

/** G *= factor (a move to the units of an earlier key chunk). */
function rescaleG(call: LinearCall, factor: f32): void {
  if (factor == 1) return;
  const n = call.F * (call.dv + 1);
  for (let i = 0; i < n; i++) store<f32>(call.g + bytes(i), load<f32>(call.g + bytes(i)) * factor);
}

/**
 * Linear attention backward: dq [B, Hq, T, d], dk [B, Hkv, S, d], dv [B, Hkv, S, dv]
 * (dk and dv zero on entry: they accumulate), from dout and, when out != 0, the
 * forward's out; scratch: attentionLinearBackwardScratchFloats(T, Hq / Hkv, d, dv, F).
 */
export function attentionLinearBackward(
  B: i32, Hq: i32, Hkv: i32, T: i32, S: i32, d: i32, dv: i32,
  q: usize, k: usize, v: usize, keyMask: usize, featureMap: i32, W: usize, F: i32,
  scale: f32, eps: f32, causal: bool, out: usize, dout: usize, dq: usize, dk: usize, dvOut: usize, scratch: usize,
): void {
  const group = Hq / Hkv;
  const call = setUpLinearBackward(scratch, T, group, d, dv, F, featureMap, W, scale, eps);
  const w = dv + 1, C = causal ? LINEAR_CHUNK : PASS_CHUNK, offset = S - T;
  for (let b = 0; b < B; b++) {
    const maskRow: usize = keyMask == 0 ? 0 : keyMask + <usize>(b * S);
    for (let hk = 0; hk < Hkv; hk++) {
      const kvRow0 = (b * Hkv + hk) * S;
      const kHead = k + bytes(kvRow0 * d), vHead = v + bytes(kvRow0 * dv);
      const dkHead = dk + bytes(kvRow0 * d), dvHead = dvOut + bytes(kvRow0 * dv);
      // Pass 1: the forward again, with dN' and dq per query chunk.
      memory.fill(call.g, 0, bytes(F * w));
      absorbSharedKeys(call, kHead, vHead, causal ? min(max(offset, 0), S) : S, maskRow);
      store<f32>(call.keyMaxAt, call.keyMax);
      if (!causal) packB(F, w, call.kv, w, 1, call.packedKV);
      for (let t0 = 0, chunk = 0; t0 < T; t0 += C, chunk++) {
        const nq = min(C, T - t0);
        const s0 = clamp(t0 + offset, 0, S), s1 = clamp(t0 + nq + offset, 0, S);
        const nk = causal ? s1 - s0 : 0;
        startQueryChunk(call, kHead, vHead, s0, nk, causal, maskRow);
        if (nk > 0) {
          packB(w, nk, call.vOne, 1, w, call.pack2); // V'_c^T, for E = dN' V'^T
          packB(nk, F, call.phiK, F, 1, call.packedK); // phi(K_c), for E phi(K_c)
        }
        store<f32>(call.keyMaxAt + bytes(chunk + 1), call.keyMax);
        packB(w, F, call.kv, 1, w, call.pack1); // KV'^T, for dphi(Q) = dN' KV'^T
        for (let hq = 0; hq < group; hq++) {
          const row0 = (b * Hq + hk * group + hq) * T;
          const qHead = q + bytes(row0 * d), doutHead = dout + bytes(row0 * dv);
          const outHead: usize = out == 0 ? 0 : out + bytes(row0 * dv);
          const dN = call.dN + bytes((hq * T + t0) * w);
          queryFeatures(call, qHead, t0, nq);
          if (nk > 0) intraChunk(call, nq, nk, t0, s0, offset);
          gemmPacked(nq, w, F, call.phiQ, F, 1, call.packedKV, call.num, w, nk > 0, call.packA);
          queryChunkGradients(call, doutHead, outHead, t0, nq, dN);
          // dphi(Q_c) = dN'_c KV'^T (+ (dN'_c V'_c^T (.) lower) phi(K_c) inside the chunk)
          gemmPacked(nq, F, w, dN, w, 1, call.pack1, call.gradPhi, F, false, call.packA);
          if (nk > 0) {
            gemmPacked(nq, nk, w, dN, w, 1, call.pack2, call.e, nk, false, call.packA);
            maskCausal(call.e, nq, nk, t0, s0, offset);
            gemmPacked(nq, F, nk, call.e, nk, 1, call.packedK, call.gradPhi, F, true, call.packA);
          }
          if (!causal) gatherQueries(call, nq, dN, call.pack2); // (pack1 holds KV'^T for the next head)
          featureGradient(call, qHead + bytes(t0 * d), nq, call.phiQ);
          storeRows(call, dq + bytes((row0 + t0) * d), nq, false);
        }
        if (nk > 0) absorbKeys(call, nk);
      }
      // Pass 2: the keys, from the last to the first, with G = the suffix sum of the queries.
      if (!causal) {
        // every key is in the final units; G holds every query
        for (let s0 = 0; s0 < S; s0 += PASS_CHUNK) {
          const n = min(PASS_CHUNK, S - s0);
          keyFeatures(call, kHead, vHead, s0, n, maskRow);
          keyGradientsFromSuffix(call, n, dvHead + bytes(s0 * dv), false);
          finishKeyGradients(call, kHead, s0, n, maskRow, dkHead);
        }
        continue;
      }
      const chunks = (T + C - 1) / C;
      for (let chunk = chunks - 1; chunk >= 0; chunk--) {
        const t0 = chunk * C, nq = min(C, T - t0);
        const s0 = clamp(t0 + offset, 0, S), s1 = clamp(t0 + nq + offset, 0, S);
        const nk = s1 - s0;
        const unit = load<f32>(call.keyMaxAt + bytes(chunk + 1));
        if (chunk + 1 < chunks) rescaleG(call, unitFactor(unit, load<f32>(call.keyMaxAt + bytes(chunk + 2))));
        if (nk > 0) {
          call.keyMax = unit; // the chunk's keys in the units they were absorbed with
          keyFeatures(call, kHead, vHead, s0, nk, maskRow);
          packB(F, nk, call.phiK, 1, F, call.packedKT);
          packB(w, nk, call.vOne, 1, w, call.pack2);
          // the later chunks' queries first (G), then this chunk's own, which then join G
          keyGradientsFromSuffix(call, nk, dvHead + bytes(s0 * dv), false);
        }
        for (let hq = 0; hq < group; hq++) {
          const row0 = (b * Hq + hk * group + hq) * T;
          const dN = call.dN + bytes((hq * T + t0) * w);
          queryFeatures(call, q + bytes(row0 * d), t0, nq);
          if (nk > 0) {
            // dphi(K_c) += (dN'_c V'_c^T (.) lower)^T phi(Q_c);  dv_c += (phi(Q_c) phi(K_c)^T (.) lower)^T dnum_c
            gemmPacked(nq, nk, w, dN, w, 1, call.pack2, call.e, nk, false, call.packA);
            maskCausal(call.e, nq, nk, t0, s0, offset);
            packB(nq, F, call.phiQ, F, 1, call.pack1);
            gemmPacked(nk, F, nq, call.e, 1, nk, call.pack1, call.gradPhi, F, true, call.packA);
            gemmPacked(nq, nk, F, call.phiQ, F, 1, call.packedKT, call.a, nk, false, call.packA);
            maskCausal(call.a, nq, nk, t0, s0, offset);
            packB(nq, dv, dN, w, 1, call.pack1);
            gemmPacked(nk, dv, nq, call.a, 1, nk, call.pack1, dvHead + bytes(s0 * dv), dv, true, call.packA);
          }
          gatherQueries(call, nq, dN, call.pack1);
        }
        if (nk > 0) finishKeyGradients(call, kHead, s0, nk, maskRow, dkHead);
      }
      // the keys every query sees (before the first query's position): final prefix units
      const shared0 = min(max(offset, 0), S);
      if (shared0 > 0) {
        const unit = load<f32>(call.keyMaxAt);
        if (chunks > 0) rescaleG(call, unitFactor(unit, load<f32>(call.keyMaxAt + bytes(1))));
        for (let s0 = 0; s0 < shared0; s0 += PASS_CHUNK) {
          const n = min(PASS_CHUNK, shared0 - s0);
          call.keyMax = unit;
          keyFeatures(call, kHead, vHead, s0, n, maskRow);
          keyGradientsFromSuffix(call, n, dvHead + bytes(s0 * dv), false);
          finishKeyGradients(call, kHead, s0, n, maskRow, dkHead);
        }
      }
    }
  }
}

/** exp(to - from), 1 when both are the same (including -inf: nothing absorbed yet). */
function unitFactor(to: f32, from: f32): f32 {
  return to == from || from == NEG_INF ? 1 : Mathf.exp(to - from);
}

/** dk rows s0 .. s0 + n += dphi(K) through the feature map (masked keys get nothing). */
function finishKeyGradients(call: LinearCall, kHead: usize, s0: i32, n: i32, maskRow: usize, dkHead: usize): void {
  const F = call.F;
  if (maskRow != 0) {
    for (let r = 0; r < n; r++) {
      if (load<u8>(maskRow + <usize>(s0 + r)) == 0) memory.fill(call.gradPhi + bytes(r * F), 0, bytes(F));
    }
  }
  featureGradient(call, kHead + bytes(s0 * call.d), n, call.phiK);
  storeRows(call, dkHead + bytes(s0 * call.d), n, true);
}

// ---------------------------------------------------------------------------
// Streaming: one token per row, the state being each row's KV' [F, dv + 1] and c_K.

/** y[0..n) += a x[0..n) */
// @ts-ignore: decorator
@inline function axpy(n: i32, a: f32, x: usize, y: usize): void {
  const av = f32x4.splat(a);
  for (let j = 0; j < n; j += 4) {
    const m = min(4, n - j);
    storeLanesF32x4(y + bytes(j), f32x4.add(loadLanesF32x4(y + bytes(j), m), f32x4.mul(av, loadLanesF32x4(x + bytes(j), m))), m);
  }
}

/**
 * One stream step for BH independent rows: q, k [BH, d], v [BH, dv] -> out [BH, dv].
 * Row r absorbs its key (KV'_r += phi(k_r) [v_r, 1]^T, rescaled when its c_K grows)
 * and then reads with its query, as causal linear attention does at one position.
 * State: kvState [BH, F, dv + 1] and keyMaxState [BH], updated in place;
 * scratch: attentionLinearScratchFloats(d, dv, F) floats.
 */
export function attentionLinearStep(
  BH: i32, d: i32, dv: i32, q: usize, k: usize, v: usize, featureMap: i32, W: usize, F: i32,
  scale: f32, eps: f32, kvState: usize, keyMaxState: usize, out: usize, scratch: usize,
): void {
  const call = setUpLinearCall(scratch, d, dv, F, featureMap, W, scale, eps);
  const w = dv + 1;
  for (let r = 0; r < BH; r++) {
    call.kv = kvState + bytes(r * F * w);
    call.keyMax = load<f32>(keyMaxState + bytes(r));
    keyFeatures(call, k + bytes(r * d), v + bytes(r * dv), 0, 1, 0);
    store<f32>(keyMaxState + bytes(r), call.keyMax);
    queryFeatures(call, q + bytes(r * d), 0, 1);
    // KV'[f, :] += phi(k)[f] [v, 1];  num'[:] = sum_f phi(q)[f] KV'[f, :]
    memory.fill(call.num, 0, bytes(w));
    for (let f = 0; f < F; f++) {
      const row = call.kv + bytes(f * w);
      axpy(w, load<f32>(call.phiK + bytes(f)), call.vOne, row);
      axpy(w, load<f32>(call.phiQ + bytes(f)), row, call.num);
    }
    writeLinearRows(call, out + bytes(r * dv), 0, 1);
  }
}
