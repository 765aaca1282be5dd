// WASM side of the similarity queries: the unit vectors live in one long-lived heap block
// (instance.heap.alloc) until dispose(), k-major ([dim, size]), and each query runs the
// shared GEMM (assembly/gemm.ts) on them where they lie. k-major because one query
// [1, dim] @ [dim, size] is then the GEMM's in-place mat-vec (fewer than 4 rows and a
// row-major B: no packing), which streams the table once; row-major rows would be a
// transposed B, which the GEMM packs first (a second copy of the table per query).
// A batch of queries (the analogy benchmark) is an ordinary packed GEMM over the
// table's first `limit` columns (row stride `size`).

import type { SimilarityTable } from '../../ops/skipgram/kernels.js';
import { WeftError } from '../../errors.js';
import type { WasmInstance } from './call.js';
import { matmulAt } from './gemm.js';

/** Rows and columns transposed per block: V = 100K, dim 100: 28 ms at 16 x 16, 33 unblocked, 73 at 64 x 64. */
const TRANSPOSE_BLOCK = 16;

class WasmSimilarityTable implements SimilarityTable {
  private readonly address: number;
  private disposed = false;

  constructor(private readonly instance: WasmInstance, unitRows: Float32Array, readonly size: number, readonly dim: number) {
    this.address = instance.heap.alloc(size * dim * 4, 'similarity table (unit vectors)');
    const table = new Float32Array(instance.memory.buffer, this.address, size * dim);
    // table[k, v] = unitRows[v, k], in square blocks
    for (let v0 = 0; v0 < size; v0 += TRANSPOSE_BLOCK) {
      const v1 = Math.min(size, v0 + TRANSPOSE_BLOCK);
      for (let k0 = 0; k0 < dim; k0 += TRANSPOSE_BLOCK) {
        const k1 = Math.min(dim, k0 + TRANSPOSE_BLOCK);
        for (let v = v0; v < v1; v++) for (let k = k0; k < k1; k++) table[k * size + v] = unitRows[v * dim + k];
      }
    }
  }

  scores(queries: Float32Array, count: number, limit: number): Float32Array {
    if (this.disposed) throw new WeftError('UNSUPPORTED', 'similarity table: it was disposed');
    const { size, dim } = this;
    return this.instance.call((call) =>
      matmulAt(call, {
        batch: 1, M: count, N: limit, K: dim,
        aBatchStride: 0, aRowStride: dim, aColStride: 1,
        bBatchStride: 0, bRowStride: size, bColStride: 1,
      }, call.input(queries, 'similarity queries'), this.address, 0),
    );
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.instance.heap.free(this.address);
  }
}

export function similarityTable(instance: WasmInstance, unitRows: Float32Array, size: number, dim: number): SimilarityTable {
  return new WasmSimilarityTable(instance, unitRows, size, dim);
}
