// Softmax family: cross-entropy, exact softmax over V classes, sampled softmax,
// negative sampling and hierarchical softmax, losses and gradients in one call each.
//
// Dimensions: batch rows i (N), classes v (V), hidden k (h); S shared candidates and
// R rows of a compact table (src/ops/softmax.ts gathers the touched weight rows), P path
// entries (hierarchical softmax: one per inner node on a row's Huffman path).
// Layout: row-major, last dimension contiguous: input [N, h], weights [V, h],
// logits [N, V], compact rows [R, h]. Strides in elements, pointers in bytes.
// Outputs: per-row losses and input gradients (dlogits, dInput) are written (=);
// weight and bias gradients (dWeights, dBias, dRows, dBiasRows) accumulate (+=)
// into buffers the caller zeroed. `scale` = 1/N: gradients are of the mean loss.
//
// Team (assembly/team.ts): per-row work splits the batch rows, per-class work the
// classes (or compact rows); the exact softmax's sums over all classes (the log-sum-exp
// of each row, dInput) run over fixed chunks of FULL_CHUNK classes, each one thread's,
// and the chunks' results are merged in chunk order. Every output is computed by one
// thread in the same order whatever the team: the same bits for any team.

import { gemmPackB, gemmPacked, gemmPackedAFloats } from "./gemm";
import { packedBFloats, regionAt, teamScratchFloats, threadRegionAt } from "./layout";
import { teamBarrier, teamShareEnd, teamShareStart, teamSize, teamThread } from "./team";
import { expF32x4 } from "./exp_f32x4";
import { hmaxF32x4, hsumF32x4, loadLanesF32x4, storeLanesF32x4 } from "./simd";
import { axpyRow, dotRow } from "./rows";

/** Classes per block of the exact softmax's dInput product (packed weight block 128 KB at h = 128). */
const FULL_BLOCK: i32 = 256;
/** Classes per chunk of the exact softmax's sums over classes (a work unit: 16 blocks). */
const FULL_CHUNK: i32 = 4096;

// @ts-ignore: decorator
@inline function f32At(base: usize, index: i32): usize {
  return base + (<usize>index << 2);
}

/**
 * Softmax of row[0, n) in place, scaled: row[j] = scale * exp(row[j] - lse); returns lse.
 * The row is in memory, so the max comes from one pass and exp from a second (one exp
 * per element; a one-pass online form needs two). -Infinity entries get 0.
 */
export function softmaxRowInPlace(row: usize, n: i32, scale: f32): f32 {
  let maxv = f32x4.splat(-Infinity);
  let j = 0;
  for (; j + 4 <= n; j += 4) maxv = f32x4.max(maxv, v128.load(f32At(row, j)));
  if (j < n) maxv = f32x4.max(maxv, v128.or(loadLanesF32x4(f32At(row, j), n - j), tailMinusInf(n - j)));
  const m = hmaxF32x4(maxv);
  const mv = f32x4.splat(m);
  let sumv = f32x4.splat(0);
  for (j = 0; j + 4 <= n; j += 4) {
    const e = expF32x4(f32x4.sub(v128.load(f32At(row, j)), mv));
    v128.store(f32At(row, j), e);
    sumv = f32x4.add(sumv, e);
  }
  if (j < n) {
    // lanes past n load as -inf and give exp = 0
    const e = expF32x4(f32x4.sub(v128.or(loadLanesF32x4(f32At(row, j), n - j), tailMinusInf(n - j)), mv));
    storeLanesF32x4(f32At(row, j), e, n - j);
    sumv = f32x4.add(sumv, e);
  }
  const sum = hsumF32x4(sumv);
  const factor = f32x4.splat(scale / sum);
  for (j = 0; j + 4 <= n; j += 4) v128.store(f32At(row, j), f32x4.mul(v128.load(f32At(row, j)), factor));
  for (; j < n; j++) store<f32>(f32At(row, j), load<f32>(f32At(row, j)) * (scale / sum));
  return m + Mathf.log(sum);
}

