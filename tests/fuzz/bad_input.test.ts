// Fuzzing every op with mutated arguments (fast-check, fixed seeds so a failure
// replays): one or two arguments of a valid call are replaced by a value from a
// pool of wrong types, odd numbers, perturbed shapes and non-finite data. Whatever
// comes in, each backend must either throw a WeftError with a declared code, or
// return finite results; the JS reference and the WASM build must agree on which
// (and on the code, or on the values); a failed call leaks no WASM memory and the
// instance keeps computing the same answers afterwards.

import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createWeft, ErrorCode, type SkipGramModel, type Tensor, type Weft } from '../../src/index.js';
import type { PreparedUnigramSampler } from '../../src/ops/softmax.js';
import { backendsUnderTest } from '../helpers.js';

const CODES = new Set<string>(Object.values(ErrorCode));
// WEFT_FUZZ_RUNS=5000 explores further (about 1 s per op per 1000 runs); CI keeps the default
const RUNS = Number(process.env.WEFT_FUZZ_RUNS ?? 150);
// WEFT_FUZZ_SEED=n starts elsewhere (a failure prints the seed and path that replay it)
const SEED = Number(process.env.WEFT_FUZZ_SEED ?? 1000);

type Args = Record<string, unknown>;

/** One op under fuzz: a valid call's arguments and how to make the call. */
interface OpCase {
  name: string;
  valid(w: Weft): Args;
  call(w: Weft, args: Args): unknown;
  /** Extra keys worth mutating besides the valid call's own (optional arguments). */
  optional?: string[];
}

const ids = (...values: number[]) => Int32Array.from(values);

