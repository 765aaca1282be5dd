// Pure-JS twin of assembly/skipgram.ts: the same SGD loop (skip-gram or CBOW; negative
// sampling, hierarchical softmax, sampled or exact softmax), the same draws in the
// same order from the same generator state (see that file's header), so the two
// backends train the same vectors up to float rounding (f64 arithmetic here, f32
// SIMD there). Tables are plain typed arrays with row stride dim (no padding).

import { CONTEXT_CHUNK, MAX_EXP, SIGMOID_TABLE_SIZE, sharesNegatives, trainsOutputVectors } from '../../ops/skipgram/kernels.js';
import type { SkipGramBatch, SkipGramBatchStats, SkipGramSetup, SkipGramTables } from '../../ops/skipgram/kernels.js';
import { Rng } from '../../rng.js';
import { mulHigh32 } from '../../sampling.js';
import { WeftError } from '../../errors.js';

const f32 = Math.fround;
/** word2vec.c's (int)((f + MAX_EXP) * (EXP_TABLE_SIZE / MAX_EXP / 2)) in f32, as the kernel computes it. */
const TABLE_SCALE = f32(f32(SIGMOID_TABLE_SIZE / MAX_EXP) / 2);
function tableIndex(x: number): number {
  return Math.trunc(f32(f32(x + MAX_EXP) * TABLE_SCALE));
}

class JsSkipGramTables implements SkipGramTables {
  readonly threads = 1;
  private syn0: Float32Array;
  private syn1: Float32Array;
  /** [V - 1, dim]: the Huffman tree's inner-node vectors (hs). */
  private tree: Float32Array;
  private readonly rng: Rng;
  /** CBOW's hidden row: the mean of the context rows. */
  private readonly neu1: Float32Array;
  private readonly neu1e: Float32Array;
  private kept: Int32Array;
  private readonly logits: Float64Array;
  /** shareNegatives: the window's targets [k + 1] and a chunk's updates of X [CONTEXT_CHUNK, dim] and T [k + 1, dim]. */
  private readonly targets: Int32Array;
  private readonly contextDeltas: Float32Array;
  private readonly targetDeltas: Float32Array;
  private disposed = false;

  constructor(private readonly setup: SkipGramSetup) {
    const { vocabSize, dim, numSampled, loss } = setup;
    this.syn0 = setup.inputVectors.slice();
    this.syn1 = new Float32Array(trainsOutputVectors(setup) ? vocabSize * dim : 0);
    this.tree = new Float32Array(setup.hs ? (vocabSize - 1) * dim : 0);
    if (setup.outputVectors) this.syn1.set(setup.outputVectors);
    if (setup.treeVectors) this.tree.set(setup.treeVectors);
    this.rng = new Rng(setup.rngState.slice());
    this.neu1 = new Float32Array(dim);
    this.neu1e = new Float32Array(dim);
    this.kept = new Int32Array(0);
    this.logits = new Float64Array(loss === 'softmax' ? vocabSize : loss === 'sampled-softmax' ? numSampled + 1 : 0);
    this.targets = new Int32Array(loss === 'negative' ? setup.negative + 1 : 0);
    this.contextDeltas = new Float32Array(loss === 'negative' ? CONTEXT_CHUNK * dim : 0);
    this.targetDeltas = new Float32Array(this.targets.length * dim);
  }

  private aliasDraw(): number {
    const { aliasEntries, vocabSize } = this.setup;
    const column = mulHigh32(this.rng.nextU32(), vocabSize);
    return this.rng.nextU32() < aliasEntries[2 * column] ? column : aliasEntries[2 * column + 1];
  }

