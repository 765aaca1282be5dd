// weft: SIMD WebAssembly kernels with a pure-JS twin. createWeft() is the entry
// point; nothing compiles or allocates until it is called.

import { WeftError, describe } from './errors.js';
import { Tensor, tensor, zeros } from './tensor.js';
import { randn } from './rng.js';
import { MatmulOptions, matmul } from './ops/matmul.js';
import {
  Rnn2dBackwardArgs, Rnn2dFlopsArgs, Rnn2dForwardArgs, Rnn2dGradients, Rnn2dParamArgs,
  rnn2dBackward, rnn2dFlops, rnn2dForward, rnn2dParamCount,
} from './ops/rnn2d.js';
import { Conv2dFlopsArgs, Conv2dForwardArgs, Conv2dParamArgs, conv2dFlops, conv2dForward, conv2dParamCount } from './ops/conv2d.js';
import { AttentionApi, createAttentionApi } from './ops/attention_api.js';
import { withFiniteResults } from './ops/finite_results.js';
import { checkOptionsObject } from './args.js';
import type { Backend, BackendName, MemoryInfo } from './backend/types.js';
import { Rng } from './rng.js';
import {
  CrossEntropyArgs, CrossEntropyResult, FullSoftmaxArgs, FullSoftmaxResult, NegativeSamplingArgs, NegativeSamplingResult,
  SampledSoftmaxArgs, SampledSoftmaxResult, UnigramSampler, crossEntropy, full, negativeSampling, prepareUnigramSampler, sampled,
} from './ops/softmax.js';
import { SkipGramModel, type SkipGramOptions } from './skipgram/model.js';
import type { Features, SimdChoice } from './backend/wasm/instantiate.js';
import { createJsBackend } from './backend/js/index.js';
import { createWasmBackend } from './backend/wasm/index.js';

export { WeftError, ErrorCode } from './errors.js';
export type { Tensor } from './tensor.js';
export type { MatmulOptions } from './ops/matmul.js';
export type { Activation } from './ops/activation.js';
export type {
  Rnn2dBackwardArgs, Rnn2dFlopsArgs, Rnn2dForwardArgs, Rnn2dGradients, Rnn2dOrigin, Rnn2dParamArgs,
} from './ops/rnn2d.js';
export type { Conv2dFlopsArgs, Conv2dForwardArgs, Conv2dPadding, Conv2dParamArgs } from './ops/conv2d.js';
export type * from './ops/attention_types.js';
export type { Features, SimdChoice } from './backend/wasm/instantiate.js';
export type { BackendName, MemoryInfo } from './backend/types.js';
export type {
  CrossEntropyArgs, CrossEntropyResult, FullSoftmaxArgs, FullSoftmaxResult, NegativeSamplingArgs, NegativeSamplingResult,
  SampledSoftmaxArgs, SampledSoftmaxResult, SamplerName,
} from './ops/softmax.js';
// a type only: samplers come from weft.softmax.unigramSampler, which validates the counts
export type { UnigramSampler } from './ops/softmax.js';
export { SkipGramModel, SOFTMAX_VOCAB_LIMIT } from './skipgram/model.js';
export type { SkipGramOptions } from './skipgram/model.js';
export type { SkipGramLoss } from './ops/skipgram.js';
export type { Corpus, CorpusFile, Sentence } from './skipgram/corpus.js';
export type { TrainOptions, TrainProgress, TrainSummary } from './skipgram/trainer.js';
export type { AnalogyResult, AnalogySection, EvaluationOptions, WordPairResult } from './skipgram/evaluate.js';
export type { Similar } from './skipgram/similarity.js';

export interface CreateWeftOptions {
  /** 'wasm' (default): SIMD WebAssembly kernels; 'js': the pure-JS reference. */
  backend?: BackendName;
  /** Which WASM build: 'auto' (default, relaxed when the runtime compiles it), 'relaxed', 'simd'. */
  simd?: SimdChoice;
  /** A precompiled weft kernel module (for strict CSP pages), instead of the embedded bytes. */
  module?: WebAssembly.Module;
}

