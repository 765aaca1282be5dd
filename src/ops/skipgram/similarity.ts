// Cosine similarity over a vocabulary's vectors, gensim's KeyedVectors conventions:
// words are compared through their unit vectors, and a search scores every word
// against a unit query. The scores come from the backend's similarity table
// (SimilarityKernels): the unit vectors copied once into the backend (WASM memory) and
// multiplied there by the shared GEMM, so a query over 100K words is one mat-vec, not
// a JS loop over V * dim (see bench/skipgram.ts, row "mostSimilar"). The table is
// built on the first search and freed by releaseTable() (the model's dispose, or new
// vectors after training).

import { WeftError } from '../../errors.js';
import type { SimilarityKernels, SimilarityTable } from './kernels.js';

/** [word, score] pairs, best first (the score is a cosine, or 3CosMul's ratio). */
export type Similar = [string, number][];

/** gensim's epsilon in 3CosMul's denominator (most_similar_cosmul). */
export const COSMUL_EPSILON = 1e-6;

// A space dropped without releaseTable() frees its table when collected.
const orphanedTables =
  typeof FinalizationRegistry === 'function' ? new FinalizationRegistry<SimilarityTable>((table) => table.dispose()) : undefined;

export class VectorSpace {
  private table?: SimilarityTable;

  /** `vectors` [V, dim] in the order of `words`; `index` maps each word to its row. */
  constructor(
    readonly words: readonly string[],
    readonly index: ReadonlyMap<string, number>,
    readonly vectors: Float32Array,
    readonly dim: number,
    private readonly kernels: SimilarityKernels,
  ) {}

  get size(): number {
    return this.words.length;
  }

  /** The unit vector of row `id` written into `out` at `offset` (a zero vector stays zero), as the table holds it. */
  unitRow(id: number, out: Float32Array = new Float32Array(this.dim), offset = 0): Float32Array {
    const { dim, vectors } = this;
    const row = id * dim;
    let sq = 0;
    for (let k = 0; k < dim; k++) sq += vectors[row + k] * vectors[row + k];
    const scale = sq > 0 ? 1 / Math.sqrt(sq) : 0;
    for (let k = 0; k < dim; k++) out[offset + k] = vectors[row + k] * scale;
    return out;
  }

  /** Cosine of rows a and b (0 when either vector is zero, as gensim's unitvec leaves it zero). */
  similarity(a: number, b: number): number {
    const ua = this.unitRow(a), ub = this.unitRow(b);
    let s = 0;
    for (let k = 0; k < this.dim; k++) s += ua[k] * ub[k];
    return s;
  }

  /** scores [count, limit] = queries [count, dim] @ unit[0, limit)ᵀ, on the backend. */
  scores(queries: Float32Array, count: number, limit: number): Float32Array {
    if (!this.table) {
      const { size, dim } = this;
      const unit = new Float32Array(size * dim);
      for (let v = 0; v < size; v++) this.unitRow(v, unit, v * dim);
      this.table = this.kernels.similarityTable(unit, size, dim);
      orphanedTables?.register(this, this.table, this);
    }
    return this.table.scores(queries, count, limit);
  }

  /**
   * Ids of the topN highest scores[offset + v], v < limit, skipping excluded ids; best
   * first. Equal scores keep id order (the more frequent word first); gensim's order for
   * exact ties is numpy's argpartition's, which is not specified.
   */
  best(scores: ArrayLike<number>, offset: number, limit: number, topN: number, exclude: ReadonlySet<number>): number[] {
    const top: number[] = [];
    // once topN are held, most words fail one comparison with the topN-th score (a Set
    // lookup per word first made this 1.3 ms at V = 100K)
    let full = false, threshold = -Infinity;
    for (let v = 0; v < limit; v++) {
      const s = scores[offset + v];
      if (full && !(s > threshold)) continue;
      if (exclude.has(v)) continue;
      let at = full ? topN - 1 : top.length;
      while (at > 0 && scores[offset + top[at - 1]] < s) {
        top[at] = top[at - 1];
        at--;
      }
      top[at] = v;
      if (top.length === topN) {
        full = true;
        threshold = scores[offset + top[topN - 1]];
      }
    }
    return top;
  }

  /** Free the backend's table (the space stays usable: the next search builds it again). */
  releaseTable(): void {
    if (!this.table) return;
    orphanedTables?.unregister(this);
    this.table.dispose();
    this.table = undefined;
  }
}

/** v / |v| in f32; RANGE (`what` names it) for a zero vector, which has no direction. */
export function normalise(v: ArrayLike<number>, what: string): Float32Array {
  let sq = 0;
  for (let k = 0; k < v.length; k++) sq += v[k] * v[k];
  if (!(sq > 0)) throw new WeftError('RANGE', `${what} is the zero vector: it has no direction to compare`);
  const scale = 1 / Math.sqrt(sq);
  return Float32Array.from(v, (x) => x * scale);
}

/**
 * 3CosMul (Levy & Goldberg 2014, eq. 4, as gensim's most_similar_cosmul): for each word,
 * Π_p (1 + cos_p) / 2 / (Π_n (1 + cos_n) / 2 + ε), the cosines shifted to [0, 1]; with
 * no negative term the denominator is 1 + ε (numpy's empty product). `scores` holds the
 * cosine rows of the positive terms at `positive`, of the negative ones at `negative`,
 * each row `limit` long.
 */
export function cosmulScores(scores: Float32Array, limit: number, positive: readonly number[], negative: readonly number[]): Float64Array {
  // term offsets in typed arrays, indexed loops: for...of over the term lists inside the loop
  // over the words took 1.4 ms at V = 100K and 3 terms, a pass per term 1.2 ms, this 0.7
  const positiveAt = Int32Array.from(positive, (row) => row * limit), negativeAt = Int32Array.from(negative, (row) => row * limit);
  const out = new Float64Array(limit);
  for (let v = 0; v < limit; v++) {
    let numerator = 1, denominator = 1;
    for (let i = 0; i < positiveAt.length; i++) numerator *= (1 + scores[positiveAt[i] + v]) / 2;
    for (let i = 0; i < negativeAt.length; i++) denominator *= (1 + scores[negativeAt[i] + v]) / 2;
    out[v] = numerator / (denominator + COSMUL_EPSILON);
  }
  return out;
}
