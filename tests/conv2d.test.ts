import { beforeAll, describe, expect, it } from 'vitest';
import type { Activation, Conv2dPadding, Tensor, Weft } from '../src/index.js';
import { backendsUnderTest, centralDifferences, dotTolerance, expectClose, expectWeftError } from './helpers.js';

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

/** act'(pre) from the output y = act(pre), in f64. */
const DERIVATIVE64: Record<Activation, (y: number) => number> = {
  tanh: (y) => 1 - y * y,
  relu: (y) => (y > 0 ? 1 : 0),
  sigmoid: (y) => y * (1 - y),
  identity: () => 1,
};

/**
 * f64 gradients written from the forward's definition by scattering each output's
 * gradient to the inputs it read (the backends gather instead): for every output
 * (b, oy, ox, o) and tap (ky, kx, c) inside the image,
 * dw[o, ky, kx, c] += g x[b, iy, ix, c] and dx[b, iy, ix, c] += g w[o, ky, kx, c],
 * g = dy act'(y), iy = oy + ky - top, ix = ox + kx - left.
 */
function referenceConvBackward(x: Tensor, w: Tensor, padding: Conv2dPadding, activation: Activation, y: Tensor | undefined, dy: Tensor) {
  const [B, H, W, C] = x.shape;
  const [O, KH, KW] = w.shape;
  const [, OH, OW] = dy.shape;
  const top = padding === 'same' ? Math.floor((KH - 1) / 2) : 0, left = padding === 'same' ? Math.floor((KW - 1) / 2) : 0;
  const dx = new Float64Array(x.data.length), dw = new Float64Array(w.data.length), dbias = new Float64Array(O);
  for (let b = 0; b < B; b++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++)
        for (let o = 0; o < O; o++) {
          const out = ((b * OH + oy) * OW + ox) * O + o;
          const g = dy.data[out] * DERIVATIVE64[activation](y ? y.data[out] : 0);
          dbias[o] += g;
          for (let ky = 0; ky < KH; ky++)
            for (let kx = 0; kx < KW; kx++) {
              const iy = oy + ky - top, ix = ox + kx - left;
              if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
              for (let c = 0; c < C; c++) {
                const xi = ((b * H + iy) * W + ix) * C + c, wi = ((o * KH + ky) * KW + kx) * C + c;
                dw[wi] += g * x.data[xi];
                dx[xi] += g * w.data[wi];
              }
            }
        }
  return { dx, dw, dbias };
}

/**
 * Gradients of L = sum(y * dy) by central differences of the f64 forward. With h = 1e-5
 * in f64 the truncation error is ~h^2 |L'''| ~ 1e-10 and the rounding ~1e-16 / h ~ 1e-11,
 * far below the f32 error being tested (relu's kink is never within h of a random
 * pre-activation here).
 */
function finiteDifferenceGradients(x: Tensor, w: Tensor, bias: Tensor, padding: Conv2dPadding, activation: Activation, dy: Float32Array) {
  const x64 = Float64Array.from(x.data), w64 = Float64Array.from(w.data), b64 = Float64Array.from(bias.data);
  // the reference forward reads .data: hand it the f64 copies that the differences perturb
  const as64 = (t: Tensor, data: Float64Array) => ({ data, shape: t.shape }) as unknown as Tensor;
  const loss = () => {
    const { y } = referenceConv(as64(x, x64), as64(w, w64), as64(bias, b64), padding, activation);
    let s = 0;
    for (let k = 0; k < y.length; k++) s += y[k] * dy[k];
    return s;
  };
  const h = 1e-5;
  return { dx: centralDifferences(x64, loss, h), dw: centralDifferences(w64, loss, h), dbias: centralDifferences(b64, loss, h) };
}

