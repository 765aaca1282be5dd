// The training driver: reads the corpus, maps words to ids (dropping out-of-vocabulary
// ones, as gensim does before windowing), packs sentences into batches of about
// `batchWords` ids and hands each batch to the backend, which does the rest
// (subsampling, windows, noise draws, SGD) in one call. Later epochs replay the first
// epoch's batches when the corpus cannot change (see replayable()). The learning rate
// decays linearly from alpha to minAlpha over all epochs' words, per sentence:
// alpha_s = alpha - (alpha - minAlpha) * (epoch + words before s / words per epoch) / epochs.
// A run resumed at epoch k (a model file saved at an epoch's end) computes the same
// alphas for epochs k.. as the run that was never stopped, so on one thread it trains
// the same bits.

import { WeftError } from '../../errors.js';
import { MAX_SENTENCE_WORDS, type SkipGramBatch, type SkipGramTables } from './kernels.js';
import { type Corpus, sentences } from './corpus.js';
import type { Vocabulary } from './vocab.js';
import { firstNonFinite } from '../../tensor.js';

/** Reported to onProgress after every batch. */
export interface TrainProgress {
  /** 1-based epoch. */
  epoch: number;
  /** Epochs of the run. */
  epochs: number;
  /** Fraction of the whole run done, 0..1. */
  progress: number;
  /** Corpus words (raw, out-of-vocabulary included) per second since train() started. */
  wordsPerSec: number;
  /** Learning rate of the last sentence trained. */
  alpha: number;
  /** Mean loss per (context, center) pair (CBOW: per center word) in this epoch so far. */
  loss: number;
  /** Milliseconds since train() started. */
  elapsedMs: number;
  /** True on the last report of an epoch. */
  endOfEpoch: boolean;
}

/** Options of SkipGramModel.train. */
export interface TrainOptions {
  /** Called after every batch (OPTION if not a function; at endOfEpoch, model.save() makes a checkpoint); default none. */
  onProgress?: (progress: TrainProgress) => void;
  /** Corpus words per epoch for the learning rate: an integer >= 1. Default: the vocabulary corpus's (pass it for other text). */
  totalWords?: number;
  /** Passes of this run: an integer in [1, 1e6]. Default: the model's epochs. */
  epochs?: number;
  /**
   * true: finish the model's unfinishedRun (on one thread, the uninterrupted run's bits).
   * false: a new run, alpha decaying from alpha to minAlpha again (gensim's train()).
   * Default: true when there is an unfinished run.
   */
  resume?: boolean;
}

/** What SkipGramModel.train resolves to. */
export interface TrainSummary {
  /** Epochs trained by this call (a resumed run: the ones left). */
  epochs: number;
  /** Raw corpus words read (all epochs). */
  words: number;
  /** Words left after subsampling (all epochs). */
  effectiveWords: number;
  /** (context, center) pairs trained; with CBOW, center words predicted from their context. */
  pairs: number;
  /** Mean pair (CBOW: center) loss of each epoch. */
  epochLoss: number[];
  /** Wall-clock time of the run, in seconds. */
  seconds: number;
  /** Raw corpus words per second over the run. */
  wordsPerSec: number;
}

export interface Schedule {
  /** Epochs of the run. */
  epochs: number;
  /** The run's first epoch to train (0-based; > 0 resumes a run). */
  firstEpoch: number;
  /** Corpus words per epoch for the learning rate. */
  totalWords: number;
  alpha: number;
  minAlpha: number;
  batchWords: number;
}

/** Sentences packed for one kernel call. */
class BatchBuilder {
  readonly ids: Int32Array;
  private readonly ends: Int32Array;
  private readonly alphas: Float32Array;
  /** Corpus words read in this epoch before each sentence (for replays). */
  private readonly wordsBefore: Float64Array;
  private length = 0;
  private count = 0;

