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
// stabilised per feature (attention_stabilisers.ts): KV' is held in units M_f, the
// running max of the absorbed keys' logits u_sf (rescaled when it grows), and query t
// reads it with phi(q_t)_f = exp(u_tf + M_f - C_t) / sqrt(F), C_t = max_f (u_tf + M_f).
// The stabilisers cancel between numerator and denominator and eps is scaled by
// exp(-C_t), so the result is exactly the formula above in unstabilised units, and the
// visible pair that attains C_t contributes 1 / F: no row that sees a key reads zero.
// A causal block is cut into sub-chunks where a later key would raise M by more than
// SUB_CHUNK_GAP over what the block's earlier queries see (planSubChunks), so no query
// is read in units far above its own keys.
//
// Team (assembly/team.ts): the units are kv heads (forward and backward: a head's KV',
// its keys' dk and dv and its query heads' rows are one thread's), and a stream step's
// rows; every scratch region is each thread's own. The same bits for any team.

import { GEMM_NR, gemmPacked, gemmPackedAFloats } from "./gemm";
import { packPanels } from "./attention_tile";
import { expF32x4 } from "./exp_f32x4";
import { hsumF32x4, loadLanesF32x4, storeLanesF32x4 } from "./simd";
import { bytes, packedBFloats, teamScratchFloats, threadRegionAt } from "./layout";
import { teamShareEnd, teamShareStart, teamThread } from "./team";
import { addUnitsMax, exceeds, exponentiateRows, fillUnits, maxInto, scaleRowsByExp } from "./attention_stabilisers";

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

/**
 * Largest rise (in nats) of a key stabiliser M_f inside one causal sub-chunk over the
 * value its first query sees. A query then meets its largest visible term at
 * >= exp(-2 gap) / F (here 4e-18 / F), far above f32's 1e-38. Inputs of ordinary size
 * never reach it (logits of N(0, 1) keys spread by ~3 nats at d = 64): one sub-chunk per block.
 */
const SUB_CHUNK_GAP: f32 = 20;

export const FEATURE_ELU1: i32 = 0;
export const FEATURE_RELU: i32 = 1;
export const FEATURE_FAVOR: i32 = 2;

const NEG_INF: f32 = -Infinity;

// Linear scratch regions, in this order (assembly/layout.ts): the call table, the
// forward's regions, then the backward's (used by the backward only).
const L_CALL = 0, L_PACKED_W = 1, L_PACK_A = 2, L_PHI_K = 3, L_V_ONE = 4, L_PACKED_V = 5, L_KV = 6, L_PACKED_KV = 7,
  L_PHI_Q = 8, L_PACKED_KT = 9, L_A = 10, L_NUM = 11, L_ROW_MAX = 12, L_UNITS = 13, L_TARGET = 14,
  L_FACTORS = 15, L_BASE = 16, L_CUTS = 17, L_SUB_UNITS = 18, L_REGIONS = 19,
  L_PACKED_WT = 19, L_GRAD_PHI = 20, L_DX = 21, L_E = 22, L_PACK_1 = 23, L_PACK_2 = 24, L_G = 25,
  L_PACKED_K = 26, L_G_UNITS = 27, L_DN = 28, L_CHECKPOINTS = 29, L_BACKWARD_REGIONS = 30;

/**
 * Floats of one region, in f64 so that an absurd size cannot wrap (the JS heap refuses it
 * with MEMORY). T and group (= Hq / Hkv) size the backward's dN' and checkpoints only.
 */
function linearRegionFloats(region: i32, T: i32, group: i32, d: i32, dv: i32, F: i32, _0: i32): f64 {
  const C = <f64>LINEAR_CHUNK, P = <f64>PASS_CHUNK, w = <f64>dv + 1, f = <f64>F, k = <f64>d;
  switch (region) {
    case L_CALL: return <f64>((offsetof<LinearCall>() + 3) >> 2);
    case L_PACKED_W: return packedBFloats(k, f);
    case L_PACK_A: return <f64>gemmPackedAFloats();
    case L_PHI_K: case L_PHI_Q: case L_GRAD_PHI: return P * f;
    case L_V_ONE: case L_NUM: return P * w;
    case L_PACKED_V: return packedBFloats(P, w);
    case L_KV: case L_G: return f * w;
    case L_PACKED_KV: return packedBFloats(f, w);
    case L_PACKED_KT: return packedBFloats(f, C);
    case L_A: case L_E: return C * C;
    case L_ROW_MAX: return P;
    case L_UNITS: case L_TARGET: case L_FACTORS: case L_BASE: case L_G_UNITS: return f;
    case L_CUTS: return C + 2;
    case L_SUB_UNITS: return (C + 1) * f;
    case L_PACKED_WT: return packedBFloats(f, k);
    case L_DX: return P * k;
    case L_PACK_1: case L_PACK_2:
      return max(max(max(packedBFloats(w, f), packedBFloats(P, f)), max(packedBFloats(w, C), packedBFloats(P, w))), packedBFloats(f, w));
    case L_PACKED_K: return packedBFloats(C, f);
    // dN' of every query of the group's heads; the FAVOR+ units before each causal block
    case L_DN: return <f64>group * <f64>T * w;
    case L_CHECKPOINTS: return Math.max(1, Math.ceil(<f64>T / C)) * f;
  }
  return 0;
}

