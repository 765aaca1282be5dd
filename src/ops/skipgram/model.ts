// weft.skipGram(): the model users hold. Options and their defaults follow the
// API contract (word2vec / gensim names in the comments); the vocabulary and the
// training loop live in vocab.ts and trainer.ts, the tables in the backend.

import { WeftError, describe } from '../../errors.js';
import { Rng, checkSeed } from '../../rng.js';
import type { Tensor } from '../../tensor.js';
import type { OpBackend } from '../op.js';
import type { MatmulKernels } from '../matmul.js';
import { createMatmul } from '../matmul.js';
import type { SkipGramKernels, SkipGramLoss, SkipGramTables, Word2VecArchitecture } from './kernels.js';

/** What a model needs from a backend: its tables and matmul (for similarity queries). */
type ModelBackend = OpBackend<SkipGramKernels & MatmulKernels>;
import { checkChoice, checkInteger, checkNumber, checkOptionsObject, optionalBoolean } from '../../args.js';
import {
  type Corpus, type CorpusFile, type Sentence, type SyncCorpus, checkCorpus, isReiterable, isSyncCorpus, sentences, syncSentences,
} from './corpus.js';
import { VocabCounter, Vocabulary } from './vocab.js';
import { buildSetup } from './setup.js';
import { type TrainOptions, type TrainSummary, TrainingDiverged, trainEpochs } from './trainer.js';
import { type Similar, VectorSpace, normalise } from './similarity.js';
import {
  type AnalogyResult, type EvaluationOptions, type WordPairResult, evaluateAnalogies, evaluateWordPairs,
} from './evaluate.js';
import { readWord2Vec, writeWord2Vec } from './word2vec.js';

/** Options of weft.skipGram; every one may be left out. Numbers outside their range are RANGE. */
export interface SkipGramOptions {
  /**
   * 'skip-gram' (default: each context word predicts the center) or 'cbow' (the mean of
   * the context words' vectors predicts it, once per center; word2vec -cbow 1, gensim sg=0
   * with cbow_mean=1). word2vec.c defaults to CBOW; weft keeps skip-gram, its trainer's name.
   */
  architecture?: Word2VecArchitecture;
  /**
   * Hierarchical softmax over word2vec.c's Huffman tree of the counts (-hs 1, gensim hs=1),
   * with loss 'negative': beside negative sampling (both update the same hidden vector, as
   * in word2vec.c), or alone with negative: 0. Default false. OPTION with another loss.
   */
  hs?: boolean;
  /** Vector size (word2vec -size, gensim vector_size), in floats: an integer in [1, 65536]. Default 100. */
  dim?: number;
  /** Largest distance between a center and a context word (-window), in words: an integer in [1, 100000]. Default 5. */
  window?: number;
  /**
   * Noise words per prediction (a pair, or a CBOW center) with loss 'negative' (-negative): an
   * integer in [0, 100000]; 0 turns negative sampling off (needs hs, else OPTION). Default 5.
   */
  negative?: number;
  /** Drop words seen fewer times (-min-count), in occurrences: an integer >= 0. Default 5. */
  minCount?: number;
  /** Subsampling threshold for frequent words, a fraction of the corpus in [0, 0.999999]; 0 disables (-sample). Default 1e-3. */
  sample?: number;
  /** Initial learning rate (-alpha): a number in (0, 10]. Default 0.025 for skip-gram, 0.05 for CBOW (word2vec.c's defaults). */
  alpha?: number;
  /** Final learning rate, reached linearly over all epochs: a number in [0, alpha]. Default 0.0001 (alpha if smaller). */
  minAlpha?: number;
  /** Passes over the corpus (-iter): an integer in [1, 1e6]. Default 5. */
  epochs?: number;
  /** Seeds the initial vectors and every draw: any safe integer (OPTION otherwise). Default 1. */
  seed?: number;
  /**
   * 'negative' (SGNS, default), 'sampled-softmax' or 'softmax' (exact, small vocabularies
   * only: RANGE at buildVocab over {@link SOFTMAX_VOCAB_LIMIT} words).
   */
  loss?: SkipGramLoss;
  /** Keep at most this many words, the most frequent: an integer >= 1. Default: no limit. */
  maxVocab?: number;
  /**
   * Candidates per center word with loss 'sampled-softmax' (drawn from unigram^0.75): an
   * integer in [1, 1e6], below the vocabulary size (RANGE at buildVocab otherwise). Default 64.
   */
  numSampled?: number;
  /**
   * Words handed to the kernel per call (progress granularity; on one thread results do not
   * depend on it): an integer in [1, 2^24]. Default 65536 per thread: a batch's sentences are
   * shared out among the threads, and more sentences a batch keep them evenly busy.
   */
  batchWords?: number;
  /**
   * Threads training runs on (gensim workers, word2vec -threads): an integer in [1, 1024],
   * capped at the instance's (weft.features.threads, which is also the default). More than
   * one trains Hogwild, as word2vec.c and gensim do: threads update shared vectors without
   * locks, so runs are not reproducible bit for bit. With 1, a seed gives the same vectors
   * every run and on every backend.
   */
  workers?: number;
  /**
   * Skip-gram with loss 'negative' (and no hs): draw the noise words once per center word and
   * share them among its context words, each output row updated once per window (Ji et al. 2016;
   * BlazingText's batch_skipgram) instead of once per pair. Default: true when training on more
   * than one thread, where threads writing the same frequent output rows at every pair slow each
   * other down; false on one thread (word2vec.c's per-pair draws). OPTION if true with another
   * loss, hs, negative: 0 or CBOW.
   */
  shareNegatives?: boolean;
}

