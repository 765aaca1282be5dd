// Cosine similarity queries over a vocabulary's vectors, gensim's conventions:
// vectors are compared as unit vectors, a query of several words is the normalised
// sum of their signed unit vectors (3CosAdd for analogies), and the query words
// themselves are never returned. Batches of queries (the analogy benchmark) go
// through the backend's GEMM.

import { WeftError } from '../../errors.js';
import type { MatmulFn } from '../matmul.js';

/** [word, cosine] pairs, best first. */
export type Similar = [string, number][];

export class VectorSpace {
  /** Unit rows [V, dim] (zero vectors stay zero). */
  readonly unit: Float32Array;

  constructor(
    readonly words: readonly string[],
    readonly vectors: Float32Array,
    readonly dim: number,
    private readonly matmul: MatmulFn,
  ) {
    this.unit = new Float32Array(vectors.length);
    for (let v = 0; v < words.length; v++) {
      let sq = 0;
      for (let k = 0; k < dim; k++) sq += vectors[v * dim + k] ** 2;
      const scale = sq > 0 ? 1 / Math.sqrt(sq) : 0;
      for (let k = 0; k < dim; k++) this.unit[v * dim + k] = vectors[v * dim + k] * scale;
    }
  }

  /** Normalised Σ sign · unit(word): gensim's mean vector of positive and negative words. */
  combine(terms: { id: number; sign: number }[]): Float32Array {
    const { dim, unit } = this;
    const query = new Float64Array(dim);
    for (const { id, sign } of terms) for (let k = 0; k < dim; k++) query[k] += sign * unit[id * dim + k];
    return normalise(query);
  }

  /** Cosine of two ids. */
  similarity(a: number, b: number): number {
    const { dim, unit } = this;
    let s = 0;
    for (let k = 0; k < dim; k++) s += unit[a * dim + k] * unit[b * dim + k];
    return s;
  }

  /** The topN best ids by cosine with a unit query, among the first `limit`, skipping `exclude`. */
  nearest(query: Float32Array, topN: number, exclude: ReadonlySet<number>, limit = this.words.length): Similar {
    const { dim, unit } = this;
    const scores = new Float32Array(limit);
    for (let v = 0; v < limit; v++) {
      let s = 0;
      for (let k = 0; k < dim; k++) s += unit[v * dim + k] * query[k];
      scores[v] = s;
    }
    return this.best(scores, 0, limit, topN, exclude).map((id) => [this.words[id], scores[id]]);
  }

  /** Ids of the topN highest scores[offset + v], v < limit, skipping excluded ids; best first. */
  best(scores: Float32Array, offset: number, limit: number, topN: number, exclude: ReadonlySet<number>): number[] {
    const top: number[] = [];
    for (let v = 0; v < limit; v++) {
      if (exclude.has(v)) continue;
      const s = scores[offset + v];
      if (top.length === topN && !(s > scores[offset + top[topN - 1]])) continue;
      let at = top.length === topN ? topN - 1 : top.length;
      while (at > 0 && scores[offset + top[at - 1]] < s) {
        top[at] = top[at - 1];
        at--;
      }
      top[at] = v;
    }
    return top;
  }

  /** scores [queries, limit] = queries [q, dim] @ unit[0, limit)ᵀ, on the backend. */
  scoreBatch(queries: Float32Array, count: number, limit: number): Float32Array {
    const { dim } = this;
    const a = { data: queries, shape: [count, dim] };
    const b = { data: this.unit.subarray(0, limit * dim), shape: [limit, dim] };
    return this.matmul(a, b, { transposeB: true }).data;
  }
}

/** v / |v|; RANGE (naming `op`) for a zero vector, which has no direction. */
export function normalise(v: ArrayLike<number>, op = 'query vector'): Float32Array {
  let sq = 0;
  for (let k = 0; k < v.length; k++) sq += v[k] * v[k];
  if (!(sq > 0)) throw new WeftError('RANGE', `${op}: the query vector is zero (or not finite), so it has no direction to compare`);
  const scale = 1 / Math.sqrt(sq);
  return Float32Array.from(v, (x) => x * scale);
}