  train(batch: SkipGramBatch): SkipGramBatchStats {
    this.checkLive();
    const { keepThreshold, window, loss, numSampled, dim } = this.setup;
    const cbow = this.setup.architecture === 'cbow';
    // one thread here: shared negatives only when asked for
    const windows = sharesNegatives(this.setup, 1);
    const { ids, sentenceEnds, alphas, sentences } = batch;
    const { syn0, neu1, neu1e } = this;
    let kept = this.kept;
    let lossSum = 0, pairs = 0, keptWords = 0;
    let start = 0;
    const candidates = new Int32Array(numSampled);
    const logQ = new Float64Array(numSampled);
    for (let s = 0; s < sentences; s++) {
      const end = sentenceEnds[s];
      const alpha = alphas[s];
      if (kept.length < end - start) kept = new Int32Array(end - start);
      let n = 0;
      for (let p = start; p < end; p++) {
        const w = ids[p];
        const threshold = keepThreshold[w];
        if (threshold !== 0xffffffff && this.rng.nextU32() > threshold) continue;
        kept[n++] = w;
      }
      keptWords += n;
      for (let i = 0; i < n; i++) {
        const center = kept[i];
        const span = window - (this.rng.nextU32() % window);
        let centerLogQ = 0;
        if (loss === 'sampled-softmax') centerLogQ = this.drawCandidates(center, candidates, logQ);
        const first = Math.max(0, i - span), last = Math.min(n - 1, i + span);
        if (last === first) continue; // no context word: no draws
        if (windows) {
          lossSum += this.windowNegative(kept, i, first, last, alpha);
          pairs += last - first;
          continue;
        }
        if (cbow) {
          // the mean of the context rows predicts the center; each context row gets the whole gradient
          neu1.fill(0);
          for (let j = first; j <= last; j++) if (j !== i) for (let k = 0; k < dim; k++) neu1[k] += syn0[kept[j] * dim + k];
          for (let k = 0; k < dim; k++) neu1[k] /= last - first;
          neu1e.fill(0);
          lossSum += this.predict(neu1, 0, center, alpha, candidates, logQ, centerLogQ);
          for (let j = first; j <= last; j++) if (j !== i) for (let k = 0; k < dim; k++) syn0[kept[j] * dim + k] += neu1e[k];
          pairs++;
          continue;
        }
        for (let j = first; j <= last; j++) {
          if (j === i) continue;
          const l1 = kept[j] * dim;
          neu1e.fill(0);
          lossSum += this.predict(syn0, l1, center, alpha, candidates, logQ, centerLogQ);
          for (let k = 0; k < dim; k++) syn0[l1 + k] += neu1e[k];
          pairs++;
        }
      }
      start = end;
    }
    this.kept = kept;
    return { lossSum, pairs, keptWords };
  }

  /** Every output layer's update for the hidden row hidden[at, at + dim) predicting `center` (tree first, as word2vec.c), its gradient in neu1e; returns the loss. */
  private predict(
    hidden: Float32Array, at: number, center: number, alpha: number, candidates: Int32Array, logQ: Float64Array, centerLogQ: number,
  ): number {
    const { loss, negative, hs } = this.setup;
    let pairLoss = 0;
    if (hs) pairLoss += this.treePath(hidden, at, center, alpha);
    if (loss === 'negative') {
      if (negative > 0) pairLoss += this.negativeTargets(hidden, at, center, alpha);
    } else if (loss === 'sampled-softmax') {
      pairLoss += this.sampledTargets(hidden, at, center, alpha, candidates, logQ, centerLogQ);
    } else {
      pairLoss += this.softmaxTargets(hidden, at, center, alpha);
    }
    return pairLoss;
  }

  // neu1e += g rows[target];  rows[target] += g hidden
  private updateOutputRow(g: number, hidden: Float32Array, at: number, rows: Float32Array, target: number): void {
    const { dim } = this.setup;
    const { neu1e } = this;
    const l2 = target * dim;
    for (let k = 0; k < dim; k++) {
      const w = rows[l2 + k];
      neu1e[k] += g * w;
      rows[l2 + k] = w + g * hidden[at + k];
    }
  }

  private dot(hidden: Float32Array, at: number, rows: Float32Array, target: number): number {
    const { dim } = this.setup;
    const l2 = target * dim;
    let f = 0;
    for (let k = 0; k < dim; k++) f += hidden[at + k] * rows[l2 + k];
    return f32(f);
  }

