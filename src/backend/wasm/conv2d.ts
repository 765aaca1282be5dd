// WASM wrapper of assembly/conv2d.ts: copy x, w, bias in, convolve, copy y out.

import type { Conv2dProblem } from '../../ops/conv2d.js';
import { activationCode } from '../../ops/activation.js';
import type { WasmContext } from './context.js';

export function conv2dForwardWasm(ctx: WasmContext, p: Conv2dProblem): Float32Array {
  const { kernels } = ctx;
  return ctx.call((frame) => {
    const count = p.batch * p.outH * p.outW * p.outChannels;
    const y = frame.allocF32(count, 'conv2d y');
    const x = frame.input(p.x, 'conv2d x');
    const w = frame.input(p.w, 'conv2d w');
    const bias = p.bias ? frame.input(p.bias, 'conv2d bias') : 0;
    const scratch = frame.allocF32(
      kernels.conv2dForwardScratchFloats(p.channels, p.outChannels, p.kernelH, p.kernelW),
      'conv2d scratch',
    );
    kernels.conv2dForward(
      p.batch, p.height, p.width, p.channels, p.outChannels,
      p.kernelH, p.kernelW, p.padTop, p.padLeft, p.outH, p.outW,
      x, w, bias, activationCode(p.activation), y, scratch,
    );
    return frame.readF32(y, count);
  });
}
