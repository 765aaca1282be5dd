// weft.softmax: the softmax family: cross-entropy, the exact softmax over V classes
// (the O(N·V·h) baseline), TensorFlow-style sampled softmax, word2vec negative sampling
// and word2vec hierarchical softmax (over a Huffman tree prepared by huffmanTree).
// Validation and sampling happen here, once, for both backends: candidates are
// drawn in JS from the shared generator (O(k) per call), the touched weight rows
// are gathered into a compact [R, h] table, and the kernel sees only that table,
// so a call costs O(N·k·h) whatever V is.
//
// Shapes: N rows (batch), h hidden size, V classes; input [N, h], weights [V, h]
// (the nn.Linear layout: logit[i, v] = input[i] . weights[v] + bias[v]).
// Every loss is the mean over the N rows and every gradient is of that mean.

import { WeftError, describe } from '../errors.js';
import { Rng, checkSeed } from '../rng.js';
import { Tensor, checkElementCount, checkTensor } from '../tensor.js';
import { checkArgs, checkChoice, checkIds, checkInteger, checkNumber, optionalBoolean } from '../args.js';
import { bindOp, stageFinite, type Call, type OpBackend, type Staged } from './op.js';
import {
  LogUniformSampler, Sampler, UniformSampler, WeightedSampler, expectedCount, sampleUniqueCandidates, unigramWeights,
} from '../sampling.js';
import { type HuffmanTree, PreparedHuffmanTree, huffmanTree } from '../huffman.js';

// ---- kernel interface ---------------------------------------------------------

export interface CrossEntropyProblem {
  /** [batch, classes] */
  logits: Staged;
  targets: Int32Array;
  batch: number;
  classes: number;
  /** 1 / batch: the gradient is of the mean loss. */
  scale: number;
}

export interface FullSoftmaxProblem {
  /** [batch, hidden] */
  input: Staged;
  /** [classes, hidden] */
  weights: Staged;
  /** [classes] */
  bias?: Staged;
  targets: Int32Array;
  batch: number;
  classes: number;
  hidden: number;
  scale: number;
}

/**
 * Sampled softmax on a compact table of the R touched rows: rows [0, numSampled)
 * are the shared candidates in draw order, the others the targets not among them.
 */
export interface SampledSoftmaxProblem {
  input: Staged;
  /** [numRows, hidden] */
  rowWeights: Staged;
  /** [numRows] */
  rowBias?: Staged;
  /** [batch]: row of each target in rowWeights. */
  targetSlot: Int32Array;
  /** [batch]: log Q of each target (0 without the correction). */
  logQTrue: Staged;
  /** [numSampled]: log Q of each candidate. */
  logQSampled: Staged;
  removeAccidentalHits: boolean;
  batch: number;
  hidden: number;
  numSampled: number;
  numRows: number;
  scale: number;
}

/** Negative sampling on a compact table of the R touched rows. */
export interface NegativeSamplingProblem {
  input: Staged;
  rowWeights: Staged;
  /** [batch] */
  targetSlot: Int32Array;
  /** [batch, negative]: a negative equal to its row's target is skipped (word2vec). */
  negativeSlot: Int32Array;
  batch: number;
  hidden: number;
  negative: number;
  numRows: number;
  scale: number;
}

/** Hierarchical softmax on a compact table of the R inner-node rows the paths touch. */
export interface HierarchicalSoftmaxProblem {
  input: Staged;
  /** [numRows, hidden] */
  rowWeights: Staged;
  /** [batch + 1]: row i's path entries are [pathStarts[i], pathStarts[i + 1]). */
  pathStarts: Int32Array;
  /** Root first, each (compact row << 1) | code. */
  pathEntries: Int32Array;
  batch: number;
  hidden: number;
  numRows: number;
  scale: number;
}

export interface RowLosses {
  /** Loss of each row (before the mean). */
  rowLoss: Float32Array;
}

export interface SoftmaxKernels {
  softmaxCrossEntropy(call: Call, p: CrossEntropyProblem): RowLosses & { dlogits: Float32Array };
  softmaxFull(call: Call, p: FullSoftmaxProblem): RowLosses & { dInput: Float32Array; dWeights: Float32Array; dBias?: Float32Array };
  softmaxSampled(call: Call, p: SampledSoftmaxProblem): RowLosses & { dInput: Float32Array; dRows: Float32Array; dBiasRows?: Float32Array };
  softmaxNegativeSampling(call: Call, p: NegativeSamplingProblem): RowLosses & { dInput: Float32Array; dRows: Float32Array };
  softmaxHierarchical(call: Call, p: HierarchicalSoftmaxProblem): RowLosses & { dInput: Float32Array; dRows: Float32Array };
}

// ---- public arguments and results ---------------------------------------------