  constructor(capacity: number) {
    this.ids = new Int32Array(Math.max(capacity, MAX_SENTENCE_WORDS));
    // a sentence has at least one id
    this.ends = new Int32Array(this.ids.length);
    this.alphas = new Float32Array(this.ids.length);
    this.wordsBefore = new Float64Array(this.ids.length);
  }

  get words(): number {
    return this.length;
  }

  /** Room for a sentence of n ids? */
  fits(n: number): boolean {
    return this.length + n <= this.ids.length;
  }

  /** Start a sentence at the current end; returns where its ids go. */
  begin(): number {
    return this.length;
  }

  commit(end: number, alpha: number, wordsBefore: number): void {
    if (end === this.length) return; // no in-vocabulary word
    this.length = end;
    this.ends[this.count] = end;
    this.alphas[this.count] = alpha;
    this.wordsBefore[this.count] = wordsBefore;
    this.count++;
  }

  /** The batch as the kernel takes it (views, valid until the next commit). */
  batch(): SkipGramBatch {
    return {
      ids: this.ids.subarray(0, this.length),
      sentenceEnds: this.ends.subarray(0, this.count),
      alphas: this.alphas.subarray(0, this.count),
      sentences: this.count,
    };
  }

  /** A copy to replay in later epochs. */
  snapshot(epochWords: number): CachedBatch {
    return {
      ids: this.ids.slice(0, this.length),
      sentenceEnds: this.ends.slice(0, this.count),
      wordsBefore: this.wordsBefore.slice(0, this.count),
      epochWords,
    };
  }

  clear(): void {
    this.length = 0;
    this.count = 0;
  }
}

/** One batch of the first epoch, kept so later epochs need not read and tokenize again. */
interface CachedBatch {
  ids: Int32Array;
  sentenceEnds: Int32Array;
  wordsBefore: Float64Array;
  /** Corpus words read in the epoch once this batch was full. */
  epochWords: number;
}

/** Ids kept for replay at most (128 MB); a larger corpus is read again every epoch. */
const REPLAY_LIMIT_WORDS = 1 << 25;

/**
 * A string, an array or a file gives the same sentences every epoch, so its ids are
 * kept from the first epoch (measured: reading and tokenizing was ~13% of an epoch on
 * the benchmark corpus). Other iterables may change between epochs (a shuffle) and are
 * read each time.
 */
function replayable(corpus: Corpus): boolean {
  return typeof corpus === 'string' || Array.isArray(corpus) || (typeof corpus === 'object' && corpus !== null && 'path' in corpus && !(Symbol.iterator in corpus) && !(Symbol.asyncIterator in corpus));
}

const now = () => performance.now();
const yieldToEventLoop = () =>
  new Promise<void>((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));
/** Let timers and I/O run (a progress display, a cancel button) this often. */
const YIELD_EVERY_MS = 50;

/** Thrown by trainEpochs when SGD diverged; the model resets its tables (SkipGramModel.train). */
export class TrainingDiverged extends WeftError {}

function diverged(epoch: number, alpha: number): TrainingDiverged {
  return new TrainingDiverged(
    'RANGE',
    `train: SGD diverged in epoch ${epoch + 1} (the loss or the weights are no longer finite) with alpha = ${alpha}; ` +
      'the model is back to its untrained initial vectors: train a model with a smaller alpha',
  );
}

/** Where a run is, for SkipGramModel's run position (model files resume from an epoch's end). */
export interface EpochHooks {
  /** Before the first batch of `epoch` (0-based): the tables leave the epoch boundary. */
  epochStart(epoch: number): void;
  /** After `epoch` trained `words` corpus words, before its endOfEpoch report. */
  epochEnd(epoch: number, words: number): void;
}