// f32 sums of a long reduction (dw: over every pixel; dx: kh*kw*O taps), each term through
// act'(y) with y carrying the forward's f32 error (and the kernels' tanh: 3.3e-7).
// Measured: the worst |diff| is a quarter of this bound (3.4e-5 in dw over 1,200 pixels,
// both builds); one wrong pixel or tap is O(0.1), and a 1e-4 relative error fails it.
const gradientTolerance = (terms: number) => {
  const t = 4e-6 * Math.sqrt(Math.max(1, terms));
  return { atol: t, rtol: t };
};

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

  it('differentiates a 3x3 image by hand', () => {
    const x = weft.tensor(new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9]), [1, 3, 3, 1]);
    const w = weft.tensor(new Float32Array([1, 0, 0, -1]), [1, 2, 2, 1]); // y = x[i, j] - x[i+1, j+1]
    const dy = weft.tensor(new Float32Array([1, 1, 1, 1]), [1, 2, 2, 1]);
    const g = weft.conv2d.backward({ x, w, dy });
    // dw[ky, kx] = sum of the 2x2 window of x at (ky, kx); dbias = the 4 outputs
    expect(Array.from(g.dw.data)).toEqual([12, 16, 24, 28]);
    expect(Array.from(g.dbias.data)).toEqual([4]);
    // each x[i, j] is read with +1 by output (i, j) and -1 by output (i-1, j-1)
    expect(Array.from(g.dx.data)).toEqual([1, 1, 0, 1, 0, -1, 0, -1, -1]);
    expect(g.dx.shape).toEqual([1, 3, 3, 1]);
    expect(g.dw.shape).toEqual([1, 2, 2, 1]);
    expect(g.dbias.shape).toEqual([1]);
  });

  // [B, H, W, C, O, kh, kw]: 1x1 images and kernels, 3x5 and 7x7 images, C = 1 and 3,
  // O = 1 and 17 (across the 8-wide panel), 2x3 kernels, channel counts that are not
  // multiples of 4 on both sides, a kernel larger than the image, and more than 256
  // output pixels (several dw chunks) and 128 input pixels (several dx chunks).
  const BACKWARD_CASES = [
    [1, 1, 1, 1, 1, 1, 1],
    [2, 1, 1, 3, 17, 1, 1],
    [2, 3, 5, 3, 17, 3, 3],
    [1, 3, 5, 1, 1, 2, 3],
    [1, 7, 7, 1, 17, 3, 3],
    [2, 7, 7, 3, 1, 2, 3],
    [1, 9, 10, 11, 17, 2, 3],
    [1, 2, 3, 2, 3, 5, 5],
    [3, 13, 12, 5, 9, 3, 2],
  ];
  for (const [B, H, W, C, O, KH, KW] of BACKWARD_CASES)
    for (const padding of ['valid', 'same'] as const) {
      if (padding === 'valid' && (KH > H || KW > W)) continue;
      it(`backward matches the f64 reference at ${B}x${H}x${W}x${C} -> ${O}, kernel ${KH}x${KW}, ${padding}`, () => {
        const x = weft.randn([B, H, W, C], B * 100 + H);
        const w = weft.randn([O, KH, KW, C], O * 100 + KW);
        const bias = weft.randn([O], O);
        for (const activation of ['identity', 'tanh', 'relu', 'sigmoid'] as const) {
          const args = { x, w, bias, padding, activation };
          const { y } = weft.conv2d.forward(args);
          const dy = weft.randn(y.shape, 7);
          const g = weft.conv2d.backward({ ...args, y, dy });
          const ref = referenceConvBackward(x, w, padding, activation, y, dy);
          const [, OH, OW] = y.shape;
          expectClose(g.dx.data, ref.dx, gradientTolerance(KH * KW * O), `dx ${activation}`);
          expectClose(g.dw.data, ref.dw, gradientTolerance(B * OH * OW), `dw ${activation}`);
          expectClose(g.dbias.data, ref.dbias, gradientTolerance(B * OH * OW), `dbias ${activation}`);
          expect(g.dx.shape).toEqual(x.shape);
          expect(g.dw.shape).toEqual(w.shape);
          expect(g.dbias.shape).toEqual([O]);
        }
      });
    }

  for (const activation of ['identity', 'tanh', 'relu', 'sigmoid'] as const)
    it(`gradients match central finite differences (${activation}, with and without bias)`, () => {
      for (const [dims, padding, withBias] of [
        [[2, 3, 5, 3, 4, 3, 3], 'same', true],
        [[1, 4, 4, 1, 3, 2, 3], 'valid', false],
        [[1, 3, 5, 2, 17, 1, 1], 'valid', true],
      ] as const) {
        const [B, H, W, C, O, KH, KW] = dims;
        const x = weft.randn([B, H, W, C], 11);
        const w = weft.tensor(weft.randn([O, KH, KW, C], 12).data.map((v) => v / Math.sqrt(KH * KW * C)), [O, KH, KW, C]);
        const bias = withBias ? weft.tensor(weft.randn([O], 13).data.map((v) => 0.3 * v), [O]) : undefined;
        const args = { x, w, bias, padding, activation };
        const { y } = weft.conv2d.forward(args);
        const dy = weft.randn(y.shape, 14);
        const g = weft.conv2d.backward({ ...args, y, dy });
        // without a bias, dbias is the gradient of a zero bias
        const fd = finiteDifferenceGradients(x, w, bias ?? weft.zeros([O]), padding, activation, dy.data);
        const tol = gradientTolerance(B * H * W);
        expectClose(g.dx.data, fd.dx, tol, `dx ${dims.join('x')} ${padding}`);
        expectClose(g.dw.data, fd.dw, tol, `dw ${dims.join('x')} ${padding}`);
        expectClose(g.dbias.data, fd.dbias, tol, `dbias ${dims.join('x')} ${padding}`);
      }
    });

  it('backward with identity needs no y and ignores a given one; it never writes its inputs', () => {
    const x = weft.randn([2, 5, 4, 3], 1), w = weft.randn([6, 3, 2, 3], 2), bias = weft.randn([6], 3);
    const { y } = weft.conv2d.forward({ x, w, bias, padding: 'same' });
    const dy = weft.randn(y.shape, 4);
    const without = weft.conv2d.backward({ x, w, padding: 'same', dy });
    const withY = weft.conv2d.backward({ x, w, bias, padding: 'same', y, dy });
    for (const key of ['dx', 'dw', 'dbias'] as const) expect(withY[key].data).toEqual(without[key].data);
    const copies = [x, w, bias, y, dy].map((t) => t.data.slice());
    const tanhY = weft.tensor(y.data.map(Math.tanh), y.shape);
    const tanhCopy = tanhY.data.slice();
    weft.conv2d.backward({ x, w, bias, padding: 'same', activation: 'tanh', y: tanhY, dy });
    [x, w, bias, y, dy].forEach((t, k) => expect(t.data).toEqual(copies[k]));
    expect(tanhY.data).toEqual(tanhCopy);
    expect(weft.memory().liveBytes).toBe(0);
  });

  it('backward handles empty batches, empty channels and O = 0', () => {
    const w = weft.randn([3, 3, 3, 2], 1);
    const empty = weft.conv2d.backward({ x: weft.zeros([0, 3, 4, 2]), w, dy: weft.zeros([0, 3, 4, 3]), y: weft.zeros([0, 3, 4, 3]), padding: 'same', activation: 'tanh' });
    expect(empty.dx.shape).toEqual([0, 3, 4, 2]);
    expect(Array.from(empty.dw.data)).toEqual(new Array(54).fill(0));
    expect(Array.from(empty.dbias.data)).toEqual([0, 0, 0]);
    // C = 0: dx and dw are empty, dbias still sums dy
    const x0 = weft.zeros([1, 3, 4, 0]), w0 = weft.zeros([3, 2, 2, 0]), dy0 = weft.randn([1, 2, 3, 3], 2);
    const noChannels = weft.conv2d.backward({ x: x0, w: w0, dy: dy0 });
    expect(noChannels.dx.shape).toEqual([1, 3, 4, 0]);
    expect(noChannels.dw.shape).toEqual([3, 2, 2, 0]);
    expectClose(noChannels.dbias.data, referenceConvBackward(x0, w0, 'valid', 'identity', undefined, dy0).dbias, gradientTolerance(6), 'dbias');
    // O = 0: nothing reaches x
    const noOutputs = weft.conv2d.backward({ x: weft.randn([1, 3, 4, 2], 3), w: weft.zeros([0, 3, 3, 2]), dy: weft.zeros([1, 1, 2, 0]) });
    expect(Array.from(noOutputs.dx.data)).toEqual(new Array(24).fill(0));
    expect(noOutputs.dbias.shape).toEqual([0]);
  });

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

  it('backward rejects bad input with typed errors, leaks nothing and stays usable', () => {
    const x = weft.randn([1, 4, 5, 2], 1);
    const w = weft.randn([3, 3, 2, 2], 2);
    const args = { x, w, activation: 'tanh' as const };
    const { y } = weft.conv2d.forward(args);
    const dy = weft.randn(y.shape, 3);
    const want = weft.conv2d.backward({ ...args, y, dy });
    const call = (over: object) => () => weft.conv2d.backward({ ...args, y, dy, ...over } as never);
    expectWeftError(call({ dy: weft.zeros([1, 2, 5, 3]) }), 'SHAPE', /dy must have shape \[1, 2, 4, 3\]/);
    expectWeftError(call({ dy: weft.zeros([1, 2, 4]) }), 'SHAPE', /dy: expected rank 4/);
    expectWeftError(call({ dy: undefined }), 'DTYPE', /dy/);
    expectWeftError(call({ y: undefined }), 'OPTION', /y \(the forward's output\) is required with activation "tanh"/);
    expectWeftError(call({ y: weft.zeros([1, 2, 4, 2]) }), 'SHAPE', /y must have shape \[1, 2, 4, 3\]/);
    // identity reads no y, but a y of the wrong shape is still a mistake worth reporting
    expectWeftError(call({ activation: 'identity', y: weft.zeros([3]) }), 'SHAPE', /y: expected rank 4/);
    const preActivation = weft.tensor(y.data.map((v) => 3 * v), y.shape);
    expectWeftError(call({ y: preActivation }), 'RANGE', /y: must be the forward's output.*"tanh".*\[-1, 1\]/);
    expectWeftError(call({ activation: 'sigmoid' }), 'RANGE', /y: must be the forward's output.*\[0, 1\]/);
    expectWeftError(call({ activation: 'relu', y: weft.tensor(y.data.map((v) => -Math.abs(v) - 0.1), y.shape) }), 'RANGE', /relu/);
    const nanDy = dy.data.slice();
    nanDy[5] = NaN;
    expectWeftError(call({ dy: weft.tensor(nanDy, dy.shape) }), 'RANGE', /dy: values must be finite, got NaN at index 5/);
    const infDy = dy.data.slice();
    infDy[0] = -Infinity;
    expectWeftError(call({ dy: weft.tensor(infDy, dy.shape) }), 'RANGE', /dy: values must be finite/);
    const infY = y.data.slice();
    infY[2] = Infinity;
    expectWeftError(call({ y: weft.tensor(infY, y.shape) }), 'RANGE', /y: values must be finite.*index 2/);
    expectWeftError(call({ bias: weft.tensor(new Float32Array([0, NaN, 0]), [3]) }), 'RANGE', /bias: values must be finite/);
    expectWeftError(call({ w: weft.zeros([3, 3, 2, 4]) }), 'SHAPE', /C = 2/);
    expectWeftError(call({ padding: 'full' }), 'OPTION', /conv2d\.backward: padding/);
    expectWeftError(call({ x: weft.zeros([1, 2, 5, 2]) }), 'SHAPE', /kernel height \(3\) cannot exceed/);
    expectWeftError(() => weft.conv2d.backward(null as never), 'OPTION');
    // 2^31 outputs (8 GiB): MEMORY before any work
    expectWeftError(call({ x: weft.zeros([1, 1024, 1024, 1]), w: weft.zeros([2048, 1, 1, 1]), activation: 'identity', y: undefined }), 'MEMORY', /y/);
    expect(weft.memory().liveBytes).toBe(0);
    const again = weft.conv2d.backward({ ...args, y, dy });
    for (const key of ['dx', 'dw', 'dbias'] as const) expectClose(again[key].data, want[key].data, { atol: 0, rtol: 0 }, `${key} after errors`);
  });
});