const OPS: OpCase[] = [
  {
    name: 'matmul',
    valid: (w) => ({ a: w.randn([3, 5], 1), b: w.randn([5, 2], 2) }),
    call: (w, a) => w.matmul(a.a as Tensor, a.b as Tensor, a.options as never),
    optional: ['options'],
  },
  {
    name: 'rnn2d.forward',
    valid: (w) => ({ x: w.randn([1, 2, 3, 2], 1), wIn: w.randn([3, 2], 2), wLeft: w.randn([3, 3], 3), wTop: w.randn([3, 3], 4) }),
    call: (w, a) => w.rnn2d.forward(a as never),
    optional: ['bias', 'activation', 'origin', 'cell'],
  },
  {
    name: 'rnn2d.backward',
    valid: (w) => {
      const args = { x: w.randn([1, 2, 3, 2], 1), wIn: w.randn([3, 2], 2), wLeft: w.randn([3, 3], 3), wTop: w.randn([3, 3], 4) };
      return { ...args, h: w.rnn2d.forward(args).h, dh: w.randn([1, 2, 3, 3], 5) };
    },
    call: (w, a) => w.rnn2d.backward(a as never),
    optional: ['bias', 'activation', 'origin', 'cell', 'c'],
  },
  {
    name: 'rnn2d.forward (lstm)',
    valid: (w) => ({ x: w.randn([1, 2, 3, 2], 1), wIn: w.randn([15, 2], 2), wLeft: w.randn([15, 3], 3), wTop: w.randn([15, 3], 4), cell: 'lstm' }),
    call: (w, a) => w.rnn2d.forward(a as never),
    optional: ['bias', 'origin', 'returnGates'],
  },
  {
    name: 'rnn2d.backward (lstm)',
    valid: (w) => {
      const args = { x: w.randn([1, 2, 3, 2], 1), wIn: w.randn([15, 2], 2), wLeft: w.randn([15, 3], 3), wTop: w.randn([15, 3], 4), cell: 'lstm' as const };
      return { ...args, ...w.rnn2d.forward({ ...args, returnGates: true }), dh: w.randn([1, 2, 3, 3], 5) };
    },
    call: (w, a) => w.rnn2d.backward(a as never),
    optional: ['bias', 'origin', 'dc'],
  },
  {
    name: 'rnn2d.paramCount',
    valid: () => ({ inputChannels: 3, hidden: 5 }),
    call: (w, a) => w.rnn2d.paramCount(a as never),
    optional: ['bias'],
  },
  {
    name: 'conv2d.forward',
    valid: (w) => ({ x: w.randn([1, 4, 3, 2], 1), w: w.randn([3, 3, 3, 2], 2) }),
    call: (w, a) => w.conv2d.forward(a as never),
    optional: ['bias', 'padding', 'activation'],
  },
  {
    name: 'conv2d.backward',
    valid: (w) => {
      const args = { x: w.randn([1, 4, 3, 2], 1), w: w.randn([3, 3, 2, 2], 2), activation: 'tanh' };
      return { ...args, y: w.conv2d.forward(args as never).y, dy: w.randn([1, 2, 2, 3], 3) };
    },
    call: (w, a) => w.conv2d.backward(a as never),
    optional: ['bias', 'padding'],
  },
  {
    name: 'attention.full',
    valid: (w) => ({ q: w.randn([1, 2, 3, 4], 1), k: w.randn([1, 1, 5, 4], 2), v: w.randn([1, 1, 5, 3], 3) }),
    call: (w, a) => w.attention.full(a as never),
    optional: ['causal', 'scale', 'keyMask'],
  },
  {
    name: 'attention.windowed',
    valid: (w) => ({ q: w.randn([1, 2, 5, 4], 1), k: w.randn([1, 1, 5, 4], 2), v: w.randn([1, 1, 5, 3], 3), window: [1, 2] }),
    call: (w, a) => w.attention.windowed(a as never),
    optional: ['causal', 'scale', 'keyMask', 'dilation', 'globalTokens'],
  },
  {
    name: 'attention.windowedBackward',
    valid: (w) => ({
      q: w.randn([1, 2, 5, 4], 1), k: w.randn([1, 1, 5, 4], 2), v: w.randn([1, 1, 5, 3], 3), window: [1, 2],
      dout: w.randn([1, 2, 5, 3], 4),
    }),
    call: (w, a) => w.attention.windowedBackward(a as never),
    optional: ['causal', 'keyMask', 'dilation', 'globalTokens', 'out', 'lse'],
  },
  {
    name: 'attention.linear',
    valid: (w) => ({ q: w.randn([1, 2, 3, 4], 1), k: w.randn([1, 1, 5, 4], 2), v: w.randn([1, 1, 5, 3], 3) }),
    call: (w, a) => w.attention.linear(a as never),
    optional: ['causal', 'featureMap', 'numFeatures', 'seed', 'eps', 'keyMask'],
  },
  {
    name: 'attention.linearBackward',
    valid: (w) => ({
      q: w.randn([1, 2, 3, 4], 1), k: w.randn([1, 1, 5, 4], 2), v: w.randn([1, 1, 5, 3], 3), dout: w.randn([1, 2, 3, 3], 4),
      featureMap: 'favor', numFeatures: 6, seed: 3,
    }),
    call: (w, a) => w.attention.linearBackward(a as never),
    optional: ['causal', 'eps', 'keyMask', 'out'],
  },
  {
    name: 'attention.linearStream',
    valid: (w) => ({ heads: 2, dim: 4, valueDim: 3, q: w.randn([1, 2, 4], 1), k: w.randn([1, 2, 4], 2), v: w.randn([1, 2, 3], 3) }),
    call: (w, a) => {
      const { q, k, v, ...options } = a;
      const stream = w.attention.linearStream(options as never);
      stream.step(q as Tensor, k as Tensor, v as Tensor);
      return stream.step(q as Tensor, k as Tensor, v as Tensor); // the second token sees the first
    },
    optional: ['featureMap', 'numFeatures', 'seed'],
  },
  {
    name: 'rnn2d.flops',
    valid: () => ({ batch: 2, height: 3, width: 5, inputChannels: 3, hidden: 4 }),
    call: (w, a) => w.rnn2d.flops(a as never),
  },
  {
    name: 'conv2d.paramCount',
    valid: () => ({ inputChannels: 3, outChannels: 4, kernel: [3, 3] }),
    call: (w, a) => w.conv2d.paramCount(a as never),
    optional: ['bias'],
  },
  {
    name: 'softmax.unigramSampler',
    valid: () => ({ counts: Float64Array.from([5, 0, 2, 9]), power: 0.5 }),
    call: (w, a) => {
      const sampler = w.softmax.unigramSampler(a as never) as PreparedUnigramSampler;
      return [sampler.classes, sampler.power, sampler.draws.support];
    },
  },
  {
    name: 'softmax.crossEntropy',
    valid: (w) => ({ logits: w.randn([2, 5], 1), targets: ids(0, 4) }),
    call: (w, a) => w.softmax.crossEntropy(a as never),
  },
  {
    name: 'softmax.full',
    valid: (w) => ({ input: w.randn([2, 3], 1), weights: w.randn([7, 3], 2), targets: ids(6, 1) }),
    call: (w, a) => w.softmax.full(a as never),
    optional: ['bias'],
  },
  {
    name: 'softmax.sampled',
    valid: (w) => ({ input: w.randn([2, 3], 1), weights: w.randn([9, 3], 2), targets: ids(6, 1), numSampled: 4, seed: 5 }),
    call: (w, a) => w.softmax.sampled(a as never),
    optional: ['bias', 'sampler', 'counts', 'removeAccidentalHits', 'subtractLogQ'],
  },
  {
    name: 'softmax.negativeSampling',
    valid: (w) => ({
      input: w.randn([2, 3], 1), weights: w.randn([9, 3], 2), targets: ids(6, 1), negative: 3, seed: 5,
      counts: Float64Array.from([9, 8, 7, 6, 5, 4, 3, 2, 1]),
    }),
    call: (w, a) => w.softmax.negativeSampling(a as never),
    optional: ['sampler'],
  },
  {
    name: 'softmax.hierarchical',
    valid: (w) => ({
      input: w.randn([2, 3], 1), weights: w.randn([8, 3], 2), targets: ids(6, 1),
      tree: w.softmax.huffmanTree({ counts: Float64Array.from([9, 8, 7, 6, 5, 4, 3, 2, 1]) }),
    }),
    call: (w, a) => w.softmax.hierarchical(a as never),
  },
  {
    name: 'skipGram model.mostSimilar',
    valid: () => ({ positive: ['w1', [0.5, -1, 2, 0.25]], negative: ['w2'], topN: 3 }),
    call: (w, a) => withQueryModel(w, (model) => model.mostSimilar(a as never)),
    optional: ['restrictVocab'],
  },
  {
    name: 'skipGram model.mostSimilarCosmul',
    valid: () => ({ positive: ['w1', 'w3'], negative: ['w2', [0.5, -1, 2, 0.25]], topN: 3 }),
    call: (w, a) => withQueryModel(w, (model) => model.mostSimilarCosmul(a as never)),
    optional: ['restrictVocab'],
  },
];

