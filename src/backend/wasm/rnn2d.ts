// WASM wrappers of assembly/rnn2d.ts: run the scan on the staged operands, copy results out.

import type { Rnn2dBackwardProblem, Rnn2dGradientArrays, Rnn2dProblem } from '../../ops/rnn2d.js';
import { activationCode } from '../../ops/activation.js';
import type { WasmCall } from './call.js';

// Argument objects are written out in full at each call (object spread into a kernel's
// arguments cost ~1 us a call: 3.5 -> 9.3 us for a 2x2 grid).

function sizes(p: Rnn2dProblem, threads: number) {
  return { batch: p.batch, height: p.height, width: p.width, channels: p.channels, hidden: p.hidden, threads };
}

/** Flops of a forward (the backward does about twice as many). */
function forwardFlops(p: Rnn2dProblem): number {
  return 2 * p.batch * p.height * p.width * p.hidden * (p.channels + 2 * p.hidden);
}

export function rnn2dForward(call: WasmCall, p: Rnn2dProblem): Float32Array {
  const { exports } = call;
  const count = p.batch * p.height * p.width * p.hidden;
  const h = call.allocF32(count, 'rnn2d h');
  const scratch = call.allocF32(exports.rnn2dForwardScratchFloats(sizes(p, call.threads)), 'rnn2d scratch');
  call.run('rnn2dForward', {
    batch: p.batch, height: p.height, width: p.width, channels: p.channels, hidden: p.hidden,
    x: call.address(p.x), wIn: call.address(p.wIn), wLeft: call.address(p.wLeft), wTop: call.address(p.wTop),
    bias: call.address(p.bias), activation: activationCode(p.activation), flipRows: p.flipRows, flipCols: p.flipCols, h, scratch,
  }, forwardFlops(p));
  return call.readF32(h, count);
}

export function rnn2dBackward(call: WasmCall, p: Rnn2dBackwardProblem): Rnn2dGradientArrays {
  const { exports } = call;
  const { batch, height, width, channels, hidden } = p;
  const cells = batch * height * width;
  const square = hidden * hidden;
  // parameter gradients accumulate in the kernel: start them at zero
  const dx = call.allocF32(cells * channels, 'rnn2d dx');
  const dwIn = call.allocZeroed(hidden * channels * 4, 'rnn2d dwIn');
  const dwLeft = call.allocZeroed(square * 4, 'rnn2d dwLeft');
  const dwTop = call.allocZeroed(square * 4, 'rnn2d dwTop');
  const dbias = call.allocZeroed(hidden * 4, 'rnn2d dbias');
  const scratch = call.allocF32(exports.rnn2dBackwardScratchFloats(sizes(p, call.threads)), 'rnn2d scratch');
  call.run('rnn2dBackward', {
    batch, height, width, channels, hidden,
    x: call.address(p.x), wIn: call.address(p.wIn), wLeft: call.address(p.wLeft), wTop: call.address(p.wTop),
    h: call.address(p.h), dh: call.address(p.dh), activation: activationCode(p.activation), flipRows: p.flipRows, flipCols: p.flipCols,
    dx, dwIn, dwLeft, dwTop, dbias, scratch,
  }, 2 * forwardFlops(p));
  return {
    dx: call.readF32(dx, cells * channels),
    dwIn: call.readF32(dwIn, hidden * channels),
    dwLeft: call.readF32(dwLeft, square),
    dwTop: call.readF32(dwTop, square),
    dbias: call.readF32(dbias, hidden),
  };
}
