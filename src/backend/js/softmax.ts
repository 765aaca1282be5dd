// Pure-JS twin of assembly/softmax.ts: the reference in tests, the baseline in
// benchmarks. Same loops as the kernels, f64 accumulators (JS numbers), f32 storage.
// Dimensions: batch rows i, classes v (V), hidden k (h); rows of the compact tables r.
// Input gradients are written (=); weight and bias gradients accumulate (+=) into
// fresh zeroed arrays.

import type {
  CrossEntropyProblem, FullSoftmaxProblem, HierarchicalSoftmaxProblem, NegativeSamplingProblem, SampledSoftmaxProblem,
} from '../../ops/softmax.js';
import { allocF32 } from '../../tensor.js';
import type { Call } from '../types.js';

function dot(a: Float32Array, aOffset: number, b: Float32Array, bOffset: number, n: number): number {
  let s = 0;
  for (let k = 0; k < n; k++) s += a[aOffset + k] * b[bOffset + k];
  return s;
}

// y[yOffset..] += alpha * x[xOffset..]
function axpy(alpha: number, x: Float32Array, xOffset: number, y: Float32Array, yOffset: number, n: number): void {
  for (let k = 0; k < n; k++) y[yOffset + k] += alpha * x[xOffset + k];
}

/**
 * In place: logits[0, n) -> scale * softmax(logits) with the entries where
 * `skip(j)` is true excluded (probability 0). Returns log-sum-exp of the rest.
 */
function softmaxInPlace(logits: Float64Array, n: number, scale: number, skip?: (j: number) => boolean): number {
  let max = -Infinity;
  for (let j = 0; j < n; j++) if (!skip?.(j) && logits[j] > max) max = logits[j];
  let sum = 0;
  for (let j = 0; j < n; j++) {
    const e = skip?.(j) ? 0 : Math.exp(logits[j] - max);
    logits[j] = e;
    sum += e;
  }
  for (let j = 0; j < n; j++) logits[j] *= scale / sum;
  return max + Math.log(sum);
}

export function softmaxCrossEntropy(_call: Call, p: CrossEntropyProblem): { rowLoss: Float32Array; dlogits: Float32Array } {
  const { targets, batch, classes, scale } = p;
  const logits = p.logits.data;
  const rowLoss = new Float32Array(batch);
  const dlogits = allocF32('softmax.crossEntropy: dlogits', batch * classes);
  const row = new Float64Array(classes);
  for (let i = 0; i < batch; i++) {
    for (let v = 0; v < classes; v++) row[v] = logits[i * classes + v];
    // loss[i] = lse(logits[i]) - logits[i, t]
    const target = row[targets[i]];
    rowLoss[i] = softmaxInPlace(row, classes, scale) - target;
    row[targets[i]] -= scale;
    for (let v = 0; v < classes; v++) dlogits[i * classes + v] = row[v];
  }
  return { rowLoss, dlogits };
}

export function softmaxFull(_call: Call, p: FullSoftmaxProblem) {
  const { targets, batch, classes, hidden, scale } = p;
  const input = p.input.data, weights = p.weights.data, bias = p.bias?.data;
  const rowLoss = new Float32Array(batch);
  const dInput = allocF32('softmax.full: dInput', batch * hidden);
  const dWeights = allocF32('softmax.full: dWeights', classes * hidden);
  const dBias = bias ? allocF32('softmax.full: dBias', classes) : undefined;
  const logits = new Float64Array(classes);
  for (let i = 0; i < batch; i++) {
    // logits[v] = input[i] . weights[v] + bias[v]
    for (let v = 0; v < classes; v++) logits[v] = dot(input, i * hidden, weights, v * hidden, hidden) + (bias ? bias[v] : 0);
    const target = logits[targets[i]];
    rowLoss[i] = softmaxInPlace(logits, classes, scale) - target;
    logits[targets[i]] -= scale;
    // dInput[i] = sum_v dl[v] weights[v];  dWeights[v] += dl[v] input[i]
    for (let v = 0; v < classes; v++) {
      const g = logits[v];
      axpy(g, weights, v * hidden, dInput, i * hidden, hidden);
      axpy(g, input, i * hidden, dWeights, v * hidden, hidden);
      if (dBias) dBias[v] += g;
    }
  }
  return { rowLoss, dInput, dWeights, dBias };
}