/**
 * Default words of a batch per thread. On two threads, 65536-word batches of the benchmark
 * corpus (~5000-word lines) trained 1.66x one thread's words/s, 131072-word ones 1.75x:
 * a thread that takes the batch's last sentence works alone until it is done.
 */
const BATCH_WORDS_PER_THREAD = 65536;

/** Vocabulary size above which loss 'softmax' refuses to train: each pair costs O(V * dim). */
export const SOFTMAX_VOCAB_LIMIT = 10000;

interface Config {
  architecture: Word2VecArchitecture;
  hs: boolean;
  dim: number;
  window: number;
  negative: number;
  minCount: number;
  sample: number;
  alpha: number;
  minAlpha: number;
  epochs: number;
  seed: number;
  loss: SkipGramLoss;
  maxVocab?: number;
  numSampled: number;
  /** undefined: BATCH_WORDS_PER_THREAD per thread. */
  batchWords: number | undefined;
  /** Infinity: all the backend's threads. */
  workers: number;
  /** undefined: when training on more than one thread. */
  shareNegatives: boolean | undefined;
}

const LOSSES: readonly SkipGramLoss[] = ['negative', 'sampled-softmax', 'softmax'];
const ARCHITECTURES: readonly Word2VecArchitecture[] = ['skip-gram', 'cbow'];

