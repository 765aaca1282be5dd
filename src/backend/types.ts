// A backend is the set of kernels of every op family plus the way one call runs on
// it (src/ops/op.ts OpBackend). src/ops/ validates and stages, a backend computes:
// both backends implement the same interface, so one op body (and one test body)
// serves both. The dependency points one way: backends implement what src/ops/
// declares (each family's kernel interface, Call, Staged).
//
// A call, in order (src/ops/op.ts runs it): the op checks its arguments, stages its
// float inputs (Call.stage: the WASM backend copies them into linear memory), checks
// their values from the staged maxima (Staged.maxAbs: a SIMD scan of the copy on
// WASM), runs the kernel on the staged inputs, and checks the results. A kernel's
// problem holds Staged inputs, never bare arrays: it cannot be reached unstaged.

import type { Features } from './wasm/instantiate.js';
import type { OpBackend } from '../ops/op.js';
import type { MatmulKernels } from '../ops/matmul.js';
import type { Rnn2dKernels } from '../ops/rnn2d.js';
import type { Conv2dKernels } from '../ops/conv2d.js';
import type { SoftmaxKernels } from '../ops/softmax.js';
import type { SimilarityKernels, SkipGramKernels } from '../ops/skipgram/kernels.js';
import type { AttentionKernels } from '../ops/attention/kernels.js';

export type { Call, Staged } from '../ops/op.js';

/** Which kernels an instance runs: 'wasm' (SIMD WebAssembly) or 'js' (the pure-JS reference). */
export type BackendName = 'wasm' | 'js';

/** Memory held by a backend (tfjs's `tf.memory()` for weft). */
export interface MemoryInfo {
  /** Size of the WASM linear memory in bytes (0 for the JS backend). */
  wasmBytes: number;
  /** Bytes of WASM memory held by live buffers; 0 between calls. */
  liveBytes: number;
}

/** Every kernel, by its op's name (weft.attention.windowed -> attentionWindowed). */
export interface Kernels extends MatmulKernels, Rnn2dKernels, Conv2dKernels, AttentionKernels, SoftmaxKernels, SkipGramKernels, SimilarityKernels {}

export interface Backend extends OpBackend<Kernels> {
  readonly name: BackendName;
  readonly features: Features;
  memory(): MemoryInfo;
  /** End the backend's threads (idempotent); later calls throw. */
  dispose(): void;
}
