/**
 * weft (npm: weft-wasm): SIMD WebAssembly kernels for 2D-RNN scans, sub-quadratic attention
 * and skip-gram training, with a pure-JS twin of every kernel. Start at {@link createWeft}:
 * every call is a method of the {@link Weft} it resolves to. Tensors are plain
 * `{ data: Float32Array, shape }` objects ({@link Tensor}); every bad argument throws a
 * {@link WeftError} whose `code` is one of {@link ErrorCode} (which says how arguments are
 * checked). Nothing compiles or allocates until createWeft is called.
 *
 * @packageDocumentation
 */

import { WeftError, describe } from './errors.js';
import { Tensor, tensor, zeros } from './tensor.js';
import { randn } from './rng.js';
import { checkInteger, checkOptionsObject } from './args.js';
import type { Backend, BackendName, MemoryInfo } from './backend/types.js';
import type { Features, SimdChoice } from './backend/wasm/instantiate.js';
import { createJsBackend } from './backend/js/index.js';
import { createWasmBackend } from './backend/wasm/index.js';
import { INITIAL_PAGES, MAX_PAGES, PAGE_BYTES } from './backend/wasm/memory.js';
import { checkThreadsOption } from './backend/wasm/threads.js';
import { registerBackend } from './internal.js';
import { type MatmulFn, createMatmul } from './ops/matmul.js';
import { type Rnn2dApi, createRnn2d } from './ops/rnn2d.js';
import { type Conv2dApi, createConv2d } from './ops/conv2d.js';
import { type AttentionApi, createAttention } from './ops/attention/index.js';
import { type SoftmaxApi, createSoftmax } from './ops/softmax.js';
import { type SkipGramFactory, createSkipGram } from './ops/skipgram/index.js';

export { WeftError, ErrorCode } from './errors.js';
export type { Tensor } from './tensor.js';
export type { MatmulFn, MatmulOptions } from './ops/matmul.js';
export type { Activation } from './ops/activation.js';
export type {
  Rnn2dApi, Rnn2dBackwardArgs, Rnn2dCell, Rnn2dFlopsArgs, Rnn2dForwardArgs, Rnn2dGradients, Rnn2dLstmForwardArgs, Rnn2dOrigin,
  Rnn2dParamArgs,
} from './ops/rnn2d.js';
export type {
  Conv2dApi, Conv2dBackwardArgs, Conv2dFlopsArgs, Conv2dForwardArgs, Conv2dGradients, Conv2dPadding, Conv2dParamArgs,
} from './ops/conv2d.js';
export type {
  AttentionApi, AttentionCommonOptions, AttentionGradients, AttentionResult, FeatureMap, FeatureOptions, FullAttentionArgs,
  LinearAttentionArgs, LinearBackwardExtras, LinearStream, LinearStreamOptions, SoftmaxBackwardExtras, WindowedAttentionArgs,
} from './ops/attention/index.js';
export type { Features, SimdChoice } from './backend/wasm/instantiate.js';
export type { BackendName, MemoryInfo } from './backend/types.js';
export type {
  CrossEntropyArgs, CrossEntropyResult, FullSoftmaxArgs, FullSoftmaxResult, HierarchicalSoftmaxArgs, HierarchicalSoftmaxResult,
  NegativeSamplingArgs, NegativeSamplingResult, SampledSoftmaxArgs, SampledSoftmaxResult, SamplerName, SoftmaxApi,
} from './ops/softmax.js';
// a type only: samplers come from weft.softmax.unigramSampler, which validates the counts
export type { UnigramSampler } from './ops/softmax.js';
// an interface only: trees come from weft.softmax.huffmanTree, which validates the counts
export type { HuffmanTree } from './huffman.js';
export type { SkipGramFactory } from './ops/skipgram/index.js';
export { SkipGramModel, SOFTMAX_VOCAB_LIMIT } from './ops/skipgram/model.js';
export type { SkipGramLoadOptions, SkipGramOptions } from './ops/skipgram/model.js';
export type { TrainingRun } from './ops/skipgram/model_file.js';
export type { SkipGramLoss, Word2VecArchitecture } from './ops/skipgram/kernels.js';
export type { Corpus, CorpusFile, Sentence } from './ops/skipgram/corpus.js';
export type { TrainOptions, TrainProgress, TrainSummary } from './ops/skipgram/trainer.js';
export type {
  AnalogyMethod, AnalogyOptions, AnalogyResult, AnalogySection, EvaluationOptions, WordPairResult,
} from './ops/skipgram/evaluate.js';
export type { Similar } from './ops/skipgram/similarity.js';
export type { MostSimilarCosmulOptions, MostSimilarOptions, QueryTerm } from './ops/skipgram/queries.js';
export type { VocabCounts } from './ops/skipgram/vocab.js';

