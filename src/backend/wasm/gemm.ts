// WASM wrapper of assembly/gemm.ts: pack and multiply the staged operands, copy C out.

import type { MatmulProblem } from '../../ops/matmul.js';
import type { WasmCall } from './call.js';

/** A matmul's sizes and strides (elements), without its operands. */
export type MatmulLayout = Omit<MatmulProblem, 'a' | 'b' | 'bias'>;

export function matmul(call: WasmCall, p: MatmulProblem): Float32Array {
  return matmulAt(call, p, call.address(p.a), call.address(p.b), call.address(p.bias));
}

/**
 * C = A @ B (+ bias) on operands already in WASM memory (addresses; bias 0 for none):
 * staged inputs, or tables that live there (src/backend/wasm/similarity.ts).
 */
export function matmulAt(call: WasmCall, p: MatmulLayout, a: number, b: number, bias: number): Float32Array {
  const { exports, threads } = call;
  const out = p.batch * p.M * p.N;
  const c = call.allocF32(out, 'matmul output');
  // per-thread scratch: packed A always, packed B (if any) per thread when every batch item has its own B
  const packBs = p.bBatchStride !== 0 && p.batch > 1 ? threads : 1;
  const packBFloats = exports.matmulPackBFloats({ M: p.M, N: p.N, K: p.K, bCol: p.bColStride });
  call.run('matmul', {
    batch: p.batch, M: p.M, N: p.N, K: p.K,
    a, aBatch: p.aBatchStride, aRow: p.aRowStride, aCol: p.aColStride,
    b, bBatch: p.bBatchStride, bRow: p.bRowStride, bCol: p.bColStride,
    bias, c,
    packB: call.allocF32(packBs * packBFloats, 'matmul packed B'),
    packA: call.allocF32(threads * exports.gemmPackedAFloats(), 'matmul packed A'),
  }, 2 * out * p.K);
  return call.readF32(c, out);
}
