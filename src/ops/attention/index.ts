// weft.attention: the attention family's entry, built from a backend. Exact (full),
// sliding-window and kernelized (linear) attention with backward passes and a
// streaming step; the bodies live in softmax.ts and linear.ts, the kernel interface
// in kernels.ts, the shared checks in checks.ts.

import type { Tensor } from '../../tensor.js';
import type { OpBackend } from '../op.js';
import { bindOp } from '../op.js';
import type { AttentionKernels } from './kernels.js';
import {
  type AttentionGradients, type AttentionResult, type FullAttentionArgs, type SoftmaxBackwardExtras,
  type WindowedAttentionArgs, softmaxBackward, softmaxForward,
} from './softmax.js';
import {
  type LinearAttentionArgs, type LinearBackwardExtras, type LinearStream, type LinearStreamOptions,
  attentionFavorFeatures, linearBackward, linearForward, linearStream,
} from './linear.js';

export type {
  AttentionCommonOptions, AttentionGradients, AttentionResult, FullAttentionArgs, SoftmaxBackwardExtras, WindowedAttentionArgs,
} from './softmax.js';
export type { FeatureMap, FeatureOptions, LinearAttentionArgs, LinearBackwardExtras, LinearStream, LinearStreamOptions } from './linear.js';

/** weft.attention: exact, sliding-window and linear attention, layout [B, heads, T, d]. */
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
  linear(args: LinearAttentionArgs): {
    /** The attended values [B, Hq, T, dv]. */
    out: Tensor;
  };
  /** Gradients of linear. */
  linearBackward(args: LinearAttentionArgs & LinearBackwardExtras): AttentionGradients;
  /** Causal linear attention one token at a time; T steps equal one causal linear call. */
  linearStream(options: LinearStreamOptions): LinearStream;
  /** The FAVOR+ random features W [numFeatures, dim] that linear uses for this seed. */
  favorFeatures(options: {
    /** Query and key width d: an integer >= 1 (OPTION if missing, RANGE below 1). */
    dim: number;
    /** Features F: an integer >= 1 (RANGE below). Default d * ceil(ln d) (at least d). */
    numFeatures?: number;
    /** Any safe integer. Default 0. */
    seed?: number;
  }): Tensor;
}

/** weft.attention on a backend. */
export function createAttention(backend: OpBackend<AttentionKernels>): AttentionApi {
  return {
    full: bindOp(backend, 'attention.full', (call, args: FullAttentionArgs) => softmaxForward(backend, call, args, false)),
    windowed: bindOp(backend, 'attention.windowed', (call, args: WindowedAttentionArgs) => softmaxForward(backend, call, args, true)),
    fullBackward: bindOp(backend, 'attention.fullBackward', (call, args: FullAttentionArgs & SoftmaxBackwardExtras) =>
      softmaxBackward(backend, call, args, false)),
    windowedBackward: bindOp(backend, 'attention.windowedBackward', (call, args: WindowedAttentionArgs & SoftmaxBackwardExtras) =>
      softmaxBackward(backend, call, args, true)),
    linear: bindOp(backend, 'attention.linear', (call, args: LinearAttentionArgs) => linearForward(backend, call, args)),
    linearBackward: bindOp(backend, 'attention.linearBackward', (call, args: LinearAttentionArgs & LinearBackwardExtras) =>
      linearBackward(backend, call, args)),
    linearStream: (options) => linearStream(backend, options),
    favorFeatures: (options) => attentionFavorFeatures(options),
  };
}
