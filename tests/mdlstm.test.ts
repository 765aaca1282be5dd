// rnn2d with cell 'lstm' (MD-LSTM, two forget gates): against an f64 reference written
// here from the formula, hand-computed gradients, central finite differences, the JS
// backend, flipped origins, and bad input.

import { beforeAll, describe, expect, it } from 'vitest';
import { createWeft, type Rnn2dOrigin, type Tensor, type Weft } from '../src/index.js';
import { backendsUnderTest, expectClose, expectWeftError } from './helpers.js';
import { type Params, flipGrid, flipsOf, tensorGradient } from './rnn2d_reference.js';

const ORIGINS: Rnn2dOrigin[] = ['top-left', 'top-right', 'bottom-left', 'bottom-right'];
const GRADIENTS = ['dx', 'dwIn', 'dwLeft', 'dwTop', 'dbias'] as const;

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/**
 * Independent f64 reference of the documented recurrence, top-left, cell by cell; other
 * origins by flipping the input and the outputs (the backends remap indices instead).
 */
function referenceForward(p: Params, origin: Rnn2dOrigin = 'top-left'): { h: Float64Array; c: Float64Array } {
  const [B, H, W, C] = p.x.shape;
  const D = p.wLeft.shape[1];
  const [fr, fc] = flipsOf(origin);
  const x = flipGrid(p.x.data, p.x.shape, fr, fc);
  const h = new Float64Array(B * H * W * D), c = new Float64Array(B * H * W * D);
  const at = (b: number, i: number, j: number) => ((b * H + i) * W + j) * D;
  const z = new Float64Array(5 * D);
  for (let b = 0; b < B; b++)
    for (let i = 0; i < H; i++)
      for (let j = 0; j < W; j++) {
        for (let n = 0; n < 5 * D; n++) {
          let s = p.bias ? p.bias.data[n] : 0;
          for (let k = 0; k < C; k++) s += p.wIn.data[n * C + k] * x[((b * H + i) * W + j) * C + k];
          for (let k = 0; k < D; k++) {
            if (j > 0) s += p.wLeft.data[n * D + k] * h[at(b, i, j - 1) + k];
            if (i > 0) s += p.wTop.data[n * D + k] * h[at(b, i - 1, j) + k];
          }
          z[n] = s;
        }
        for (let n = 0; n < D; n++) {
          const cLeft = j > 0 ? c[at(b, i, j - 1) + n] : 0, cTop = i > 0 ? c[at(b, i - 1, j) + n] : 0;
          const state = sigmoid(z[n]) * Math.tanh(z[3 * D + n]) + sigmoid(z[D + n]) * cLeft + sigmoid(z[2 * D + n]) * cTop;
          c[at(b, i, j) + n] = state;
          h[at(b, i, j) + n] = sigmoid(z[4 * D + n]) * Math.tanh(state);
        }
      }
  return { h: flipGrid(h, [B, H, W, D], fr, fc), c: flipGrid(c, [B, H, W, D], fr, fc) };
}

/** Gradients of L = sum(h * dh) + sum(c * dc) by central differences of the f64 forward. */
function finiteDifferenceGradients(p: Params, origin: Rnn2dOrigin, dh: Float32Array, dc?: Float32Array) {
  const loss = () => {
    const { h, c } = referenceForward(p, origin);
    let s = 0;
    for (let k = 0; k < h.length; k++) s += h[k] * dh[k] + (dc ? c[k] * dc[k] : 0);
    return s;
  };
  const gradientOf = (t: Tensor) => tensorGradient(t, loss);
  return { dx: gradientOf(p.x), dwIn: gradientOf(p.wIn), dwLeft: gradientOf(p.wLeft), dwTop: gradientOf(p.wTop), dbias: gradientOf(p.bias!) };
}

/** Random lstm parameters [B, H, W, C, hid]; recurrent weights scaled to keep the scan contracting. */
function randomParams(weft: Weft, [B, H, W, C, D]: number[], seed: number, withBias = true): Params {
  const scaled = (t: Tensor, s: number) => weft.tensor(t.data.map((v) => v * s), t.shape);
  return {
    x: weft.randn([B, H, W, C], seed),
    wIn: scaled(weft.randn([5 * D, C], seed + 1), 1 / Math.sqrt(Math.max(1, C))),
    wLeft: scaled(weft.randn([5 * D, D], seed + 2), 0.6 / Math.sqrt(2 * D)),
    wTop: scaled(weft.randn([5 * D, D], seed + 3), 0.6 / Math.sqrt(2 * D)),
    bias: withBias ? scaled(weft.randn([5 * D], seed + 4), 0.3) : undefined,
  };
}