/**
 * The distribution candidates are drawn from: 'log-uniform' (Zipf's law for ids sorted by
 * descending frequency: P(c) = log((c+2)/(c+1)) / log(V+1)), 'uniform', or 'unigram'
 * (counts^power). OPTION for another name.
 */
export type SamplerName = 'log-uniform' | 'uniform' | 'unigram';
const SAMPLERS: readonly SamplerName[] = ['log-uniform', 'uniform', 'unigram'];

/** Arguments of weft.softmax.crossEntropy. */
export interface CrossEntropyArgs {
  /** Unnormalised log-probabilities [N, V], V >= 1. */
  logits: Tensor;
  /** The class of each row [N], ids in [0, V). */
  targets: Int32Array;
}

/** Arguments of weft.softmax.full (and the shared ones of sampled). */
export interface FullSoftmaxArgs {
  /** The rows' inputs [N, h], N >= 1. */
  input: Tensor;
  /** The output layer [V, h] (nn.Linear layout), V >= 1: logits = input @ weightsᵀ + bias. */
  weights: Tensor;
  /** [V]; default none (no bias). */
  bias?: Tensor;
  /** The class of each row [N], ids in [0, V). */
  targets: Int32Array;
}

/** Arguments of weft.softmax.sampled. */
export interface SampledSoftmaxArgs extends FullSoftmaxArgs {
  /**
   * Distinct candidates shared by the N rows: an integer with 1 <= numSampled < V, and no more
   * than the classes the sampler can draw (RANGE otherwise; weights need V >= 2, else SHAPE).
   */
  numSampled: number;
  /**
   * Default 'log-uniform' (ids sorted by descending frequency); or a prepared
   * weft.softmax.unigramSampler (SHAPE if prepared for another V; OPTION with counts or power).
   */
  sampler?: SamplerName | UnigramSampler;
  /**
   * Per-class counts [V] for the 'unigram' sampler (ids need not be sorted): finite numbers
   * >= 0, at least one positive (RANGE otherwise; DTYPE if not an array of numbers, SHAPE
   * unless V entries). Required by 'unigram' (OPTION if missing); default none.
   */
  counts?: ArrayLike<number>;
  /** Exponent applied to counts by 'unigram': a number >= 0 (RANGE below, or if counts^power overflows). Default 0.75 (word2vec). */
  power?: number;
  /** Seed of this call's draws, any safe integer. Default: draws continue the weft instance's own stream. */
  seed?: number;
  /** Drop a candidate from the rows whose target it is. Default true. */
  removeAccidentalHits?: boolean;
  /** Subtract log(expected count) from every logit. Default true. */
  subtractLogQ?: boolean;
}

/** Arguments of weft.softmax.negativeSampling. */
export interface NegativeSamplingArgs {
  /** The input (center word) vectors [N, h], N >= 1. */
  input: Tensor;
  /** The output vectors [V, h], V >= 1. */
  weights: Tensor;
  /** The positive (context word) id of each row [N], in [0, V). */
  targets: Int32Array;
  /** Negatives drawn per row: an integer >= 0 (RANGE below). */
  negative: number;
  /**
   * Default 'unigram' (needs counts); or a prepared weft.softmax.unigramSampler (then no
   * counts: OPTION with them; SHAPE if prepared for another V).
   */
  sampler?: SamplerName | UnigramSampler;
  /**
   * Per-class counts [V] for the 'unigram' sampler (ids need not be sorted): finite numbers
   * >= 0, at least one positive (RANGE otherwise; DTYPE if not an array of numbers, SHAPE
   * unless V entries). Required by 'unigram' (OPTION if missing); default none.
   */
  counts?: ArrayLike<number>;
  /** Exponent applied to counts by 'unigram': a number >= 0 (RANGE below, or if counts^power overflows). Default 0.75 (word2vec). */
  power?: number;
  /** Seed of this call's draws, any safe integer. Default: draws continue the weft instance's own stream. */
  seed?: number;
}

/** Arguments of weft.softmax.hierarchical. */
export interface HierarchicalSoftmaxArgs {
  /** The hidden (input) vectors [N, h]. */
  input: Tensor;
  /** The inner nodes' vectors [V - 1, h], by the tree's node ids (word2vec.c's syn1). */
  weights: Tensor;
  /** The class of each row [N], ids in [0, V). */
  targets: Int32Array;
  /** The Huffman tree of the V classes, from weft.softmax.huffmanTree({ counts }). */
  tree: HuffmanTree;
}

/** What weft.softmax.crossEntropy returns. */
export interface CrossEntropyResult {
  /** The mean over the N rows of -log softmax(logits)[target], in nats. */
  loss: number;
  /** The gradient of loss with respect to logits [N, V]. */
  dlogits: Tensor;
}

/** What weft.softmax.full returns. */
export interface FullSoftmaxResult {
  /** The mean cross-entropy over the N rows, in nats. */
  loss: number;
  /** dloss/dinput [N, h]. */
  dInput: Tensor;
  /** dloss/dweights [V, h] (dense). */
  dWeights: Tensor;
  /** dloss/dbias [V]: present when a bias was given. */
  dBias?: Tensor;
}

