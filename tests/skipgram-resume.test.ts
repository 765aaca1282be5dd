// Model files (model.save(), weft.skipGram.load(bytes)) and training on from them: an exact
// round trip, a resumed run that trains the bits of the run never stopped, gensim-like
// training on more text, files across backends and threads, and every kind of bad file.

import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createWeft, type SkipGramModel, type SkipGramOptions, type TrainProgress, type Weft } from '../src/index.js';
import { RELAXED_PROJECT, backendsUnderTest, expectWeftError, expectWeftErrorAsync } from './helpers.js';

/** The Lee corpus, lowercased, a-z runs as words, one document per line. */
const LEE = readFileSync(join(import.meta.dirname, '../data/lee_background.cor'), 'utf8')
  .split('\n')
  .map((line) => (line.toLowerCase().match(/[a-z]+/g) ?? []).join(' '))
  .filter((line) => line.length > 0);
const CORPUS = LEE.slice(0, 50).join('\n');
/** Other text: words of the vocabulary and words it does not have. */
const MORE = LEE.slice(50, 80).join('\n');
const MORE_WORDS = MORE.split(/\s+/).length;

const BASE: SkipGramOptions = { dim: 12, window: 3, negative: 3, minCount: 3, epochs: 3, seed: 5, workers: 1 };
const MODES: [string, SkipGramOptions][] = [
  ['skip-gram, negative', {}],
  ['skip-gram, hs and negative', { hs: true }],
  ['CBOW, hs alone', { architecture: 'cbow', hs: true, negative: 0 }],
  ['skip-gram, sampled-softmax', { loss: 'sampled-softmax', numSampled: 8 }],
];

class Stop extends Error {}

/** Train `options` on CORPUS, stopped at the end of epoch `stopAfter` (onProgress throws there); the model file saved at that point. */
async function checkpointAt(weft: Weft, options: SkipGramOptions, stopAfter: number): Promise<{ model: SkipGramModel; file: Uint8Array }> {
  const model = weft.skipGram(options);
  let file: Uint8Array | undefined;
  await expect(model.train(CORPUS, {
    onProgress: (p) => {
      if (!p.endOfEpoch || p.epoch < stopAfter) return;
      file = model.save();
      throw new Stop();
    },
  })).rejects.toBeInstanceOf(Stop);
  return { model, file: file! };
}

const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

