// weft.skipGram: the skip-gram (word2vec) family's entry. The model, its vocabulary,
// corpus reading, training loop, file formats and evaluation live in src/skipgram/;
// the kernel (skipGramTrain) in the backends' SkipGramTables.

import type { Backend } from '../backend/types.js';
import { SkipGramModel, type SkipGramOptions } from '../skipgram/model.js';

/** weft.skipGram(options) and weft.skipGram.fromWord2Vec(bytes). */
export interface SkipGramFactory {
  (options?: SkipGramOptions): SkipGramModel;
  /** A query-only model from word2vec text or binary bytes (format detected unless `binary` is given). */
  fromWord2Vec(bytes: Uint8Array, options?: { binary?: boolean }): SkipGramModel;
}

/** weft.skipGram on a backend. */
export function createSkipGram(backend: Backend): SkipGramFactory {
  return Object.assign((options?: SkipGramOptions) => SkipGramModel.create(backend, options), {
    fromWord2Vec: (bytes: Uint8Array, options?: { binary?: boolean }) => SkipGramModel.fromWord2Vec(backend, bytes, options),
  });
}
