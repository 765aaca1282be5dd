// WASM side of the skip-gram trainer: the model tables live in long-lived heap
// blocks (instance.heap.alloc) for the model's lifetime and are freed by dispose();
// each batch is copied in through a call and trained by one kernel call (skipGramTrain).
// Vector rows are padded to a multiple of 4 floats (aligned f32x4 loads, no tails).
// On more than one thread (Hogwild) each thread has its own generator state, scratch and
// stats row; thread 0 continues the setup's generator, so one thread is reproducible.

import {
  ARCHITECTURE_CODE, LOSS_CODE, MAX_SENTENCE_WORDS, sharesNegatives, trainsOutputVectors,
} from '../../ops/skipgram/kernels.js';
import type { SkipGramBatch, SkipGramBatchStats, SkipGramSetup, SkipGramTables } from '../../ops/skipgram/kernels.js';
import { WeftError } from '../../errors.js';
import type { WasmInstance } from './call.js';
import { streamState } from '../../rng.js';

type Typed = Float32Array | Float64Array | Int32Array | Uint32Array;

class WasmSkipGramTables implements SkipGramTables {
  private readonly blocks: number[] = [];
  private readonly stride: number;
  private readonly syn0: number;
  private readonly syn1: number;
  /** Rows of syn1 (0 when hierarchical softmax trains alone) and of the tree's inner-node vectors (V - 1 with hs, else 0). */
  private readonly outputRows: number;
  private readonly treeRows: number;
  private readonly tree: number;
  private readonly pathStarts: number;
  private readonly paths: number;
  private readonly keepThreshold: number;
  private readonly aliasEntries: number;
  private readonly noiseProbability: number;
  private readonly sigmoidTable: number;
  private readonly lossTable: number;
  private readonly rng: number;
  private readonly stats: number;
  private readonly scratch: number;
  /** Threads a batch trains on at most (each has a generator state, a stats row and scratch). */
  readonly threads: number;
  private disposed = false;

  constructor(private readonly instance: WasmInstance, private readonly setup: SkipGramSetup) {
    const { vocabSize, dim } = setup;
    this.stride = (dim + 3) & ~3;
    this.threads = Math.max(1, Math.min(setup.workers, instance.threads));
    try {
      const rowsBytes = vocabSize * this.stride * 4;
      this.outputRows = trainsOutputVectors(setup) ? vocabSize : 0;
      this.treeRows = setup.hs ? vocabSize - 1 : 0;
      const outputBytes = this.outputRows * this.stride * 4, treeBytes = this.treeRows * this.stride * 4;
      this.syn0 = this.alloc(rowsBytes, 'skip-gram input vectors');
      this.syn1 = outputBytes > 0 ? this.alloc(outputBytes, 'skip-gram output vectors') : 0;
      this.tree = treeBytes > 0 ? this.alloc(treeBytes, 'skip-gram Huffman tree vectors') : 0;
      this.pathStarts = setup.treeOffsets ? this.copyIn(setup.treeOffsets, 'skip-gram Huffman path offsets') : 0;
      this.paths = setup.treePaths ? this.copyIn(setup.treePaths, 'skip-gram Huffman paths') : 0;
      this.keepThreshold = this.copyIn(setup.keepThreshold, 'skip-gram subsampling table');
      this.aliasEntries = this.copyIn(setup.aliasEntries, 'skip-gram noise alias table');
      this.noiseProbability = this.copyIn(setup.noiseProbability, 'skip-gram noise probabilities');
      this.sigmoidTable = this.copyIn(setup.sigmoidTable, 'skip-gram sigmoid table');
      this.lossTable = this.copyIn(setup.minusLogSigmoidTable, 'skip-gram loss table');
      // a 64-byte line per thread (16 words, 8 f64) for its generator state and its stats
      // (after a line for the kernel's sentence counter)
      const rngStates = new Uint32Array(16 * this.threads);
      rngStates.set(setup.rngState);
      for (let t = 1; t < this.threads; t++) rngStates.set(streamState(setup.rngState, t), 16 * t);
      this.rng = this.copyIn(rngStates, 'skip-gram generator states');
      this.stats = this.alloc(64 * (this.threads + 1), 'skip-gram stats');
      const scratchBytes = 4 * instance.exports.skipGramScratchFloats({
        loss: LOSS_CODE[setup.loss], vocabSize, dim: this.stride, numSampled: setup.numSampled,
        maxSentence: MAX_SENTENCE_WORDS, negative: setup.negative, threads: this.threads,
      });
      this.scratch = this.alloc(scratchBytes, 'skip-gram scratch');
      // the heap reuses freed blocks: zero everything, syn0's row padding included, which the
      // kernel reads (as 0) in its whole-stride f32x4 loops; a freed block of a diverged model
      // held NaN there and made the next model diverge
      this.bytes(this.syn0, rowsBytes).fill(0);
      if (this.syn1) this.bytes(this.syn1, outputBytes).fill(0);
      if (this.tree) this.bytes(this.tree, treeBytes).fill(0);
      this.bytes(this.scratch, scratchBytes).fill(0);
      this.writeRows(this.syn0, setup.inputVectors, vocabSize);
      if (setup.outputVectors && this.syn1) this.writeRows(this.syn1, setup.outputVectors, this.outputRows);
      if (setup.treeVectors && this.tree) this.writeRows(this.tree, setup.treeVectors, this.treeRows);
    } catch (err) {
      this.dispose();
      throw err;
    }
  }