  /** σ(f) and -log σ(f) from the tables, clamped outside them (word2vec.c's EXP_TABLE). */
  private sigmoid(f: number): { sig: number; minusLogSig: number } {
    const { sigmoidTable, minusLogSigmoidTable } = this.setup;
    const at = f > MAX_EXP || f < -MAX_EXP ? -1 : tableIndex(f);
    return {
      sig: at < 0 ? (f > 0 ? 1 : 0) : sigmoidTable[at],
      minusLogSig: at < 0 ? (f > 0 ? 0 : -f) : minusLogSigmoidTable[at],
    };
  }

  /** Negative sampling: the center (label 1) and `negative` noise draws (label 0, skipped when the center). */
  private negativeTargets(hidden: Float32Array, at: number, center: number, alpha: number): number {
    const { negative } = this.setup;
    let loss = 0;
    for (let d = 0; d <= negative; d++) {
      let target = center, label = 1;
      if (d > 0) {
        target = this.aliasDraw();
        if (target === center) continue;
        label = 0;
      }
      const f = this.dot(hidden, at, this.syn1, target);
      // -log σ(-f) = f - log σ(f)
      const { sig, minusLogSig } = this.sigmoid(f);
      loss += label > 0 ? minusLogSig : f32(f + minusLogSig);
      this.updateOutputRow(f32((label - sig) * alpha), hidden, at, this.syn1, target);
    }
    return loss;
  }

  /** Hierarchical softmax along the center's Huffman path: g = (1 - code - σ(f)) alpha, nodes with |f| >= MAX_EXP skipped (word2vec.c). */
  private treePath(hidden: Float32Array, at: number, center: number, alpha: number): number {
    const { treeOffsets, treePaths } = this.setup;
    let loss = 0;
    for (let p = treeOffsets![center]; p < treeOffsets![center + 1]; p++) {
      const node = treePaths![p] >> 1, label = 1 - (treePaths![p] & 1);
      const f = this.dot(hidden, at, this.tree, node);
      if (f <= -MAX_EXP || f >= MAX_EXP) {
        loss += label > 0 ? Math.max(-f, 0) : Math.max(f, 0);
        continue;
      }
      const { sig, minusLogSig } = this.sigmoid(f);
      loss += label > 0 ? minusLogSig : f32(f + minusLogSig);
      this.updateOutputRow(f32((label - sig) * alpha), hidden, at, this.tree, node);
    }
    return loss;
  }

  /**
   * The window of kept[i] with shared negatives: see assembly/skipgram.ts. The contexts go
   * in chunks of CONTEXT_CHUNK positions; per chunk, with X its context rows and T the
   * targets, F = X T^T, G = (label - σ(F)) alpha, then X += G T and T += G^T X, both from
   * the rows as the chunk found them (a row appearing twice gets both updates).
   */
  private windowNegative(kept: Int32Array, i: number, first: number, last: number, alpha: number): number {
    const { dim, negative } = this.setup;
    const { syn0, syn1, targets, contextDeltas, targetDeltas } = this;
    const center = kept[i];
    targets[0] = center;
    let count = 1;
    for (let d = 0; d < negative; d++) {
      const target = this.aliasDraw();
      if (target !== center) targets[count++] = target;
    }
    let loss = 0;
    for (let chunk = first; chunk <= last; chunk += CONTEXT_CHUNK) {
      const contexts: number[] = [];
      for (let j = chunk; j <= Math.min(last, chunk + CONTEXT_CHUNK - 1); j++) if (j !== i) contexts.push(kept[j] * dim);
      // X += G T, T += G^T X: every dot product and both deltas from the old rows, then applied
      contextDeltas.fill(0, 0, contexts.length * dim);
      targetDeltas.fill(0, 0, count * dim);
      contexts.forEach((l1, x) => {
        for (let d = 0; d < count; d++) {
          const f = this.dot(syn0, l1, syn1, targets[d]);
          const { sig, minusLogSig } = this.sigmoid(f);
          const label = d === 0 ? 1 : 0;
          loss += label > 0 ? minusLogSig : f32(f + minusLogSig);
          const g = f32((label - sig) * alpha), l2 = targets[d] * dim;
          for (let k = 0; k < dim; k++) {
            contextDeltas[x * dim + k] += g * syn1[l2 + k];
            targetDeltas[d * dim + k] += g * syn0[l1 + k];
          }
        }
      });
      contexts.forEach((l1, x) => {
        for (let k = 0; k < dim; k++) syn0[l1 + k] += contextDeltas[x * dim + k];
      });
      for (let d = 0; d < count; d++) {
        const l2 = targets[d] * dim;
        for (let k = 0; k < dim; k++) syn1[l2 + k] += targetDeltas[d * dim + k];
      }
    }
    return loss;
  }

