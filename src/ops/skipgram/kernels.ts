// The skip-gram trainer's kernel interface: a backend holds the model tables
// (input and output vectors, sampling tables, generator state) and trains on
// batches of sentences already mapped to word ids (SkipGramTables.train, the kernel
// skipGramTrain). This folder builds the vocabulary, the tables and the batches;
// assembly/skipgram.ts and src/backend/js/skipgram.ts run the same SGD loop with the
// same draws.

import { KERNEL_CONSTANTS } from '../../kernel_constants.generated.js';

/**
 * Training objective over the words' output vectors (hierarchical softmax is the separate `hs`):
 * 'negative' (SGNS), 'sampled-softmax' or 'softmax' (exact). OPTION for another name.
 */
export type SkipGramLoss = 'negative' | 'sampled-softmax' | 'softmax';

/** What predicts a center word: each context word (skip-gram) or their mean (CBOW). OPTION for another name. */
export type Word2VecArchitecture = 'skip-gram' | 'cbow';

/** Loss codes of assembly/skipgram.ts. */
export const LOSS_CODE: Record<SkipGramLoss, number> = {
  negative: KERNEL_CONSTANTS.LOSS_NEGATIVE, 'sampled-softmax': KERNEL_CONSTANTS.LOSS_SAMPLED, softmax: KERNEL_CONSTANTS.LOSS_SOFTMAX,
};

/** Architecture codes of assembly/skipgram.ts. */
export const ARCHITECTURE_CODE: Record<Word2VecArchitecture, number> = {
  'skip-gram': KERNEL_CONSTANTS.ARCH_SKIP_GRAM, cbow: KERNEL_CONSTANTS.ARCH_CBOW,
};

/** Longest sentence a batch may hold; longer ones are cut into pieces (gensim truncates at the same length). */
export const MAX_SENTENCE_WORDS = 10000;

/** Sigmoid tables over [-MAX_EXP, MAX_EXP] (word2vec.c's EXP_TABLE), as assembly/skipgram.ts reads them. */
export const MAX_EXP = KERNEL_CONSTANTS.SIGMOID_MAX_EXP;
export const SIGMOID_TABLE_SIZE = KERNEL_CONSTANTS.SIGMOID_TABLE_SIZE;
/** shareNegatives: context positions of a window trained as one chunk (assembly/skipgram.ts). */
export const CONTEXT_CHUNK = KERNEL_CONSTANTS.CONTEXT_CHUNK;

export interface SkipGramSetup {
  architecture: Word2VecArchitecture;
  loss: SkipGramLoss;
  /** Hierarchical softmax (with loss 'negative' only: beside negative sampling, or alone when negative is 0). */
  hs: boolean;
  vocabSize: number;
  dim: number;
  window: number;
  /** Noise words per prediction with loss 'negative'; 0: hierarchical softmax alone. */
  negative: number;
  numSampled: number;
  /** [V, dim]: initial input vectors. */
  inputVectors: Float32Array;
  /** Initial output vectors ([V, dim] when the loss trains them, as outputVectors() returns them); zero when absent. */
  outputVectors?: Float32Array;
  /** With hs: initial inner-node vectors [V - 1, dim], as treeVectors() returns them; zero when absent. */
  treeVectors?: Float32Array;
  /** [V]: keep a word when a u32 draw <= its threshold; 0xFFFFFFFF keeps it without a draw. */
  keepThreshold: Uint32Array;
  /** [V, 2]: (threshold, alias) per column of the noise distribution's alias table. */
  aliasEntries: Uint32Array;
  /** [V]: noise probability of each word (the sampled softmax's expected counts). */
  noiseProbability: Float64Array;
  /** [SIGMOID_TABLE_SIZE + 1]: σ(x) at x = (2i / SIZE - 1) MAX_EXP. */
  sigmoidTable: Float32Array;
  /** [SIGMOID_TABLE_SIZE + 1]: -log σ(x) on the same grid. */
  minusLogSigmoidTable: Float32Array;
  /** With hs: [V + 1], word w's Huffman path is treePaths[treeOffsets[w], treeOffsets[w + 1]). */
  treeOffsets?: Int32Array;
  /** With hs: the paths' entries, root first, each (inner node << 1) | code (HuffmanTree.packedPaths). */
  treePaths?: Int32Array;
  /** xoshiro128** state (4 words) that training continues. */
  rngState: Uint32Array;
  /**
   * Most threads a batch may train on (Hogwild; a backend uses at most its own
   * threads). On one thread training is reproducible and the same on every backend.
   */
  workers: number;
  /**
   * Negative sampling with one set of noise words per center word, shared by its
   * context words (assembly/skipgram.ts); undefined: when a batch may train on more
   * than one thread.
   */
  shareNegatives: boolean | undefined;
}