/** What weft.softmax.sampled returns: gradients of the touched weight rows only. */
export interface SampledSoftmaxResult {
  /** The mean over the N rows of the sampled softmax's cross-entropy, in nats. */
  loss: number;
  /** dloss/dinput [N, h]. */
  dInput: Tensor;
  /** Distinct weight rows touched: the candidates in draw order, then the targets not among them. */
  rows: Int32Array;
  /** The gradient of those rows [rows.length, h]: a step is `W[rows[r]] -= lr * dRows[r]`. */
  dRows: Tensor;
  /** The bias gradient of those rows [rows.length]: present when a bias was given. */
  dBiasRows?: Tensor;
  /** The numSampled candidates (= rows.subarray(0, numSampled)). */
  sampled: Int32Array;
}

/** What weft.softmax.negativeSampling returns: gradients of the touched weight rows only. */
export interface NegativeSamplingResult {
  /** The mean over the N rows of -log σ(w_t·x) - Σ log σ(-w_n·x), in nats. */
  loss: number;
  /** dloss/dinput [N, h]. */
  dInput: Tensor;
  /** Distinct weight rows touched, in order of first use. */
  rows: Int32Array;
  /** The gradient of those rows [rows.length, h]. */
  dRows: Tensor;
  /** The ids drawn for each row [N, negative] (row-major). */
  negatives: Int32Array;
}

/** What weft.softmax.hierarchical returns: gradients of the touched inner nodes only. */
export interface HierarchicalSoftmaxResult {
  /** The mean over the N rows of -log P(target), the product of the path's decisions, in nats. */
  loss: number;
  /** dloss/dinput [N, h]. */
  dInput: Tensor;
  /** Distinct inner nodes (rows of weights) the targets' paths touch, in order of first use. */
  rows: Int32Array;
  /** The gradient of those rows [rows.length, h]. */
  dRows: Tensor;
}

/** weft.softmax (see the README's "Softmax and sampling"). */
export interface SoftmaxApi {
  /** logits [N, V], targets [N] -> mean cross-entropy and dlogits [N, V]. */
  crossEntropy(args: CrossEntropyArgs): CrossEntropyResult;
  /** Exact softmax of input [N, h] @ weights [V, h]ᵀ + bias [V]: O(N·V·h), dense gradients. */
  full(args: FullSoftmaxArgs): FullSoftmaxResult;
  /** TensorFlow's sampled_softmax_loss: numSampled shared candidates, sparse gradients. */
  sampled(args: SampledSoftmaxArgs): SampledSoftmaxResult;
  /** word2vec negative sampling: `negative` draws per row, sparse gradients. */
  negativeSampling(args: NegativeSamplingArgs): NegativeSamplingResult;
  /** counts [V]^power prepared once, for `sampler`: calls then skip the O(V) check of the counts. */
  unigramSampler(args: {
    /** Per-class counts [V], V >= 1 (SHAPE if empty): finite numbers >= 0, at least one positive (RANGE otherwise; DTYPE if not numbers). */
    counts: ArrayLike<number>;
    /** Exponent applied to the counts: a number >= 0 (RANGE below, or if counts^power overflows). Default 0.75. */
    power?: number;
  }): UnigramSampler;
  /**
   * word2vec's hierarchical softmax: each target's probability is the product of one
   * logistic decision per inner node on its Huffman path, O(N·log V·h), sparse gradients.
   */
  hierarchical(args: HierarchicalSoftmaxArgs): HierarchicalSoftmaxResult;
  /** The Huffman tree of counts [V >= 2] (word2vec.c's CreateBinaryTree), for hierarchical. */
  huffmanTree(args: { counts: ArrayLike<number> }): HuffmanTree;
}

/** What the softmax ops need from a weft instance. */
interface SoftmaxContext {
  backend: OpBackend<SoftmaxKernels>;
  /** Draws of calls without a seed continue this stream. */
  rng: Rng;
}

// ---- validation ---------------------------------------------------------------

function checkMatrix(name: string, value: unknown): Tensor {
  return checkTensor(name, value, [2]);
}

function checkBatch(op: string, input: Tensor): void {
  if (input.shape[0] < 1) throw new WeftError('SHAPE', `${op}: input must have at least one row, got shape ${describe(input.shape)}`);
}

interface LinearArgs {
  input: Tensor;
  weights: Tensor;
  bias?: Tensor;
  targets: Int32Array;
  batch: number;
  hidden: number;
  classes: number;
}

