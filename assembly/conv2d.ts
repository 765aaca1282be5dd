// conv2d, stride 1, forward and backward.
//   forward:  y[b,oy,ox,o] = act(pre[b,oy,ox,o]),
//             pre = bias[o] + sum_{ky,kx,c} w[o,ky,kx,c] x[b, oy+ky-padTop, ox+kx-padLeft, c],
//             x = 0 outside the image (zero padding).
//   backward, given the forward's y and dy = dL/dy:
//             dpre = dy * act'(pre), act' taken from y (assembly/activation.ts)
//             dbias[o]      += sum_p dpre[p, o]
//             dw[o, k]      += sum_p dpre[p, o] patch[p, k]
//             dx[b,iy,ix,c]  = sum_{ky,kx,o} dpre[b, iy-ky+padTop, ix-kx+padLeft, o] w[o,ky,kx,c]
//   (p an output pixel (b, oy, ox); patch[p, k] the forward's im2col row of p, below.)
//
// Dimensions: B batch, H x W input, C input channels, O output channels, KH x KW kernel,
// OH x OW output, P = B*OH*OW output pixels. Layout (row-major, strides in elements):
// x / dx [B, H, W, C], w / dw [O, KH, KW, C], bias / dbias [O], y / dy [B, OH, OW, O].
// y and dx are written (=); dw and dbias are accumulated (+=): the caller zeroes them.
//
// Scheme: im2col in chunks of output pixels. A chunk's patch matrix [rows, KH*KW*C]
// (patch column k = (ky*KW + kx)*C + c, the order of w's last three axes) lives in
// scratch, so the whole of y is a handful of GEMMs with K = KH*KW*C against w^T packed
// once, without a full-size im2col buffer. For each (pixel, ky) the valid kx taps are
// one contiguous run of x: one copy.
// The backward reuses both pieces:
//   - dx is itself a stride-1 convolution (convolveChunks): of dpre (zero outside
//     OH x OW) with the kernel flipped in both axes and transposed in channels,
//     wFlip[c, ky', kx', o] = w[o, KH-1-ky', KW-1-kx', c], padded KH-1-padTop above and
//     KW-1-padLeft left ('full' correlation for 'valid'). Each dx pixel is written once,
//     by one GEMM row: no scatter-add (col2im), so no races between threads.
//   - dw = dpre^T @ patches is a GEMM whose reduction runs over pixels: chunks of
//     GEMM_KC pixels' patch rows are built (im2colRows) and packed as the B operand,
//     and each chunk's product is added into dw, so every dw element is one chain over
//     the pixels in order.
// Scratch: conv2d{Forward,Backward}ScratchFloats floats, caller-owned.
//
// Team (assembly/team.ts). Forward: the threads pack their shares of w's panels, then
// take 128-pixel chunks, each with its own patch rows. Backward: (1) dpre and wFlip,
// rows split; (2) wFlip packed, panels split; (3) dbias, columns split (each column
// summed over every pixel in order); dw, the team builds each pixel chunk's patch rows
// together (double-buffered: one barrier a chunk), then each thread packs and
// multiplies its own panels of dw's columns (every dw element one chain over pixels, by
// one thread); (4) dx, 128-pixel chunks as in the forward. Every output is computed by
// one thread in the order one thread alone would use: the same bits for any team.

import { GEMM_KC, GEMM_MC, GEMM_NR, gemmPackBPanels, gemmPacked, gemmPackedAFloats, gemmPackedPanels } from "./gemm";
import { ACT_IDENTITY, activateRowInPlace, activationGradRowInPlace } from "./activation";
import { packedBFloats, regionAt, teamScratchFloats, threadRegionAt } from "./layout";
import { addRow } from "./rows";
import { shareStart, teamBarrier, teamShareEnd, teamShareStart, teamSize, teamThread } from "./team";

