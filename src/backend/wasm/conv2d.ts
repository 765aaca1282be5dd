// WASM wrapper of assembly/conv2d.ts: convolve the staged operands, copy y out.

import type { Conv2dProblem } from '../../ops/conv2d.js';
import { activationCode } from '../../ops/activation.js';
import type { WasmCall } from './call.js';

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
  }, 2 * count * p.kernelH * p.kernelW * p.channels);
  return call.readF32(y, count);
}
