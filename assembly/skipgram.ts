// word2vec training (skip-gram or CBOW) with word2vec.c / gensim semantics, a whole
// batch of sentences per call: subsampling, reduced windows, noise draws and SGD updates
// all run here.
//
// Dimensions: V vocabulary, D vector stride (dim rounded up to f32x4; padding lanes
// stay 0 because every update adds multiples of rows that are 0 there), k negatives,
// S sampled candidates, L a word's Huffman path length (about log2 V).
// Layout: syn0 (input vectors) and syn1 (output vectors of the words: negative sampling,
// sampled or exact softmax; word2vec.c's syn1neg) [V, D] row-major; with hierarchical
// softmax, treeVectors [V - 1, D] (the Huffman tree's inner nodes: word2vec.c's syn1),
// pathStarts [V + 1] i32 and paths [sum of L] i32 (word w's path is
// paths[pathStarts[w], pathStarts[w + 1]), root first, each entry (inner node << 1) | code;
// src/huffman.ts builds the tree as word2vec.c does). A batch is
// ids (in-vocabulary ids of its sentences, concatenated), sentenceEnds [sentences]
// (exclusive ends) and alphas [sentences] (learning rate per sentence). Tables:
// keepThreshold [V] u32, aliasEntries [V] x (u32, i32), noiseProbability [V] f64,
// sigmoid / minus-log-sigmoid tables [SIGMOID_TABLE_SIZE + 1] over [-SIGMOID_MAX_EXP, SIGMOID_MAX_EXP].
// Updates: syn0, syn1 and treeVectors in place (SGD, word2vec.c's order); stats (loss sum,
// pairs, kept words) f64 accumulate, one row per thread.
//
// Threads (Hogwild, as word2vec.c and gensim): each thread of the team trains the next
// sentence nobody has taken (a shared counter: threads stay busy whatever the sentence
// lengths and subsampling) with its own generator state (rng [threads, 16] u32: 4 words
// used, a 64-byte line each, as the generator is written at every draw), scratch and
// stats (stats [threads + 1, 8] f64: line 0 holds the sentence counter, line t + 1
// thread t's 3 sums), and updates the shared syn0 and syn1 without locks. The output
// rows of the most frequent words (hotRowCount; ids are by descending count) are drawn
// as noise words by every thread all the time: written by two threads at once, such a
// row's cache lines travel between cores at every update (measured: two threads trained
// 1.1x one thread's words/s). So on a team each thread trains on its own copy of those
// rows and adds what it changed to the shared rows every syncEvery centers and at
// the end of the call (syncHotRows), picking up the others' changes there. (A sync at
// every sentence end, as before, made 2 threads run 0.26-0.35x one thread on a corpus
// of 24-word lines: 2 x 256 KB copied per sentence.) Runs on
// more than one thread are not reproducible; on one thread they are, and match the JS
// backend up to float rounding. With hierarchical softmax every pair updates the inner
// nodes near the root (the root is on every path), and the nodes with the highest ids
// are the most used (a node made later has a larger count): a thread keeps copies of
// those the same way (half the copies' room each when negative sampling trains too).
//
// Pairs follow word2vec.c: for center position i and context position j, the input row
// is syn0[context] and the predicted word is the center, so every pair of one center
// shares its target (and, with sampled softmax, one candidate set: TensorFlow's shared
// candidates per batch). CBOW (architecture ARCH_CBOW) predicts the center once from the
// mean of its context rows (word2vec.c; gensim's cbow_mean=1) and adds the hidden row's
// gradient, unscaled, to every context row (word2vec.c, and gensim with cbow_mean=1).
// Hierarchical softmax (hs) and negative sampling may train together, as in word2vec.c:
// both update the same hidden row's gradient (neu1e), tree first.
//
// Draw order (src/backend/js/skipgram.ts makes the same draws in the same order):
// per sentence, one u32 per word whose keep threshold is below 0xFFFFFFFF; per kept
// center, one u32 for its reduced window (span = window - u32 % window), then with
// sampled softmax two per try until S distinct candidates; with negative sampling, two
// per negative per pair, or (shareNegatives, and CBOW) two per negative per center whose
// window holds a context word. Hierarchical softmax draws nothing.
//
// shareNegatives (negative sampling only): the center and its noise words, drawn once,
// are the targets of every context word of the window (Ji et al. 2016, "Parallelizing
// Word2Vec in Shared and Distributed Memory"; BlazingText's batch_skipgram), and the
// window's updates are two small matrix products (windowChunk): every dot product of
// the window from the rows as the window found them, then each context row and each
// target row updated once by the sum of its gradients (a window of more than
// CONTEXT_CHUNK positions goes in chunks, each seeing the ones before). Measured on one
// thread (CPU time, 2M-word corpus): 1.48-1.63x the per-pair loop's words/s, where the
// earlier blocks of 4 contexts with their updates kept in scratch rows ran 1.35x. Hogwild
// threads write the shared, frequently drawn output rows once per window instead of once
// per pair: they contend for them far less.

import { rngNextU32 } from "./rng";
import { fmaF32x4, hsumF32x4 } from "./simd";
import { aliasDraw } from "./sampling";
import { dotRow } from "./rows";
import { softmaxRowInPlace } from "./softmax";
import { teamScratchFloats, threadRegionAt } from "./layout";
import { teamSize, teamThread } from "./team";

export const LOSS_NEGATIVE: i32 = 0;
export const LOSS_SAMPLED: i32 = 1;
export const LOSS_SOFTMAX: i32 = 2;