function checkLinear(op: string, args: { input?: unknown; weights?: unknown; bias?: unknown; targets?: unknown }, withBias: boolean): LinearArgs {
  const input = checkMatrix(`${op}: input`, args.input);
  const weights = checkMatrix(`${op}: weights`, args.weights);
  checkBatch(op, input);
  const [batch, hidden] = input.shape;
  const [classes, weightHidden] = weights.shape;
  if (weightHidden !== hidden) {
    throw new WeftError('SHAPE', `${op}: weights must be [V, ${hidden}] to match input ${describe(input.shape)}, got ${describe(weights.shape)}`);
  }
  if (classes < 1) throw new WeftError('SHAPE', `${op}: weights must have at least one row (class), got ${describe(weights.shape)}`);
  let bias: Tensor | undefined;
  if (withBias && args.bias !== undefined) {
    bias = checkTensor(`${op}: bias`, args.bias, [1]);
    if (bias.shape[0] !== classes) throw new WeftError('SHAPE', `${op}: bias must have shape [${classes}], got ${describe(bias.shape)}`);
  }
  const targets = checkIds(`${op}: targets`, args.targets, batch, classes, 'V');
  return { input, weights, bias, targets, batch, hidden, classes };
}

/** `[row, column]` of element i of a row-major matrix of `columns` columns. */
function matrixIndex(columns: number): (i: number) => string {
  return (i) => `[${Math.floor(i / columns)}, ${i % columns}]`;
}

/**
 * Unigram samplers cached per counts array, rebuilt when its values change. An unchanged
 * typed array is recognised by comparing raw 32-bit words with the cached copy (which was
 * validated when cached); that read is memory-bound: ~3 ms per call for 1M float64
 * counts, against ~0.5 ms for the whole call with the log-uniform sampler.
 */
const unigramCache = new WeakMap<object, { copy: ArrayLike<number>; power: number; sampler: WeightedSampler }>();

type CountsArray = Float64Array | Float32Array | Int32Array | Uint32Array;

function isCountsArray(value: unknown): value is CountsArray {
  return value instanceof Float64Array || value instanceof Float32Array || value instanceof Int32Array || value instanceof Uint32Array;
}

function words32(a: CountsArray): Int32Array {
  return new Int32Array(a.buffer, a.byteOffset, a.byteLength >> 2);
}

