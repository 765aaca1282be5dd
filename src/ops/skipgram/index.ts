// weft.skipGram: the skip-gram (word2vec) family's entry. Beside it: the model
// (model.ts), vocabulary, corpus reading, training loop, file formats and evaluation;
// the kernel (skipGramTrain) runs in the backends' SkipGramTables (kernels.ts).

import type { OpBackend } from '../op.js';
import type { MatmulKernels } from '../matmul.js';
import type { SkipGramKernels } from './kernels.js';
import { SkipGramModel, type SkipGramOptions } from './model.js';

/** weft.skipGram(options) and weft.skipGram.fromWord2Vec(bytes). */
export interface SkipGramFactory {
  /** A model to train, with its options (all optional). */
  (options?: SkipGramOptions): SkipGramModel;
  /**
   * A query-only model from word2vec text or binary bytes. DTYPE if bytes is not a
   * Uint8Array, SHAPE for a malformed file.
   */
  fromWord2Vec(bytes: Uint8Array, options?: {
    /** The file's format, true for binary. Default: detected from the bytes. */
    binary?: boolean;
  }): SkipGramModel;
}

/** weft.skipGram on a backend. */
export function createSkipGram(backend: OpBackend<SkipGramKernels & MatmulKernels>): SkipGramFactory {
  return Object.assign((options?: SkipGramOptions) => SkipGramModel.create(backend, options), {
    fromWord2Vec: (bytes: Uint8Array, options?: { binary?: boolean }) => SkipGramModel.fromWord2Vec(backend, bytes, options),
  });
}