function checkConfig(options: SkipGramOptions | undefined): Config {
  const o = checkOptionsObject('skipGram', options);
  const architecture = checkChoice('skipGram: architecture', o.architecture, ARCHITECTURES, 'skip-gram');
  const loss = checkChoice('skipGram: loss', o.loss, LOSSES, 'negative');
  const hs = optionalBoolean('skipGram: hs', o.hs, false);
  if (hs && loss !== 'negative') {
    throw new WeftError('OPTION', `skipGram: hs: hierarchical softmax trains alone (negative: 0) or beside loss 'negative', not beside '${loss}'`);
  }
  const negative = checkInteger('skipGram: negative', o.negative, 0, 100000, 5);
  if (negative === 0 && loss === 'negative' && !hs) {
    throw new WeftError('OPTION', 'skipGram: negative: 0 leaves nothing to train; set hs: true for hierarchical softmax alone (CLI --hs 1), or negative >= 1');
  }
  if (o.shareNegatives === true) {
    if (loss !== 'negative') throw new WeftError('OPTION', `skipGram: shareNegatives: noise words are shared with loss 'negative' only, not '${loss}'`);
    const why = negative === 0 ? 'negative: 0' : hs ? 'hs' : architecture === 'cbow' ? "architecture 'cbow' (it draws once per center already)" : '';
    if (why) throw new WeftError('OPTION', `skipGram: shareNegatives: noise words are shared by skip-gram's negative sampling alone, not with ${why}`);
  }
  const alpha = checkNumber('skipGram: alpha', o.alpha, Number.MIN_VALUE, 10, architecture === 'cbow' ? 0.05 : 0.025);
  return {
    architecture,
    hs,
    dim: checkInteger('skipGram: dim', o.dim, 1, 65536, 100),
    window: checkInteger('skipGram: window', o.window, 1, 100000, 5),
    negative,
    minCount: checkInteger('skipGram: minCount', o.minCount, 0, Number.MAX_SAFE_INTEGER, 5),
    sample: checkNumber('skipGram: sample', o.sample, 0, 0.999999, 1e-3),
    alpha,
    minAlpha: checkNumber('skipGram: minAlpha', o.minAlpha, 0, alpha, Math.min(0.0001, alpha)),
    epochs: checkInteger('skipGram: epochs', o.epochs, 1, 1e6, 5),
    seed: o.seed === undefined ? 1 : checkSeed('skipGram', o.seed),
    loss,
    maxVocab: o.maxVocab === undefined ? undefined : checkInteger('skipGram: maxVocab', o.maxVocab, 1),
    numSampled: checkInteger('skipGram: numSampled', o.numSampled, 1, 1e6, 64),
    batchWords: o.batchWords === undefined ? undefined : checkInteger('skipGram: batchWords', o.batchWords, 1, 1 << 24),
    workers: o.workers === undefined ? Infinity : checkInteger('skipGram: workers', o.workers, 1, 1024),
    shareNegatives: o.shareNegatives === undefined ? undefined : optionalBoolean('skipGram: shareNegatives', o.shareNegatives, false),
  };
}

// Tables the user forgot to dispose are freed when the model is collected.
const orphanedTables =
  typeof FinalizationRegistry === 'function' ? new FinalizationRegistry<SkipGramTables>((tables) => tables.dispose()) : undefined;

/** A skip-gram model: vocabulary, vectors and (until disposed) its training tables. */
export class SkipGramModel {
  private readonly backend: ModelBackend;
  private readonly config: Config;
  private vocabulary?: Vocabulary;
  private frozenWords: readonly string[] = Object.freeze([]);
  private tables?: SkipGramTables;
  /** Vectors without tables: loaded from a file, or kept by dispose(). */
  private detachedVectors?: Float32Array;
  private space?: VectorSpace;
  private training = false;
  private loaded = false;

  /** Models come from weft.skipGram(options) and weft.skipGram.fromWord2Vec(bytes). */
  private constructor(backend: ModelBackend, options?: SkipGramOptions) {
    this.backend = backend;
    this.config = checkConfig(options);
  }

  /** Vector size. */
  get dim(): number {
    return this.config.dim;
  }

  /** Words by descending count (file order for a loaded model). */
  get vocab(): readonly string[] {
    return this.frozenWords;
  }

  /**
   * Count words and allocate the tables (initial vectors uniform in ±1/dim, as gensim 4).
   * Synchronous for a string or an iterable; a Promise for { path } or an async iterable.
   */
  buildVocab(corpus: string | Iterable<Sentence>): this;
  buildVocab(corpus: CorpusFile | AsyncIterable<Sentence>): Promise<this>;
  buildVocab(corpus: Corpus): this | Promise<this>;
  buildVocab(corpus: Corpus): this | Promise<this> {
    if (this.training) throw new WeftError('UNSUPPORTED', 'buildVocab: this model is training (wait for train to finish)');
    return this.countVocab(corpus);
  }

