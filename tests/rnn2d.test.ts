import { beforeAll, describe, expect, it } from 'vitest';
import { createWeft, type Activation, type Rnn2dOrigin, type Tensor, type Weft } from '../src/index.js';
import { backendsUnderTest, expectClose, expectWeftError } from './helpers.js';
import { type Params, flipGrid, flipsOf, tensorGradient } from './rnn2d_reference.js';

const ACTIVATIONS: Activation[] = ['tanh', 'relu', 'sigmoid', 'identity'];
const ORIGINS: Rnn2dOrigin[] = ['top-left', 'top-right', 'bottom-left', 'bottom-right'];

const ACT64: Record<Activation, (v: number) => number> = {
  tanh: Math.tanh,
  relu: (v) => Math.max(0, v),
  sigmoid: (v) => 1 / (1 + Math.exp(-v)),
  identity: (v) => v,
};

/**
 * Independent f64 reference: the top-left recurrence cell by cell, written from the
 * API formula; other origins by flipping the input and the output (a different
 * route than the backends, which remap indices).
 */
function referenceForward(p: Params, activation: Activation, origin: Rnn2dOrigin = 'top-left'): Float64Array {
  const [B, H, W, C] = p.x.shape;
  const D = p.wIn.shape[0];
  const [flipRows, flipCols] = flipsOf(origin);
  const x = flipGrid(p.x.data, p.x.shape, flipRows, flipCols);
  const act = ACT64[activation];
  const h = new Float64Array(B * H * W * D);
  const at = (b: number, i: number, j: number) => ((b * H + i) * W + j) * D;
  for (let b = 0; b < B; b++)
    for (let i = 0; i < H; i++)
      for (let j = 0; j < W; j++)
        for (let n = 0; n < D; n++) {
          let s = p.bias ? p.bias.data[n] : 0;
          for (let c = 0; c < C; c++) s += p.wIn.data[n * C + c] * x[((b * H + i) * W + j) * C + c];
          for (let k = 0; k < D; k++) {
            if (j > 0) s += p.wLeft.data[n * D + k] * h[at(b, i, j - 1) + k];
            if (i > 0) s += p.wTop.data[n * D + k] * h[at(b, i - 1, j) + k];
          }
          h[at(b, i, j) + n] = act(s);
        }
  return flipGrid(h, [B, H, W, D], flipRows, flipCols);
}

/**
 * Reference gradients of L = sum(h * dh) by central differences of the f64 forward
 * (relu's kink is never within eps of a random pre-activation here).
 */
function finiteDifferenceGradients(p: Params, activation: Activation, origin: Rnn2dOrigin, dh: Float32Array) {
  const loss = () => {
    const h = referenceForward(p, activation, origin);
    let s = 0;
    for (let k = 0; k < h.length; k++) s += h[k] * dh[k];
    return s;
  };
  const gradientOf = (t: Tensor) => tensorGradient(t, loss);
  return {
    dx: gradientOf(p.x),
    dwIn: gradientOf(p.wIn),
    dwLeft: gradientOf(p.wLeft),
    dwTop: gradientOf(p.wTop),
    dbias: p.bias ? gradientOf(p.bias) : undefined,
  };
}

/**
 * Random parameters. The recurrent weights are scaled by 0.6 / sqrt(2 hid) so the scan
 * is contracting (as a trained RNN's must be): errors do not grow along the wavefront
 * and tanh/sigmoid stay out of saturation.
 */
function randomParams(weft: Weft, [B, H, W, C, D]: number[], seed: number, withBias = true): Params {
  const scaled = (t: Tensor, s: number) => weft.tensor(t.data.map((v) => v * s), t.shape);
  return {
    x: weft.randn([B, H, W, C], seed),
    wIn: scaled(weft.randn([D, C], seed + 1), 1 / Math.sqrt(Math.max(1, C))),
    wLeft: scaled(weft.randn([D, D], seed + 2), 0.6 / Math.sqrt(2 * D)),
    wTop: scaled(weft.randn([D, D], seed + 3), 0.6 / Math.sqrt(2 * D)),
    bias: withBias ? scaled(weft.randn([D], seed + 4), 0.3) : undefined,
  };
}

