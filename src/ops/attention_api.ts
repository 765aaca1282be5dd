// weft.attention: the namespace bound to one backend.


import {
  AttentionGradients, AttentionResult, FullAttentionArgs, SoftmaxAttentionKernels, SoftmaxBackwardExtras,
  WindowedAttentionArgs, attentionFull, attentionFullBackward, attentionWindowed, attentionWindowedBackward,
} from './attention.js';

/** Every attention kernel a backend provides. */
export interface AttentionKernels extends SoftmaxAttentionKernels {}

export interface AttentionApi {
  /** Exact attention, tiled with an online softmax: q [B, Hq, T, d], k [B, Hkv, S, d], v [B, Hkv, S, dv] -> out [B, Hq, T, dv], lse [B, Hq, T]. */
  full(args: FullAttentionArgs): AttentionResult;
  /** Sliding-window attention over an inclusive [left, right] band (dilation, globalTokens): O(T * w). */
  windowed(args: WindowedAttentionArgs): AttentionResult;
  /** Gradients of full: dq [B, Hq, T, d], dk [B, Hkv, S, d], dv [B, Hkv, S, dv]. */
  fullBackward(args: FullAttentionArgs & SoftmaxBackwardExtras): AttentionGradients;
  /** Gradients of windowed. */
  windowedBackward(args: WindowedAttentionArgs & SoftmaxBackwardExtras): AttentionGradients;
}

export function createAttentionApi(kernels: AttentionKernels): AttentionApi {
  return {
    full: (args) => attentionFull(kernels, args),
    windowed: (args) => attentionWindowed(kernels, args),
    fullBackward: (args) => attentionFullBackward(kernels, args),
    windowedBackward: (args) => attentionWindowedBackward(kernels, args),
  };
}


