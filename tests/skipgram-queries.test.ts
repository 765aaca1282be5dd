// Similarity queries of a skip-gram model (gensim's KeyedVectors): hand-computed 2-D
// cases, an f64 reference written here, every backend against it and against the JS
// backend, bad input, the cached unit vectors following training, and gensim itself.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createWeft, type SkipGramModel, type Similar, type Weft } from '../src/index.js';
import { Rng, fillNormal } from '../src/rng.js';
import { writeWord2Vec } from '../src/ops/skipgram/word2vec.js';
import { RELAXED_PROJECT, backendsUnderTest, expectClose, expectWeftError, hasGensim, runGensimScript, tempDirFixture } from './helpers.js';

const DATA = join(import.meta.dirname, '../data');
const LEE = readFileSync(join(DATA, 'lee_background.cor'), 'utf8')
  .split('\n')
  .map((line) => (line.toLowerCase().match(/[a-z]+/g) ?? []).join(' '))
  .filter((line) => line.length > 0)
  .join('\n');

function modelOf(weft: Weft, words: string[], vectors: Float32Array, dim: number): SkipGramModel {
  return weft.skipGram.fromWord2Vec(writeWord2Vec({ words, vectors, dim }, true));
}

/** 2-D vectors whose cosines are easy to write down. */
const TINY: Record<string, [number, number]> = { a: [1, 0], b: [0, 2], c: [1, 1], d: [-1, 0], e: [2, 1], f: [3, 0] };

// ---- f64 reference, gensim 4's definitions ----

type Term = string | ArrayLike<number>;

class Reference {
  constructor(readonly words: string[], readonly vectors: Float32Array, readonly dim: number) {}

  row(id: number): number[] {
    return Array.from(this.vectors.subarray(id * this.dim, (id + 1) * this.dim));
  }

  unit(v: ArrayLike<number>): number[] {
    const n = Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));
    return Array.from(v, (x) => (n > 0 ? x / n : 0));
  }

  cos(a: ArrayLike<number>, b: ArrayLike<number>): number {
    const ua = this.unit(a), ub = this.unit(b);
    return ua.reduce((s, x, k) => s + x * ub[k], 0);
  }

  /** Words as unit vectors, vectors as given (gensim's get_mean_vector with pre_normalize). */
  termVector(t: Term): number[] {
    return typeof t === 'string' ? this.unit(this.row(this.words.indexOf(t))) : Array.from(t);
  }

  /** Ranked [word, score], ties by id, the query's words left out, among the first `limit`. */
  rank(score: (id: number) => number, terms: Term[], topN: number, limit = this.words.length): Similar {
    const out: Similar = [];
    for (let id = 0; id < limit; id++) if (!terms.includes(this.words[id])) out.push([this.words[id], score(id)]);
    return out.sort((x, y) => y[1] - x[1] || this.words.indexOf(x[0]) - this.words.indexOf(y[0])).slice(0, topN);
  }

  mostSimilar(positive: Term[], negative: Term[] = [], topN = 10, restrictVocab?: number): Similar {
    const sum = new Array<number>(this.dim).fill(0);
    for (const t of positive) this.termVector(t).forEach((x, k) => (sum[k] += x));
    for (const t of negative) this.termVector(t).forEach((x, k) => (sum[k] -= x));
    return this.rank((id) => this.cos(this.row(id), sum), [...positive, ...negative], topN, restrictVocab);
  }

  cosmul(positive: Term[], negative: Term[] = [], topN = 10): Similar {
    const shifted = (id: number, t: Term) => (1 + this.cos(this.row(id), this.termVector(t))) / 2;
    return this.rank((id) => {
      const num = positive.reduce((p, t) => p * shifted(id, t), 1);
      const den = negative.reduce((p, t) => p * shifted(id, t), 1);
      return num / (den + 1e-6);
    }, [...positive, ...negative], topN);
  }

  nSimilarity(a: string[], b: string[]): number {
    const mean = (ws: string[]) => ws.map((w) => this.row(this.words.indexOf(w))).reduce((s, r) => s.map((x, k) => x + r[k]));
    return this.cos(mean(a), mean(b));
  }
}