function sameCounts(copy: ArrayLike<number>, counts: ArrayLike<number>): boolean {
  if (isCountsArray(copy) && isCountsArray(counts) && copy.constructor === counts.constructor) {
    const a = words32(copy), b = words32(counts);
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  for (let i = 0; i < counts.length; i++) if (copy[i] !== counts[i]) return false;
  return true;
}

/** counts as an array-like of numbers (DTYPE otherwise). */
function checkCountsArray(op: string, counts: unknown): ArrayLike<number> {
  if (typeof counts !== 'object' || counts === null || typeof (counts as ArrayLike<number>).length !== 'number') {
    throw new WeftError('DTYPE', `${op}: counts must be an array of numbers, got ${describe(counts)}`);
  }
  return counts as ArrayLike<number>;
}

/** The alias sampler of counts^power, after checking every count. */
function buildUnigram(op: string, list: ArrayLike<number>, power: number): WeightedSampler {
  let total = 0;
  for (let i = 0; i < list.length; i++) {
    const c = list[i];
    if (typeof c !== 'number') throw new WeftError('DTYPE', `${op}: counts[${i}] is ${describe(c)}: expected a number`);
    if (!Number.isFinite(c) || c < 0) throw new WeftError('RANGE', `${op}: counts[${i}] is ${c}: expected a finite number >= 0`);
    total += c;
  }
  if (!(total > 0)) throw new WeftError('RANGE', `${op}: counts sum to ${total}: at least one class needs a positive count`);
  const weights = unigramWeights(list, power);
  let weightSum = 0;
  for (let i = 0; i < weights.length; i++) weightSum += weights[i];
  // counts^power must stay finite (a huge power would give Infinity / Infinity = NaN probabilities)
  if (!Number.isFinite(weightSum) || !(weightSum > 0)) {
    throw new WeftError('RANGE', `${op}: counts^power with power = ${power} ${weightSum > 0 ? 'overflows' : 'is 0 for every class'}; use a smaller power`);
  }
  return new WeightedSampler(weights);
}

/**
 * A unigram^power sampler prepared once from per-class counts (a snapshot: later changes
 * to the array do not reach it). Pass it as `sampler` to softmax.sampled or
 * negativeSampling when the counts stay the same from call to call: a call then costs
 * O(N·k·h) whatever V is, without re-reading the V counts that `counts` needs to detect
 * changes (about 5 ms a call at V = 1M). Samplers come from weft.softmax.unigramSampler,
 * which validates the counts; an object made otherwise is refused (OPTION).
 */
export interface UnigramSampler {
  /** V: the number of classes (counts.length). */
  readonly classes: number;
  /** The exponent applied to the counts. */
  readonly power: number;
}

/** The one kind of UnigramSampler: an interface outside, so the alias table and the constructor stay inside. */
export class PreparedUnigramSampler implements UnigramSampler {
  readonly classes: number;
  readonly power: number;
  /** The alias table the calls draw from. */
  readonly draws: WeightedSampler;

  constructor(draws: WeightedSampler, power: number) {
    this.classes = draws.size;
    this.power = power;
    this.draws = draws;
  }
}

/** weft.softmax.unigramSampler({ counts, power? }) -> a prepared UnigramSampler. */
function prepareUnigramSampler(args: { counts: ArrayLike<number>; power?: number }): UnigramSampler {
  const op = 'softmax.unigramSampler';
  const bag = checkArgs(op, args, '{ counts, power? }');
  const list = checkCountsArray(op, bag.counts);
  if (list.length < 1) throw new WeftError('SHAPE', `${op}: counts must have at least one entry, got 0`);
  const power = checkNumber(`${op}: power`, bag.power, 0, Infinity, 0.75);
  return new PreparedUnigramSampler(buildUnigram(op, list, power), power);
}

function unigramSampler(op: string, counts: unknown, classes: number, power: number): WeightedSampler {
  if (counts === undefined) {
    throw new WeftError('OPTION', `${op}: sampler "unigram" needs counts (one per class, length ${classes})`);
  }
  const list = checkCountsArray(op, counts);
  if (list.length !== classes) throw new WeftError('SHAPE', `${op}: counts must have ${classes} entries (V), got ${list.length}`);
  const cached = unigramCache.get(list);
  if (cached !== undefined && cached.power === power && sameCounts(cached.copy, list)) return cached.sampler;
  const sampler = buildUnigram(op, list, power);
  unigramCache.set(list, { copy: isCountsArray(list) ? list.slice() : Array.from(list), power, sampler });
  return sampler;
}

function chooseSampler(
  op: string, args: Pick<NegativeSamplingArgs, 'counts' | 'power'> & { sampler?: unknown }, classes: number, fallback: SamplerName,
): Sampler {
  if (args.sampler instanceof PreparedUnigramSampler) {
    if (args.sampler.classes !== classes) {
      throw new WeftError('SHAPE', `${op}: the sampler was prepared for V = ${args.sampler.classes} classes, weights have V = ${classes}`);
    }
    if (args.counts !== undefined || args.power !== undefined) {
      throw new WeftError('OPTION', `${op}: pass counts (and power) or a prepared sampler, not both`);
    }
    return args.sampler.draws;
  }
  if (typeof args.sampler === 'object' && args.sampler !== null) {
    throw new WeftError('OPTION', `${op}: sampler: an object must be a sampler from weft.softmax.unigramSampler, got ${describe(args.sampler)}`);
  }
  const name = checkChoice(`${op}: sampler`, args.sampler, SAMPLERS, fallback);
  if (name === 'uniform') return new UniformSampler(classes);
  if (name === 'log-uniform') return new LogUniformSampler(classes);
  const power = checkNumber(`${op}: power`, args.power, 0, Infinity, 0.75);
  return unigramSampler(op, args.counts, classes, power);
}

/**
 * This call's generator: its own seed, or a copy of the instance's stream that
 * commitRng makes current once the call has succeeded, so a refused call (a bound
 * checked on the drawn rows) leaves later unseeded calls' draws as they were.
 */
function callRng(op: string, ctx: SoftmaxContext, seed: unknown): Rng {
  return seed === undefined ? new Rng(ctx.rng.state.slice()) : new Rng(checkSeed(op, seed));
}

function commitRng(ctx: SoftmaxContext, rng: Rng, seed: unknown): void {
  if (seed === undefined) ctx.rng.state.set(rng.state);
}

/** Compact row slots for the weight rows a sparse call touches: each id gets the next slot on first use. */
class RowSlots {
  private readonly slotOf = new Map<number, number>();
  private readonly order: number[] = [];

  /** The slot of `id`, assigning the next one the first time. */
  of(id: number): number {
    let slot = this.slotOf.get(id);
    if (slot === undefined) {
      slot = this.order.length;
      this.slotOf.set(id, slot);
      this.order.push(id);
    }
    return slot;
  }

  /** The ids by slot. */
  ids(): Int32Array {
    return Int32Array.from(this.order);
  }
}

/** Rows `ids` of weights [V, h] copied into a compact [ids.length, h] table and staged; RANGE at a non-finite value. */
function stageRows(call: Call, op: string, weights: Float32Array, hidden: number, ids: Int32Array): Staged {
  checkElementCount(`${op}: gathered rows`, ids.length * hidden);
  const out = new Float32Array(ids.length * hidden);
  for (let r = 0; r < ids.length; r++) {
    const start = ids[r] * hidden;
    out.set(weights.subarray(start, start + hidden), r * hidden);
  }
  return stageFinite(call, `${op}: weights`, out, (i) => `[${ids[Math.floor(i / hidden)]}, ${i % hidden}]`);
}

// Largest |logit| accepted: a logit is a sum of `hidden` products, and it must stay far from f32's 3.4e38.
const LOGIT_LIMIT = 1e37;

/** RANGE when |input . w + bias| could overflow f32 (checked on the rows the call uses, already finite). */
function checkLogitBound(op: string, hidden: number, input: Staged, rows: Staged, bias?: Staged): void {
  const maxInput = input.maxAbs(), maxRow = rows.maxAbs();
  const bound = hidden * maxInput * maxRow + (bias ? bias.maxAbs() : 0);
  if (!(bound <= LOGIT_LIMIT)) {
    throw new WeftError('RANGE', `${op}: |input| and |weights| up to ${maxInput} and ${maxRow} could overflow f32 logits (bound ${bound} > ${LOGIT_LIMIT})`);
  }
}

function meanLoss(rowLoss: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < rowLoss.length; i++) sum += rowLoss[i];
  return sum / rowLoss.length;
}