export const ARCH_SKIP_GRAM: i32 = 0;
export const ARCH_CBOW: i32 = 1;

export const SIGMOID_MAX_EXP: f32 = 6;
export const SIGMOID_TABLE_SIZE: i32 = 1000;
/** Table index of x in (-SIGMOID_MAX_EXP, SIGMOID_MAX_EXP): word2vec.c's (int)((f + SIGMOID_MAX_EXP) * (EXP_TABLE_SIZE / SIGMOID_MAX_EXP / 2)). */
// @ts-ignore: decorator
@inline function tableIndex(x: f32): usize {
  return <usize><i32>((x + SIGMOID_MAX_EXP) * (<f32>SIGMOID_TABLE_SIZE / SIGMOID_MAX_EXP / 2));
}

// Scratch regions, in order (assembly/layout.ts), all private to a thread; the scratch
// persists between calls (the sampled softmax's candidate stamps and their serial do).
const S_NEU1E = 0, S_KEPT = 1, S_PAIR_TARGETS = 2, S_PAIR_DOTS = 3, S_CANDIDATES = 4, S_LOG_Q = 5, S_LOGITS = 6,
  S_STAMPS = 7, S_SERIAL = 8, S_WINDOW = 9, S_HOT = 10, S_HOT_SNAPSHOT = 11, S_REGIONS = 12;

/** Hierarchical softmax: path nodes whose dot products are computed together (a path is ~log2 V long). */
const TREE_CHUNK: i32 = 32;

/**
 * shareNegatives: context positions of a window trained as one chunk (two small GEMMs
 * against the window's targets): a window of up to 8 (16 contexts) is one chunk.
 */
export const CONTEXT_CHUNK: i32 = 16;
/** shareNegatives: targets per register tile of the chunk's GEMMs (the center and 5 noise words: two tiles). */
const TARGET_TILE: i32 = 3;

/** The window's target count rounded up to whole tiles (the padding rows are zero, their gradients 0). */
// @ts-ignore: decorator
@inline function paddedTargets(targets: i32): i32 {
  return (targets + TARGET_TILE - 1) / TARGET_TILE * TARGET_TILE;
}

/**
 * Floats of shareNegatives' chunk scratch (windowChunk): the update column [CONTEXT_CHUNK, 4],
 * TARGET_TILE - 1 zero rows [dim] for padding, the gradients [CONTEXT_CHUNK, padded targets],
 * the target and context row pointers and their multiplicities.
 */
function windowFloats(negative: i32, dim: i32): f64 {
  const targets = <f64>paddedTargets(negative + 1);
  return <f64>CONTEXT_CHUNK * 4 + <f64>(TARGET_TILE - 1) * dim + <f64>CONTEXT_CHUNK * targets + 2 * targets + 2 * <f64>CONTEXT_CHUNK;
}

/** Floats of a thread's copy of the hot output rows (256 KB: with its snapshot, well inside L2). */
const HOT_FLOATS: i32 = 262144;
/**
 * A thread with a full HOT_FLOATS of hot rows syncs them with the shared ones after this many
 * centers (and when the call ends); fewer hot rows sync proportionally more often, at the same
 * cost per center. (2M-word corpus, 2 threads: every 512 centers cost 18% of the words/s.)
 */
const HOT_SYNC_CENTERS: i32 = 4096;
/** ... but never more often than this. */
const HOT_SYNC_MIN_CENTERS: i32 = 64;

/**
 * Output rows a thread keeps a copy of on a team: the most frequent words' (ids are by
 * descending count) and, with hierarchical softmax, the most used inner nodes'; at most an
 * eighth of the vocabulary, so that on a small one most rows stay shared and current. (With
 * every row of the 1.7K-word test corpus a private copy synced every 4096 centers, two threads
 * learned clearly worse vectors than one: cosine separation 0.29-0.31 against 0.37; a quarter
 * synced proportionally more often gave 0.34-0.35, an eighth 0.34-0.36.)
 */
function hotRowCount(vocabSize: i32, dim: i32): i32 {
  return min((vocabSize + 7) >> 3, max(1, HOT_FLOATS / dim));
}

/** Floats (or i32) of one region, f64 so that an absurd size cannot wrap. */
function regionFloats(region: i32, loss: i32, vocabSize: i32, dim: i32, numSampled: i32, maxSentence: i32, negative: i32): f64 {
  const sampled = loss == LOSS_SAMPLED;
  switch (region) {
    case S_NEU1E: return 2 * <f64>dim; // [2, D]: the hidden row's gradient; CBOW's hidden row in row 1
    case S_KEPT: return maxSentence;
    case S_PAIR_TARGETS: return <f64>negative + 1; // negative sampling: [k + 1] ids
    case S_PAIR_DOTS: return max(<f64>negative + 1, TREE_CHUNK); // their dot products, or a path chunk's
    case S_CANDIDATES: case S_LOG_Q: return sampled ? numSampled : 0;
    case S_LOGITS: return sampled ? <f64>numSampled + 1 : loss == LOSS_SOFTMAX ? vocabSize : 0;
    case S_STAMPS: return sampled ? vocabSize : 0;
    case S_SERIAL: return sampled ? 1 : 0;
    case S_WINDOW: return loss == LOSS_NEGATIVE ? windowFloats(negative, dim) : 0;
    case S_HOT: case S_HOT_SNAPSHOT: return loss == LOSS_NEGATIVE ? <f64>hotRowCount(vocabSize, dim) * dim : 0;
  }
  return 0;
}