export async function trainEpochs(
  tables: SkipGramTables, vocab: Vocabulary, corpus: Corpus, schedule: Schedule,
  options: Pick<TrainOptions, 'onProgress'>, hooks: EpochHooks,
): Promise<TrainSummary> {
  const { epochs, firstEpoch, totalWords, alpha: alpha0, minAlpha } = schedule;
  const builder = new BatchBuilder(schedule.batchWords);
  const index = vocab.index;
  const started = now();
  let lastYield = started;
  let words = 0, effectiveWords = 0, pairs = 0;
  const epochLoss: number[] = [];
  let alpha = alpha0;
  let replay: CachedBatch[] | undefined = replayable(corpus) ? [] : undefined;
  let replayWords = 0;
  let replayEpochWords = 0;
  const alphaAt = (epoch: number, epochWords: number) =>
    Math.max(minAlpha, alpha0 - ((alpha0 - minAlpha) * (epoch + Math.min(1, epochWords / totalWords))) / epochs);

  for (let epoch = firstEpoch; epoch < epochs; epoch++) {
    hooks.epochStart(epoch);
    let epochWords = 0, lossSum = 0, epochPairs = 0;
    const report = (endOfEpoch: boolean) => {
      const elapsedMs = now() - started;
      options.onProgress?.({
        epoch: epoch + 1,
        epochs,
        progress: Math.min(1, (epoch + Math.min(1, epochWords / totalWords)) / epochs),
        wordsPerSec: elapsedMs > 0 ? ((words + epochWords) * 1000) / elapsedMs : 0,
        alpha,
        loss: epochPairs > 0 ? lossSum / epochPairs : 0,
        elapsedMs,
        endOfEpoch,
      });
    };
    const train = async (batch: SkipGramBatch) => {
      const stats = tables.train(batch);
      if (!Number.isFinite(stats.lossSum)) throw diverged(epoch, alpha0);
      lossSum += stats.lossSum;
      epochPairs += stats.pairs;
      effectiveWords += stats.keptWords;
      report(false);
      if (now() - lastYield > YIELD_EVERY_MS) {
        await yieldToEventLoop();
        lastYield = now();
      }
    };

    if (epoch > firstEpoch && replay) {
      for (const cached of replay) {
        const alphas = Float32Array.from(cached.wordsBefore, (before) => alphaAt(epoch, before));
        alpha = alphas[alphas.length - 1];
        epochWords = cached.epochWords;
        await train({ ids: cached.ids, sentenceEnds: cached.sentenceEnds, alphas, sentences: alphas.length });
      }
      epochWords = replayEpochWords;
    } else {
      const flush = async () => {
        if (builder.words === 0) return;
        if (replay) {
          replayWords += builder.words;
          if (replayWords > REPLAY_LIMIT_WORDS) replay = undefined;
          else replay.push(builder.snapshot(epochWords));
        }
        await train(builder.batch());
        builder.clear();
      };
      for await (const sentence of sentences(corpus)) {
        alpha = alphaAt(epoch, epochWords);
        if (!builder.fits(sentence.length)) await flush();
        let end = builder.begin();
        for (const token of sentence) {
          const id = index.get(token);
          if (id !== undefined) builder.ids[end++] = id;
        }
        builder.commit(end, alpha, epochWords);
        epochWords += sentence.length;
      }
      await flush();
      replayEpochWords = epochWords;
    }
    if (epochWords === 0) {
      throw new WeftError(
        'UNSUPPORTED',
        `corpus: epoch ${epoch + 1} read no words; a one-shot iterator (e.g. a generator) cannot be read once per epoch, pass an array or a re-iterable object`,
      );
    }
    // the loss can stay finite while a weight runs off to infinity (sigmoid saturates): check them all
    if (firstNonFinite(tables.inputVectors()) >= 0 || firstNonFinite(tables.outputVectors()) >= 0 || firstNonFinite(tables.treeVectors()) >= 0) {
      throw diverged(epoch, alpha0);
    }
    hooks.epochEnd(epoch, epochWords);
    report(true);
    words += epochWords;
    pairs += epochPairs;
    epochLoss.push(epochPairs > 0 ? lossSum / epochPairs : 0);
  }
  const seconds = (now() - started) / 1000;
  return { epochs: epochs - firstEpoch, words, effectiveWords, pairs, epochLoss, seconds, wordsPerSec: seconds > 0 ? words / seconds : 0 };
}