// ---- the ops -------------------------------------------------------------------

/** Mean softmax cross-entropy of logits [N, V] against target ids, and its gradient. */
function crossEntropy(ctx: SoftmaxContext, call: Call, args: CrossEntropyArgs): CrossEntropyResult {
  const op = 'softmax.crossEntropy';
  args = checkArgs(op, args, '{ logits, targets }') as unknown as typeof args;
  const logits = checkMatrix(`${op}: logits`, args.logits);
  checkBatch(op, logits);
  const [batch, classes] = logits.shape;
  if (classes < 1) throw new WeftError('SHAPE', `${op}: logits must have at least one class, got ${describe(logits.shape)}`);
  const targets = checkIds(`${op}: targets`, args.targets, batch, classes, 'V');
  const staged = stageFinite(call, `${op}: logits`, logits.data, matrixIndex(classes));
  const { rowLoss, dlogits } = ctx.backend.kernels.softmaxCrossEntropy(call, { logits: staged, targets, batch, classes, scale: 1 / batch });
  return { loss: meanLoss(rowLoss), dlogits: { data: dlogits, shape: [batch, classes] } };
}

/** Exact softmax over all V classes of input @ weightsᵀ + bias: loss and dense gradients. */
function full(ctx: SoftmaxContext, call: Call, args: FullSoftmaxArgs): FullSoftmaxResult {
  const op = 'softmax.full';
  args = checkArgs(op, args, '{ input, weights, bias?, targets }') as unknown as typeof args;
  const { input, weights, bias, targets, batch, hidden, classes } = checkLinear(op, args, true);
  checkElementCount(`${op}: logits`, batch * classes);
  const stagedInput = stageFinite(call, `${op}: input`, input.data, matrixIndex(hidden));
  const stagedWeights = stageFinite(call, `${op}: weights`, weights.data, matrixIndex(hidden));
  const stagedBias = bias && stageFinite(call, `${op}: bias`, bias.data);
  checkLogitBound(op, hidden, stagedInput, stagedWeights, stagedBias);
  const out = ctx.backend.kernels.softmaxFull(call, {
    input: stagedInput, weights: stagedWeights, bias: stagedBias, targets, batch, classes, hidden, scale: 1 / batch,
  });
  return {
    loss: meanLoss(out.rowLoss),
    dInput: { data: out.dInput, shape: [batch, hidden] },
    dWeights: { data: out.dWeights, shape: [classes, hidden] },
    ...(out.dBias ? { dBias: { data: out.dBias, shape: [classes] } } : {}),
  };
}

/**
 * TensorFlow's sampled_softmax_loss: numSampled distinct candidates shared by the
 * batch, logits corrected by -log Q, accidental hits removed; sparse gradients.
 */