function region(
  scratch: usize, which: i32, thread: i32, loss: i32, vocabSize: i32, dim: i32, numSampled: i32, maxSentence: i32, negative: i32,
): usize {
  return threadRegionAt(scratch, regionFloats, 0, S_REGIONS, which, thread, loss, vocabSize, dim, numSampled, maxSentence, negative);
}

/** Floats of scratch skipGramTrain needs on `threads` threads; it persists between calls (the candidate stamps do). */
export function skipGramScratchFloats(
  loss: i32, vocabSize: i32, dim: i32, numSampled: i32, maxSentence: i32, negative: i32, threads: i32,
): f64 {
  return teamScratchFloats(regionFloats, 0, S_REGIONS, threads, loss, vocabSize, dim, numSampled, maxSentence, negative);
}

/** Output row `target`: this thread's copy when it is hot (ids below hotRows), else the shared row. */
// @ts-ignore: decorator
@inline function outputRow(syn1: usize, hot: usize, hotRows: i32, target: i32, rowBytes: usize): usize {
  return target < hotRows ? hot + <usize>target * rowBytes : syn1 + <usize>target * rowBytes;
}

/** Inner node `node`: this thread's copy when it is hot (ids from firstHotNode), else the shared row. */
// @ts-ignore: decorator
@inline function nodeRow(treeVectors: usize, hotTree: usize, firstHotNode: i32, node: i32, rowBytes: usize): usize {
  return node >= firstHotNode ? hotTree + <usize>(node - firstHotNode) * rowBytes : treeVectors + <usize>node * rowBytes;
}

/** A thread's hot rows and their snapshot := the shared rows (from `shared`). */
function loadHotRows(shared: usize, hot: usize, snapshot: usize, hotRows: i32, dim: i32): void {
  const bytes = <usize>hotRows * dim << 2;
  memory.copy(hot, shared, bytes);
  memory.copy(snapshot, shared, bytes);
}

/**
 * Add what this thread changed in its hot rows since the last sync (hot - snapshot) to
 * the shared rows, and start again from the result (which holds the other threads'
 * synced changes too).
 */
function syncHotRows(shared: usize, hot: usize, snapshot: usize, hotRows: i32, dim: i32): void {
  const bytes = <usize>hotRows * dim << 2;
  for (let o: usize = 0; o < bytes; o += 16) {
    const v = f32x4.add(v128.load(shared + o), f32x4.sub(v128.load(hot + o), v128.load(snapshot + o)));
    v128.store(shared + o, v);
    v128.store(hot + o, v);
    v128.store(snapshot + o, v);
  }
}

/** neu1e += g l2;  l2 += g l1   (one pass over the output row) */
// @ts-ignore: decorator
@inline function updateOutputRow(g: f32, l1: usize, l2: usize, neu1e: usize, dim: i32): void {
  const gv = f32x4.splat(g);
  for (let k = 0; k < dim; k += 4) {
    const o = <usize>k << 2;
    const w = v128.load(l2 + o);
    v128.store(neu1e + o, fmaF32x4(gv, w, v128.load(neu1e + o)));
    v128.store(l2 + o, fmaF32x4(gv, v128.load(l1 + o), w));
  }
}

/** l1 += neu1e */
// @ts-ignore: decorator
@inline function updateInputRow(l1: usize, neu1e: usize, dim: i32): void {
  for (let k = 0; k < dim; k += 4) {
    const o = <usize>k << 2;
    v128.store(l1 + o, f32x4.add(v128.load(l1 + o), v128.load(neu1e + o)));
  }
}

// @ts-ignore: decorator
@inline function zeroRow(row: usize, dim: i32): void {
  for (let k = 0; k < dim; k += 4) v128.store(row + (<usize>k << 2), f32x4.splat(0));
}

/** targets[0] = the center (label 1), then the `negative` noise draws that are not the center; returns their count. */
// @ts-ignore: decorator
@inline function drawTargets(center: i32, negative: i32, vocabSize: i32, aliasEntries: usize, rng: usize, targets: usize): i32 {
  store<i32>(targets, center);
  let count = 1;
  for (let d = 0; d < negative; d++) {
    const target = aliasDraw(aliasEntries, vocabSize, rng);
    if (target == center) continue;
    store<i32>(targets + (<usize>count << 2), target);
    count++;
  }
  return count;
}

/** The loss of the last targetGradient call (its second result; globals are per thread). */
let targetLoss: f32 = 0;

/**
 * g = (label - σ(f)) alpha for the center (label 1) or a noise word (label 0), σ from the
 * table, clamped to 0 / 1 outside it (word2vec.c); sets targetLoss to -log σ(f) for the
 * center, -log σ(-f) = f - log σ(f) for a noise word.
 */
// @ts-ignore: decorator
@inline function targetGradient(f: f32, center: bool, alpha: f32, sigmoidTable: usize, lossTable: usize): f32 {
  let sig: f32, minusLogSig: f32;
  if (f > SIGMOID_MAX_EXP) {
    sig = 1;
    minusLogSig = 0;
  } else if (f < -SIGMOID_MAX_EXP) {
    sig = 0;
    minusLogSig = -f;
  } else {
    const at = tableIndex(f) << 2;
    sig = load<f32>(sigmoidTable + at);
    minusLogSig = load<f32>(lossTable + at);
  }
  if (center) {
    targetLoss = minusLogSig;
    return (1 - sig) * alpha;
  }
  targetLoss = f + minusLogSig;
  return -sig * alpha;
}

