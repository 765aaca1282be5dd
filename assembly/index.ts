// The exported kernel entry points, nothing else. Every pointer is a byte offset
// into this module's memory, owned by the JS caller (src/backend/wasm/heap.ts).

export { matmul, gemmPackedAFloats, gemmPackedBFloats } from "./gemm";
export { peakProbeChains, peakProbeLoadSplat } from "./peak";
export { rngFillU32 } from "./rng";
export {
  softmaxCrossEntropy, softmaxFull, softmaxFullScratchFloats, softmaxSampled, softmaxSampledScratchFloats, negativeSampling,
} from "./softmax";
export { aliasSample } from "./sampling";
export { skipGramTrain, skipGramScratchBytes } from "./skipgram";

/** First byte free for the caller's heap (after static data). */
export function heapBase(): usize {
  return __heap_base;
}

/** 1 in the relaxed-SIMD build, 0 in the plain one (lets a passed-in module be identified). */
export function isRelaxed(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}
export { rnn2dForward, rnn2dBackward, rnn2dForwardScratchFloats, rnn2dBackwardScratchFloats } from "./rnn2d";
export { conv2dForward, conv2dForwardScratchFloats } from "./conv2d";
export { attentionFullForward, attentionFullBackward } from "./attention_full";
export {
  attendWindowed as attentionWindowedForward, attendWindowedBackward as attentionWindowedBackward,
  attentionForwardScratchFloats, attentionBackwardScratchFloats,
} from "./attention_windowed";
export { maxAbsF32 } from "./attention_tile";
export {
  attentionLinearForward, attentionLinearScratchFloats, attentionLinearBackward, attentionLinearBackwardScratchFloats,
  attentionLinearStep,
} from "./attention_linear";
