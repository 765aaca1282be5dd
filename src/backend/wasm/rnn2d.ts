// WASM wrappers of assembly/rnn2d.ts: copy operands in, run the scan, copy results out.

import type { Rnn2dBackwardProblem, Rnn2dGradientArrays, Rnn2dProblem } from '../../ops/rnn2d.js';
import { activationCode } from '../../ops/activation.js';
import type { WasmContext } from './context.js';

export function rnn2dForwardWasm(ctx: WasmContext, p: Rnn2dProblem): Float32Array {
  const { kernels } = ctx;
  const { batch, height, width, channels, hidden } = p;
  return ctx.call((frame) => {
    const count = batch * height * width * hidden;
    const h = frame.allocF32(count, 'rnn2d h');
    const x = frame.input(p.x, 'rnn2d x');
    const wIn = frame.input(p.wIn, 'rnn2d wIn');
    const wLeft = frame.input(p.wLeft, 'rnn2d wLeft');
    const wTop = frame.input(p.wTop, 'rnn2d wTop');
    const bias = p.bias ? frame.input(p.bias, 'rnn2d bias') : 0;
    const scratch = frame.allocF32(kernels.rnn2dForwardScratchFloats(batch, height, width, channels, hidden), 'rnn2d scratch');
    kernels.rnn2dForward(
      batch, height, width, channels, hidden,
      x, wIn, wLeft, wTop, bias,
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
    const square = hidden * hidden;
    // parameter gradients accumulate in the kernel: start them at zero
    const dx = frame.allocF32(cells * channels, 'rnn2d dx');
    const dwIn = frame.allocZeroed(hidden * channels * 4, 'rnn2d dwIn');
    const dwLeft = frame.allocZeroed(square * 4, 'rnn2d dwLeft');
    const dwTop = frame.allocZeroed(square * 4, 'rnn2d dwTop');
    const dbias = frame.allocZeroed(hidden * 4, 'rnn2d dbias');
    const x = frame.input(p.x, 'rnn2d x');
    const wIn = frame.input(p.wIn, 'rnn2d wIn');
    const wLeft = frame.input(p.wLeft, 'rnn2d wLeft');
    const wTop = frame.input(p.wTop, 'rnn2d wTop');
    const h = frame.input(p.h, 'rnn2d h');
    const dh = frame.input(p.dh, 'rnn2d dh');
    const scratch = frame.allocF32(kernels.rnn2dBackwardScratchFloats(batch, height, width, channels, hidden), 'rnn2d scratch');
    kernels.rnn2dBackward(
      batch, height, width, channels, hidden,
      x, wIn, wLeft, wTop, h, dh,
      activationCode(p.activation), p.flipRows ? 1 : 0, p.flipCols ? 1 : 0,
      dx, dwIn, dwLeft, dwTop, dbias, scratch,
    );
    return {
      dx: frame.readF32(dx, cells * channels),
      dwIn: frame.readF32(dwIn, hidden * channels),
      dwLeft: frame.readF32(dwLeft, square),
      dwTop: frame.readF32(dwTop, square),
      dbias: frame.readF32(dbias, hidden),
    };
  });
}
