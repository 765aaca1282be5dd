import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createWeft, type SkipGramModel, type Weft } from '../src/index.js';
import { Rng, fillNormal } from '../src/rng.js';
import { formatFloat32, writeWord2Vec } from '../src/ops/skipgram/word2vec.js';
import { RELAXED_PROJECT, backendsUnderTest, expectWeftError, hasGensim, runGensimScript, tempDirFixture } from './helpers.js';

const DATA = join(import.meta.dirname, '../data');
const LEE = readFileSync(join(DATA, 'lee_background.cor'), 'utf8')
  .split('\n')
  .map((line) => (line.toLowerCase().match(/[a-z]+/g) ?? []).join(' '))
  .filter((line) => line.length > 0)
  .join('\n');

const encode = (text: string) => new TextEncoder().encode(text);

/** A model holding given vectors (through the text format, which is checked separately). */
function modelOf(weft: Weft, words: string[], vectors: Float32Array, dim: number): SkipGramModel {
  return weft.skipGram.fromWord2Vec(writeWord2Vec({ words, vectors, dim }, true));
}

function randomVectors(count: number, dim: number, seed: number): Float32Array {
  return fillNormal(new Rng(seed), new Float32Array(count * dim));
}

describe('formatFloat32', () => {
  it('writes the shortest decimal that reads back as the same float32', () => {
    expect(formatFloat32(0.5)).toBe('0.5');
    expect(formatFloat32(Math.fround(0.1))).toBe('0.1');
    expect(formatFloat32(-3)).toBe('-3');
    expect(formatFloat32(Math.fround(1e-7))).toBe('1e-7');
    expect(formatFloat32(Math.fround(123456.789))).toBe('123456.79'); // 123456.7890625 as a float32
    const values = randomVectors(2000, 1, 3);
    for (const v of values) {
      const x = Math.fround(v * 10 ** ((v * 7) | 0));
      const text = formatFloat32(x);
      expect(Math.fround(Number(text))).toBe(x);
      // significant digits: drop sign, exponent, point and leading zeros
      expect(text.replace(/e.*/, '').replace(/[-.]/g, '').replace(/^0+/, '').length, text).toBeLessThanOrEqual(9);
    }
  });
});

