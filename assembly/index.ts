// The exported kernel entry points and the constants TypeScript shares, nothing
// else. Every pointer is a byte offset into this module's memory, owned by the JS
// caller (src/backend/wasm/heap.ts). scripts/build.mjs generates the TypeScript side
// of this boundary from these exports (src/backend/wasm/kernels.generated.ts, with
// named arguments, and src/kernel_constants.generated.ts): an export's name is its
// op's name everywhere (weft.attention.windowed -> attentionWindowed).

export { matmul, matmulPackBFloats, gemmPackedAFloats } from "./gemm";
export { rnn2dForward, rnn2dBackward, rnn2dForwardScratchFloats, rnn2dBackwardScratchFloats } from "./rnn2d";
export { mdlstmForward, mdlstmBackward, mdlstmForwardScratchFloats, mdlstmBackwardScratchFloats } from "./mdlstm";
export { conv2dForward, conv2dBackward, conv2dForwardScratchFloats, conv2dBackwardScratchFloats } from "./conv2d";
export { attentionFull, attentionFullBackward } from "./attention_full";
export {
  attentionWindowed, attentionWindowedBackward, attentionWindowedScratchFloats, attentionWindowedBackwardScratchFloats,
} from "./attention_windowed";
export {
  attentionLinear, attentionLinearBackward, attentionLinearStep, attentionLinearScratchFloats,
  attentionLinearBackwardScratchFloats,
} from "./attention_linear";
export {
  softmaxCrossEntropy, softmaxFull, softmaxFullScratchFloats, softmaxSampled, softmaxSampledScratchFloats,
  softmaxNegativeSampling, softmaxNegativeSamplingScratchFloats, softmaxHierarchical, softmaxHierarchicalScratchFloats,
} from "./softmax";
export { skipGramTrain, skipGramScratchFloats } from "./skipgram";
export { maxAbsF32, maxAbsF32Team, zeroFillTeam } from "./scan";
export { teamJoin } from "./team";
export { aliasSample } from "./sampling";
export { rngFillU32 } from "./rng";
export { peakProbeChains, peakProbeLoadSplat } from "./peak";

// Constants TypeScript reads from here (never copies): option codes and the block
// sizes its working-memory checks and flop counts depend on.
export { ACT_IDENTITY, ACT_TANH, ACT_RELU, ACT_SIGMOID } from "./activation";
export { UNBOUNDED } from "./attention_tile";
export { FEATURE_ELU1, FEATURE_RELU, FEATURE_FAVOR, LINEAR_CHUNK, PASS_CHUNK } from "./attention_linear";
export { ARCH_SKIP_GRAM, ARCH_CBOW, CONTEXT_CHUNK, LOSS_NEGATIVE, LOSS_SAMPLED, LOSS_SOFTMAX, SIGMOID_MAX_EXP, SIGMOID_TABLE_SIZE } from "./skipgram";

/** First byte free for the caller's heap (after static data). */
export function heapBase(): usize {
  return __heap_base;
}

/** 1 in the relaxed-SIMD build, 0 in the plain one (lets a passed-in module be identified). */
export function isRelaxed(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}