/** This thread's region `which` of a layout of `count` regions (every region is each thread's own). */
function linearRegion(scratch: usize, which: i32, count: i32, T: i32, group: i32, d: i32, dv: i32, F: i32): usize {
  return threadRegionAt(scratch, linearRegionFloats, 0, count, which, teamThread(), T, group, d, dv, F, 0);
}

/** Floats of scratch attentionLinear (and attentionLinearStep) needs on `threads` threads, in f64 (no wrap). */
export function attentionLinearScratchFloats(d: i32, dv: i32, F: i32, threads: i32): f64 {
  return teamScratchFloats(linearRegionFloats, 0, L_REGIONS, threads, 0, 0, d, dv, F, 0);
}

/** The call's constants and scratch pointers; the table lives in region L_CALL. */
@unmanaged export class LinearCall {
  d: i32; dv: i32; F: i32; featureMap: i32; rootScale: f32; invRootF: f32; eps: f32;
  packedW: usize; packA: usize; phiK: usize; vOne: usize; packedV: usize; kv: usize; packedKV: usize;
  phiQ: usize; packedKT: usize; a: usize; num: usize; rowMax: usize;
  /** FAVOR+ units M [F] of KV' (all -inf before the first visible key); unused by the other maps. */
  units: usize;
  /** New units [F] being moved to (growUnits), and F floats of exp factors. */
  target: usize; factors: usize;
  /** planSubChunks: the stabilisers a sub-chunk's first query sees [F], the cuts [parts + 1] and the units after each part [parts, F]. */
  base: usize; cuts: usize; subUnits: usize;
  /** Feature rows [n, F] of the keys last prepared by keyValues (inside phiK). */
  keys: usize;
  // backward only
  packedWt: usize; gradPhi: usize; dx: usize; e: usize; pack1: usize; pack2: usize; g: usize; packedK: usize;
  /** Units [F] G is held in (all -inf while G is zero). */
  gUnits: usize;
  /** dN' = [dout / den | -(dout . out) / den] of every query of the group's heads, [group][T][dv + 1]. */
  dN: usize;
  /** FAVOR+ units before each causal block of LINEAR_CHUNK queries (index 0: after the keys every query sees), [blocks][F]. */
  checkpoints: usize;
  /** The backward's operands (attentionLinearBackward) and the kv head being worked on (setBackwardHead). */
  Hq: i32; T: i32; S: i32; group: i32; causal: bool; q: usize; dout: usize; out: usize; dq: usize;
  b: i32; hk: i32; maskRow: usize; kHead: usize; vHead: usize; dkHead: usize; dvHead: usize;
}

/**
 * This thread's call table and forward regions in a layout of `count` regions (L_REGIONS,
 * or L_BACKWARD_REGIONS for the backward, whose T and group size its last regions).
 */