/** Options of {@link createWeft}; every one may be left out. */
export interface CreateWeftOptions {
  /**
   * 'wasm' (default): SIMD WebAssembly kernels; 'js': the pure-JS reference, which runs
   * anywhere. UNSUPPORTED for 'wasm' on a runtime without WebAssembly SIMD, or where the page's
   * CSP forbids compiling WebAssembly (the message names the ways out).
   */
  backend?: BackendName;
  /**
   * Which WASM build: 'auto' (default: relaxed SIMD where the runtime compiles it, else plain
   * SIMD), 'relaxed' (UNSUPPORTED where the runtime cannot compile it) or 'simd'.
   */
  simd?: SimdChoice;
  /**
   * A weft kernel module compiled by the caller (from the package's dist/weft-simd.wasm or
   * dist/weft-relaxed.wasm), for pages whose CSP forbids compiling bytes; default: the builds
   * embedded in the bundle. OPTION if it is not weft's module, or is the other build than an
   * explicit `simd` names.
   */
  module?: WebAssembly.Module;
  /**
   * Threads the WASM backend runs calls on, the calling thread included: 'auto' (default:
   * the cores the runtime reports; one where threads cannot run, `features.threadsReason`
   * says why) or an integer in [1, 64] (RANGE outside; where threads cannot run, a number > 1
   * throws UNSUPPORTED naming the reason). Results are the same bits for any count, except
   * skip-gram training, which is Hogwild with more than one thread (`skipGram({ workers: 1 })`
   * trains reproducibly on a pool). `threads: 1` starts no worker and keeps an unshared memory.
   */
  threads?: 'auto' | number;
  /**
   * Largest WASM memory in bytes (rounded up to 64 KiB): an integer in [1 MiB, 4 GiB] (RANGE
   * outside), default 4 GiB, the wasm32 limit. A memory threads share is reserved at this
   * size up front (address space, not RAM); a smaller one suits 32-bit devices. A call that
   * needs more throws MEMORY; so does createWeft where the runtime cannot reserve it.
   */
  maxMemory?: number;
  /**
   * URL of the package's dist/weft-worker.js, for pages whose CSP forbids blob: workers;
   * default: workers start from a blob: URL of the script embedded in the bundle.
   */
  workerUrl?: string;
}

/** A weft instance: one backend and the whole API on it. */
export interface Weft {
  /** The backend createWeft chose: 'wasm' or 'js'. */
  readonly backend: BackendName;
  /** What the instance uses: SIMD builds, threads (and why not more). */
  readonly features: Features;
  /**
   * Validate and wrap data as a tensor (no copy). DTYPE if data is not a Float32Array, SHAPE
   * if shape is not integers >= 0 whose product is data.length.
   */
  tensor(data: Float32Array, shape: readonly number[]): Tensor;
  /** A zero-filled tensor (SHAPE unless shape is integers >= 0; MEMORY over 2^30 elements). */
  zeros(shape: readonly number[]): Tensor;
  /**
   * Standard normal samples; the same seed (any safe integer, else OPTION) gives the same
   * tensor on every backend.
   */
  randn(shape: readonly number[], seed: number): Tensor;
  /**
   * a [M, K] (or [B, M, K]) @ b [K, N] (or [B, K, N]) + bias [N] -> [M, N] (or [B, M, N]).
   * A 2-D operand broadcasts over the other's batch.
   */
  readonly matmul: MatmulFn;
  /** Bytes of WASM memory in use (liveBytes is 0 between calls). */
  memory(): MemoryInfo;
  /** Exact, sliding-window and linear attention with backward passes (layout [B, heads, T, d]). */
  readonly attention: AttentionApi;
  /** The 2D-RNN scan (see Rnn2dApi). */
  readonly rnn2d: Rnn2dApi;
  /** Stride-1 2-D convolution, the baseline the 2D-RNN is compared with (see Conv2dApi). */
  readonly conv2d: Conv2dApi;
  /** Full, sampled, negative-sampling and hierarchical softmax: losses (mean over rows) and gradients. */
  readonly softmax: SoftmaxApi;
  /** A skip-gram (word2vec) model trained on this backend; `.fromWord2Vec(bytes)` loads vectors. */
  readonly skipGram: SkipGramFactory;
  /** End the instance's worker threads (idempotent; later calls throw UNSUPPORTED). Idle threads never keep a process alive. */
  dispose(): void;
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
  const threads = checkThreadsOption(options.threads);
  const maxMemory = checkInteger('createWeft: maxMemory', options.maxMemory, PAGE_BYTES * INITIAL_PAGES, PAGE_BYTES * MAX_PAGES, PAGE_BYTES * MAX_PAGES);
  if (options.workerUrl !== undefined && typeof options.workerUrl !== 'string') {
    throw new WeftError('OPTION', `createWeft: workerUrl must be a string (a URL), got ${describe(options.workerUrl)}`);
  }
  const backend = backendName === 'js'
    ? createJsBackend()
    : await createWasmBackend({
      simd, module: options.module, threads, maxPages: Math.ceil(maxMemory / PAGE_BYTES), workerUrl: options.workerUrl,
    });
  return bindApi(backend);
}

/** The public object: every family built from the one backend. */
function bindApi(backend: Backend): Weft {
  const weft: Weft = {
    backend: backend.name,
    features: backend.features,
    tensor,
    zeros,
    randn,
    matmul: createMatmul(backend),
    memory: () => backend.memory(),
    attention: createAttention(backend),
    rnn2d: createRnn2d(backend),
    conv2d: createConv2d(backend),
    softmax: createSoftmax(backend),
    skipGram: createSkipGram(backend),
    dispose: () => backend.dispose(),
  };
  registerBackend(weft, backend);
  return weft;
}