/** Lanes [valid, 4) set to -Infinity bits, lanes below to 0 (OR-ed into a zero-filled tail load). */
// @ts-ignore: decorator
@inline function tailMinusInf(valid: i32): v128 {
  const lane = i32x4(0, 1, 2, 3);
  return v128.and(i32x4.ge_s(lane, i32x4.splat(valid)), f32x4.splat(-Infinity));
}

// ---- cross-entropy ----------------------------------------------------------

/** rowLoss[i] = lse(logits[i]) - logits[i, t_i];  dlogits[i] = scale (softmax(logits[i]) - onehot(t_i)) */
export function softmaxCrossEntropy(batch: i32, classes: i32, logits: usize, targets: usize, scale: f32, rowLoss: usize, dlogits: usize): void {
  for (let i = teamShareStart(batch), end = teamShareEnd(batch); i < end; i++) {
    const row = dlogits + (<usize>i * <usize>classes << 2);
    memory.copy(row, logits + (<usize>i * <usize>classes << 2), <usize>classes << 2);
    const t = load<i32>(f32At(targets, i));
    const targetLogit = load<f32>(f32At(row, t));
    store<f32>(f32At(rowLoss, i), softmaxRowInPlace(row, classes, scale) - targetLogit);
    store<f32>(f32At(row, t), load<f32>(f32At(row, t)) - scale);
  }
}

// ---- exact softmax ------------------------------------------------------------

/** Logit row stride of softmaxFull: batch rounded up to whole f32x4. */
// @ts-ignore: decorator
@inline function fullLogitStride(batch: i32): i32 {
  return (batch + 3) & ~3;
}

// softmaxFull's scratch regions, in order (assembly/layout.ts): shared, then each thread's.
const F_LOGITS_T = 0, F_LSE = 1, F_PACK_INPUT_T = 2, F_PACK_INPUT = 3, F_CHUNK_MAX = 4, F_CHUNK_SUM = 5, F_D_INPUT_PARTS = 6,
  F_PACK_WEIGHTS = 7, F_PACK_A = 8, F_REGIONS = 9, F_FIRST_PRIVATE = F_PACK_WEIGHTS;

function fullRegionFloats(region: i32, batch: i32, classes: i32, hidden: i32, _0: i32, _1: i32, _2: i32): f64 {
  const ld = <f64>fullLogitStride(batch), chunks = Math.ceil(<f64>classes / FULL_CHUNK);
  switch (region) {
    case F_LOGITS_T: return <f64>classes * ld;
    case F_LSE: return ld;
    case F_PACK_INPUT_T: return packedBFloats(hidden, batch);
    case F_PACK_INPUT: return packedBFloats(batch, hidden);
    case F_CHUNK_MAX: case F_CHUNK_SUM: return chunks * ld;
    case F_D_INPUT_PARTS: return chunks * <f64>batch * <f64>hidden;
    case F_PACK_WEIGHTS: return packedBFloats(FULL_BLOCK, hidden);
    case F_PACK_A: return <f64>gemmPackedAFloats();
  }
  return 0;
}

/** Floats of scratch softmaxFull needs on `threads` threads. */
export function softmaxFullScratchFloats(batch: i32, classes: i32, hidden: i32, threads: i32): f64 {
  return teamScratchFloats(fullRegionFloats, F_FIRST_PRIVATE, F_REGIONS, threads, batch, classes, hidden, 0, 0, 0);
}

/**
 * Exact softmax over all classes of input @ weightsᵀ + bias.
 * Logits are computed transposed, logitsT [V, N] = weights @ inputᵀ, so the big
 * operand (weights) is GEMM's A (packed in cache blocks) and only inputᵀ is packed
 * whole; the log-sum-exp of each row i then runs over classes with i in SIMD lanes,
 * online over blocks of classes (running max, rescaled running sum) within each chunk
 * of FULL_CHUNK classes, and the chunks' (max, sum) are merged in order.
 */