  private countVocab(corpus: Corpus): this | Promise<this> {
    this.checkTrainable('buildVocab');
    checkCorpus(corpus);
    const counter = new VocabCounter();
    if (isSyncCorpus(corpus)) {
      for (const sentence of syncSentences(corpus)) counter.add(sentence);
      try {
        this.install(counter);
      } catch (err) {
        throw withPathHint(err, corpus);
      }
      return this;
    }
    return (async () => {
      for await (const sentence of sentences(corpus)) counter.add(sentence);
      this.install(counter);
      return this;
    })();
  }

  private install(counter: VocabCounter): void {
    const { config } = this;
    this.installVocabulary(counter.finish(config.minCount, config.maxVocab));
  }

  /** Fresh tables (initial vectors from the seed) for `vocab`. */
  private installVocabulary(vocab: Vocabulary): void {
    const { config } = this;
    if (config.loss === 'softmax' && vocab.size > SOFTMAX_VOCAB_LIMIT) {
      throw new WeftError(
        'RANGE',
        `loss "softmax": the vocabulary has ${vocab.size} words, over the limit of ${SOFTMAX_VOCAB_LIMIT} ` +
          '(the exact softmax costs O(V * dim) per pair); use loss "negative" or "sampled-softmax", or raise minCount / set maxVocab',
      );
    }
    if (config.hs && vocab.size < 2) {
      throw new WeftError('RANGE', `hs: hierarchical softmax needs a vocabulary of at least 2 words (a Huffman tree with an inner node), it has ${vocab.size}; lower minCount or add text`);
    }
    if (config.loss === 'sampled-softmax' && config.numSampled >= vocab.size) {
      throw new WeftError('RANGE', `numSampled: ${config.numSampled} candidates need a vocabulary of more words, it has ${vocab.size}`);
    }
    const setup = buildSetup(vocab, config, new Rng(config.seed));
    const tables = this.backend.kernels.skipGramTables(setup);
    this.releaseTables();
    this.tables = tables;
    orphanedTables?.register(this, tables, this);
    this.vocabulary = vocab;
    this.frozenWords = Object.freeze(vocab.words.slice());
    this.detachedVectors = undefined;
    this.space = undefined;
  }

  /**
   * Train for `epochs` passes (building the vocabulary first if needed). Deterministic
   * for a seed; onProgress gets { epoch, progress, wordsPerSec, alpha, loss } per batch.
   */
  async train(corpus: Corpus, options: TrainOptions = {}): Promise<TrainSummary> {
    this.checkTrainable('train');
    checkCorpus(corpus);
    checkOptionsObject('train', options);
    if (options.onProgress !== undefined && typeof options.onProgress !== 'function') {
      throw new WeftError('OPTION', `train: onProgress must be a function, got ${describe(options.onProgress)}`);
    }
    if (options.totalWords !== undefined) checkInteger('train: totalWords', options.totalWords, 1);
    if (!isReiterable(corpus)) {
      throw new WeftError('UNSUPPORTED', 'corpus: a one-shot iterator (e.g. a generator) cannot be read once per epoch; pass an array or a re-iterable object');
    }
    if (this.training) throw new WeftError('UNSUPPORTED', 'train: this model is already training (wait for the first train to finish)');
    this.training = true;
    try {
      if (!this.vocabulary) await this.countVocab(corpus);
      try {
        const tables = this.tables!;
        const batchWords = this.config.batchWords ?? BATCH_WORDS_PER_THREAD * tables.threads;
        const summary = await trainEpochs(tables, this.vocabulary!, corpus, { ...this.config, batchWords }, options);
        this.space = undefined;
        return summary;
      } catch (err) {
        // never leave NaN vectors behind: back to the untrained initial state
        if (err instanceof TrainingDiverged) this.installVocabulary(this.vocabulary!);
        throw err;
      }
    } finally {
      this.training = false;
    }
  }

  /** The vector of a word (a fresh copy), or undefined when it is not in the vocabulary. */
  vector(word: string): Float32Array | undefined {
    if (typeof word !== 'string') throw new WeftError('DTYPE', `vector: expected a word (string), got ${describe(word)}`);
    const id = this.vocabulary?.index.get(word);
    if (id === undefined) return undefined;
    const { dim } = this.config;
    return this.vectorSpace().vectors.slice(id * dim, (id + 1) * dim);
  }