describe.each(backendsUnderTest())('word2vec files and evaluation on $label', ({ create }) => {
  let weft: Weft;
  beforeAll(async () => {
    weft = await create();
  });

  it('checks the options of toWord2Vec and fromWord2Vec', () => {
    const model = modelOf(weft, ['alpha', 'beta', 'gamma'], randomVectors(3, 4, 1), 4);
    expectWeftError(() => model.toWord2Vec(null as never), 'OPTION', /toWord2Vec: options must be an object/);
    expectWeftError(() => model.toWord2Vec([] as never), 'OPTION', /toWord2Vec: options must be an object, got \[\]/);
    expectWeftError(() => weft.skipGram([] as never), 'OPTION', /skipGram: options must be an object/);
    expectWeftError(() => model.toWord2Vec({ binary: 'yes' as never }), 'OPTION', /toWord2Vec: binary: expected a boolean/);
    const bytes = model.toWord2Vec();
    expectWeftError(() => weft.skipGram.fromWord2Vec(bytes, null as never), 'OPTION', /fromWord2Vec: options must be an object/);
    expectWeftError(() => weft.skipGram.fromWord2Vec(bytes, { binary: 1 as never }), 'OPTION', /fromWord2Vec: binary: expected a boolean/);
    expect(weft.skipGram.fromWord2Vec(bytes, { binary: false }).vocab).toEqual(model.vocab);
  });

  it('round-trips text and binary exactly, detecting the format', async () => {
    const model = weft.skipGram({ dim: 13, minCount: 3, epochs: 1, seed: 4 });
    await model.train(LEE.split('\n').slice(0, 40).join('\n'));
    const vectors = model.vectors();
    for (const binary of [false, true]) {
      const bytes = model.toWord2Vec({ binary });
      const header = new TextDecoder().decode(bytes.subarray(0, bytes.indexOf(10)));
      expect(header).toBe(`${model.vocab.length} 13`);
      for (const detect of [undefined, binary]) {
        const loaded = weft.skipGram.fromWord2Vec(bytes, { binary: detect });
        expect(loaded.vocab).toEqual(model.vocab);
        expect(loaded.dim).toBe(13);
        expect(loaded.vectors().data).toEqual(vectors.data);
        expect(loaded.mostSimilar(model.vocab[3], 4)).toEqual(model.mostSimilar(model.vocab[3], 4));
        loaded.dispose(); // its unit vectors, copied into WASM memory by the query
      }
    }
    // word2vec.c layout: "word " + 4 * dim bytes + "\n" per word
    const binary = model.toWord2Vec({ binary: true });
    const first = binary.indexOf(10) + 1;
    const word = model.vocab[0];
    expect(new TextDecoder().decode(binary.subarray(first, first + word.length + 1))).toBe(`${word} `);
    expect(binary[first + word.length + 1 + 4 * 13]).toBe(10);
    expect(new DataView(binary.buffer).getFloat32(first + word.length + 1, true)).toBe(vectors.data[0]);
    model.dispose();
    expect(weft.memory().liveBytes).toBe(0);
  });

  it('reads word2vec.c text (trailing spaces) and gensim binary (no newline after vectors)', () => {
    const text = weft.skipGram.fromWord2Vec(encode('2 3\nfoo 0.100000 -2.000000 3.500000 \nbar 1 2 3 \n'));
    expect(text.vocab).toEqual(['foo', 'bar']);
    expect(Array.from(text.vector('foo')!)).toEqual([Math.fround(0.1), -2, 3.5]);
    const bytes = new Uint8Array(5 + 2 * (4 + 8));
    bytes.set(encode('2 2\n'));
    const view = new DataView(bytes.buffer);
    bytes.set(encode('ab '), 4);
    view.setFloat32(7, 1.5, true);
    view.setFloat32(11, -1, true);
    bytes.set(encode('cd '), 15);
    view.setFloat32(18, 2, true);
    view.setFloat32(22, 3, true);
    const loaded = weft.skipGram.fromWord2Vec(bytes.subarray(0, 26));
    expect(loaded.vocab).toEqual(['ab', 'cd']);
    expect(Array.from(loaded.vector('cd')!)).toEqual([2, 3]);
  });

  it('names the line or byte offset of a corrupt or truncated file', () => {
    const load = (text: string | Uint8Array, binary?: boolean) => () =>
      weft.skipGram.fromWord2Vec(typeof text === 'string' ? encode(text) : text, { binary });
    expectWeftError(load(''), 'SHAPE', /line 1: expected a header/);
    expectWeftError(load('3 x\n'), 'SHAPE', /line 1: expected a header "<words> <dimensions>", got "3 x"/);
    expectWeftError(load('2 3\nfoo 1 2 3\nbar 1 2\n'), 'SHAPE', /line 3: expected a word and 3 values, got 2 values after "bar"/);
    expectWeftError(load('2 3\nfoo 1 2 3\nbar 1 zz 3\n'), 'SHAPE', /line 3: value 2 of "bar" is "zz"/);
    // a finite decimal beyond float32 would load as Infinity (and give NaN similarities)
    expectWeftError(load('2 3\nfoo 1 2 3\nbar 1 1e39 3\n'), 'SHAPE', /line 3: value 2 of "bar" is 1e39, outside float32's range/);
    expectWeftError(load('3 3\nfoo 1 2 3\nbar 1 2 3\n'), 'SHAPE', /truncated: the header announces 3 vectors, the file has 2/);
    expectWeftError(load('1 3\nfoo 1 2 3\nbar 1 2 3\n'), 'SHAPE', /line 3: more vectors than the 1/);
    expectWeftError(load(new Uint8Array([...encode('1 2\nfoo 1 2\n'), 0xff, 0x0a]), false), 'SHAPE', /line 3: invalid UTF-8/);

    const words = ['alpha', 'beta', 'gamma'];
    const good = writeWord2Vec({ words, vectors: new Float32Array([1, 2, 3, 4, 5, 6]), dim: 2 }, true);
    // header "3 2\n" (4 bytes); each record: word, space, 8 bytes, newline
    const betaVector = 4 + 'alpha '.length + 8 + 1 + 'beta '.length;
    expectWeftError(load(good.subarray(0, betaVector + 5)), 'SHAPE', new RegExp(`byte offset ${betaVector}: truncated: word 2 of 3 \\("beta"\\) needs 8 bytes of vector, 5 remain`));
    const gammaStart = betaVector + 8 + 1;
    expectWeftError(load(good.subarray(0, gammaStart + 3), true), 'SHAPE', new RegExp(`byte offset ${gammaStart}: truncated or corrupt: expected word 3 of 3`));
    const nan = good.slice();
    new DataView(nan.buffer).setFloat32(betaVector + 4, NaN, true);
    expectWeftError(load(nan, true), 'SHAPE', new RegExp(`byte offset ${betaVector + 4}: value 2 of "beta" is NaN`));
    expectWeftError(load(new Uint8Array([...good, ...encode('junk')]), true), 'SHAPE', /data after the 3 vectors/);
    expectWeftError(() => weft.skipGram.fromWord2Vec('2 2' as never), 'DTYPE', /fromWord2Vec: bytes: expected a Uint8Array .*, got "2 2"/);
    expectWeftError(() => modelOf(weft, ['a b'], new Float32Array(2), 2), 'RANGE', /toWord2Vec: word 0 \("a b"\) is empty or contains whitespace/);
    // a loaded model answers queries but cannot train
    const loaded = weft.skipGram.fromWord2Vec(good);
    expectWeftError(() => loaded.buildVocab('a b'), 'UNSUPPORTED', /loaded from word2vec/);
    expect(weft.memory().liveBytes).toBe(0);
  });

  it('scores analogies like a direct 3CosAdd search, with sections, case folding, OOV and restrictVocab', () => {
    const V = 40, dim = 6;
    const words = Array.from({ length: V }, (_, i) => `w${i}`);
    const vectors = randomVectors(V, dim, 21);
    const model = modelOf(weft, words, vectors, dim);
    const rng = new Rng(22);
    const lines: string[] = [];
    const questions: { section: number; ids: number[] }[] = [];
    for (let section = 0; section < 3; section++) {
      lines.push(`: section-${section}`);
      for (let q = 0; q < 30; q++) {
        const ids = [0, 1, 2].map(() => rng.nextBelow(V));
        if (new Set(ids).size < 3) continue;
        // the expected answer: the true 3CosAdd winner half the time, a random word otherwise
        const expected = q % 2 === 0 ? argmax3CosAdd(vectors, dim, V, ids) : rng.nextBelow(V);
        questions.push({ section, ids: [...ids, expected] });
        lines.push(ids.map((i) => (q % 3 === 0 ? `W${i}` : `w${i}`)).join(' ') + ` ${q % 3 === 0 ? 'W' : 'w'}${expected}`);
      }
      lines.push('w1 w2 unknown w3', 'only three words');
    }
    const result = model.evaluateAnalogies(lines.join('\n'));
    const correct = questions.map((q) => argmax3CosAdd(vectors, dim, V, q.ids.slice(0, 3)) === q.ids[3]);
    expect(result.total).toBe(questions.length);
    expect(result.skipped).toBe(3);
    expect(result.correct).toBe(correct.filter(Boolean).length);
    expect(result.accuracy).toBeCloseTo(result.correct / result.total, 12);
    expect(result.sections.map((s) => s.section)).toEqual(['section-0', 'section-1', 'section-2']);
    for (let s = 0; s < 3; s++) {
      const mine = questions.map((q, i) => [q.section, correct[i]] as const).filter(([sec]) => sec === s);
      expect(result.sections[s].total).toBe(mine.length);
      expect(result.sections[s].correct).toBe(mine.filter(([, ok]) => ok).length);
    }
    // restricted to the first 20 words: questions with a later word are skipped
    const restricted = model.evaluateAnalogies(lines.join('\n'), { restrictVocab: 20 });
    expect(restricted.total).toBe(questions.filter((q) => q.ids.every((i) => i < 20)).length);
    // case-sensitive: the upper-case questions become unknown
    expect(model.evaluateAnalogies(lines.join('\n'), { caseInsensitive: false }).skipped).toBeGreaterThan(3);
    expectWeftError(() => model.evaluateAnalogies('w1 w2 w3 w4'), 'SHAPE', /line 1: a question before the first/);
  });

  it('correlates word-pair scores like scipy (tied ranks averaged) and counts OOV pairs', () => {
    const V = 30, dim = 5;
    const words = Array.from({ length: V }, (_, i) => `w${i}`);
    const vectors = randomVectors(V, dim, 31);
    const model = modelOf(weft, words, vectors, dim);
    const rng = new Rng(32);
    const lines = ['# Word 1\tWord 2\tHuman (mean)'];
    const gold: number[] = [], cosines: number[] = [];
    for (let p = 0; p < 50; p++) {
      const a = rng.nextBelow(V), b = rng.nextBelow(V);
      const score = rng.nextBelow(8) / 2; // many ties
      lines.push(`${p % 4 === 0 ? 'W' : 'w'}${a}\tw${b}\t${score}`);
      gold.push(score);
      cosines.push(cosine(vectors, dim, a, b));
    }
    lines.push('w1\tmissing\t3', 'zz\tw2\t1', 'w1\tw2', 'w1\tw2\tnot-a-number', '');
    const result = model.evaluateWordPairs(lines.join('\r\n'));
    expect(result.pairs).toBe(50);
    expect(result.oov).toBeCloseTo(2 / 52, 12);
    expect(result.pearson).toBeCloseTo(pearsonNaive(gold, cosines), 5);
    expect(result.spearman).toBeCloseTo(pearsonNaive(averageRanks(gold), averageRanks(cosines)), 5);
    expectWeftError(() => model.evaluateWordPairs('x\ty\t1\n'), 'RANGE', /no pair has both words in the vocabulary \(1 skipped as unknown, 0 malformed lines\)/);
    expectWeftError(() => model.evaluateWordPairs('x,y,1\nbad line\n'), 'RANGE', /no line has the form word1\\tword2\\tscore \(2 malformed lines\)/);
    expectWeftError(() => model.evaluateWordPairs('x,y,1\n', { delimiter: 5 as never }), 'OPTION', /delimiter must be a non-empty string, got 5/);
  });
});

function cosine(vectors: Float32Array, dim: number, a: number, b: number): number {
  let ab = 0, aa = 0, bb = 0;
  for (let k = 0; k < dim; k++) {
    ab += vectors[a * dim + k] * vectors[b * dim + k];
    aa += vectors[a * dim + k] ** 2;
    bb += vectors[b * dim + k] ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

/** argmax over words not in {a, b, c} of cos(w, b̂ - â + ĉ). */
function argmax3CosAdd(vectors: Float32Array, dim: number, V: number, [a, b, c]: number[]): number {
  const unit = (i: number) => {
    const n = Math.sqrt(Array.from({ length: dim }, (_, k) => vectors[i * dim + k] ** 2).reduce((s, x) => s + x, 0));
    return Array.from({ length: dim }, (_, k) => vectors[i * dim + k] / n);
  };
  const [ua, ub, uc] = [a, b, c].map(unit);
  const query = ua.map((_, k) => ub[k] - ua[k] + uc[k]);
  let best = -1, bestScore = -Infinity;
  for (let w = 0; w < V; w++) {
    if (w === a || w === b || w === c) continue;
    const u = unit(w);
    const score = u.reduce((s, x, k) => s + x * query[k], 0);
    if (score > bestScore) {
      bestScore = score;
      best = w;
    }
  }
  return best;
}

function pearsonNaive(x: number[], y: number[]): number {
  const mean = (v: number[]) => v.reduce((s, t) => s + t, 0) / v.length;
  const mx = mean(x), my = mean(y);
  const cov = x.reduce((s, t, i) => s + (t - mx) * (y[i] - my), 0);
  const sx = Math.sqrt(x.reduce((s, t) => s + (t - mx) ** 2, 0));
  const sy = Math.sqrt(y.reduce((s, t) => s + (t - my) ** 2, 0));
  return cov / (sx * sy);
}

/** Rank of each value = 1 + (number below) + (number equal - 1) / 2. */
function averageRanks(values: number[]): number[] {
  return values.map((v) => 1 + values.filter((u) => u < v).length + (values.filter((u) => u === v).length - 1) / 2);
}

// gensim (tests/helpers.ts) as an independent oracle.
describe.skipIf(!hasGensim || RELAXED_PROJECT)('gensim interop', () => {
  const dir = tempDirFixture('weft-gensim-');

  it('gensim loads our text and binary files, we load its files, and both evaluate alike', async () => {
    const weft = await createWeft();
    const model = weft.skipGram({ dim: 32, minCount: 3, epochs: 3, seed: 9 });
    await model.train(LEE);
    writeFileSync(dir.path('ours.txt'), model.toWord2Vec());
    writeFileSync(dir.path('ours.bin'), model.toWord2Vec({ binary: true }));
    const script = `
import json, sys, numpy as np
from gensim.models import KeyedVectors
d, data = sys.argv[1], sys.argv[2]
text = KeyedVectors.load_word2vec_format(d + '/ours.txt', binary=False)
binary = KeyedVectors.load_word2vec_format(d + '/ours.bin', binary=True)
text.save_word2vec_format(d + '/gensim.txt', binary=False)
text.save_word2vec_format(d + '/gensim.bin', binary=True)
pearson, spearman, oov = text.evaluate_word_pairs(data + '/wordsim353.tsv')
score, sections = text.evaluate_word_analogies(data + '/questions-words.txt')
total = sections[-1]
print(json.dumps({
  'words': text.index_to_key, 'same': bool(np.array_equal(text.vectors, binary.vectors)),
  'first': text.vectors[0].tolist(), 'last': text.vectors[-1].tolist(),
  'pearson': pearson[0], 'spearman': spearman.correlation, 'oov': oov,
  'analogy': score, 'correct': len(total['correct']), 'total': len(total['correct']) + len(total['incorrect']),
}))`;
    const gensim = runGensimScript(script, [dir.path(), DATA], 60_000) as {
      words: string[]; same: boolean; first: number[]; last: number[]; pearson: number; spearman: number; oov: number; correct: number; total: number;
    };
    const vectors = model.vectors().data;
    expect(gensim.words).toEqual(model.vocab);
    expect(gensim.same).toBe(true);
    expect(Float32Array.from(gensim.first)).toEqual(vectors.subarray(0, 32));
    expect(Float32Array.from(gensim.last)).toEqual(vectors.subarray(vectors.length - 32));
    // gensim's files read back to the same vectors
    for (const file of ['gensim.txt', 'gensim.bin']) {
      const back = weft.skipGram.fromWord2Vec(new Uint8Array(readFileSync(dir.path(file))));
      expect(back.vocab).toEqual(model.vocab);
      expect(back.vectors().data).toEqual(vectors);
    }
    const pairs = model.evaluateWordPairs(readFileSync(join(DATA, 'wordsim353.tsv'), 'utf8'));
    expect(pairs.pearson).toBeCloseTo(gensim.pearson, 5);
    expect(pairs.spearman).toBeCloseTo(gensim.spearman, 5);
    expect(pairs.oov * 100).toBeCloseTo(gensim.oov, 8);
    const analogies = model.evaluateAnalogies(readFileSync(join(DATA, 'questions-words.txt'), 'utf8'));
    expect(analogies.total).toBe(gensim.total);
    // f32 GEMM scores vs numpy's: a near-tie may flip, nothing more
    expect(Math.abs(analogies.correct - gensim.correct)).toBeLessThanOrEqual(1);
    model.dispose();
  });
});
