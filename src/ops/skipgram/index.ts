// weft.skipGram: the skip-gram (word2vec) family's entry. Beside it: the model
// (model.ts), vocabulary, corpus reading, training loop, file formats and evaluation;
// the kernel (skipGramTrain) runs in the backends' SkipGramTables (kernels.ts).

import type { OpBackend } from '../op.js';
import type { SimilarityKernels, SkipGramKernels } from './kernels.js';
import { SkipGramModel, type SkipGramLoadOptions, type SkipGramOptions } from './model.js';
import { parseVocab } from './vocab.js';

/** weft.skipGram(options), weft.skipGram.load(bytes), weft.skipGram.fromWord2Vec(bytes) and weft.skipGram.readVocab(text). */
export interface SkipGramFactory {
  /** A model to train, with its options (all optional). */
  (options?: SkipGramOptions): SkipGramModel;
  /**
   * A model from a model file (model.save(), either backend's), to query and train on.
   * DTYPE for a non-Uint8Array; SHAPE for a truncated or malformed file or sizes that
   * disagree; UNSUPPORTED for another format version; RANGE for a non-finite weight.
   */
  load(bytes: Uint8Array, options?: SkipGramLoadOptions): SkipGramModel;
  /**
   * A query-only model from word2vec text or binary bytes. DTYPE if bytes is not a
   * Uint8Array, SHAPE for a malformed file.
   */
  fromWord2Vec(bytes: Uint8Array, options?: {
    /** The file's format, true for binary. Default: detected from the bytes. */
    binary?: boolean;
  }): SkipGramModel;
  /**
   * The word counts of a word2vec.c vocabulary file (-save-vocab, model.saveVocab(), gensim's
   * fvocab), in file order with `</s>`, for model.buildVocab({ counts }): one `word count`
   * line each, blank lines skipped. SHAPE naming the line for a line without a count or
   * with more fields, a count that is not a whole number, a word listed twice; RANGE for a
   * negative count; DTYPE when `text` is not a string.
   */
  readVocab(text: string): Map<string, number>;
}

/** weft.skipGram on a backend. */
export function createSkipGram(backend: OpBackend<SkipGramKernels & SimilarityKernels>): SkipGramFactory {
  return Object.assign((options?: SkipGramOptions) => SkipGramModel.create(backend, options), {
    load: (bytes: Uint8Array, options?: SkipGramLoadOptions) => SkipGramModel.load(backend, bytes, options),
    fromWord2Vec: (bytes: Uint8Array, options?: { binary?: boolean }) => SkipGramModel.fromWord2Vec(backend, bytes, options),
    readVocab: (text: string) => parseVocab(text),
  });
}