describe.each(backendsUnderTest())('model files on $label', ({ create }) => {
  let weft: Weft;
  beforeAll(async () => {
    weft = await create();
  });

  for (const [label, mode] of MODES) {
    it(`round-trips every table, the vocabulary, counts, options and counters (${label})`, async () => {
      const model = weft.skipGram({ ...BASE, ...mode });
      const summary = await model.train(CORPUS);
      const file = model.save();
      const loaded = weft.skipGram.load(file);
      expect(loaded.vocab).toEqual(model.vocab);
      expect(loaded.saveVocab()).toBe(model.saveVocab()); // counts and the sentence count
      expect(loaded.options).toEqual(model.options);
      expect(loaded.options).toMatchObject({ ...BASE, ...mode });
      expect(bits(loaded.vectors().data)).toEqual(bits(model.vectors().data));
      expect([loaded.epochsTrained, loaded.wordsTrained]).toEqual([3, summary.words]);
      expect(loaded.unfinishedRun).toBeUndefined();
      // the output vectors, tree vectors and generator state too: saving again writes the same bytes
      expect(loaded.save()).toEqual(file);
      const word = model.vocab[7];
      expect(loaded.mostSimilar(word, 5)).toEqual(model.mostSimilar(word, 5));
      expect(loaded.similarity(word, model.vocab[3])).toBe(model.similarity(word, model.vocab[3]));
      model.dispose();
      loaded.dispose();
    });

    it(`a run stopped at an epoch's end, saved, loaded and resumed trains the uninterrupted run's bits (${label})`, async () => {
      const options = { ...BASE, ...mode };
      const full = weft.skipGram(options);
      await full.train(CORPUS);
      const fullFile = full.save();
      const { model: stopped, file } = await checkpointAt(weft, options, 1);
      expect(stopped.unfinishedRun).toEqual({ epochs: 3, epochsDone: 1, totalWords: CORPUS.split(/\s+/).length });
      const loaded = weft.skipGram.load(file);
      expect(loaded.unfinishedRun).toEqual(stopped.unfinishedRun);
      expect(loaded.epochsTrained).toBe(1);
      const progress: TrainProgress[] = [];
      const summary = await loaded.train(CORPUS, { onProgress: (p) => progress.push(p) }); // resume is the default here
      expect(summary.epochs).toBe(2);
      expect(progress.filter((p) => p.endOfEpoch).map((p) => p.epoch)).toEqual([2, 3]);
      expect(bits(loaded.vectors().data)).toEqual(bits(full.vectors().data));
      // the whole state, counters included, is the uninterrupted run's
      expect(loaded.save()).toEqual(fullFile);
      // the stopped model itself resumes the same way, without a file
      await stopped.train(CORPUS, { resume: true });
      expect(stopped.save()).toEqual(fullFile);
      for (const m of [full, stopped, loaded]) m.dispose();
    });
  }

  it('trains on more text as gensim does: a new run, alpha from alpha to minAlpha, fixed vocabulary, counters accumulate', async () => {
    const model = weft.skipGram(BASE);
    const first = await model.train(CORPUS);
    const loaded = weft.skipGram.load(model.save());
    const before = loaded.vectors().data;
    const progress: TrainProgress[] = [];
    const summary = await loaded.train(MORE, { epochs: 2, totalWords: MORE_WORDS, onProgress: (p) => progress.push(p) });
    expect(summary.epochs).toBe(2);
    expect(summary.words).toBe(2 * MORE_WORDS);
    expect([loaded.epochsTrained, loaded.wordsTrained]).toEqual([5, first.words + 2 * MORE_WORDS]);
    expect(loaded.vocab).toEqual(model.vocab); // no vocabulary update: new words are skipped
    const newWord = MORE.split(/\s+/).find((w) => !model.vocab.includes(w))!;
    expect(loaded.vector(newWord)).toBeUndefined();
    const after = loaded.vectors().data;
    expect(after.every(Number.isFinite)).toBe(true);
    expect(after.some((v, i) => v !== before[i])).toBe(true);
    // the learning rate restarts at alpha and decays to minAlpha over this run's words: the
    // alphas of a fresh model's first run on the same text (the saved run ended at ~minAlpha)
    const fresh = weft.skipGram(BASE).buildVocab(CORPUS);
    const freshProgress: TrainProgress[] = [];
    await fresh.train(MORE, { epochs: 2, totalWords: MORE_WORDS, onProgress: (p) => freshProgress.push(p) });
    expect(progress.map((p) => [p.epoch, p.alpha])).toEqual(freshProgress.map((p) => [p.epoch, p.alpha]));
    const ends = progress.filter((p) => p.endOfEpoch);
    expect(ends.map((p) => p.epoch)).toEqual([1, 2]);
    expect(ends[0].alpha).toBeGreaterThan(0.025 - (0.025 - 0.0001) / 2);
    expect(ends[1].alpha).toBeLessThan(0.025 * 0.05); // the last sentence's, just before minAlpha
    fresh.dispose();
    // a loaded model continues as the model it was saved from does: the same bits
    await model.train(MORE, { epochs: 2, totalWords: MORE_WORDS });
    expect(bits(after)).toEqual(bits(model.vectors().data));
    model.dispose();
    loaded.dispose();
  });

  it('checks resume, epochs and save against the model’s state', async () => {
    const model = weft.skipGram(BASE);
    expectWeftError(() => model.save(), 'UNSUPPORTED', /no vocabulary/);
    await model.train(CORPUS);
    await expectWeftErrorAsync(() => model.train(CORPUS, { resume: true }), 'UNSUPPORTED', /no unfinished run/);
    await expectWeftErrorAsync(() => model.train(CORPUS, { epochs: 0 }), 'RANGE', /epochs/);
    await expectWeftErrorAsync(() => model.train(CORPUS, { resume: 1 as never }), 'OPTION', /resume/);
    // mid-epoch: no checkpoint
    const saves: string[] = [];
    await model.train(CORPUS, {
      epochs: 1,
      onProgress: (p) => {
        if (p.endOfEpoch) return;
        try {
          model.save();
        } catch (err) {
          saves.push((err as { code: string }).code);
        }
      },
    });
    expect(saves.length).toBeGreaterThan(0);
    expect(new Set(saves)).toEqual(new Set(['UNSUPPORTED']));
    // a checkpoint refuses a new schedule unless resume is false
    const { model: stopped, file } = await checkpointAt(weft, BASE, 2);
    await expectWeftErrorAsync(() => stopped.train(CORPUS, { epochs: 4 }), 'OPTION', /resume continues a run of 3 epochs/);
    await stopped.train(CORPUS, { resume: false, epochs: 1 });
    expect(stopped.unfinishedRun).toBeUndefined();
    expect(stopped.epochsTrained).toBe(3);
    expect(weft.skipGram.load(file, { workers: 1 }).unfinishedRun?.epochsDone).toBe(2);
    expectWeftError(() => weft.skipGram.load(file, { workers: 0 }), 'RANGE', /workers/);
    // vectors without training state
    const vectorsOnly = weft.skipGram.fromWord2Vec(model.toWord2Vec());
    expectWeftError(() => vectorsOnly.save(), 'UNSUPPORTED', /word2vec/);
    model.dispose();
    expectWeftError(() => model.save(), 'UNSUPPORTED', /disposed/);
    stopped.dispose();
  });
});

