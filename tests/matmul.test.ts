import { beforeAll, describe, expect, it } from 'vitest';
import type { Weft } from '../src/index.js';
import { backendsUnderTest, dotTolerance, expectClose, expectWeftError, referenceMatmul } from './helpers.js';

describe.each(backendsUnderTest())('matmul on $label', ({ create }) => {
  let weft: Weft;
  beforeAll(async () => {
    weft = await create();
  });

  it('multiplies a hand-computed 2x3 @ 3x2', () => {
    const a = weft.tensor(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
    const b = weft.tensor(new Float32Array([7, 8, 9, 10, 11, 12]), [3, 2]);
    const c = weft.matmul(a, b);
    expect(c.shape).toEqual([2, 2]);
    expect(Array.from(c.data)).toEqual([58, 64, 139, 154]);
  });

  // Odd sizes cross every tail of the kernel: rows not a multiple of the 4-row
  // tile, columns not a multiple of the 8-wide panel, K across the 256 block.
  const sizes = [1, 3, 17, 129];
  for (const M of sizes)
    for (const N of sizes)
      for (const K of [1, 3, 17, 300]) {
        it(`matches the f64 reference at ${M}x${N}x${K}`, () => {
          const a = weft.randn([M, K], M * 1000 + K);
          const b = weft.randn([K, N], N * 1000 + K + 7);
          const c = weft.matmul(a, b);
          expect(c.shape).toEqual([M, N]);
          expectClose(c.data, referenceMatmul(a, b), dotTolerance(K), `C ${M}x${N}x${K}`);
        });
      }

  // 2 and 3 rows run the mat-vec of all rows at once (gemv_3x8): every column tail, a bias, a batch
  it('matches the f64 reference on 2 and 3 rows with bias, batched, at every column tail', () => {
    for (const M of [2, 3])
      for (const N of [1, 3, 4, 5, 8, 12, 33, 70]) {
        const K = 19;
        const a = weft.randn([2, M, K], M * 100 + N), b = weft.randn([K, N], N + 1), bias = weft.randn([N], N + 2);
        expectClose(weft.matmul(a, b, { bias }).data, referenceMatmul(a, b, { bias }), dotTolerance(K), `C ${M}x${N}x${K} batch 2 + bias`);
      }
  });

  // a B of 4M floats or more is streamed chunk by chunk (gemvStream_*), each element the same
  // fma chain as in the 32-column kernels: its columns have the bits of a narrow B's
  it('streams a large B for 1 to 3 rows with the bits of the in-cache mat-vec', () => {
    const K = 67, N = 70001, narrow = 1000;
    const b = weft.randn([K, N], 3);
    const bNarrow = { data: new Float32Array(K * narrow), shape: [K, narrow] };
    for (let k = 0; k < K; k++) bNarrow.data.set(b.data.subarray(k * N, k * N + narrow), k * narrow);
    const bias = weft.randn([N], 4), biasNarrow = { data: bias.data.slice(0, narrow), shape: [narrow] };
    for (const M of [1, 2, 3]) {
      const a = weft.randn([2, M, K], M);
      const wide = weft.matmul(a, b, { bias }), small = weft.matmul(a, bNarrow, { bias: biasNarrow });
      for (let r = 0; r < 2 * M; r++) {
        expect(Array.from(wide.data.subarray(r * N, r * N + narrow)), `${M} rows, row ${r}`).toEqual(Array.from(small.data.subarray(r * narrow, (r + 1) * narrow)));
      }
      const one = { data: a.data.subarray(0, M * K), shape: [M, K] };
      const ref = referenceMatmul(one, b, { bias });
      expectClose(wide.data.subarray(0, M * N), ref, dotTolerance(K), `C ${M}x${N}x${K} + bias, streamed`);
    }
  });

  it('handles transposeA, transposeB and both', () => {
    const [M, N, K] = [19, 13, 37];
    const aT = weft.randn([K, M], 1);
    const bT = weft.randn([N, K], 2);
    const a = weft.randn([M, K], 3);
    const b = weft.randn([K, N], 4);
    const tol = dotTolerance(K);
    expectClose(weft.matmul(aT, b, { transposeA: true }).data, referenceMatmul(aT, b, { transposeA: true }), tol, 'Aᵀ B');
    expectClose(weft.matmul(a, bT, { transposeB: true }).data, referenceMatmul(a, bT, { transposeB: true }), tol, 'A Bᵀ');
    const both = weft.matmul(aT, bT, { transposeA: true, transposeB: true });
    expect(both.shape).toEqual([M, N]);
    expectClose(both.data, referenceMatmul(aT, bT, { transposeA: true, transposeB: true }), tol, 'Aᵀ Bᵀ');
  });

  it('adds a bias to every row', () => {
    const a = weft.randn([5, 9], 5);
    const b = weft.randn([9, 11], 6);
    const bias = weft.randn([11], 7);
    const c = weft.matmul(a, b, { bias });
    expectClose(c.data, referenceMatmul(a, b, { bias }), dotTolerance(9), 'A B + bias');
  });

  it('batches 3-D operands and broadcasts a 2-D one', () => {
    const a3 = weft.randn([3, 6, 10], 8);
    const b3 = weft.randn([3, 10, 5], 9);
    const b2 = weft.randn([10, 5], 10);
    const a2 = weft.randn([6, 10], 11);
    const tol = dotTolerance(10);
    const both = weft.matmul(a3, b3);
    expect(both.shape).toEqual([3, 6, 5]);
    expectClose(both.data, referenceMatmul(a3, b3), tol, 'batched');
    expectClose(weft.matmul(a3, b2).data, referenceMatmul(a3, b2), tol, 'broadcast b');
    const bcastA = weft.matmul(a2, b3, { bias: weft.randn([5], 12) });
    expect(bcastA.shape).toEqual([3, 6, 5]);
    const b3T = weft.randn([3, 5, 10], 13);
    expectClose(
      weft.matmul(a3, b3T, { transposeB: true }).data,
      referenceMatmul(a3, b3T, { transposeB: true }),
      tol,
      'batched Bᵀ',
    );
  });

  it('takes the unpacked mat-vec path for M < 4 with bias, batches and transposed A', () => {
    for (const [M, N, K] of [[1, 37, 5], [3, 33, 17], [2, 70, 300]]) {
      const a = weft.randn([2, K, M], M + N);
      const b = weft.randn([2, K, N], K);
      const bias = weft.randn([N], 3);
      const options = { transposeA: true, bias };
      expectClose(weft.matmul(a, b, options).data, referenceMatmul(a, b, options), dotTolerance(K), `mat-vec ${M}x${N}x${K}`);
    }
  });

  it('returns zeros (or the bias) when K is 0, and empty outputs when M or N is 0', () => {
    const c = weft.matmul(weft.zeros([3, 0]), weft.zeros([0, 4]));
    expect(Array.from(c.data)).toEqual(new Array(12).fill(0));
    const bias = weft.tensor(new Float32Array([1, 2]), [2]);
    expect(Array.from(weft.matmul(weft.zeros([2, 0]), weft.zeros([0, 2]), { bias }).data)).toEqual([1, 2, 1, 2]);
    expect(weft.matmul(weft.zeros([0, 5]), weft.zeros([5, 3])).shape).toEqual([0, 3]);
  });

  it('keeps an empty batch empty: [0, M, K] @ [K, N] is [0, M, N], and batch sizes 0 vs 5 differ', () => {
    const empty = weft.matmul(weft.zeros([0, 2, 3]), weft.randn([3, 4], 1));
    expect(empty.shape).toEqual([0, 2, 4]);
    expect(empty.data.length).toBe(0);
    expect(weft.matmul(weft.randn([2, 3], 2), weft.zeros([0, 3, 4])).shape).toEqual([0, 2, 4]);
    expectWeftError(() => weft.matmul(weft.zeros([0, 2, 3]), weft.zeros([5, 3, 4])), 'SHAPE', /batch sizes differ: a has 0, b has 5/);
  });

  it('never mutates its inputs and returns fresh arrays', () => {
    const a = weft.randn([7, 7], 14);
    const b = weft.randn([7, 7], 15);
    const aCopy = a.data.slice(), bCopy = b.data.slice();
    const c1 = weft.matmul(a, b);
    const c2 = weft.matmul(a, b);
    expect(a.data).toEqual(aCopy);
    expect(b.data).toEqual(bCopy);
    expect(c1.data).not.toBe(c2.data);
    expect(c1.data).toEqual(c2.data);
    expect(c1.data.buffer.byteLength).toBe(c1.data.byteLength);
  });

  it('rejects bad operands with typed errors and stays usable', () => {
    const good = weft.randn([2, 3], 1);
    expectWeftError(() => weft.matmul(weft.zeros([2, 3, 4, 5]), good), 'SHAPE', /rank 2 or 3/);
    expectWeftError(() => weft.matmul(good, weft.zeros([4, 2])), 'SHAPE', /inner dimensions differ/);
    expectWeftError(() => weft.matmul(good, weft.zeros([3, 2]), [] as never), 'OPTION', /matmul: options must be an object, got \[\]/);
    expectWeftError(() => weft.matmul(weft.zeros([2, 2, 3]), weft.zeros([3, 3, 2])), 'SHAPE', /batch sizes differ/);
    expectWeftError(() => weft.matmul({ data: [1, 2, 3, 4, 5, 6], shape: [2, 3] } as never, good), 'DTYPE', /Float32Array/);
    expectWeftError(() => weft.matmul({ data: new Float64Array(6), shape: [2, 3] } as never, good), 'DTYPE');
    expectWeftError(() => weft.matmul(null as never, good), 'DTYPE');
    expectWeftError(() => weft.matmul({ data: new Float32Array(6), shape: [2, NaN] }, good), 'SHAPE', /integer/);
    expectWeftError(() => weft.matmul({ data: new Float32Array(6), shape: [-2, -3] }, good), 'SHAPE', /integer >= 0/);
    expectWeftError(() => weft.matmul({ data: new Float32Array(5), shape: [2, 3] }, good), 'SHAPE', /holds 6 elements/);
    expectWeftError(() => weft.matmul(good, weft.zeros([3, 2]), { bias: weft.zeros([3]) }), 'SHAPE', /bias/);
    expectWeftError(() => weft.matmul(good, weft.zeros([3, 2]), { transposeA: 'yes' as never }), 'OPTION');
    // an output of 2^34 floats (64 GiB) cannot exist: MEMORY, before any work
    expectWeftError(() => weft.matmul(weft.zeros([131072, 1]), weft.zeros([1, 131072])), 'MEMORY');
    // and the instance still works afterwards
    expect(Array.from(weft.matmul(weft.tensor(new Float32Array([2]), [1, 1]), weft.tensor(new Float32Array([3]), [1, 1])).data)).toEqual([6]);
  });
});
