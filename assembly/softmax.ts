// Softmax family: cross-entropy, exact softmax over V classes, sampled softmax and
// negative sampling, losses and gradients in one call each.
//
// Dimensions: batch rows i (N), classes v (V), hidden k (h); S shared candidates and
// R rows of a compact table (src/ops/softmax.ts gathers the touched weight rows).
// Layout: row-major, last dimension contiguous: input [N, h], weights [V, h],
// logits [N, V], compact rows [R, h]. Strides in elements, pointers in bytes.
// Outputs: per-row losses and input gradients (dlogits, dInput) are written (=);
// weight and bias gradients (dWeights, dBias, dRows, dBiasRows) accumulate (+=)
// into buffers the caller zeroed. `scale` = 1/N: gradients are of the mean loss.

import { gemmPackB, gemmPacked, gemmPackedAFloats } from "./gemm";
import { packedBFloats, floatsBefore, regionAt } from "./layout";
import { expF32x4 } from "./exp_f32x4";
import { hmaxF32x4, hsumF32x4, loadLanesF32x4, storeLanesF32x4 } from "./simd";
import { axpyRow, dotRow } from "./rows";

/** Classes per block of the exact softmax's dInput product (packed weight block 128 KB at h = 128). */
const FULL_BLOCK: i32 = 256;

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
  memory.copy(dlogits, logits, <usize>batch * <usize>classes << 2);
  for (let i = 0; i < batch; i++) {
    const row = dlogits + (<usize>i * <usize>classes << 2);
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

// softmaxFull's scratch regions, in order (assembly/layout.ts).
const F_LOGITS_T = 0, F_RUN_MAX = 1, F_RUN_SUM = 2, F_PACK_INPUT_T = 3, F_PACK_INPUT = 4, F_PACK_WEIGHTS = 5, F_PACK_A = 6,
  F_REGIONS = 7;

function fullRegionFloats(region: i32, batch: i32, classes: i32, hidden: i32, _0: i32, _1: i32, _2: i32): f64 {
  const ld = <f64>fullLogitStride(batch);
  switch (region) {
    case F_LOGITS_T: return <f64>classes * ld;
    case F_RUN_MAX: case F_RUN_SUM: return ld;
    case F_PACK_INPUT_T: return packedBFloats(hidden, batch);
    case F_PACK_INPUT: return packedBFloats(batch, hidden);
    case F_PACK_WEIGHTS: return packedBFloats(FULL_BLOCK, hidden);
    case F_PACK_A: return <f64>gemmPackedAFloats();
  }
  return 0;
}

/** Floats of scratch softmaxFull needs. */
export function softmaxFullScratchFloats(batch: i32, classes: i32, hidden: i32): f64 {
  return floatsBefore(fullRegionFloats, F_REGIONS, batch, classes, hidden, 0, 0, 0);
}

/**
 * Exact softmax over all classes of input @ weightsᵀ + bias.
 * Logits are computed transposed, logitsT [V, N] = weights @ inputᵀ, so the big
 * operand (weights) is GEMM's A (packed in cache blocks) and only inputᵀ is packed
 * whole; the log-sum-exp of each row i then runs over classes with i in SIMD lanes,
 * online over blocks of classes (running max, rescaled running sum).
 */
export function softmaxFull(
  batch: i32, classes: i32, hidden: i32,
  input: usize, weights: usize, bias: usize, targets: usize, scale: f32,
  rowLoss: usize, dInput: usize, dWeights: usize, dBias: usize, scratch: usize,
): void {
  const ld = fullLogitStride(batch);
  const logitsT = regionAt(scratch, fullRegionFloats, F_LOGITS_T, batch, classes, hidden, 0, 0, 0);
  const runMax = regionAt(scratch, fullRegionFloats, F_RUN_MAX, batch, classes, hidden, 0, 0, 0);
  const runSum = regionAt(scratch, fullRegionFloats, F_RUN_SUM, batch, classes, hidden, 0, 0, 0);
  const packInputT = regionAt(scratch, fullRegionFloats, F_PACK_INPUT_T, batch, classes, hidden, 0, 0, 0);
  const packInput = regionAt(scratch, fullRegionFloats, F_PACK_INPUT, batch, classes, hidden, 0, 0, 0);
  const packWeights = regionAt(scratch, fullRegionFloats, F_PACK_WEIGHTS, batch, classes, hidden, 0, 0, 0);
  const packA = regionAt(scratch, fullRegionFloats, F_PACK_A, batch, classes, hidden, 0, 0, 0);
  const rowBytes = <usize>ld << 2;

  // logitsT[v, i] = weights[v] . input[i] + bias[v]; padding lanes [batch, ld) = 0
  if (bias != 0) {
    for (let v = 0; v < classes; v++) {
      const b = f32x4.splat(load<f32>(f32At(bias, v)));
      for (let i = 0; i < ld; i += 4) v128.store(logitsT + <usize>v * rowBytes + (<usize>i << 2), b);
    }
  }
  gemmPackB(hidden, batch, input, 1, hidden, packInputT);
  gemmPacked(classes, batch, hidden, weights, hidden, 1, packInputT, logitsT, ld, bias != 0, packA);
  if (ld != batch) {
    for (let v = 0; v < classes; v++) {
      for (let i = batch; i < ld; i++) store<f32>(logitsT + <usize>v * rowBytes + (<usize>i << 2), 0);
    }
  }

  // lse[i] over v, online per block of classes: max of the block, rescale, add exps
  for (let i = 0; i < ld; i += 4) {
    v128.store(runMax + (<usize>i << 2), f32x4.splat(-Infinity));
    v128.store(runSum + (<usize>i << 2), f32x4.splat(0));
  }
  for (let v0 = 0; v0 < classes; v0 += FULL_BLOCK) {
    const v1 = min(classes, v0 + FULL_BLOCK);
    for (let i = 0; i < ld; i += 4) {
      const lane = <usize>i << 2;
      let blockMax = f32x4.splat(-Infinity);
      for (let v = v0; v < v1; v++) blockMax = f32x4.max(blockMax, v128.load(logitsT + <usize>v * rowBytes + lane));
      const oldMax = v128.load(runMax + lane);
      const newMax = f32x4.max(oldMax, blockMax);
      let sum = f32x4.mul(v128.load(runSum + lane), expF32x4(f32x4.sub(oldMax, newMax)));
      for (let v = v0; v < v1; v++) {
        sum = f32x4.add(sum, expF32x4(f32x4.sub(v128.load(logitsT + <usize>v * rowBytes + lane), newMax)));
      }
      v128.store(runMax + lane, newMax);
      v128.store(runSum + lane, sum);
    }
  }
  // runMax <- lse;  rowLoss[i] = lse[i] - logit[t_i, i]
  for (let i = 0; i < batch; i++) {
    const lse = load<f32>(f32At(runMax, i)) + Mathf.log(load<f32>(f32At(runSum, i)));
    store<f32>(f32At(runMax, i), lse);
    const t = load<i32>(f32At(targets, i));
    store<f32>(f32At(rowLoss, i), lse - load<f32>(logitsT + <usize>t * rowBytes + (<usize>i << 2)));
  }
  // dl[v, i] = scale (exp(logit - lse) - [v == t_i]), in place; padding lanes stay finite
  const scaleV = f32x4.splat(scale);
  for (let v = 0; v < classes; v++) {
    const row = logitsT + <usize>v * rowBytes;
    for (let i = 0; i < ld; i += 4) {
      const lane = <usize>i << 2;
      v128.store(row + lane, f32x4.mul(expF32x4(f32x4.sub(v128.load(row + lane), v128.load(runMax + lane))), scaleV));
    }
  }
  for (let i = 0; i < batch; i++) {
    const at = logitsT + <usize>load<i32>(f32At(targets, i)) * rowBytes + (<usize>i << 2);
    store<f32>(at, load<f32>(at) - scale);
  }
  // dBias[v] += sum_i dl[v, i]
  if (dBias != 0) {
    for (let v = 0; v < classes; v++) {
      let s: f32 = 0;
      for (let i = 0; i < batch; i++) s += load<f32>(logitsT + <usize>v * rowBytes + (<usize>i << 2));
      store<f32>(f32At(dBias, v), load<f32>(f32At(dBias, v)) + s);
    }
  }
  // dWeights [V, h] += dlT [V, N] @ input [N, h]
  gemmPackB(batch, hidden, input, hidden, 1, packInput);
  gemmPacked(classes, hidden, batch, logitsT, ld, 1, packInput, dWeights, hidden, true, packA);
  // dInput [N, h] = dl [N, V] @ weights [V, h], over blocks of classes so the packed block stays small
  for (let v0 = 0; v0 < classes; v0 += FULL_BLOCK) {
    const vb = min(FULL_BLOCK, classes - v0);
    gemmPackB(vb, hidden, weights + (<usize>v0 * <usize>hidden << 2), hidden, 1, packWeights);
    gemmPacked(batch, hidden, vb, logitsT + <usize>v0 * rowBytes, 1, ld, packWeights, dInput, hidden, v0 > 0, packA);
  }
}

// ---- sampled softmax ------------------------------------------------------------

// softmaxSampled's scratch regions, in order: candidate logits [N, S] (then their
// gradients), the true logits' gradients [N], a packed B operand, packed A.
const S_LOGITS = 0, S_DL_TRUE = 1, S_PACK_B = 2, S_PACK_A = 3, S_REGIONS = 4;

function sampledRegionFloats(region: i32, batch: i32, hidden: i32, numSampled: i32, _0: i32, _1: i32, _2: i32): f64 {
  switch (region) {
    case S_LOGITS: return <f64>batch * <f64>numSampled;
    case S_DL_TRUE: return batch;
    case S_PACK_B: return max(packedBFloats(hidden, numSampled), max(packedBFloats(numSampled, hidden), packedBFloats(batch, hidden)));
    case S_PACK_A: return <f64>gemmPackedAFloats();
  }
  return 0;
}

/** Floats of scratch softmaxSampled needs. */
export function softmaxSampledScratchFloats(batch: i32, hidden: i32, numSampled: i32): f64 {
  return floatsBefore(sampledRegionFloats, S_REGIONS, batch, hidden, numSampled, 0, 0, 0);
}

/**
 * Sampled softmax on the compact table rows [R, h] (candidates at rows [0, S)):
 * row i's logits are [x_i . w_t + b_t - logQTrue_i, x_i . w_j + b_j - logQSampled_j],
 * with candidate j == t_i dropped (-Infinity) when removeHits.
 */
export function softmaxSampled(
  batch: i32, hidden: i32, numSampled: i32,
  input: usize, rows: usize, rowBias: usize, targetSlot: usize, logQTrue: usize, logQSampled: usize, removeHits: i32, scale: f32,
  rowLoss: usize, dInput: usize, dRows: usize, dBiasRows: usize, scratch: usize,
): void {
  const S = numSampled;
  const logits = regionAt(scratch, sampledRegionFloats, S_LOGITS, batch, hidden, S, 0, 0, 0);
  const dlTrue = regionAt(scratch, sampledRegionFloats, S_DL_TRUE, batch, hidden, S, 0, 0, 0);
  const packB = regionAt(scratch, sampledRegionFloats, S_PACK_B, batch, hidden, S, 0, 0, 0);
  const packA = regionAt(scratch, sampledRegionFloats, S_PACK_A, batch, hidden, S, 0, 0, 0);

  // logits [N, S] = input [N, h] @ rows[0, S)ᵀ
  gemmPackB(hidden, S, rows, 1, hidden, packB);
  gemmPacked(batch, S, hidden, input, hidden, 1, packB, logits, S, false, packA);
  for (let i = 0; i < batch; i++) {
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
  gemmPackB(S, hidden, rows, hidden, 1, packB);
  gemmPacked(batch, hidden, S, logits, S, 1, packB, dInput, hidden, false, packA);
  // dRows[0, S) += dlᵀ [S, N] @ input [N, h]
  gemmPackB(batch, hidden, input, hidden, 1, packB);
  gemmPacked(S, hidden, batch, logits, 1, S, packB, dRows, hidden, true, packA);
  for (let i = 0; i < batch; i++) {
    const t = load<i32>(f32At(targetSlot, i));
    const g = load<f32>(f32At(dlTrue, i));
    axpyRow(g, rows + (<usize>t * <usize>hidden << 2), dInput + (<usize>i * <usize>hidden << 2), hidden);
    axpyRow(g, input + (<usize>i * <usize>hidden << 2), dRows + (<usize>t * <usize>hidden << 2), hidden);
    if (dBiasRows != 0) {
      store<f32>(f32At(dBiasRows, t), load<f32>(f32At(dBiasRows, t)) + g);
      const row = logits + (<usize>i * <usize>S << 2);
      for (let j = 0; j < S; j++) store<f32>(f32At(dBiasRows, j), load<f32>(f32At(dBiasRows, j)) + load<f32>(f32At(row, j)));
    }
  }
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

/**
 * word2vec SGNS on the compact rows [R, h]: rowLoss[i] = -log σ(x_i . w_t) - Σ_d log σ(-x_i . w_nd),
 * skipping negatives equal to the target. dInput written, dRows accumulated.
 */
export function softmaxNegativeSampling(
  batch: i32, hidden: i32, negative: i32,
  input: usize, rows: usize, targetSlot: usize, negativeSlot: usize, scale: f32,
  rowLoss: usize, dInput: usize, dRows: usize,
): void {
  const rowBytes = <usize>hidden << 2;
  for (let i = 0; i < batch; i++) {
    const x = input + <usize>i * rowBytes;
    const dx = dInput + <usize>i * rowBytes;
    memory.fill(dx, 0, rowBytes);
    const t = load<i32>(f32At(targetSlot, i));
    let loss: f32 = 0;
    for (let d = -1; d < negative; d++) {
      const r = d < 0 ? t : load<i32>(f32At(negativeSlot, i * negative + d));
      if (d >= 0 && r == t) continue;
      const w = rows + <usize>r * rowBytes;
      const f = dotRow(x, w, hidden);
      // positive: d(-log σ(f))/df = σ(f) - 1;  negative: d(-log σ(-f))/df = σ(f)
      const label: f32 = d < 0 ? 1 : 0;
      loss += minusLogSigmoid(d < 0 ? f : -f);
      const g = (sigmoid(f) - label) * scale;
      axpyRow(g, w, dx, hidden);
      axpyRow(g, x, dRows + <usize>r * rowBytes, hidden);
    }
    store<f32>(f32At(rowLoss, i), loss);
  }
}