// Scratch regions of both directions, in order (assembly/layout.ts); a region one
// direction does not use is empty there. Shared: the packed B operand of the chunk loop
// (forward: w^T; backward: wFlip), the backward's dpre (empty with 'identity': dy is
// dpre), wFlip, the dw chunk's patch rows (two buffers) and packed panels. Each
// thread's own: its chunk of patch rows and packed A.
const PACKED_W = 0, DPRE = 1, W_FLIP = 2, DW_PATCHES = 3, DW_PACKED = 4, PATCHES = 5, PACK_A = 6, REGIONS = 7,
  FIRST_PRIVATE = PATCHES;

/**
 * Floats of one region (f64 so an absurd size cannot wrap). `dpreRows` is P when the
 * backward needs a dpre buffer, else 0; `backward` is 1 for the backward's layout.
 */
function regionFloats(region: i32, channels: i32, outChannels: i32, kernelH: i32, kernelW: i32, dpreRows: i32, backward: i32): f64 {
  const taps = <f64>kernelH * <f64>kernelW;
  const patch = taps * <f64>channels;
  // the chunk loop's convolution: forward x -> y, backward dpre -> dx (channels swapped)
  const loopPatch = backward ? taps * <f64>outChannels : patch;
  const loopOut: f64 = backward ? channels : outChannels;
  switch (region) {
    case PACKED_W: return packedBFloats(loopPatch, loopOut);
    case DPRE: return <f64>dpreRows * <f64>outChannels;
    case W_FLIP: return backward ? patch * <f64>outChannels : 0;
    case DW_PATCHES: return backward ? 2 * <f64>GEMM_KC * patch : 0;
    case DW_PACKED: return backward ? packedBFloats(GEMM_KC, patch) : 0;
    case PATCHES: return <f64>GEMM_MC * loopPatch;
    case PACK_A: return <f64>gemmPackedAFloats();
  }
  return 0;
}

/** Floats of scratch conv2dForward needs on `threads` threads (f64 so an absurd size cannot wrap). */
export function conv2dForwardScratchFloats(channels: i32, outChannels: i32, kernelH: i32, kernelW: i32, threads: i32): f64 {
  return teamScratchFloats(regionFloats, FIRST_PRIVATE, REGIONS, threads, channels, outChannels, kernelH, kernelW, 0, 0);
}

/**
 * Floats of scratch conv2dBackward needs on `threads` threads for P = `pixels` output
 * pixels (f64 so an absurd size cannot wrap).
 */
export function conv2dBackwardScratchFloats(
  channels: i32, outChannels: i32, kernelH: i32, kernelW: i32, pixels: i32, activation: i32, threads: i32,
): f64 {
  const dpreRows = activation == ACT_IDENTITY ? 0 : pixels;
  return teamScratchFloats(regionFloats, FIRST_PRIVATE, REGIONS, threads, channels, outChannels, kernelH, kernelW, dpreRows, 1);
}

/**
 * patches[r, k] = x[b, oy+ky-padTop, ox+kx-padLeft, c] for the output pixels
 * first + r = (b, oy, ox), r < rows, k = (ky*KW + kx)*C + c; 0 outside the image.
 * Patch rows are KH*KW*C floats, contiguous.
 */