  /** All vectors [V, dim] in vocab order (a fresh copy). */
  vectors(): Tensor {
    return { data: this.vectorSpace().vectors.slice(), shape: [this.vocab.length, this.config.dim] };
  }

  /** Cosine similarity of two words, in [-1, 1]. RANGE for a word not in the vocabulary. */
  similarity(a: string, b: string): number {
    return this.vectorSpace().similarity(this.idOf(a, 'similarity'), this.idOf(b, 'similarity'));
  }

  /**
   * The topN words (an integer >= 1, default 10) closest to a word (itself excluded) or to a
   * vector of dim numbers, by cosine. RANGE for a word not in the vocabulary or a zero vector.
   */
  mostSimilar(query: string | ArrayLike<number>, topN = 10): Similar {
    const space = this.vectorSpace();
    checkInteger('mostSimilar: topN', topN, 1);
    if (typeof query === 'string') {
      const id = this.idOf(query, 'mostSimilar');
      return space.nearest(space.combine([{ id, sign: 1 }]), topN, new Set([id]));
    }
    if (typeof query !== 'object' || query === null || typeof query.length !== 'number') {
      throw new WeftError('DTYPE', `mostSimilar: expected a word or a vector of ${this.config.dim} numbers, got ${describe(query)}`);
    }
    if (query.length !== this.config.dim) {
      throw new WeftError('SHAPE', `mostSimilar: expected a vector of ${this.config.dim} numbers, got ${query.length}`);
    }
    for (let k = 0; k < query.length; k++) {
      if (typeof query[k] !== 'number') throw new WeftError('DTYPE', `mostSimilar: query[${k}] is ${describe(query[k])}, expected a number`);
      if (!Number.isFinite(query[k])) throw new WeftError('RANGE', `mostSimilar: query[${k}] is ${query[k]}, expected a finite number`);
    }
    return space.nearest(normalise(query, 'mostSimilar'), topN, new Set());
  }

  /**
   * The topN words (an integer >= 1, default 1) closest to b - a + c (3CosAdd on unit vectors),
   * excluding a, b and c: "a is to b as c is to ?". RANGE for a word not in the vocabulary.
   */
  analogy(a: string, b: string, c: string, topN = 1): Similar {
    const space = this.vectorSpace();
    checkInteger('analogy: topN', topN, 1);
    const [ia, ib, ic] = [a, b, c].map((w) => this.idOf(w, 'analogy'));
    const query = space.combine([{ id: ib, sign: 1 }, { id: ic, sign: 1 }, { id: ia, sign: -1 }]);
    return space.nearest(query, topN, new Set([ia, ib, ic]));
  }

  /** Accuracy on analogy questions in questions-words.txt format (gensim's evaluate_word_analogies). */
  evaluateAnalogies(text: string, options: EvaluationOptions = {}): AnalogyResult {
    return evaluateAnalogies(this.vectorSpace(), checkText('evaluateAnalogies', text), checkEvaluation('evaluateAnalogies', options));
  }

  /**
   * Spearman / Pearson correlation with human similarity scores (gensim's evaluate_word_pairs),
   * from lines `word1<delimiter>word2<delimiter>score`.
   */
  evaluateWordPairs(text: string, options: EvaluationOptions & {
    /** What separates a line's two words and its score: a non-empty string (OPTION otherwise). Default a tab. */
    delimiter?: string;
  } = {}): WordPairResult {
    return evaluateWordPairs(this.vectorSpace(), checkText('evaluateWordPairs', text), checkEvaluation('evaluateWordPairs', options));
  }

  /**
   * The vectors in word2vec's text (default) or binary format, readable by gensim and
   * word2vec.c. RANGE for a word the format cannot store (empty, or with whitespace).
   */
  toWord2Vec(options: {
    /** Write word2vec's binary format. Default false (text). */
    binary?: boolean;
  } = {}): Uint8Array {
    const binary = optionalBoolean('toWord2Vec: binary', checkOptionsObject('toWord2Vec', options).binary, false);
    const space = this.vectorSpace();
    return writeWord2Vec({ words: space.words as string[], vectors: space.vectors, dim: this.config.dim }, binary);
  }

