// fullBackward and windowedBackward on every backend: against central finite
// differences of the naive f64 forward (attention_reference.ts), and the WASM
// builds against the JS twin at sizes that cross every tile and block edge.

import { beforeAll, describe, expect, it } from 'vitest';
import { createWeft, type Weft } from '../src/index.js';
import { backendsUnderTest, expectClose, expectWeftError } from './helpers.js';
import { NaiveOptions, finiteDifferenceGradients, naiveAttention, randomMask } from './attention_reference.js';

// f32 gradients are sums of at most S + G terms of size O(1) each rounded at 6e-8:
// well under 1e-5 here, so 1e-4 leaves room without hiding a wrong term (O(0.1)).
const FD_TOL = { atol: 1e-4, rtol: 1e-3 };

describe.each(backendsUnderTest())('attention backward on $label', ({ label, create }) => {
  let weft: Weft;
  beforeAll(async () => {
    weft = await create();
  });

  // [name, T, S, window or null (full), dilation, causal, globals, masked]
  const cases: [string, number, number, [number, number] | null, number, boolean, number[], boolean][] = [
    ['full', 7, 7, null, 1, false, [], false],
    ['full causal, S > T, key mask', 6, 9, null, 1, true, [], true],
    ['full causal, S < T (rows with no key)', 9, 6, null, 1, true, [], false],
    ['windowed [2, 1]', 11, 11, [2, 1], 1, false, [], true],
    ['windowed causal [3, 0], dilation 2', 11, 11, [3, 0], 2, true, [], false],
    ['windowed [1, 2], dilation 3, globals', 12, 12, [1, 2], 3, false, [0, 5], true],
    ['windowed causal, S != T, globals', 9, 11, [2, 0], 1, true, [1, 8], false],
  ];
  for (const [name, T, S, window, dilation, causal, globals, masked] of cases) {
    it(`${name}: dq, dk, dv match central finite differences`, () => {
      const [B, Hq, Hkv, d, dv] = [1, 2, 1, 3, 4];
      const q = weft.randn([B, Hq, T, d], T + 1);
      const k = weft.randn([B, Hkv, S, d], S + 2);
      const v = weft.randn([B, Hkv, S, dv], S + 3);
      const dout = weft.randn([B, Hq, T, dv], 4);
      const keyMask = masked ? randomMask(B * S, 0.7, 6) : undefined;
      const options: NaiveOptions = { causal, keyMask, window: window ?? undefined, dilation, globals };
      const args = { q, k, v, dout, causal, keyMask, window: window ?? [0, 0], dilation, globalTokens: Int32Array.from(globals) } as const;
      const grads = window ? weft.attention.windowedBackward(args) : weft.attention.fullBackward(args);
      const fd = finiteDifferenceGradients(q, k, v, dout, (a, b, c) => naiveAttention(a, b, c, options).out);
      expect(grads.dq.shape).toEqual([B, Hq, T, d]);
      expect(grads.dk.shape).toEqual([B, Hkv, S, d]);
      expect(grads.dv.shape).toEqual([B, Hkv, S, dv]);
      expectClose(grads.dq.data, fd.dq, FD_TOL, 'dq');
      expectClose(grads.dk.data, fd.dk, FD_TOL, 'dk');
      expectClose(grads.dv.data, fd.dv, FD_TOL, 'dv');
    });
  }

  it('uses the forward out and lse when given, with the same result', () => {
    const q = weft.randn([2, 6, 17, 5], 1), k = weft.randn([2, 2, 17, 5], 2), v = weft.randn([2, 2, 17, 3], 3);
    const dout = weft.randn([2, 6, 17, 3], 4);
    for (const causal of [false, true]) {
      const { out, lse } = weft.attention.full({ q, k, v, causal });
      const recomputed = weft.attention.fullBackward({ q, k, v, dout, causal });
      const reused = weft.attention.fullBackward({ q, k, v, dout, causal, out, lse });
      expect(reused.dq.data).toEqual(recomputed.dq.data);
      expect(reused.dk.data).toEqual(recomputed.dk.data);
      const win = weft.attention.windowed({ q, k, v, causal, window: [3, 2] });
      const a = weft.attention.windowedBackward({ q, k, v, dout, causal, window: [3, 2] });
      const b = weft.attention.windowedBackward({ q, k, v, dout, causal, window: [3, 2], ...win });
      expect(b.dv.data).toEqual(a.dv.data);
    }
  });

  it('a window covering every key gives full attention gradients exactly', () => {
    const q = weft.randn([1, 4, 70, 5], 5), k = weft.randn([1, 2, 70, 5], 6), v = weft.randn([1, 2, 70, 3], 7);
    const dout = weft.randn([1, 4, 70, 3], 8);
    for (const causal of [false, true]) {
      const full = weft.attention.fullBackward({ q, k, v, dout, causal });
      const win = weft.attention.windowedBackward({ q, k, v, dout, causal, window: [Infinity, Infinity] });
      expect(win.dq.data).toEqual(full.dq.data);
      expect(win.dk.data).toEqual(full.dk.data);
      expect(win.dv.data).toEqual(full.dv.data);
    }
  });

  it('rejects bad gradients with typed errors', () => {
    const q = weft.randn([1, 2, 5, 4], 1), k = weft.randn([1, 1, 5, 4], 2), v = weft.randn([1, 1, 5, 3], 3);
    const dout = weft.randn([1, 2, 5, 3], 4);
    let caught: unknown;
    const code = (fn: () => unknown) => {
      caught = undefined;
      try {
        fn();
      } catch (err) {
        caught = err;
      }
      return (caught as { code?: string } | undefined)?.code;
    };
    expect(code(() => weft.attention.fullBackward({ q, k, v, dout: weft.randn([1, 2, 5, 4], 4) }))).toBe('SHAPE');
    expect(code(() => weft.attention.fullBackward({ q, k, v } as never))).toBe('DTYPE');
    expect(code(() => weft.attention.fullBackward({ q, k, v, dout, lse: weft.randn([1, 2, 4], 1) }))).toBe('SHAPE');
    const nan = dout.data.slice();
    nan[3] = NaN;
    expect(code(() => weft.attention.windowedBackward({ q, k, v, dout: { data: nan, shape: dout.shape }, window: [1, 1] }))).toBe('RANGE');
    expect(weft.memory().liveBytes).toBe(0);
  });

  it('takes the forward\'s lse and refuses one that is not (-Infinity on a row with keys, below the largest score)', () => {
    // S < T and causal: queries 0..2 see no key (lse = -Infinity in the forward)
    const [T, S] = [9, 6];
    const q = weft.randn([1, 2, T, 4], 70), k = weft.randn([1, 1, S, 4], 71), v = weft.randn([1, 1, S, 3], 72);
    const dout = weft.randn([1, 2, T, 3], 73);
    const calls = [
      { forward: weft.attention.full, backward: weft.attention.fullBackward, extra: {} },
      { forward: weft.attention.windowed, backward: weft.attention.windowedBackward, extra: { window: [2, 0] as [number, number] } },
    ];
    for (const { forward, backward, extra } of calls) {
      const args = { q, k, v, dout, causal: true, ...extra } as { q: typeof q; k: typeof q; v: typeof q; dout: typeof q; causal: boolean; window: [number, number] };
      const { out, lse } = forward(args);
      expect(Array.from(lse.data.subarray(0, 3))).toEqual([-Infinity, -Infinity, -Infinity]);
      const recomputed = backward(args);
      const given = backward({ ...args, out, lse });
      for (const key of ['dq', 'dk', 'dv'] as const) expectClose(given[key].data, recomputed[key].data, { atol: 1e-6, rtol: 1e-5 }, key);
      const withLse = (data: Float32Array) => () => backward({ ...args, out, lse: { data, shape: lse.shape } });
      // -Infinity claims "no key" for a row that has some
      const hidden = lse.data.slice();
      hidden[5] = -Infinity;
      expectWeftError(withLse(hidden), 'RANGE', /lse\[5\] \(batch 0, head 0, query 5\) is -Infinity but that row sees keys/);
      expectWeftError(withLse(lse.data.map(() => -Infinity)), 'RANGE', /lse\[3\].*-Infinity/);
      // below a row's largest score: p = exp(score - lse) > 1 (JS used to give NaN, WASM ~1e38)
      const finite = (f: (x: number) => number) => lse.data.map((x) => (x === -Infinity ? x : f(x)));
      expectWeftError(withLse(finite(() => -1e30)), 'RANGE', /lse is below a row's largest score/);
      expectWeftError(withLse(finite((x) => x - 1)), 'RANGE', /lse is below/);
      // above the forward's: every p shrinks by exp(lse - given), down to all-zero gradients
      const zero = backward({ ...args, out, lse: { data: finite(() => 1e30), shape: lse.shape } });
      for (const key of ['dq', 'dk', 'dv'] as const) expect(zero[key].data.every((x) => x === 0)).toBe(true);
      expectWeftError(withLse(finite(() => NaN)), 'RANGE', /lse: values must be finite/);
    }
    expect(weft.memory().liveBytes).toBe(0);
    expect(weft.attention.fullBackward({ q, k, v, dout }).dq.data.every(Number.isFinite)).toBe(true);
  });

  it('accepts -Infinity in lse exactly for the rows the forward found empty (band, dilation, globals, key mask)', () => {
    for (const [T, S] of [[12, 12], [12, 9]])
      for (const causal of [false, true]) {
        const q = weft.randn([2, 2, T, 3], T + S), k = weft.randn([2, 1, S, 3], T + S + 1), v = weft.randn([2, 1, S, 2], 3);
        const dout = weft.randn([2, 2, T, 2], 4);
        const args = { q, k, v, dout, causal, window: [1, 1] as [number, number], dilation: 2, globalTokens: Int32Array.from([3]), keyMask: randomMask(2 * S, 0.4, T + S) };
        const { out, lse } = weft.attention.windowed(args);
        expect(lse.data.some((x) => x === -Infinity)).toBe(true);
        weft.attention.windowedBackward({ ...args, out, lse }); // the forward's lse passes
        for (let row = 0; row < lse.data.length; row++) {
          if (lse.data[row] === -Infinity) continue;
          const data = lse.data.slice();
          data[row] = -Infinity;
          expectWeftError(() => weft.attention.windowedBackward({ ...args, out, lse: { data, shape: lse.shape } }), 'RANGE', new RegExp(`lse\\[${row}\\]`));
        }
      }
  });

  it('accepts the forward\'s lse for scores of magnitude 1e4, on this backend and the JS twin (the check allows f32 rounding)', async () => {
    const js = await createWeft({ backend: 'js' });
    const q = weft.tensor(Float32Array.from({ length: 2 * 33 * 8 }, (_, i) => 200 * Math.sin(i)), [1, 2, 33, 8]);
    const k = weft.tensor(Float32Array.from({ length: 33 * 8 }, (_, i) => 200 * Math.cos(3 * i)), [1, 1, 33, 8]);
    const v = weft.randn([1, 1, 33, 3], 5), dout = weft.randn([1, 2, 33, 3], 6);
    for (const causal of [false, true]) {
      const { out, lse } = weft.attention.full({ q, k, v, causal, scale: 1 });
      expect(Math.max(...Array.from(lse.data, Math.abs))).toBeGreaterThan(1e4);
      const grads = weft.attention.fullBackward({ q, k, v, dout, causal, scale: 1, out, lse });
      expect(grads.dq.data.every(Number.isFinite)).toBe(true);
      // the f64 twin recomputes the scores in another order than this backend's forward
      const twin = js.attention.fullBackward({ q, k, v, dout, causal, scale: 1, out, lse });
      expect(twin.dk.data.every(Number.isFinite)).toBe(true);
    }
  });

  it.skipIf(label === 'js')('matches the JS twin across tile and block edges', async () => {
    const js = await createWeft({ backend: 'js' });
    // T = 130 crosses the 64-query blocks and 8-key tiles; d = 64 the full panel width
    const runs: [number, number, number, [number, number] | null, number, boolean, number[]][] = [
      [130, 130, 64, null, 1, false, []],
      [130, 121, 5, null, 1, true, []],
      [130, 130, 17, [16, 9], 1, false, []],
      [130, 130, 5, [7, 0], 3, true, []],
      [60, 60, 5, [4, 3], 2, false, [0, 5, 33]],
      [23, 17, 5, [4, 1], 2, true, [2, 16]],
    ];
    for (const [T, S, d, window, dilation, causal, globals] of runs) {
      const q = weft.randn([2, 6, T, d], 1), k = weft.randn([2, 2, S, d], 2), v = weft.randn([2, 2, S, 7], 3);
      const dout = weft.randn([2, 6, T, 7], 4);
      const keyMask = randomMask(2 * S, 0.85, 5);
      const args = { q, k, v, dout, causal, keyMask, window: window ?? [0, 0], dilation, globalTokens: Int32Array.from(globals) } as const;
      const want = window ? js.attention.windowedBackward(args) : js.attention.fullBackward(args);
      const got = window ? weft.attention.windowedBackward(args) : weft.attention.fullBackward(args);
      // reductions over up to S = 130 keys or 130 queries of O(1) terms in f32
      for (const key of ['dq', 'dk', 'dv'] as const) {
        expectClose(got[key].data, want[key].data, { atol: 1e-4, rtol: 1e-4 }, `${key} T=${T} S=${S} d=${d} window=${window}`);
      }
    }
    expect(weft.memory().liveBytes).toBe(0);
  });
});