function sampled(ctx: SoftmaxContext, call: Call, args: SampledSoftmaxArgs): SampledSoftmaxResult {
  const op = 'softmax.sampled';
  args = checkArgs(op, args, '{ input, weights, targets, numSampled, ... }') as unknown as typeof args;
  const { input, weights, bias, targets, batch, hidden, classes } = checkLinear(op, args, true);
  if (classes < 2) throw new WeftError('SHAPE', `${op}: sampling needs weights of V >= 2 classes, got ${describe(weights.shape)}`);
  const numSampled = checkInteger(`${op}: numSampled`, args.numSampled, 1, Number.MAX_SAFE_INTEGER);
  if (numSampled >= classes) {
    throw new WeftError('RANGE', `${op}: numSampled must be < V = ${classes} (use softmax.full for all classes), got ${numSampled}`);
  }
  checkElementCount(`${op}: logits`, batch * numSampled);
  const removeAccidentalHits = optionalBoolean(`${op}: removeAccidentalHits`, args.removeAccidentalHits, true);
  const subtractLogQ = optionalBoolean(`${op}: subtractLogQ`, args.subtractLogQ, true);
  const sampler = chooseSampler(op, args, classes, 'log-uniform');
  if (sampler instanceof WeightedSampler && numSampled > sampler.support) {
    throw new WeftError('RANGE', `${op}: numSampled = ${numSampled} distinct candidates, but only ${sampler.support} classes have a positive count`);
  }
  const stagedInput = stageFinite(call, `${op}: input`, input.data, matrixIndex(hidden));
  const rng = callRng(op, ctx, args.seed);
  const { ids: candidates, tries } = sampleUniqueCandidates(sampler, numSampled, rng);

  // compact rows: candidates first (distinct: slots 0..S-1), then targets not among them
  const slots = new RowSlots();
  for (const id of candidates) slots.of(id);
  const targetSlot = Int32Array.from(targets, (id) => slots.of(id));
  const logQ = (id: number, what: string): number => {
    if (!subtractLogQ) return 0;
    const q = expectedCount(sampler.probability(id), numSampled, tries);
    if (!(q > 0)) throw new WeftError('RANGE', `${op}: ${what} = ${id} has probability 0 under the sampler, so log Q is -Infinity`);
    return Math.log(q);
  };
  const logQSampled = Float32Array.from(candidates, (id) => logQ(id, 'a candidate'));
  const logQTrue = Float32Array.from(targets, (id, i) => logQ(id, `targets[${i}]`));
  const rows = slots.ids();
  const rowWeights = stageRows(call, op, weights.data, hidden, rows);
  let rowBias: Staged | undefined;
  if (bias) rowBias = stageFinite(call, `${op}: bias`, Float32Array.from(rows, (id) => bias.data[id]), (r) => `[${rows[r]}]`);
  checkLogitBound(op, hidden, stagedInput, rowWeights, rowBias);
  const out = ctx.backend.kernels.softmaxSampled(call, {
    input: stagedInput, rowWeights, rowBias, targetSlot,
    logQTrue: call.stage(logQTrue, 'log Q of the targets'), logQSampled: call.stage(logQSampled, 'log Q of the candidates'),
    removeAccidentalHits, batch, hidden, numSampled, numRows: rows.length, scale: 1 / batch,
  });
  commitRng(ctx, rng, args.seed);
  return {
    loss: meanLoss(out.rowLoss),
    dInput: { data: out.dInput, shape: [batch, hidden] },
    rows,
    dRows: { data: out.dRows, shape: [rows.length, hidden] },
    ...(out.dBiasRows ? { dBiasRows: { data: out.dBiasRows, shape: [rows.length] } } : {}),
    sampled: rows.slice(0, numSampled),
  };
}

/**
 * word2vec's negative sampling (SGNS): loss = -log σ(w[t]·x) - Σ_n log σ(-w[n]·x)
 * with `negative` ids drawn per row; a draw equal to the row's target is skipped.
 */
function negativeSampling(ctx: SoftmaxContext, call: Call, args: NegativeSamplingArgs): NegativeSamplingResult {
  const op = 'softmax.negativeSampling';
  args = checkArgs(op, args, '{ input, weights, targets, negative, ... }') as unknown as typeof args;
  const { input, weights, targets, batch, hidden, classes } = checkLinear(op, args, false);
  const negative = checkInteger(`${op}: negative`, args.negative, 0);
  checkElementCount(`${op}: negatives`, batch * negative);
  const sampler = chooseSampler(op, args, classes, 'unigram');
  const stagedInput = stageFinite(call, `${op}: input`, input.data, matrixIndex(hidden));
  const rng = callRng(op, ctx, args.seed);
  const negatives = new Int32Array(batch * negative);
  for (let i = 0; i < negatives.length; i++) negatives[i] = sampler.draw(rng);

  // compact rows in first-use order: each row's target, then its negatives
  const slots = new RowSlots();
  const targetSlot = new Int32Array(batch);
  const negativeSlot = new Int32Array(batch * negative);
  for (let i = 0; i < batch; i++) {
    targetSlot[i] = slots.of(targets[i]);
    for (let d = 0; d < negative; d++) negativeSlot[i * negative + d] = slots.of(negatives[i * negative + d]);
  }
  const rows = slots.ids();
  const rowWeights = stageRows(call, op, weights.data, hidden, rows);
  checkLogitBound(op, hidden, stagedInput, rowWeights);
  const out = ctx.backend.kernels.softmaxNegativeSampling(call, {
    input: stagedInput, rowWeights, targetSlot, negativeSlot, batch, hidden, negative, numRows: rows.length, scale: 1 / batch,
  });
  commitRng(ctx, rng, args.seed);
  return {
    loss: meanLoss(out.rowLoss),
    dInput: { data: out.dInput, shape: [batch, hidden] },
    rows,
    dRows: { data: out.dRows, shape: [rows.length, hidden] },
    negatives,
  };
}

