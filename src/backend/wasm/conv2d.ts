// WASM wrappers of assembly/conv2d.ts: convolve the staged operands, copy the results out.

import type { Conv2dBackwardProblem, Conv2dGradientArrays, Conv2dProblem } from '../../ops/conv2d.js';
import { activationCode } from '../../ops/activation.js';
import type { WasmCall } from './call.js';

/** Flops of the forward: 2 * P * O * KH * KW * C. */
function forwardFlops(p: Conv2dProblem): number {
  return 2 * p.batch * p.outH * p.outW * p.outChannels * p.kernelH * p.kernelW * p.channels;
}

export function conv2dForward(call: WasmCall, p: Conv2dProblem): Float32Array {
  const { exports, threads } = call;
  const count = p.batch * p.outH * p.outW * p.outChannels;
  const y = call.allocF32(count, 'conv2d y');
  const scratch = call.allocF32(
    exports.conv2dForwardScratchFloats({ channels: p.channels, outChannels: p.outChannels, kernelH: p.kernelH, kernelW: p.kernelW, threads }),
    'conv2d scratch',
  );
  call.run('conv2dForward', {
    batch: p.batch, height: p.height, width: p.width, channels: p.channels, outChannels: p.outChannels,
    kernelH: p.kernelH, kernelW: p.kernelW, padTop: p.padTop, padLeft: p.padLeft, outH: p.outH, outW: p.outW,
    x: call.address(p.x), w: call.address(p.w), bias: call.address(p.bias), activation: activationCode(p.activation), y, scratch,
  }, forwardFlops(p));
  return call.readF32(y, count);
}

export function conv2dBackward(call: WasmCall, p: Conv2dBackwardProblem): Conv2dGradientArrays {
  const { exports, threads } = call;
  const { batch, height, width, channels, outChannels, kernelH, kernelW } = p;
  const activation = activationCode(p.activation);
  const dxCount = batch * height * width * channels;
  const dwCount = outChannels * kernelH * kernelW * channels;
  const dx = call.allocF32(dxCount, 'conv2d dx');
  // parameter gradients accumulate in the kernel: start them at zero
  const dw = call.allocZeroed(dwCount * 4, 'conv2d dw');
  const dbias = call.allocZeroed(outChannels * 4, 'conv2d dbias');
  const pixels = batch * p.outH * p.outW;
  const scratch = call.allocF32(
    exports.conv2dBackwardScratchFloats({ channels, outChannels, kernelH, kernelW, pixels, activation, threads }),
    'conv2d scratch',
  );
  call.run('conv2dBackward', {
    batch, height, width, channels, outChannels, kernelH, kernelW, padTop: p.padTop, padLeft: p.padLeft, outH: p.outH, outW: p.outW,
    x: call.address(p.x), w: call.address(p.w), y: call.address(p.y), dy: call.address(p.dy), activation, dx, dw, dbias, scratch,
  }, forwardFlops(p) + 2 * dxCount * kernelH * kernelW * outChannels);
  return {
    dx: call.readF32(dx, dxCount),
    dw: call.readF32(dw, dwCount),
    dbias: call.readF32(dbias, outChannels),
  };
}