export function softmaxSampled(_call: Call, p: SampledSoftmaxProblem) {
  const { targetSlot, removeAccidentalHits, batch, hidden, numSampled, numRows, scale } = p;
  const input = p.input.data, rowWeights = p.rowWeights.data, rowBias = p.rowBias?.data;
  const logQTrue = p.logQTrue.data, logQSampled = p.logQSampled.data;
  const rowLoss = new Float32Array(batch);
  const dInput = allocF32('softmax.sampled: dInput', batch * hidden);
  const dRows = allocF32('softmax.sampled: dRows', numRows * hidden);
  const dBiasRows = rowBias ? allocF32('softmax.sampled: dBiasRows', numRows) : undefined;
  // logits[0] is the target's, logits[1 + j] candidate j's
  const logits = new Float64Array(numSampled + 1);
  const biasOf = (r: number) => (rowBias ? rowBias[r] : 0);
  for (let i = 0; i < batch; i++) {
    const t = targetSlot[i];
    logits[0] = dot(input, i * hidden, rowWeights, t * hidden, hidden) + biasOf(t) - logQTrue[i];
    for (let j = 0; j < numSampled; j++) {
      logits[1 + j] = dot(input, i * hidden, rowWeights, j * hidden, hidden) + biasOf(j) - logQSampled[j];
    }
    const hit = removeAccidentalHits && t < numSampled ? 1 + t : -1;
    const target = logits[0];
    rowLoss[i] = softmaxInPlace(logits, numSampled + 1, scale, (j) => j === hit) - target;
    logits[0] -= scale;
    for (let j = 0; j <= numSampled; j++) {
      const r = j === 0 ? t : j - 1;
      const g = logits[j];
      axpy(g, rowWeights, r * hidden, dInput, i * hidden, hidden);
      axpy(g, input, i * hidden, dRows, r * hidden, hidden);
      if (dBiasRows) dBiasRows[r] += g;
    }
  }
  return { rowLoss, dInput, dRows, dBiasRows };
}

/** log(1 + e^x) without overflow. */
export function softplus(x: number): number {
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

/** 1 / (1 + e^-x) without overflow. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/**
 * One logistic term of input row i against compact row r: returns -log σ(f) (label 1)
 * or -log σ(-f) (label 0), f = x_i . w_r, and adds g = (σ(f) - label) scale times w_r to
 * dInput[i] and times x_i to dRows[r].
 */
function logisticTerm(
  p: { input: { data: Float32Array }; rowWeights: { data: Float32Array }; hidden: number; scale: number },
  i: number, r: number, label: number, dInput: Float32Array, dRows: Float32Array,
): number {
  const { hidden, scale } = p;
  const input = p.input.data, rowWeights = p.rowWeights.data;
  const f = dot(input, i * hidden, rowWeights, r * hidden, hidden);
  const g = (sigmoid(f) - label) * scale;
  axpy(g, rowWeights, r * hidden, dInput, i * hidden, hidden);
  axpy(g, input, i * hidden, dRows, r * hidden, hidden);
  return softplus(label ? -f : f);
}

export function softmaxNegativeSampling(_call: Call, p: NegativeSamplingProblem) {
  const { targetSlot, negativeSlot, batch, hidden, negative, numRows } = p;
  const rowLoss = new Float32Array(batch);
  const dInput = allocF32('softmax.negativeSampling: dInput', batch * hidden);
  const dRows = allocF32('softmax.negativeSampling: dRows', numRows * hidden);
  for (let i = 0; i < batch; i++) {
    const t = targetSlot[i];
    let loss = 0;
    for (let d = -1; d < negative; d++) {
      const r = d < 0 ? t : negativeSlot[i * negative + d];
      if (d >= 0 && r === t) continue; // word2vec skips a negative equal to the target
      loss += logisticTerm(p, i, r, d < 0 ? 1 : 0, dInput, dRows);
    }
    rowLoss[i] = loss;
  }
  return { rowLoss, dInput, dRows };
}

export function softmaxHierarchical(_call: Call, p: HierarchicalSoftmaxProblem) {
  const { pathStarts, pathEntries, batch, hidden, numRows } = p;
  const rowLoss = new Float32Array(batch);
  const dInput = allocF32('softmax.hierarchical: dInput', batch * hidden);
  const dRows = allocF32('softmax.hierarchical: dRows', numRows * hidden);
  for (let i = 0; i < batch; i++) {
    let loss = 0;
    for (let e = pathStarts[i]; e < pathStarts[i + 1]; e++) {
      // code 0 is label 1
      loss += logisticTerm(p, i, pathEntries[e] >> 1, 1 - (pathEntries[e] & 1), dInput, dRows);
    }
    rowLoss[i] = loss;
  }
  return { rowLoss, dInput, dRows };
}