/** Same words in the same order, scores within `atol`. */
function expectSimilar(actual: Similar, expected: Similar, atol = 1e-5, what = 'scores'): void {
  expect(actual.map(([w]) => w), what).toEqual(expected.map(([w]) => w));
  expectClose(actual.map(([, s]) => s), expected.map(([, s]) => s), { atol, rtol: 0 }, what);
}

describe.each(backendsUnderTest())('similarity queries on $label', ({ create }) => {
  let weft: Weft;
  let tiny: SkipGramModel;
  beforeAll(async () => {
    weft = await create();
    tiny = modelOf(weft, Object.keys(TINY), Float32Array.from(Object.values(TINY).flat()), 2);
  });
  afterAll(() => {
    tiny.dispose();
    expect(weft.memory().liveBytes).toBe(0);
  });

  it('answers hand-computed 2-D cases as gensim defines them', () => {
    // cosines with a = (1, 0): f 1 (same direction), e 2/√5, c 1/√2, b 0, d -1
    expectSimilar(tiny.mostSimilar('a'), [['f', 1], ['e', 2 / Math.sqrt(5)], ['c', Math.SQRT1_2], ['b', 0], ['d', -1]], 1e-6);
    expectSimilar(tiny.mostSimilar('a', 2), [['f', 1], ['e', 2 / Math.sqrt(5)]], 1e-6);
    // a vector is not left out: a and f both have cosine 1 with (5, 0); equal cosines keep vocabulary order
    expectSimilar(tiny.mostSimilar([5, 0], 2), [['a', 1], ['f', 1]], 1e-6);
    // b - a + c on unit vectors: (0, 1) - (1, 0) + (1, 1)/√2, a vector term as given: 2b + (10, 0) points at (10, 4)
    const q = [Math.SQRT1_2 - 1, 1 + Math.SQRT1_2];
    const cos = (v: number[], w: number[]) => (v[0] * w[0] + v[1] * w[1]) / Math.hypot(...v) / Math.hypot(...w);
    expectSimilar(tiny.mostSimilar({ positive: ['b', 'c'], negative: ['a'] }), [['e', cos(q, TINY.e)], ['d', cos(q, TINY.d)], ['f', cos(q, TINY.f)]], 1e-6);
    expectSimilar(tiny.analogy('a', 'b', 'c', 2), [['e', cos(q, TINY.e)], ['d', cos(q, TINY.d)]], 1e-6);
    expectSimilar(tiny.mostSimilar({ positive: ['b', [10, 0]], topN: 1 }), [['a', cos([10, 1], [1, 0])]], 1e-6);
    // restrictVocab: only a, b, c are candidates; the query word may lie beyond it
    expectSimilar(tiny.mostSimilar({ positive: ['e'], restrictVocab: 3 }), [['c', cos(TINY.e, TINY.c)], ['a', cos(TINY.e, TINY.a)], ['b', cos(TINY.e, TINY.b)]], 1e-6);
    expect(tiny.mostSimilar({ positive: ['a'], topN: 1000 })).toHaveLength(5);
    // 3CosMul: (1 + cos(w, c)) / 2 / ((1 + cos(w, b)) / 2 + 1e-6), a and f tied; no negative term: / (1 + 1e-6)
    const cosmul = (w: [number, number]) => (1 + cos(w, TINY.c)) / 2 / ((1 + cos(w, TINY.b)) / 2 + 1e-6);
    expectSimilar(tiny.mostSimilarCosmul({ positive: ['c'], negative: ['b'], topN: 3 }), [['a', cosmul(TINY.a)], ['f', cosmul(TINY.f)], ['e', cosmul(TINY.e)]], 1e-6);
    expectSimilar(tiny.mostSimilarCosmul({ positive: ['c'], topN: 1 }), [['e', (1 + cos(TINY.e, TINY.c)) / 2 / (1 + 1e-6)]], 1e-6);
    // a vector term is normalised: (7, 7) scores as c, which it does not leave out
    expect(tiny.mostSimilarCosmul({ positive: [[7, 7]], topN: 3 }).map(([w]) => w)).toEqual(['c', 'e', 'a']);
    expect(tiny.doesntMatch(['a', 'c', 'e', 'd'])).toBe('d');
    // a tie (both at 45° from the mean) goes to the first in string order, whatever the input order
    expect(tiny.doesntMatch(['b', 'a'])).toBe('a');
    expect(tiny.doesntMatch(['a', 'b'])).toBe('a');
    expect(tiny.doesntMatch(['c'])).toBe('c');
    // n_similarity averages raw vectors: mean(a, b) = (0.5, 1) against c: 1.5 / (√1.25 √2) = 3/√10
    expect(tiny.nSimilarity(['a', 'b'], ['c'])).toBeCloseTo(3 / Math.sqrt(10), 6);
    expect(tiny.similarity('a', 'e')).toBeCloseTo(2 / Math.sqrt(5), 6);
  });

  it('matches the f64 reference and the JS backend at V = 601, dim 37', async () => {
    const V = 601, dim = 37;
    const words = Array.from({ length: V }, (_, i) => `w${i}`);
    const vectors = fillNormal(new Rng(41), new Float32Array(V * dim));
    const ref = new Reference(words, vectors, dim);
    const js = await createWeft({ backend: 'js' });
    const models = [modelOf(weft, words, vectors, dim), modelOf(js, words, vectors, dim)];
    const vector = Array.from(vectors.subarray(7 * dim, 8 * dim), (x, k) => x + 0.1 * k);
    for (const model of models) {
      expectSimilar(model.mostSimilar('w3'), ref.mostSimilar(['w3']));
      expectSimilar(model.mostSimilar(vector, 7), ref.mostSimilar([vector], [], 7));
      expectSimilar(model.mostSimilar({ positive: ['w1', 'w500', vector], negative: ['w2'], topN: 12 }), ref.mostSimilar(['w1', 'w500', vector], ['w2'], 12));
      expectSimilar(model.mostSimilar({ positive: ['w590'], negative: ['w9'], restrictVocab: 100 }), ref.mostSimilar(['w590'], ['w9'], 10, 100));
      expectSimilar(model.mostSimilarCosmul({ positive: ['w1', 'w20'], negative: ['w300'], topN: 9 }), ref.cosmul(['w1', 'w20'], ['w300'], 9));
      expectSimilar(model.mostSimilarCosmul({ positive: ['w4', 'w5', 'w6'], negative: ['w7', ref.unit(vector)] }), ref.cosmul(['w4', 'w5', 'w6'], ['w7', ref.unit(vector)]));
      expect(model.nSimilarity(['w1', 'w2', 'w3'], ['w4', 'w5'])).toBeCloseTo(ref.nSimilarity(['w1', 'w2', 'w3'], ['w4', 'w5']), 6);
      expect(model.doesntMatch(['w1', 'w2', 'w3', 'w4', 'w5'])).toBe(models[1].doesntMatch(['w1', 'w2', 'w3', 'w4', 'w5']));
    }
    const [mine, theirs] = models;
    expectSimilar(mine.mostSimilar({ positive: ['w10', 'w11'], negative: ['w12'], topN: 600 }), theirs.mostSimilar({ positive: ['w10', 'w11'], negative: ['w12'], topN: 600 }));
    for (const model of models) model.dispose();
    js.dispose();
  });

  it('evaluates analogies by 3CosMul as most_similar_cosmul answers each question', () => {
    const V = 300, dim = 12;
    const words = Array.from({ length: V }, (_, i) => `w${i}`);
    const vectors = fillNormal(new Rng(5), new Float32Array(V * dim));
    const ref = new Reference(words, vectors, dim);
    const model = modelOf(weft, words, vectors, dim);
    const rng = new Rng(6);
    const lines = [': one'];
    let add = 0, mul = 0;
    for (let q = 0; q < 450; q++) {
      if (q === 225) lines.push(': two');
      const [a, b, c] = [0, 1, 2].map(() => words[rng.nextBelow(V)]);
      if (new Set([a, b, c]).size < 3) continue;
      // expected: the 3CosMul answer, the 3CosAdd answer or a random word, in turn
      const byMul = ref.cosmul([b, c], [a], 1)[0][0], byAdd = ref.mostSimilar([b, c], [a], 1)[0][0];
      const d = [byMul, byAdd, words[rng.nextBelow(V)]][q % 3];
      lines.push(`${a} ${b} ${c} ${d}`);
      if (d === byMul) mul++;
      if (d === byAdd) add++;
    }
    const text = lines.join('\n');
    const byAdd = model.evaluateAnalogies(text), byMul = model.evaluateAnalogies(text, { method: '3cosmul' });
    expect(byAdd.correct).toBe(add);
    expect(byMul.correct).toBe(mul);
    expect(byMul.total).toBe(byAdd.total);
    expect(byMul.sections.map((s) => s.section)).toEqual(['one', 'two']);
    // restricted: candidates and questions among the first 100 words, in both methods
    const restricted = model.evaluateAnalogies(text, { method: '3cosmul', restrictVocab: 100 });
    expect(restricted.total).toBeLessThan(byMul.total);
    expectWeftError(() => model.evaluateAnalogies(text, { method: '3cosavg' as never }), 'OPTION', /method: expected one of "3cosadd", "3cosmul"/);
    model.dispose();
  });

  it('follows training: queries see the vectors of the last batch, also from onProgress', async () => {
    const live = weft.memory().liveBytes; // the tiny model's unit vectors
    const model = weft.skipGram({ dim: 16, minCount: 3, epochs: 1, seed: 3, workers: 1, batchWords: 3000 });
    const corpus = LEE.split('\n').slice(0, 150).join('\n');
    const seen: Similar[] = [];
    const current = () => {
      const { data, shape } = model.vectors();
      return new Reference(model.vocab as string[], data, shape[1]).mostSimilar(['the'], [], 5);
    };
    await model.train(corpus, { onProgress: () => {
      const answer = model.mostSimilar('the', 5);
      expectSimilar(answer, current());
      seen.push(answer);
    } });
    expect(seen.length).toBeGreaterThan(2);
    expect(seen[0]).not.toEqual(seen.at(-1));
    expectSimilar(model.mostSimilar('the', 5), current());
    await model.train(corpus); // a second run moves the vectors again
    expectSimilar(model.mostSimilar('the', 5), current());
    model.dispose();
    expect(weft.memory().liveBytes).toBe(live);
    // after dispose the vectors stay queryable (copied in again, freed by the next dispose)
    expectSimilar(model.mostSimilar('the', 5), current());
    model.dispose();
    expect(weft.memory().liveBytes).toBe(live);
  });

  it('names every bad input', async () => {
    const m = tiny;
    expectWeftError(() => m.mostSimilar('zzz'), 'RANGE', /mostSimilar: positive\[0\]: "zzz" is not in the vocabulary/);
    expectWeftError(() => m.mostSimilar({ positive: ['a'], negative: ['zzz'] }), 'RANGE', /negative\[0\]: "zzz" is not in the vocabulary/);
    expectWeftError(() => m.mostSimilar([1, 2, 3]), 'SHAPE', /positive\[0\]: expected a vector of 2 numbers, got 3/);
    expectWeftError(() => m.mostSimilar([0, 0]), 'RANGE', /positive\[0\] is the zero vector/);
    expectWeftError(() => m.mostSimilar([1, NaN]), 'RANGE', /positive\[0\]\[1\] is NaN, expected a finite number/);
    expectWeftError(() => m.mostSimilar([1, '2' as never]), 'DTYPE', /positive\[0\]\[1\] is "2", expected a number/);
    expectWeftError(() => m.mostSimilar(5 as never), 'DTYPE', /positive\[0\] must be a word or a vector of 2 numbers, got 5/);
    expectWeftError(() => m.mostSimilar('a', 0), 'RANGE', /mostSimilar: topN: expected an integer >= 1, got 0/);
    expectWeftError(() => m.mostSimilar('a', 1.5), 'OPTION', /topN: expected an integer, got 1.5/);
    expectWeftError(() => m.mostSimilar({}), 'SHAPE', /positive and negative are both empty/);
    expectWeftError(() => m.mostSimilar({ positive: [], negative: [] }), 'SHAPE', /both empty/);
    expectWeftError(() => m.mostSimilar({ positive: 'a' as never }), 'DTYPE', /positive must be a list of words and vectors, got "a"; wrap one term in a list/);
    expectWeftError(() => m.mostSimilar({ positive: ['a'], topn: 3 } as never), 'OPTION', /unknown option "topn" \(did you mean topN\?\)/);
    expectWeftError(() => m.mostSimilar({ positive: ['a'], restrict_vocab: 3 } as never), 'OPTION', /did you mean restrictVocab\?/);
    expectWeftError(() => m.mostSimilar({ positive: ['a'], restrictVocab: 0 }), 'RANGE', /restrictVocab: expected an integer >= 1/);
    expectWeftError(() => m.mostSimilar({ positive: ['a'] } as never, 3), 'OPTION', /topN goes in it/);
    expectWeftError(() => m.mostSimilar({ positive: ['a'], negative: ['a'] }), 'RANGE', /the sum of the positive terms minus the negative ones is the zero vector/);
    expectWeftError(() => m.analogy('a', 'zzz', 'c'), 'RANGE', /analogy: positive\[0\]: "zzz" is not in the vocabulary/);
    expectWeftError(() => m.mostSimilarCosmul({ positive: [] }), 'SHAPE', /mostSimilarCosmul: positive is empty/);
    expectWeftError(() => m.mostSimilarCosmul({ negative: ['a'] } as never), 'SHAPE', /positive is empty/);
    expectWeftError(() => m.mostSimilarCosmul({ positive: [[0, 0]] }), 'RANGE', /positive\[0\] is the zero vector/);
    expectWeftError(() => m.mostSimilarCosmul({ positive: ['a'], topN: -1 }), 'RANGE', /topN/);
    expectWeftError(() => m.mostSimilarCosmul(undefined as never), 'SHAPE', /positive is empty/);
    expectWeftError(() => m.doesntMatch([]), 'SHAPE', /doesntMatch: words is empty/);
    expectWeftError(() => m.doesntMatch(['a', 'zzz']), 'RANGE', /words\[1\]: "zzz" is not in the vocabulary/);
    expectWeftError(() => m.doesntMatch('a b' as never), 'DTYPE', /words must be a list of words, got "a b"/);
    expectWeftError(() => m.doesntMatch([3 as never]), 'DTYPE', /words\[0\] must be a word \(string\), got 3/);
    expectWeftError(() => m.nSimilarity(['a'], []), 'SHAPE', /nSimilarity: wordsB is empty/);
    expectWeftError(() => m.nSimilarity(['zzz'], ['a']), 'RANGE', /wordsA\[0\]: "zzz" is not in the vocabulary/);
    expectWeftError(() => m.nSimilarity(['a', 'd'], ['b']), 'RANGE', /the mean vector of wordsA is the zero vector/);
    expectWeftError(() => m.similarity('a', 'zzz'), 'RANGE', /similarity: b: "zzz" is not in the vocabulary/);
    // a word whose vector is zero has no direction (gensim divides by its zero norm)
    const zero = modelOf(weft, ['x', 'o'], Float32Array.of(1, 0, 0, 0), 2);
    expectWeftError(() => zero.mostSimilar('o'), 'RANGE', /"o" has a zero vector/);
    expect(zero.similarity('x', 'o')).toBe(0);
    expectWeftError(() => weft.skipGram().mostSimilar('a'), 'UNSUPPORTED', /no vocabulary/);
    expectWeftError(() => weft.skipGram().mostSimilarCosmul({ positive: ['a'] }), 'UNSUPPORTED', /no vocabulary/);
    zero.dispose();
  });
});