export function softmaxFull(
  batch: i32, classes: i32, hidden: i32,
  input: usize, weights: usize, bias: usize, targets: usize, scale: f32,
  rowLoss: usize, dInput: usize, dWeights: usize, dBias: usize, scratch: usize,
): void {
  const ld = fullLogitStride(batch), thread = teamThread();
  const chunks = (classes + FULL_CHUNK - 1) / FULL_CHUNK;
  const logitsT = regionAt(scratch, fullRegionFloats, F_LOGITS_T, batch, classes, hidden, 0, 0, 0);
  const lse = regionAt(scratch, fullRegionFloats, F_LSE, batch, classes, hidden, 0, 0, 0);
  const packInputT = regionAt(scratch, fullRegionFloats, F_PACK_INPUT_T, batch, classes, hidden, 0, 0, 0);
  const packInput = regionAt(scratch, fullRegionFloats, F_PACK_INPUT, batch, classes, hidden, 0, 0, 0);
  const chunkMax = regionAt(scratch, fullRegionFloats, F_CHUNK_MAX, batch, classes, hidden, 0, 0, 0);
  const chunkSum = regionAt(scratch, fullRegionFloats, F_CHUNK_SUM, batch, classes, hidden, 0, 0, 0);
  const dInputParts = regionAt(scratch, fullRegionFloats, F_D_INPUT_PARTS, batch, classes, hidden, 0, 0, 0);
  const packWeights = threadRegionAt(scratch, fullRegionFloats, F_FIRST_PRIVATE, F_REGIONS, F_PACK_WEIGHTS, thread, batch, classes, hidden, 0, 0, 0);
  const packA = threadRegionAt(scratch, fullRegionFloats, F_FIRST_PRIVATE, F_REGIONS, F_PACK_A, thread, batch, classes, hidden, 0, 0, 0);
  const rowBytes = <usize>ld << 2;
  const v0 = teamShareStart(classes), v1 = teamShareEnd(classes); // this thread's classes
  const c0 = teamShareStart(chunks), c1 = teamShareEnd(chunks); // and chunks

  if (thread == 0) gemmPackB(hidden, batch, input, 1, hidden, packInputT);
  if (thread == 1 % teamSize()) gemmPackB(batch, hidden, input, hidden, 1, packInput);
  teamBarrier();
  // logitsT[v, i] = weights[v] . input[i] + bias[v] for this thread's classes; padding lanes [batch, ld) = 0
  if (bias != 0) {
    for (let v = v0; v < v1; v++) {
      const b = f32x4.splat(load<f32>(f32At(bias, v)));
      for (let i = 0; i < ld; i += 4) v128.store(logitsT + <usize>v * rowBytes + (<usize>i << 2), b);
    }
  }
  gemmPacked(v1 - v0, batch, hidden, weights + (<usize>v0 * <usize>hidden << 2), hidden, 1, packInputT, logitsT + <usize>v0 * rowBytes, ld, bias != 0, packA);
  if (ld != batch) {
    for (let v = v0; v < v1; v++) {
      for (let i = batch; i < ld; i++) store<f32>(logitsT + <usize>v * rowBytes + (<usize>i << 2), 0);
    }
  }
  teamBarrier();

  // each chunk's (max, sum of exp) of every row i, online over its blocks of classes
  for (let c = c0; c < c1; c++) {
    const chunkEnd = min(classes, (c + 1) * FULL_CHUNK);
    for (let i = 0; i < ld; i += 4) {
      const lane = <usize>i << 2;
      let runMax = f32x4.splat(-Infinity), runSum = f32x4.splat(0);
      for (let b0 = c * FULL_CHUNK; b0 < chunkEnd; b0 += FULL_BLOCK) {
        const b1 = min(chunkEnd, b0 + FULL_BLOCK);
        let blockMax = f32x4.splat(-Infinity);
        for (let v = b0; v < b1; v++) blockMax = f32x4.max(blockMax, v128.load(logitsT + <usize>v * rowBytes + lane));
        const newMax = f32x4.max(runMax, blockMax);
        let sum = f32x4.mul(runSum, expF32x4(f32x4.sub(runMax, newMax)));
        for (let v = b0; v < b1; v++) {
          sum = f32x4.add(sum, expF32x4(f32x4.sub(v128.load(logitsT + <usize>v * rowBytes + lane), newMax)));
        }
        runMax = newMax;
        runSum = sum;
      }
      v128.store(chunkMax + <usize>c * rowBytes + lane, runMax);
      v128.store(chunkSum + <usize>c * rowBytes + lane, runSum);
    }
  }
  teamBarrier();
  // lse[i]: the chunks merged in order (every thread, into registers; thread 0 stores them)
  for (let i = 0; i < ld; i += 4) {
    const lane = <usize>i << 2;
    let m = f32x4.splat(-Infinity), sum = f32x4.splat(0);
    for (let c = 0; c < chunks; c++) {
      const cm = v128.load(chunkMax + <usize>c * rowBytes + lane), cs = v128.load(chunkSum + <usize>c * rowBytes + lane);
      const newMax = f32x4.max(m, cm);
      sum = f32x4.add(f32x4.mul(sum, expF32x4(f32x4.sub(m, newMax))), f32x4.mul(cs, expF32x4(f32x4.sub(cm, newMax))));
      m = newMax;
    }
    // lanes past batch are padding (logits 0): their lse is finite and unused
    const lanes = min(4, batch - i);
    for (let lane4 = 0; lane4 < lanes; lane4++) {
      const row = i + lane4;
      const value = extractLane(m, lane4) + Mathf.log(extractLane(sum, lane4));
      if (thread == 0) {
        store<f32>(f32At(lse, row), value);
        const t = load<i32>(f32At(targets, row));
        store<f32>(f32At(rowLoss, row), value - load<f32>(logitsT + <usize>t * rowBytes + (<usize>row << 2)));
      }
    }
  }
  teamBarrier();
  // dl[v, i] = scale (exp(logit - lse) - [v == t_i]), in place, for this thread's classes; padding lanes stay finite
  const scaleV = f32x4.splat(scale);
  for (let v = v0; v < v1; v++) {
    const row = logitsT + <usize>v * rowBytes;
    for (let i = 0; i < ld; i += 4) {
      const lane = <usize>i << 2;
      v128.store(row + lane, f32x4.mul(expF32x4(f32x4.sub(v128.load(row + lane), v128.load(lse + lane))), scaleV));
    }
  }
  for (let i = 0; i < batch; i++) {
    const t = load<i32>(f32At(targets, i));
    if (t < v0 || t >= v1) continue;
    const at = logitsT + <usize>t * rowBytes + (<usize>i << 2);
    store<f32>(at, load<f32>(at) - scale);
  }
  // dBias[v] += sum_i dl[v, i]
  if (dBias != 0) {
    for (let v = v0; v < v1; v++) {
      let s: f32 = 0;
      for (let i = 0; i < batch; i++) s += load<f32>(logitsT + <usize>v * rowBytes + (<usize>i << 2));
      store<f32>(f32At(dBias, v), load<f32>(f32At(dBias, v)) + s);
    }
  }
  // dWeights [V, h] += dlT [V, N] @ input [N, h] for this thread's classes
  gemmPacked(v1 - v0, hidden, batch, logitsT + <usize>v0 * rowBytes, ld, 1, packInput, dWeights + (<usize>v0 * <usize>hidden << 2), hidden, true, packA);
  teamBarrier();
  // dInput [N, h] = dl [N, V] @ weights [V, h]: each chunk's part over its blocks of classes
  // (the packed block stays small), then the parts summed in chunk order
  const partFloats = batch * hidden;
  for (let c = c0; c < c1; c++) {
    const part = dInputParts + (<usize>(c * partFloats) << 2);
    const chunkEnd = min(classes, (c + 1) * FULL_CHUNK);
    for (let b0 = c * FULL_CHUNK; b0 < chunkEnd; b0 += FULL_BLOCK) {
      const vb = min(FULL_BLOCK, chunkEnd - b0);
      gemmPackB(vb, hidden, weights + (<usize>b0 * <usize>hidden << 2), hidden, 1, packWeights);
      gemmPacked(batch, hidden, vb, logitsT + <usize>b0 * rowBytes, 1, ld, packWeights, part, hidden, b0 > c * FULL_CHUNK, packA);
    }
  }
  teamBarrier();
  for (let e = teamShareStart(partFloats), end = teamShareEnd(partFloats); e < end; e++) {
    let sum = load<f32>(dInputParts + (<usize>e << 2));
    for (let c = 1; c < chunks; c++) sum += load<f32>(dInputParts + (<usize>(c * partFloats + e) << 2));
    store<f32>(f32At(dInput, e), sum);
  }
}