/**
 * Negative sampling for hidden row l1 predicting `center`: neu1e += the gradient, the
 * target rows updated; returns the loss (neu1e zeroed and l1 updated by the caller).
 * word2vec.c draws a noise word, computes its dot product, updates its row, then draws
 * the next. The dot products only read rows that earlier steps of the pair did not
 * touch, unless a noise word repeats, so all are computed first (their cache misses
 * overlap; measured A/B on the benchmark corpus: +12-19% words/s, 721K -> 810K) and a repeated word's is recomputed after its
 * first update: the result is word2vec.c's sequential loop exactly.
 */
// @ts-ignore: decorator
@inline function negativeTargets(
  l1: usize, center: i32, alpha: f32, negative: i32, vocabSize: i32, dim: i32, syn1: usize, hot: usize, hotRows: i32,
  aliasEntries: usize, sigmoidTable: usize, lossTable: usize, rng: usize, neu1e: usize, targets: usize, dots: usize,
): f32 {
  const rowBytes = <usize>dim << 2;
  const count = drawTargets(center, negative, vocabSize, aliasEntries, rng, targets);
  for (let d = 0; d < count; d++) {
    store<f32>(dots + (<usize>d << 2), dotRow(l1, outputRow(syn1, hot, hotRows, load<i32>(targets + (<usize>d << 2)), rowBytes), dim));
  }
  let loss: f32 = 0;
  for (let d = 0; d < count; d++) {
    const target = load<i32>(targets + (<usize>d << 2));
    const l2 = outputRow(syn1, hot, hotRows, target, rowBytes);
    let f = load<f32>(dots + (<usize>d << 2));
    for (let e = 1; e < d; e++) {
      if (load<i32>(targets + (<usize>e << 2)) == target) {
        f = dotRow(l1, l2, dim);
        break;
      }
    }
    updateOutputRow(targetGradient(f, d == 0, alpha, sigmoidTable, lossTable), l1, l2, neu1e, dim);
    loss += targetLoss;
  }
  return loss;
}

/**
 * Hierarchical softmax for hidden row l1 predicting `center`, along its Huffman path
 * (root first): per inner node, f = l1 . node, g = (1 - code - σ(f)) alpha,
 * neu1e += g node, node += g l1. A node with |f| >= SIGMOID_MAX_EXP is skipped, as
 * word2vec.c and gensim skip it (its loss is still counted, with σ clamped to 0 / 1).
 * A path's nodes are distinct, so no update changes another node's dot product: they
 * are computed first, TREE_CHUNK at a time (their cache misses overlap), and the result
 * is word2vec.c's sequential loop exactly. Returns the path's loss, -Σ log σ((1 - 2 code) f).
 */
// @ts-ignore: decorator
@inline function treePath(
  l1: usize, center: i32, alpha: f32, dim: i32, treeVectors: usize, hotTree: usize, firstHotNode: i32,
  pathStarts: usize, paths: usize, sigmoidTable: usize, lossTable: usize, neu1e: usize, dots: usize,
): f32 {
  const rowBytes = <usize>dim << 2;
  const start = load<i32>(pathStarts + (<usize>center << 2)), end = load<i32>(pathStarts + (<usize>center << 2), 4);
  let loss: f32 = 0;
  for (let chunk = start; chunk < end; chunk += TREE_CHUNK) {
    const chunkEnd = min(end, chunk + TREE_CHUNK);
    for (let p = chunk; p < chunkEnd; p++) {
      const l2 = nodeRow(treeVectors, hotTree, firstHotNode, load<i32>(paths + (<usize>p << 2)) >> 1, rowBytes);
      store<f32>(dots + (<usize>(p - chunk) << 2), dotRow(l1, l2, dim));
    }
    for (let p = chunk; p < chunkEnd; p++) {
      const entry = load<i32>(paths + (<usize>p << 2));
      const f = load<f32>(dots + (<usize>(p - chunk) << 2));
      // label 1 - code: code 0 is the branch σ(f) predicts
      const label = (entry & 1) == 0;
      if (f <= -SIGMOID_MAX_EXP || f >= SIGMOID_MAX_EXP) {
        loss += label ? max(-f, 0) : max(f, 0);
        continue;
      }
      const l2 = nodeRow(treeVectors, hotTree, firstHotNode, entry >> 1, rowBytes);
      updateOutputRow(targetGradient(f, label, alpha, sigmoidTable, lossTable), l1, l2, neu1e, dim);
      loss += targetLoss;
    }
  }
  return loss;
}

/**
 * The window of kept[i] with shared negatives (see the header): the targets are the
 * center and its noise words (drawn here); the contexts, kept[first..last] but i, go in
 * chunks of CONTEXT_CHUNK positions, each chunk two small GEMMs (windowChunk). A row
 * that appears twice (a noise word drawn twice, a word twice in the window) trains once
 * with its multiplicity: the same sum of gradients, and no update lost to a second
 * copy of the row. Returns the window's loss.
 */
