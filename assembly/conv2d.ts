// conv2d forward, stride 1: y[b,oy,ox,o] = act(bias[o] + sum_{ky,kx,c} w[o,ky,kx,c] x[b, oy+ky-padTop, ox+kx-padLeft, c]),
// x = 0 outside the image (zero padding).
//
// Dimensions: B batch, H x W input, C input channels, O output channels, KH x KW kernel,
// OH x OW output. Layout (row-major, strides in elements): x [B, H, W, C],
// w [O, KH, KW, C], bias [O], y [B, OH, OW, O]. y is written (=).
//
// Scheme: im2col in chunks of GEMM_MC output pixels. A chunk's patch matrix
// [rows, KH*KW*C] (patch column k = (ky*KW + kx)*C + c, the order of w's last three
// axes) lives in scratch, so the whole of y is a handful of GEMMs with
// K = KH*KW*C against w^T packed once, without a full-size im2col buffer.
// For each (pixel, ky) the valid kx taps are one contiguous run of x: one copy.
// Scratch: conv2dForwardScratchFloats floats, caller-owned.
// Team: the threads pack their shares of w's panels, then take 128-pixel chunks, each
// with its own patch rows; a chunk's result does not depend on who computes it.

import { GEMM_MC, GEMM_NR, gemmPackBPanels, gemmPacked, gemmPackedAFloats } from "./gemm";
import { activateRowInPlace } from "./activation";
import { packedBFloats, regionAt, teamScratchFloats, threadRegionAt } from "./layout";
import { shareStart, teamBarrier, teamShareEnd, teamShareStart, teamSize, teamThread } from "./team";

// Scratch regions, in order (assembly/layout.ts): w^T packed (shared); each thread's
// chunk of patch rows and packed A.
const PACKED_W = 0, PATCHES = 1, PACK_A = 2, REGIONS = 3, FIRST_PRIVATE = PATCHES;

/** Floats of one region (f64 so an absurd size cannot wrap). */
function regionFloats(region: i32, channels: i32, outChannels: i32, kernelH: i32, kernelW: i32, _0: i32, _1: i32): f64 {
  const patch = <f64>kernelH * <f64>kernelW * <f64>channels;
  switch (region) {
    case PACKED_W: return packedBFloats(patch, outChannels);
    case PATCHES: return <f64>GEMM_MC * patch;
    case PACK_A: return <f64>gemmPackedAFloats();
  }
  return 0;
}

/** Floats of scratch conv2dForward needs on `threads` threads (f64 so an absurd size cannot wrap). */
export function conv2dForwardScratchFloats(channels: i32, outChannels: i32, kernelH: i32, kernelW: i32, threads: i32): f64 {
  return teamScratchFloats(regionFloats, FIRST_PRIVATE, REGIONS, threads, channels, outChannels, kernelH, kernelW, 0, 0);
}

/** y = act(conv(x, w) + bias), stride 1, zero padding padTop / padLeft. bias == 0: no bias. */
export function conv2dForward(
  batch: i32, height: i32, width: i32, channels: i32, outChannels: i32,
  kernelH: i32, kernelW: i32, padTop: i32, padLeft: i32, outH: i32, outW: i32,
  x: usize, w: usize, bias: usize, activation: i32, y: usize, scratch: usize,
): void {
  const patch = kernelH * kernelW * channels;
  const thread = teamThread();
  const packedW = regionAt(scratch, regionFloats, PACKED_W, channels, outChannels, kernelH, kernelW, 0, 0);
  const patches = threadRegionAt(scratch, regionFloats, FIRST_PRIVATE, REGIONS, PATCHES, thread, channels, outChannels, kernelH, kernelW, 0, 0);
  const packA = threadRegionAt(scratch, regionFloats, FIRST_PRIVATE, REGIONS, PACK_A, thread, channels, outChannels, kernelH, kernelW, 0, 0);
  const outBytes = <usize>outChannels << 2;
  const channelBytes = <usize>channels << 2;

  // B[k, o] = w[o, k] with k = (ky*KW + kx)*C + c, each thread its share of the panels
  const panels = (outChannels + GEMM_NR - 1) / GEMM_NR;
  gemmPackBPanels(patch, outChannels, w, 1, patch, packedW, shareStart(panels, teamSize(), thread), shareStart(panels, teamSize(), thread + 1));
  teamBarrier();

  const pixels = batch * outH * outW;
  const chunks = (pixels + GEMM_MC - 1) / GEMM_MC;
  for (let chunk = teamShareStart(chunks), end = teamShareEnd(chunks); chunk < end; chunk++) {
    const p0 = chunk * GEMM_MC;
    const rows = min(GEMM_MC, pixels - p0);
    for (let r = 0; r < rows; r++) {
      const pixel = p0 + r;
      const ox = pixel % outW, oy = (pixel / outW) % outH, b = pixel / (outW * outH);
      const ix0 = ox - padLeft;
      const kxLo = max(0, -ix0), kxHi = min(kernelW, width - ix0);
      const patchRow = patches + (<usize>(r * patch) << 2);
      for (let ky = 0; ky < kernelH; ky++) {
        const dst = patchRow + (<usize>(ky * kernelW) * channelBytes);
        const iy = oy + ky - padTop;
        if (iy < 0 || iy >= height || kxLo >= kxHi) {
          memory.fill(dst, 0, <usize>kernelW * channelBytes);
          continue;
        }
        memory.fill(dst, 0, <usize>kxLo * channelBytes);
        const src = x + (<usize>((b * height + iy) * width + ix0 + kxLo) * channelBytes);
        memory.copy(dst + <usize>kxLo * channelBytes, src, <usize>(kxHi - kxLo) * channelBytes);
        memory.fill(dst + <usize>kxHi * channelBytes, 0, <usize>(kernelW - kxHi) * channelBytes);
      }
    }
    const yChunk = y + (<usize>p0 * outBytes);
    if (bias != 0) {
      for (let r = 0; r < rows; r++) memory.copy(yChunk + <usize>r * outBytes, bias, outBytes);
    }
    gemmPacked(rows, outChannels, patch, patches, patch, 1, packedW, yChunk, outChannels, bias != 0, packA);
    activateRowInPlace(yChunk, rows * outChannels, activation);
  }
}
