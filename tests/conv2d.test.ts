import { beforeAll, describe, expect, it } from 'vitest';
import type { Activation, Conv2dPadding, Tensor, Weft } from '../src/index.js';
import { backendsUnderTest, dotTolerance, expectClose, expectWeftError } from './helpers.js';

const ACT64: Record<Activation, (v: number) => number> = {
  tanh: Math.tanh,
  relu: (v) => Math.max(0, v),
  sigmoid: (v) => 1 / (1 + Math.exp(-v)),
  identity: (v) => v,
};

/** f64 direct convolution written from the definition: zero padding, 'same' pads floor((k-1)/2) first. */
function referenceConv(x: Tensor, w: Tensor, bias: Tensor | undefined, padding: Conv2dPadding, activation: Activation) {
  const [B, H, W, C] = x.shape;
  const [O, KH, KW] = w.shape;
  const same = padding === 'same';
  const OH = same ? H : H - KH + 1, OW = same ? W : W - KW + 1;
  const top = same ? Math.floor((KH - 1) / 2) : 0, left = same ? Math.floor((KW - 1) / 2) : 0;
  const xAt = (b: number, i: number, j: number, c: number) =>
    i < 0 || i >= H || j < 0 || j >= W ? 0 : x.data[((b * H + i) * W + j) * C + c];
  const y = new Float64Array(B * OH * OW * O);
  for (let b = 0; b < B; b++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++)
        for (let o = 0; o < O; o++) {
          let s = bias ? bias.data[o] : 0;
          for (let ky = 0; ky < KH; ky++)
            for (let kx = 0; kx < KW; kx++)
              for (let c = 0; c < C; c++) s += w.data[((o * KH + ky) * KW + kx) * C + c] * xAt(b, oy + ky - top, ox + kx - left, c);
          y[((b * OH + oy) * OW + ox) * O + o] = ACT64[activation](s);
        }
  return { y, shape: [B, OH, OW, O] };
}

