// weft.skipGram(): the model users hold. Options and their defaults follow the
// API contract (word2vec / gensim names in the comments); the vocabulary and the
// training loop live in vocab.ts and trainer.ts, the tables in the backend.

import { WeftError, describe } from '../../errors.js';
import { Rng, checkSeed } from '../../rng.js';
import type { Tensor } from '../../tensor.js';
import type { OpBackend } from '../op.js';
import { type SimilarityKernels, type SkipGramKernels, type SkipGramLoss, type SkipGramTables, type Word2VecArchitecture, trainsOutputVectors } from './kernels.js';

/** What a model needs from a backend: its training tables and a similarity table (for queries). */
type ModelBackend = OpBackend<SkipGramKernels & SimilarityKernels>;
import { checkChoice, checkInteger, checkNumber, checkOptionsObject, optionalBoolean } from '../../args.js';
import {
  type Corpus, type CorpusFile, type Sentence, type SyncCorpus, checkCorpus, isReiterable, isSyncCorpus, sentences, syncSentences,
} from './corpus.js';
import { type VocabCounts, VocabCounter, Vocabulary, formatVocab, vocabularyFromCounts } from './vocab.js';
import { type TrainedTables, buildSetup, setupFrom } from './setup.js';
import { type TrainOptions, type TrainProgress, type TrainSummary, TrainingDiverged, trainEpochs } from './trainer.js';
import { type ModelFileHeader, type TrainingRun, readModelFile, writeModelFile } from './model_file.js';
import { type Similar, VectorSpace } from './similarity.js';
import {
  type MostSimilarCosmulOptions, type MostSimilarOptions, type QueryTerm, doesntMatch, mostSimilar, mostSimilarCosmul, nSimilarity, wordId,
} from './queries.js';
import {
  type AnalogyMethod, type AnalogyOptions, type AnalogyResult, type EvaluationOptions, type WordPairResult, evaluateAnalogies, evaluateWordPairs,
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
   * share them among its context words: the window trains as two small matrix products, each
   * context and output row updated once per window (Ji et al. 2016; BlazingText's
   * batch_skipgram) instead of once per pair; about 1.5x the per-pair loop's words/s on one
   * thread. Default: true when training on more
   * than one thread, where threads writing the same frequent output rows at every pair slow each
   * other down; false on one thread (word2vec.c's per-pair draws). OPTION if true with another
   * loss, hs, negative: 0 or CBOW.
   */
  shareNegatives?: boolean;
}

/** Options of weft.skipGram.load. */
export interface SkipGramLoadOptions {
  /** Threads the model trains on (as SkipGramOptions.workers). Default: the file's. */
  workers?: number;
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

/** The options a Config was resolved from, defaults filled in; the ones left unset (maxVocab, batchWords, workers, shareNegatives) left out. */
function configOptions(config: Config): SkipGramOptions {
  const options: SkipGramOptions = { ...config };
  for (const key of ['maxVocab', 'batchWords', 'shareNegatives'] as const) if (config[key] === undefined) delete options[key];
  if (config.workers === Infinity) delete options.workers;
  return options;
}

/** The option names a model file stores (every SkipGramOptions field). */
const FILE_OPTIONS: readonly (keyof Config)[] = [
  'architecture', 'hs', 'dim', 'window', 'negative', 'minCount', 'sample', 'alpha', 'minAlpha', 'epochs', 'seed', 'loss',
  'maxVocab', 'numSampled', 'batchWords', 'workers', 'shareNegatives',
];

/** A model file's options (null: unset) checked as weft.skipGram's; errors name the file. */
function configFromFile(stored: Record<string, unknown>, workers: number | undefined): Config {
  const options: Record<string, unknown> = {};
  for (const key of FILE_OPTIONS) {
    if (!Object.hasOwn(stored, key)) throw new WeftError('SHAPE', `load: the header's options have no "${key}"`);
    if (stored[key] !== null) options[key] = stored[key];
  }
  if (workers !== undefined) options.workers = workers;
  try {
    return checkConfig(options as SkipGramOptions);
  } catch (err) {
    if (!(err instanceof WeftError)) throw err;
    throw new WeftError(err.code, `load: the file's options: ${err.message.replace(/^skipGram: /, '')}`);
  }
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
  /** False for vectors read from a word2vec file, whose counts are made up. */
  private countsKnown = true;
  /** Epochs trained and corpus words they read, over the model's life (model files keep them). */
  private trainedEpochs = 0;
  private trainedWords = 0;
  /** The run a train() stopped in at an epoch's end (a checkpoint), which train({ resume }) finishes. */
  private run?: TrainingRun;
  /** False while an epoch trains: the tables are between epochs only at an epoch's end. */
  private atEpochBoundary = true;

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

  /** The model's options, defaults filled in (maxVocab, batchWords, workers, shareNegatives only if given). */
  get options(): SkipGramOptions {
    return configOptions(this.config);
  }

  /** Epochs trained over the model's life (model files keep it). */
  get epochsTrained(): number {
    return this.trainedEpochs;
  }

  /** Corpus words those epochs read. */
  get wordsTrained(): number {
    return this.trainedWords;
  }

  /** The run train() stopped in at an epoch's end, for resume; else undefined. */
  get unfinishedRun(): Readonly<TrainingRun> | undefined {
    return this.run && { ...this.run };
  }

  /**
   * Count words and allocate the tables (initial vectors uniform in ±1/dim, as gensim 4).
   * Synchronous for a string or an iterable; a Promise for { path } or an async iterable.
   *
   * `{ counts }` takes the counts instead of reading a corpus (gensim's
   * build_vocab_from_freq; word2vec.c's -read-vocab with weft.skipGram.readVocab(text)): a
   * Map, [word, count] pairs or an object. minCount and maxVocab apply, equal counts keep
   * the order given, and `</s>` (word2vec.c's end-of-line token) is the sentence count that
   * saveVocab writes back, not a word. The learning rate then decays over the sum of the
   * counts per epoch (word2vec.c's train_words) unless train gets `totalWords`.
   * Errors: DTYPE (a count or word of the wrong type), RANGE (a negative or fractional
   * count, a word given twice or containing whitespace, minCount removing every word),
   * SHAPE (no words).
   */
  buildVocab(source: { counts: VocabCounts }): this;
  buildVocab(corpus: string | Iterable<Sentence>): this;
  buildVocab(corpus: CorpusFile | AsyncIterable<Sentence>): Promise<this>;
  buildVocab(corpus: Corpus | { counts: VocabCounts }): this | Promise<this>;
  buildVocab(corpus: Corpus | { counts: VocabCounts }): this | Promise<this> {
    if (this.training) throw new WeftError('UNSUPPORTED', 'buildVocab: this model is training (wait for train to finish)');
    if (isCountsSource(corpus)) {
      this.checkTrainable('buildVocab');
      this.installVocabulary(vocabularyFromCounts(corpus.counts, this.config.minCount, this.config.maxVocab));
      return this;
    }
    return this.countVocab(corpus);
  }

  /**
   * The vocabulary as word2vec.c's -save-vocab writes it: `word count` lines by descending
   * count, after a first line `</s> <sentences>` (word2vec.c's end-of-line token, which
   * it counts once per line: weft counts the non-empty lines, a line cut at 10,000 words
   * once per piece). gensim reads it as `fvocab` of load_word2vec_format; readVocab and
   * buildVocab({ counts }) read it back to the same vocabulary. UNSUPPORTED before a
   * vocabulary exists and for vectors loaded from a word2vec file (they have no counts).
   */
  saveVocab(): string {
    if (!this.vocabulary) throw new WeftError('UNSUPPORTED', 'saveVocab: no vocabulary yet; call buildVocab or train first');
    if (!this.countsKnown) throw new WeftError('UNSUPPORTED', 'saveVocab: this model was loaded from word2vec vectors, which carry no word counts');
    return formatVocab(this.vocabulary);
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

  /** Fresh tables for `vocab`: initial vectors from the seed, or `trained` ones (a model file's). */
  private installVocabulary(vocab: Vocabulary, trained?: TrainedTables): void {
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
    const setup = trained ? setupFrom(vocab, config, trained) : buildSetup(vocab, config, new Rng(config.seed));
    const tables = this.backend.kernels.skipGramTables(setup);
    this.trainedEpochs = 0;
    this.trainedWords = 0;
    this.run = undefined;
    this.releaseTables();
    this.tables = tables;
    orphanedTables?.register(this, tables, this);
    this.vocabulary = vocab;
    this.frozenWords = Object.freeze(vocab.words.slice());
    this.detachedVectors = undefined;
    this.dropSpace();
  }

  /** Forget the cached unit vectors (and free their backend table): the vectors changed. */
  private dropSpace(): void {
    this.space?.releaseTable();
    this.space = undefined;
  }

  /**
   * Train for `epochs` passes (building the vocabulary first if needed). Deterministic
   * for a seed; onProgress gets { epoch, progress, wordsPerSec, alpha, loss } per batch.
   * A trained or loaded model trains on: a new run over `corpus` (gensim's train(): the
   * vocabulary stays, words not in it are skipped, the learning rate decays from alpha to
   * minAlpha over the run again), or with `resume` the rest of an unfinished run.
   */
  async train(corpus: Corpus, options: TrainOptions = {}): Promise<TrainSummary> {
    this.checkTrainable('train');
    checkCorpus(corpus);
    checkOptionsObject('train', options);
    if (options.onProgress !== undefined && typeof options.onProgress !== 'function') {
      throw new WeftError('OPTION', `train: onProgress must be a function, got ${describe(options.onProgress)}`);
    }
    if (options.totalWords !== undefined) checkInteger('train: totalWords', options.totalWords, 1);
    if (options.epochs !== undefined) checkInteger('train: epochs', options.epochs, 1, 1e6);
    const resume = optionalBoolean('train: resume', options.resume, this.run !== undefined);
    if (resume && !this.run) {
      throw new WeftError('UNSUPPORTED', 'train: resume: this model holds no unfinished run');
    }
    if (resume && (options.epochs !== undefined || options.totalWords !== undefined)) {
      throw new WeftError('OPTION', `train: resume continues a run of ${this.run!.epochs} epochs; leave out epochs and totalWords, or pass resume: false`);
    }
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
        // queries from onProgress see the vectors of the batches trained so far
        const onProgress = options.onProgress && ((p: TrainProgress) => {
          this.dropSpace();
          options.onProgress!(p);
        });
        const run: TrainingRun = this.run && resume ? this.run
          : { epochs: options.epochs ?? this.config.epochs, epochsDone: 0, totalWords: options.totalWords ?? this.vocabulary!.corpusWords };
        const schedule = { ...this.config, batchWords, epochs: run.epochs, firstEpoch: run.epochsDone, totalWords: run.totalWords };
        return await trainEpochs(tables, this.vocabulary!, corpus, schedule, { onProgress }, {
          epochStart: () => {
            this.run = undefined; // mid-epoch: nothing to resume from
            this.atEpochBoundary = false;
          },
          epochEnd: (epoch, words) => {
            this.trainedEpochs++;
            this.trainedWords += words;
            this.run = epoch + 1 < run.epochs ? { ...run, epochsDone: epoch + 1 } : undefined;
            this.atEpochBoundary = true;
          },
        });
      } catch (err) {
        // never leave NaN vectors behind: back to the untrained initial state
        if (err instanceof TrainingDiverged) this.installVocabulary(this.vocabulary!);
        throw err;
      }
    } finally {
      this.dropSpace(); // the vectors changed
      this.training = false;
      this.atEpochBoundary = true;
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

  /**
   * Cosine similarity of two words (gensim's similarity; 0 when either vector is zero).
   * RANGE for a word not in the vocabulary, DTYPE for a non-string.
   */
  similarity(a: string, b: string): number {
    const space = this.vectorSpace();
    return space.similarity(wordId(space, 'similarity', 'a', a), wordId(space, 'similarity', 'b', b));
  }

  /**
   * The words closest by cosine, best first, as gensim's most_similar:
   * `mostSimilar({ positive, negative, topN, restrictVocab })` compares every word with the
   * normalised sum of the positive terms minus the negative ones (a word counts as its unit
   * vector, a vector as given); `mostSimilar(word | vector, topN)` is `{ positive: [it], topN }`.
   * The query's words are never returned (its vectors may be: a word's own vector finds
   * it at cosine 1). topN (default 10) may exceed the words there are; restrictVocab
   * (default: all) searches only the first, most frequent, words. Equal cosines keep
   * vocabulary order. The search is one mat-vec on the backend over unit vectors cached
   * per model (built on the first search, dropped when training changes the vectors).
   * Errors: RANGE for an unknown word, a word whose vector is zero, a zero or non-finite
   * vector, terms that cancel out, topN or restrictVocab < 1 (gensim returns [] for
   * topn < 1); SHAPE for a vector of the wrong length or no terms at all; DTYPE for a
   * term that is neither a word nor numbers; OPTION for an unknown option or a
   * non-integer topN. UNSUPPORTED before a vocabulary exists.
   */
  mostSimilar(options: MostSimilarOptions): Similar;
  mostSimilar(query: QueryTerm, topN?: number): Similar;
  mostSimilar(query: QueryTerm | MostSimilarOptions, topN?: number): Similar {
    const space = this.vectorSpace();
    if (isOptionsBag(query)) {
      if (topN !== undefined) throw new WeftError('OPTION', 'mostSimilar: with an options object, topN goes in it ({ positive, negative, topN, restrictVocab })');
      return mostSimilar(space, query);
    }
    return mostSimilar(space, { positive: [query], topN: topN ?? 10 });
  }

  /**
   * The words closest by 3CosMul (Levy & Goldberg 2014), best first, as gensim's
   * most_similar_cosmul: each word scores Π_p (1 + cos(w, p)) / 2 / (Π_n (1 + cos(w, n)) / 2 + 1e-6)
   * over the positive terms p and negative terms n (cosines shifted to [0, 1]; without
   * negative terms the denominator is 1 + 1e-6). `positive` needs at least one term; topN
   * (default 10), restrictVocab and the exclusion of the query's words as mostSimilar.
   * Differences from gensim 4.2: a vector term is normalised (gensim takes its dot products
   * as they are, a cosine only for unit vectors), and restrictVocab is honoured (4.2 ignores
   * it). All the terms' cosines come from one GEMM on the backend. Errors as mostSimilar;
   * SHAPE when positive is empty.
   */
  mostSimilarCosmul(options: MostSimilarCosmulOptions): Similar {
    return mostSimilarCosmul(this.vectorSpace(), options);
  }

  /**
   * The word that does not go with the others (gensim's doesnt_match): the one least similar
   * to the normalised mean of the words' unit vectors; of equal ones, the first in string
   * order (gensim sorts (similarity, word) pairs). Errors: RANGE for an unknown word (gensim
   * skips it with a warning) or a word whose vector is zero, SHAPE for an empty list, DTYPE
   * for a non-list or a non-string.
   */
  doesntMatch(words: readonly string[]): string {
    return doesntMatch(this.vectorSpace(), words);
  }

  /**
   * Cosine of the mean vectors of two lists of words (gensim's n_similarity, which averages
   * the raw vectors, not unit ones). Errors: RANGE for an unknown word (gensim skips it) or a
   * mean that is zero, SHAPE for an empty list, DTYPE for a non-list or a non-string.
   */
  nSimilarity(wordsA: readonly string[], wordsB: readonly string[]): number {
    return nSimilarity(this.vectorSpace(), wordsA, wordsB);
  }

  /**
   * Words closest to b - a + c (3CosAdd on unit vectors), excluding a, b and c: "a is to b as
   * c is to ?". `mostSimilar({ positive: [b, c], negative: [a], topN })`; topN default 1.
   */
  analogy(a: string, b: string, c: string, topN = 1): Similar {
    return mostSimilar(this.vectorSpace(), { positive: [b, c], negative: [a], topN }, 'analogy');
  }

  /**
   * Accuracy on analogy questions in questions-words.txt format, gensim's
   * evaluate_word_analogies conventions (restrictVocab 300000, case-insensitive, questions
   * with unknown words skipped). `method`: '3cosadd' (default, gensim's) or '3cosmul' (each
   * question answered as gensim's most_similar_cosmul(positive=[b, c], negative=[a]) would:
   * gensim's evaluation has no 3CosMul). Questions are scored in batches of GEMMs.
   */
  evaluateAnalogies(text: string, options: AnalogyOptions = {}): AnalogyResult {
    const checked = checkEvaluation('evaluateAnalogies', options);
    checkChoice('evaluateAnalogies: method', checked.method, ANALOGY_METHODS, '3cosadd');
    return evaluateAnalogies(this.vectorSpace(), checkText('evaluateAnalogies', text), checked);
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

  /**
   * The whole training state as a model file (README "Model files"), for weft.skipGram.load.
   * UNSUPPORTED before a vocabulary, mid-epoch (from onProgress: only at endOfEpoch), and
   * for word2vec vectors or a disposed model.
   */
  save(): Uint8Array {
    if (!this.vocabulary) throw new WeftError('UNSUPPORTED', 'save: no vocabulary yet; call buildVocab or train first');
    this.checkTrainable('save');
    if (this.training && !this.atEpochBoundary) {
      throw new WeftError('UNSUPPORTED', 'save: mid-epoch; save from onProgress at endOfEpoch');
    }
    const tables = this.tables!, vocab = this.vocabulary;
    const input = tables.inputVectors(), output = tables.outputVectors(), tree = tables.treeVectors();
    const { dim } = this.config;
    const stored: Record<string, unknown> = {};
    for (const key of FILE_OPTIONS) stored[key] = this.config[key] ?? null;
    if (this.config.workers === Infinity) stored.workers = null;
    const header: ModelFileHeader = {
      options: stored,
      vocab: { words: vocab.words, counts: Array.from(vocab.counts), corpusWords: vocab.corpusWords, sentences: vocab.sentences },
      trained: { epochs: this.trainedEpochs, words: this.trainedWords },
      run: this.run ?? null,
      rngState: Array.from(tables.rngState()),
      arrays: { input: [vocab.size, dim], output: [output.length / dim, dim], tree: [tree.length / dim, dim] },
    };
    return writeModelFile({ header, input, output, tree });
  }

  /**
   * Free the model's WASM memory: the training tables and the unit vectors queries use.
   * The vectors stay queryable (a later search copies its unit vectors in again, held until
   * the next dispose or until the model is collected); training ends.
   */
  dispose(): void {
    if (this.tables) {
      this.detachedVectors = this.vectorSpace().vectors;
      this.releaseTables();
    }
    this.space?.releaseTable();
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
      this.space = new VectorSpace(this.vocabulary.words, this.vocabulary.index, vectors, this.config.dim, this.backend.kernels);
    }
    return this.space;
  }

  private checkTrainable(op: string): void {
    if (this.loaded) {
      throw new WeftError('UNSUPPORTED', `${op}: this model was loaded from word2vec vectors or disposed; it has no training tables`);
    }
  }

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
    model.countsKnown = false;
    return model;
  }

  /** @internal weft.skipGram.load(bytes) on a backend. */
  static load(backend: ModelBackend, bytes: Uint8Array, options: SkipGramLoadOptions = {}): SkipGramModel {
    const { workers } = checkOptionsObject('load', options);
    if (workers !== undefined) checkInteger('load: workers', workers, 1, 1024);
    let config: Config | undefined;
    const file = readModelFile(bytes, (header) => {
      config = configFromFile(header.options, workers);
      const size = header.vocab.words.length, { dim } = config;
      return { input: [size, dim], output: [trainsOutputVectors(config) ? size : 0, dim], tree: [config.hs ? size - 1 : 0, dim] };
    });
    const { vocab, trained, run } = file.header;
    const model = new SkipGramModel(backend, configOptions(config!));
    const vocabulary = new Vocabulary(vocab.words, Float64Array.from(vocab.counts), vocab.corpusWords, vocab.sentences);
    try {
      model.installVocabulary(vocabulary, {
        inputVectors: file.input, outputVectors: file.output, treeVectors: file.tree, rngState: Uint32Array.from(file.header.rngState),
      });
    } catch (err) {
      if (!(err instanceof WeftError)) throw err;
      throw new WeftError(err.code, `load: the file's vocabulary: ${err.message}`);
    }
    model.trainedEpochs = trained.epochs;
    model.trainedWords = trained.words;
    model.run = run ?? undefined;
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

const ANALOGY_METHODS: readonly AnalogyMethod[] = ['3cosadd', '3cosmul'];

/** mostSimilar's options form: a plain object, not a vector (an array, a typed array or anything with a length). */
function isOptionsBag(value: unknown): value is MostSimilarOptions {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value) &&
    typeof (value as { length?: unknown }).length !== 'number';
}

/** buildVocab({ counts }): counts given instead of a corpus. */
function isCountsSource(value: unknown): value is { counts: VocabCounts } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.hasOwn(value, 'counts');
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
