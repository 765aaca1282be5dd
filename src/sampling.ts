// Candidate samplers over ids [0, V), O(1) per draw, all driven by the one seeded
// generator (src/rng.ts) so a seed gives the same ids everywhere:
//  - AliasTable: Walker/Vose alias method for any distribution (unigram^power).
//    Two u32 draws per sample: a column (multiply-high, no modulo bias beyond
//    V / 2^32) and an acceptance test against a u32 threshold. Integer-only, so
//    assembly/sampling.ts reproduces the JS draws bit for bit from the same table.
//  - LogUniformSampler: TensorFlow's log_uniform_candidate_sampler by inverse CDF,
//    P(c) = log((c+2)/(c+1)) / log(V+1), no table.
//  - UniformSampler.
// sampleUniqueCandidates draws without replacement the way TensorFlow's samplers do
// with unique=True (reject repeats, count the tries) and gives the expected counts
// Q that sampled softmax subtracts as log Q.

import type { Rng } from './rng.js';

export interface Sampler {
  /** Number of classes V. */
  readonly size: number;
  /** One id in [0, V). */
  draw(rng: Rng): number;
  /** Probability of drawing `id` in one draw. */
  probability(id: number): number;
}

/** floor(u * n / 2^32) exactly for u < 2^32, n < 2^31 (the u64 multiply-high of assembly/sampling.ts). */
export function mulHigh32(u: number, n: number): number {
  const hi = u >>> 16, lo = u & 0xffff;
  return Math.floor((hi * n + Math.floor((lo * n) / 65536)) / 65536);
}

/**
 * Vose's alias table. `entries` interleaves [threshold, alias] per column, the
 * layout assembly/sampling.ts reads (one cache line per draw): column c is kept
 * when a u32 draw < threshold[c], otherwise its alias is returned.
 */
export class AliasTable implements Sampler {
  readonly size: number;
  readonly entries: Uint32Array;

  /** weights: V non-negative finite numbers with a positive sum (validated by the caller). */
  constructor(weights: ArrayLike<number>) {
    const n = weights.length;
    this.size = n;
    this.entries = new Uint32Array(2 * n);
    let total = 0;
    for (let i = 0; i < n; i++) total += weights[i];
    const scaled = new Float64Array(n);
    const small = new Int32Array(n), large = new Int32Array(n);
    let nSmall = 0, nLarge = 0;
    for (let i = 0; i < n; i++) {
      scaled[i] = (weights[i] * n) / total;
      if (scaled[i] < 1) small[nSmall++] = i;
      else large[nLarge++] = i;
    }
    while (nSmall > 0 && nLarge > 0) {
      const s = small[--nSmall], l = large[nLarge - 1];
      this.set(s, scaled[s], l);
      // the large column gives away what fills the small one
      scaled[l] = scaled[l] + scaled[s] - 1;
      if (scaled[l] < 1) {
        nLarge--;
        small[nSmall++] = l;
      }
    }
    // leftovers are 1 up to rounding: always keep (alias = itself)
    while (nLarge > 0) {
      const column = large[--nLarge];
      this.set(column, 1, column);
    }
    while (nSmall > 0) {
      const column = small[--nSmall];
      this.set(column, 1, column);
    }
  }

  private set(column: number, keep: number, alias: number): void {
    this.entries[2 * column] = Math.min(0xffffffff, Math.round(keep * 4294967296));
    this.entries[2 * column + 1] = alias;
  }

  draw(rng: Rng): number {
    const column = mulHigh32(rng.nextU32(), this.size);
    return rng.nextU32() < this.entries[2 * column] ? column : this.entries[2 * column + 1];
  }

  /** The exact distribution the table encodes, O(V): P(keep column c) = threshold[c] / 2^32. */
  distribution(): Float64Array {
    const p = new Float64Array(this.size);
    for (let c = 0; c < this.size; c++) {
      const keep = this.entries[2 * c] / 4294967296;
      p[c] += keep / this.size;
      p[this.entries[2 * c + 1]] += (1 - keep) / this.size;
    }
    return p;
  }

  /** O(V): use WeightedSampler when probabilities are needed per draw. */
  probability(id: number): number {
    return this.distribution()[id];
  }
}

/** An alias table whose probability() is O(1), from weights it keeps normalised. */
export class WeightedSampler implements Sampler {
  readonly size: number;
  readonly table: AliasTable;
  /** Ids with a positive probability. */
  readonly support: number;
  private readonly normalised: Float64Array;

  constructor(weights: ArrayLike<number>) {
    this.size = weights.length;
    this.table = new AliasTable(weights);
    let total = 0, support = 0;
    for (let i = 0; i < weights.length; i++) {
      total += weights[i];
      if (weights[i] > 0) support++;
    }
    this.support = support;
    this.normalised = Float64Array.from(weights, (w) => w / total);
  }

  draw(rng: Rng): number {
    return this.table.draw(rng);
  }

  probability(id: number): number {
    return this.normalised[id];
  }
}

/** Uniform over [0, V). */
export class UniformSampler implements Sampler {
  constructor(readonly size: number) {}

  draw(rng: Rng): number {
    return mulHigh32(rng.nextU32(), this.size);
  }

  probability(): number {
    return 1 / this.size;
  }
}

/** TensorFlow's log-uniform (Zipfian) sampler, for ids sorted by descending frequency. */
export class LogUniformSampler implements Sampler {
  private readonly logRange: number;

  constructor(readonly size: number) {
    this.logRange = Math.log(size + 1);
  }

  draw(rng: Rng): number {
    // 53-bit uniform in [0, 1): 24 bits would leave the rarest ids of a 1M vocabulary unreachable
    const u = ((rng.nextU32() >>> 5) * 67108864 + (rng.nextU32() >>> 6)) / 9007199254740992;
    const id = Math.floor(Math.exp(u * this.logRange)) - 1;
    return Math.min(Math.max(id, 0), this.size - 1);
  }

  probability(id: number): number {
    return Math.log((id + 2) / (id + 1)) / this.logRange;
  }
}

/** Weights count^power for a unigram sampler (word2vec: power 0.75). */
export function unigramWeights(counts: ArrayLike<number>, power: number): Float64Array {
  return Float64Array.from(counts as ArrayLike<number>, (c) => (c > 0 ? Math.pow(c, power) : 0));
}

/**
 * Expected number of times `id` appears among `numSampled` unique candidates that took
 * `tries` draws (TensorFlow's RangeSampler::ExpectedCountHelper): p * numSampled when
 * no draw was rejected, else 1 - (1 - p)^tries.
 */
export function expectedCount(p: number, numSampled: number, tries: number): number {
  if (tries === numSampled) return p * numSampled;
  return -Math.expm1(tries * Math.log1p(-p));
}

export interface Candidates {
  /** numSampled distinct ids, in draw order. */
  ids: Int32Array;
  /** Draws it took, repeats included. */
  tries: number;
}

/** numSampled distinct ids by rejecting repeats (TensorFlow's unique=True). The caller ensures enough ids have p > 0. */
export function sampleUniqueCandidates(sampler: Sampler, numSampled: number, rng: Rng): Candidates {
  const ids = new Int32Array(numSampled);
  const seen = new Set<number>();
  let tries = 0;
  while (seen.size < numSampled) {
    const id = sampler.draw(rng);
    tries++;
    if (!seen.has(id)) {
      ids[seen.size] = id;
      seen.add(id);
    }
  }
  return { ids, tries };
}