function windowNegative(
  kept: usize, i: i32, first: i32, last: i32, center: i32, alpha: f32, negative: i32, vocabSize: i32, dim: i32,
  syn0: usize, syn1: usize, hot: usize, hotRows: i32, aliasEntries: usize, sigmoidTable: usize, lossTable: usize, rng: usize,
  targetIds: usize, window: usize,
): f32 {
  const rowBytes = <usize>dim << 2;
  const padded = paddedTargets(negative + 1);
  const column = window;
  const zeroRows = column + (<usize>CONTEXT_CHUNK << 4);
  const grads = zeroRows + <usize>(TARGET_TILE - 1) * rowBytes;
  const targetRows = grads + (<usize>(CONTEXT_CHUNK * padded) << 2);
  const targetCounts = targetRows + (<usize>padded << 2);
  const contextRows = targetCounts + (<usize>padded << 2);
  const contextCounts = contextRows + (<usize>CONTEXT_CHUNK << 2);
  const drawn = drawTargets(center, negative, vocabSize, aliasEntries, rng, targetIds);
  // the center stays target 0 (label 1): no noise word equals it
  const targets = uniqueRows(targetIds, drawn, syn1, hot, hotRows, rowBytes, targetRows, targetCounts);
  const tiles = paddedTargets(targets);
  if (tiles > targets) memory.fill(zeroRows, 0, <usize>(tiles - targets) * rowBytes);
  for (let t = targets; t < tiles; t++) {
    store<usize>(targetRows + (<usize>t << 2), zeroRows + <usize>(t - targets) * rowBytes);
    store<f32>(targetCounts + (<usize>t << 2), 0);
  }
  let loss: f32 = 0;
  for (let chunk = first; chunk <= last; chunk += CONTEXT_CHUNK) {
    const chunkLast = min(last, chunk + CONTEXT_CHUNK - 1);
    let contexts = 0;
    for (let j = chunk; j <= chunkLast; j++) {
      if (j == i) continue;
      const row = syn0 + <usize>load<i32>(kept + (<usize>j << 2)) * rowBytes;
      contexts = addRow(row, contexts, contextRows, contextCounts);
    }
    if (contexts == 0) continue;
    loss += windowChunk(contexts, targets, tiles, alpha, dim, sigmoidTable, lossTable, column, grads, targetRows, targetCounts, contextRows, contextCounts);
  }
  return loss;
}

/** Add `row` to the distinct rows [count] (or count it once more); returns the new count. */
// @ts-ignore: decorator
@inline function addRow(row: usize, count: i32, rows: usize, counts: usize): i32 {
  for (let u = 0; u < count; u++) {
    if (load<usize>(rows + (<usize>u << 2)) == row) {
      store<f32>(counts + (<usize>u << 2), load<f32>(counts + (<usize>u << 2)) + 1);
      return count;
    }
  }
  store<usize>(rows + (<usize>count << 2), row);
  store<f32>(counts + (<usize>count << 2), 1);
  return count + 1;
}

/** The distinct output rows of `ids` [n] in first-seen order, with their counts; returns how many. */
function uniqueRows(ids: usize, n: i32, syn1: usize, hot: usize, hotRows: i32, rowBytes: usize, rows: usize, counts: usize): i32 {
  let count = 0;
  for (let d = 0; d < n; d++) {
    count = addRow(outputRow(syn1, hot, hotRows, load<i32>(ids + (<usize>d << 2)), rowBytes), count, rows, counts);
  }
  return count;
}

/**
 * One chunk of a shared-negative window as two small GEMMs (Ji et al. 2016): with X the
 * chunk's distinct context rows and T the distinct target rows (padded to whole tiles
 * with zero rows),
 *   F = X T^T;   G[c,t] = (label_t - σ(F[c,t])) alpha countX[c] countT[t]  (0 for padding)
 *   X += G T;    T += G^T X       (both from the rows as the chunk found them)
 * The update runs one 4-float column at a time: per column, each tile of TARGET_TILE
 * target rows is loaded once into registers and meets every context row (its share of
 * X += G T goes to the column scratch, T's is finished in registers); the contexts'
 * new values are stored when all tiles are done, so every tile reads the old X.
 * Returns the chunk's loss (each pair counted with its multiplicity).
 */