// @ts-ignore: decorator
@inline function extractLane(v: v128, lane: i32): f32 {
  return lane == 0 ? f32x4.extract_lane(v, 0) : lane == 1 ? f32x4.extract_lane(v, 1) : lane == 2 ? f32x4.extract_lane(v, 2) : f32x4.extract_lane(v, 3);
}

// ---- sampled softmax ------------------------------------------------------------

// softmaxSampled's scratch regions, in order: candidate logits [N, S] (then their
// gradients), the true logits' gradients [N], the three packed B operands (shared),
// then each thread's packed A.
const S_LOGITS = 0, S_DL_TRUE = 1, S_PACK_ROWS_T = 2, S_PACK_ROWS = 3, S_PACK_INPUT = 4, S_PACK_A = 5, S_REGIONS = 6,
  S_FIRST_PRIVATE = S_PACK_A;

function sampledRegionFloats(region: i32, batch: i32, hidden: i32, numSampled: i32, _0: i32, _1: i32, _2: i32): f64 {
  switch (region) {
    case S_LOGITS: return <f64>batch * <f64>numSampled;
    case S_DL_TRUE: return batch;
    case S_PACK_ROWS_T: return packedBFloats(hidden, numSampled);
    case S_PACK_ROWS: return packedBFloats(numSampled, hidden);
    case S_PACK_INPUT: return packedBFloats(batch, hidden);
    case S_PACK_A: return <f64>gemmPackedAFloats();
  }
  return 0;
}

