// A backend is the set of kernels of every op family; src/ops/ validates, a
// backend computes. Both backends implement the same interface so tests can run
// one body against each.

import type { Features } from './wasm/instantiate.js';
import type { MatmulKernels } from '../ops/matmul.js';
import type { Rnn2dKernels } from '../ops/rnn2d.js';
import type { Conv2dKernels } from '../ops/conv2d.js';
import type { SoftmaxKernels } from '../ops/softmax.js';
import type { SkipGramKernels } from '../ops/skipgram.js';
import type { AttentionKernels } from '../ops/attention_api.js';

export type BackendName = 'wasm' | 'js';

/** Memory held by a backend (tfjs's `tf.memory()` for weft). */
export interface MemoryInfo {
  /** Size of the WASM linear memory in bytes (0 for the JS backend). */
  wasmBytes: number;
  /** Bytes of WASM memory held by live buffers; 0 between calls. */
  liveBytes: number;
}

export interface Backend extends MatmulKernels, Rnn2dKernels, Conv2dKernels, SoftmaxKernels, SkipGramKernels, AttentionKernels {
  readonly name: BackendName;
  readonly features: Features;
  memory(): MemoryInfo;
}