  private drawCandidates(center: number, candidates: Int32Array, logQ: Float64Array): number {
    const { numSampled, noiseProbability } = this.setup;
    const seen = new Set<number>();
    let tries = 0;
    while (seen.size < numSampled) {
      const c = this.aliasDraw();
      tries++;
      if (!seen.has(c)) {
        candidates[seen.size] = c;
        seen.add(c);
      }
    }
    const logExpected = (p: number) => Math.log(tries === numSampled ? p * numSampled : -Math.expm1(tries * Math.log1p(-p)));
    for (let j = 0; j < numSampled; j++) logQ[j] = logExpected(noiseProbability[candidates[j]]);
    return logExpected(noiseProbability[center]);
  }

  /** logits[0, n) -> softmax probabilities in place; returns log-sum-exp. */
  private softmax(n: number): number {
    const { logits } = this;
    let max = -Infinity;
    for (let j = 0; j < n; j++) max = Math.max(max, logits[j]);
    let sum = 0;
    for (let j = 0; j < n; j++) {
      logits[j] = Math.exp(logits[j] - max);
      sum += logits[j];
    }
    for (let j = 0; j < n; j++) logits[j] /= sum;
    return max + Math.log(sum);
  }

  private sampledTargets(
    hidden: Float32Array, at: number, center: number, alpha: number, candidates: Int32Array, logQ: Float64Array, centerLogQ: number,
  ): number {
    const { numSampled } = this.setup;
    const { logits, syn1 } = this;
    logits[0] = this.dot(hidden, at, syn1, center) - centerLogQ;
    for (let j = 0; j < numSampled; j++) {
      logits[1 + j] = candidates[j] === center ? -Infinity : this.dot(hidden, at, syn1, candidates[j]) - logQ[j];
    }
    const centerLogit = logits[0];
    const loss = this.softmax(numSampled + 1) - centerLogit;
    this.updateOutputRow(f32(alpha * (1 - logits[0])), hidden, at, syn1, center);
    for (let j = 0; j < numSampled; j++) {
      if (candidates[j] !== center) this.updateOutputRow(f32(-alpha * logits[1 + j]), hidden, at, syn1, candidates[j]);
    }
    return loss;
  }

  private softmaxTargets(hidden: Float32Array, at: number, center: number, alpha: number): number {
    const { vocabSize } = this.setup;
    const { logits, syn1 } = this;
    for (let v = 0; v < vocabSize; v++) logits[v] = this.dot(hidden, at, syn1, v);
    const centerLogit = logits[center];
    const loss = this.softmax(vocabSize) - centerLogit;
    for (let v = 0; v < vocabSize; v++) this.updateOutputRow(f32(alpha * ((v === center ? 1 : 0) - logits[v])), hidden, at, syn1, v);
    return loss;
  }

  inputVectors(): Float32Array {
    this.checkLive();
    return this.syn0.slice();
  }

  outputVectors(): Float32Array {
    this.checkLive();
    return this.syn1.slice();
  }

  treeVectors(): Float32Array {
    this.checkLive();
    return this.tree.slice();
  }

  rngState(): Uint32Array {
    this.checkLive();
    return this.rng.state.slice();
  }

  dispose(): void {
    this.disposed = true;
    this.syn0 = new Float32Array(0);
    this.syn1 = new Float32Array(0);
    this.tree = new Float32Array(0);
  }

  private checkLive(): void {
    if (this.disposed) throw new WeftError('UNSUPPORTED', 'skip-gram model: its tables were disposed');
  }
}

export function skipGramTables(setup: SkipGramSetup): SkipGramTables {
  return new JsSkipGramTables(setup);
}