/** A weft instance: one backend and the whole API on it. */
export interface Weft {
  readonly backend: BackendName;
  /** What the WASM module uses ({ simd: false, relaxedSimd: false } for the JS backend). */
  readonly features: Features;
  /** Validate and wrap data as a tensor (no copy). */
  tensor(data: Float32Array, shape: readonly number[]): Tensor;
  /** A zero-filled tensor. */
  zeros(shape: readonly number[]): Tensor;
  /** Standard normal samples; the same seed gives the same tensor on every backend. */
  randn(shape: readonly number[], seed: number): Tensor;
  /**
   * a [M, K] (or [B, M, K]) @ b [K, N] (or [B, K, N]) + bias [N] -> [M, N] (or [B, M, N]).
   * A 2-D operand broadcasts over the other's batch.
   */
  matmul(a: Tensor, b: Tensor, options?: MatmulOptions): Tensor;
  /** Bytes of WASM memory in use (liveBytes is 0 between calls). */
  memory(): MemoryInfo;
  /** Exact, sliding-window and linear attention with backward passes (layout [B, heads, T, d]). */
  readonly attention: AttentionApi;
  /** The 2D-RNN scan (see Rnn2dApi). */
  readonly rnn2d: Rnn2dApi;
  /** Stride-1 2-D convolution, the baseline the 2D-RNN is compared with (see Conv2dApi). */
  readonly conv2d: Conv2dApi;
  /** Full, sampled and negative-sampling softmax: losses (mean over rows) and gradients. */
  readonly softmax: SoftmaxApi;
  /** A skip-gram (word2vec) model trained on this backend; `.fromWord2Vec(bytes)` loads vectors. */
  readonly skipGram: SkipGramFactory;
}

/**
 * 2D RNN over a grid: with the default origin 'top-left',
 * `h[b,i,j] = act(wIn @ x[b,i,j] + wLeft @ h[b,i,j-1] + wTop @ h[b,i-1,j] + bias)`, h = 0 outside.
 */
export interface Rnn2dApi {
  /** x [B, H, W, C], wIn [hid, C], wLeft / wTop [hid, hid], bias? [hid] -> h [B, H, W, hid]. */
  forward(args: Rnn2dForwardArgs): { h: Tensor };
  /** The forward's arguments plus its output h and dL/dh [B, H, W, hid] -> every gradient. */
  backward(args: Rnn2dBackwardArgs): Rnn2dGradients;
  /** `hid*C + 2*hid*hid (+ hid)`. */
  paramCount(args: Rnn2dParamArgs): number;
  /** Forward flops, a multiply-add counted as 2: `2 * B * H * W * hid * (C + 2 * hid)`. */
  flops(args: Rnn2dFlopsArgs): number;
}

/** Stride-1 convolution: x [B, H, W, C], w [O, kh, kw, C] -> y [B, OH, OW, O]. */
export interface Conv2dApi {
  /** y = act(conv(x, w) + bias), padding 'valid' (default) or 'same'. */
  forward(args: Conv2dForwardArgs): { y: Tensor };
  /** `O*kh*kw*C (+ O)`. */
  paramCount(args: Conv2dParamArgs): number;
  /** Forward flops, a multiply-add counted as 2: `2 * B * OH * OW * O * kh * kw * C`. */
  flops(args: Conv2dFlopsArgs): number;
}

/** weft.skipGram(options) and weft.skipGram.fromWord2Vec(bytes). */
export interface SkipGramFactory {
  (options?: SkipGramOptions): SkipGramModel;
  /** A query-only model from word2vec text or binary bytes (format detected unless `binary` is given). */
  fromWord2Vec(bytes: Uint8Array, options?: { binary?: boolean }): SkipGramModel;
}

