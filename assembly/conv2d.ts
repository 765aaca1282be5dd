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
//     GEMM_KC pixels' patch rows are built (im2colRows, restricted to a window of
//     columns) and packed as the B operand, and each chunk's product is added into dw,
//     so every dw element is one chain over the pixels in order.
// Scratch: conv2d{Forward,Backward}ScratchFloats floats, caller-owned.
//
// Team (assembly/team.ts). Forward: the threads pack their shares of w's panels, then
// take 128-pixel chunks, each with its own patch rows. Backward: (1) dpre and wFlip,
// rows split; (2) wFlip packed, panels split; (3) dbias, columns split (each column
// summed over every pixel in order); dw, panels of its columns split: a thread builds
// only the patch columns of its own panels, in groups of DW_GROUP_PANELS, so dw needs
// no barrier and no shared buffer (a barrier a chunk cost up to a time slice whenever the
// other thread was descheduled, on a shared machine); (4) dx, 128-pixel chunks as in
// the forward. Two barriers in all. Every output is computed by one thread in the order
// one thread alone would use: the same bits for any team.

import { GEMM_KC, GEMM_MC, GEMM_NR, gemmPackB, gemmPackBPanels, gemmPacked, gemmPackedAFloats } from "./gemm";
import { ACT_IDENTITY, activateRowInPlace, activationGradRowInPlace } from "./activation";
import { packedBFloats, regionAt, teamScratchFloats, threadRegionAt } from "./layout";
import { addRow } from "./rows";
import { shareStart, teamBarrier, teamShareEnd, teamShareStart, teamSize, teamThread } from "./team";

// Scratch regions of both directions, in order (assembly/layout.ts); a region one
// direction does not use is empty there. Shared: the packed B operand of the chunk loop
// (forward: w^T; backward: wFlip), the backward's dpre (empty with 'identity': dy is
// dpre) and wFlip. Each thread's own: its chunk of patch rows and packed A, and the
// backward's dw patch columns (GEMM_KC pixels x one panel group) and their packed panels.
const PACKED_W = 0, DPRE = 1, W_FLIP = 2, PATCHES = 3, PACK_A = 4, DW_PATCHES = 5, DW_PACKED = 6, REGIONS = 7,
  FIRST_PRIVATE = PATCHES;