/** `query` on a 12-word model of 4-D vectors (its unit vectors freed after the query, as the leak check expects). */
function withQueryModel(w: Weft, query: (model: SkipGramModel) => unknown): unknown {
  const words = Array.from({ length: 12 }, (_, i) => `w${i}`);
  const lines = words.map((word, i) => `${word} ${[0, 1, 2, 3].map((k) => Math.sin(i * 4 + k + 1).toFixed(4)).join(' ')}`);
  const model = w.skipGram.fromWord2Vec(new TextEncoder().encode(`12 4\n${lines.join('\n')}\n`));
  try {
    return query(model);
  } finally {
    model.dispose();
  }
}

/** A value from the pool of things users get wrong (or right in an unusual way). */
function oddValue(base: unknown): fc.Arbitrary<unknown> {
  const scalars = fc.constantFrom<unknown>(
    undefined, null, true, 0, 1, -1, 2.5, 3, 17, 2 ** 31, 2 ** 53, 1e30, -0, NaN, Infinity, -Infinity,
    'tanh', 'favor', 'same', 'uniform', 'nope', '', [], {}, [1], [Infinity, 0], [-1, 2], [0.5, 1],
  );
  const arrays = fc.oneof(
    fc.integer({ min: -2, max: 12 }).map((x) => ids(x, 0, 1)),
    fc.constantFrom(new Float32Array(3), new Uint8Array([1, 0, 1, 1, 1]), new Float64Array([1, 2]), new Int32Array(0)),
  );
  const tensors = fc.oneof(
    // the base tensor with one dimension changed (a shape that may or may not fit)
    base !== null && typeof base === 'object' && Array.isArray((base as Tensor).shape)
      ? fc.record({ axis: fc.nat(), size: fc.constantFrom(0, 1, 2, 3, 5, 17) }).map(({ axis, size }) => {
        const shape = [...(base as Tensor).shape];
        if (shape.length > 0) shape[axis % shape.length] = size;
        return randomTensor(shape);
      })
      : fc.constant(randomTensor([2, 2])),
    // random ranks and sizes
    fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 5 }).map(randomTensor),
    // the base tensor with a non-finite entry
    fc.record({ at: fc.nat(), value: fc.constantFrom(NaN, Infinity, -Infinity, 3e38) }).map(({ at, value }) => {
      if (!isTensor(base) || base.data.length === 0) return randomTensor([1]);
      const data = Float32Array.from(base.data);
      data[at % data.length] = value;
      return { data, shape: [...base.shape] };
    }),
    // broken tensor objects: a lying shape, wrong data type
    fc.constantFrom<unknown>(
      { data: new Float32Array(4), shape: [2, 3] },
      { data: new Float64Array(4), shape: [4] },
      { data: [1, 2], shape: [2] },
      { data: new Float32Array(1), shape: [2 ** 20, 2 ** 20, 0.5] },
      { data: new Float32Array(0), shape: [2 ** 40, 0] },
    ),
  );
  return fc.oneof(scalars, arrays, tensors);
}