// f32 sums of K = C + 2 hid products per gate, the kernels' tanh/σ approximations (3.3e-7)
// and c summed along the scan (|c| grows to a few units here, as forget gates near 0.5 sum
// two neighbours).
const forwardTolerance = (C: number, D: number) => {
  const t = 1.5e-6 * Math.sqrt(C + 2 * D);
  return { atol: t, rtol: t };
};
const gradientTolerance = (cells: number) => {
  const t = 4e-6 * Math.sqrt(cells);
  return { atol: t, rtol: t };
};

describe.each(backendsUnderTest())('rnn2d cell lstm on $label', ({ label, create }) => {
  let weft: Weft;
  let js: Weft;
  beforeAll(async () => {
    weft = await create();
    js = await createWeft({ backend: 'js' });
  });

  it('computes a 1x2 grid by hand (hid 1), forward and backward through the left forget gate', () => {
    const ln3 = Math.log(3), ln2 = Math.log(2); // σ(ln 3) = 0.75, tanh(ln 2) = 0.6
    const x = weft.tensor(new Float32Array([1, 0]), [1, 1, 2, 1]);
    const args = {
      x,
      wIn: weft.tensor(new Float32Array([ln3, 0, 0, ln2, 0]), [5, 1]),
      wLeft: weft.zeros([5, 1]),
      wTop: weft.zeros([5, 1]),
      bias: weft.tensor(new Float32Array([0, ln3, 0, 0, 0]), [5]),
      cell: 'lstm' as const,
    };
    const { h, c } = weft.rnn2d.forward(args);
    // cell (0,0): z = [ln3, ln3, 0, ln2, 0]: i = 0.75, g = 0.6, o = 0.5, no neighbours: c = 0.45
    // cell (0,1): z = bias: i = 0.5, f_left = 0.75, g = 0, o = 0.5: c = 0.75 * 0.45
    expect(c.shape).toEqual([1, 1, 2, 1]);
    expectClose(c.data, [0.45, 0.3375], { atol: 1e-6, rtol: 1e-6 }, 'c');
    expectClose(h.data, [0.5 * Math.tanh(0.45), 0.5 * Math.tanh(0.3375)], { atol: 1e-6, rtol: 1e-6 }, 'h');

    // dL/dc = [0, 1], dL/dh = 0: dz01 = [0, 0.45 * 0.75 * 0.25, 0, 0.5 * (1 - 0), 0];
    // c00 receives 1 * f_left = 0.75: dz00 = [0.75 * 0.6 * 0.1875, 0, 0, 0.75 * 0.75 * 0.64, 0]
    const g = weft.rnn2d.backward({ ...args, h, c, dh: weft.zeros([1, 1, 2, 1]), dc: weft.tensor(new Float32Array([0, 1]), [1, 1, 2, 1]) });
    const dz00 = [0.084375, 0, 0, 0.36, 0], dz01 = [0, 0.084375, 0, 0.5, 0];
    const tol = { atol: 2e-6, rtol: 1e-5 };
    expectClose(g.dbias.data, dz00.map((v, n) => v + dz01[n]), tol, 'dbias');
    expectClose(g.dwIn.data, dz00, tol, 'dwIn'); // x00 = 1, x01 = 0
    expectClose(g.dwLeft.data, dz01.map((v) => v * h.data[0]), tol, 'dwLeft');
    expectClose(g.dwTop.data, [0, 0, 0, 0, 0], tol, 'dwTop');
    expectClose(g.dx.data, [ln3 * 0.084375 + ln2 * 0.36, ln2 * 0.5], tol, 'dx');
    expect(g.dwIn.shape).toEqual([5, 1]);
    expect(g.dbias.shape).toEqual([5]);
  });

  // [B, H, W, C, hid]: one cell, one row, one column, hid 1 and 17 (tails of the 4-lane
  // gate loops and of the GEMM tiles), diagonals longer than one GEMM row block.
  const AWKWARD = [
    [1, 1, 1, 1, 1],
    [1, 1, 7, 3, 3],
    [2, 7, 1, 2, 1],
    [2, 5, 3, 1, 17],
    [1, 3, 5, 4, 17],
    [3, 4, 9, 5, 9],
  ];
  for (const dims of AWKWARD)
    it(`forward matches the f64 reference at ${dims.join('x')}, every origin`, () => {
      const p = randomParams(weft, dims, dims.reduce((s, d) => s * 7 + d, 1));
      for (const origin of ORIGINS) {
        const { h, c } = weft.rnn2d.forward({ ...p, cell: 'lstm', origin });
        expect(h.shape).toEqual([dims[0], dims[1], dims[2], dims[4]]);
        const want = referenceForward(p, origin);
        expectClose(c.data, want.c, forwardTolerance(dims[3], dims[4]), `c ${origin}`);
        expectClose(h.data, want.h, forwardTolerance(dims[3], dims[4]), `h ${origin}`);
      }
    });

  it('forward matches the reference on a grid whose diagonals span several GEMM blocks', () => {
    const dims = [8, 19, 23, 3, 6]; // diagonals of 8 * 19 = 152 rows > the 128-row block
    const p = randomParams(weft, dims, 99);
    const { h, c } = weft.rnn2d.forward({ ...p, cell: 'lstm', origin: 'bottom-left' });
    const want = referenceForward(p, 'bottom-left');
    expectClose(h.data, want.h, forwardTolerance(3, 6), 'h');
    expectClose(c.data, want.c, forwardTolerance(3, 6), 'c');
  });

  it('gradients match central finite differences (with and without bias and dc)', () => {
    const dims = [2, 3, 4, 2, 3];
    const cases = [['top-left', true, true], ['bottom-right', false, true], ['top-right', true, false], ['bottom-left', false, false]] as const;
    for (const [origin, withBias, withDc] of cases) {
      const p = randomParams(weft, dims, 5 + ORIGINS.indexOf(origin), withBias);
      const args = { ...p, cell: 'lstm' as const, origin };
      const { h, c } = weft.rnn2d.forward(args);
      const dh = weft.randn(h.shape, 77);
      const dc = withDc ? weft.randn(h.shape, 78) : undefined;
      const g = weft.rnn2d.backward({ ...args, h, c, dh, dc });
      const fd = finiteDifferenceGradients({ ...p, bias: p.bias ?? weft.zeros([15]) }, origin, dh.data, dc?.data);
      for (const key of GRADIENTS) expectClose(g[key].data, fd[key], gradientTolerance(24), `${key} ${origin}`);
    }
  });

  for (const dims of [[2, 5, 3, 1, 17], [1, 1, 7, 3, 3], [2, 7, 1, 2, 1], [3, 4, 9, 5, 9], [1, 9, 9, 2, 33]])
    it.skipIf(label === 'js')(`backward matches the JS reference at ${dims.join('x')}, every origin`, () => {
      const p = randomParams(weft, dims, dims[4] * 31 + dims[1]);
      const cells = dims[0] * dims[1] * dims[2];
      for (const [index, origin] of ORIGINS.entries()) {
        const args = { ...p, cell: 'lstm' as const, origin };
        const { h, c } = js.rnn2d.forward(args);
        const dh = weft.randn(h.shape, index);
        const dc = index % 2 ? weft.randn(h.shape, index + 10) : undefined;
        const want = js.rnn2d.backward({ ...args, h, c, dh, dc });
        const got = weft.rnn2d.backward({ ...args, h, c, dh, dc });
        for (const key of GRADIENTS) {
          expect(got[key].shape).toEqual(want[key].shape);
          expectClose(got[key].data, want[key].data, gradientTolerance(cells), `${key} ${origin}`);
        }
      }
    });

  it('origin X equals flipping the input and outputs (forward and backward)', () => {
    const dims = [2, 4, 6, 3, 5];
    const p = randomParams(weft, dims, 1234);
    const [B, H, W, , D] = dims;
    const shape = [B, H, W, D];
    const dh = weft.randn(shape, 4321), dc = weft.randn(shape, 4322);
    const base = { ...p, cell: 'lstm' as const };
    const tol = { atol: 1e-6, rtol: 1e-5 };
    const flip = (t: Tensor, fr: boolean, fc: boolean): Tensor => ({ data: flipGrid(t.data, t.shape, fr, fc), shape: t.shape });
    for (const origin of ORIGINS) {
      const [fr, fc] = flipsOf(origin);
      const xFlipped = flip(p.x, fr, fc);
      const direct = weft.rnn2d.forward({ ...base, origin });
      const viaFlip = weft.rnn2d.forward({ ...base, x: xFlipped });
      expectClose(direct.h.data, flipGrid(viaFlip.h.data, shape, fr, fc), tol, `h ${origin}`);
      expectClose(direct.c.data, flipGrid(viaFlip.c.data, shape, fr, fc), tol, `c ${origin}`);
      const gDirect = weft.rnn2d.backward({ ...base, origin, h: direct.h, c: direct.c, dh, dc });
      const gFlip = weft.rnn2d.backward({ ...base, x: xFlipped, h: viaFlip.h, c: viaFlip.c, dh: flip(dh, fr, fc), dc: flip(dc, fr, fc) });
      expectClose(gDirect.dx.data, flipGrid(gFlip.dx.data, p.x.shape, fr, fc), tol, `dx ${origin}`);
      for (const key of ['dwIn', 'dwLeft', 'dwTop', 'dbias'] as const) {
        expectClose(gDirect[key].data, gFlip[key].data, { atol: 1e-5, rtol: 1e-5 }, `${key} ${origin}`);
      }
    }
    const tl = weft.rnn2d.forward({ ...base, origin: 'top-left' }).h.data;
    const br = weft.rnn2d.forward({ ...base, origin: 'bottom-right' }).h.data;
    expect(Math.max(...tl.map((v, k) => Math.abs(v - br[k])))).toBeGreaterThan(0.05);
  });

  it('returnGates: the forward returns z, and the backward from it equals the recomputing one', () => {
    const dims = [2, 5, 4, 3, 7];
    const p = randomParams(weft, dims, 61);
    const args = { ...p, cell: 'lstm' as const, origin: 'bottom-right' as const };
    const plain = weft.rnn2d.forward(args);
    expect(plain.gates).toBeUndefined();
    const saved = weft.rnn2d.forward({ ...args, returnGates: true });
    expect(saved.h.data).toEqual(plain.h.data);
    expect(saved.gates!.shape).toEqual([2, 5, 4, 35]);
    // z of the bottom-right cell (b = 0) by hand from the reference's h: its neighbours are
    // the cells right of and below it in memory
    const [B, H, W, C, D] = dims;
    const ref = referenceForward(p, 'bottom-right');
    const cell = (H - 1) * W + (W - 2); // memory (0, H-1, W-2): left neighbour in scan order is (0, H-1, W-1)
    const want = new Float64Array(5 * D);
    for (let n = 0; n < 5 * D; n++) {
      let z = p.bias!.data[n];
      for (let k = 0; k < C; k++) z += p.wIn.data[n * C + k] * p.x.data[cell * C + k];
      for (let k = 0; k < D; k++) z += p.wLeft.data[n * D + k] * ref.h[(cell + 1) * D + k];
      want[n] = z;
    }
    expectClose(saved.gates!.data.subarray(cell * 5 * D, (cell + 1) * 5 * D), want, forwardTolerance(C, D), 'z of one cell');
    void B;
    const dh = weft.randn(plain.h.shape, 3), dc = weft.randn(plain.h.shape, 4);
    const recomputed = weft.rnn2d.backward({ ...args, h: plain.h, c: plain.c, dh, dc });
    const fromGates = weft.rnn2d.backward({ ...args, ...saved, dh, dc });
    for (const key of GRADIENTS) {
      if (label === 'js') expectClose(fromGates[key].data, recomputed[key].data, { atol: 1e-6, rtol: 1e-5 }, key);
      else expect(fromGates[key].data, key).toEqual(recomputed[key].data); // the same GEMMs: the same bits
    }
    expectWeftError(() => weft.rnn2d.backward({ ...args, ...saved, gates: weft.zeros([2, 5, 4, 28]), dh }), 'SHAPE', /gates must have shape \[2, 5, 4, 35\]/);
    const nanGates = saved.gates!.data.slice();
    nanGates[9] = NaN;
    expectWeftError(() => weft.rnn2d.backward({ ...args, ...saved, gates: weft.tensor(nanGates, saved.gates!.shape), dh }), 'RANGE', /gates: values must be finite/);
    expectWeftError(() => weft.rnn2d.forward({ ...args, returnGates: 1 } as never), 'OPTION', /returnGates/);
    expect(weft.memory().liveBytes).toBe(0);
  });

  it('handles empty grids, C = 0 and hid 0', () => {
    const p = randomParams(weft, [2, 3, 4, 0, 3], 3);
    const { h, c } = weft.rnn2d.forward({ ...p, cell: 'lstm' });
    expectClose(h.data, referenceForward(p).h, forwardTolerance(0, 3), 'h with C = 0');
    const g = weft.rnn2d.backward({ ...p, cell: 'lstm', h, c, dh: weft.randn(h.shape, 1) });
    expect(g.dx.shape).toEqual([2, 3, 4, 0]);
    expect(g.dwIn.shape).toEqual([15, 0]);
    for (const dims of [[0, 3, 4, 2, 3], [2, 0, 4, 2, 3], [2, 3, 0, 2, 3], [1, 2, 2, 3, 0]]) {
      const q = randomParams(weft, dims, 4);
      const out = weft.rnn2d.forward({ ...q, cell: 'lstm' });
      expect(out.c.shape).toEqual([dims[0], dims[1], dims[2], dims[4]]);
      const gq = weft.rnn2d.backward({ ...q, cell: 'lstm', h: out.h, c: out.c, dh: out.h });
      expect(Array.from(gq.dbias.data)).toEqual(new Array(5 * dims[4]).fill(0));
      expect(gq.dx.data.every((v) => v === 0)).toBe(true);
    }
    expect(weft.memory().liveBytes).toBe(0);
  });

  it('counts parameters and flops with 5 gate blocks', () => {
    expect(weft.rnn2d.paramCount({ inputChannels: 3, hidden: 32, cell: 'lstm' })).toBe(5 * (32 * 3 + 2 * 32 * 32 + 32));
    expect(weft.rnn2d.paramCount({ inputChannels: 3, hidden: 32, cell: 'lstm', bias: false })).toBe(5 * (32 * 3 + 2 * 32 * 32));
    expect(weft.rnn2d.flops({ batch: 8, height: 64, width: 64, inputChannels: 3, hidden: 64, cell: 'lstm' })).toBe(
      2 * 8 * 64 * 64 * 5 * 64 * (3 + 128),
    );
    const p = randomParams(weft, [1, 2, 2, 5, 6], 1);
    const total = [p.wIn, p.wLeft, p.wTop, p.bias!].reduce((s, t) => s + t.data.length, 0);
    expect(weft.rnn2d.paramCount({ inputChannels: 5, hidden: 6, cell: 'lstm' })).toBe(total);
    expectWeftError(() => weft.rnn2d.paramCount({ inputChannels: 5, hidden: 6, cell: 'gru' as never }), 'OPTION', /cell.*"gru"/);
  });

  it('refuses a cell state that overflows float32 (forget gates near 1 sum both neighbours)', () => {
    // i = f_left = f_top = σ(30) ≈ 1, g = tanh(30) ≈ 1: c[i,j] = 1 + c[i,j-1] + c[i-1,j]
    // grows like binomial(i + j, i): past 3.4e38 on a 70 x 70 grid
    const n = 70;
    const args = {
      x: weft.zeros([1, n, n, 1]),
      wIn: weft.zeros([5, 1]),
      wLeft: weft.zeros([5, 1]),
      wTop: weft.zeros([5, 1]),
      bias: weft.tensor(new Float32Array([30, 30, 30, 30, 30]), [5]),
      cell: 'lstm' as const,
    };
    expectWeftError(() => weft.rnn2d.forward(args), 'RANGE', /rnn2d\.forward: c overflowed float32/);
    expect(weft.memory().liveBytes).toBe(0);
    const small = weft.rnn2d.forward({ ...args, x: weft.zeros([1, 3, 3, 1]) });
    expectClose(small.c.data, [1, 2, 3, 2, 5, 9, 3, 9, 19], { atol: 1e-5, rtol: 1e-6 }, 'c on 3x3');
  });

  it('rejects bad input with typed errors, leaks nothing and stays usable', () => {
    const p = randomParams(weft, [1, 3, 3, 2, 4], 31);
    const good = { ...p, cell: 'lstm' as const };
    const { h, c } = weft.rnn2d.forward(good);
    const dh = weft.randn(h.shape, 1);
    const fwd = (over: object) => () => weft.rnn2d.forward({ ...good, ...over } as never);
    const bwd = (over: object) => () => weft.rnn2d.backward({ ...good, h, c, dh, ...over } as never);
    // a 4-gate (1D LSTM) layout: the gate dimension is 4·hid, not 5·hid
    expectWeftError(fwd({ wIn: weft.zeros([16, 2]) }), 'SHAPE', /wIn must have shape \[20, 2\].*5 gate blocks/);
    expectWeftError(fwd({ wLeft: weft.zeros([16, 4]), wTop: weft.zeros([16, 4]) }), 'SHAPE', /wLeft must have shape \[20, 4\]/);
    expectWeftError(fwd({ wTop: weft.zeros([20, 5]) }), 'SHAPE', /wTop must have shape \[20, 4\]/);
    expectWeftError(fwd({ bias: weft.zeros([4]) }), 'SHAPE', /bias must have shape \[20\]/);
    // plain-cell weights with cell 'lstm', and lstm weights without it
    expectWeftError(fwd({ wIn: weft.zeros([4, 2]), wLeft: weft.zeros([4, 4]), wTop: weft.zeros([4, 4]) }), 'SHAPE', /5·hid/);
    expectWeftError(() => weft.rnn2d.forward({ ...p }), 'SHAPE', /wLeft must have shape \[20, 20\]/);
    expectWeftError(fwd({ activation: 'relu' }), 'OPTION', /activation applies to cell 'rnn' only/);
    expectWeftError(fwd({ cell: 'gru' }), 'OPTION', /cell.*"gru"/);
    expectWeftError(bwd({ c: undefined }), 'OPTION', /c \(the forward's cell state.*required for cell 'lstm'/);
    expectWeftError(bwd({ c: weft.zeros([1, 3, 3, 5]) }), 'SHAPE', /c must have shape \[1, 3, 3, 4\]/);
    expectWeftError(bwd({ dc: weft.zeros([1, 3, 4, 4]) }), 'SHAPE', /dc must have shape \[1, 3, 3, 4\]/);
    expectWeftError(bwd({ h: weft.tensor(h.data.map((v) => v * 50), h.shape) }), 'RANGE', /h: must be the forward's output.*lstm/);
    const nanC = c.data.slice();
    nanC[3] = NaN;
    expectWeftError(bwd({ c: weft.tensor(nanC, c.shape) }), 'RANGE', /c: values must be finite, got NaN at index 3/);
    const infDc = c.data.slice();
    infDc[1] = Infinity;
    expectWeftError(bwd({ dc: weft.tensor(infDc, c.shape) }), 'RANGE', /dc: values must be finite/);
    expectWeftError(
      () => weft.rnn2d.backward({ ...p, wIn: weft.zeros([4, 2]), wLeft: weft.zeros([4, 4]), wTop: weft.zeros([4, 4]), bias: undefined, h, c, dh }),
      'OPTION', /c, dc and gates belong to cell 'lstm'/,
    );
    expectWeftError(
      () => weft.rnn2d.forward({ ...p, wIn: weft.zeros([4, 2]), wLeft: weft.zeros([4, 4]), wTop: weft.zeros([4, 4]), bias: undefined, returnGates: true }),
      'OPTION', /returnGates applies to cell 'lstm' only/,
    );
    // 2048 * 2048 * 5 * 300 gate floats cannot exist: MEMORY before any work
    const wide = { x: weft.zeros([1, 2048, 2048, 1]), wIn: weft.zeros([1500, 1]), wLeft: weft.zeros([1500, 300]), wTop: weft.zeros([1500, 300]), cell: 'lstm' as const };
    expectWeftError(() => weft.rnn2d.forward(wide), 'MEMORY');
    expect(weft.memory().liveBytes).toBe(0);
    expect(weft.rnn2d.forward(good).c.data).toEqual(c.data);
  });
});
