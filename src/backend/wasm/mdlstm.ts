// WASM wrappers of assembly/mdlstm.ts: run the MD-LSTM scan on the staged operands, copy results out.

import type { Rnn2dBackwardProblem, Rnn2dGradientArrays, Rnn2dProblem } from '../../ops/rnn2d.js';
import type { WasmCall } from './call.js';

function sizes(p: Rnn2dProblem, threads: number) {
  return { batch: p.batch, height: p.height, width: p.width, channels: p.channels, hidden: p.hidden, threads };
}

/** Flops of a forward's GEMMs (the backward does about three times as many: it recomputes the gates). */
function forwardFlops(p: Rnn2dProblem): number {
  return 2 * p.batch * p.height * p.width * 5 * p.hidden * (p.channels + 2 * p.hidden);
}

export function mdlstmForward(call: WasmCall, p: Rnn2dProblem): { h: Float32Array; c: Float32Array; gates?: Float32Array } {
  const { exports } = call;
  const count = p.batch * p.height * p.width * p.hidden;
  const h = call.allocF32(count, 'rnn2d h');
  const c = call.allocF32(count, 'rnn2d c');
  const gates = p.returnGates ? call.allocF32(5 * count, 'rnn2d gates') : 0;
  const scratch = call.allocF32(exports.mdlstmForwardScratchFloats(sizes(p, call.threads)), 'rnn2d scratch');
  call.run('mdlstmForward', {
    batch: p.batch, height: p.height, width: p.width, channels: p.channels, hidden: p.hidden,
    x: call.address(p.x), wIn: call.address(p.wIn), wLeft: call.address(p.wLeft), wTop: call.address(p.wTop),
    bias: call.address(p.bias), flipRows: p.flipRows, flipCols: p.flipCols, h, c, gates, scratch,
  }, forwardFlops(p));
  const out = { h: call.readF32(h, count), c: call.readF32(c, count) };
  return gates ? { ...out, gates: call.readF32(gates, 5 * count) } : out;
}

export function mdlstmBackward(call: WasmCall, p: Rnn2dBackwardProblem): Rnn2dGradientArrays {
  const { exports } = call;
  const { batch, height, width, channels, hidden } = p;
  const cells = batch * height * width;
  const gates = 5 * hidden;
  // parameter gradients accumulate in the kernel: start them at zero
  const dx = call.allocF32(cells * channels, 'rnn2d dx');
  const dwIn = call.allocZeroed(gates * channels * 4, 'rnn2d dwIn');
  const dwLeft = call.allocZeroed(gates * hidden * 4, 'rnn2d dwLeft');
  const dwTop = call.allocZeroed(gates * hidden * 4, 'rnn2d dwTop');
  const dbias = call.allocZeroed(gates * 4, 'rnn2d dbias');
  const scratch = call.allocF32(exports.mdlstmBackwardScratchFloats(sizes(p, call.threads)), 'rnn2d scratch');
  call.run('mdlstmBackward', {
    batch, height, width, channels, hidden,
    x: call.address(p.x), wIn: call.address(p.wIn), wLeft: call.address(p.wLeft), wTop: call.address(p.wTop), bias: call.address(p.bias),
    h: call.address(p.h), c: call.address(p.c!), gates: call.address(p.gates), dh: call.address(p.dh), dc: call.address(p.dc), flipRows: p.flipRows, flipCols: p.flipCols,
    dx, dwIn, dwLeft, dwTop, dbias, scratch,
  }, (p.gates ? 2 : 3) * forwardFlops(p));
  return {
    dx: call.readF32(dx, cells * channels),
    dwIn: call.readF32(dwIn, gates * channels),
    dwLeft: call.readF32(dwLeft, gates * hidden),
    dwTop: call.readF32(dwTop, gates * hidden),
    dbias: call.readF32(dbias, gates),
  };
}