/** Floats of scratch softmaxSampled needs on `threads` threads. */
export function softmaxSampledScratchFloats(batch: i32, hidden: i32, numSampled: i32, threads: i32): f64 {
  return teamScratchFloats(sampledRegionFloats, S_FIRST_PRIVATE, S_REGIONS, threads, batch, hidden, numSampled, 0, 0, 0);
}

/**
 * Sampled softmax on the compact table rows [R, h] (candidates at rows [0, S)):
 * row i's logits are [x_i . w_t + b_t - logQTrue_i, x_i . w_j + b_j - logQSampled_j],
 * with candidate j == t_i dropped (-Infinity) when removeHits. Team: the batch rows are
 * split for the logits and dInput; the compact rows (dRows, dBiasRows), each summing
 * over the batch rows in order, after a barrier.
 */
export function softmaxSampled(
  batch: i32, hidden: i32, numSampled: i32,
  input: usize, rows: usize, rowBias: usize, targetSlot: usize, logQTrue: usize, logQSampled: usize, removeHits: i32, scale: f32,
  rowLoss: usize, dInput: usize, dRows: usize, dBiasRows: usize, scratch: usize,
): void {
  const S = numSampled, thread = teamThread(), size = teamSize();
  const logits = regionAt(scratch, sampledRegionFloats, S_LOGITS, batch, hidden, S, 0, 0, 0);
  const dlTrue = regionAt(scratch, sampledRegionFloats, S_DL_TRUE, batch, hidden, S, 0, 0, 0);
  const packRowsT = regionAt(scratch, sampledRegionFloats, S_PACK_ROWS_T, batch, hidden, S, 0, 0, 0);
  const packRows = regionAt(scratch, sampledRegionFloats, S_PACK_ROWS, batch, hidden, S, 0, 0, 0);
  const packInput = regionAt(scratch, sampledRegionFloats, S_PACK_INPUT, batch, hidden, S, 0, 0, 0);
  const packA = threadRegionAt(scratch, sampledRegionFloats, S_FIRST_PRIVATE, S_REGIONS, S_PACK_A, thread, batch, hidden, S, 0, 0, 0);

  if (thread == 0) gemmPackB(hidden, S, rows, 1, hidden, packRowsT);
  if (thread == 1 % size) gemmPackB(S, hidden, rows, hidden, 1, packRows);
  if (thread == 2 % size) gemmPackB(batch, hidden, input, hidden, 1, packInput);
  teamBarrier();
  // logits [N, S] = input [N, h] @ rows[0, S)ᵀ, and each row's softmax, for this thread's rows
  const i0 = teamShareStart(batch), i1 = teamShareEnd(batch);
  gemmPacked(i1 - i0, S, hidden, input + (<usize>i0 * <usize>hidden << 2), hidden, 1, packRowsT, logits + (<usize>i0 * <usize>S << 2), S, false, packA);
  for (let i = i0; i < i1; i++) {
    const x = input + (<usize>i * <usize>hidden << 2);
    const t = load<i32>(f32At(targetSlot, i));
    const row = logits + (<usize>i * <usize>S << 2);
    for (let j = 0; j < S; j++) {
      const b: f32 = rowBias != 0 ? load<f32>(f32At(rowBias, j)) : 0;
      store<f32>(f32At(row, j), load<f32>(f32At(row, j)) + b - load<f32>(f32At(logQSampled, j)));
    }
    if (removeHits != 0 && t < S) store<f32>(f32At(row, t), -Infinity);
    const bt: f32 = rowBias != 0 ? load<f32>(f32At(rowBias, t)) : 0;
    const trueLogit = dotRow(x, rows + (<usize>t * <usize>hidden << 2), hidden) + bt - load<f32>(f32At(logQTrue, i));
    // softmax over [trueLogit, row[0, S)]: fold the true logit in through the max and the sum
    let m = trueLogit;
    for (let j = 0; j < S; j++) m = max(m, load<f32>(f32At(row, j)));
    let sum: f32 = 0;
    let j = 0;
    const mv = f32x4.splat(m);
    for (; j + 4 <= S; j += 4) {
      const e = expF32x4(f32x4.sub(v128.load(f32At(row, j)), mv));
      v128.store(f32At(row, j), e);
      sum += hsumF32x4(e);
    }
    if (j < S) {
      const e = expF32x4(f32x4.sub(v128.or(loadLanesF32x4(f32At(row, j), S - j), tailMinusInf(S - j)), mv));
      storeLanesF32x4(f32At(row, j), e, S - j);
      sum += hsumF32x4(e);
    }
    const eTrue = f32x4.extract_lane(expF32x4(f32x4.splat(trueLogit - m)), 0);
    sum += eTrue;
    const factor = scale / sum;
    for (j = 0; j < S; j++) store<f32>(f32At(row, j), load<f32>(f32At(row, j)) * factor);
    store<f32>(f32At(dlTrue, i), eTrue * factor - scale);
    store<f32>(f32At(rowLoss, i), m + Mathf.log(sum) - trueLogit);
  }
  // dInput [N, h] = dl [N, S] @ rows[0, S);  then + dlTrue_i rows[t_i]
  gemmPacked(i1 - i0, hidden, S, logits + (<usize>i0 * <usize>S << 2), S, 1, packRows, dInput + (<usize>i0 * <usize>hidden << 2), hidden, false, packA);
  for (let i = i0; i < i1; i++) {
    const t = load<i32>(f32At(targetSlot, i));
    axpyRow(load<f32>(f32At(dlTrue, i)), rows + (<usize>t * <usize>hidden << 2), dInput + (<usize>i * <usize>hidden << 2), hidden);
  }
  teamBarrier();
  // this thread's compact rows r: dRows[r < S] += dlᵀ [S, N] @ input [N, h], then for every batch
  // row i in order: dRows[t_i] += dlTrue_i input[i], dBiasRows[t_i] += dlTrue_i, dBiasRows[r < S] += dl[i, r]
  const numRows = rowsOfTable(batch, S, targetSlot);
  const r0 = teamShareStart(numRows), r1 = teamShareEnd(numRows);
  const c1 = min(r1, S);
  if (c1 > r0) {
    gemmPacked(c1 - r0, hidden, batch, logits + (<usize>r0 << 2), 1, S, packInput, dRows + (<usize>r0 * <usize>hidden << 2), hidden, true, packA);
  }
  for (let i = 0; i < batch; i++) {
    const t = load<i32>(f32At(targetSlot, i));
    const g = load<f32>(f32At(dlTrue, i));
    if (t >= r0 && t < r1) axpyRow(g, input + (<usize>i * <usize>hidden << 2), dRows + (<usize>t * <usize>hidden << 2), hidden);
    if (dBiasRows != 0) {
      if (t >= r0 && t < r1) store<f32>(f32At(dBiasRows, t), load<f32>(f32At(dBiasRows, t)) + g);
      const row = logits + (<usize>i * <usize>S << 2);
      for (let j = r0; j < c1; j++) store<f32>(f32At(dBiasRows, j), load<f32>(f32At(dBiasRows, j)) + load<f32>(f32At(row, j)));
    }
  }
}

