// Results are never NaN or infinite: a non-finite operand of an op that does not scan
// its inputs up front (matmul) is named after the fact, finite inputs whose results
// overflow f32 are refused (RANGE), and the bounds checked before the kernels (softmax
// logits, attention gradients) refuse the same calls on every backend.

import { beforeAll, describe, expect, it } from 'vitest';
import type { Weft } from '../src/index.js';
import { RELAXED_PROJECT, backendsUnderTest, expectWeftError } from './helpers.js';
import { compileKernelModule, instantiateKernels } from '../src/backend/wasm/instantiate.js';

describe.each(backendsUnderTest())('finite results on $label', ({ create }) => {
  let weft: Weft;
  beforeAll(async () => {
    weft = await create();
  });

  it('matmul names a non-finite operand instead of returning NaN', () => {
    const a = weft.randn([3, 5], 1), b = weft.randn([5, 2], 2);
    b.data[7] = NaN;
    expectWeftError(() => weft.matmul(a, b), 'RANGE', /matmul: b: values must be finite, got NaN at index 7/);
    a.data[4] = -Infinity;
    expectWeftError(() => weft.matmul(a, b), 'RANGE', /matmul: a: values must be finite, got -Infinity at index 4/);
    const bias = weft.tensor(Float32Array.of(0, Infinity), [2]);
    expectWeftError(() => weft.matmul(weft.randn([3, 5], 1), weft.randn([5, 2], 2), { bias }), 'RANGE', /matmul: options\.bias: values must be finite/);
    // an operand with no element that reaches the result cannot make it non-finite: N = 0
    const empty = weft.matmul(a, weft.zeros([5, 0]));
    expect(empty.shape).toEqual([3, 0]);
    expect(weft.memory().liveBytes ?? 0).toBe(0);
  });

  it('matmul refuses finite operands whose products overflow f32', () => {
    const a = weft.tensor(Float32Array.of(3e38, 3e38), [1, 2]);
    const b = weft.tensor(Float32Array.of(2, 2), [2, 1]);
    expectWeftError(() => weft.matmul(a, b), 'RANGE', /matmul: the result overflowed float32 \(Infinity at index 0\)/);
    // the instance keeps working
    expect(Array.from(weft.matmul(weft.tensor(Float32Array.of(1, 2), [1, 2]), b).data)).toEqual([6]);
  });

  it('conv2d and rnn2d refuse results that overflow f32', () => {
    const x = weft.tensor(new Float32Array(9).fill(1), [1, 3, 3, 1]);
    const w = weft.tensor(new Float32Array(9).fill(3e38), [1, 3, 3, 1]);
    expectWeftError(() => weft.conv2d.forward({ x, w, activation: 'identity' }), 'RANGE', /conv2d\.forward: y overflowed float32/);
    // an identity 2D RNN whose state grows 4x per step: h[i][j] = 2 h[i][j-1] + 2 h[i-1][j] + x
    const size = 80;
    const grid = weft.tensor(new Float32Array(size * size).fill(1), [1, size, size, 1]);
    const two = weft.tensor(Float32Array.of(2), [1, 1]);
    expectWeftError(
      () => weft.rnn2d.forward({ x: grid, wIn: two, wLeft: two, wTop: two, activation: 'identity' }),
      'RANGE', /rnn2d\.forward: h overflowed float32/,
    );
    // tanh keeps the same recurrence finite
    const { h } = weft.rnn2d.forward({ x: grid, wIn: two, wLeft: two, wTop: two });
    expect(h.data.every(Number.isFinite)).toBe(true);
  });

  it('softmax refuses inputs whose logits could overflow f32, before any work', () => {
    const input = weft.tensor(Float32Array.of(1, 3e37), [1, 2]);
    const weights = weft.randn([6, 2], 3);
    const targets = Int32Array.of(2);
    expectWeftError(() => weft.softmax.full({ input, weights, targets }), 'RANGE', /softmax\.full: \|input\| and \|weights\| .* could overflow f32 logits/);
    expectWeftError(() => weft.softmax.sampled({ input, weights, targets, numSampled: 2, seed: 1 }), 'RANGE', /could overflow f32 logits/);
    expectWeftError(
      () => weft.softmax.negativeSampling({ input, weights, targets, negative: 2, sampler: 'uniform', seed: 1 }),
      'RANGE', /could overflow f32 logits/,
    );
    const tree = weft.softmax.huffmanTree({ counts: [1, 1, 1, 1, 1, 1, 1] });
    expectWeftError(() => weft.softmax.hierarchical({ input, weights, targets, tree }), 'RANGE', /could overflow f32 logits/);
    // 1e18 * 1e18 * 2 = 2e36 is still accepted, and its loss is finite
    const big = weft.softmax.full({ input: weft.tensor(Float32Array.of(1e18, 0), [1, 2]), weights: weft.tensor(new Float32Array(12).fill(1e18), [6, 2]), targets });
    expect(Number.isFinite(big.loss)).toBe(true);
  });

  it('attention backward refuses dout and v whose products could overflow f32', () => {
    const q = weft.randn([1, 1, 4, 3], 1), k = weft.randn([1, 1, 4, 3], 2), v = weft.randn([1, 1, 4, 2], 3);
    const dout = weft.randn([1, 1, 4, 2], 4);
    dout.data[0] = 3e38;
    expectWeftError(
      () => weft.attention.windowedBackward({ q, k, v, dout, window: [1, 1] }),
      'RANGE', /windowedBackward: \|dout\| up to 3\.0\d*e\+38 and \|v\| or the given \|out\| .* could overflow f32 gradients/,
    );
    expectWeftError(() => weft.attention.fullBackward({ q, k, v, dout }), 'RANGE', /could overflow f32 gradients/);
    expectWeftError(() => weft.attention.linearBackward({ q, k, v, dout }), 'RANGE', /linearBackward: \|dout\| .* could overflow f32 gradient sums/);
    // a given out enters as dout . out: huge out with large dout is refused on both backends alike
    const forward = weft.attention.full({ q: weft.zeros([1, 1, 4, 3]), k: weft.zeros([1, 1, 4, 3]), v });
    const hugeOut = weft.tensor(new Float32Array(8).fill(1e30), [1, 1, 4, 2]);
    const bigDout = weft.tensor(new Float32Array(8).fill(1e10), [1, 1, 4, 2]);
    expectWeftError(
      () => weft.attention.fullBackward({ q: weft.zeros([1, 1, 4, 3]), k: weft.zeros([1, 1, 4, 3]), v, dout: bigDout, out: hugeOut, lse: forward.lse }),
      'RANGE', /the given \|out\| up to 1\.0\d*e\+30 could overflow f32 gradients/,
    );
    // moderate values pass
    dout.data[0] = 1e3;
    const g = weft.attention.windowedBackward({ q, k, v, dout, window: [1, 1] });
    expect(g.dq.data.every(Number.isFinite)).toBe(true);
  });

  it('lse keeps -Infinity for rows that see no key', () => {
    const q = weft.randn([1, 1, 3, 2], 1), k = weft.randn([1, 1, 3, 2], 2), v = weft.randn([1, 1, 3, 2], 3);
    const keyMask = Uint8Array.of(0, 0, 0);
    const { out, lse } = weft.attention.full({ q, k, v, keyMask });
    expect(Array.from(lse.data)).toEqual([-Infinity, -Infinity, -Infinity]);
    expect(Array.from(out.data)).toEqual([0, 0, 0, 0, 0, 0]);
  });
});

