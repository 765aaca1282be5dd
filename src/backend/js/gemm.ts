// Pure-JS twin of assembly/gemm.ts: C[b] = A[b] @ B[b] (+ bias), strided operands.
// The reference in tests and the baseline in benchmarks, so it is the plain
// algorithm written the way a careful JS programmer would (i-k-j order, so the
// inner loop walks C and B rows contiguously), not a deliberately slow one.

import { allocF32 } from '../../tensor.js';
import type { MatmulProblem } from '../../ops/matmul.js';
import type { Call } from '../types.js';

export function matmul(_call: Call, p: MatmulProblem): Float32Array {
  const { batch, M, N, K } = p;
  const a = p.a.data, b = p.b.data, bias = p.bias?.data;
  const c = allocF32('matmul: output', batch * M * N);
  for (let bi = 0; bi < batch; bi++) {
    const aBase = bi * p.aBatchStride;
    const bBase = bi * p.bBatchStride;
    const cBase = bi * M * N;
    for (let m = 0; m < M; m++) {
      const cRow = cBase + m * N;
      if (bias) for (let n = 0; n < N; n++) c[cRow + n] = bias[n];
      for (let k = 0; k < K; k++) {
        // c[m, :] += a[m, k] * b[k, :]
        const amk = a[aBase + m * p.aRowStride + k * p.aColStride];
        const bRow = bBase + k * p.bRowStride;
        const bCol = p.bColStride;
        for (let n = 0; n < N; n++) c[cRow + n] += amk * b[bRow + n * bCol];
      }
    }
  }
  return c;
}