/** Rows of the compact table: the S candidates and the target slots past them. */
function rowsOfTable(batch: i32, S: i32, targetSlot: usize): i32 {
  let rows = S;
  for (let i = 0; i < batch; i++) rows = max(rows, load<i32>(f32At(targetSlot, i)) + 1);
  return rows;
}

// ---- negative sampling ----------------------------------------------------------

/** -log σ(x) = log(1 + e^-x), without overflow. */
// @ts-ignore: decorator
@inline function minusLogSigmoid(x: f32): f32 {
  return max(-x, 0) + Mathf.log1p(Mathf.exp(-Mathf.abs(x)));
}

/** σ(x) without overflow. */
// @ts-ignore: decorator
@inline function sigmoid(x: f32): f32 {
  if (x >= 0) return 1 / (1 + Mathf.exp(-x));
  const e = Mathf.exp(x);
  return e / (1 + e);
}

/** Floats (i32 and f32 pairs) of scratch softmaxNegativeSampling needs: each pair's row and gradient. */
export function softmaxNegativeSamplingScratchFloats(batch: i32, negative: i32): f64 {
  return 2 * <f64>batch * (<f64>negative + 1);
}

/**
 * word2vec SGNS on the compact rows [R, h]: rowLoss[i] = -log σ(x_i . w_t) - Σ_d log σ(-x_i . w_nd),
 * skipping negatives equal to the target. dInput written, dRows accumulated. Team: the
 * batch rows are split (each pair's row and gradient kept in scratch), then the compact
 * rows, each adding its pairs' gradients in pair order.
 */