function windowChunk(
  contexts: i32, targets: i32, tiles: i32, alpha: f32, dim: i32, sigmoidTable: usize, lossTable: usize,
  column: usize, grads: usize, targetRows: usize, targetCounts: usize, contextRows: usize, contextCounts: usize,
): f32 {
  const rowBytes = <usize>dim << 2;
  let loss: f32 = 0;
  // F and G, 1 x TARGET_TILE dot products at a time (a 2 x TARGET_TILE tile measured no faster)
  for (let c = 0; c < contexts; c++) {
    const x = load<usize>(contextRows + (<usize>c << 2));
    const countX = load<f32>(contextCounts + (<usize>c << 2));
    const gRow = grads + (<usize>(c * tiles) << 2);
    for (let t = 0; t < tiles; t += TARGET_TILE) {
      const t0 = load<usize>(targetRows + (<usize>t << 2));
      const t1 = load<usize>(targetRows + (<usize>t << 2), 4);
      const t2 = load<usize>(targetRows + (<usize>t << 2), 8);
      let s0 = f32x4.splat(0), s1 = s0, s2 = s0;
      for (let o: usize = 0; o < rowBytes; o += 16) {
        const xv = v128.load(x + o);
        s0 = fmaF32x4(xv, v128.load(t0 + o), s0);
        s1 = fmaF32x4(xv, v128.load(t1 + o), s1);
        s2 = fmaF32x4(xv, v128.load(t2 + o), s2);
      }
      loss += chunkGradient(hsumF32x4(s0), t, targets, countX, alpha, sigmoidTable, lossTable, targetCounts, gRow);
      loss += chunkGradient(hsumF32x4(s1), t + 1, targets, countX, alpha, sigmoidTable, lossTable, targetCounts, gRow);
      loss += chunkGradient(hsumF32x4(s2), t + 2, targets, countX, alpha, sigmoidTable, lossTable, targetCounts, gRow);
    }
  }
  // X += G T and T += G^T X, one column at a time
  for (let o: usize = 0; o < rowBytes; o += 16) {
    for (let t = 0; t < tiles; t += TARGET_TILE) {
      const t0 = load<usize>(targetRows + (<usize>t << 2)) + o;
      const t1 = load<usize>(targetRows + (<usize>t << 2), 4) + o;
      const t2 = load<usize>(targetRows + (<usize>t << 2), 8) + o;
      const tv0 = v128.load(t0), tv1 = v128.load(t1), tv2 = v128.load(t2);
      let new0 = tv0, new1 = tv1, new2 = tv2;
      for (let c = 0; c < contexts; c++) {
        const xv = v128.load(load<usize>(contextRows + (<usize>c << 2)) + o);
        const g = grads + (<usize>(c * tiles + t) << 2);
        const g0 = v128.load32_splat(g), g1 = v128.load32_splat(g, 4), g2 = v128.load32_splat(g, 8);
        const col = column + (<usize>c << 4);
        let dx = t == 0 ? f32x4.splat(0) : v128.load(col);
        dx = fmaF32x4(g0, tv0, dx);
        dx = fmaF32x4(g1, tv1, dx);
        v128.store(col, fmaF32x4(g2, tv2, dx));
        new0 = fmaF32x4(g0, xv, new0);
        new1 = fmaF32x4(g1, xv, new1);
        new2 = fmaF32x4(g2, xv, new2);
      }
      v128.store(t0, new0);
      v128.store(t1, new1);
      v128.store(t2, new2);
    }
    for (let c = 0; c < contexts; c++) {
      const x = load<usize>(contextRows + (<usize>c << 2)) + o;
      v128.store(x, f32x4.add(v128.load(x), v128.load(column + (<usize>c << 4))));
    }
  }
  return loss;
}

/** G[c,t] (in gRow, context c's row of G) of one dot product f (see windowChunk; 0 for a padding target); returns its loss times the counts. */
// @ts-ignore: decorator
@inline function chunkGradient(
  f: f32, t: i32, targets: i32, countX: f32, alpha: f32, sigmoidTable: usize, lossTable: usize, targetCounts: usize, gRow: usize,
): f32 {
  const g = gRow + (<usize>t << 2);
  if (t >= targets) {
    store<f32>(g, 0);
    return 0;
  }
  const count = countX * load<f32>(targetCounts + (<usize>t << 2));
  store<f32>(g, targetGradient(f, t == 0, alpha, sigmoidTable, lossTable) * count);
  return targetLoss * count;
}

/**
 * Draw S distinct candidates for one center (stamp[c] == serial marks a drawn id) and
 * their log expected counts, TensorFlow's unique sampling: log(p S) when no draw was
 * rejected, else log(1 - (1 - p)^tries). Returns the center's own log Q.
 */
function drawCandidates(
  center: i32, numSampled: i32, vocabSize: i32, aliasEntries: usize, noiseProbability: usize, rng: usize,
  candidates: usize, logQ: usize, stamps: usize, serialSlot: usize,
): f32 {
  let serial = load<i32>(serialSlot) + 1;
  if (serial == i32.MAX_VALUE) {
    memory.fill(stamps, 0, <usize>vocabSize << 2);
    serial = 1;
  }
  store<i32>(serialSlot, serial);
  let tries = 0;
  let count = 0;
  while (count < numSampled) {
    const c = aliasDraw(aliasEntries, vocabSize, rng);
    tries++;
    const stamp = stamps + (<usize>c << 2);
    if (load<i32>(stamp) != serial) {
      store<i32>(stamp, serial);
      store<i32>(candidates + (<usize>count << 2), c);
      count++;
    }
  }
  for (let j = 0; j < numSampled; j++) {
    const p = load<f64>(noiseProbability + (<usize>load<i32>(candidates + (<usize>j << 2)) << 3));
    store<f32>(logQ + (<usize>j << 2), logExpectedCount(p, numSampled, tries));
  }
  return logExpectedCount(load<f64>(noiseProbability + (<usize>center << 3)), numSampled, tries);
}

// @ts-ignore: decorator
@inline function logExpectedCount(p: f64, numSampled: i32, tries: i32): f32 {
  return <f32>Math.log(tries == numSampled ? p * numSampled : -Math.expm1(<f64>tries * Math.log1p(-p)));
}

/**
 * Hidden row l1 predicting `center` with a softmax over [center, candidates] (hits
 * excluded), logits corrected by -log Q: neu1e += the gradient, rows updated; returns the loss.
 */
function sampledTargets(
  l1: usize, center: i32, alpha: f32, numSampled: i32, dim: i32, syn1: usize,
  candidates: usize, logQ: usize, centerLogQ: f32, logits: usize, neu1e: usize,
): f32 {
  const rowBytes = <usize>dim << 2;
  store<f32>(logits, dotRow(l1, syn1 + <usize>center * rowBytes, dim) - centerLogQ);
  for (let j = 0; j < numSampled; j++) {
    const c = load<i32>(candidates + (<usize>j << 2));
    const logit: f32 = c == center ? -Infinity : dotRow(l1, syn1 + <usize>c * rowBytes, dim) - load<f32>(logQ + (<usize>j << 2));
    store<f32>(logits + (<usize>(j + 1) << 2), logit);
  }
  const centerLogit = load<f32>(logits);
  const loss = softmaxRowInPlace(logits, numSampled + 1, 1) - centerLogit;
  // g = alpha (label - p): label 1 for the center, 0 for candidates
  updateOutputRow(alpha * (1 - load<f32>(logits)), l1, syn1 + <usize>center * rowBytes, neu1e, dim);
  for (let j = 0; j < numSampled; j++) {
    const c = load<i32>(candidates + (<usize>j << 2));
    if (c == center) continue;
    updateOutputRow(-alpha * load<f32>(logits + (<usize>(j + 1) << 2)), l1, syn1 + <usize>c * rowBytes, neu1e, dim);
  }
  return loss;
}

