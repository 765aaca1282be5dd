// WASM wrappers of assembly/rnn2d.ts: copy operands in, run the scan, copy results out.
// wLeft and wTop travel as one [2, D, D] buffer: stacked, they are the backward's
// [wLeft; wTop] GEMM operand as is.

import type { Rnn2dBackwardProblem, Rnn2dGradientArrays, Rnn2dProblem } from '../../ops/rnn2d.js';
import { activationCode } from '../../ops/activation.js';
import type { CallFrame } from './frame.js';
import type { WasmContext } from './context.js';

function stackedRecurrentWeights(frame: CallFrame, p: Rnn2dProblem): number {
  const stacked = new Float32Array(2 * p.hidden * p.hidden);
  stacked.set(p.wLeft);
  stacked.set(p.wTop, p.wLeft.length);
  return frame.input(stacked, 'rnn2d wLeft, wTop');
}

export function rnn2dForwardWasm(ctx: WasmContext, p: Rnn2dProblem): Float32Array {
  const { kernels } = ctx;
  const { batch, height, width, channels, hidden } = p;
  return ctx.call((frame) => {
    const count = batch * height * width * hidden;
    const h = frame.allocF32(count, 'rnn2d h');
    const x = frame.input(p.x, 'rnn2d x');
    const wIn = frame.input(p.wIn, 'rnn2d wIn');
    const wLeftTop = stackedRecurrentWeights(frame, p);
    const bias = p.bias ? frame.input(p.bias, 'rnn2d bias') : 0;
    const scratch = frame.allocF32(kernels.rnn2dForwardScratchFloats(batch, height, width, channels, hidden), 'rnn2d scratch');
    kernels.rnn2dForward(
      batch, height, width, channels, hidden,
      x, wIn, wLeftTop, bias,
      activationCode(p.activation), p.flipRows ? 1 : 0, p.flipCols ? 1 : 0,
      h, scratch,
    );
    return frame.readF32(h, count);
  });
}

export function rnn2dBackwardWasm(ctx: WasmContext, p: Rnn2dBackwardProblem): Rnn2dGradientArrays {
  const { kernels } = ctx;
  const { batch, height, width, channels, hidden } = p;
  return ctx.call((frame) => {
    const cells = batch * height * width;
    const dx = frame.allocF32(cells * channels, 'rnn2d dx');
    const dwIn = frame.allocZeroed(hidden * channels * 4, 'rnn2d dwIn');
    const dwLeftTop = frame.allocZeroed(2 * hidden * hidden * 4, 'rnn2d dwLeft, dwTop');
    const dbias = frame.allocZeroed(hidden * 4, 'rnn2d dbias');
    const x = frame.input(p.x, 'rnn2d x');
    const wIn = frame.input(p.wIn, 'rnn2d wIn');
    const wLeftTop = stackedRecurrentWeights(frame, p);
    const h = frame.input(p.h, 'rnn2d h');
    const dh = frame.input(p.dh, 'rnn2d dh');
    const scratch = frame.allocF32(kernels.rnn2dBackwardScratchFloats(batch, height, width, channels, hidden), 'rnn2d scratch');
    kernels.rnn2dBackward(
      batch, height, width, channels, hidden,
      x, wIn, wLeftTop, h, dh,
      activationCode(p.activation), p.flipRows ? 1 : 0, p.flipCols ? 1 : 0,
      dx, dwIn, dwLeftTop, dbias, scratch,
    );
    const square = hidden * hidden;
    return {
      dx: frame.readF32(dx, cells * channels),
      dwIn: frame.readF32(dwIn, hidden * channels),
      dwLeft: frame.readF32(dwLeftTop, square),
      dwTop: frame.readF32(dwLeftTop + square * 4, square),
      dbias: frame.readF32(dbias, hidden),
    };
  });
}
