// WASM wrapper of assembly/gemm.ts: pack and multiply the staged operands, copy C out.

import type { MatmulProblem } from '../../ops/matmul.js';
import type { WasmCall } from './call.js';

export function matmul(call: WasmCall, p: MatmulProblem): Float32Array {
  const { exports, threads } = call;
  const out = p.batch * p.M * p.N;
  const c = call.allocF32(out, 'matmul output');
  // per-thread scratch: packed A always, packed B when every batch item has its own B
  const packBs = p.bBatchStride !== 0 && p.batch > 1 ? threads : 1;
  call.run('matmul', {
    batch: p.batch, M: p.M, N: p.N, K: p.K,
    a: call.address(p.a), aBatch: p.aBatchStride, aRow: p.aRowStride, aCol: p.aColStride,
    b: call.address(p.b), bBatch: p.bBatchStride, bRow: p.bRowStride, bCol: p.bColStride,
    bias: call.address(p.bias), c,
    packB: call.allocF32(packBs * exports.gemmPackedBFloats({ K: p.K, N: p.N }), 'matmul packed B'),
    packA: call.allocF32(threads * exports.gemmPackedAFloats(), 'matmul packed A'),
  }, 2 * out * p.K);
  return call.readF32(c, out);
}
