// A backend is the set of kernels of every op family plus the way one call runs on
// it. src/ops/ validates and stages, a backend computes: both backends implement the
// same interface, so one op body (and one test body) serves both.
//
// A call, in order (src/ops/op.ts runs it): the op checks its arguments, stages its
// float inputs (Call.stage: the WASM backend copies them into linear memory), checks
// their values from the staged maxima (Staged.maxAbs: a SIMD scan of the copy on
// WASM), runs the kernel on the staged inputs, and checks the results. A kernel's
// problem holds Staged inputs, never bare arrays: it cannot be reached unstaged.

import type { Features } from './wasm/instantiate.js';
import type { MatmulKernels } from '../ops/matmul.js';
import type { Rnn2dKernels } from '../ops/rnn2d.js';
import type { Conv2dKernels } from '../ops/conv2d.js';
import type { SoftmaxKernels } from '../ops/softmax.js';
import type { SkipGramKernels } from '../skipgram/kernels.js';
import type { AttentionKernels } from '../ops/attention/kernels.js';

export type BackendName = 'wasm' | 'js';

/** Memory held by a backend (tfjs's `tf.memory()` for weft). */
export interface MemoryInfo {
  /** Size of the WASM linear memory in bytes (0 for the JS backend). */
  wasmBytes: number;
  /** Bytes of WASM memory held by live buffers; 0 between calls. */
  liveBytes: number;
}

/** A float input placed where one call's kernels read it (Call.stage). */
export interface Staged {
  /** The caller's array (never written). */
  readonly data: Float32Array;
  /** max |x| over data; NaN or Infinity when a value is not finite. Scanned once, on first use. */
  maxAbs(): number;
}

/** One op call on a backend: what it stages and holds is released when the call ends, also when it throws. */
export interface Call {
  /** Stage a float input for this call's kernels (`name` labels it in errors). */
  stage(data: Float32Array, name: string): Staged;
  /** True when the backend found every value of `result` finite while producing it (the results check then skips it). */
  scannedFinite(result: Float32Array): boolean;
}

/** Every op's kernel, by the op's name (weft.attention.windowed -> attentionWindowed). */
export interface Kernels extends MatmulKernels, Rnn2dKernels, Conv2dKernels, AttentionKernels, SoftmaxKernels, SkipGramKernels {}

export interface Backend {
  readonly name: BackendName;
  readonly features: Features;
  readonly kernels: Kernels;
  /** Run one op call (see the header). */
  call<T>(body: (call: Call) => T): T;
  memory(): MemoryInfo;
}
