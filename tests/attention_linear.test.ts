// weft.attention.linear, linearBackward, linearStream and favorFeatures on every
// backend, against a naive O(T * S) f64 reference with the feature map written out.

import { beforeAll, describe, expect, it } from 'vitest';
import { createWeft, type Tensor, type Weft } from '../src/index.js';
import { backendsUnderTest, expectClose, expectWeftError } from './helpers.js';
import { linearStream } from '../src/ops/attention/linear.js';
import { createJsBackend } from '../src/backend/js/index.js';
import { finiteDifferenceGradients, naiveAttention, naiveFavorLogSpace, naiveLinearAttention, randomMask, repeatHeads } from './attention_reference.js';

type FeatureMap = 'elu1' | 'relu' | 'favor';

/** The feature map of the API, in f64: phi(x) for one row. FAVOR+ needs W [F, d] and scale. */
function featureMap(map: FeatureMap, W?: Float32Array, scale = 1): (x: Float64Array) => Float64Array {
  if (map === 'elu1') return (x) => x.map((t) => (t > 0 ? t + 1 : Math.exp(t)));
  if (map === 'relu') return (x) => x.map((t) => Math.max(t, 0));
  return (x) => {
    const dim = x.length, F = W!.length / dim, s = Math.sqrt(scale);
    let norm = 0;
    for (let c = 0; c < dim; c++) norm += (s * x[c]) ** 2;
    return Float64Array.from({ length: F }, (_, f) => {
      let dot = 0;
      for (let c = 0; c < dim; c++) dot += W![f * dim + c] * s * x[c];
      return Math.exp(dot - norm / 2) / Math.sqrt(F);
    });
  };
}

const TOL = { atol: 2e-5, rtol: 2e-4 };