interface GensimAnswers {
  one: Similar; addsub: Similar; restricted: Similar; vector: Similar; mixed: Similar; all: Similar;
  cosmul: Similar; cosmulOne: Similar; cosmulUnit: Similar;
  odd: string; n: number; sim: number;
  /** [correct, total] of the analogy questions, by 3CosAdd and by 3CosMul. */
  add: number[]; mul: number[];
}

describe.skipIf(!hasGensim || RELAXED_PROJECT)('queries against gensim', () => {
  const dir = tempDirFixture('weft-queries-');

  it('gives gensim 4’s words and scores for every query and analogy method', async () => {
    const weft = await createWeft();
    const model = weft.skipGram({ dim: 32, minCount: 3, epochs: 3, seed: 9 });
    await model.train(LEE);
    writeFileSync(dir.path('vectors.txt'), model.toWord2Vec());
    const vocab = model.vocab;
    const w = (i: number) => vocab[i];
    const vector = Array.from(model.vector(w(40))!, (x, k) => x * 3 + (k % 5) * 0.01);
    const unit = Array.from(vector, (x) => x / Math.hypot(...vector));
    // analogy questions over the 400 most frequent words (questions-words.txt barely meets this corpus)
    const rng = new Rng(12);
    const lines: string[] = [];
    for (let q = 0; q < 600; q++) {
      if (q % 200 === 0) lines.push(`: section-${q / 200}`);
      lines.push([0, 1, 2, 3].map(() => w(rng.nextBelow(400))).join(' '));
    }
    writeFileSync(dir.path('questions.txt'), `${lines.join('\n')}\n`);
    const queries = {
      a: w(30), b: w(31), c: w(45), d: w(60), V: vocab.length, vector, unit,
      odd: [w(20), w(21), w(22), w(300)], setA: [w(50), w(51), w(52)], setB: [w(70), w(71)],
    };
    writeFileSync(dir.path('queries.json'), JSON.stringify(queries));
    const script = `
import json, sys, numpy as np
from gensim.models import KeyedVectors
d = sys.argv[1]
kv = KeyedVectors.load_word2vec_format(d + '/vectors.txt', binary=False)
q = json.load(open(d + '/queries.json'))
vec, unit = np.array(q['vector'], dtype=np.float32), np.array(q['unit'], dtype=np.float32)
pairs = lambda r: [[w, float(s)] for w, s in r]
out = {
  'one': pairs(kv.most_similar(q['a'])),
  'addsub': pairs(kv.most_similar(positive=[q['a'], q['b']], negative=[q['c']], topn=7)),
  'restricted': pairs(kv.most_similar(positive=[q['d']], negative=[q['a']], topn=5, restrict_vocab=80)),
  'vector': pairs(kv.most_similar(positive=[vec], topn=6)),
  'mixed': pairs(kv.most_similar(positive=[q['b'], vec], negative=[q['c']], topn=6)),
  'all': pairs(kv.most_similar(q['a'], topn=q['V'] + 5)),
  'cosmul': pairs(kv.most_similar_cosmul(positive=[q['a'], q['b']], negative=[q['c']], topn=7)),
  'cosmulOne': pairs(kv.most_similar_cosmul(positive=[q['d']], topn=5)),
  'cosmulUnit': pairs(kv.most_similar_cosmul(positive=[unit, q['a']], negative=[q['b']], topn=5)),
  'odd': kv.doesnt_match(q['odd']),
  'n': float(kv.n_similarity(q['setA'], q['setB'])),
  'sim': float(kv.similarity(q['a'], q['b'])),
}
score, sections = kv.evaluate_word_analogies(d + '/questions.txt')
out['add'] = [len(sections[-1]['correct']), len(sections[-1]['correct']) + len(sections[-1]['incorrect'])]
kv.most_similar = kv.most_similar_cosmul  # gensim's evaluation with 3CosMul in place of 3CosAdd
score, sections = kv.evaluate_word_analogies(d + '/questions.txt')
out['mul'] = [len(sections[-1]['correct']), len(sections[-1]['correct']) + len(sections[-1]['incorrect'])]
print(json.dumps(out))`;
    const gensim = runGensimScript(script, [dir.path()]) as GensimAnswers;
    // vectors read back from the text file, as gensim reads them (the same floats)
    const same = weft.skipGram.fromWord2Vec(new Uint8Array(readFileSync(dir.path('vectors.txt'))));
    for (const m of [model, same]) {
      const { a, b, c, d } = queries;
      expectSimilar(m.mostSimilar(a), gensim.one, 1e-5, 'most_similar(a)');
      expectSimilar(m.mostSimilar({ positive: [a, b], negative: [c], topN: 7 }), gensim.addsub, 1e-5, 'most_similar(a + b - c)');
      expectSimilar(m.mostSimilar({ positive: [d], negative: [a], topN: 5, restrictVocab: 80 }), gensim.restricted, 1e-5, 'restrict_vocab');
      expectSimilar(m.mostSimilar(vector, 6), gensim.vector, 1e-5, 'by vector');
      expectSimilar(m.mostSimilar({ positive: [b, vector], negative: [c], topN: 6 }), gensim.mixed, 1e-5, 'word and raw vector');
      const all = m.mostSimilar(a, queries.V + 5);
      expect(all).toHaveLength(queries.V - 1);
      expectClose(all.map(([, s]) => s), gensim.all.map(([, s]) => s), { atol: 1e-5, rtol: 0 }, 'every cosine, ranked');
      expectSimilar(m.mostSimilarCosmul({ positive: [a, b], negative: [c], topN: 7 }), gensim.cosmul, 1e-5, 'most_similar_cosmul');
      expectSimilar(m.mostSimilarCosmul({ positive: [d], topN: 5 }), gensim.cosmulOne, 1e-5, 'most_similar_cosmul, one word');
      expectSimilar(m.mostSimilarCosmul({ positive: [unit, a], negative: [b], topN: 5 }), gensim.cosmulUnit, 1e-5, 'most_similar_cosmul, unit vector');
      expect(m.doesntMatch(queries.odd)).toBe(gensim.odd);
      expect(m.nSimilarity(queries.setA, queries.setB)).toBeCloseTo(gensim.n, 5);
      expect(m.similarity(a, b)).toBeCloseTo(gensim.sim, 5);
      const questions = readFileSync(dir.path('questions.txt'), 'utf8');
      const add = m.evaluateAnalogies(questions), mul = m.evaluateAnalogies(questions, { method: '3cosmul' });
      expect([add.total, mul.total]).toEqual([gensim.add[1], gensim.mul[1]]);
      // f32 GEMM scores vs numpy's: a near-tie may flip, nothing more
      expect(Math.abs(add.correct - gensim.add[0])).toBeLessThanOrEqual(1);
      expect(Math.abs(mul.correct - gensim.mul[0])).toBeLessThanOrEqual(1);
      m.dispose();
    }
    weft.dispose();
  });
});
