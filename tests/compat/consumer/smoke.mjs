// The smoke run every compat consumer makes (Node 20/22/24 import and require, Bun, Deno,
// the TypeScript .cts consumer, the esbuild, Vite and webpack pages). Plain JavaScript with
// no import of its own: each consumer imports weft-wasm its own way and passes
// { createWeft, WeftError } in, so this one file serves ESM, CommonJS and bundles alike.
// It returns a JSON-able report; tests/compat/compat.test.ts asserts on it.

/** Worst |a - b| and worst |b| over two equal-length arrays (NaN when the lengths differ). */
function difference(a, b) {
  if (a.length !== b.length) return { maxAbsDiff: NaN, maxAbsRef: NaN };
  let maxAbsDiff = 0;
  let maxAbsRef = 0;
  for (let i = 0; i < a.length; i++) {
    maxAbsDiff = Math.max(maxAbsDiff, Math.abs(a[i] - b[i]));
    maxAbsRef = Math.max(maxAbsRef, Math.abs(b[i]));
  }
  return { maxAbsDiff, maxAbsRef };
}

/** Which runtime runs this, and its version: 'node 22.23.3', 'bun 1.4.5', 'deno 2.9.6' or a browser's user agent. */
function runtimeName() {
  if (typeof Bun !== 'undefined') return `bun ${Bun.version}`;
  if (typeof Deno !== 'undefined') return `deno ${Deno.version.deno}`;
  if (typeof process !== 'undefined' && process.versions?.node) return `node ${process.versions.node}`;
  return navigator.userAgent;
}

// Tiny corpus for skip-gram: 12 words, each sentence a variation on a few pairs.
const CORPUS = Array.from({ length: 40 }, (_, i) =>
  ['the cat sat on the mat', 'a dog ate the bone', 'the bird sang a song', 'a cat saw the bird'][i % 4],
).join('\n');

/**
 * One call of each family on both backends of `weft` (the wasm backend picked by createWeft()'s
 * defaults, and backend: 'js'), the difference of each result, a bad call's error, and dispose.
 * Tolerance of each op: atol + rtol·max|js| (f32 sums in WASM, f64 in the JS twin).
 */
export async function smoke({ createWeft, WeftError }) {
  const wasm = await createWeft();
  const js = await createWeft({ backend: 'js' });
  const features = { ...wasm.features };

  /** Runs `op` on both backends and compares the Float32Array `pick` takes from each result. */
  const compare = (op, pick, rtol = 1e-4) => {
    const got = pick(op(wasm));
    const want = pick(op(js));
    const { maxAbsDiff, maxAbsRef } = difference(got, want);
    return { length: got.length, maxAbsDiff, maxAbsRef, tolerance: 1e-5 + rtol * maxAbsRef };
  };

  const ops = {
    matmul: compare((w) => w.matmul(w.randn([5, 7], 1), w.randn([7, 3], 2), { bias: w.randn([3], 3) }), (c) => c.data),
    attention: compare(
      (w) => w.attention.windowed({ q: w.randn([1, 2, 9, 4], 4), k: w.randn([1, 2, 9, 4], 5), v: w.randn([1, 2, 9, 4], 6), window: [3, 0], causal: true }),
      (r) => r.out.data,
    ),
    rnn2d: compare(
      (w) => w.rnn2d.forward({ x: w.randn([1, 4, 5, 3], 7), wIn: w.randn([6, 3], 8), wLeft: w.randn([6, 6], 9), wTop: w.randn([6, 6], 10), bias: w.randn([6], 11) }),
      (r) => r.h.data,
    ),
    conv2d: compare(
      (w) => w.conv2d.forward({ x: w.randn([1, 6, 5, 2], 12), w: w.randn([4, 3, 3, 2], 13), padding: 'same', activation: 'tanh' }),
      (r) => r.y.data,
    ),
    softmax: compare(
      (w) => w.softmax.full({ input: w.randn([3, 8], 14), weights: w.randn([11, 8], 15), targets: Int32Array.from([0, 5, 10]) }),
      (r) => Float32Array.from([r.loss, ...r.dInput.data]),
    ),
  };

  // skip-gram on one worker: the same draws on both backends, so the same vectors up to rounding
  const trainOptions = { dim: 8, window: 2, negative: 3, minCount: 1, sample: 0, epochs: 2, seed: 3, workers: 1 };
  const train = async (w) => {
    const model = w.skipGram(trainOptions);
    const summary = await model.train(CORPUS);
    const vectors = model.vectors().data;
    const vocab = model.vocab.length;
    model.dispose();
    return { summary, vectors, vocab };
  };
  const [trainedWasm, trainedJs] = [await train(wasm), await train(js)];
  const skipGram = {
    ...difference(trainedWasm.vectors, trainedJs.vectors),
    length: trainedWasm.vectors.length,
    tolerance: 1e-4,
    vocab: trainedWasm.vocab,
    pairs: [trainedWasm.summary.pairs, trainedJs.summary.pairs],
  };

  let error;
  try {
    wasm.matmul(wasm.zeros([2, 3]), wasm.zeros([2, 3]));
  } catch (err) {
    error = { isWeftError: err instanceof WeftError, name: err.name, code: err.code, message: err.message };
  }

  const liveBytes = wasm.memory().liveBytes;
  wasm.dispose();
  js.dispose();
  return { runtime: runtimeName(), backend: wasm.backend, features, ops: { ...ops, skipGram }, error, liveBytes };
}
