// weft.matmul: the family of the shared GEMM (validation, staging, the kernel).
// a: [M, K] or [B, M, K] ([.., K, M] with transposeA); b: [K, N] or [B, K, N]
// ([.., N, K] with transposeB); bias: [N]. A 2-D operand broadcasts over the batch.

import { WeftError, describe } from '../errors.js';
import { Tensor, checkElementCount, checkTensor } from '../tensor.js';
import { checkOptionsObject, optionalBoolean } from '../args.js';
import { bindOp, type Call, type OpBackend, type Staged } from './op.js';

/** One matmul, batch-strided: element (bi, m, k) of A at bi*aBatchStride + m*aRowStride + k*aColStride. */
export interface MatmulPlan {
  a: Float32Array;
  b: Float32Array;
  bias?: Float32Array;
  batch: number;
  M: number;
  N: number;
  K: number;
  aBatchStride: number;
  aRowStride: number;
  aColStride: number;
  bBatchStride: number;
  bRowStride: number;
  bColStride: number;
}

/** The plan with its operands staged: what the kernel gets. */
export interface MatmulProblem extends Omit<MatmulPlan, 'a' | 'b' | 'bias'> {
  a: Staged;
  b: Staged;
  bias?: Staged;
}

export interface MatmulKernels {
  /** C [batch, M, N] = A @ B (+ bias), fresh array. */
  matmul(call: Call, problem: MatmulProblem): Float32Array;
}

/**
 * weft.matmul: a [M, K] (or [B, M, K]) @ b [K, N] (or [B, K, N]) + bias [N] -> a fresh
 * [M, N] (or [B, M, N]). A 2-D operand broadcasts over the other's batch. SHAPE when the
 * inner dimensions or the batch sizes differ, or a is not of rank 2 or 3.
 */
export type MatmulFn = (a: Tensor, b: Tensor, options?: MatmulOptions) => Tensor;

/** Options of weft.matmul. */
export interface MatmulOptions {
  /** Treat a's last two dimensions as [K, M] (a transposed, as stored). Default false. */
  transposeA?: boolean;
  /** Treat b's last two dimensions as [N, K] (PyTorch's nn.Linear weight layout). Default false. */
  transposeB?: boolean;
  /** [N], added to every output row; default none. SHAPE unless its length is N. */
  bias?: Tensor;
}

/** Validate a matmul call and describe it as a strided problem plus its output shape. */
export function planMatmul(a: unknown, b: unknown, options: MatmulOptions = {}): { plan: MatmulPlan; shape: number[] } {
  const ta = checkTensor('matmul: a', a, [2, 3]);
  const tb = checkTensor('matmul: b', b, [2, 3]);
  options = checkOptionsObject('matmul', options);
  const transposeA = optionalBoolean('matmul: transposeA', options.transposeA, false);
  const transposeB = optionalBoolean('matmul: transposeB', options.transposeB, false);

  const [aRows, aCols] = ta.shape.slice(-2);
  const [bRows, bCols] = tb.shape.slice(-2);
  const M = transposeA ? aCols : aRows;
  const K = transposeA ? aRows : aCols;
  const Kb = transposeB ? bCols : bRows;
  const N = transposeB ? bRows : bCols;
  if (K !== Kb) {
    throw new WeftError(
      'SHAPE',
      `matmul: inner dimensions differ: a ${describe(ta.shape)}${transposeA ? ' (transposed)' : ''} has K = ${K}, ` +
        `b ${describe(tb.shape)}${transposeB ? ' (transposed)' : ''} has K = ${Kb}`,
    );
  }
  // a batch of 0 is a real (empty) batch, so batched-ness comes from the rank, not the size
  const aBatched = ta.shape.length === 3, bBatched = tb.shape.length === 3;
  if (aBatched && bBatched && ta.shape[0] !== tb.shape[0]) {
    throw new WeftError('SHAPE', `matmul: batch sizes differ: a has ${ta.shape[0]}, b has ${tb.shape[0]}`);
  }
  const batched = aBatched || bBatched;
  const batch = aBatched ? ta.shape[0] : bBatched ? tb.shape[0] : 1;

  let bias: Float32Array | undefined;
  if (options.bias !== undefined) {
    const tbias = checkTensor('matmul: bias', options.bias, [1]);
    if (tbias.shape[0] !== N) {
      throw new WeftError('SHAPE', `matmul: bias must have shape [${N}], got ${describe(tbias.shape)}`);
    }
    bias = tbias.data;
  }
  const shape = batched ? [batch, M, N] : [M, N];
  // Fail on impossible outputs before any work (MEMORY, not a crash later).
  checkElementCount('matmul: output', batch * M * N);
  return {
    shape,
    plan: {
      a: ta.data,
      b: tb.data,
      bias,
      batch,
      M,
      N,
      K,
      aBatchStride: aBatched ? M * K : 0,
      aRowStride: transposeA ? 1 : K,
      aColStride: transposeA ? M : 1,
      bBatchStride: bBatched ? K * N : 0,
      bRowStride: transposeB ? 1 : N,
      bColStride: transposeB ? K : 1,
    },
  };
}

/**
 * weft.matmul on a backend. The operands are not scanned up front (for a 1 x 512 x 512
 * product the scan would cost more than the product): a non-finite operand shows in the
 * results, and the results check names it.
 */
export function createMatmul(backend: OpBackend<MatmulKernels>): MatmulFn {
  return bindOp(backend, 'matmul', (call, a: Tensor, b: Tensor, options?: MatmulOptions): Tensor => {
    const { plan, shape } = planMatmul(a, b, options);
    const problem: MatmulProblem = {
      a: call.stage(plan.a, 'a'),
      b: call.stage(plan.b, 'b'),
      bias: plan.bias && call.stage(plan.bias, 'bias'),
      batch: plan.batch, M: plan.M, N: plan.N, K: plan.K,
      aBatchStride: plan.aBatchStride, aRowStride: plan.aRowStride, aColStride: plan.aColStride,
      bBatchStride: plan.bBatchStride, bRowStride: plan.bRowStride, bColStride: plan.bColStride,
    };
    return { data: backend.kernels.matmul(call, problem), shape };
  }, ['a', 'b', 'options']);
}