describe.each(backendsUnderTest())('conv2d on $label', ({ create }) => {
  let weft: Weft;
  beforeAll(async () => {
    weft = await create();
  });

  it('convolves a 3x3 image by hand, valid and same', () => {
    const x = weft.tensor(new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9]), [1, 3, 3, 1]);
    const w = weft.tensor(new Float32Array([1, 0, 0, -1]), [1, 2, 2, 1]); // y = x[i, j] - x[i+1, j+1]
    const valid = weft.conv2d.forward({ x, w });
    expect(valid.y.shape).toEqual([1, 2, 2, 1]);
    expect(Array.from(valid.y.data)).toEqual([-4, -4, -4, -4]);
    // 'same' with an even kernel pads 0 rows above and 1 below (TensorFlow / PyTorch)
    const same = weft.conv2d.forward({ x, w, padding: 'same' });
    expect(same.y.shape).toEqual([1, 3, 3, 1]);
    expect(Array.from(same.y.data)).toEqual([-4, -4, 3, -4, -4, 6, 7, 8, 9]);
    const biased = weft.conv2d.forward({ x, w, bias: weft.tensor(new Float32Array([5]), [1]), activation: 'relu' });
    expect(Array.from(biased.y.data)).toEqual([1, 1, 1, 1]);
  });

  // [B, H, W, C, O, kh, kw]: 1x1 kernels, kernels as large as the image, even and
  // non-square kernels, channel counts across the 8-wide panel, more than 128 output
  // pixels (several im2col chunks).
  const CASES = [
    [1, 1, 1, 1, 1, 1, 1],
    [2, 5, 7, 3, 5, 3, 3],
    [1, 4, 6, 17, 9, 2, 4],
    [2, 9, 11, 1, 17, 5, 3],
    [3, 3, 3, 2, 3, 3, 3],
    [2, 13, 12, 4, 8, 1, 1],
    [1, 2, 3, 2, 3, 5, 5], // kernel larger than the image: 'same' only
  ];
  for (const [B, H, W, C, O, KH, KW] of CASES)
    for (const padding of ['valid', 'same'] as const) {
      if (padding === 'valid' && (KH > H || KW > W)) continue;
      it(`matches the f64 reference at ${B}x${H}x${W}x${C} -> ${O}, kernel ${KH}x${KW}, ${padding}`, () => {
        const x = weft.randn([B, H, W, C], B * 100 + H);
        const w = weft.randn([O, KH, KW, C], O * 100 + KW);
        const bias = weft.randn([O], O);
        for (const activation of ['identity', 'tanh', 'relu', 'sigmoid'] as const) {
          const withBias = activation !== 'relu';
          const { y } = weft.conv2d.forward({ x, w, bias: withBias ? bias : undefined, padding, activation });
          const ref = referenceConv(x, w, withBias ? bias : undefined, padding, activation);
          expect(y.shape).toEqual(ref.shape);
          expectClose(y.data, ref.y, dotTolerance(KH * KW * C + 1), `y ${activation}`);
        }
      });
    }

  it('counts parameters and flops', () => {
    expect(weft.conv2d.paramCount({ inputChannels: 3, outChannels: 32, kernel: [3, 3] })).toBe(32 * 9 * 3 + 32);
    expect(weft.conv2d.paramCount({ inputChannels: 3, outChannels: 32, kernel: 3, bias: false })).toBe(32 * 9 * 3);
    expect(weft.conv2d.flops({ batch: 8, height: 32, width: 32, inputChannels: 3, outChannels: 32, kernel: [3, 3], padding: 'same' }))
      .toBe(2 * 8 * 32 * 32 * 32 * 9 * 3);
    // default padding 'valid', as forward: a 30 x 30 output
    expect(weft.conv2d.flops({ height: 32, width: 32, inputChannels: 3, outChannels: 32, kernel: [3, 3] })).toBe(2 * 30 * 30 * 32 * 9 * 3);
    expect(weft.conv2d.flops({ height: 5, width: 7, inputChannels: 2, outChannels: 4, kernel: [1, 3] })).toBe(2 * 5 * 5 * 4 * 3 * 2);
    expectWeftError(() => weft.conv2d.flops({ height: 2, width: 7, inputChannels: 2, outChannels: 4, kernel: [3, 3] }), 'SHAPE', /height/);
    expectWeftError(() => weft.conv2d.paramCount({ inputChannels: 2, outChannels: 4, kernel: [3] as never }), 'OPTION', /kernel/);
    expectWeftError(() => weft.conv2d.paramCount({ inputChannels: 2, outChannels: 4, kernel: [0, 3] }), 'RANGE', /kernel/);
  });

  it('rejects bad input with typed errors, leaks nothing and stays usable', () => {
    const x = weft.randn([1, 4, 4, 2], 1);
    const w = weft.randn([3, 3, 3, 2], 2);
    const call = (over: object) => () => weft.conv2d.forward({ x, w, ...over } as never);
    expectWeftError(call({ w: weft.zeros([3, 3, 3, 4]) }), 'SHAPE', /C = 2/);
    expectWeftError(call({ x: weft.zeros([4, 4, 2]) }), 'SHAPE', /x: expected rank 4/);
    expectWeftError(call({ w: weft.zeros([3, 9, 2]) }), 'SHAPE', /w: expected rank 4/);
    expectWeftError(call({ w: weft.zeros([3, 0, 3, 2]) }), 'SHAPE', /kernel size/);
    expectWeftError(call({ x: weft.zeros([1, 2, 4, 2]) }), 'SHAPE', /kernel height \(3\) cannot exceed/);
    expectWeftError(call({ bias: weft.zeros([2]) }), 'SHAPE', /bias must have shape \[3\]/);
    expectWeftError(call({ padding: 'full' }), 'OPTION', /padding/);
    expectWeftError(call({ activation: 'softmax' }), 'OPTION', /activation/);
    const nan = x.data.slice();
    nan[3] = NaN;
    expectWeftError(call({ x: weft.tensor(nan, x.shape) }), 'RANGE', /finite/);
    // 2^31 outputs (8 GiB): MEMORY before any work
    expectWeftError(call({ x: weft.zeros([1, 1024, 1024, 1]), w: weft.zeros([2048, 1, 1, 1]) }), 'MEMORY');
    expect(weft.memory().liveBytes).toBe(0);
    expect(weft.conv2d.forward({ x, w }).y.shape).toEqual([1, 2, 2, 3]);
  });
});
