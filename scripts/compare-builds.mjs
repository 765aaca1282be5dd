// Speed of two builds of the library in one process: the same calls, alternated
// between the builds round by round, median time of each (so machine noise hits both
// alike). For changes that must not slow any op (a refactor, the pool at threads: 1).
//   node --experimental-wasm-relaxed-simd scripts/compare-builds.mjs <before/dist/index.js> <after/dist/index.js> [filter]
//        [--options '{"threads":1}' (createWeft options for the second build)]
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const optionsAt = args.indexOf('--options');
const afterOptions = optionsAt >= 0 ? JSON.parse(args.splice(optionsAt, 2)[1]) : {};
const [beforePath, afterPath, filter = ''] = args;
const load = async (path) => (await import(pathToFileURL(resolve(path)).href)).createWeft;
const builds = [
  ['before', await (await load(beforePath))({ simd: 'relaxed' })],
  ['after', await (await load(afterPath))({ simd: 'relaxed', ...afterOptions })],
];

function cases(w) {
  const r = (shape, seed) => w.randn(shape, seed);
  const list = [];
  const add = (name, setup) => list.push([name, setup]);
  add('matmul 1024^3', () => { const a = r([1024, 1024], 1), b = r([1024, 1024], 2); return () => w.matmul(a, b); });
  add('matmul 256^3', () => { const a = r([256, 256], 1), b = r([256, 256], 2); return () => w.matmul(a, b); });
  add('matmul 1x512x512', () => { const a = r([1, 512], 1), b = r([512, 512], 2); return () => w.matmul(a, b); });
  add('matmul 4096x64x64', () => { const a = r([4096, 64], 1), b = r([64, 64], 2); return () => w.matmul(a, b); });
  const rnn = (hid) => ({ x: r([8, 64, 64, 3], 1), wIn: r([hid, 3], 2), wLeft: r([hid, hid], 3), wTop: r([hid, hid], 4), bias: r([hid], 5) });
  add('rnn2d fwd n=64 hid=128 B=8', () => { const a = rnn(128); for (const k of ['wLeft', 'wTop']) a[k].data.forEach((_, i, d) => (d[i] *= 0.05)); return () => w.rnn2d.forward(a); });
  add('rnn2d fwd+bwd n=64 hid=128 B=8', () => {
    const a = rnn(128);
    for (const k of ['wLeft', 'wTop']) a[k].data.forEach((_, i, d) => (d[i] *= 0.05));
    const { h } = w.rnn2d.forward(a);
    const dh = r(h.shape, 9);
    return () => { const f = w.rnn2d.forward(a); return w.rnn2d.backward({ ...a, h: f.h, dh }); };
  });
  add('conv2d 8x32x32x32 3x3x32 same', () => { const a = { x: r([8, 32, 32, 32], 1), w: r([32, 3, 3, 32], 2), padding: 'same' }; return () => w.conv2d.forward(a); });
  const att = (T) => ({ q: r([1, 8, T, 64], 1), k: r([1, 8, T, 64], 2), v: r([1, 8, T, 64], 3) });
  add('attention.full T=1024', () => { const a = att(1024); return () => w.attention.full(a); });
  add('attention.fullBackward T=1024', () => { const a = { ...att(1024), dout: r([1, 8, 1024, 64], 4) }; return () => w.attention.fullBackward(a); });
  add('attention.windowed T=4096 [128,128]', () => { const a = { ...att(4096), window: [128, 128] }; return () => w.attention.windowed(a); });
  add('attention.windowedBackward T=4096 [128,128]', () => { const a = { ...att(4096), window: [128, 128], dout: r([1, 8, 4096, 64], 4) }; return () => w.attention.windowedBackward(a); });
  add('attention.linear elu1 T=4096', () => { const a = att(4096); return () => w.attention.linear(a); });
  add('attention.linear favor causal T=4096', () => { const a = { ...att(4096), featureMap: 'favor', causal: true, numFeatures: 256 }; return () => w.attention.linear(a); });
  add('attention.linearBackward elu1 causal T=4096', () => { const a = { ...att(4096), causal: true, dout: r([1, 8, 4096, 64], 4) }; return () => w.attention.linearBackward(a); });
  add('softmax.full N=64 V=100K h=128', () => {
    const a = { input: r([64, 128], 1), weights: r([100000, 128], 2), targets: Int32Array.from({ length: 64 }, (_, i) => i * 997) };
    a.weights.data.forEach((_, i, d) => (d[i] *= 0.1));
    return () => w.softmax.full(a);
  });
  add('softmax.negativeSampling N=64 V=100K h=128', () => {
    const a = { input: r([64, 128], 1), weights: r([100000, 128], 2), targets: Int32Array.from({ length: 64 }, (_, i) => i * 997), negative: 5 };
    const sampler = w.softmax.unigramSampler({ counts: Float64Array.from({ length: 100000 }, (_, i) => 1 + 1e6 / (i + 1)) });
    return () => w.softmax.negativeSampling({ ...a, sampler, seed: 1 });
  });
  add('skipGram 1 epoch (Lee corpus x3)', () => {
    const text = readFileSync(resolve('data/lee_background.cor'), 'utf8').toLowerCase().replace(/[^a-z\n]+/g, ' ');
    const corpus = text + text + text;
    return async () => {
      const model = w.skipGram({ dim: 100, epochs: 1, minCount: 2, seed: 1 });
      model.buildVocab(corpus);
      await model.train(corpus);
      model.dispose?.();
    };
  });
  return list.filter(([name]) => name.includes(filter));
}

const median = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
const perBuild = builds.map(([label, w]) => ({ label, cases: cases(w).map(([name, setup]) => [name, setup()]) }));
console.log(`case | before ms | after ms | after / before`);
for (let c = 0; c < perBuild[0].cases.length; c++) {
  const name = perBuild[0].cases[c][0];
  const times = perBuild.map(() => []);
  for (const b of perBuild) await b.cases[c][1](); // warm up
  const started = performance.now();
  for (let round = 0; round < 41 && (round < 7 || performance.now() - started < 8000); round++) {
    for (let b = 0; b < perBuild.length; b++) {
      const t0 = performance.now();
      await perBuild[b].cases[c][1]();
      times[b].push(performance.now() - t0);
    }
  }
  const [before, after] = times.map(median);
  console.log(`${name} | ${before.toFixed(2)} | ${after.toFixed(2)} | ${(after / before).toFixed(3)}`);
}
for (const [, w] of builds) w.dispose?.();