/** Hidden row l1 predicting `center` with the exact softmax over all V words, O(V D): neu1e += the gradient; returns the loss. */
function softmaxTargets(l1: usize, center: i32, alpha: f32, vocabSize: i32, dim: i32, syn1: usize, logits: usize, neu1e: usize): f32 {
  const rowBytes = <usize>dim << 2;
  for (let v = 0; v < vocabSize; v++) store<f32>(logits + (<usize>v << 2), dotRow(l1, syn1 + <usize>v * rowBytes, dim));
  const centerLogit = load<f32>(logits + (<usize>center << 2));
  const loss = softmaxRowInPlace(logits, vocabSize, 1) - centerLogit;
  for (let v = 0; v < vocabSize; v++) {
    const label: f32 = v == center ? 1 : 0;
    updateOutputRow(alpha * (label - load<f32>(logits + (<usize>v << 2))), l1, syn1 + <usize>v * rowBytes, neu1e, dim);
  }
  return loss;
}

/** sum_j syn0[kept[j]] / count over the window's context positions j in [first, last], j != i (word2vec.c divides the sum). */
function meanContext(kept: usize, i: i32, first: i32, last: i32, syn0: usize, dim: i32, neu1: usize): void {
  const rowBytes = <usize>dim << 2;
  zeroRow(neu1, dim);
  for (let j = first; j <= last; j++) {
    if (j == i) continue;
    updateInputRow(neu1, syn0 + <usize>load<i32>(kept + (<usize>j << 2)) * rowBytes, dim);
  }
  const count = f32x4.splat(<f32>(last - first));
  for (let o: usize = 0; o < rowBytes; o += 16) v128.store(neu1 + o, f32x4.div(v128.load(neu1 + o), count));
}

