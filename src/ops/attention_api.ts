// weft.attention: the namespace bound to one backend.

import type { Tensor } from '../tensor.js';
import {
  LinearAttentionArgs, LinearAttentionKernels, LinearBackwardExtras, LinearStream, LinearStreamOptions,
  attentionFavorFeatures, attentionLinear, attentionLinearBackward, attentionLinearStream,
} from './attention_linear.js';

import {
  AttentionGradients, AttentionResult, FullAttentionArgs, SoftmaxAttentionKernels, SoftmaxBackwardExtras,
  WindowedAttentionArgs, attentionFull, attentionFullBackward, attentionWindowed, attentionWindowedBackward,
} from './attention.js';
import { withFiniteResults } from './finite_results.js';

/** Every attention kernel a backend provides. */
export interface AttentionKernels extends SoftmaxAttentionKernels, LinearAttentionKernels {}

export interface AttentionApi {
  /** Exact attention, tiled with an online softmax: q [B, Hq, T, d], k [B, Hkv, S, d], v [B, Hkv, S, dv] -> out [B, Hq, T, dv], lse [B, Hq, T]. */
  full(args: FullAttentionArgs): AttentionResult;
  /** Sliding-window attention over an inclusive [left, right] band (dilation, globalTokens): O(T * w). */
  windowed(args: WindowedAttentionArgs): AttentionResult;
  /** Gradients of full: dq [B, Hq, T, d], dk [B, Hkv, S, d], dv [B, Hkv, S, dv]. */
  fullBackward(args: FullAttentionArgs & SoftmaxBackwardExtras): AttentionGradients;
  /** Gradients of windowed. */
  windowedBackward(args: WindowedAttentionArgs & SoftmaxBackwardExtras): AttentionGradients;
  /** Kernelized attention (elu1, relu, FAVOR+), bidirectional or causal: O(T * F * dv). -> { out [B, Hq, T, dv] } */
  linear(args: LinearAttentionArgs): { out: Tensor };
  /** Gradients of linear. */
  linearBackward(args: LinearAttentionArgs & LinearBackwardExtras): AttentionGradients;
  /** Causal linear attention one token at a time; T steps equal one causal linear call. */
  linearStream(options: LinearStreamOptions): LinearStream;
  /** The FAVOR+ random features W [numFeatures, dim] that linear uses for this seed. */
  favorFeatures(options: { dim: number; numFeatures?: number; seed?: number }): Tensor;
}

export function createAttentionApi(kernels: AttentionKernels): AttentionApi {
  return {
    full: withFiniteResults('attention.full', (args) => attentionFull(kernels, args)),
    windowed: withFiniteResults('attention.windowed', (args) => attentionWindowed(kernels, args)),
    fullBackward: withFiniteResults('attention.fullBackward', (args) => attentionFullBackward(kernels, args)),
    windowedBackward: withFiniteResults('attention.windowedBackward', (args) => attentionWindowedBackward(kernels, args)),
    linear: withFiniteResults('attention.linear', (args) => attentionLinear(kernels, args)),
    linearBackward: withFiniteResults('attention.linearBackward', (args) => attentionLinearBackward(kernels, args)),
    // step checks its own output (an overflow also resets the stream)
    linearStream: (options) => attentionLinearStream(kernels, options),
    favorFeatures: (options) => attentionFavorFeatures(options),
  };
}


