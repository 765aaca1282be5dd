// weft.attention.full and .windowed (forward) on every backend, against the naive
// f64 references of attention_reference.ts at awkward sizes.

import { beforeAll, describe, expect, it } from 'vitest';
import { createWeft, type Tensor, type Weft } from '../src/index.js';
import { backendsUnderTest, expectClose, expectWeftError } from './helpers.js';
import { attentionTolerance, expectCloseLse, naiveAttention, randomMask, repeatHeads } from './attention_reference.js';

describe.each(backendsUnderTest())('attention.full / windowed on $label', ({ label, create }) => {
  let weft: Weft;
  beforeAll(async () => {
    weft = await create();
  });

  it('computes a hand-worked case: p = [1/4, 3/4]', () => {
    // scores 1 * [0, ln 3] -> softmax [1/4, 3/4]; out = 1/4 * 1 + 3/4 * 5 = 4; lse = ln(1 + 3)
    const q = weft.tensor(new Float32Array([1]), [1, 1, 1, 1]);
    const k = weft.tensor(new Float32Array([0, Math.log(3)]), [1, 1, 2, 1]);
    const v = weft.tensor(new Float32Array([1, 5]), [1, 1, 2, 1]);
    const { out, lse } = weft.attention.full({ q, k, v, scale: 1 });
    expect(out.shape).toEqual([1, 1, 1, 1]);
    expect(lse.shape).toEqual([1, 1, 1]);
    expectClose(out.data, [4], { atol: 1e-6, rtol: 1e-6 }, 'out');
    expectClose(lse.data, [Math.log(4)], { atol: 1e-6, rtol: 1e-6 }, 'lse');
  });

  // Hq = 6 over Hkv = 2 (grouped-query), a key mask, causal and not, S = T and S != T.
  for (const T of [1, 3, 17, 130])
    for (const d of [1, 5, 64])
      for (const causal of [false, true]) {
        const S = T === 130 ? 121 : T + 4;
        it(`full matches the naive reference at T=${T}, S=${T} and ${S}, d=${d}, causal=${causal}`, () => {
          for (const keys of [T, S]) {
            const q = weft.randn([2, 6, T, d], T * 10 + d);
            const k = weft.randn([2, 2, keys, d], T * 10 + d + 1);
            const v = weft.randn([2, 2, keys, 3], T * 10 + d + 2);
            const keyMask = randomMask(2 * keys, 0.8, T + d);
            const { out, lse } = weft.attention.full({ q, k, v, causal, keyMask });
            const ref = naiveAttention(q, k, v, { causal, keyMask });
            expect(out.shape).toEqual([2, 6, T, 3]);
            expectClose(out.data, ref.out, attentionTolerance(keys + d), `out S=${keys}`);
            expectCloseLse(lse.data, ref.lse, attentionTolerance(keys + d), `lse S=${keys}`);
          }
        });
      }

  it('carries the online softmax across key blocks (S = 600, past two 256-key blocks)', async () => {
    // rows with a large logit late in the sequence force the running max to grow between blocks
    const q = weft.randn([1, 2, 17, 5], 50);
    const kData = weft.randn([1, 1, 600, 5], 51).data;
    for (let c = 0; c < 5; c++) kData[550 * 5 + c] *= 6;
    const k = weft.tensor(kData, [1, 1, 600, 5]);
    const v = weft.randn([1, 1, 600, 3], 52);
    const keyMask = randomMask(600, 0.9, 53);
    for (const causal of [false, true]) {
      const { out, lse } = weft.attention.full({ q, k, v, causal, keyMask });
      const ref = naiveAttention(q, k, v, { causal, keyMask });
      expectClose(out.data, ref.out, attentionTolerance(600), `full causal=${causal}`);
      expectCloseLse(lse.data, ref.lse, attentionTolerance(600), `lse causal=${causal}`);
    }
    const q600 = weft.randn([1, 2, 600, 5], 54);
    const win = weft.attention.windowed({ q: q600, k, v, keyMask, window: [300, 280], globalTokens: Int32Array.from([7, 590]) });
    const ref = naiveAttention(q600, k, v, { keyMask, window: [300, 280], globals: [7, 590] });
    expectClose(win.out.data, ref.out, attentionTolerance(600), 'windowed');
    const args = { q: q600, k, v, keyMask, window: [300, 280] as [number, number], dout: weft.randn([1, 2, 600, 3], 55) };
    // the gradients against the JS twin (on the js run that would compare the twin with itself)
    if (label !== 'js') {
      const grads = weft.attention.windowedBackward(args);
      const twin = (await createWeft({ backend: 'js' })).attention.windowedBackward(args);
      // sums over ~580 keys or queries of O(1) f32 terms
      for (const key of ['dq', 'dk', 'dv'] as const) expectClose(grads[key].data, twin[key].data, { atol: 3e-4, rtol: 1e-3 }, key);
    }
  });

  // [T, S, d, window, dilation, causal, globals]
  const bands: [number, number, number, [number, number], number, boolean, number[]][] = [
    [130, 130, 64, [16, 16], 1, false, []],
    [130, 130, 5, [33, 0], 1, true, []],
    [130, 130, 5, [5, 70], 1, false, []],
    [17, 17, 1, [2, 3], 3, false, []],
    [130, 130, 5, [4, 3], 4, true, []],
    [130, 130, 5, [7, 9], 1, false, [0, 64, 129]],
    [130, 130, 5, [7, 0], 2, true, [3, 4, 100]],
    [17, 23, 5, [3, 2], 1, false, [0, 20]],
    [23, 17, 5, [4, 1], 2, true, [2, 16]],
    [3, 3, 5, [0, 0], 1, false, []],
    [1, 1, 1, [0, 0], 1, true, [0]],
  ];
  for (const [T, S, d, window, dilation, causal, globals] of bands) {
    it(`windowed matches the naive reference at T=${T} S=${S} d=${d} window=[${window}] dilation=${dilation} causal=${causal} globals=[${globals}]`, () => {
      const q = weft.randn([2, 6, T, d], T + S);
      const k = weft.randn([2, 2, S, d], T + S + 1);
      const v = weft.randn([2, 2, S, 5], T + S + 2);
      const keyMask = randomMask(2 * S, 0.85, S);
      const globalTokens = Int32Array.from(globals);
      const { out, lse } = weft.attention.windowed({ q, k, v, causal, keyMask, window, dilation, globalTokens });
      const ref = naiveAttention(q, k, v, { causal, keyMask, window, dilation, globals });
      expectClose(out.data, ref.out, attentionTolerance(S + d), 'out');
      expectCloseLse(lse.data, ref.lse, attentionTolerance(S + d), 'lse');
    });
  }

  it('a dilation of 2^31 or 2^32 + 1 leaves each query its own position (and the globals), as in the reference', async () => {
    // Such a dilation puts no other key on the query's grid. The kernels take 32-bit
    // integers, where 2^32 + 1 used to read as 1 (the whole band) and 2^31 as negative.
    const js = await createWeft({ backend: 'js' });
    const [T, S] = [9, 11];
    const q = weft.randn([1, 2, T, 5], 60), k = weft.randn([1, 1, S, 5], 61), v = weft.randn([1, 1, S, 3], 62);
    const dout = weft.randn([1, 2, T, 3], 63);
    for (const dilation of [2 ** 31, 2 ** 32 + 1])
      for (const causal of [false, true]) {
        const args = { q, k, v, causal, window: [2, 3] as [number, number], dilation, globalTokens: Int32Array.from([4]) };
        const { out, lse } = weft.attention.windowed(args);
        const ref = naiveAttention(q, k, v, { causal, window: [2, 3], dilation, globals: [4] });
        expectClose(out.data, ref.out, attentionTolerance(S), `out dilation=${dilation} causal=${causal}`);
        expectCloseLse(lse.data, ref.lse, attentionTolerance(S), `lse dilation=${dilation} causal=${causal}`);
        if (label === 'js') continue; // the twin comparison would compare the twin with itself
        const twin = js.attention.windowed(args);
        expectClose(out.data, twin.out.data, attentionTolerance(S), 'out vs the JS twin');
        const grads = weft.attention.windowedBackward({ ...args, dout });
        const twinGrads = js.attention.windowedBackward({ ...args, dout });
        // sums over at most S + 1 keys of O(1) f32 terms
        for (const key of ['dq', 'dk', 'dv'] as const) {
          expectClose(grads[key].data, twinGrads[key].data, { atol: 1e-5, rtol: 1e-4 }, `${key} dilation=${dilation} causal=${causal}`);
        }
      }
  });

  it('windowed with a window covering every key gives exactly full, for S = T and S != T', () => {
    // Query t sits at key position p = t + S - T in [S - T, S - 1], so [left, right] reaches
    // every key once left >= S - 1 and right >= T - 1: [Infinity, Infinity] always does.
    for (const [T, S] of [[130, 130], [17, 40], [40, 17]])
      for (const causal of [false, true]) {
        const q = weft.randn([1, 6, T, 5], 1);
        const k = weft.randn([1, 2, S, 5], 2);
        const v = weft.randn([1, 2, S, 7], 3);
        const keyMask = randomMask(S, 0.9, 4);
        const full = weft.attention.full({ q, k, v, causal, keyMask });
        for (const window of [[Infinity, Infinity], [S - 1, T - 1], [S + T, S + T]] as [number, number][]) {
          const win = weft.attention.windowed({ q, k, v, causal, keyMask, window });
          expect(win.out.data, `T=${T} S=${S} causal=${causal} window=[${window}]`).toEqual(full.out.data);
          expect(win.lse.data).toEqual(full.lse.data);
        }
      }
    // [T, T] is not full once S > T + 1 (T = 2, S = 5: key 0 lies 3 positions before query 0)
    const q = weft.randn([1, 1, 2, 3], 5), k = weft.randn([1, 1, 5, 3], 6), v = weft.randn([1, 1, 5, 3], 7);
    const band = weft.attention.windowed({ q, k, v, window: [2, 2] }).out.data;
    expectClose(band, naiveAttention(q, k, v, { window: [2, 2] }).out, attentionTolerance(5), '[T, T] band');
    const full = weft.attention.full({ q, k, v }).out.data;
    expect(Math.max(...band.map((x, i) => Math.abs(x - full[i])))).toBeGreaterThan(0.1);
  });

  it('causal windowed equals full attention with a banded key mask, row by row', () => {
    const [T, d, w] = [37, 5, 6];
    const q = weft.randn([1, 2, T, d], 5);
    const k = weft.randn([1, 2, T, d], 6);
    const v = weft.randn([1, 2, T, 3], 7);
    const win = weft.attention.windowed({ q, k, v, causal: true, window: [w, 4] });
    for (let t = 0; t < T; t++) {
      // one query against keys 0..t (bottom-right aligned), the mask keeping t - w..t
      const slice = (x: Tensor, rows: number, from: number) => {
        const [B, H, , width] = x.shape;
        const data = new Float32Array(B * H * rows * width);
        for (let h = 0; h < B * H; h++) {
          data.set(x.data.subarray((h * T + from) * width, (h * T + from + rows) * width), h * rows * width);
        }
        return { data, shape: [B, H, rows, width] };
      };
      const keyMask = Uint8Array.from({ length: t + 1 }, (_, s) => (s >= t - w ? 1 : 0));
      const row = weft.attention.full({ q: slice(q, 1, t), k: slice(k, t + 1, 0), v: slice(v, t + 1, 0), causal: true, keyMask });
      const expected = slice({ data: win.out.data, shape: [1, 2, T, 3] }, 1, t);
      expectClose(row.out.data, expected.data, attentionTolerance(w + d), `row ${t}`);
    }
  });

  it('grouped-query attention equals repeating the kv heads', () => {
    const q = weft.randn([2, 6, 17, 5], 8);
    const k = weft.randn([2, 2, 17, 5], 9);
    const v = weft.randn([2, 2, 17, 3], 10);
    const [k6, v6] = [repeatHeads(k, 6), repeatHeads(v, 6)];
    for (const causal of [false, true]) {
      expect(weft.attention.full({ q, k, v, causal }).out.data).toEqual(weft.attention.full({ q, k: k6, v: v6, causal }).out.data);
      const window: [number, number] = [3, 2];
      const grouped = weft.attention.windowed({ q, k, v, causal, window, globalTokens: Int32Array.from([4]) });
      const repeated = weft.attention.windowed({ q, k: k6, v: v6, causal, window, globalTokens: Int32Array.from([4]) });
      expect(grouped.out.data).toEqual(repeated.out.data);
      expect(grouped.lse.data).toEqual(repeated.lse.data);
    }
  });

  it('gives zeros and lse = -Infinity (never NaN) for rows that see no key', () => {
    const q = weft.randn([2, 2, 6, 3], 11);
    const k = weft.randn([2, 1, 4, 3], 12);
    const v = weft.randn([2, 1, 4, 3], 13);
    // batch 0: every key padded; batch 1: causal with S < T, so queries 0 and 1 see nothing
    const keyMask = Uint8Array.from([0, 0, 0, 0, 1, 1, 1, 1]);
    for (const run of [
      () => weft.attention.full({ q, k, v, causal: true, keyMask }),
      () => weft.attention.windowed({ q, k, v, causal: true, keyMask, window: [2, 0] }),
    ]) {
      const { out, lse } = run();
      expect(out.data.every(Number.isFinite)).toBe(true);
      for (let h = 0; h < 2; h++) {
        for (let t = 0; t < 6; t++) expect(lse.data[h * 6 + t]).toBe(-Infinity);
        expect(Array.from(out.data.subarray(h * 18, h * 18 + 18))).toEqual(new Array(18).fill(0));
        expect(lse.data[(2 + h) * 6 + 0]).toBe(-Infinity);
        expect(lse.data[(2 + h) * 6 + 1]).toBe(-Infinity);
        expect(Number.isFinite(lse.data[(2 + h) * 6 + 2])).toBe(true);
      }
    }
    const empty = weft.attention.full({ q, k: weft.zeros([2, 1, 0, 3]), v: weft.zeros([2, 1, 0, 3]) });
    expect(Array.from(empty.out.data)).toEqual(new Array(72).fill(0));
    expect(empty.lse.data.every((x) => x === -Infinity)).toBe(true);
  });

  it('keeps logits of magnitude 1e4 finite and exact', () => {
    const q = weft.tensor(Float32Array.from({ length: 17 * 4 }, (_, i) => 120 * Math.sin(i)), [1, 1, 17, 4]);
    const k = weft.tensor(Float32Array.from({ length: 17 * 4 }, (_, i) => 120 * Math.cos(3 * i)), [1, 1, 17, 4]);
    const v = weft.randn([1, 1, 17, 3], 14);
    for (const causal of [false, true]) {
      const { out, lse } = weft.attention.full({ q, k, v, causal, scale: 1 });
      const ref = naiveAttention(q, k, v, { causal, scale: 1 });
      expect(Math.max(...Array.from(ref.lse, Math.abs))).toBeGreaterThan(1e4);
      // lse ~ 1e4 carries f32 rounding of the scores: rtol 1e-6 of the score magnitude
      expectClose(lse.data, ref.lse, { atol: 0, rtol: 1e-5 }, 'lse');
      expectClose(out.data, ref.out, { atol: 1e-3, rtol: 1e-3 }, 'out');
      const win = weft.attention.windowed({ q, k, v, causal, scale: 1, window: [4, 4] });
      expect(win.out.data.every(Number.isFinite)).toBe(true);
    }
  });

  it('never mutates its inputs and returns fresh arrays', () => {
    const q = weft.randn([1, 2, 9, 4], 15), k = weft.randn([1, 1, 9, 4], 16), v = weft.randn([1, 1, 9, 4], 17);
    const copies = [q, k, v].map((t) => t.data.slice());
    const a = weft.attention.windowed({ q, k, v, window: [2, 2], globalTokens: Int32Array.from([3]) });
    const b = weft.attention.windowed({ q, k, v, window: [2, 2], globalTokens: Int32Array.from([3]) });
    [q, k, v].forEach((t, i) => expect(t.data).toEqual(copies[i]));
    expect(a.out.data).not.toBe(b.out.data);
    expect(a.out.data).toEqual(b.out.data);
    expect(a.out.data.buffer.byteLength).toBe(a.out.data.byteLength);
  });

  it('refuses packed copies past 4 GiB with MEMORY before copying anything (S or T = 2^28 + 4, widths padded to 4)', () => {
    // one 1 GiB array (never touched: the size check comes first) serves as k, v, q and dout
    const n = 2 ** 28 + 4;
    const big = new Float32Array(n);
    const small = weft.randn([1, 1, 1, 1], 1);
    const long = { data: big, shape: [1, 1, n, 1] };
    expectWeftError(() => weft.attention.full({ q: small, k: long, v: long }), 'MEMORY', /packed values \[dv, S\]: 1073741840 elements/);
    expectWeftError(() => weft.attention.windowed({ q: small, k: long, v: long, window: [4, 4] }), 'MEMORY', /packed values/);
    expectWeftError(() => weft.attention.fullBackward({ q: long, k: small, v: small, dout: long }), 'MEMORY', /packed queries \[d, T\]/);
    expectWeftError(() => weft.attention.windowedBackward({ q: long, k: small, v: small, dout: long, window: [1, 1] }), 'MEMORY', /packed queries/);
    expect(weft.memory().liveBytes).toBe(0);
    expect(weft.attention.full({ q: small, k: small, v: small }).out.data).toEqual(small.data.map(() => small.data[0]));
  });

  it('rejects bad input with typed errors, leaks nothing and stays usable', () => {
    const q = weft.randn([1, 6, 5, 4], 1), k = weft.randn([1, 2, 5, 4], 2), v = weft.randn([1, 2, 5, 3], 3);
    const full = (extra: object) => () => weft.attention.full({ q, k, v, ...extra });
    const windowed = (extra: object) => () => weft.attention.windowed({ q, k, v, window: [1, 1], ...extra });
    expectWeftError(full({ k: weft.randn([1, 2, 5, 3], 4) }), 'SHAPE', /same width d: q has d = 4, k has d = 3/);
    expectWeftError(full({ k: weft.randn([1, 4, 5, 4], 4), v: weft.randn([1, 4, 5, 3], 5) }), 'SHAPE', /multiple of kv heads/);
    expectWeftError(full({ v: weft.randn([1, 2, 6, 3], 5) }), 'SHAPE', /k and v must agree/);
    expectWeftError(full({ k: weft.randn([2, 2, 5, 4], 4), v: weft.randn([2, 2, 5, 3], 5) }), 'SHAPE', /batch sizes differ/);
    expectWeftError(full({ q: weft.randn([6, 5, 4], 1) }), 'SHAPE', /rank 4/);
    expectWeftError(full({ q: weft.randn([1, 6, 5, 0], 1), k: weft.randn([1, 2, 5, 0], 1) }), 'SHAPE', /d >= 1/);
    expectWeftError(full({ keyMask: new Uint8Array(4) }), 'SHAPE', /keyMask must have B \* S = 5/);
    expectWeftError(full({ keyMask: new Int32Array(5) }), 'DTYPE', /keyMask/);
    // option values that are not finite numbers (or not integers, for counts) are OPTION, as in every family
    expectWeftError(full({ scale: NaN }), 'OPTION', /scale/);
    expectWeftError(full({ scale: Infinity }), 'OPTION', /scale/);
    expectWeftError(full({ scale: '1' }), 'OPTION', /scale/);
    expectWeftError(full({ causal: 1 }), 'OPTION', /causal/);
    const bad = q.data.slice();
    bad[7] = NaN;
    expectWeftError(full({ q: { data: bad, shape: q.shape } }), 'RANGE', /q: values must be finite, got NaN at index 7/);
    const inf = v.data.slice();
    inf[2] = -Infinity;
    expectWeftError(full({ v: { data: inf, shape: v.shape } }), 'RANGE', /v: values must be finite/);
    const huge = k.data.map(() => 1e37);
    expectWeftError(full({ k: { data: huge, shape: k.shape } }), 'RANGE', /overflow/);
    expectWeftError(() => weft.attention.full(null as never), 'OPTION');
    expectWeftError(windowed({ window: [-1, 2] }), 'RANGE', /window\[0\]/);
    expectWeftError(windowed({ window: [-Infinity, 2] }), 'RANGE', /window\[0\]/);
    expectWeftError(windowed({ window: [1, 2.5] }), 'OPTION', /window\[1\]/);
    expectWeftError(windowed({ window: [1, NaN] }), 'OPTION', /window\[1\]/);
    expectWeftError(windowed({ window: [1, '2'] }), 'OPTION', /window\[1\]/);
    expectWeftError(windowed({ window: [1, null] }), 'OPTION', /window\[1\]/);
    expectWeftError(windowed({ window: undefined }), 'OPTION', /window must be \[left, right\]/);
    expectWeftError(windowed({ window: [1] }), 'OPTION', /window/);
    expectWeftError(windowed({ dilation: 0 }), 'RANGE', /dilation/);
    expectWeftError(windowed({ dilation: 1.5 }), 'OPTION', /dilation/);
    expectWeftError(windowed({ dilation: Infinity }), 'OPTION', /dilation/);
    expectWeftError(windowed({ dilation: '2' }), 'OPTION', /dilation/);
    expectWeftError(windowed({ globalTokens: Int32Array.from([5]) }), 'RANGE', /globalTokens holds 5/);
    expectWeftError(windowed({ globalTokens: [1] }), 'DTYPE', /globalTokens/);
    expectWeftError(windowed({ keyMask: new Uint8Array(6) }), 'SHAPE', /keyMask/);
    // an output of 2^31 floats cannot exist: MEMORY before any work
    const wide = weft.zeros([1, 1, 1, 2048]);
    expectWeftError(
      () => weft.attention.full({ q: weft.zeros([1, 1024, 1024, 1]), k: weft.zeros([1, 1, 1, 1]), v: wide }),
      'MEMORY',
    );
    expect(weft.memory().liveBytes).toBe(0);
    expect(weft.attention.full({ q, k, v }).out.data.every(Number.isFinite)).toBe(true);
    if (label !== 'js') expect(weft.memory().liveBytes).toBe(0);
  });
});