export function softmaxNegativeSampling(
  batch: i32, hidden: i32, negative: i32,
  input: usize, rows: usize, targetSlot: usize, negativeSlot: usize, scale: f32,
  rowLoss: usize, dInput: usize, dRows: usize, scratch: usize,
): void {
  const rowBytes = <usize>hidden << 2, pairsPerRow = negative + 1;
  // pair p (= i * (negative + 1) + d + 1): its compact row (-1 when skipped) and gradient g
  const pairRow = scratch, pairGradient = scratch + (<usize>(batch * pairsPerRow) << 2);
  let rowCount = 0;
  for (let i = teamShareStart(batch), end = teamShareEnd(batch); i < end; i++) {
    const x = input + <usize>i * rowBytes;
    const dx = dInput + <usize>i * rowBytes;
    memory.fill(dx, 0, rowBytes);
    const t = load<i32>(f32At(targetSlot, i));
    let loss: f32 = 0;
    for (let d = -1; d < negative; d++) {
      const pair = i * pairsPerRow + d + 1;
      const r = d < 0 ? t : load<i32>(f32At(negativeSlot, i * negative + d));
      if (d >= 0 && r == t) {
        store<i32>(f32At(pairRow, pair), -1);
        continue;
      }
      const w = rows + <usize>r * rowBytes;
      const f = dotRow(x, w, hidden);
      // positive: d(-log σ(f))/df = σ(f) - 1;  negative: d(-log σ(-f))/df = σ(f)
      const label: f32 = d < 0 ? 1 : 0;
      loss += minusLogSigmoid(d < 0 ? f : -f);
      const g = (sigmoid(f) - label) * scale;
      axpyRow(g, w, dx, hidden);
      store<i32>(f32At(pairRow, pair), r);
      store<f32>(f32At(pairGradient, pair), g);
    }
    store<f32>(f32At(rowLoss, i), loss);
  }
  teamBarrier();
  // dRows[r] += g x_i for every pair of row r, in pair order, for this thread's compact rows
  for (let p = 0; p < batch * pairsPerRow; p++) rowCount = max(rowCount, load<i32>(f32At(pairRow, p)) + 1);
  const r0 = teamShareStart(rowCount), r1 = teamShareEnd(rowCount);
  for (let p = 0; p < batch * pairsPerRow; p++) {
    const r = load<i32>(f32At(pairRow, p));
    if (r < r0 || r >= r1) continue;
    axpyRow(load<f32>(f32At(pairGradient, p)), input + <usize>(p / pairsPerRow) * rowBytes, dRows + <usize>r * rowBytes, hidden);
  }
}