/** Train on one batch of sentences (see the header for layouts and the draw order). */
export function skipGramTrain(
  architecture: i32, loss: i32, hs: i32, vocabSize: i32, dim: i32, window: i32, negative: i32, numSampled: i32,
  syn0: usize, syn1: usize, treeVectors: usize, pathStarts: usize, paths: usize,
  keepThreshold: usize, aliasEntries: usize, noiseProbability: usize,
  sigmoidTable: usize, lossTable: usize, rng: usize, scratch: usize, maxSentence: i32,
  ids: usize, sentenceEnds: usize, alphas: usize, sentences: i32, stats: usize, shareNegatives: i32,
): void {
  const rowBytes = <usize>dim << 2;
  const thread = teamThread(), size = teamSize();
  const neu1e = region(scratch, S_NEU1E, thread, loss, vocabSize, dim, numSampled, maxSentence, negative);
  const neu1 = neu1e + rowBytes; // CBOW's hidden row
  const kept = region(scratch, S_KEPT, thread, loss, vocabSize, dim, numSampled, maxSentence, negative);
  const pairTargets = region(scratch, S_PAIR_TARGETS, thread, loss, vocabSize, dim, numSampled, maxSentence, negative);
  const pairDots = region(scratch, S_PAIR_DOTS, thread, loss, vocabSize, dim, numSampled, maxSentence, negative);
  const candidates = region(scratch, S_CANDIDATES, thread, loss, vocabSize, dim, numSampled, maxSentence, negative);
  const logQ = region(scratch, S_LOG_Q, thread, loss, vocabSize, dim, numSampled, maxSentence, negative);
  const logits = region(scratch, S_LOGITS, thread, loss, vocabSize, dim, numSampled, maxSentence, negative);
  const stamps = region(scratch, S_STAMPS, thread, loss, vocabSize, dim, numSampled, maxSentence, negative);
  const serialSlot = region(scratch, S_SERIAL, thread, loss, vocabSize, dim, numSampled, maxSentence, negative);
  const windowScratch = region(scratch, S_WINDOW, thread, loss, vocabSize, dim, numSampled, maxSentence, negative);
  const cbow = architecture == ARCH_CBOW;
  const windows = shareNegatives != 0; // the caller asks for it with skip-gram's negative sampling only
  // on a team, each thread works on its own copy of the hot output rows (see the header):
  // the most frequent words' rows, then the tree's most used inner nodes
  const hot = region(scratch, S_HOT, thread, loss, vocabSize, dim, numSampled, maxSentence, negative);
  const hotSnapshot = region(scratch, S_HOT_SNAPSHOT, thread, loss, vocabSize, dim, numSampled, maxSentence, negative);
  const hotCapacity = size > 1 && loss == LOSS_NEGATIVE ? hotRowCount(vocabSize, dim) : 0;
  const hotRows = negative > 0 ? (hs != 0 ? hotCapacity >> 1 : hotCapacity) : 0;
  const hotNodes = hs != 0 ? min(vocabSize - 1, hotCapacity - hotRows) : 0;
  const firstHotNode = vocabSize - 1 - hotNodes;
  const hotTree = hot + <usize>hotRows * rowBytes, hotTreeSnapshot = hotSnapshot + <usize>hotRows * rowBytes;
  const sharedHotTree = treeVectors + <usize>firstHotNode * rowBytes;
  if (hotRows > 0) loadHotRows(syn1, hot, hotSnapshot, hotRows, dim);
  if (hotNodes > 0) loadHotRows(sharedHotTree, hotTree, hotTreeSnapshot, hotNodes, dim);
  const syncEvery = max(HOT_SYNC_MIN_CENTERS, <i32>(<i64>HOT_SYNC_CENTERS * (hotRows + hotNodes) * dim / HOT_FLOATS));
  let sinceSync = 0;
  // one cache line per thread: threads writing one line would stall each other at every draw
  rng += <usize>thread << 6;
  const nextSentence = stats; // i32, 0 when the call starts
  stats += <usize>(thread + 1) << 6;

  let lossSum: f64 = 0;
  let pairs: f64 = 0;
  let keptWords: f64 = 0;
  for (let alone = 0; ; alone++) {
    const s = size > 1 ? atomic.add<i32>(nextSentence, 1) : alone;
    if (s >= sentences) break;
    const start = s == 0 ? 0 : load<i32>(sentenceEnds + (<usize>(s - 1) << 2));
    const end = load<i32>(sentenceEnds + (<usize>s << 2));
    const alpha = load<f32>(alphas + (<usize>s << 2));
    // subsampling: keep w when a u32 draw <= keepThreshold[w]
    let n = 0;
    for (let p = start; p < end; p++) {
      const w = load<i32>(ids + (<usize>p << 2));
      const threshold = load<u32>(keepThreshold + (<usize>w << 2));
      if (threshold != 0xffffffff && rngNextU32(rng) > threshold) continue;
      store<i32>(kept + (<usize>n << 2), w);
      n++;
    }
    keptWords += n;
    for (let i = 0; i < n; i++) {
      if (hotRows + hotNodes > 0 && ++sinceSync == syncEvery) {
        syncHotRows(syn1, hot, hotSnapshot, hotRows, dim);
        syncHotRows(sharedHotTree, hotTree, hotTreeSnapshot, hotNodes, dim);
        sinceSync = 0;
      }
      const center = load<i32>(kept + (<usize>i << 2));
      const span = window - <i32>(rngNextU32(rng) % <u32>window);
      let centerLogQ: f32 = 0;
      if (loss == LOSS_SAMPLED) {
        centerLogQ = drawCandidates(center, numSampled, vocabSize, aliasEntries, noiseProbability, rng, candidates, logQ, stamps, serialSlot);
      }
      const first = max(0, i - span);
      const last = min(n - 1, i + span);
      if (last == first) continue; // no context word: no draws
      if (windows) {
        lossSum += windowNegative(
          kept, i, first, last, center, alpha, negative, vocabSize, dim, syn0, syn1, hot, hotRows, aliasEntries, sigmoidTable, lossTable, rng,
          pairTargets, windowScratch,
        );
        pairs += last - first;
        continue;
      }
      // skip-gram: one pair per context word, whose row is the hidden row; CBOW: one
      // prediction from the mean of the context rows
      const predictions = cbow ? 1 : last - first;
      for (let q = 0; q < predictions; q++) {
        let l1 = neu1;
        if (cbow) {
          meanContext(kept, i, first, last, syn0, dim, neu1);
        } else {
          const j = first + q < i ? first + q : first + q + 1;
          l1 = syn0 + <usize>load<i32>(kept + (<usize>j << 2)) * rowBytes;
        }
        zeroRow(neu1e, dim);
        let pairLoss: f32 = 0;
        if (hs != 0) {
          pairLoss += treePath(l1, center, alpha, dim, treeVectors, hotTree, firstHotNode, pathStarts, paths, sigmoidTable, lossTable, neu1e, pairDots);
        }
        if (loss == LOSS_NEGATIVE) {
          if (negative > 0) {
            pairLoss += negativeTargets(
              l1, center, alpha, negative, vocabSize, dim, syn1, hot, hotRows, aliasEntries, sigmoidTable, lossTable, rng, neu1e, pairTargets, pairDots,
            );
          }
        } else if (loss == LOSS_SAMPLED) {
          pairLoss += sampledTargets(l1, center, alpha, numSampled, dim, syn1, candidates, logQ, centerLogQ, logits, neu1e);
        } else {
          pairLoss += softmaxTargets(l1, center, alpha, vocabSize, dim, syn1, logits, neu1e);
        }
        if (cbow) {
          for (let j = first; j <= last; j++) {
            if (j != i) updateInputRow(syn0 + <usize>load<i32>(kept + (<usize>j << 2)) * rowBytes, neu1e, dim);
          }
        } else {
          updateInputRow(l1, neu1e, dim);
        }
        lossSum += pairLoss;
        pairs++;
      }
    }
  }
  // the call's last changes reach the shared rows before the caller reads or saves them
  if (hotRows + hotNodes > 0) {
    syncHotRows(syn1, hot, hotSnapshot, hotRows, dim);
    syncHotRows(sharedHotTree, hotTree, hotTreeSnapshot, hotNodes, dim);
  }
  store<f64>(stats, load<f64>(stats) + lossSum);
  store<f64>(stats, load<f64>(stats, 8) + pairs, 8);
  store<f64>(stats, load<f64>(stats, 16) + keptWords, 16);
}
