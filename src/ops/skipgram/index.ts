// weft.skipGram: the skip-gram (word2vec) family's entry. Beside it: the model
// (model.ts), vocabulary, corpus reading, training loop, file formats and evaluation;
// the kernel (skipGramTrain) runs in the backends' SkipGramTables (kernels.ts).

import type { OpBackend } from '../op.js';
import type { SimilarityKernels, SkipGramKernels } from './kernels.js';
import { SkipGramModel, type SkipGramOptions } from './model.js';

/** weft.skipGram(options) and weft.skipGram.fromWord2Vec(bytes). */
export interface SkipGramFactory {
  (options?: SkipGramOptions): SkipGramModel;
  /** A query-only model from word2vec text or binary bytes (format detected unless `binary` is given). */
  fromWord2Vec(bytes: Uint8Array, options?: { binary?: boolean }): SkipGramModel;
}

/** weft.skipGram on a backend. */
export function createSkipGram(backend: OpBackend<SkipGramKernels & SimilarityKernels>): SkipGramFactory {
  return Object.assign((options?: SkipGramOptions) => SkipGramModel.create(backend, options), {
    fromWord2Vec: (bytes: Uint8Array, options?: { binary?: boolean }) => SkipGramModel.fromWord2Vec(backend, bytes, options),
  });
}