describe.each(backendsUnderTest())('attention.linear on $label', ({ label, create }) => {
  let weft: Weft;
  beforeAll(async () => {
    weft = await create();
  });

  it('computes a hand-worked relu case', () => {
    // phi(q) = 1, phi(k) = [1, 2]: out = (1 * 3 + 2 * 5) / (1 + 2) = 13 / 3
    const q = weft.tensor(new Float32Array([1]), [1, 1, 1, 1]);
    const k = weft.tensor(new Float32Array([1, 2]), [1, 1, 2, 1]);
    const v = weft.tensor(new Float32Array([3, 5]), [1, 1, 2, 1]);
    expectClose(weft.attention.linear({ q, k, v, featureMap: 'relu', eps: 0 }).out.data, [13 / 3], { atol: 1e-6, rtol: 1e-6 });
    // eps joins the denominator: 13 / (3 + 1)
    expectClose(weft.attention.linear({ q, k, v, featureMap: 'relu', eps: 1 }).out.data, [13 / 4], { atol: 1e-6, rtol: 1e-6 });
    // causal: the single query at position S - T = 1 sees both keys; with S = 2, T = 2 query 0 sees key 0 only
    const q2 = weft.tensor(new Float32Array([1, 1]), [1, 1, 2, 1]);
    expectClose(weft.attention.linear({ q: q2, k, v, featureMap: 'relu', eps: 0, causal: true }).out.data, [3, 13 / 3], { atol: 1e-6, rtol: 1e-6 });
  });

  // Hq = 6 over Hkv = 2, a key mask, causal and not, S = T and S != T.
  for (const map of ['elu1', 'relu', 'favor'] as FeatureMap[])
    for (const T of [1, 3, 17, 130])
      for (const d of [1, 5, 64]) {
        if (map === 'favor' && T === 130 && d === 64) continue; // the naive favor reference is O(T S F d): covered at d = 64, T = 17
        const numFeatures = map === 'favor' && d === 64 ? 24 : undefined; // else the default d * ceil(ln d)
        it(`${map} matches the naive reference at T=${T}, d=${d}, causal and not, S = T and S != T`, () => {
          for (const causal of [false, true])
            for (const S of [T, T + 3]) {
              const q = weft.randn([2, 6, T, d], T * 7 + d);
              const k = weft.randn([2, 2, S, d], T * 7 + d + 1);
              const v = weft.randn([2, 2, S, 3], T * 7 + d + 2);
              const keyMask = randomMask(2 * S, 0.8, S + d);
              const { out } = weft.attention.linear({ q, k, v, causal, keyMask, featureMap: map, numFeatures, seed: 5 });
              const W = map === 'favor' ? weft.attention.favorFeatures({ dim: d, numFeatures, seed: 5 }).data : undefined;
              const ref = naiveLinearAttention(q, k, v, featureMap(map, W, 1 / Math.sqrt(d)), { causal, keyMask });
              expect(out.shape).toEqual([2, 6, T, 3]);
              expectClose(out.data, ref, TOL, `out causal=${causal} S=${S}`);
            }
        });
      }

  it('grouped-query attention equals repeating the kv heads', () => {
    const q = weft.randn([2, 6, 17, 5], 1), k = weft.randn([2, 2, 17, 5], 2), v = weft.randn([2, 2, 17, 3], 3);
    for (const featureMap of ['elu1', 'favor'] as const)
      for (const causal of [false, true]) {
        const grouped = weft.attention.linear({ q, k, v, causal, featureMap }).out;
        const repeated = weft.attention.linear({ q, k: repeatHeads(k, 6), v: repeatHeads(v, 6), causal, featureMap }).out;
        expectClose(grouped.data, repeated.data, { atol: 1e-6, rtol: 1e-5 }, `${featureMap} causal=${causal}`);
      }
  });

  it('gives zeros, not NaN, for rows that see no key and for all-zero relu features with eps = 0', () => {
    const q = weft.randn([1, 1, 5, 3], 4), k = weft.randn([1, 1, 3, 3], 5), v = weft.randn([1, 1, 3, 2], 6);
    for (const featureMap of ['elu1', 'relu', 'favor'] as const) {
      // S < T, causal: queries 0 and 1 see nothing
      const { out } = weft.attention.linear({ q, k, v, causal: true, featureMap });
      expect(out.data.every(Number.isFinite)).toBe(true);
      expect(Array.from(out.data.subarray(0, 4))).toEqual([0, 0, 0, 0]);
      const masked = weft.attention.linear({ q, k, v, featureMap, keyMask: new Uint8Array(3), eps: 0 }).out;
      expect(Array.from(masked.data)).toEqual(new Array(10).fill(0));
    }
    const negative = weft.tensor(new Float32Array(15).fill(-1), [1, 1, 5, 3]);
    const relu = weft.attention.linear({ q: negative, k, v, featureMap: 'relu', eps: 0 }).out;
    expect(Array.from(relu.data)).toEqual(new Array(10).fill(0));
  });

  /**
   * Inputs whose FAVOR+ logits span hundreds or thousands of nats, for eps = 0 (d = 2 or 4):
   * 'large': q, k ~ 8 N(0, 1) (rows whose exp(-C) overflows f32, so 0 * inf used to be NaN);
   * 'orthogonal': queries along w_1, keys along w_2 (a scalar query max and key max leave
   * every product below 1e-38); 'rising': key logits rising by ~25 nats a key over two
   * causal blocks, with S > T, a key mask and two query heads (the sub-chunk cuts).
   */
  const favorExtremes = (): { name: string; q: Tensor; k: Tensor; v: Tensor; numFeatures: number; keyMask?: Uint8Array }[] => {
    const large = { q: weft.randn([1, 1, 9, 4], 7), k: weft.randn([1, 1, 9, 4], 8) };
    for (const t of [large.q, large.k]) t.data.forEach((x, i) => (t.data[i] = 8 * x));
    const W = weft.attention.favorFeatures({ dim: 2, numFeatures: 2, seed: 2 }).data;
    const unit = (f: number) => [W[2 * f], W[2 * f + 1]].map((x) => x / Math.hypot(W[2 * f], W[2 * f + 1]));
    const noise = weft.randn([200], 9).data;
    const along = (f: number, length: number, rows: number, at: number) =>
      weft.tensor(Float32Array.from({ length: rows * 2 }, (_, i) => length * unit(f)[i % 2] + 3 * noise[at + i]), [1, 1, rows, 2]);
    // |x|^2 s^2 / 2 falls by 25 nats a key (s^2 = scale = 1 / sqrt(2)), key j from 43 - j steps down
    const radius = (j: number) => Math.sqrt(2 * 25 * (43 - j) * Math.SQRT2);
    const rising = Float32Array.from({ length: 43 * 2 }, (_, i) => radius(i >> 1) * unit((i >> 1) % 2)[i % 2]);
    return [
      { name: 'large', ...large, v: weft.randn([1, 1, 9, 2], 10), numFeatures: 16 },
      { name: 'orthogonal', q: along(0, 120, 9, 0), k: along(1, 120, 9, 20), v: weft.randn([1, 1, 9, 2], 11), numFeatures: 2 },
      {
        name: 'rising', q: weft.randn([1, 2, 40, 2], 12), k: weft.tensor(rising, [1, 1, 43, 2]), v: weft.randn([1, 1, 43, 3], 13),
        numFeatures: 2, keyMask: randomMask(43, 0.8, 14),
      },
    ];
  };

  it('FAVOR+ with eps = 0 matches a log-space reference on every entry, for logits of hundreds to thousands of nats', () => {
    for (const { name, q, k, v, numFeatures, keyMask } of favorExtremes())
      for (const causal of [false, true]) {
        const seed = 2;
        const { out } = weft.attention.linear({ q, k, v, keyMask, causal, featureMap: 'favor', numFeatures, seed, eps: 0 });
        const W = weft.attention.favorFeatures({ dim: q.shape[3], numFeatures, seed }).data;
        const want = naiveFavorLogSpace(q, k, v, W, { causal, keyMask });
        // logits up to ~1e4 carry f32 rounding ~1e-3 nats into the weights (measured worst 3e-7)
        expectClose(out.data, want, { atol: 1e-3, rtol: 1e-3 }, `${name} causal=${causal}`);
        if (name !== 'rising') expect(want.some((x, i) => x !== 0 && out.data[i] !== 0)).toBe(true);
      }
  });

  it.skipIf(label === 'js')('FAVOR+ backward on those inputs matches the f64 JS twin (sub-chunk units in both passes)', async () => {
    const js = await createWeft({ backend: 'js' });
    for (const { name, q, k, v, numFeatures, keyMask } of favorExtremes())
      for (const causal of [false, true]) {
        const args = { q, k, v, keyMask, causal, featureMap: 'favor', numFeatures, seed: 2, eps: 0, dout: weft.randn([...q.shape.slice(0, 3), v.shape[3]], 15) } as const;
        const got = weft.attention.linearBackward(args), want = js.attention.linearBackward(args);
        // f32 logits of ~1e3 nats carry ~1e-4 relative rounding into the weights (measured worst 3e-4 on |dk| ~ 10)
        for (const key of ['dq', 'dk', 'dv'] as const) expectClose(got[key].data, want[key].data, { atol: 1e-3, rtol: 1e-3 }, `${name} causal=${causal} ${key}`);
      }
    expect(weft.memory().liveBytes).toBe(0);
  });

  it('FAVOR+ with many features approaches softmax attention', () => {
    // The FAVOR+ estimate of exp(q . k / sqrt(d)) has a relative error ~ sqrt(e^|x+y|^2 - 1) / sqrt(F)
    // per pair. With q, k ~ 0.5 N(0, 1), d = 4 and F = 16384 the outputs (weighted means
    // of v ~ N(0, 1)) measured at most 0.020 from softmax attention over seeds 1-3, causal
    // and not (F = 1024: 0.041): 0.05 leaves room, and F = 16 must miss it.
    const q = weft.tensor(weft.randn([1, 2, 17, 4], 10).data.map((x) => 0.5 * x), [1, 2, 17, 4]);
    const k = weft.tensor(weft.randn([1, 2, 17, 4], 11).data.map((x) => 0.5 * x), [1, 2, 17, 4]);
    const v = weft.randn([1, 2, 17, 3], 12);
    for (const causal of [false, true]) {
      const exact = naiveAttention(q, k, v, { causal }).out;
      const favor = weft.attention.linear({ q, k, v, causal, featureMap: 'favor', numFeatures: 16384, seed: 1 }).out;
      expectClose(favor.data, exact, { atol: 0.05, rtol: 0 }, `F = 16384 causal=${causal}`);
      const few = weft.attention.linear({ q, k, v, causal, featureMap: 'favor', numFeatures: 16, seed: 1 }).out;
      let worst = 0;
      for (let i = 0; i < exact.length; i++) worst = Math.max(worst, Math.abs(few.data[i] - exact[i]));
      expect(worst).toBeGreaterThan(0.05);
    }
  });

  it('favorFeatures: [F, d], orthogonal rows within a block, the same matrix for a seed and a new one for a new seed', () => {
    const W = weft.attention.favorFeatures({ dim: 5, numFeatures: 12, seed: 42 });
    expect(W.shape).toEqual([12, 5]);
    expect(W.data).toEqual(weft.attention.favorFeatures({ dim: 5, numFeatures: 12, seed: 42 }).data);
    expect(W.data).not.toEqual(weft.attention.favorFeatures({ dim: 5, numFeatures: 12, seed: 43 }).data);
    let dot = 0;
    for (let c = 0; c < 5; c++) dot += W.data[c] * W.data[5 + c];
    expect(Math.abs(dot)).toBeLessThan(1e-5);
    expect(weft.attention.favorFeatures({ dim: 64 }).shape).toEqual([64 * 5, 64]); // d * ceil(ln 64)
  });

  it.skipIf(label === 'js')('FAVOR+ outputs equal the JS backend\'s for the same seed, and differ for another seed', async () => {
    const js = await createWeft({ backend: 'js' });
    const q = weft.randn([1, 2, 17, 5], 1), k = weft.randn([1, 2, 17, 5], 2), v = weft.randn([1, 2, 17, 3], 3);
    const dout = weft.randn([1, 2, 17, 3], 4);
    for (const causal of [false, true]) {
      const args = { q, k, v, causal, featureMap: 'favor', numFeatures: 12, seed: 42 } as const;
      const mine = weft.attention.linear(args).out.data;
      // f32 sums over 17 keys and 12 features of O(1) terms against the f64 twin
      expectClose(mine, js.attention.linear(args).out.data, { atol: 1e-5, rtol: 1e-4 }, `out causal=${causal}`);
      const grads = weft.attention.linearBackward({ ...args, dout }), twin = js.attention.linearBackward({ ...args, dout });
      for (const key of ['dq', 'dk', 'dv'] as const) expectClose(grads[key].data, twin[key].data, { atol: 1e-4, rtol: 1e-3 }, key);
      // another seed draws other features: the outputs move far beyond that tolerance
      const other = js.attention.linear({ ...args, seed: 43 }).out.data;
      expect(Math.max(...mine.map((x, i) => Math.abs(x - other[i])))).toBeGreaterThan(1e-2);
    }
  });

  for (const map of ['elu1', 'relu', 'favor'] as FeatureMap[]) {
    it(`${map}: a stream of T steps equals one causal call`, () => {
      const [B, H, T, d, dv] = [2, 3, 17, 5, 4];
      const q = weft.randn([B, H, T, d], 20), k = weft.randn([B, H, T, d], 21), v = weft.randn([B, H, T, dv], 22);
      const batch = weft.attention.linear({ q, k, v, causal: true, featureMap: map, numFeatures: 9, seed: 3 }).out;
      const stream = weft.attention.linearStream({ heads: H, dim: d, valueDim: dv, featureMap: map, numFeatures: 9, seed: 3 });
      const at = (x: Tensor, t: number, w: number) => {
        const data = new Float32Array(B * H * w);
        for (let r = 0; r < B * H; r++) data.set(x.data.subarray((r * T + t) * w, (r * T + t + 1) * w), r * w);
        return { data, shape: [B, H, w] };
      };
      for (let pass = 0; pass < 2; pass++) {
        for (let t = 0; t < T; t++) {
          const out = stream.step(at(q, t, d), at(k, t, d), at(v, t, dv));
          expect(out.shape).toEqual([B, H, dv]);
          expectClose(out.data, at(batch, t, dv).data, { atol: 1e-5, rtol: 1e-4 }, `step ${t}`);
        }
        expect(stream.position).toBe(T);
        stream.reset(); // and again from the start
        expect(stream.position).toBe(0);
      }
      // rank-2 steps are one sequence
      const one = weft.attention.linearStream({ heads: H, dim: d, valueDim: dv, featureMap: map, numFeatures: 9, seed: 3 });
      const first = at(q, 0, d);
      const out = one.step({ data: first.data.subarray(0, H * d), shape: [H, d] }, { data: at(k, 0, d).data.subarray(0, H * d), shape: [H, d] }, { data: at(v, 0, dv).data.subarray(0, H * dv), shape: [H, dv] });
      expect(out.shape).toEqual([H, dv]);
      expectClose(out.data, at(batch, 0, dv).data.subarray(0, H * dv), { atol: 1e-5, rtol: 1e-4 });
    });
  }

  // [map, T, S, causal, masked]
  const gradientCases: [FeatureMap, number, number, boolean, boolean][] = [
    ['elu1', 6, 6, false, true],
    ['elu1', 7, 9, true, false],
    ['relu', 6, 5, true, true],
    ['relu', 5, 5, false, false],
    ['favor', 6, 6, false, true],
    ['favor', 8, 6, true, false],
    ['favor', 5, 8, true, true],
  ];
  for (const [map, T, S, causal, masked] of gradientCases) {
    it(`${map}${causal ? ' causal' : ''}, T=${T} S=${S}${masked ? ', key mask' : ''}: dq, dk, dv match central finite differences`, () => {
      const [B, Hq, Hkv, d, dv] = [1, 2, 1, 3, 4];
      // relu's kink at 0: inputs kept away from it so the differences stay on one side
      const shift = (t: Tensor) => (map === 'relu' ? { data: t.data.map((x) => (Math.abs(x) < 0.05 ? x + 0.1 : x)), shape: t.shape } : t);
      const q = shift(weft.randn([B, Hq, T, d], 30)), k = shift(weft.randn([B, Hkv, S, d], 31));
      const v = weft.randn([B, Hkv, S, dv], 32), dout = weft.randn([B, Hq, T, dv], 33);
      const keyMask = masked ? randomMask(B * S, 0.7, 34) : undefined;
      const options = { featureMap: map, numFeatures: 7, seed: 4, causal, keyMask, eps: 1e-3 };
      const grads = weft.attention.linearBackward({ q, k, v, dout, ...options });
      const W = map === 'favor' ? weft.attention.favorFeatures({ dim: d, numFeatures: 7, seed: 4 }).data : undefined;
      const phi = featureMap(map, W, 1 / Math.sqrt(d));
      const fd = finiteDifferenceGradients(q, k, v, dout, (a, b, c) => naiveLinearAttention(a, b, c, phi, { causal, keyMask, eps: 1e-3 }));
      // f32 sums of a few O(1) terms: errors ~1e-6; 1e-4 absolute + 1e-3 relative
      const tol = { atol: 1e-4, rtol: 1e-3 };
      expectClose(grads.dq.data, fd.dq, tol, 'dq');
      expectClose(grads.dk.data, fd.dk, tol, 'dk');
      expectClose(grads.dv.data, fd.dv, tol, 'dv');
    });
  }

  it.skipIf(label === 'js')('backward matches the JS twin across chunk edges (T = 130, several chunks)', async () => {
    const js = await createWeft({ backend: 'js' });
    for (const [map, d, numFeatures] of [['elu1', 64, undefined], ['favor', 5, 20], ['relu', 17, undefined]] as const)
      for (const causal of [false, true]) {
        const [T, S] = causal ? [130, 137] : [130, 121];
        const q = weft.randn([2, 6, T, d], 40), k = weft.randn([2, 2, S, d], 41);
        const v = weft.randn([2, 2, S, 7], 42), dout = weft.randn([2, 6, T, 7], 43);
        const args = { q, k, v, dout, causal, featureMap: map, numFeatures, seed: 6, keyMask: randomMask(2 * S, 0.9, 44) };
        const want = js.attention.linearBackward(args), got = weft.attention.linearBackward(args);
        // sums over up to 137 keys and 130 queries of O(1) terms in f32
        for (const key of ['dq', 'dk', 'dv'] as const) {
          expectClose(got[key].data, want[key].data, { atol: 2e-4, rtol: 1e-3 }, `${map} causal=${causal} ${key}`);
        }
        const { out } = weft.attention.linear(args);
        const reused = weft.attention.linearBackward({ ...args, out });
        expectClose(reused.dq.data, got.dq.data, { atol: 1e-5, rtol: 1e-4 }, 'dq with the given out');
      }
    expect(weft.memory().liveBytes).toBe(0);
  });

  it('refuses working buffers past 4 GiB with MEMORY before any work, leaks nothing and stays usable', () => {
    // numFeatures 32768, dv = 131071: KV' [F, dv + 1] is 2^32 floats (its i32 size wrapped to 0 on WASM)
    const q = weft.randn([1, 1, 1, 1], 1), k = weft.randn([1, 1, 1, 1], 2), v = weft.randn([1, 1, 1, 131071], 3);
    const args = { q, k, v, featureMap: 'favor', numFeatures: 32768 } as const;
    expectWeftError(() => weft.attention.linear(args), 'MEMORY', /KV' \[numFeatures, dv \+ 1\]: 4294967296 elements/);
    expectWeftError(() => weft.attention.linear({ ...args, causal: true }), 'MEMORY', /KV'/);
    expectWeftError(() => weft.attention.linearBackward({ ...args, dout: weft.randn([1, 1, 1, 131071], 4) }), 'MEMORY', /KV'/);
    expectWeftError(() => weft.attention.linearStream({ heads: 1, dim: 1, valueDim: 131071, featureMap: 'favor', numFeatures: 32768 }), 'MEMORY', /KV'/);
    expectWeftError(() => weft.attention.linearStream({ heads: 2 ** 40, dim: 4 }), 'MEMORY', /linearStream: state/);
    // 2^23 features: the 128 feature rows a pass holds are 2^30 + 2^23 floats
    expectWeftError(() => weft.attention.linear({ ...args, v: weft.randn([1, 1, 1, 1], 3), numFeatures: 2 ** 23 + 2 ** 16 }), 'MEMORY', /feature rows/);
    expect(weft.memory().liveBytes).toBe(0);
    expect(weft.attention.linear({ ...args, numFeatures: 8 }).out.data.every(Number.isFinite)).toBe(true);
    expect(weft.memory().liveBytes).toBe(0);
  });

  it.runIf(label === 'js')('FAVOR+ with 200000 features matches the log-space reference (no Math.max(...spread) in the twin)', () => {
    const q = weft.randn([1, 1, 3, 1], 1), k = weft.randn([1, 1, 3, 1], 2), v = weft.randn([1, 1, 3, 2], 3);
    for (const causal of [false, true]) {
      const { out } = weft.attention.linear({ q, k, v, causal, featureMap: 'favor', numFeatures: 200000, seed: 1, eps: 0 });
      const W = weft.attention.favorFeatures({ dim: 1, numFeatures: 200000, seed: 1 }).data;
      // f64 sums over 200000 features
      expectClose(out.data, naiveFavorLogSpace(q, k, v, W, { causal }), { atol: 1e-6, rtol: 1e-6 }, `causal=${causal}`);
    }
  });

  it('rejects bad input with typed errors and stays usable', () => {
    const q = weft.randn([1, 6, 5, 4], 1), k = weft.randn([1, 2, 5, 4], 2), v = weft.randn([1, 2, 5, 3], 3);
    const linear = (extra: object) => () => weft.attention.linear({ q, k, v, ...extra });
    expectWeftError(linear({ featureMap: 'softmax' }), 'OPTION', /featureMap/);
    expectWeftError(linear({ featureMap: null }), 'OPTION', /featureMap/); // not the default in disguise
    expectWeftError(linear({ featureMap: 'favor', numFeatures: 0 }), 'RANGE', /numFeatures/);
    // non-integer counts and non-finite option values are OPTION, as in every family
    expectWeftError(linear({ featureMap: 'favor', numFeatures: 2.5 }), 'OPTION', /numFeatures/);
    expectWeftError(linear({ featureMap: 'favor', numFeatures: '8' }), 'OPTION', /numFeatures/);
    expectWeftError(linear({ featureMap: 'favor', seed: 1.5 }), 'OPTION', /seed/);
    expectWeftError(linear({ eps: -1 }), 'RANGE', /eps/);
    expectWeftError(linear({ eps: NaN }), 'OPTION', /eps/);
    expectWeftError(linear({ eps: Infinity }), 'OPTION', /eps/);
    expectWeftError(linear({ featureMap: 'favor', scale: Infinity }), 'OPTION', /scale/);
    expectWeftError(linear({ featureMap: 'favor', scale: -1 }), 'RANGE', /scale/);
    expectWeftError(linear({ k: weft.randn([1, 2, 5, 5], 2) }), 'SHAPE', /same width d/);
    expectWeftError(linear({ k: weft.randn([1, 4, 5, 4], 2), v: weft.randn([1, 4, 5, 3], 2) }), 'SHAPE', /multiple of kv heads/);
    expectWeftError(linear({ keyMask: new Uint8Array(2) }), 'SHAPE', /keyMask/);
    expectWeftError(linear({ v: { data: v.data.map(() => 1e36), shape: v.shape } }), 'RANGE', /overflow/);
    const nan = q.data.slice();
    nan[0] = NaN;
    expectWeftError(linear({ q: { data: nan, shape: q.shape } }), 'RANGE', /q: values must be finite/);
    expectWeftError(() => weft.attention.linearBackward({ q, k, v, dout: weft.randn([1, 6, 5, 4], 1) }), 'SHAPE', /dout/);
    expectWeftError(() => weft.attention.favorFeatures({ dim: 0 }), 'RANGE', /dim/);
    expectWeftError(() => weft.attention.favorFeatures({ dim: 2.5 }), 'OPTION', /dim/);
    expectWeftError(() => weft.attention.favorFeatures({} as never), 'OPTION', /dim is required/);
    expectWeftError(() => weft.attention.linearStream(undefined as never), 'OPTION', /linearStream: expected an options object \{ heads, dim,/);
    expectWeftError(() => weft.attention.favorFeatures(null as never), 'OPTION', /favorFeatures: expected an options object \{ dim,/);
    expectWeftError(() => weft.attention.linearStream({ dim: 4 } as never), 'OPTION', /heads is required/);
    expectWeftError(() => weft.attention.linearStream({ heads: 2, dim: -1 }), 'RANGE', /dim/);
    expectWeftError(() => weft.attention.linearStream({ heads: 1.5, dim: 4 }), 'OPTION', /heads/);
    expectWeftError(() => weft.attention.linearStream({ heads: 2, dim: 4, valueDim: 0.5 }), 'OPTION', /valueDim/);
    expectWeftError(() => weft.attention.linearStream({ heads: 2, dim: 4, featureMap: null as never }), 'OPTION', /featureMap/);
    const stream = weft.attention.linearStream({ heads: 2, dim: 4, valueDim: 3 });
    expectWeftError(() => stream.step(weft.randn([2, 5], 1), weft.randn([2, 4], 1), weft.randn([2, 3], 1)), 'SHAPE', /q must be/);
    stream.step(weft.randn([3, 2, 4], 1), weft.randn([3, 2, 4], 2), weft.randn([3, 2, 3], 3));
    expectWeftError(() => stream.step(weft.randn([2, 2, 4], 1), weft.randn([2, 2, 4], 2), weft.randn([2, 2, 3], 3)), 'SHAPE', /holds 3 sequences/);
    expectWeftError(() => stream.step(weft.randn([3, 2, 4], 1), weft.randn([3, 2, 4], 2), { data: new Float32Array(18).fill(Infinity), shape: [3, 2, 3] }), 'RANGE');
    expect(stream.position).toBe(1);
    expect(weft.memory().liveBytes).toBe(0);
    expect(weft.attention.linear({ q, k, v }).out.data.every(Number.isFinite)).toBe(true);
  });
});

describe('linearStream state', () => {
  it('a step whose sums overflowed resets the stream instead of keeping a NaN state', () => {
    // no input within the bounds can overflow a real kernel in fewer than ~1e18 steps, so a
    // stand-in kernel returns the overflowed row
    let calls = 0;
    const js = createJsBackend();
    const attentionLinearStep = () => (++calls === 2 ? Float32Array.of(Infinity, 0) : Float32Array.of(1, 2));
    const stream = linearStream({ ...js, kernels: { ...js.kernels, attentionLinearStep } }, { heads: 1, dim: 2 });
    const t = (...values: number[]) => ({ data: Float32Array.from(values), shape: [1, values.length] });
    stream.step(t(1, 0), t(0, 1), t(1, 1));
    expect(stream.position).toBe(1);
    expectWeftError(() => stream.step(t(1, 0), t(0, 1), t(1, 1)), 'RANGE', /sums overflowed float32 \(Infinity at index 0\); the stream was reset/);
    expect(stream.position).toBe(0);
    expect(Array.from(stream.step(t(1, 0), t(0, 1), t(1, 1)).data)).toEqual([1, 2]);
    expect(stream.position).toBe(1);
  });

  it('the JS and WASM streams agree for keys whose FAVOR+ logits are huge (f32 stabilisers on both)', async () => {
    const outs = [];
    for (const backend of ['js', 'wasm'] as const) {
      const w = await createWeft({ backend });
      const stream = w.attention.linearStream({ heads: 1, dim: 2, featureMap: 'favor', seed: 2 });
      const t = (...values: number[]) => w.tensor(Float32Array.from(values), [1, values.length]);
      stream.step(t(0.3, 0.1), t(1, 0.2), t(1, 2));
      outs.push(Array.from(stream.step(t(0.5, -0.2), t(3e5, 0.7), t(1, 2)).data));
    }
    expect(outs[0].every(Number.isFinite)).toBe(true);
    expectClose(outs[0], outs[1], { atol: 1e-5, rtol: 1e-4 }, 'stream out');
  });
});