// f32 sums of K = C + 2 hid products per cell, plus the kernels' tanh approximation
// (3.3e-7); the contracting recurrence keeps errors at that level over the whole grid.
// Measured: max |diff| 1.3e-6 at |h| ~ 7 (K = 23), 3e-7 typical; this bound is 3-10x that.
const forwardTolerance = (C: number, D: number) => {
  const t = 1e-6 * Math.sqrt(C + 2 * D);
  return { atol: t, rtol: t };
};
// Weight gradients sum up to B*H*W products in f32, through act'(h) with h carrying the
// forward's error. Measured: max |diff| 5.7e-6 at |g| ~ 30 over 81 cells; a wrong or
// missing term would be O(0.1).
const gradientTolerance = (cells: number) => {
  const t = 4e-6 * Math.sqrt(cells);
  return { atol: t, rtol: t };
};

describe.each(backendsUnderTest())('rnn2d on $label', ({ label, create }) => {
  let weft: Weft;
  let js: Weft;
  beforeAll(async () => {
    weft = await create();
    js = await createWeft({ backend: 'js' });
  });

  it('computes a 2x2 grid by hand (identity, hid 2), forward and backward', () => {
    // wLeft @ v = [v1, 0], wTop @ v = [0, v0]: each direction moves a different unit
    const x = weft.tensor(new Float32Array([1, 2, 3, 4]), [1, 2, 2, 1]);
    const wIn = weft.tensor(new Float32Array([1, 0.5]), [2, 1]);
    const wLeft = weft.tensor(new Float32Array([0, 1, 0, 0]), [2, 2]);
    const wTop = weft.tensor(new Float32Array([0, 0, 1, 0]), [2, 2]);
    const bias = weft.tensor(new Float32Array([0.1, -0.1]), [2]);
    const args = { x, wIn, wLeft, wTop, bias, activation: 'identity' as const };
    const { h } = weft.rnn2d.forward(args);
    expect(h.shape).toEqual([1, 2, 2, 2]);
    // h00 = [1.1, 0.4]; h01 = [2 + 0.4 + 0.1, 1 - 0.1]; h10 = [3 + 0.1, 1.5 + 1.1 - 0.1];
    // h11 = [4 + 2.5 + 0.1, 2 + 2.5 - 0.1]
    expectClose(h.data, [1.1, 0.4, 2.5, 0.9, 3.1, 2.5, 6.6, 4.4], { atol: 1e-6, rtol: 1e-6 }, 'h');

    // dL/dh = 1 everywhere: dpre11 = [1, 1]; dpre10 = 1 + wLeft^T dpre11 = [1, 2];
    // dpre01 = 1 + wTop^T dpre11 = [2, 1]; dpre00 = 1 + wLeft^T dpre01 + wTop^T dpre10 = [3, 3]
    const g = weft.rnn2d.backward({ ...args, h, dh: weft.tensor(new Float32Array(8).fill(1), [1, 2, 2, 2]) });
    const tol = { atol: 1e-5, rtol: 1e-6 };
    expectClose(g.dbias.data, [7, 7], tol, 'dbias');
    expectClose(g.dx.data, [4.5, 2.5, 2, 1.5], tol, 'dx'); // wIn^T dpre = dpre0 + 0.5 dpre1
    expectClose(g.dwIn.data, [3 * 1 + 2 * 2 + 1 * 3 + 1 * 4, 3 * 1 + 1 * 2 + 2 * 3 + 1 * 4], tol, 'dwIn'); // sum dpre[n] x
    // dwLeft = dpre01 (x) h00 + dpre11 (x) h10; dwTop = dpre10 (x) h00 + dpre11 (x) h01
    expectClose(g.dwLeft.data, [2 * 1.1 + 3.1, 2 * 0.4 + 2.5, 1.1 + 3.1, 0.4 + 2.5], tol, 'dwLeft');
    expectClose(g.dwTop.data, [1.1 + 2.5, 0.4 + 0.9, 2 * 1.1 + 2.5, 2 * 0.4 + 0.9], tol, 'dwTop');
    expect(g.dwLeft.shape).toEqual([2, 2]);
    expect(g.dx.shape).toEqual([1, 2, 2, 1]);
  });

  // [B, H, W, C, hid]: single cells, single rows and columns, tails of the 4-row and
  // 8-column GEMM tiles, diagonals longer than one GEMM row block (B * min(H, W) > 128).
  const AWKWARD = [
    [1, 1, 1, 1, 1],
    [1, 1, 7, 3, 3],
    [2, 7, 1, 2, 3],
    [2, 5, 3, 1, 17],
    [1, 3, 5, 4, 17],
    [2, 6, 4, 3, 1],
    [3, 4, 9, 5, 9],
  ];
  for (const dims of AWKWARD)
    for (const activation of ACTIVATIONS)
      it(`forward matches the f64 reference at ${dims.join('x')}, ${activation}, every origin`, () => {
        const p = randomParams(weft, dims, dims.reduce((s, d) => s * 7 + d, 1), activation !== 'relu');
        for (const origin of ORIGINS) {
          const { h } = weft.rnn2d.forward({ ...p, activation, origin });
          expect(h.shape).toEqual([dims[0], dims[1], dims[2], dims[4]]);
          expectClose(h.data, referenceForward(p, activation, origin), forwardTolerance(dims[3], dims[4]), `h ${origin}`);
        }
      });

  it('forward matches the reference on a grid whose diagonals span several GEMM blocks', () => {
    const dims = [8, 19, 23, 3, 20]; // diagonals of 8 * 19 = 152 rows > the 128-row block
    const p = randomParams(weft, dims, 99);
    const { h } = weft.rnn2d.forward({ ...p, origin: 'bottom-right' });
    expectClose(h.data, referenceForward(p, 'tanh', 'bottom-right'), forwardTolerance(3, 20), 'h');
  });

  for (const activation of ACTIVATIONS)
    it(`gradients match central finite differences (${activation}, with and without bias)`, () => {
      const dims = [2, 3, 4, 2, 3];
      for (const [origin, withBias] of [['top-left', true], ['bottom-right', false], ['top-right', true]] as const) {
        const p = randomParams(weft, dims, 5 + ORIGINS.indexOf(origin), withBias);
        const { h } = weft.rnn2d.forward({ ...p, activation, origin });
        const dh = weft.randn(h.shape, 77);
        const g = weft.rnn2d.backward({ ...p, activation, origin, h, dh });
        // without a bias, dbias is the gradient of a zero bias
        const fd = finiteDifferenceGradients({ ...p, bias: p.bias ?? weft.zeros([3]) }, activation, origin, dh.data);
        const tol = gradientTolerance(2 * 3 * 4);
        expectClose(g.dx.data, fd.dx, tol, `dx ${origin}`);
        expectClose(g.dwIn.data, fd.dwIn, tol, `dwIn ${origin}`);
        expectClose(g.dwLeft.data, fd.dwLeft, tol, `dwLeft ${origin}`);
        expectClose(g.dwTop.data, fd.dwTop, tol, `dwTop ${origin}`);
        expectClose(g.dbias.data, fd.dbias!, tol, `dbias ${origin}`);
      }
    });

  // the JS backend is checked against finite differences above; here the WASM builds
  // are checked against it at sizes where finite differences would be slow
  for (const dims of [[2, 5, 3, 1, 17], [1, 1, 7, 3, 3], [2, 7, 1, 2, 3], [3, 4, 9, 5, 9], [1, 9, 9, 2, 33]])
    it.skipIf(label === 'js')(`backward matches the JS reference at ${dims.join('x')}, every origin and activation`, () => {
      const p = randomParams(weft, dims, dims[4] * 31 + dims[1]);
      const cells = dims[0] * dims[1] * dims[2];
      for (const [index, origin] of ORIGINS.entries()) {
        const activation = ACTIVATIONS[index];
        const args = { ...p, activation, origin };
        const h = js.rnn2d.forward(args).h;
        const dh = weft.randn(h.shape, index);
        const want = js.rnn2d.backward({ ...args, h, dh });
        const got = weft.rnn2d.backward({ ...args, h, dh });
        const tol = gradientTolerance(cells);
        for (const key of ['dx', 'dwIn', 'dwLeft', 'dwTop', 'dbias'] as const) {
          expect(got[key].shape).toEqual(want[key].shape);
          expectClose(got[key].data, want[key].data, tol, `${key} ${origin} ${activation}`);
        }
      }
    });

  it('origin X equals flipping the input and output (forward and backward)', () => {
    const dims = [2, 4, 6, 3, 5];
    const p = randomParams(weft, dims, 1234);
    const [B, H, W, , D] = dims;
    const hShape = [B, H, W, D];
    const dh = weft.randn(hShape, 4321);
    const base = { ...p, activation: 'tanh' as const };
    const tol = { atol: 1e-6, rtol: 1e-5 };
    for (const origin of ORIGINS) {
      const [fr, fc] = flipsOf(origin);
      const xFlipped = { data: flipGrid(p.x.data, p.x.shape, fr, fc), shape: p.x.shape };
      const direct = weft.rnn2d.forward({ ...base, origin });
      const viaFlip = weft.rnn2d.forward({ ...base, x: xFlipped, origin: 'top-left' });
      expectClose(direct.h.data, flipGrid(viaFlip.h.data, hShape, fr, fc), tol, `h ${origin}`);

      const gDirect = weft.rnn2d.backward({ ...base, origin, h: direct.h, dh });
      const gFlip = weft.rnn2d.backward({
        ...base,
        x: xFlipped,
        h: viaFlip.h,
        dh: { data: flipGrid(dh.data, hShape, fr, fc), shape: hShape },
      });
      expectClose(gDirect.dx.data, flipGrid(gFlip.dx.data, p.x.shape, fr, fc), tol, `dx ${origin}`);
      for (const key of ['dwIn', 'dwLeft', 'dwTop', 'dbias'] as const) {
        expectClose(gDirect[key].data, gFlip[key].data, { atol: 1e-5, rtol: 1e-5 }, `${key} ${origin}`);
      }
    }
    // and the origins really differ: a scan from another corner is another function
    const tl = weft.rnn2d.forward({ ...base, origin: 'top-left' }).h.data;
    const br = weft.rnn2d.forward({ ...base, origin: 'bottom-right' }).h.data;
    expect(Math.max(...tl.map((v, k) => Math.abs(v - br[k])))).toBeGreaterThan(0.1);
  });

  it('defaults to tanh, top-left and no bias', () => {
    const p = randomParams(weft, [1, 3, 4, 2, 5], 8, false);
    const { h } = weft.rnn2d.forward(p);
    expectClose(h.data, referenceForward(p, 'tanh', 'top-left'), forwardTolerance(2, 5), 'h');
    // unknown keys are ignored, so forward's options object can be reused for backward
    const again = weft.rnn2d.forward({ ...p, somethingElse: 1 } as never).h;
    expect(again.data).toEqual(h.data);
  });

  it('handles empty grids and C = 0 (the state is then driven by the bias alone)', () => {
    const p = randomParams(weft, [2, 3, 4, 0, 3], 3);
    const { h } = weft.rnn2d.forward(p);
    expectClose(h.data, referenceForward(p, 'tanh'), forwardTolerance(0, 3), 'h with C = 0');
    const g = weft.rnn2d.backward({ ...p, h, dh: weft.randn(h.shape, 1) });
    expect(g.dx.shape).toEqual([2, 3, 4, 0]);
    expect(g.dwIn.shape).toEqual([3, 0]);
    for (const dims of [[0, 3, 4, 2, 3], [2, 0, 4, 2, 3], [2, 3, 0, 2, 3]]) {
      const q = randomParams(weft, dims, 4);
      const out = weft.rnn2d.forward(q).h;
      expect(out.shape).toEqual([dims[0], dims[1], dims[2], 3]);
      expect(out.data.length).toBe(0);
      const gq = weft.rnn2d.backward({ ...q, h: out, dh: out });
      expect(Array.from(gq.dwLeft.data)).toEqual(new Array(9).fill(0));
      expect(Array.from(gq.dbias.data)).toEqual([0, 0, 0]);
    }
  });

  it('never mutates its inputs and returns fresh arrays', () => {
    const p = randomParams(weft, [2, 3, 3, 2, 4], 21);
    const copies = [p.x, p.wIn, p.wLeft, p.wTop, p.bias!].map((t) => t.data.slice());
    const h1 = weft.rnn2d.forward(p).h;
    const h2 = weft.rnn2d.forward(p).h;
    expect(h1.data).not.toBe(h2.data);
    expect(h1.data).toEqual(h2.data);
    const dh = weft.randn(h1.shape, 2);
    const dhCopy = dh.data.slice(), hCopy = h1.data.slice();
    weft.rnn2d.backward({ ...p, h: h1, dh });
    [p.x, p.wIn, p.wLeft, p.wTop, p.bias!].forEach((t, k) => expect(t.data).toEqual(copies[k]));
    expect(dh.data).toEqual(dhCopy);
    expect(h1.data).toEqual(hCopy);
    expect(weft.memory().liveBytes).toBe(0);
  });

  it('counts parameters and flops as documented (hid*C + 2*hid^2 + hid; 2*B*H*W*hid*(C + 2*hid))', () => {
    expect(weft.rnn2d.paramCount({ inputChannels: 3, hidden: 32 })).toBe(32 * 3 + 2 * 32 * 32 + 32);
    expect(weft.rnn2d.paramCount({ inputChannels: 3, hidden: 32, bias: false })).toBe(32 * 3 + 2 * 32 * 32);
    expect(weft.rnn2d.paramCount({ inputChannels: 1, hidden: 1, bias: true })).toBe(4);
    expect(weft.rnn2d.flops({ batch: 8, height: 64, width: 64, inputChannels: 3, hidden: 128 })).toBe(
      2 * 8 * 64 * 64 * 128 * (3 + 256),
    );
    expect(weft.rnn2d.flops({ height: 5, width: 3, inputChannels: 2, hidden: 7 })).toBe(2 * 15 * 7 * (2 + 14));
    // the parameters are what forward uses: count them from real tensors
    const p = randomParams(weft, [1, 2, 2, 5, 6], 1);
    const total = [p.wIn, p.wLeft, p.wTop, p.bias!].reduce((s, t) => s + t.data.length, 0);
    expect(weft.rnn2d.paramCount({ inputChannels: 5, hidden: 6 })).toBe(total);
    expectWeftError(() => weft.rnn2d.flops({ height: 5, width: 3, inputChannels: 2 } as never), 'OPTION', /hidden/);
    expectWeftError(() => weft.rnn2d.flops({ height: -1, width: 3, inputChannels: 2, hidden: 1 }), 'RANGE', /height/);
    expectWeftError(() => weft.rnn2d.paramCount({ inputChannels: 2.5, hidden: 1 }), 'OPTION', /inputChannels/);
    expectWeftError(() => weft.rnn2d.paramCount({ inputChannels: 2, hidden: 1, bias: 1 as never }), 'OPTION', /bias/);
  });

  it('rejects bad input with typed errors, leaks nothing and stays usable', () => {
    const p = randomParams(weft, [1, 3, 3, 2, 4], 31);
    const good = { ...p };
    const h = weft.rnn2d.forward(good).h;
    const dh = weft.randn(h.shape, 1);
    const fwd = (over: object) => () => weft.rnn2d.forward({ ...good, ...over } as never);
    const bwd = (over: object) => () => weft.rnn2d.backward({ ...good, h, dh, ...over } as never);
    expectWeftError(fwd({ wIn: weft.zeros([4, 3]) }), 'SHAPE', /wIn.*C = 2.*\[4, 3\]/);
    expectWeftError(fwd({ x: weft.zeros([3, 3, 2]) }), 'SHAPE', /x: expected rank 4/);
    expectWeftError(fwd({ wLeft: weft.zeros([4, 5]) }), 'SHAPE', /wLeft must have shape \[4, 4\]/);
    expectWeftError(fwd({ wTop: weft.zeros([4]) }), 'SHAPE', /wTop/);
    expectWeftError(fwd({ bias: weft.zeros([3]) }), 'SHAPE', /bias must have shape \[4\]/);
    expectWeftError(fwd({ activation: 'gelu' }), 'OPTION', /activation.*"gelu"/);
    expectWeftError(fwd({ origin: 'center' }), 'OPTION', /origin.*"center"/);
    expectWeftError(fwd({ x: { data: new Float64Array(18), shape: [1, 3, 3, 2] } }), 'DTYPE', /Float32Array/);
    expectWeftError(fwd({ x: undefined }), 'DTYPE', /x/);
    const nan = p.x.data.slice();
    nan[5] = NaN;
    expectWeftError(fwd({ x: weft.tensor(nan, p.x.shape) }), 'RANGE', /x: values must be finite.*index 5/);
    const inf = p.wTop.data.slice();
    inf[0] = Infinity;
    expectWeftError(fwd({ wTop: weft.tensor(inf, p.wTop.shape) }), 'RANGE', /wTop/);
    expectWeftError(() => weft.rnn2d.forward(null as never), 'OPTION');
    expectWeftError(bwd({ dh: weft.zeros([1, 3, 3, 5]) }), 'SHAPE', /dh must have shape \[1, 3, 3, 4\]/);
    expectWeftError(bwd({ h: weft.zeros([1, 3, 4]) }), 'SHAPE', /h: expected rank 4/);
    expectWeftError(bwd({ dh: undefined }), 'DTYPE', /dh/);
    const preActivation = h.data.map((v) => v * 3);
    expectWeftError(bwd({ h: weft.tensor(preActivation, h.shape) }), 'RANGE', /h: must be the forward's output.*\[-1, 1\]/);
    expectWeftError(bwd({ activation: 'relu', h: weft.tensor(h.data.map((v) => -Math.abs(v) - 0.1), h.shape) }), 'RANGE', /relu/);
    const nanDh = dh.data.slice();
    nanDh[7] = NaN;
    expectWeftError(bwd({ dh: weft.tensor(nanDh, dh.shape) }), 'RANGE', /dh: values must be finite, got NaN at index 7/);
    const infH = h.data.slice();
    infH[2] = -Infinity;
    expectWeftError(bwd({ activation: 'identity', h: weft.tensor(infH, h.shape) }), 'RANGE', /h: values must be finite.*index 2/);
    // an output of 2048 * 2048 * 300 floats (5 GB) cannot exist: MEMORY before any work
    const wide = {
      x: weft.zeros([1, 2048, 2048, 1]),
      wIn: weft.zeros([300, 1]),
      wLeft: weft.zeros([300, 300]),
      wTop: weft.zeros([300, 300]),
    };
    expectWeftError(() => weft.rnn2d.forward(wide), 'MEMORY', /h/);
    expect(weft.memory().liveBytes).toBe(0);
    expectClose(weft.rnn2d.forward(good).h.data, h.data, { atol: 0, rtol: 0 }, 'h after errors');
  });
});