describe('maxAbsF32 (the SIMD scan of inputs and outputs)', () => {
  it('is max |x|, NaN when any is NaN, Infinity when any is infinite, at every length and position', async () => {
    const { exports, memory } = await instantiateKernels(await compileKernelModule(RELAXED_PROJECT ? 'relaxed' : 'simd'));
    const base = (exports.heapBase() + 63) & ~63;
    const at = (values: number[]) => {
      new Float32Array(memory.buffer, base, values.length).set(values);
      return exports.maxAbsF32({ ptr: base, n: values.length });
    };
    expect(at([])).toBe(0);
    for (const n of [1, 3, 15, 16, 17, 33, 64, 67]) {
      const values = Array.from({ length: n }, (_, i) => Math.fround(Math.sin(i * 1.7) * (i % 5 === 0 ? 1e-40 : 3)));
      const expected = Math.max(...values.map(Math.abs));
      expect(at(values), `n = ${n}`).toBe(Math.fround(expected));
      for (const pos of [0, n - 1, n >> 1]) {
        for (const [bad, result] of [[NaN, NaN], [Infinity, Infinity], [-Infinity, Infinity], [-3e38, 3e38]] as const) {
          const withBad = values.slice();
          withBad[pos] = bad;
          const got = at(withBad);
          if (Number.isNaN(result)) expect(got, `NaN at ${pos} of ${n}`).toBeNaN();
          else expect(got, `${bad} at ${pos} of ${n}`).toBe(Math.max(Math.fround(Math.abs(bad)), Math.fround(expected)));
        }
      }
      // NaN wins over Infinity
      const both = values.slice();
      both[0] = Infinity;
      both[n - 1] = NaN;
      if (n > 1) expect(at(both)).toBeNaN();
    }
  });
});