/** weft.softmax.huffmanTree({ counts }) -> the tree hierarchical() walks. */
function prepareHuffmanTree(args: { counts: ArrayLike<number> }): HuffmanTree {
  const op = 'softmax.huffmanTree';
  const bag = checkArgs(op, args, '{ counts }');
  const list = checkCountsArray(op, bag.counts);
  if (list.length < 2) throw new WeftError('SHAPE', `${op}: counts must have at least 2 entries (a tree needs an inner node), got ${list.length}`);
  for (let i = 0; i < list.length; i++) {
    const c = list[i];
    if (typeof c !== 'number') throw new WeftError('DTYPE', `${op}: counts[${i}] is ${describe(c)}: expected a number`);
    if (!Number.isFinite(c) || c < 0) throw new WeftError('RANGE', `${op}: counts[${i}] is ${c}: expected a finite number >= 0`);
  }
  return huffmanTree(list);
}

/**
 * word2vec's hierarchical softmax: loss = -Σ_p log σ((1 - 2 code_p) w_p·x) over the inner
 * nodes p on the target's Huffman path (root first); sparse gradients on those nodes.
 */
function hierarchical(ctx: SoftmaxContext, call: Call, args: HierarchicalSoftmaxArgs): HierarchicalSoftmaxResult {
  const op = 'softmax.hierarchical';
  args = checkArgs(op, args, '{ input, weights, targets, tree }') as unknown as typeof args;
  if (!(args.tree instanceof PreparedHuffmanTree)) {
    throw new WeftError('OPTION', `${op}: tree must come from weft.softmax.huffmanTree({ counts }), got ${describe(args.tree)}`);
  }
  const { tree } = args;
  const input = checkMatrix(`${op}: input`, args.input);
  const weights = checkMatrix(`${op}: weights`, args.weights);
  checkBatch(op, input);
  const [batch, hidden] = input.shape;
  const nodes = tree.classes - 1;
  if (weights.shape[0] !== nodes || weights.shape[1] !== hidden) {
    throw new WeftError(
      'SHAPE',
      `${op}: weights must be [V - 1, h] = [${nodes}, ${hidden}] (the tree's inner nodes, h of input ${describe(input.shape)}), got ${describe(weights.shape)}`,
    );
  }
  const targets = checkIds(`${op}: targets`, args.targets, batch, tree.classes, 'V');
  const stagedInput = stageFinite(call, `${op}: input`, input.data, matrixIndex(hidden));

  // compact rows in first-use order along the targets' paths
  const slots = new RowSlots();
  const pathStarts = new Int32Array(batch + 1);
  for (let i = 0; i < batch; i++) pathStarts[i + 1] = pathStarts[i] + tree.offsets[targets[i] + 1] - tree.offsets[targets[i]];
  checkElementCount(`${op}: path entries`, pathStarts[batch]);
  const pathEntries = new Int32Array(pathStarts[batch]);
  for (let i = 0; i < batch; i++) {
    const { points, codes } = tree.path(targets[i]);
    for (let d = 0; d < points.length; d++) pathEntries[pathStarts[i] + d] = (slots.of(points[d]) << 1) | codes[d];
  }
  const rows = slots.ids();
  const rowWeights = stageRows(call, op, weights.data, hidden, rows);
  checkLogitBound(op, hidden, stagedInput, rowWeights);
  const out = ctx.backend.kernels.softmaxHierarchical(call, { input: stagedInput, rowWeights, pathStarts, pathEntries, batch, hidden, numRows: rows.length, scale: 1 / batch });
  return {
    loss: meanLoss(out.rowLoss),
    dInput: { data: out.dInput, shape: [batch, hidden] },
    rows,
    dRows: { data: out.dRows, shape: [rows.length, hidden] },
  };
}

/** weft.softmax on a backend; calls without a seed continue the instance's own stream (a fresh instance repeats it). */
export function createSoftmax(backend: OpBackend<SoftmaxKernels>): SoftmaxApi {
  const ctx: SoftmaxContext = { backend, rng: new Rng(0) };
  return {
    crossEntropy: bindOp(backend, 'softmax.crossEntropy', (call, args: CrossEntropyArgs) => crossEntropy(ctx, call, args)),
    full: bindOp(backend, 'softmax.full', (call, args: FullSoftmaxArgs) => full(ctx, call, args)),
    sampled: bindOp(backend, 'softmax.sampled', (call, args: SampledSoftmaxArgs) => sampled(ctx, call, args)),
    negativeSampling: bindOp(backend, 'softmax.negativeSampling', (call, args: NegativeSamplingArgs) => negativeSampling(ctx, call, args)),
    unigramSampler: prepareUnigramSampler,
    hierarchical: bindOp(backend, 'softmax.hierarchical', (call, args: HierarchicalSoftmaxArgs) => hierarchical(ctx, call, args)),
    huffmanTree: prepareHuffmanTree,
  };
}
