// The kernel entry points of assembly/index.ts as seen from JS. Pointers are byte
// addresses in `memory`; sizes and strides are element counts.

export interface KernelExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  /** 1 in the relaxed-SIMD build, 0 in the plain one. */
  isRelaxed(): number;

  matmul(
    batch: number, M: number, N: number, K: number,
    a: number, aBatch: number, aRow: number, aCol: number,
    b: number, bBatch: number, bRow: number, bCol: number,
    bias: number, c: number, packB: number, packA: number,
  ): void;
  gemmPackedAFloats(): number;
  gemmPackedBFloats(K: number, N: number): number;

  peakProbeChains(iterations: number, seed: number): number;
  peakProbeLoadSplat(iterations: number, operands: number): number;

  rngFillU32(state: number, out: number, n: number): void;

  rnn2dForward(
    batch: number, height: number, width: number, channels: number, hidden: number,
    x: number, wIn: number, wLeft: number, wTop: number, bias: number,
    activation: number, flipRows: number, flipCols: number,
    h: number, scratch: number,
  ): void;
  rnn2dBackward(
    batch: number, height: number, width: number, channels: number, hidden: number,
    x: number, wIn: number, wLeft: number, wTop: number, h: number, dh: number,
    activation: number, flipRows: number, flipCols: number,
    dx: number, dwIn: number, dwLeft: number, dwTop: number, dbias: number, scratch: number,
  ): void;
  rnn2dForwardScratchFloats(batch: number, height: number, width: number, channels: number, hidden: number): number;
  rnn2dBackwardScratchFloats(batch: number, height: number, width: number, channels: number, hidden: number): number;

  conv2dForward(
    batch: number, height: number, width: number, channels: number, outChannels: number,
    kernelH: number, kernelW: number, padTop: number, padLeft: number, outH: number, outW: number,
    x: number, w: number, bias: number, activation: number, y: number, scratch: number,
  ): void;
  conv2dForwardScratchFloats(channels: number, outChannels: number, kernelH: number, kernelW: number): number;
  softmaxCrossEntropy(batch: number, classes: number, logits: number, targets: number, scale: number, rowLoss: number, dlogits: number): void;
  softmaxFullScratchFloats(batch: number, classes: number, hidden: number): number;
  softmaxFull(
    batch: number, classes: number, hidden: number,
    input: number, weights: number, bias: number, targets: number, scale: number,
    rowLoss: number, dInput: number, dWeights: number, dBias: number, scratch: number,
  ): void;
  softmaxSampledScratchFloats(batch: number, hidden: number, numSampled: number): number;
  softmaxSampled(
    batch: number, hidden: number, numSampled: number,
    input: number, rows: number, rowBias: number, targetSlot: number, logQTrue: number, logQSampled: number,
    removeHits: number, scale: number, rowLoss: number, dInput: number, dRows: number, dBiasRows: number, scratch: number,
  ): void;
  negativeSampling(
    batch: number, hidden: number, negative: number,
    input: number, rows: number, targetSlot: number, negativeSlot: number, scale: number,
    rowLoss: number, dInput: number, dRows: number,
  ): void;

  aliasSample(entries: number, size: number, rng: number, out: number, n: number): void;
  skipGramScratchBytes(loss: number, vocabSize: number, dim: number, numSampled: number, maxSentence: number, negative: number): number;
  skipGramTrain(
    loss: number, vocabSize: number, dim: number, window: number, negative: number, numSampled: number,
    syn0: number, syn1: number, keepThreshold: number, aliasEntries: number, noiseProbability: number,
    sigmoidTable: number, lossTable: number, rng: number, scratch: number, maxSentence: number,
    ids: number, sentenceEnds: number, alphas: number, sentences: number, stats: number,
  ): void;
  attentionWindowedForward(
    B: number, Hq: number, Hkv: number, T: number, S: number, d: number, dv: number,
    q: number, k: number, v: number, keyMask: number, scale: number, causal: number,
    left: number, right: number, dilation: number, globals: number, G: number,
    out: number, lse: number, scratch: number,
  ): void;
  attentionFullForward(
    B: number, Hq: number, Hkv: number, T: number, S: number, d: number, dv: number,
    q: number, k: number, v: number, keyMask: number, scale: number, causal: number,
    out: number, lse: number, scratch: number,
  ): void;
  attentionFullBackward(
    B: number, Hq: number, Hkv: number, T: number, S: number, d: number, dv: number,
    q: number, k: number, v: number, keyMask: number, scale: number, causal: number,
    out: number, lse: number, dout: number, dq: number, dk: number, dv_: number, scratch: number,
  ): number;
  attentionWindowedBackward(
    B: number, Hq: number, Hkv: number, T: number, S: number, d: number, dv: number,
    q: number, k: number, v: number, keyMask: number, scale: number, causal: number,
    left: number, right: number, dilation: number, globals: number, G: number,
    out: number, lse: number, dout: number, dq: number, dk: number, dv_: number, scratch: number,
  ): number;
  attentionBackwardScratchFloats(T: number, S: number, d: number, dv: number, G: number): number;
  attentionLinearForward(
    B: number, Hq: number, Hkv: number, T: number, S: number, d: number, dv: number,
    q: number, k: number, v: number, keyMask: number, featureMap: number, W: number, F: number,
    scale: number, eps: number, causal: number, out: number, scratch: number,
  ): void;
  attentionLinearScratchFloats(d: number, dv: number, F: number): number;
  attentionLinearBackward(
    B: number, Hq: number, Hkv: number, T: number, S: number, d: number, dv: number,
    q: number, k: number, v: number, keyMask: number, featureMap: number, W: number, F: number,
    scale: number, eps: number, causal: number, out: number, dout: number, dq: number, dk: number, dv_: number,
    scratch: number,
  ): void;
  attentionLinearBackwardScratchFloats(T: number, group: number, d: number, dv: number, F: number): number;
  attentionLinearStep(
    BH: number, d: number, dv: number, q: number, k: number, v: number, featureMap: number, W: number, F: number,
    scale: number, eps: number, kvState: number, unitsState: number, out: number, scratch: number,
  ): void;
  /** max |x| of n floats (NaN / Infinity when one is not finite). */
  maxAbsF32(address: number, n: number): number;
  attentionForwardScratchFloats(S: number, d: number, dv: number, G: number): number;
}