// ---- hierarchical softmax ---------------------------------------------------------

/** Floats of scratch softmaxHierarchical needs: each path entry's gradient. */
export function softmaxHierarchicalScratchFloats(entries: i32): f64 {
  return entries;
}

/**
 * Hierarchical softmax on the compact rows [R, h] of the inner nodes the batch's paths
 * touch: row i's path entries are pathEntries[pathStarts[i], pathStarts[i + 1]), each
 * (compact row << 1) | code, and rowLoss[i] = Σ_p -log σ((1 - 2 code_p) x_i . w_p).
 * dInput written, dRows accumulated. Team: the batch rows are split (each entry's
 * gradient kept in scratch), then the compact rows, each adding its entries' gradients
 * in entry order.
 */
export function softmaxHierarchical(
  batch: i32, hidden: i32, numRows: i32,
  input: usize, rows: usize, pathStarts: usize, pathEntries: usize, scale: f32,
  rowLoss: usize, dInput: usize, dRows: usize, scratch: usize,
): void {
  const rowBytes = <usize>hidden << 2;
  for (let i = teamShareStart(batch), end = teamShareEnd(batch); i < end; i++) {
    const x = input + <usize>i * rowBytes;
    const dx = dInput + <usize>i * rowBytes;
    memory.fill(dx, 0, rowBytes);
    let loss: f32 = 0;
    for (let p = load<i32>(f32At(pathStarts, i)), pEnd = load<i32>(f32At(pathStarts, i + 1)); p < pEnd; p++) {
      const entry = load<i32>(f32At(pathEntries, p));
      const w = rows + <usize>(entry >> 1) * rowBytes;
      const f = dotRow(x, w, hidden);
      // label 1 - code: -log σ(f) for code 0, -log σ(-f) for code 1; d/df = σ(f) - label
      const label: f32 = (entry & 1) == 0 ? 1 : 0;
      loss += minusLogSigmoid(label > 0 ? f : -f);
      const g = (sigmoid(f) - label) * scale;
      axpyRow(g, w, dx, hidden);
      store<f32>(f32At(scratch, p), g);
    }
    store<f32>(f32At(rowLoss, i), loss);
  }
  teamBarrier();
  // dRows[r] += g x_i for every entry of row r, in entry order, for this thread's compact rows
  const r0 = teamShareStart(numRows), r1 = teamShareEnd(numRows);
  for (let i = 0; i < batch; i++) {
    const x = input + <usize>i * rowBytes;
    for (let p = load<i32>(f32At(pathStarts, i)), pEnd = load<i32>(f32At(pathStarts, i + 1)); p < pEnd; p++) {
      const r = load<i32>(f32At(pathEntries, p)) >> 1;
      if (r < r0 || r >= r1) continue;
      axpyRow(load<f32>(f32At(scratch, p)), x, dRows + <usize>r * rowBytes, hidden);
    }
  }
}
