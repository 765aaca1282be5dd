// WASM wrapper of assembly/gemm.ts: copy operands in, pack and multiply, copy C out.

import type { MatmulProblem } from '../../ops/matmul.js';
import type { WasmContext } from './context.js';

export function matmulWasm(ctx: WasmContext, p: MatmulProblem): Float32Array {
  const { kernels } = ctx;
  return ctx.call((frame) => {
    const out = p.batch * p.M * p.N;
    const a = frame.input(p.a, 'matmul a');
    const b = frame.input(p.b, 'matmul b');
    const bias = p.bias ? frame.input(p.bias, 'matmul bias') : 0;
    const packB = frame.allocF32(kernels.gemmPackedBFloats(p.K, p.N), 'matmul packed B');
    const packA = frame.allocF32(kernels.gemmPackedAFloats(), 'matmul packed A');
    const c = frame.allocF32(out, 'matmul output');
    kernels.matmul(
      p.batch, p.M, p.N, p.K,
      a, p.aBatchStride, p.aRowStride, p.aColStride,
      b, p.bBatchStride, p.bRowStride, p.bColStride,
      bias, c, packB, packA,
    );
    return frame.readF32(c, out);
  });
}
