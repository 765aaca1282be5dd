// Bit fingerprints of every op: fixed inputs at awkward sizes, each result hashed
// (FNV-1a over its raw bits), one line per (backend, op, case). Refactors that must
// keep the same bits compare two runs:
//   node --experimental-wasm-relaxed-simd scripts/fingerprint.mjs > before.txt
//   (change, npm run build)
//   node --experimental-wasm-relaxed-simd scripts/fingerprint.mjs > after.txt && diff before.txt after.txt
// Usage: fingerprint.mjs [dist/index.js] [createWeft options as JSON, merged into each backend's]
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const entry = resolve(process.argv[2] ?? 'dist/index.js');
const extra = JSON.parse(process.argv[3] ?? '{}');
const { createWeft } = await import(pathToFileURL(entry).href);

function fnv(bytes) {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

function hashOf(value) {
  if (value instanceof Float32Array || value instanceof Int32Array) return fnv(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
  if (typeof value === 'number') return fnv(new Uint8Array(Float64Array.of(value).buffer));
  if (value && value.data instanceof Float32Array) return hashOf(value.data);
  if (value && typeof value === 'object') {
    return Object.keys(value).sort().map((k) => `${k}:${hashOf(value[k])}`).join(',');
  }
  return String(value);
}

let seed = 1;
function rand(n, scale = 1) {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    out[i] = ((seed / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}
const t = (shape, scale = 1) => ({ data: rand(shape.reduce((a, b) => a * b, 1), scale), shape });

function cases(w) {
  const out = [];
  const add = (name, fn) => out.push([name, fn]);
  for (const [M, K, N, batch] of [[1, 1, 1, 0], [3, 17, 5, 0], [37, 64, 129, 0], [130, 31, 66, 0], [2, 9, 300, 3], [65, 257, 40, 2]]) {
    seed = M * 1000 + K + N;
    const a = batch ? t([batch, M, K]) : t([M, K]);
    const b = t([K, N]);
    const bias = t([N]);
    add(`matmul ${M}x${K}x${N} b${batch}`, () => w.matmul(a, b, { bias }));
    add(`matmul T ${M}x${K}x${N} b${batch}`, () => w.matmul(batch ? t([batch, K, M]) : t([K, M]), t([N, K]), { transposeA: true, transposeB: true }));
  }
  for (const [B, H, W, C, hid] of [[1, 1, 1, 1, 1], [2, 5, 3, 3, 17], [1, 7, 9, 4, 8], [3, 4, 6, 5, 33]]) {
    seed = B + H * 7 + W * 13 + hid;
    const args = { x: t([B, H, W, C]), wIn: t([hid, C], 0.5), wLeft: t([hid, hid], 0.3), wTop: t([hid, hid], 0.3), bias: t([hid], 0.1) };
    for (const origin of ['top-left', 'bottom-right']) {
      for (const activation of ['tanh', 'relu', 'sigmoid']) {
        const o = { ...args, origin, activation };
        add(`rnn2d ${B}x${H}x${W}x${C} hid${hid} ${origin} ${activation} fwd`, () => w.rnn2d.forward(o));
        add(`rnn2d ${B}x${H}x${W}x${C} hid${hid} ${origin} ${activation} bwd`, () => {
          const { h } = w.rnn2d.forward(o);
          return w.rnn2d.backward({ ...o, h, dh: t(h.shape) });
        });
      }
    }
  }
  for (const [B, H, W, C, O, k, padding] of [[1, 1, 1, 1, 1, 1, 'valid'], [2, 5, 7, 3, 5, 3, 'same'], [1, 9, 6, 4, 17, 2, 'valid'], [3, 8, 8, 8, 16, 3, 'same']]) {
    seed = B + H + W * 3 + C * 5 + O;
    const args = { x: t([B, H, W, C]), w: t([O, k, k, C], 0.3), bias: t([O]), padding, activation: 'relu' };
    add(`conv2d ${B}x${H}x${W}x${C} O${O} k${k} ${padding}`, () => w.conv2d.forward(args));
    const out = padding === 'same' ? [B, H, W, O] : [B, H - k + 1, W - k + 1, O];
    const dy = t(out);
    add(`conv2d.backward ${B}x${H}x${W}x${C} O${O} k${k} ${padding}`, () => w.conv2d.backward({ ...args, y: w.conv2d.forward(args).y, dy }));
  }
  for (const [B, Hq, Hkv, T, S, d, dv] of [[1, 1, 1, 1, 1, 1, 1], [1, 2, 1, 17, 17, 3, 5], [2, 4, 2, 33, 40, 16, 8], [1, 3, 3, 130, 130, 64, 64]]) {
    seed = B + Hq + T * 3 + S + d;
    const q = t([B, Hq, T, d]), k = t([B, Hkv, S, d]), v = t([B, Hkv, S, dv]);
    const dout = t([B, Hq, T, dv]);
    const keyMask = new Uint8Array(B * S).map((_, i) => (i % 5 === 3 ? 0 : 1));
    for (const causal of [false, true]) {
      const base = { q, k, v, causal };
      add(`attention.full ${B},${Hq},${Hkv},${T},${S},${d},${dv} c${causal}`, () => w.attention.full({ ...base, keyMask }));
      add(`attention.fullBackward ${B},${Hq},${Hkv},${T},${S},${d},${dv} c${causal}`, () => w.attention.fullBackward({ ...base, dout }));
      const win = { ...base, window: [5, 3], dilation: 2, globalTokens: Int32Array.of(0, Math.min(S - 1, 7)) };
      add(`attention.windowed ${B},${Hq},${Hkv},${T},${S},${d},${dv} c${causal}`, () => w.attention.windowed(win));
      add(`attention.windowed plain ${B},${Hq},${Hkv},${T},${S},${d},${dv} c${causal}`, () => w.attention.windowed({ ...base, window: [4, 4] }));
      add(`attention.windowedBackward ${B},${Hq},${Hkv},${T},${S},${d},${dv} c${causal}`, () => w.attention.windowedBackward({ ...win, dout }));
      for (const featureMap of ['elu1', 'relu', 'favor']) {
        const lin = { ...base, featureMap, keyMask, numFeatures: featureMap === 'favor' ? 2 * d + 1 : undefined, seed: 3 };
        add(`attention.linear ${featureMap} ${B},${Hq},${Hkv},${T},${S},${d},${dv} c${causal}`, () => w.attention.linear(lin));
        add(`attention.linearBackward ${featureMap} ${B},${Hq},${Hkv},${T},${S},${d},${dv} c${causal}`, () => w.attention.linearBackward({ ...lin, dout }));
      }
    }
  }
  for (const featureMap of ['elu1', 'favor']) {
    add(`attention.linearStream ${featureMap}`, () => {
      seed = 99;
      const s = w.attention.linearStream({ heads: 3, dim: 5, valueDim: 7, featureMap, seed: 2 });
      const outs = [];
      for (let i = 0; i < 9; i++) outs.push(s.step(t([2, 3, 5]), t([2, 3, 5]), t([2, 3, 7])).data);
      return outs;
    });
  }
  for (const [N, V, h] of [[1, 2, 1], [3, 17, 5], [9, 601, 37], [64, 1000, 64]]) {
    seed = N + V + h;
    const input = t([N, h]), weights = t([V, h], 0.5), bias = t([V], 0.2);
    const targets = Int32Array.from({ length: N }, (_, i) => (i * 7) % V);
    const counts = Float64Array.from({ length: V }, (_, i) => 1 + ((i * 37) % 11));
    add(`softmax.crossEntropy ${N}x${V}`, () => w.softmax.crossEntropy({ logits: t([N, V], 3), targets }));
    add(`softmax.full ${N}x${V}x${h}`, () => w.softmax.full({ input, weights, bias, targets }));
    if (V > 2) add(`softmax.sampled ${N}x${V}x${h}`, () => w.softmax.sampled({ input, weights, bias, targets, numSampled: Math.min(V - 1, 20), seed: 5 }));
    add(`softmax.negativeSampling ${N}x${V}x${h}`, () => w.softmax.negativeSampling({ input, weights, targets, negative: 5, counts, seed: 6 }));
  }
  const words = 'the quick brown fox jumps over the lazy dog and the cat sat on the mat while the dog ran'.split(' ');
  const corpus = [];
  for (let i = 0; i < 300; i++) corpus.push(Array.from({ length: 12 }, (_, j) => words[(i * 7 + j * 3 + (i % 5)) % words.length]));
  for (const loss of ['negative', 'sampled-softmax', 'softmax']) {
    add(`skipGram ${loss}`, async () => {
      const model = w.skipGram({ dim: 17, window: 3, negative: 4, minCount: 1, epochs: 2, seed: 7, loss, numSampled: 5, batchWords: 500, workers: 1 });
      model.buildVocab(corpus);
      await model.train(corpus);
      const vectors = model.vocab.map((word) => model.vector(word));
      model.dispose?.();
      return vectors;
    });
  }
  return out;
}

const backends = [['js', { backend: 'js' }], ['wasm-simd', { simd: 'simd' }], ['wasm-relaxed', { simd: 'relaxed' }]];
for (const [label, options] of backends) {
  let w;
  try {
    w = await createWeft({ ...options, ...(label === 'js' ? {} : extra) });
  } catch (err) {
    console.log(`${label}: unavailable (${err.message})`);
    continue;
  }
  for (const [name, fn] of cases(w)) {
    let line;
    try {
      const result = await fn();
      line = Array.isArray(result) ? result.map(hashOf).join(',') : hashOf(result);
    } catch (err) {
      line = `error ${err.code ?? ''} ${err.message}`;
    }
    console.log(`${label} | ${name} | ${line}`);
  }
  w.dispose?.();
}
