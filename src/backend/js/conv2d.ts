// Pure-JS twin of assembly/conv2d.ts: the direct convolution loops, stride 1, zero padding.
// x, dx [B, H, W, C]; w, dw [O, KH, KW, C]; y, dy [B, OH, OW, O]. y and dx are written;
// dw and dbias are sums in f64, rounded to f32 once.

import { allocF32 } from '../../tensor.js';
import type { Conv2dBackwardProblem, Conv2dGradientArrays, Conv2dProblem } from '../../ops/conv2d.js';
import { activationDerivativeFromOutput, activationFn } from './activation.js';
import { allocF64 } from './scratch.js';
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

export function conv2dBackward(_call: Call, p: Conv2dBackwardProblem): Conv2dGradientArrays {
  const fn = 'conv2d.backward';
  const x = p.x.data, w = p.w.data, dy = p.dy.data, y = p.y?.data;
  const { batch, height, width, channels: C, outChannels: O, kernelH, kernelW, padTop, padLeft, outH, outW } = p;
  // dpre = dy * act'(pre), act' from the forward's output (identity: 1, y not given)
  const derivative = activationDerivativeFromOutput(p.activation);
  const dpre = allocF64(`${fn}: dpre`, dy.length);
  for (let i = 0; i < dy.length; i++) dpre[i] = y ? dy[i] * derivative(y[i]) : dy[i];
  const dx = allocF32(`${fn}: dx`, batch * height * width * C);
  const dw = allocF64(`${fn}: dw`, O * kernelH * kernelW * C);
  const dbias = new Float64Array(O);
  const dxPixel = new Float64Array(C);
  for (let b = 0; b < batch; b++)
    for (let oy = 0; oy < outH; oy++)
      for (let ox = 0; ox < outW; ox++)
        for (let o = 0; o < O; o++) {
          // forward: pre[b, oy, ox, o] = bias[o] + sum_{ky,kx,c} w[o, ky, kx, c] x[b, oy+ky-padTop, ox+kx-padLeft, c]
          const g = dpre[((b * outH + oy) * outW + ox) * O + o];
          dbias[o] += g;
          for (let ky = 0; ky < kernelH; ky++) {
            const iy = oy + ky - padTop;
            if (iy < 0 || iy >= height) continue;
            for (let kx = 0; kx < kernelW; kx++) {
              const ix = ox + kx - padLeft;
              if (ix < 0 || ix >= width) continue;
              const xBase = ((b * height + iy) * width + ix) * C;
              const wBase = ((o * kernelH + ky) * kernelW + kx) * C;
              for (let c = 0; c < C; c++) dw[wBase + c] += g * x[xBase + c];
            }
          }
        }
  for (let b = 0; b < batch; b++)
    for (let iy = 0; iy < height; iy++)
      for (let ix = 0; ix < width; ix++) {
        // dx[b, iy, ix, c] = sum_{ky,kx,o} dpre[b, iy-ky+padTop, ix-kx+padLeft, o] w[o, ky, kx, c]
        dxPixel.fill(0);
        for (let ky = 0; ky < kernelH; ky++) {
          const oy = iy - ky + padTop;
          if (oy < 0 || oy >= outH) continue;
          for (let kx = 0; kx < kernelW; kx++) {
            const ox = ix - kx + padLeft;
            if (ox < 0 || ox >= outW) continue;
            const dpreBase = ((b * outH + oy) * outW + ox) * O;
            for (let o = 0; o < O; o++) {
              const g = dpre[dpreBase + o];
              const wBase = ((o * kernelH + ky) * kernelW + kx) * C;
              for (let c = 0; c < C; c++) dxPixel[c] += g * w[wBase + c];
            }
          }
        }
        dx.set(dxPixel, ((b * height + iy) * width + ix) * C);
      }
  return { dx, dw: Float32Array.from(dw), dbias: Float32Array.from(dbias) };
}