/** weft.softmax (see the README's "Softmax and sampling"). */
export interface SoftmaxApi {
  /** logits [N, V], targets [N] -> mean cross-entropy and dlogits [N, V]. */
  crossEntropy(args: CrossEntropyArgs): CrossEntropyResult;
  /** Exact softmax of input [N, h] @ weights [V, h]ᵀ + bias [V]: O(N·V·h), dense gradients. */
  full(args: FullSoftmaxArgs): FullSoftmaxResult;
  /** TensorFlow's sampled_softmax_loss: numSampled shared candidates, sparse gradients. */
  sampled(args: SampledSoftmaxArgs): SampledSoftmaxResult;
  /** word2vec negative sampling: `negative` draws per row, sparse gradients. */
  negativeSampling(args: NegativeSamplingArgs): NegativeSamplingResult;
  /** counts [V]^power prepared once, for `sampler`: calls then skip the O(V) check of the counts. */
  unigramSampler(args: { counts: ArrayLike<number>; power?: number }): UnigramSampler;
}

const BACKENDS: readonly BackendName[] = ['wasm', 'js'];
const SIMD_CHOICES: readonly SimdChoice[] = ['auto', 'relaxed', 'simd'];

/** Create a weft instance. Compiles the WASM module (wasm backend) or does nothing more (js). */
export async function createWeft(options: CreateWeftOptions = {}): Promise<Weft> {
  options = checkOptionsObject('createWeft', options);
  const backendName = options.backend ?? 'wasm';
  if (!BACKENDS.includes(backendName)) {
    throw new WeftError('OPTION', `createWeft: backend must be "wasm" or "js", got ${describe(backendName)}`);
  }
  const simd = options.simd ?? 'auto';
  if (!SIMD_CHOICES.includes(simd)) {
    throw new WeftError('OPTION', `createWeft: simd must be "auto", "relaxed" or "simd", got ${describe(simd)}`);
  }
  if (options.module !== undefined && !(options.module instanceof WebAssembly.Module)) {
    throw new WeftError('OPTION', `createWeft: module must be a WebAssembly.Module, got ${describe(options.module)}`);
  }
  const backend = backendName === 'js' ? createJsBackend() : await createWasmBackend(simd, options.module);
  return bindApi(backend);
}

function bindApi(backend: Backend): Weft {
  // calls without a seed continue this stream (a fresh instance repeats it)
  const softmaxCtx = { kernels: backend, rng: new Rng(0) };
  return {
    backend: backend.name,
    features: backend.features,
    tensor,
    zeros,
    randn,
    matmul: withFiniteResults('matmul', (a, b, options) => matmul(backend, a, b, options), ['a', 'b', 'options']),
    memory: () => backend.memory(),
    attention: createAttentionApi(backend),
    rnn2d: {
      forward: withFiniteResults('rnn2d.forward', (args) => rnn2dForward(backend, args)),
      backward: withFiniteResults('rnn2d.backward', (args) => rnn2dBackward(backend, args)),
      paramCount: rnn2dParamCount,
      flops: rnn2dFlops,
    },
    conv2d: {
      forward: withFiniteResults('conv2d.forward', (args) => conv2dForward(backend, args)),
      paramCount: conv2dParamCount,
      flops: conv2dFlops,
    },
    softmax: {
      crossEntropy: withFiniteResults('softmax.crossEntropy', (args) => crossEntropy(softmaxCtx, args)),
      full: withFiniteResults('softmax.full', (args) => full(softmaxCtx, args)),
      sampled: withFiniteResults('softmax.sampled', (args) => sampled(softmaxCtx, args)),
      negativeSampling: withFiniteResults('softmax.negativeSampling', (args) => negativeSampling(softmaxCtx, args)),
      unigramSampler: prepareUnigramSampler,
    },
    skipGram: Object.assign((options?: SkipGramOptions) => new SkipGramModel(backend, options), {
      fromWord2Vec: (bytes: Uint8Array, options?: { binary?: boolean }) => SkipGramModel.fromWord2Vec(backend, bytes, options),
    }),
  };
}