export interface SkipGramBatch {
  /** In-vocabulary word ids of the batch's sentences, concatenated. */
  ids: Int32Array;
  /** Exclusive end offset of each sentence in ids (each sentence <= MAX_SENTENCE_WORDS). */
  sentenceEnds: Int32Array;
  /** Learning rate of each sentence. */
  alphas: Float32Array;
  sentences: number;
}

export interface SkipGramBatchStats {
  /** Summed loss of the batch's (context, center) pairs (CBOW: center words). */
  lossSum: number;
  /** Pairs trained (CBOW: center words with a context). */
  pairs: number;
  /** Words left after subsampling. */
  keptWords: number;
}

/** Model tables owned by a backend (WASM heap blocks, or JS arrays). */
export interface SkipGramTables {
  /** Threads a batch trains on at most (1: deterministic). */
  readonly threads: number;
  /** Train on one batch (the kernel skipGramTrain). */
  train(batch: SkipGramBatch): SkipGramBatchStats;
  /** [V, dim], a fresh copy. */
  inputVectors(): Float32Array;
  /** [V, dim], a fresh copy; empty when no loss trains them (hierarchical softmax alone). */
  outputVectors(): Float32Array;
  /** [V - 1, dim]: the Huffman tree's inner-node vectors, a fresh copy; empty without hs. */
  treeVectors(): Float32Array;
  /** The xoshiro128** state (4 words) the next batch draws from (thread 0's), a copy. */
  rngState(): Uint32Array;
  /** Free the tables; later calls throw. Idempotent. */
  dispose(): void;
}

/**
 * Whether a batch shares each center's noise words among its context words: skip-gram's
 * negative sampling only (without hierarchical softmax); the option, else on more than one thread.
 */
export function sharesNegatives(setup: SkipGramSetup, threads: number): boolean {
  if (setup.architecture !== 'skip-gram' || setup.loss !== 'negative' || setup.negative === 0 || setup.hs) return false;
  return setup.shareNegatives ?? threads > 1;
}

/** The output rows a setup trains: the words' (syn1) unless hierarchical softmax trains alone. */
export function trainsOutputVectors(setup: Pick<SkipGramSetup, 'loss' | 'negative'>): boolean {
  return setup.loss !== 'negative' || setup.negative > 0;
}

export interface SkipGramKernels {
  /** Tables for one model, held until their dispose(). */
  skipGramTables(setup: SkipGramSetup): SkipGramTables;
}

/**
 * Unit vectors a backend holds for similarity queries (src/ops/skipgram/similarity.ts).
 * No kernel of their own: the shared GEMM (the matmul kernel) reads them where they lie,
 * k-major ([dim, size]), so one query is a mat-vec that streams the table once.
 */
export interface SimilarityTable {
  readonly size: number;
  readonly dim: number;
  /** scores [count, limit] = queries [count, dim] @ unit[0, limit)ᵀ, a fresh array (limit <= size). */
  scores(queries: Float32Array, count: number, limit: number): Float32Array;
  /** Free the table; later calls throw. Idempotent. */
  dispose(): void;
}

export interface SimilarityKernels {
  /** A table holding a copy of `unitRows` ([size, dim], row-major), until its dispose(). */
  similarityTable(unitRows: Float32Array, size: number, dim: number): SimilarityTable;
}