function isTensor(value: unknown): value is Tensor {
  return value !== null && typeof value === 'object' && (value as Tensor).data instanceof Float32Array && Array.isArray((value as Tensor).shape);
}

/** A tensor of `shape` with values in [-2, 2] that depend only on the shape. */
function randomTensor(shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.sin(i * 12.9898 + n) * 2;
  return { data, shape };
}

type Outcome = { threw: string } | { value: unknown };

function run(w: Weft, op: OpCase, args: Args): Outcome {
  try {
    return { value: op.call(w, args) };
  } catch (err) {
    const e = err as { name?: string; code?: string; message?: string };
    // anything else (TypeError, RangeError, a WASM trap) is a defect
    if (e?.name !== 'WeftError' || !CODES.has(e.code ?? '')) throw new Error(`${op.name}: not a WeftError: ${String(err)}`);
    return { threw: e.code! };
  }
}

/** Every number in a result, flattened (tensors, plain numbers, typed arrays), with the key it came from. */
function numbersOf(value: unknown, key = '', out: [string, number][] = []): [string, number][] {
  if (typeof value === 'number') out.push([key, value]);
  else if (ArrayBuffer.isView(value)) for (const x of Array.from(value as unknown as ArrayLike<number>)) out.push([key, x]);
  else if (Array.isArray(value)) value.forEach((v) => numbersOf(v, key, out));
  else if (value && typeof value === 'object') {
    const data = (value as Tensor).data;
    if (data instanceof Float32Array) return numbersOf(data, key, out);
    for (const k of Object.keys(value).sort()) numbersOf((value as Record<string, unknown>)[k], k, out);
  }
  return out;
}

/** An outcome's summary for the failure message. */
function summary(o: Outcome): string {
  return 'threw' in o ? `threw ${o.threw}` : `returned ${numbersOf(o.value).length} numbers`;
}

const wasmBackends = backendsUnderTest().filter((b) => b.label !== 'js');

describe.each(wasmBackends)('fuzzed arguments: js vs $label', ({ create }) => {
  let js: Weft, wasm: Weft;
  beforeAll(async () => {
    js = await createWeft({ backend: 'js' });
    wasm = await create();
  });

  it.each(OPS.map((op, i) => ({ op, seed: SEED + i })))('$op.name', ({ op, seed }) => {
    const validArgs = op.valid(js);
    const canary = numbersOf(op.call(wasm, validArgs));
    expect(canary.length, 'the valid call returns numbers').toBeGreaterThan(0);
    const keys = [...Object.keys(validArgs), ...(op.optional ?? [])];
    const mutation = fc.array(
      fc.constantFrom(...keys).chain((key) => oddValue(validArgs[key]).map((value) => [key, value] as const)),
      { minLength: 1, maxLength: 2 },
    );
    fc.assert(
      fc.property(mutation, (changes) => {
        const args: Args = { ...validArgs };
        for (const [key, value] of changes) args[key] = value;
        const expected = run(js, op, args);
        const actual = run(wasm, op, args);
        const what = `${op.name} with ${changes.map(([k]) => k).join(', ')}: js ${summary(expected)}, wasm ${summary(actual)}`;
        expect(wasm.memory().liveBytes, `${what}: live WASM bytes after the call`).toBe(0);
        if ('threw' in expected || 'threw' in actual) {
          expect('threw' in actual ? actual.threw : 'nothing', what).toBe('threw' in expected ? expected.threw : 'nothing');
          return;
        }
        const ref = numbersOf(expected.value), got = numbersOf(actual.value);
        expect(got.map(([key]) => key), what).toEqual(ref.map(([key]) => key));
        const bound = 1e-3 * (1 + ref.reduce((m, [, x]) => (Number.isFinite(x) ? Math.max(m, Math.abs(x)) : m), 0));
        got.forEach(([key, x], i) => {
          const r = ref[i][1];
          // lse is -Infinity for a row that sees no key (the documented contract); nothing else may be non-finite
          if (key === 'lse' && x === -Infinity && r === -Infinity) return;
          expect(Number.isFinite(x), `${what}: ${key} value ${i} is ${x}`).toBe(true);
          expect(Math.abs(x - r), `${what}: ${key} value ${i}`).toBeLessThanOrEqual(bound);
        });
      }),
      { seed, numRuns: RUNS },
    );
    // the instance still gives the same answer as before the fuzzing
    expect(numbersOf(op.call(wasm, validArgs))).toEqual(canary);
  });
});