  /** Free the training tables (WASM memory). The vectors stay queryable; training ends. */
  dispose(): void {
    if (this.tables) {
      this.detachedVectors = this.vectorSpace().vectors;
      this.releaseTables();
    }
    this.loaded = true;
  }

  private releaseTables(): void {
    if (!this.tables) return;
    orphanedTables?.unregister(this);
    this.tables.dispose();
    this.tables = undefined;
  }

  private vectorSpace(): VectorSpace {
    if (!this.vocabulary) throw new WeftError('UNSUPPORTED', 'skip-gram model: no vocabulary yet; call buildVocab or train first');
    if (!this.space) {
      const vectors = this.detachedVectors ?? this.tables!.inputVectors();
      this.space = new VectorSpace(this.vocabulary.words, vectors, this.config.dim, createMatmul(this.backend));
    }
    return this.space;
  }

  private idOf(word: string, op: string): number {
    if (typeof word !== 'string') throw new WeftError('DTYPE', `${op}: expected a word (string), got ${describe(word)}`);
    const id = this.vocabulary?.index.get(word);
    if (id === undefined) throw new WeftError('RANGE', `${op}: "${word}" is not in the vocabulary`);
    return id;
  }

  private checkTrainable(op: string): void {
    if (this.loaded) {
      throw new WeftError('UNSUPPORTED', `${op}: this model was loaded from word2vec vectors or disposed; it has no training tables`);
    }
  }

  /** A model holding vectors read from a word2vec file (query and evaluate only). */
  /** @internal weft.skipGram(options) on a backend. */
  static create(backend: ModelBackend, options?: SkipGramOptions): SkipGramModel {
    return new SkipGramModel(backend, options);
  }

  /** @internal weft.skipGram.fromWord2Vec(bytes) on a backend. */
  static fromWord2Vec(backend: ModelBackend, bytes: Uint8Array, options: { binary?: boolean } = {}): SkipGramModel {
    const binary = checkOptionsObject('fromWord2Vec', options).binary;
    if (binary !== undefined) optionalBoolean('fromWord2Vec: binary', binary, false);
    const file = readWord2Vec(bytes, binary);
    const model = new SkipGramModel(backend, { dim: file.dim, minCount: 0 });
    // file order stands for frequency order (gensim gives counts V, V-1, ...)
    model.vocabulary = new Vocabulary(file.words, Float64Array.from(file.words, (_, i) => file.words.length - i), file.words.length);
    model.frozenWords = Object.freeze(file.words.slice());
    model.detachedVectors = file.vectors;
    model.loaded = true;
    return model;
  }
}

/** A one-word string corpus is most likely a file name: say how to read a file. */
function withPathHint(err: unknown, corpus: SyncCorpus): unknown {
  if (!(err instanceof WeftError) || typeof corpus !== 'string') return err;
  const word = corpus.trim();
  if (word === '' || /\s/.test(word) || word.length > 4096) return err;
  return new WeftError(err.code, `${err.message}; the corpus string is one word: to read a file, pass { path: ${JSON.stringify(word)} }`);
}

function checkText(op: string, text: unknown): string {
  if (typeof text !== 'string') throw new WeftError('DTYPE', `${op}: expected the file's text (a string), got ${describe(text)}`);
  return text;
}

function checkEvaluation<T extends EvaluationOptions>(op: string, options: T): T {
  checkOptionsObject(op, options);
  if (options.restrictVocab !== undefined) checkInteger(`${op}: restrictVocab`, options.restrictVocab, 1);
  optionalBoolean(`${op}: caseInsensitive`, options.caseInsensitive, true);
  const delimiter = (options as { delimiter?: unknown }).delimiter;
  if (delimiter !== undefined && (typeof delimiter !== 'string' || delimiter === '')) {
    throw new WeftError('OPTION', `${op}: delimiter must be a non-empty string, got ${describe(delimiter)}`);
  }
  return options;
}