function setUpLinearCall(
  scratch: usize, count: i32, T: i32, group: i32, d: i32, dv: i32, F: i32, featureMap: i32, W: usize, scale: f32, eps: f32,
): LinearCall {
  const base = scratch;
  const call = changetype<LinearCall>(linearRegion(base, L_CALL, count, T, group, d, dv, F));
  call.d = d; call.dv = dv; call.F = F; call.featureMap = featureMap; call.eps = eps;
  call.rootScale = Mathf.sqrt(scale);
  call.invRootF = 1 / Mathf.sqrt(<f32>F);
  call.packedW = linearRegion(base, L_PACKED_W, count, T, group, d, dv, F);
  call.packA = linearRegion(base, L_PACK_A, count, T, group, d, dv, F);
  call.phiK = linearRegion(base, L_PHI_K, count, T, group, d, dv, F);
  call.vOne = linearRegion(base, L_V_ONE, count, T, group, d, dv, F);
  call.packedV = linearRegion(base, L_PACKED_V, count, T, group, d, dv, F);
  call.kv = linearRegion(base, L_KV, count, T, group, d, dv, F);
  call.packedKV = linearRegion(base, L_PACKED_KV, count, T, group, d, dv, F);
  call.phiQ = linearRegion(base, L_PHI_Q, count, T, group, d, dv, F);
  call.packedKT = linearRegion(base, L_PACKED_KT, count, T, group, d, dv, F);
  call.a = linearRegion(base, L_A, count, T, group, d, dv, F);
  call.num = linearRegion(base, L_NUM, count, T, group, d, dv, F);
  call.rowMax = linearRegion(base, L_ROW_MAX, count, T, group, d, dv, F);
  call.units = linearRegion(base, L_UNITS, count, T, group, d, dv, F);
  call.target = linearRegion(base, L_TARGET, count, T, group, d, dv, F);
  call.factors = linearRegion(base, L_FACTORS, count, T, group, d, dv, F);
  call.base = linearRegion(base, L_BASE, count, T, group, d, dv, F);
  call.cuts = linearRegion(base, L_CUTS, count, T, group, d, dv, F);
  call.subUnits = linearRegion(base, L_SUB_UNITS, count, T, group, d, dv, F);
  call.keys = call.phiK;
  // FAVOR+: g = s x W^T is a GEMM with B = s W^T [d, F], packed once per call
  if (featureMap == FEATURE_FAVOR) {
    packB(d, F, W, 1, d, call.packedW);
    const n = <i32>packedBFloats(<f64>d, <f64>F);
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
 * Features of query rows t0 .. t0 + n (row stride d at qHead) into call.phiQ, for
 * reading KV' in its units M. FAVOR+: u_i = g_i - s^2 |x|^2 / 2 and
 * phi_i = exp(g_i + M_i - max_i (g_i + M_i)) / sqrt(F), the |x|^2 term cancelling inside
 * the exp; C = max_i (u_i + M_i) is kept in call.rowMax for the eps term. Before any
 * key (M = -inf) the features are zero. Other maps: rowMax = 0.
 */
export function queryFeatures(call: LinearCall, qHead: usize, t0: i32, n: i32): void {
  const d = call.d, F = call.F;
  const x = qHead + bytes(t0 * d);
  featureLogits(call, x, n, call.phiQ);
  if (call.featureMap == FEATURE_FAVOR) {
    const halfS2: f32 = 0.5 * call.rootScale * call.rootScale;
    const noKeys = load<f32>(call.units) == NEG_INF;
    for (let r = 0; r < n; r++) {
      const row = call.phiQ + bytes(r * F);
      if (noKeys) {
        memory.fill(row, 0, bytes(F));
        store<f32>(call.rowMax + bytes(r), 0);
        continue;
      }
      const c = addUnitsMax(row, call.units, F);
      exponentiateRows(row, 1, F, 0, c, call.invRootF);
      store<f32>(call.rowMax + bytes(r), c - halfS2 * squaredNorm(x + bytes(r * d), d));
    }
  } else {
    memory.fill(call.rowMax, 0, bytes(n));
  }
}

/**
 * Logits of key rows s0 .. s0 + n (FAVOR+: u_i = g_i - s^2 |x|^2 / 2) or their
 * features (elu1, relu) into call.phiK [n, F].
 */
export function keyLogits(call: LinearCall, kHead: usize, s0: i32, n: i32): void {
  const d = call.d, F = call.F;
  const x = kHead + bytes(s0 * d);
  featureLogits(call, x, n, call.phiK);
  if (call.featureMap != FEATURE_FAVOR) return;
  const halfS2 = f32x4.splat(0.5 * call.rootScale * call.rootScale);
  for (let r = 0; r < n; r++) {
    const row = call.phiK + bytes(r * F);
    const shift = f32x4.mul(halfS2, f32x4.splat(squaredNorm(x + bytes(r * d), d)));
    for (let f = 0; f < F; f += 4) {
      const m = min(4, F - f);
      storeLanesF32x4(row + bytes(f), f32x4.sub(loadLanesF32x4(row + bytes(f), m), shift), m);
    }
  }
}

// @ts-ignore: decorator
@inline function keyVisible(maskRow: usize, s: i32): bool {
  return maskRow == 0 || load<u8>(maskRow + <usize>s) != 0;
}

/** FAVOR+: call.target = max(call.units, the logits of the visible rows among n at `rows`, keys from s0). */
function coverKeys(call: LinearCall, rows: usize, n: i32, s0: i32, maskRow: usize): void {
  const F = call.F;
  memory.copy(call.target, call.units, bytes(F));
  for (let r = 0; r < n; r++) if (keyVisible(maskRow, s0 + r)) maxInto(call.target, rows + bytes(r * F), F);
}

/** FAVOR+: move KV' (and its units) to call.target, feature by feature: KV'[f, :] *= exp(M_f - target_f). */
function growUnits(call: LinearCall): void {
  const F = call.F;
  if (load<f32>(call.target) == NEG_INF) return; // no visible key yet
  scaleRowsByExp(call.kv, call.dv + 1, F, call.units, call.target, call.factors);
  memory.copy(call.units, call.target, bytes(F));
}

/**
 * The n keys from s0 whose logits (FAVOR+) or features are at `rows` ([n, F], inside
 * call.phiK): FAVOR+ features exp(u - M) / sqrt(F) in place, masked rows zero,
 * V' = [V | 1] into call.vOne and packed; call.keys = rows.
 */
export function keyValues(call: LinearCall, vHead: usize, s0: i32, rows: usize, n: i32, maskRow: usize): void {
  const dv = call.dv, F = call.F, w = dv + 1;
  if (call.featureMap == FEATURE_FAVOR) exponentiateRows(rows, n, F, call.units, 0, call.invRootF);
  for (let r = 0; r < n; r++) {
    if (!keyVisible(maskRow, s0 + r)) memory.fill(rows + bytes(r * F), 0, bytes(F));
    memory.copy(call.vOne + bytes(r * w), vHead + bytes((s0 + r) * dv), bytes(dv));
    store<f32>(call.vOne + bytes(r * w + dv), 1);
  }
  packB(n, w, call.vOne, w, 1, call.packedV);
  call.keys = rows;
}

/** KV' += phi(K)^T V' for the n keys last prepared by keyValues. */
// @ts-ignore: decorator
@inline export function absorbKeys(call: LinearCall, n: i32): void {
  gemmPacked(call.F, call.dv + 1, n, call.keys, 1, call.F, call.packedV, call.kv, call.dv + 1, true, call.packA);
}

/**
 * The denominator of row r of num' (call.num): num'[r, dv] + eps exp(-C_r), the eps
 * term in the units of the stabilised features (infinite before any key: out = 0;
 * exactly 0 when eps = 0, where exp(-C_r) may overflow and 0 * inf would be NaN).
 */
function denominator(call: LinearCall, r: i32): f32 {
  const w = call.dv + 1;
  let epsTerm: f32 = call.eps;
  if (call.featureMap == FEATURE_FAVOR) {
    if (load<f32>(call.units) == NEG_INF) epsTerm = <f32>Infinity;
    else if (call.eps != 0) epsTerm = call.eps * Mathf.exp(-load<f32>(call.rowMax + bytes(r)));
  }
  return load<f32>(call.num + bytes(r * w + call.dv)) + epsTerm;
}

/**
 * Start a kv head: KV' = 0, no stabiliser yet, then absorb the keys every query sees
 * (all S of them when bidirectional, those before the first query's position when causal).
 */
function absorbSharedKeys(call: LinearCall, kHead: usize, vHead: usize, shared: i32, maskRow: usize): void {
  const favor = call.featureMap == FEATURE_FAVOR;
  memory.fill(call.kv, 0, bytes(call.F * (call.dv + 1)));
  if (favor) fillUnits(call.units, call.F, NEG_INF);
  for (let s0 = 0; s0 < shared; s0 += PASS_CHUNK) {
    const n = min(PASS_CHUNK, shared - s0);
    keyLogits(call, kHead, s0, n);
    if (favor) {
      coverKeys(call, call.phiK, n, s0, maskRow);
      growUnits(call);
    }
    keyValues(call, vHead, s0, call.phiK, n, maskRow);
    absorbKeys(call, n);
  }
}

/**
 * Cut a causal block's nk keys from s0 (logits in call.phiK, KV' in call.units) into
 * sub-chunks: a key starts a new one when one of its logits exceeds, by more than
 * SUB_CHUNK_GAP, the stabilisers the current sub-chunk's first query sees (its keys
 * and all before). Writes call.cuts [parts + 1] (key indices, 0 .. nk) and the units
 * after each part, call.subUnits [parts, F]; returns parts (>= 1). Other maps: one part.
 */
export function planSubChunks(call: LinearCall, nk: i32, s0: i32, maskRow: usize): i32 {
  const F = call.F;
  store<i32>(call.cuts, 0);
  if (call.featureMap != FEATURE_FAVOR) {
    store<i32>(call.cuts, nk, 4);
    return 1;
  }
  let parts = 0;
  let running = call.subUnits; // the units after the keys so far
  memory.copy(running, call.units, bytes(F));
  memory.copy(call.base, call.units, bytes(F));
  let haveBase = load<f32>(call.units) != NEG_INF;
  for (let j = 0; j < nk; j++) {
    if (!keyVisible(maskRow, s0 + j)) continue;
    const u = call.phiK + bytes(j * F);
    if (haveBase && j > load<i32>(call.cuts + bytes(parts)) && exceeds(u, call.base, F, SUB_CHUNK_GAP)) {
      // key j opens part parts + 1, whose first query sees everything before and key j
      parts++;
      store<i32>(call.cuts + bytes(parts), j);
      memory.copy(running + bytes(F), running, bytes(F));
      running += bytes(F);
      maxInto(running, u, F);
      memory.copy(call.base, running, bytes(F));
      continue;
    }
    maxInto(running, u, F);
    // the part's first query sees its first key; with nothing before, the first visible key
    if (!haveBase || j == load<i32>(call.cuts + bytes(parts))) {
      memory.copy(call.base, running, bytes(F));
      haveBase = true;
    }
  }
  store<i32>(call.cuts + bytes(parts + 1), nk);
  return parts + 1;
}

/**
 * Sub-chunk i of a causal block (keys [cuts[i], cuts[i + 1]) from s0, logits in
 * call.phiK): move KV' into its units, prepare its keys (keyValues) with phi(K)^T
 * packed for intraChunk, and pack the prefix KV' for reading. Returns its key count.
 */
function startSubChunk(call: LinearCall, vHead: usize, s0: i32, i: i32, maskRow: usize, causal: bool): i32 {
  const F = call.F, w = call.dv + 1;
  const ja = load<i32>(call.cuts + bytes(i)), n = load<i32>(call.cuts + bytes(i + 1)) - ja;
  if (call.featureMap == FEATURE_FAVOR) {
    memory.copy(call.target, call.subUnits + bytes(i * F), bytes(F));
    growUnits(call);
  }
  if (n > 0) {
    keyValues(call, vHead, s0 + ja, call.phiK + bytes(ja * F), n, maskRow);
    packB(F, n, call.keys, 1, F, call.packedKT);
  }
  if (causal) packB(F, w, call.kv, w, 1, call.packedKV);
  return n;
}

/** First query row of sub-chunk i of the block of nq rows from t0 (keys from s0, parts sub-chunks). */
// @ts-ignore: decorator
@inline function partRow(call: LinearCall, i: i32, parts: i32, t0: i32, nq: i32, s0: i32, offset: i32): i32 {
  // query t's last key of the block is t + offset - s0: the rows of part i are those whose last key is in it
  if (i == 0) return t0;
  if (i == parts) return t0 + nq;
  return s0 + load<i32>(call.cuts + bytes(i)) - offset;
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
export function attentionLinear(
  B: i32, Hq: i32, Hkv: i32, T: i32, S: i32, d: i32, dv: i32,
  q: usize, k: usize, v: usize, keyMask: usize, featureMap: i32, W: usize, F: i32,
  scale: f32, eps: f32, causal: bool, out: usize, scratch: usize,
): void {
  const call = setUpLinearCall(scratch, L_REGIONS, 0, 0, d, dv, F, featureMap, W, scale, eps);
  const group = Hq / Hkv, w = dv + 1, C = causal ? LINEAR_CHUNK : PASS_CHUNK, offset = S - T;
  // a kv head a unit (its KV' is one thread's)
  for (let kv = teamShareStart(B * Hkv), kvEnd = teamShareEnd(B * Hkv); kv < kvEnd; kv++) {
    const b = kv / Hkv, hk = kv % Hkv;
    const maskRow: usize = keyMask == 0 ? 0 : keyMask + <usize>(b * S);
    {
      const kHead = k + bytes((b * Hkv + hk) * S * d), vHead = v + bytes((b * Hkv + hk) * S * dv);
      absorbSharedKeys(call, kHead, vHead, causal ? min(max(offset, 0), S) : S, maskRow);
      if (!causal) packB(F, w, call.kv, w, 1, call.packedKV);
      for (let t0 = 0; t0 < T; t0 += C) {
        const nq = min(C, T - t0);
        // causal: the block's own keys [s0, s1) in sub-chunks, each joining the prefix after its queries read
        const s0 = clamp(t0 + offset, 0, S), s1 = clamp(t0 + nq + offset, 0, S);
        const nk = causal ? s1 - s0 : 0;
        if (nk > 0) keyLogits(call, kHead, s0, nk);
        const parts = planSubChunks(call, nk, s0, maskRow);
        for (let i = 0; i < parts; i++) {
          const n = startSubChunk(call, vHead, s0, i, maskRow, causal);
          const r0 = partRow(call, i, parts, t0, nq, s0, offset), r1 = partRow(call, i + 1, parts, t0, nq, s0, offset);
          const sa = s0 + load<i32>(call.cuts + bytes(i));
          for (let hq = 0; hq < group; hq++) {
            const h = hk * group + hq;
            const qHead = q + bytes((b * Hq + h) * T * d), outHead = out + bytes((b * Hq + h) * T * dv);
            queryFeatures(call, qHead, r0, r1 - r0);
            if (n > 0) intraChunk(call, r1 - r0, n, r0, sa, offset);
            gemmPacked(r1 - r0, w, F, call.phiQ, F, 1, call.packedKV, call.num, w, n > 0, call.packA);
            writeLinearRows(call, outHead, r0, r1 - r0);
          }
          if (n > 0) absorbKeys(call, n);
        }
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
// gradient (the result does not depend on them): pass 1 keeps the units before each
// causal block, pass 2 re-plans the block's sub-chunks from them and holds G in the
// units of the sub-chunk at hand, G[f, :] *= exp(M_f(earlier) - M_f(later)) when
// stepping back.

/** Floats of scratch attentionLinearBackward needs (group = Hq / Hkv), in f64 (no wrap). */
export function attentionLinearBackwardScratchFloats(T: i32, group: i32, d: i32, dv: i32, F: i32, threads: i32): f64 {
  return teamScratchFloats(linearRegionFloats, 0, L_BACKWARD_REGIONS, threads, T, group, d, dv, F, 0);
}

function setUpLinearBackward(
  scratch: usize, T: i32, group: i32, d: i32, dv: i32, F: i32, featureMap: i32, W: usize, scale: f32, eps: f32,
): LinearCall {
  const count = L_BACKWARD_REGIONS, base = scratch;
  const call = setUpLinearCall(scratch, count, T, group, d, dv, F, featureMap, W, scale, eps);
  call.packedWt = linearRegion(base, L_PACKED_WT, count, T, group, d, dv, F);
  call.gradPhi = linearRegion(base, L_GRAD_PHI, count, T, group, d, dv, F);
  call.dx = linearRegion(base, L_DX, count, T, group, d, dv, F);
  call.e = linearRegion(base, L_E, count, T, group, d, dv, F);
  call.pack1 = linearRegion(base, L_PACK_1, count, T, group, d, dv, F);
  call.pack2 = linearRegion(base, L_PACK_2, count, T, group, d, dv, F);
  call.g = linearRegion(base, L_G, count, T, group, d, dv, F);
  call.packedK = linearRegion(base, L_PACKED_K, count, T, group, d, dv, F);
  call.gUnits = linearRegion(base, L_G_UNITS, count, T, group, d, dv, F);
  call.dN = linearRegion(base, L_DN, count, T, group, d, dv, F);
  call.checkpoints = linearRegion(base, L_CHECKPOINTS, count, T, group, d, dv, F);
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
 * Gradients of the n keys last prepared by keyValues from G (call.g, in these keys'
 * units): dphi(K) = V' G^T into call.gradPhi, dv += phi(K) G[:, :dv].
 * `accumulate` adds to dphi(K) (the intra-chunk part computed first) instead of overwriting.
 */
function keyGradientsFromSuffix(call: LinearCall, n: i32, dvRows: usize, accumulate: bool): void {
  const F = call.F, dv = call.dv, w = dv + 1;
  packB(w, F, call.g, 1, w, call.pack1);
  gemmPacked(n, F, w, call.vOne, w, 1, call.pack1, call.gradPhi, F, accumulate, call.packA);
  packB(F, dv, call.g, w, 1, call.pack1);
  gemmPacked(n, dv, F, call.keys, F, 1, call.pack1, dvRows, dv, true, call.packA);
}

/** G += phi(Q_c)^T dN'_c for n query rows (features in call.phiQ); `packed` is scratch for dN'_c. */
function gatherQueries(call: LinearCall, n: i32, dN: usize, packed: usize): void {
  const F = call.F, w = call.dv + 1;
  packB(n, w, dN, w, 1, packed);
  gemmPacked(F, w, n, call.phiQ, 1, F, packed, call.g, w, true, call.packA);
}

/** FAVOR+: move G into the units `target` (feature-wise <= its own): G[f, :] *= exp(target_f - gUnits_f). */
function moveG(call: LinearCall, target: usize): void {
  if (call.featureMap != FEATURE_FAVOR) return;
  scaleRowsByExp(call.g, call.dv + 1, call.F, target, call.gUnits, call.factors);
  memory.copy(call.gUnits, target, bytes(call.F));
}

/**
 * Linear attention backward: dq [B, Hq, T, d], dk [B, Hkv, S, d], dv [B, Hkv, S, dv]
 * (dk and dv zero on entry: they accumulate), from dout and, when out != 0, the
 * forward's out; scratch: attentionLinearBackwardScratchFloats(T, Hq / Hkv, d, dv, F).
 * Per kv head: pass 1 (backwardQueryPass) gives dq and dN', pass 2 the keys' dk and dv
 * (backwardKeyPassCausal, or keysSeeingAllOfG when every query sees every key).
 */
export function attentionLinearBackward(
  B: i32, Hq: i32, Hkv: i32, T: i32, S: i32, d: i32, dv: i32,
  q: usize, k: usize, v: usize, keyMask: usize, featureMap: i32, W: usize, F: i32,
  scale: f32, eps: f32, causal: bool, out: usize, dout: usize, dq: usize, dk: usize, dvOut: usize, scratch: usize,
): void {
  const group = Hq / Hkv;
  const call = setUpLinearBackward(scratch, T, group, d, dv, F, featureMap, W, scale, eps);
  call.Hq = Hq; call.T = T; call.S = S; call.group = group; call.causal = causal;
  call.q = q; call.dout = dout; call.out = out; call.dq = dq;
  // a kv head a unit: its dk, dv and its query heads' dq are one thread's
  for (let kv = teamShareStart(B * Hkv), kvEnd = teamShareEnd(B * Hkv); kv < kvEnd; kv++) {
    const b = kv / Hkv, hk = kv % Hkv;
    {
      const kvRow0 = (b * Hkv + hk) * S;
      call.b = b; call.hk = hk;
      call.maskRow = keyMask == 0 ? 0 : keyMask + <usize>(b * S);
      call.kHead = k + bytes(kvRow0 * d); call.vHead = v + bytes(kvRow0 * dv);
      call.dkHead = dk + bytes(kvRow0 * d); call.dvHead = dvOut + bytes(kvRow0 * dv);
      backwardQueryPass(call);
      if (causal) {
        backwardKeyPassCausal(call);
      } else {
        // every key is in the final units (call.units); G holds every query
        if (featureMap == FEATURE_FAVOR) memory.copy(call.gUnits, call.units, bytes(F));
        keysSeeingAllOfG(call, call.kHead, call.vHead, 0, S, call.maskRow, call.dvHead, call.dkHead);
      }
    }
  }
}

/** The first query row (of [B * Hq * T]) of query head hq of the current kv head's group. */
// @ts-ignore: decorator
@inline function groupRow0(call: LinearCall, hq: i32): i32 {
  return (call.b * call.Hq + call.hk * call.group + hq) * call.T;
}

/**
 * Pass 1 of the backward for the current kv head: the forward again, chunk by chunk (so
 * KV'_t is at hand), with dN' (kept for pass 2) and dq per query sub-chunk; G gathers
 * every query when bidirectional; causal blocks leave their FAVOR+ units in checkpoints.
 */
function backwardQueryPass(call: LinearCall): void {
  const T = call.T, S = call.S, d = call.d, dv = call.dv, F = call.F, causal = call.causal;
  const w = dv + 1, C = causal ? LINEAR_CHUNK : PASS_CHUNK, offset = S - T;
  const kHead = call.kHead, vHead = call.vHead, maskRow = call.maskRow;
  memory.fill(call.g, 0, bytes(F * w));
  fillUnits(call.gUnits, F, NEG_INF);
  absorbSharedKeys(call, kHead, vHead, causal ? min(max(offset, 0), S) : S, maskRow);
  if (!causal) packB(F, w, call.kv, w, 1, call.packedKV);
  for (let t0 = 0, block = 0; t0 < T; t0 += C, block++) {
    const nq = min(C, T - t0);
    const s0 = clamp(t0 + offset, 0, S), s1 = clamp(t0 + nq + offset, 0, S);
    const nk = causal ? s1 - s0 : 0;
    if (causal) memory.copy(call.checkpoints + bytes(block * F), call.units, bytes(F));
    if (nk > 0) keyLogits(call, kHead, s0, nk);
    const parts = planSubChunks(call, nk, s0, maskRow);
    for (let i = 0; i < parts; i++) {
      const n = startSubChunk(call, vHead, s0, i, maskRow, causal);
      const r0 = partRow(call, i, parts, t0, nq, s0, offset), m = partRow(call, i + 1, parts, t0, nq, s0, offset) - r0;
      const sa = s0 + load<i32>(call.cuts + bytes(i));
      if (n > 0) {
        packB(w, n, call.vOne, 1, w, call.pack2); // V'_c^T, for E = dN' V'^T
        packB(n, F, call.keys, F, 1, call.packedK); // phi(K_c), for E phi(K_c)
      }
      packB(w, F, call.kv, 1, w, call.pack1); // KV'^T, for dphi(Q) = dN' KV'^T
      for (let hq = 0; hq < call.group; hq++) {
        const row0 = groupRow0(call, hq);
        const qHead = call.q + bytes(row0 * d), doutHead = call.dout + bytes(row0 * dv);
        const outHead: usize = call.out == 0 ? 0 : call.out + bytes(row0 * dv);
        const dN = call.dN + bytes((hq * T + r0) * w);
        queryFeatures(call, qHead, r0, m);
        if (n > 0) intraChunk(call, m, n, r0, sa, offset);
        gemmPacked(m, w, F, call.phiQ, F, 1, call.packedKV, call.num, w, n > 0, call.packA);
        queryChunkGradients(call, doutHead, outHead, r0, m, dN);
        // dphi(Q_c) = dN'_c KV'^T (+ (dN'_c V'_c^T (.) lower) phi(K_c) inside the sub-chunk)
        gemmPacked(m, F, w, dN, w, 1, call.pack1, call.gradPhi, F, false, call.packA);
        if (n > 0) {
          gemmPacked(m, n, w, dN, w, 1, call.pack2, call.e, n, false, call.packA);
          maskCausal(call.e, m, n, r0, sa, offset);
          gemmPacked(m, F, n, call.e, n, 1, call.packedK, call.gradPhi, F, true, call.packA);
        }
        if (!causal) gatherQueries(call, m, dN, call.pack2); // (pack1 holds KV'^T for the next head)
        featureGradient(call, qHead + bytes(r0 * d), m, call.phiQ);
        storeRows(call, call.dq + bytes((row0 + r0) * d), m, false);
      }
      if (n > 0) absorbKeys(call, n);
    }
  }
}

/**
 * Pass 2 of a causal backward for the current kv head: the keys from the last to the
 * first, with G = the suffix sum of the queries that see them, then the keys every
 * query sees.
 */
function backwardKeyPassCausal(call: LinearCall): void {
  const T = call.T, S = call.S, d = call.d, dv = call.dv, F = call.F, featureMap = call.featureMap;
  const w = dv + 1, C = LINEAR_CHUNK, offset = S - T;
  const kHead = call.kHead, vHead = call.vHead, maskRow = call.maskRow, dkHead = call.dkHead, dvHead = call.dvHead;
  const blocks = (T + C - 1) / C;
  for (let block = blocks - 1; block >= 0; block--) {
    const t0 = block * C, nq = min(C, T - t0);
    const s0 = clamp(t0 + offset, 0, S), s1 = clamp(t0 + nq + offset, 0, S);
    const nk = s1 - s0;
    // the same sub-chunks as pass 1, from the units before the block
    memory.copy(call.units, call.checkpoints + bytes(block * F), bytes(F));
    if (nk > 0) keyLogits(call, kHead, s0, nk);
    const parts = planSubChunks(call, nk, s0, maskRow);
    for (let i = parts - 1; i >= 0; i--) {
      const ja = load<i32>(call.cuts + bytes(i)), n = load<i32>(call.cuts + bytes(i + 1)) - ja;
      const r0 = partRow(call, i, parts, t0, nq, s0, offset), m = partRow(call, i + 1, parts, t0, nq, s0, offset) - r0;
      const sa = s0 + ja;
      // this sub-chunk's keys and queries in the units they were absorbed and read with
      if (featureMap == FEATURE_FAVOR) {
        const units = call.subUnits + bytes(i * F);
        moveG(call, units);
        memory.copy(call.units, units, bytes(F));
      }
      if (n > 0) {
        keyValues(call, vHead, sa, call.phiK + bytes(ja * F), n, maskRow);
        packB(F, n, call.keys, 1, F, call.packedKT);
        packB(w, n, call.vOne, 1, w, call.pack2);
        // the later sub-chunks' queries first (G), then this one's own, which then join G
        keyGradientsFromSuffix(call, n, dvHead + bytes(sa * dv), false);
      }
      for (let hq = 0; hq < call.group; hq++) {
        const row0 = groupRow0(call, hq);
        const dN = call.dN + bytes((hq * T + r0) * w);
        queryFeatures(call, call.q + bytes(row0 * d), r0, m);
        if (n > 0) {
          // dphi(K_c) += (dN'_c V'_c^T (.) lower)^T phi(Q_c);  dv_c += (phi(Q_c) phi(K_c)^T (.) lower)^T dnum_c
          gemmPacked(m, n, w, dN, w, 1, call.pack2, call.e, n, false, call.packA);
          maskCausal(call.e, m, n, r0, sa, offset);
          packB(m, F, call.phiQ, F, 1, call.pack1);
          gemmPacked(n, F, m, call.e, 1, n, call.pack1, call.gradPhi, F, true, call.packA);
          gemmPacked(m, n, F, call.phiQ, F, 1, call.packedKT, call.a, n, false, call.packA);
          maskCausal(call.a, m, n, r0, sa, offset);
          packB(m, dv, dN, w, 1, call.pack1);
          gemmPacked(n, dv, m, call.a, 1, n, call.pack1, dvHead + bytes(sa * dv), dv, true, call.packA);
        }
        gatherQueries(call, m, dN, call.pack1);
      }
      if (n > 0) finishKeyGradients(call, kHead, sa, n, maskRow, dkHead);
    }
  }
  // the keys every query sees (before the first query's position), in the units after them
  const shared0 = min(max(offset, 0), S);
  if (shared0 > 0) {
    if (featureMap == FEATURE_FAVOR) {
      moveG(call, call.checkpoints);
      memory.copy(call.units, call.checkpoints, bytes(F));
    }
    keysSeeingAllOfG(call, kHead, vHead, 0, shared0, maskRow, dvHead, dkHead);
  }
}

/** Keys [s0, s1), every one seen by all the queries now in G: dk and dv from G, in chunks of PASS_CHUNK. */
function keysSeeingAllOfG(call: LinearCall, kHead: usize, vHead: usize, s0: i32, s1: i32, maskRow: usize, dvHead: usize, dkHead: usize): void {
  for (let sa = s0; sa < s1; sa += PASS_CHUNK) {
    const n = min(PASS_CHUNK, s1 - sa);
    keyLogits(call, kHead, sa, n);
    keyValues(call, vHead, sa, call.phiK, n, maskRow);
    keyGradientsFromSuffix(call, n, dvHead + bytes(sa * call.dv), false);
    finishKeyGradients(call, kHead, sa, n, maskRow, dkHead);
  }
}

/** dk rows s0 .. s0 + n += dphi(K) through the feature map, for the keys last prepared by keyValues (masked keys get nothing). */
function finishKeyGradients(call: LinearCall, kHead: usize, s0: i32, n: i32, maskRow: usize, dkHead: usize): void {
  const F = call.F;
  for (let r = 0; r < n; r++) {
    if (!keyVisible(maskRow, s0 + r)) memory.fill(call.gradPhi + bytes(r * F), 0, bytes(F));
  }
  featureGradient(call, kHead + bytes(s0 * call.d), n, call.keys);
  storeRows(call, dkHead + bytes(s0 * call.d), n, true);
}

// ---------------------------------------------------------------------------
// Streaming: one token per row, the state being each row's KV' [F, dv + 1] and its
// FAVOR+ units [F].

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
 * Row r absorbs its key (KV'_r += phi(k_r) [v_r, 1]^T, rescaled when its units grow)
 * and then reads with its query, as causal linear attention does at one position.
 * State: kvState [BH, F, dv + 1] and unitsState [BH, F] (FAVOR+; -inf before the
 * first token, unused by the other maps), updated in place;
 * scratch: attentionLinearScratchFloats(d, dv, F) floats.
 */
export function attentionLinearStep(
  BH: i32, d: i32, dv: i32, q: usize, k: usize, v: usize, featureMap: i32, W: usize, F: i32,
  scale: f32, eps: f32, kvState: usize, unitsState: usize, out: usize, scratch: usize,
): void {
  const call = setUpLinearCall(scratch, L_REGIONS, 0, 0, d, dv, F, featureMap, W, scale, eps);
  const w = dv + 1, favor = featureMap == FEATURE_FAVOR;
  // rows are independent: each thread its share
  for (let r = teamShareStart(BH), rEnd = teamShareEnd(BH); r < rEnd; r++) {
    call.kv = kvState + bytes(r * F * w);
    keyLogits(call, k + bytes(r * d), 0, 1);
    if (favor) {
      memory.copy(call.units, unitsState + bytes(r * F), bytes(F));
      coverKeys(call, call.phiK, 1, 0, 0);
      growUnits(call);
      memory.copy(unitsState + bytes(r * F), call.units, bytes(F));
    }
    keyValues(call, v + bytes(r * dv), 0, call.phiK, 1, 0);
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