/** Panels of dw's columns a thread builds and multiplies at once (256 columns: 256 KB of patch columns a chunk). */
const DW_GROUP_PANELS: i32 = 32;

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
  const dwColumns = Math.min(patch, <f64>(DW_GROUP_PANELS * GEMM_NR));
  switch (region) {
    case PACKED_W: return packedBFloats(loopPatch, loopOut);
    case DPRE: return <f64>dpreRows * <f64>outChannels;
    case W_FLIP: return backward ? patch * <f64>outChannels : 0;
    case PATCHES: return <f64>GEMM_MC * loopPatch;
    case PACK_A: return <f64>gemmPackedAFloats();
    case DW_PATCHES: return backward ? <f64>GEMM_KC * dwColumns : 0;
    case DW_PACKED: return backward ? packedBFloats(GEMM_KC, dwColumns) : 0;
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
 * Columns [k0, k1) of the patch rows of the output pixels first + r = (b, oy, ox), r < rows:
 * patches[r, k - k0] = x[b, oy+ky-padTop, ox+kx-padLeft, c], k = (ky*KW + kx)*C + c; 0
 * outside the image. Rows are k1 - k0 floats, contiguous.
 */
function im2colRows(
  first: i32, rows: i32, k0: i32, k1: i32, height: i32, width: i32, channels: i32, kernelH: i32, kernelW: i32,
  padTop: i32, padLeft: i32, outH: i32, outW: i32, x: usize, patches: usize,
): void {
  if (k1 <= k0) return;
  const rowTaps = kernelW * channels; // the columns of one ky
  const ky0 = k0 / rowTaps, ky1 = (k1 - 1) / rowTaps;
  const patchBytes = <usize>(k1 - k0) << 2;
  for (let r = 0; r < rows; r++) {
    const pixel = first + r;
    const ox = pixel % outW, oy = (pixel / outW) % outH, b = pixel / (outW * outH);
    const ix0 = ox - padLeft;
    const kxLo = max(0, -ix0), kxHi = min(kernelW, width - ix0);
    const patchRow = patches + <usize>r * patchBytes;
    for (let ky = ky0; ky <= ky1; ky++) {
      // this ky's columns in the window, and the part of them inside the image: one run of x
      const rowStart = ky * rowTaps;
      const lo = max(k0, rowStart), hi = min(k1, rowStart + rowTaps);
      const dst = patchRow + (<usize>(lo - k0) << 2);
      const iy = oy + ky - padTop;
      if (iy < 0 || iy >= height || kxLo >= kxHi) {
        memory.fill(dst, 0, <usize>(hi - lo) << 2);
        continue;
      }
      const inLo = min(hi, max(lo, rowStart + kxLo * channels)), inHi = max(inLo, min(hi, rowStart + kxHi * channels));
      memory.fill(dst, 0, <usize>(inLo - lo) << 2);
      // column rowStart + j is x[b, iy, ix0 + j / C, j % C]
      const src = x + ((<usize>((b * height + iy) * width + ix0) * <usize>channels + <usize>(inLo - rowStart)) << 2);
      memory.copy(dst + (<usize>(inLo - lo) << 2), src, <usize>(inHi - inLo) << 2);
      memory.fill(dst + (<usize>(inHi - lo) << 2), 0, <usize>(hi - inHi) << 2);
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
    im2colRows(p0, rows, 0, patch, height, width, channels, kernelH, kernelW, padTop, padLeft, outH, outW, x, patches);
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
  const dwPatches = threadRegionAt(scratch, regionFloats, FIRST_PRIVATE, REGIONS, DW_PATCHES, thread, channels, outChannels, kernelH, kernelW, dpreRows, 1);
  const dwPacked = threadRegionAt(scratch, regionFloats, FIRST_PRIVATE, REGIONS, DW_PACKED, thread, channels, outChannels, kernelH, kernelW, dpreRows, 1);
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
  // chunk's patch columns [k0, k1); this thread's panels of dw's columns, a group at a
  // time, every chunk in order
  const dwPanels = (patch + GEMM_NR - 1) / GEMM_NR;
  const chunks = (pixels + GEMM_KC - 1) / GEMM_KC;
  for (let g = shareStart(dwPanels, size, thread), end = shareStart(dwPanels, size, thread + 1); g < end; g += DW_GROUP_PANELS) {
    const k0 = g * GEMM_NR, k1 = min(patch, min(end, g + DW_GROUP_PANELS) * GEMM_NR), columns = k1 - k0;
    for (let chunk = 0; chunk < chunks; chunk++) {
      const p0 = chunk * GEMM_KC, kc = min(GEMM_KC, pixels - p0);
      im2colRows(p0, kc, k0, k1, height, width, channels, kernelH, kernelW, padTop, padLeft, outH, outW, x, dwPatches);
      gemmPackB(kc, columns, dwPatches, columns, 1, dwPacked);
      gemmPacked(outChannels, columns, kc, dpre + <usize>p0 * outBytes, 1, outChannels, dwPacked, dw + (<usize>k0 << 2), patch, true, packA);
    }
  }

  // 4. dx = conv(dpre, wFlip), 'full' padding, no bias or activation: this thread's chunks
  convolveChunks(
    batch, outH, outW, outChannels, channels, kernelH, kernelW, kernelH - 1 - padTop, kernelW - 1 - padLeft, height, width,
    dpre, packedFlip, 0, ACT_IDENTITY, dx, patches, packA,
  );
}