  private alloc(bytes: number, what: string): number {
    const address = this.instance.heap.alloc(bytes, what);
    this.blocks.push(address);
    return address;
  }

  private copyIn(data: Typed, what: string): number {
    const address = this.alloc(data.byteLength, what);
    this.bytes(address, data.byteLength).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return address;
  }

  /** A view valid until the next allocation. */
  private bytes(address: number, count: number): Uint8Array {
    return new Uint8Array(this.instance.memory.buffer, address, count);
  }

  private writeRows(address: number, data: Float32Array, rows: number): void {
    const { dim } = this.setup;
    const view = new Float32Array(this.instance.memory.buffer, address, rows * this.stride);
    for (let v = 0; v < rows; v++) view.set(data.subarray(v * dim, (v + 1) * dim), v * this.stride);
  }

  private readRows(address: number, rows: number): Float32Array {
    this.checkLive();
    const { dim } = this.setup;
    const view = new Float32Array(this.instance.memory.buffer, address, rows * this.stride);
    const out = new Float32Array(rows * dim);
    for (let v = 0; v < rows; v++) out.set(view.subarray(v * this.stride, v * this.stride + dim), v * dim);
    return out;
  }

  train(batch: SkipGramBatch): SkipGramBatchStats {
    this.checkLive();
    const { instance, setup } = this;
    return instance.call((call) => {
      new Float64Array(instance.memory.buffer, this.stats, 8 * (this.threads + 1)).fill(0);
      call.run('skipGramTrain', {
        architecture: ARCHITECTURE_CODE[setup.architecture], loss: LOSS_CODE[setup.loss], hs: +setup.hs,
        vocabSize: setup.vocabSize, dim: this.stride, window: setup.window, negative: setup.negative, numSampled: setup.numSampled,
        syn0: this.syn0, syn1: this.syn1, treeVectors: this.tree, pathStarts: this.pathStarts, paths: this.paths,
        keepThreshold: this.keepThreshold, aliasEntries: this.aliasEntries,
        noiseProbability: this.noiseProbability, sigmoidTable: this.sigmoidTable, lossTable: this.lossTable,
        rng: this.rng, scratch: this.scratch, maxSentence: MAX_SENTENCE_WORDS,
        ids: call.input(batch.ids, 'skip-gram batch ids'),
        sentenceEnds: call.input(batch.sentenceEnds, 'skip-gram batch sentence ends'),
        alphas: call.input(batch.alphas, 'skip-gram batch learning rates'),
        sentences: batch.sentences, stats: this.stats, shareNegatives: +sharesNegatives(setup, this.threads),
      }, this.work(batch), this.threads);
      const stats = new Float64Array(instance.memory.buffer, this.stats, 8 * (this.threads + 1));
      const sums = { lossSum: 0, pairs: 0, keptWords: 0 };
      for (let line = 8; line < stats.length; line += 8) {
        sums.lossSum += stats[line];
        sums.pairs += stats[line + 1];
        sums.keptWords += stats[line + 2];
      }
      return sums;
    });
  }

  /** About the flops of a batch: per word, ~window pairs each touching their output rows (and tree path) twice. */
  private work(batch: SkipGramBatch): number {
    const { window, negative, numSampled, loss, vocabSize, hs } = this.setup;
    const rows = (loss === 'negative' ? negative + 1 : loss === 'sampled-softmax' ? numSampled + 1 : vocabSize) + (hs ? Math.log2(vocabSize) : 0);
    return batch.ids.length * window * rows * 4 * this.stride;
  }

  inputVectors(): Float32Array {
    return this.readRows(this.syn0, this.setup.vocabSize);
  }

  outputVectors(): Float32Array {
    return this.readRows(this.syn1, this.outputRows);
  }

  treeVectors(): Float32Array {
    return this.readRows(this.tree, this.treeRows);
  }

  rngState(): Uint32Array {
    this.checkLive();
    return new Uint32Array(this.instance.memory.buffer, this.rng, 4).slice();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const address of this.blocks) this.instance.heap.free(address);
    this.blocks.length = 0;
  }

  private checkLive(): void {
    if (this.disposed) throw new WeftError('UNSUPPORTED', 'skip-gram model: its tables were disposed');
  }
}

export function skipGramTables(instance: WasmInstance, setup: SkipGramSetup): SkipGramTables {
  return new WasmSkipGramTables(instance, setup);
}
