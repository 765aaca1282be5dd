import { beforeAll, describe, expect, it } from 'vitest';
import { createWeft, type Tensor, type Weft } from '../src/index.js';
import { Rng } from '../src/rng.js';
import {
  AliasTable, LogUniformSampler, UniformSampler, WeightedSampler, expectedCount, mulHigh32, sampleUniqueCandidates, unigramWeights,
} from '../src/sampling.js';
import { backendsUnderTest, expectClose, expectWeftError, type Tolerance } from './helpers.js';

// ---- direct f64 formulas, written here independently of src/ -------------------

function lse(values: number[]): number {
  const m = Math.max(...values);
  return m + Math.log(values.reduce((s, v) => s + Math.exp(v - m), 0));
}

function rowDot(a: Float32Array | Float64Array, i: number, b: Float32Array | Float64Array, v: number, h: number): number {
  let s = 0;
  for (let k = 0; k < h; k++) s += a[i * h + k] * b[v * h + k];
  return s;
}

/** Mean cross-entropy of softmax(input @ Wᵀ + b) over all classes. */
function fullLoss(input: Float64Array, weights: Float64Array, bias: Float64Array | undefined, targets: Int32Array, h: number): number {
  const N = targets.length, V = weights.length / h;
  let total = 0;
  for (let i = 0; i < N; i++) {
    const logits = Array.from({ length: V }, (_, v) => rowDot(input, i, weights, v, h) + (bias ? bias[v] : 0));
    total += lse(logits) - logits[targets[i]];
  }
  return total / N;
}

/** TF sampled_softmax_loss for fixed candidates and log Q values. */
function sampledLoss(
  input: Float64Array, weights: Float64Array, bias: Float64Array | undefined, targets: Int32Array, h: number,
  candidates: Int32Array, logQ: (id: number) => number, removeHits: boolean,
): number {
  let total = 0;
  for (let i = 0; i < targets.length; i++) {
    const t = targets[i];
    const logit = (id: number) => rowDot(input, i, weights, id, h) + (bias ? bias[id] : 0) - logQ(id);
    const row = [logit(t)];
    for (const c of candidates) if (!(removeHits && c === t)) row.push(logit(c));
    total += lse(row) - row[0];
  }
  return total / targets.length;
}

const softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));

/** word2vec SGNS loss for fixed negatives [N, k], skipping negatives equal to the target. */
function negativeLoss(input: Float64Array, weights: Float64Array, targets: Int32Array, negatives: Int32Array, h: number): number {
  const k = negatives.length / targets.length;
  let total = 0;
  for (let i = 0; i < targets.length; i++) {
    total += softplus(-rowDot(input, i, weights, targets[i], h));
    for (let d = 0; d < k; d++) {
      const n = negatives[i * k + d];
      if (n !== targets[i]) total += softplus(rowDot(input, i, weights, n, h));
    }
  }
  return total / targets.length;
}

/** word2vec hierarchical softmax loss: -Σ log σ((1 - 2 code) w_node·x) along each target's path. */
function hierarchicalLoss(
  input: Float64Array, weights: Float64Array, targets: Int32Array, h: number, path: (c: number) => { points: Int32Array; codes: Uint8Array },
): number {
  let total = 0;
  for (let i = 0; i < targets.length; i++) {
    const { points, codes } = path(targets[i]);
    for (let d = 0; d < points.length; d++) {
      const f = rowDot(input, i, weights, points[d], h);
      total += softplus(codes[d] ? f : -f);
    }
  }
  return total / targets.length;
}

/** Central differences of f at every element of x (f64, step 1e-5: error ~1e-10, far below the f32 results checked). */
function finiteDifferences(f: (x: Float64Array) => number, x: Float64Array, indices: Iterable<number> = x.keys()): Map<number, number> {
  const eps = 1e-5;
  const grads = new Map<number, number>();
  for (const i of indices) {
    const keep = x[i];
    x[i] = keep + eps;
    const up = f(x);
    x[i] = keep - eps;
    const down = f(x);
    x[i] = keep;
    grads.set(i, (up - down) / (2 * eps));
  }
  return grads;
}

function ids(values: number[]): Int32Array {
  return Int32Array.from(values);
}

function randomIds(n: number, limit: number, seed: number): Int32Array {
  const rng = new Rng(seed);
  return Int32Array.from({ length: n }, () => rng.nextBelow(limit));
}

function f64(t: Tensor): Float64Array {
  return Float64Array.from(t.data);
}

// f32 results against f64 formulas: a logit is a length-h dot (error ~ sqrt(h) eps32 |x||w|),
// probabilities carry that relative error, and a gradient entry sums up to V (full) or
// S terms of them, so entries are checked to 1e-4 relative plus an absolute floor of
// 2e-5 of the largest entry (gradients of a mean over N rows can be ~1e-5 themselves).
const LOSS_TOL = 2e-5;

function expectGradClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  let largest = 0;
  for (let i = 0; i < expected.length; i++) largest = Math.max(largest, Math.abs(expected[i]));
  const tol: Tolerance = { atol: 2e-5 * largest + 1e-9, rtol: 1e-4 };
  expectClose(actual, expected, tol, what);
}

describe.each(backendsUnderTest())('softmax on $label', ({ label, create }) => {
  let weft: Weft;
  beforeAll(async () => {
    weft = await create();
  });

  it('answers a call without arguments with a WeftError, not a TypeError', () => {
    for (const call of [
      () => weft.softmax.crossEntropy(undefined as never),
      () => weft.softmax.full(undefined as never),
      () => weft.softmax.sampled(undefined as never),
      () => weft.softmax.negativeSampling(undefined as never),
      () => weft.softmax.hierarchical(undefined as never),
    ]) {
      // the same code as every other op's missing argument bag
      expectWeftError(call, 'OPTION', /softmax\.\w+: expected an options object \{ \w+, .*\}, got undefined/);
    }
    expectWeftError(() => weft.softmax.full(null as never), 'OPTION', /expected an options object/);
    expectWeftError(() => weft.softmax.full([] as never), 'OPTION', /expected an options object/);
  });

  describe('crossEntropy', () => {
    it('matches a hand-computed case', () => {
      // logits [1, 2, 3], target 2: loss = log(e + e^2 + e^3) - 3 = 0.40760596
      const { loss, dlogits } = weft.softmax.crossEntropy({ logits: weft.tensor(new Float32Array([1, 2, 3]), [1, 3]), targets: ids([2]) });
      expect(loss).toBeCloseTo(0.40760596, 6);
      const z = Math.exp(1) + Math.exp(2) + Math.exp(3);
      expectClose(dlogits.data, [Math.exp(1) / z, Math.exp(2) / z, Math.exp(3) / z - 1], { atol: 1e-6, rtol: 1e-6 }, 'dlogits');
    });

    for (const [N, V] of [[1, 1], [3, 7], [17, 130], [2, 1027]]) {
      it(`matches the direct formula and finite differences at N=${N} V=${V}`, () => {
        const logits = weft.randn([N, V], N * 31 + V);
        for (let i = 0; i < logits.data.length; i++) logits.data[i] *= 3;
        const targets = randomIds(N, V, V);
        const { loss, dlogits } = weft.softmax.crossEntropy({ logits, targets });
        const reference = (x: Float64Array) => {
          let total = 0;
          for (let i = 0; i < N; i++) {
            const row = Array.from(x.subarray(i * V, (i + 1) * V));
            total += lse(row) - row[targets[i]];
          }
          return total / N;
        };
        const x = f64(logits);
        expect(Math.abs(loss - reference(x))).toBeLessThan(LOSS_TOL * Math.max(1, reference(x)));
        // every element up to 1000, then a stride through the rest (and every target)
        const stride = Math.max(1, Math.floor(x.length / 1000));
        const checked = [...new Set([...Array.from({ length: Math.ceil(x.length / stride) }, (_, j) => j * stride), ...Array.from(targets, (t, i) => i * V + t)])];
        const fd = finiteDifferences(reference, x, checked);
        expectGradClose(checked.map((j) => dlogits.data[j]), checked.map((j) => fd.get(j)!), 'dlogits vs finite differences');
      });
    }
  });

  describe('full', () => {
    for (const [N, V, h] of [[1, 1, 1], [3, 17, 5], [17, 33, 19], [4, 130, 9]]) {
      it(`matches the direct formula and finite differences at N=${N} V=${V} h=${h}`, () => {
        const input = weft.randn([N, h], 1 + N);
        const weights = weft.randn([V, h], 2 + V);
        const bias = weft.randn([V], 3);
        const targets = randomIds(N, V, 4 + h);
        const out = weft.softmax.full({ input, weights, bias, targets });
        const x = f64(input), w = f64(weights), b = f64(bias);
        const ref = fullLoss(x, w, b, targets, h);
        expect(Math.abs(out.loss - ref)).toBeLessThan(LOSS_TOL * Math.max(1, ref) * Math.sqrt(h));
        expectGradClose(out.dInput.data, [...finiteDifferences((v) => fullLoss(v, w, b, targets, h), x).values()], 'dInput');
        expectGradClose(out.dWeights.data, [...finiteDifferences((v) => fullLoss(x, v, b, targets, h), w).values()], 'dWeights');
        expectGradClose(out.dBias!.data, [...finiteDifferences((v) => fullLoss(x, w, v, targets, h), b).values()], 'dBias');
        expect(out.dInput.shape).toEqual([N, h]);
        expect(out.dWeights.shape).toEqual([V, h]);
      });
    }

    it('omits dBias without a bias and agrees with crossEntropy on input @ Wᵀ', () => {
      const [N, V, h] = [6, 23, 11];
      const input = weft.randn([N, h], 5);
      const weights = weft.randn([V, h], 6);
      const targets = randomIds(N, V, 7);
      const out = weft.softmax.full({ input, weights, targets });
      expect(out.dBias).toBeUndefined();
      const logits = weft.matmul(input, weights, { transposeB: true });
      const ce = weft.softmax.crossEntropy({ logits, targets });
      expect(out.loss).toBeCloseTo(ce.loss, 5);
    });
  });

  describe('sampled', () => {
    it('draws the documented candidates and matches TF’s formula and finite differences', () => {
      const [N, V, h, S] = [5, 41, 7, 9];
      const input = weft.randn([N, h], 11);
      const weights = weft.randn([V, h], 12);
      const bias = weft.randn([V], 13);
      const targets = ids([0, 3, 3, 40, 17]);
      for (const sampler of ['log-uniform', 'uniform', 'unigram'] as const) {
        const counts = Array.from({ length: V }, (_, i) => 1000 / (i + 1) + (i % 3));
        const out = weft.softmax.sampled({ input, weights, bias, targets, numSampled: S, sampler, counts, seed: 99 });
        // the same procedure, replayed: unique draws from the sampler, counting tries
        const reference =
          sampler === 'uniform' ? new UniformSampler(V) : sampler === 'log-uniform' ? new LogUniformSampler(V) : new WeightedSampler(unigramWeights(counts, 0.75));
        const { ids: candidates, tries } = sampleUniqueCandidates(reference, S, new Rng(99));
        expect(Array.from(out.sampled)).toEqual(Array.from(candidates));
        expect(new Set(out.sampled).size).toBe(S);
        // rows: candidates in draw order, then targets not among them, each once
        expect(new Set(out.rows).size).toBe(out.rows.length);
        expect(Array.from(out.rows.subarray(0, S))).toEqual(Array.from(candidates));
        for (const t of targets) expect(out.rows).toContain(t);

        const logQ = (id: number) => Math.log(expectedCount(reference.probability(id), S, tries));
        const x = f64(input), w = f64(weights), b = f64(bias);
        const lossOf = (xv: Float64Array, wv: Float64Array, bv: Float64Array) => sampledLoss(xv, wv, bv, targets, h, candidates, logQ, true);
        const ref = lossOf(x, w, b);
        expect(Math.abs(out.loss - ref), sampler).toBeLessThan(1e-5 * Math.max(1, ref));
        expectGradClose(out.dInput.data, [...finiteDifferences((v) => lossOf(v, w, b), x).values()], `${sampler} dInput`);
        const rowIndices = Array.from(out.rows).flatMap((id) => Array.from({ length: h }, (_, k) => id * h + k));
        const fdW = finiteDifferences((v) => lossOf(x, v, b), w, rowIndices);
        expectGradClose(out.dRows.data, rowIndices.map((j) => fdW.get(j)!), `${sampler} dRows`);
        const fdB = finiteDifferences((v) => lossOf(x, w, v), b, out.rows);
        expectGradClose(out.dBiasRows!.data, Array.from(out.rows, (id) => fdB.get(id)!), `${sampler} dBiasRows`);
      }
    });

    it('keeps accidental hits and skips the correction when asked', () => {
      const [N, V, h, S] = [4, 12, 6, 8];
      const input = weft.randn([N, h], 21);
      const weights = weft.randn([V, h], 22);
      const targets = ids([1, 2, 5, 0]);
      const out = weft.softmax.sampled({
        input, weights, targets, numSampled: S, sampler: 'uniform', removeAccidentalHits: false, subtractLogQ: false, seed: 5,
      });
      expect(out.dBiasRows).toBeUndefined();
      const ref = sampledLoss(f64(input), f64(weights), undefined, targets, h, out.sampled, () => 0, false);
      expect(Math.abs(out.loss - ref)).toBeLessThan(1e-5 * Math.max(1, ref));
      // with 8 of 12 drawn, some target is surely a candidate: removing hits changes the loss
      const removed = weft.softmax.sampled({ input, weights, targets, numSampled: S, sampler: 'uniform', subtractLogQ: false, seed: 5 });
      expect(Array.from(removed.sampled)).toEqual(Array.from(out.sampled));
      expect(removed.loss).toBeLessThan(out.loss);
    });

    it('approaches the full softmax gradient as numSampled -> V (uniform, no correction)', () => {
      const [N, V, h] = [1, 64, 8];
      const input = weft.randn([N, h], 31);
      const weights = weft.randn([V, h], 32);
      const targets = ids([10]);
      const full = weft.softmax.full({ input, weights, targets });
      const errors: number[] = [];
      for (const S of [8, 32, 56, 63]) {
        // mean over seeds of |dInput - dInput_full|
        let error = 0;
        for (let seed = 0; seed < 8; seed++) {
          const out = weft.softmax.sampled({ input, weights, targets, numSampled: S, sampler: 'uniform', subtractLogQ: false, seed });
          let sq = 0;
          for (let k = 0; k < h; k++) sq += (out.dInput.data[k] - full.dInput.data[k]) ** 2;
          error += Math.sqrt(sq) / 8;
        }
        errors.push(error);
      }
      for (let i = 1; i < errors.length; i++) expect(errors[i], `errors ${errors}`).toBeLessThan(errors[i - 1]);
      let norm = 0;
      for (const g of full.dInput.data) norm += g * g;
      // S = V - 1: every row misses at most one class
      expect(errors[errors.length - 1]).toBeLessThan(0.15 * Math.sqrt(norm));
    });

    it('is the same for the same seed and continues the stream without one', () => {
      const input = weft.randn([3, 4], 41);
      const weights = weft.randn([50, 4], 42);
      const targets = ids([1, 2, 3]);
      const a = weft.softmax.sampled({ input, weights, targets, numSampled: 10, seed: 7 });
      const b = weft.softmax.sampled({ input, weights, targets, numSampled: 10, seed: 7 });
      expect(a.sampled).toEqual(b.sampled);
      expect(a.dInput.data).toEqual(b.dInput.data);
      const c = weft.softmax.sampled({ input, weights, targets, numSampled: 10 });
      const d = weft.softmax.sampled({ input, weights, targets, numSampled: 10 });
      expect(c.sampled).not.toEqual(d.sampled);
    });
  });

  describe('negativeSampling', () => {
    for (const [N, V, h, k] of [[1, 3, 1, 1], [5, 29, 7, 5], [17, 101, 33, 3]]) {
      it(`matches word2vec’s loss and finite differences at N=${N} V=${V} h=${h} k=${k}`, () => {
        const input = weft.randn([N, h], 51 + N);
        const weights = weft.randn([V, h], 52 + V);
        for (const t of [input, weights]) for (let i = 0; i < t.data.length; i++) t.data[i] *= 0.5;
        const targets = randomIds(N, V, 53);
        const counts = Array.from({ length: V }, (_, i) => (i * 7919) % 13 + 1);
        const out = weft.softmax.negativeSampling({ input, weights, targets, negative: k, counts, seed: 3 });
        // draws: N * k independent ids from the unigram^0.75 alias table, row-major
        const table = new AliasTable(unigramWeights(counts, 0.75));
        const rng = new Rng(3);
        expect(Array.from(out.negatives)).toEqual(Array.from({ length: N * k }, () => table.draw(rng)));
        const x = f64(input), w = f64(weights);
        const ref = negativeLoss(x, w, targets, out.negatives, h);
        expect(Math.abs(out.loss - ref)).toBeLessThan(1e-5 * Math.max(1, ref));
        expectGradClose(out.dInput.data, [...finiteDifferences((v) => negativeLoss(v, w, targets, out.negatives, h), x).values()], 'dInput');
        const rowIndices = Array.from(out.rows).flatMap((id) => Array.from({ length: h }, (_, j) => id * h + j));
        const fd = finiteDifferences((v) => negativeLoss(x, v, targets, out.negatives, h), w, rowIndices);
        expectGradClose(out.dRows.data, rowIndices.map((j) => fd.get(j)!), 'dRows');
      });
    }

    it('rebuilds its cached unigram table when the counts change', () => {
      const input = weft.randn([4, 3], 1);
      const weights = weft.randn([6, 3], 2);
      const targets = ids([0, 1, 2, 3]);
      for (const counts of [new Float64Array(6).fill(1), new Int32Array(6).fill(1), [1, 1, 1, 1, 1, 1]]) {
        const first = weft.softmax.negativeSampling({ input, weights, targets, negative: 8, counts, seed: 1 });
        expect(new Set(first.negatives).size).toBeGreaterThan(3);
        counts.fill(0);
        counts[5] = 2;
        const second = weft.softmax.negativeSampling({ input, weights, targets, negative: 8, counts, seed: 1 });
        expect(new Set(second.negatives)).toEqual(new Set([5]));
        counts[5] = -1;
        expectWeftError(() => weft.softmax.negativeSampling({ input, weights, targets, negative: 8, counts, seed: 1 }), 'RANGE', /counts\[5\]/);
      }
    });

    it('takes a prepared unigram sampler: the same draws and results as counts, from a snapshot of them', () => {
      const input = weft.randn([4, 3], 1);
      const weights = weft.randn([7, 3], 2);
      const targets = ids([0, 1, 2, 6]);
      const counts = Float64Array.from([50, 1, 9, 30, 2, 7, 4]);
      const sampler = weft.softmax.unigramSampler({ counts, power: 0.5 });
      expect([sampler.classes, sampler.power]).toEqual([7, 0.5]);
      const byCounts = weft.softmax.negativeSampling({ input, weights, targets, negative: 5, counts, power: 0.5, seed: 4 });
      const prepared = weft.softmax.negativeSampling({ input, weights, targets, negative: 5, sampler, seed: 4 });
      expect(Array.from(prepared.negatives)).toEqual(Array.from(byCounts.negatives));
      expect(prepared.loss).toBe(byCounts.loss);
      expect(Array.from(prepared.dRows.data)).toEqual(Array.from(byCounts.dRows.data));
      const sampledByCounts = weft.softmax.sampled({ input, weights, targets, numSampled: 3, sampler: 'unigram', counts, power: 0.5, seed: 4 });
      const sampledPrepared = weft.softmax.sampled({ input, weights, targets, numSampled: 3, sampler, seed: 4 });
      expect(Array.from(sampledPrepared.sampled)).toEqual(Array.from(sampledByCounts.sampled));
      expect(sampledPrepared.loss).toBe(sampledByCounts.loss);
      // a snapshot: changing the array afterwards does not change the prepared sampler's draws
      counts.fill(0);
      counts[3] = 1;
      expect(Array.from(weft.softmax.negativeSampling({ input, weights, targets, negative: 5, sampler, seed: 4 }).negatives))
        .toEqual(Array.from(byCounts.negatives));
      // and bad use is refused
      expectWeftError(() => weft.softmax.negativeSampling({ input, weights: weft.randn([8, 3], 2), targets, negative: 2, sampler }), 'SHAPE', /prepared for V = 7 classes, weights have V = 8/);
      expectWeftError(() => weft.softmax.negativeSampling({ input, weights, targets, negative: 2, sampler, counts }), 'OPTION', /not both/);
      // UnigramSampler is an interface: an object of that shape not made by unigramSampler has no alias table
      expectWeftError(() => weft.softmax.negativeSampling({ input, weights, targets, negative: 2, sampler: { classes: 7, power: 0.5 } }), 'OPTION', /weft\.softmax\.unigramSampler/);
      expectWeftError(() => weft.softmax.unigramSampler({ counts: [] }), 'SHAPE', /at least one entry/);
      expectWeftError(() => weft.softmax.unigramSampler({ counts: [1, NaN] }), 'RANGE', /counts\[1\] is NaN/);
      expectWeftError(() => weft.softmax.unigramSampler({ counts: 'abc' as never }), 'DTYPE', /counts must be an array/);
      expectWeftError(() => weft.softmax.unigramSampler(undefined as never), 'OPTION', /expected an options object/);
      // counts^power must stay finite (Infinity / Infinity probabilities made sampled loop forever)
      expectWeftError(() => weft.softmax.unigramSampler({ counts: [1e6, 10, 1, 2], power: 60 }), 'RANGE', /power = 60 overflows/);
      expectWeftError(() => weft.softmax.negativeSampling({ input, weights, targets, negative: 2, counts: [1e6, 10, 1, 2, 3, 4, 5], power: 60 }), 'RANGE', /overflows/);
    });

    it('a refused call leaves the instance stream where it was (unseeded calls draw the same)', async () => {
      const input = weft.randn([2, 3], 1);
      const weights = weft.randn([50, 3], 2);
      const targets = ids([3, 7]);
      const fresh = await create();
      const expected = fresh.softmax.sampled({ input, weights, targets, numSampled: 5 });
      const huge = weft.tensor(Float32Array.of(3e37, 0, 0, 0, 0, 0), [2, 3]);
      const other = await create();
      expectWeftError(() => other.softmax.sampled({ input: huge, weights, targets, numSampled: 5 }), 'RANGE', /overflow f32 logits/);
      expect(Array.from(other.softmax.sampled({ input, weights, targets, numSampled: 5 }).sampled)).toEqual(Array.from(expected.sampled));
    });

    it('skips a negative equal to the target (word2vec)', () => {
      // V = 2 and a uniform sampler: about half the draws hit the target
      const input = weft.tensor(new Float32Array([0.3, -0.2]), [1, 2]);
      const weights = weft.tensor(new Float32Array([0.1, 0.4, -0.5, 0.2]), [2, 2]);
      const out = weft.softmax.negativeSampling({ input, weights, targets: ids([0]), negative: 6, sampler: 'uniform', seed: 1 });
      const hits = Array.from(out.negatives).filter((n) => n === 0).length;
      expect(hits).toBeGreaterThan(0);
      expect(hits).toBeLessThan(6);
      const f0 = 0.3 * 0.1 - 0.2 * 0.4, f1 = 0.3 * -0.5 - 0.2 * 0.2;
      expect(out.loss).toBeCloseTo(softplus(-f0) + (6 - hits) * softplus(f1), 5);
    });
  });

  describe('hierarchical', () => {
    for (const [N, V, h] of [[1, 2, 1], [5, 29, 7], [17, 130, 33]]) {
      it(`matches word2vec’s loss and finite differences at N=${N} V=${V} h=${h}`, () => {
        const input = weft.randn([N, h], 71 + N);
        const weights = weft.randn([V - 1, h], 72 + V);
        for (const t of [input, weights]) for (let i = 0; i < t.data.length; i++) t.data[i] *= 0.5;
        const targets = randomIds(N, V, 73);
        const tree = weft.softmax.huffmanTree({ counts: Array.from({ length: V }, (_, i) => ((i * 7919) % 13) + 1) });
        const out = weft.softmax.hierarchical({ input, weights, targets, tree });
        // the touched inner nodes in first-use order
        const firstUse: number[] = [];
        for (const t of targets) for (const node of tree.path(t).points) if (!firstUse.includes(node)) firstUse.push(node);
        expect(Array.from(out.rows)).toEqual(firstUse);
        const x = f64(input), w = f64(weights);
        const path = (c: number) => tree.path(c);
        const ref = hierarchicalLoss(x, w, targets, h, path);
        expect(Math.abs(out.loss - ref)).toBeLessThan(1e-5 * Math.max(1, ref));
        expectGradClose(out.dInput.data, [...finiteDifferences((v) => hierarchicalLoss(v, w, targets, h, path), x).values()], 'dInput');
        const rowIndices = Array.from(out.rows).flatMap((id) => Array.from({ length: h }, (_, j) => id * h + j));
        const fd = finiteDifferences((v) => hierarchicalLoss(x, v, targets, h, path), w, rowIndices);
        expectGradClose(out.dRows.data, rowIndices.map((j) => fd.get(j)!), 'dRows');
      });
    }

    it('walks word2vec.c’s tree (hand-derived) and its leaf probabilities sum to 1', () => {
      // counts 6 5 4 2 2: see tests/skipgram.test.ts for the derivation
      const tree = weft.softmax.huffmanTree({ counts: Float64Array.from([6, 5, 4, 2, 2]) });
      expect(tree.classes).toBe(5);
      expect(Array.from(tree.path(3).points)).toEqual([3, 1, 0]);
      expect(Array.from(tree.path(3).codes)).toEqual([0, 0, 1]);
      const input = weft.tensor(Float32Array.of(0.3, -0.7), [1, 2]);
      const weights = weft.tensor(Float32Array.of(0.5, 0.1, -0.2, 0.4, 0.9, -0.3, 0.05, 0.6), [4, 2]);
      // class 1: root (node 3) branch 1, node 2 branch 0
      const f3 = 0.3 * 0.05 - 0.7 * 0.6, f2 = 0.3 * 0.9 + 0.7 * 0.3;
      expect(weft.softmax.hierarchical({ input, weights, targets: ids([1]), tree }).loss).toBeCloseTo(softplus(f3) + softplus(-f2), 6);
      let total = 0;
      for (let c = 0; c < 5; c++) total += Math.exp(-weft.softmax.hierarchical({ input, weights, targets: ids([c]), tree }).loss);
      expect(total).toBeCloseTo(1, 6);
    });

    it('rejects a bad tree, weights, targets and counts', () => {
      const tree = weft.softmax.huffmanTree({ counts: [4, 3, 2, 1, 1] });
      const input = weft.randn([2, 3], 1), weights = weft.randn([4, 3], 2);
      expectWeftError(() => weft.softmax.hierarchical({ input, weights, targets: ids([0, 1]), tree: { classes: 5 } as never }), 'OPTION', /tree must come from weft\.softmax\.huffmanTree/);
      expectWeftError(() => weft.softmax.hierarchical({ input, weights: weft.randn([5, 3], 2), targets: ids([0, 1]), tree }), 'SHAPE', /\[V - 1, h\] = \[4, 3\]/);
      expectWeftError(() => weft.softmax.hierarchical({ input, weights, targets: ids([0, 5]), tree }), 'RANGE', /targets\[1\] = 5.*V = 5/);
      const bad = weft.randn([4, 3], 3);
      bad.data[3 * 3 + 1] = NaN; // node 3 is the root: on every path
      expectWeftError(() => weft.softmax.hierarchical({ input, weights: bad, targets: ids([0, 1]), tree }), 'RANGE', /weights: values must be finite, got NaN at \[3, 1\]/);
      expectWeftError(() => weft.softmax.huffmanTree({ counts: [3] }), 'SHAPE', /at least 2 entries/);
      expectWeftError(() => weft.softmax.huffmanTree({ counts: [3, -1] }), 'RANGE', /counts\[1\] is -1/);
      expectWeftError(() => weft.softmax.huffmanTree({ counts: [3, '1' as never] }), 'DTYPE', /counts\[1\]/);
      expectWeftError(() => weft.softmax.huffmanTree(undefined as never), 'OPTION', /expected an options object/);
      expect(weft.memory().liveBytes).toBe(0);
    });
  });

  // on the js run this would compare the JS backend with itself
  it.skipIf(label === 'js')('agrees with the JS reference across class blocks and lane tails', async () => {
    const js = await createWeft({ backend: 'js' });
    // V crosses the 256-class blocks of the exact kernel; N, h, S are not multiples of 4
    const [N, V, h, S] = [13, 601, 37, 41];
    const input = weft.randn([N, h], 61);
    const weights = weft.randn([V, h], 62);
    const bias = weft.randn([V], 63);
    const targets = randomIds(N, V, 64);
    const a = weft.softmax.full({ input, weights, bias, targets });
    const b = js.softmax.full({ input, weights, bias, targets });
    expect(a.loss).toBeCloseTo(b.loss, 4);
    expectGradClose(a.dInput.data, b.dInput.data, 'full dInput');
    expectGradClose(a.dWeights.data, b.dWeights.data, 'full dWeights');
    expectGradClose(a.dBias!.data, b.dBias!.data, 'full dBias');
    const sa = weft.softmax.sampled({ input, weights, bias, targets, numSampled: S, seed: 65 });
    const sb = js.softmax.sampled({ input, weights, bias, targets, numSampled: S, seed: 65 });
    expect(sa.rows).toEqual(sb.rows);
    expect(sa.loss).toBeCloseTo(sb.loss, 4);
    expectGradClose(sa.dInput.data, sb.dInput.data, 'sampled dInput');
    expectGradClose(sa.dRows.data, sb.dRows.data, 'sampled dRows');
    expectGradClose(sa.dBiasRows!.data, sb.dBiasRows!.data, 'sampled dBiasRows');
    const tree = weft.softmax.huffmanTree({ counts: Array.from({ length: V }, (_, i) => 1 + ((i * 37) % 11)) });
    const inner = weft.randn([V - 1, h], 66);
    const ha = weft.softmax.hierarchical({ input, weights: inner, targets, tree });
    const hb = js.softmax.hierarchical({ input, weights: inner, targets, tree });
    expect(ha.rows).toEqual(hb.rows);
    expect(ha.loss).toBeCloseTo(hb.loss, 4);
    expectGradClose(ha.dInput.data, hb.dInput.data, 'hierarchical dInput');
    expectGradClose(ha.dRows.data, hb.dRows.data, 'hierarchical dRows');
  });

  describe('bad input', () => {
    const input = () => weft.randn([2, 3], 1);
    const weights = () => weft.randn([5, 3], 2);

    it('rejects ids, sizes and options with the right code, leaving nothing allocated', () => {
      const targets = ids([0, 4]);
      expectWeftError(() => weft.softmax.full({ input: input(), weights: weights(), targets: ids([0, 5]) }), 'RANGE', /targets\[1\] = 5.*V = 5/);
      expectWeftError(() => weft.softmax.crossEntropy({ logits: weights(), targets: ids([0, -1, 0, 0, 0]) }), 'RANGE', /targets\[1\] = -1/);
      expectWeftError(() => weft.softmax.full({ input: input(), weights: weights(), targets: [0, 1] as unknown as Int32Array }), 'DTYPE', /Int32Array/);
      expectWeftError(() => weft.softmax.full({ input: input(), weights: weights(), targets: ids([0]) }), 'SHAPE', /2 ids, got 1/);
      expectWeftError(() => weft.softmax.full({ input: input(), weights: weft.randn([5, 4], 1), targets }), 'SHAPE', /\[V, 3\]/);
      expectWeftError(() => weft.softmax.full({ input: input(), weights: weights(), bias: weft.randn([4], 1), targets }), 'SHAPE', /bias/);
      expectWeftError(() => weft.softmax.full({ input: weft.randn([0, 3], 1), weights: weights(), targets: ids([]) }), 'SHAPE', /at least one row/);
      expectWeftError(() => weft.softmax.sampled({ input: input(), weights: weights(), targets, numSampled: 5 }), 'RANGE', /numSampled must be < V = 5/);
      expectWeftError(() => weft.softmax.sampled({ input: input(), weights: weights(), targets, numSampled: 0 }), 'RANGE', /numSampled/);
      expectWeftError(() => weft.softmax.sampled({ input: input(), weights: weights(), targets, numSampled: 2.5 }), 'OPTION', /numSampled/);
      expectWeftError(() => weft.softmax.sampled({ input: input(), weights: weights(), targets, numSampled: 2, sampler: 'zipf' as never }), 'OPTION', /sampler/);
      expectWeftError(() => weft.softmax.sampled({ input: input(), weights: weights(), targets, numSampled: 2, sampler: 'unigram' }), 'OPTION', /needs counts/);
      expectWeftError(() => weft.softmax.negativeSampling({ input: input(), weights: weights(), targets, negative: 2 }), 'OPTION', /needs counts/);
      expectWeftError(() => weft.softmax.negativeSampling({ input: input(), weights: weights(), targets, negative: 2, counts: [1, 2, 3] }), 'SHAPE', /5 entries/);
      expectWeftError(() => weft.softmax.negativeSampling({ input: input(), weights: weights(), targets, negative: 2, counts: [1, 2, -3, 1, 1] }), 'RANGE', /counts\[2\]/);
      expectWeftError(() => weft.softmax.negativeSampling({ input: input(), weights: weights(), targets, negative: -1, sampler: 'uniform' }), 'RANGE', /negative/);
      expectWeftError(() => weft.softmax.sampled({ input: input(), weights: weights(), targets, numSampled: 3, sampler: 'unigram', counts: [1, 1, 0, 0, 0] }), 'RANGE', /only 2 classes/);
      expectWeftError(() => weft.softmax.sampled({ input: input(), weights: weights(), targets, numSampled: 2, seed: 0.5 }), 'OPTION', /seed/);
      expect(weft.memory().liveBytes).toBe(0);
    });

    it('rejects non-finite inputs, naming the element', () => {
      const x = input();
      x.data[4] = NaN;
      expectWeftError(() => weft.softmax.full({ input: x, weights: weights(), targets: ids([0, 1]) }), 'RANGE', /input: values must be finite, got NaN at \[1, 1\]/);
      const w = weights();
      w.data[7] = Infinity;
      expectWeftError(() => weft.softmax.full({ input: input(), weights: w, targets: ids([0, 1]) }), 'RANGE', /weights: values must be finite, got Infinity at \[2, 1\]/);
      // sampled and negative sampling check only the rows they touch
      expectWeftError(() => weft.softmax.negativeSampling({ input: input(), weights: w, targets: ids([2, 2]), negative: 1, sampler: 'uniform' }), 'RANGE', /weights: values must be finite, got Infinity at \[2, 1\]/);
      const ok = weft.softmax.negativeSampling({ input: input(), weights: w, targets: ids([0, 0]), negative: 0, sampler: 'uniform' });
      expect(Number.isFinite(ok.loss)).toBe(true);
      const logits = weft.randn([2, 3], 3);
      logits.data[5] = -Infinity;
      expectWeftError(() => weft.softmax.crossEntropy({ logits, targets: ids([0, 1]) }), 'RANGE', /logits: values must be finite, got -Infinity at \[1, 2\]/);
      expect(weft.memory().liveBytes).toBe(0);
    });
  });
});