function im2colRows(
  first: i32, rows: i32, height: i32, width: i32, channels: i32, kernelH: i32, kernelW: i32,
  padTop: i32, padLeft: i32, outH: i32, outW: i32, x: usize, patches: usize,
): void {
  const channelBytes = <usize>channels << 2;
  const patchBytes = <usize>(kernelH * kernelW) * channelBytes;
  for (let r = 0; r < rows; r++) {
    const pixel = first + r;
    const ox = pixel % outW, oy = (pixel / outW) % outH, b = pixel / (outW * outH);
    const ix0 = ox - padLeft;
    const kxLo = max(0, -ix0), kxHi = min(kernelW, width - ix0);
    const patchRow = patches + <usize>r * patchBytes;
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
}

/**
 * y = act(conv(x, w) + bias) for this thread's 128-pixel chunks, with w^T already packed
 * (packedW: B[k, o] = w[o, k]). bias == 0: no bias. `patches` and `packA` are this thread's.
 */
function convolveChunks(
  batch: i32, height: i32, width: i32, channels: i32, outChannels: i32,
  kernelH: i32, kernelW: i32, padTop: i32, padLeft: i32, outH: i32, outW: i32,
  x: usize, packedW: usize, bias: usize, activation: i32, y: usize, patches: usize, packA: usize,
): void {
  const patch = kernelH * kernelW * channels;
  const outBytes = <usize>outChannels << 2;
  const pixels = batch * outH * outW;
  const chunks = (pixels + GEMM_MC - 1) / GEMM_MC;
  for (let chunk = teamShareStart(chunks), end = teamShareEnd(chunks); chunk < end; chunk++) {
    const p0 = chunk * GEMM_MC;
    const rows = min(GEMM_MC, pixels - p0);
    im2colRows(p0, rows, height, width, channels, kernelH, kernelW, padTop, padLeft, outH, outW, x, patches);
    const yChunk = y + (<usize>p0 * outBytes);
    if (bias != 0) {
      for (let r = 0; r < rows; r++) memory.copy(yChunk + <usize>r * outBytes, bias, outBytes);
    }
    gemmPacked(rows, outChannels, patch, patches, patch, 1, packedW, yChunk, outChannels, bias != 0, packA);
    activateRowInPlace(yChunk, rows * outChannels, activation);
  }
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

  // B[k, o] = w[o, k] with k = (ky*KW + kx)*C + c, each thread its share of the panels
  const panels = (outChannels + GEMM_NR - 1) / GEMM_NR;
  gemmPackBPanels(patch, outChannels, w, 1, patch, packedW, shareStart(panels, teamSize(), thread), shareStart(panels, teamSize(), thread + 1));
  teamBarrier();
  convolveChunks(batch, height, width, channels, outChannels, kernelH, kernelW, padTop, padLeft, outH, outW, x, packedW, bias, activation, y, patches, packA);
}

/**
 * Gradients of conv2dForward (see the file header). y (the forward's output) is read
 * only when activation is not identity (pass 0 then). Writes dx [B, H, W, C]; adds into
 * dw [O, KH, KW, C] and dbias [O].
 */
export function conv2dBackward(
  batch: i32, height: i32, width: i32, channels: i32, outChannels: i32,
  kernelH: i32, kernelW: i32, padTop: i32, padLeft: i32, outH: i32, outW: i32,
  x: usize, w: usize, y: usize, dy: usize, activation: i32,
  dx: usize, dw: usize, dbias: usize, scratch: usize,
): void {
  const pixels = batch * outH * outW;
  const taps = kernelH * kernelW;
  const patch = taps * channels, flipPatch = taps * outChannels;
  const thread = teamThread(), size = teamSize();
  const dpreRows = activation == ACT_IDENTITY ? 0 : pixels;
  const packedFlip = regionAt(scratch, regionFloats, PACKED_W, channels, outChannels, kernelH, kernelW, dpreRows, 1);
  const wFlip = regionAt(scratch, regionFloats, W_FLIP, channels, outChannels, kernelH, kernelW, dpreRows, 1);
  const dwPatches = regionAt(scratch, regionFloats, DW_PATCHES, channels, outChannels, kernelH, kernelW, dpreRows, 1);
  const dwPacked = regionAt(scratch, regionFloats, DW_PACKED, channels, outChannels, kernelH, kernelW, dpreRows, 1);
  const patches = threadRegionAt(scratch, regionFloats, FIRST_PRIVATE, REGIONS, PATCHES, thread, channels, outChannels, kernelH, kernelW, dpreRows, 1);
  const packA = threadRegionAt(scratch, regionFloats, FIRST_PRIVATE, REGIONS, PACK_A, thread, channels, outChannels, kernelH, kernelW, dpreRows, 1);
  const outBytes = <usize>outChannels << 2, channelBytes = <usize>channels << 2;

  // 1. dpre = dy * act'(y) (with identity dy is dpre), and wFlip, this thread's rows of each
  let dpre = dy;
  if (activation != ACT_IDENTITY) {
    dpre = regionAt(scratch, regionFloats, DPRE, channels, outChannels, kernelH, kernelW, dpreRows, 1);
    const r0 = teamShareStart(pixels), r1 = teamShareEnd(pixels);
    const offset = <usize>r0 * outBytes;
    memory.copy(dpre + offset, dy + offset, <usize>(r1 - r0) * outBytes);
    activationGradRowInPlace(dpre + offset, y + offset, (r1 - r0) * outChannels, activation);
  }
  // wFlip[(ky'*KW + kx')*O + o, c] = w[o, KH-1-ky', KW-1-kx', c]: the flipped tap is taps-1-tap
  for (let row = teamShareStart(flipPatch), end = teamShareEnd(flipPatch); row < end; row++) {
    const o = row % outChannels, tap = row / outChannels;
    memory.copy(wFlip + <usize>row * channelBytes, w + <usize>(o * taps + taps - 1 - tap) * channelBytes, channelBytes);
  }
  teamBarrier();
  // 2. wFlip as the B operand of dx's convolution, [KH*KW*O, C] row-major, each thread its panels
  const flipPanels = (channels + GEMM_NR - 1) / GEMM_NR;
  gemmPackBPanels(flipPatch, channels, wFlip, channels, 1, packedFlip, shareStart(flipPanels, size, thread), shareStart(flipPanels, size, thread + 1));
  teamBarrier();

  // 3. forward: pre[p, o] = bias[o] + sum_k w[o, k] patch[p, k]
  // dbias[o] += sum_p dpre[p, o]: this thread's columns, every pixel in order
  const n0 = teamShareStart(outChannels), n1 = teamShareEnd(outChannels);
  if (n1 > n0) {
    for (let p = 0; p < pixels; p++) addRow(dbias + (<usize>n0 << 2), dpre + <usize>p * outBytes + (<usize>n0 << 2), n1 - n0);
  }
  // dw[o, k] += sum_p dpre[p, o] patch[p, k]: A = dpre^T (element (o, p) at o + p*O), B = a
  // chunk's patch rows; this thread's panels of dw's columns, every chunk in order
  const dwPanels = (patch + GEMM_NR - 1) / GEMM_NR;
  const q0 = shareStart(dwPanels, size, thread), q1 = shareStart(dwPanels, size, thread + 1);
  const patchBytes = <usize>patch << 2;
  const chunks = (pixels + GEMM_KC - 1) / GEMM_KC;
  for (let chunk = 0; chunk < chunks; chunk++) {
    const p0 = chunk * GEMM_KC, kc = min(GEMM_KC, pixels - p0);
    // two buffers: building chunk c+1 overwrites chunk c-1's, which every thread has
    // packed before it reached chunk c's barrier
    const buffer = dwPatches + <usize>(chunk & 1) * <usize>GEMM_KC * patchBytes;
    const r0 = shareStart(kc, size, thread), r1 = shareStart(kc, size, thread + 1);
    im2colRows(p0 + r0, r1 - r0, height, width, channels, kernelH, kernelW, padTop, padLeft, outH, outW, x, buffer + <usize>r0 * patchBytes);
    teamBarrier();
    if (q1 > q0) {
      gemmPackBPanels(kc, patch, buffer, patch, 1, dwPacked, q0, q1);
      gemmPackedPanels(outChannels, patch, kc, dpre + <usize>p0 * outBytes, 1, outChannels, dwPacked, dw, patch, true, packA, q0, q1);
    }
  }

  // 4. dx = conv(dpre, wFlip), 'full' padding, no bias or activation: this thread's chunks
  convolveChunks(
    batch, outH, outW, outChannels, channels, kernelH, kernelW, kernelH - 1 - padTop, kernelW - 1 - padLeft, height, width,
    dpre, packedFlip, 0, ACT_IDENTITY, dx, patches, packA,
  );
}
