// Pure-JS twin of src/backend/wasm/similarity.ts: the unit vectors k-major ([dim, size])
// in a Float32Array, each query the JS GEMM (src/backend/js/gemm.ts) over them, whose
// i-k-j loop then walks the table's rows contiguously.

import type { SimilarityTable } from '../../ops/skipgram/kernels.js';
import type { Call, Staged } from '../types.js';
import { WeftError } from '../../errors.js';
import { maxAbsJs } from '../../tensor.js';
import { matmul } from './gemm.js';

/** An operand for the JS GEMM, which reads its `data` in place (as the JS backend stages). */
function operand(data: Float32Array): Staged {
  return { data, maxAbs: () => maxAbsJs(data) };
}

const call: Call = { stage: operand, scannedFinite: () => false };

class JsSimilarityTable implements SimilarityTable {
  private table?: Float32Array;

  constructor(unitRows: Float32Array, readonly size: number, readonly dim: number) {
    const table = new Float32Array(size * dim);
    for (let v = 0; v < size; v++) for (let k = 0; k < dim; k++) table[k * size + v] = unitRows[v * dim + k];
    this.table = table;
  }

  scores(queries: Float32Array, count: number, limit: number): Float32Array {
    if (!this.table) throw new WeftError('UNSUPPORTED', 'similarity table: it was disposed');
    const { size, dim } = this;
    return matmul(call, {
      a: operand(queries), b: operand(this.table),
      batch: 1, M: count, N: limit, K: dim,
      aBatchStride: 0, aRowStride: dim, aColStride: 1,
      bBatchStride: 0, bRowStride: size, bColStride: 1,
    });
  }

  dispose(): void {
    this.table = undefined;
  }
}

export function similarityTable(unitRows: Float32Array, size: number, dim: number): SimilarityTable {
  return new JsSimilarityTable(unitRows, size, dim);
}