describe('samplers', () => {
  /** Pearson chi-square statistic of observed counts against probabilities. */
  function chiSquare(observed: Float64Array, p: ArrayLike<number>, draws: number): number {
    let chi = 0;
    for (let i = 0; i < observed.length; i++) {
      const expected = p[i] * draws;
      if (expected > 0) chi += (observed[i] - expected) ** 2 / expected;
      else expect(observed[i], `id ${i} has probability 0`).toBe(0);
    }
    return chi;
  }
  // chi-square 0.999 quantiles for the degrees of freedom used below (V - 1)
  const CHI2_999: Record<number, number> = { 16: 39.25, 29: 58.3, 99: 148.2 };

  it('alias table encodes its distribution exactly and draws match it (chi-square)', () => {
    const counts = Array.from({ length: 17 }, (_, i) => [50, 1, 7, 0, 300, 2, 2, 9, 120, 1, 1, 33, 4, 4, 0, 60, 11][i]);
    const weights = unigramWeights(counts, 0.75);
    const total = weights.reduce((s, v) => s + v, 0);
    const table = new AliasTable(weights);
    const encoded = table.distribution();
    for (let i = 0; i < 17; i++) expect(Math.abs(encoded[i] - weights[i] / total)).toBeLessThan(1e-9);
    const draws = 200_000;
    const observed = new Float64Array(17);
    const rng = new Rng(2024);
    for (let d = 0; d < draws; d++) observed[table.draw(rng)]++;
    expect(chiSquare(observed, encoded, draws)).toBeLessThan(CHI2_999[16]);
  });

  it('uniform and log-uniform draws match their distributions (chi-square)', () => {
    for (const [sampler, V] of [[new UniformSampler(30), 30], [new LogUniformSampler(100), 100]] as const) {
      const draws = 300_000;
      const observed = new Float64Array(V);
      const rng = new Rng(V);
      for (let d = 0; d < draws; d++) observed[sampler.draw(rng)]++;
      const p = Array.from({ length: V }, (_, i) => sampler.probability(i));
      expect(p.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
      expect(chiSquare(observed, p, draws)).toBeLessThan(CHI2_999[V - 1]);
    }
  });

  it('unique candidates are distinct and expected counts follow TensorFlow', () => {
    const sampler = new LogUniformSampler(20);
    const { ids: drawn, tries } = sampleUniqueCandidates(sampler, 15, new Rng(8));
    expect(new Set(drawn).size).toBe(15);
    expect(tries).toBeGreaterThan(15);
    expect(expectedCount(0.1, 15, 15)).toBeCloseTo(1.5, 12);
    expect(expectedCount(0.1, 15, 40)).toBeCloseTo(1 - 0.9 ** 40, 12);
  });

  it('mulHigh32 is the exact u64 multiply-high', () => {
    const rng = new Rng(77);
    for (let i = 0; i < 1000; i++) {
      const u = rng.nextU32(), n = 1 + rng.nextBelow(2 ** 31 - 1);
      expect(mulHigh32(u, n)).toBe(Number((BigInt(u) * BigInt(n)) >> 32n));
    }
  });
});
