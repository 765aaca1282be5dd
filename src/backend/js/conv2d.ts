// Pure-JS twin of assembly/conv2d.ts: the direct convolution loops, stride 1, zero padding.
// x [B, H, W, C], w [O, KH, KW, C], y [B, OH, OW, O] (written).

import { allocF32 } from '../../tensor.js';
import type { Conv2dProblem } from '../../ops/conv2d.js';
import { activationFn } from './activation.js';
import type { Call } from '../types.js';

export function conv2dForward(_call: Call, p: Conv2dProblem): Float32Array {
  const x = p.x.data, w = p.w.data, bias = p.bias?.data;
  const { batch, height, width, channels: C, outChannels: O, kernelH, kernelW, padTop, padLeft, outH, outW } = p;
  const act = activationFn(p.activation);
  const y = allocF32('conv2d.forward: y', batch * outH * outW * O);
  for (let b = 0; b < batch; b++)
    for (let oy = 0; oy < outH; oy++)
      for (let ox = 0; ox < outW; ox++) {
        const out = ((b * outH + oy) * outW + ox) * O;
        for (let o = 0; o < O; o++) {
          // y[b, oy, ox, o] = act(bias[o] + sum_{ky,kx,c} w[o, ky, kx, c] x[b, oy+ky-padTop, ox+kx-padLeft, c])
          let s = bias ? bias[o] : 0;
          for (let ky = 0; ky < kernelH; ky++) {
            const iy = oy + ky - padTop;
            if (iy < 0 || iy >= height) continue;
            for (let kx = 0; kx < kernelW; kx++) {
              const ix = ox + kx - padLeft;
              if (ix < 0 || ix >= width) continue;
              const xBase = ((b * height + iy) * width + ix) * C;
              const wBase = ((o * kernelH + ky) * kernelW + kx) * C;
              for (let c = 0; c < C; c++) s += w[wBase + c] * x[xBase + c];
            }
          }
          y[out + o] = act(s);
        }
      }
  return y;
}