// The trainer: mutated options and corpora through construction, buildVocab and one
// short train. Options that would make a run long (many epochs, a huge dim or window)
// still go through construction and buildVocab, which must accept or refuse them at once.
const CORPUS = 'the cat sat on the mat the dog sat on the log '.repeat(8);
const TRAINER_OPTIONS = { dim: 8, window: 2, negative: 2, minCount: 1, sample: 0, epochs: 1, seed: 3 };

function oddTrainerOption(): fc.Arbitrary<unknown> {
  return fc.constantFrom<unknown>(
    undefined, null, true, 0, 1, -1, 0.5, 2.5, 3, 17, 2 ** 31, 2 ** 53, 1e30, NaN, Infinity, -Infinity,
    'negative', 'softmax', 'sampled-softmax', 'nope', '', [], {},
  );
}

function oddCorpus(): fc.Arbitrary<unknown> {
  return fc.constantFrom<unknown>(
    CORPUS, '', '   \n\t ', [], [[]], [['cat', 'mat']], [['cat', 3]], ['the cat', 'sat on'], [CORPUS, null],
    42, null, undefined, { length: 3 }, new Set(['the cat sat', 'the dog sat']), 'x'.repeat(5000),
  );
}

/** Construct, build the vocabulary, train (when `train`), then dispose the model (its tables live in WASM memory until then). */
async function trainOutcome(w: Weft, options: Args, corpus: unknown, train: boolean): Promise<Outcome> {
  let model: ReturnType<Weft['skipGram']> | undefined;
  try {
    model = w.skipGram(options as never);
    model.buildVocab(corpus as never);
    if (train) await model.train(corpus as never);
    const trained = model;
    return { value: train ? Array.from(trained.vocab, (word) => trained.vector(word)) : trained.vocab.length };
  } catch (err) {
    const e = err as { name?: string; code?: string };
    if (e?.name !== 'WeftError' || !CODES.has(e.code ?? '')) throw new Error(`skipGram: not a WeftError: ${String(err)}`);
    return { threw: e.code! };
  } finally {
    model?.dispose();
  }
}

describe.each(wasmBackends)('fuzzed trainer: js vs $label', ({ create }) => {
  it('skipGram options and corpora', async () => {
    const js = await createWeft({ backend: 'js' });
    const wasm = await create();
    const keys = [...Object.keys(TRAINER_OPTIONS), 'alpha', 'minAlpha', 'loss', 'maxVocab', 'numSampled', 'batchWords'];
    const mutation = fc.record({
      changes: fc.array(fc.tuple(fc.constantFrom(...keys), oddTrainerOption()), { maxLength: 2 }),
      corpus: fc.oneof(fc.constant<unknown>(CORPUS), oddCorpus()),
    });
    await fc.assert(
      fc.asyncProperty(mutation, async ({ changes, corpus }) => {
        const options: Args = { ...TRAINER_OPTIONS };
        for (const [key, value] of changes) options[key] = value;
        const small = ['dim', 'window', 'negative', 'epochs', 'numSampled'].every((key) => !(Number(options[key]) > 64));
        const expected = await trainOutcome(js, options, corpus, small);
        const actual = await trainOutcome(wasm, options, corpus, small);
        const what = `skipGram ${JSON.stringify(changes)} on ${JSON.stringify(corpus)?.slice(0, 40)}: js ${summary(expected)}, wasm ${summary(actual)}`;
        expect(wasm.memory().liveBytes, what).toBe(0);
        expect('threw' in actual ? actual.threw : 'ok', what).toBe('threw' in expected ? expected.threw : 'ok');
        if ('value' in actual) {
          for (const [, x] of numbersOf(actual.value)) expect(Number.isFinite(x), what).toBe(true);
        }
      }),
      { seed: SEED, numRuns: Math.ceil(RUNS / 3) },
    );
  });
});