/** The preamble and JSON header of a model file, and a function writing them back with the arrays. */
function editHeader(file: Uint8Array, edit: (header: Record<string, any>) => void, version = 1): Uint8Array {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const headerBytes = view.getUint32(12, true);
  const header = JSON.parse(new TextDecoder().decode(file.subarray(16, 16 + headerBytes)));
  edit(header);
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = (json.length + 3) & ~3;
  const out = new Uint8Array(16 + padded + file.length - 16 - headerBytes);
  out.set(file.subarray(0, 16));
  out.fill(0x20, 16, 16 + padded);
  out.set(json, 16);
  out.set(file.subarray(16 + headerBytes), 16 + padded);
  new DataView(out.buffer).setUint32(12, padded, true);
  new DataView(out.buffer).setUint32(8, version, true);
  return out;
}

describe.each(backendsUnderTest())('bad model files on $label', ({ label, create }) => {
  let weft: Weft;
  let file: Uint8Array;
  beforeAll(async () => {
    weft = await create();
    const model = weft.skipGram({ dim: 3, minCount: 1, epochs: 1, seed: 2, hs: true, workers: 1 });
    await model.train('a b c a b a\nc a d');
    file = model.save();
    model.dispose();
  });

  it('names the problem of every truncation, a bad magic, another version and a word2vec file', () => {
    const live = weft.memory().liveBytes;
    for (let n = 0; n < file.length; n++) expectWeftError(() => weft.skipGram.load(file.slice(0, n)), 'SHAPE', /^load: truncated: /);
    expectWeftError(() => weft.skipGram.load(Uint8Array.of(...file, 0)), 'SHAPE', /1 bytes after the arrays/);
    const badMagic = file.slice();
    badMagic[1] ^= 0x20;
    expectWeftError(() => weft.skipGram.load(badMagic), 'SHAPE', /not a weft model file \(bad magic\)/);
    expectWeftError(() => weft.skipGram.load(editHeader(file, () => {}, 2)), 'UNSUPPORTED', /version 2; this weft reads version 1/);
    const model = weft.skipGram({ dim: 3, minCount: 1, epochs: 1 });
    model.buildVocab('a b c a b a');
    for (const binary of [false, true]) {
      expectWeftError(() => weft.skipGram.load(model.toWord2Vec({ binary })), 'SHAPE', /word2vec vectors file.*fromWord2Vec/);
    }
    expectWeftError(() => weft.skipGram.load(new TextEncoder().encode(model.saveVocab())), 'SHAPE', /not a weft model file/);
    expectWeftError(() => weft.skipGram.load(Array.from(file) as never), 'DTYPE', /Uint8Array/);
    model.dispose();
    expect(weft.memory().liveBytes).toBe(live);
  });

  it('names inconsistent sizes, a malformed header and bad options', () => {
    const live = weft.memory().liveBytes;
    const cases: [string, (h: Record<string, any>) => void, string, RegExp][] = [
      ['input rows', (h) => { h.arrays.input[0] += 1; }, 'SHAPE', /input array is \[5, 3\], expected \[4, 3\]/],
      ['tree rows', (h) => { h.arrays.tree = [0, 3]; }, 'SHAPE', /tree array/],
      ['a word too many', (h) => { h.vocab.words.push('z'); h.vocab.counts.push(1); }, 'SHAPE', /input array is \[4, 3\], expected \[5, 3\]/],
      ['counts of another length', (h) => { h.vocab.counts.pop(); }, 'SHAPE', /4 words and 3 counts/],
      ['counts out of order', (h) => { h.vocab.counts.reverse(); }, 'SHAPE', /descending order/],
      ['a word twice', (h) => { h.vocab.words[1] = h.vocab.words[0]; }, 'SHAPE', /twice/],
      ['a negative count', (h) => { h.vocab.counts[3] = -1; }, 'SHAPE', /vocab.counts/],
      ['no options', (h) => { delete h.options; }, 'SHAPE', /no "options"/],
      ['an option left out', (h) => { delete h.options.window; }, 'SHAPE', /no "window"/],
      ['an unknown loss', (h) => { h.options.loss = 'hinge'; }, 'OPTION', /the file's options: loss/],
      ['dim out of range', (h) => { h.options.dim = 0; }, 'RANGE', /the file's options: dim/],
      ['an all-zero generator', (h) => { h.rngState = [0, 0, 0, 0]; }, 'SHAPE', /rngState/],
      ['a finished run', (h) => { h.run = { epochs: 2, epochsDone: 2, totalWords: 9 }; }, 'SHAPE', /not an unfinished run/],
    ];
    // a vocabulary the options cannot train: hs over one word (no inner node)
    const oneWord = weft.skipGram({ dim: 3, minCount: 1, epochs: 1, workers: 1 }).buildVocab('a a a');
    const oneWordFile = oneWord.save();
    oneWord.dispose();
    const hsOverOneWord = (h: Record<string, any>) => { h.options.hs = true; };
    for (const [what, edit, code, message, source] of [
      ...cases.map((c) => [...c, file] as const),
      ['hs over one word', hsOverOneWord, 'RANGE', /the file's vocabulary: hs: .*at least 2 words/, oneWordFile] as const,
    ]) {
      let caught: unknown;
      try {
        weft.skipGram.load(editHeader(source, edit));
      } catch (err) {
        caught = err;
      }
      expect(caught, what).toMatchObject({ name: 'WeftError', code });
      expect((caught as Error).message, what).toMatch(message);
    }
    const notJson = file.slice();
    notJson[16] = 0x7b + 1; // "|" for "{"
    expectWeftError(() => weft.skipGram.load(notJson), 'SHAPE', /not UTF-8 JSON/);
    expect(weft.memory().liveBytes).toBe(live);
  });

  it('refuses non-finite weights, naming the array and row, and stays usable after every failure', async () => {
    const live = weft.memory().liveBytes;
    const headerEnd = 16 + new DataView(file.buffer).getUint32(12, true);
    const rows = { input: 4, output: 4, tree: 3 };
    let at = headerEnd;
    for (const [name, count] of Object.entries(rows)) {
      for (const value of [NaN, Infinity, -Infinity]) {
        const bad = file.slice();
        new DataView(bad.buffer).setFloat32(at + 4 * (3 + 1), value, true); // row 1, column 1
        expectWeftError(() => weft.skipGram.load(bad), 'RANGE', new RegExp(`the ${name} array holds ${value} at row 1, column 1`));
      }
      at += 4 * 3 * count;
    }
    expect(at).toBe(file.length);
    expect(weft.memory().liveBytes).toBe(live);
    // the instance still loads and trains
    const model = weft.skipGram.load(file);
    await model.train('a b c d a b', { epochs: 1 });
    expect(model.vectors().data.every(Number.isFinite)).toBe(true);
    model.dispose();
    if (label !== 'js') expect(weft.memory().liveBytes).toBe(live);
  });
});

describe.skipIf(RELAXED_PROJECT)('model files across backends and threads', () => {
  it('JS and WASM load each other’s files and resume to the same vectors up to rounding', async () => {
    const js = await createWeft({ backend: 'js' });
    const wasm = await createWeft({ simd: 'simd', threads: 1 });
    const options: SkipGramOptions = { ...BASE, hs: true };
    const fromJs = await checkpointAt(js, options, 1);
    const fromWasm = await checkpointAt(wasm, options, 1);
    // the checkpoints themselves agree up to rounding
    const jsVectors = js.skipGram.load(fromJs.file).vectors().data, wasmVectors = wasm.skipGram.load(fromWasm.file).vectors().data;
    expect(maxAbsDiff(jsVectors, wasmVectors)).toBeLessThan(1e-5);
    const results: Float32Array[] = [];
    for (const [target, file] of [[js, fromWasm.file], [wasm, fromJs.file], [js, fromJs.file], [wasm, fromWasm.file]] as const) {
      const model = target.skipGram.load(file);
      await model.train(CORPUS);
      expect(model.epochsTrained).toBe(3);
      results.push(model.vectors().data);
      model.dispose();
    }
    // float rounding only (f64 JS, f32 SIMD), compounded over two epochs of SGD
    for (const r of results.slice(1)) expect(maxAbsDiff(r, results[0])).toBeLessThan(2e-4);
    fromJs.model.dispose();
    fromWasm.model.dispose();
    js.dispose();
    wasm.dispose();
  });

  it('a model trained on 2 threads (Hogwild) saves, loads and resumes', async () => {
    const weft = await createWeft({ threads: 2 });
    const options: SkipGramOptions = { ...BASE, workers: 2, epochs: 3 };
    const { model, file } = await checkpointAt(weft, options, 2);
    expect(model.options.workers).toBe(2);
    const loaded = weft.skipGram.load(file);
    expect(loaded.unfinishedRun).toMatchObject({ epochs: 3, epochsDone: 2 });
    const summary = await loaded.train(CORPUS);
    expect(summary.epochs).toBe(1);
    const vectors = loaded.vectors();
    expect(vectors.shape).toEqual([model.vocab.length, BASE.dim]);
    expect(vectors.data.every(Number.isFinite)).toBe(true);
    // and trains on more text on one thread of a one-thread instance
    const single = await createWeft({ backend: 'js' });
    const again = single.skipGram.load(loaded.save());
    await again.train(MORE, { epochs: 1, totalWords: MORE_WORDS });
    expect(again.vectors().data.every(Number.isFinite)).toBe(true);
    for (const m of [model, loaded, again]) m.dispose();
    weft.dispose();
    single.dispose();
  });
});

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}
