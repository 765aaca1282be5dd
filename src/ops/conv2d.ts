// weft.conv2d: the convolution family, the baseline the 2D-RNN is compared with. Stride 1,
// zero padding 'valid' (none) or 'same' (output size = input size).
// x [B, H, W, C]; w [O, kh, kw, C]; bias [O]; y [B, OH, OW, O].

import { WeftError, describe } from '../errors.js';
import { Tensor, checkElementCount, checkTensor } from '../tensor.js';
import { checkArgs, checkChoice, checkInteger, optionalBoolean } from '../args.js';
import { Activation, parseActivation } from './activation.js';
import { bindOp, stageFinite, type Call, type OpBackend, type Staged } from './op.js';

/** Zero padding of conv2d: 'valid' (none) or 'same' (output size = input size). OPTION for another name. */
export type Conv2dPadding = 'same' | 'valid';

const PADDINGS: readonly Conv2dPadding[] = ['valid', 'same'];

/** Arguments of weft.conv2d.forward. */
export interface Conv2dForwardArgs {
  /** Input [B, H, W, C]. */
  x: Tensor;
  /** The kernels [O, kh, kw, C], kh and kw >= 1. */
  w: Tensor;
  /** [O]; default none (no bias). */
  bias?: Tensor;
  /**
   * 'valid' (default, as PyTorch's padding=0 and Keras): OH = H - kh + 1, SHAPE if the kernel
   * is larger than the input. 'same': OH = H, zero padding of kh - 1 rows split as
   * floor((kh-1)/2) above, the rest below (as TensorFlow and PyTorch padding='same');
   * likewise for columns.
   */
  padding?: Conv2dPadding;
  /** Default 'identity' (a plain convolution, as PyTorch's Conv2d). */
  activation?: Activation;
}

/** Arguments of weft.conv2d.paramCount. */
export interface Conv2dParamArgs {
  /** C, the input channels: an integer >= 0 (RANGE below). */
  inputChannels: number;
  /** O, the output channels: an integer >= 0 (RANGE below). */
  outChannels: number;
  /** [kh, kw], or one number for a square kernel: integers >= 1 (RANGE below). */
  kernel: readonly [number, number] | number;
  /** Count the bias. Default true (as PyTorch's `bias=True`). */
  bias?: boolean;
}

/** Arguments of weft.conv2d.flops. */
export interface Conv2dFlopsArgs {
  /** B, images per call: an integer >= 0 (RANGE below). Default 1. */
  batch?: number;
  /** H, input rows: an integer >= 0 (RANGE below). */
  height: number;
  /** W, input columns: an integer >= 0 (RANGE below). */
  width: number;
  /** C, the input channels: an integer >= 0 (RANGE below). */
  inputChannels: number;
  /** O, the output channels: an integer >= 0 (RANGE below). */
  outChannels: number;
  /** [kh, kw], or one number for a square kernel: integers >= 1 (RANGE below). */
  kernel: readonly [number, number] | number;
  /** Decides the output size, as in forward. Default 'valid'. */
  padding?: Conv2dPadding;
}

/** Stride-1 convolution: x [B, H, W, C], w [O, kh, kw, C] -> y [B, OH, OW, O]. */
export interface Conv2dApi {
  /** y = act(conv(x, w) + bias), padding 'valid' (default) or 'same'. */
  forward(args: Conv2dForwardArgs): {
    /** The output [B, OH, OW, O]. */
    y: Tensor;
  };
  /** `O*kh*kw*C (+ O)`. */
  paramCount(args: Conv2dParamArgs): number;
  /** Forward flops, a multiply-add counted as 2: `2 * B * OH * OW * O * kh * kw * C`. */
  flops(args: Conv2dFlopsArgs): number;
}

/** One validated convolution for a backend, its operands staged. */
export interface Conv2dProblem {
  x: Staged;
  w: Staged;
  bias?: Staged;
  batch: number;
  height: number;
  width: number;
  channels: number;
  outChannels: number;
  kernelH: number;
  kernelW: number;
  /** Zero rows above / columns left of the input. */
  padTop: number;
  padLeft: number;
  outH: number;
  outW: number;
  activation: Activation;
}

export interface Conv2dKernels {
  /** y [B, OH, OW, O], fresh array. */
  conv2dForward(call: Call, problem: Conv2dProblem): Float32Array;
}

/** Output size and leading padding of one axis. */
function axisGeometry(op: string, axis: string, size: number, kernel: number, padding: Conv2dPadding): { out: number; pad: number } {
  if (padding === 'same') return { out: size, pad: Math.floor((kernel - 1) / 2) };
  if (kernel > size) {
    throw new WeftError(
      'SHAPE',
      `${op}: with padding "valid" the kernel ${axis} (${kernel}) cannot exceed the input ${axis} (${size}); use padding "same"`,
    );
  }
  return { out: size - kernel + 1, pad: 0 };
}

function parseKernel(op: string, value: unknown): [number, number] {
  const pair = typeof value === 'number' ? [value, value] : value;
  if (!Array.isArray(pair) || pair.length !== 2) {
    throw new WeftError('OPTION', `${op}: kernel: expected [kh, kw] or a number, got ${describe(value)}`);
  }
  return [checkInteger(`${op}: kernel[0]`, pair[0], 1), checkInteger(`${op}: kernel[1]`, pair[1], 1)];
}

/** Validate a conv2d call, stage its operands and check their values. */
function planConv2d(call: Call, value: unknown): Conv2dProblem {
  const op = 'conv2d.forward';
  const args = checkArgs(op, value);
  const x = checkTensor(`${op}: x`, args.x, [4]);
  const [batch, height, width, channels] = x.shape;
  const w = checkTensor(`${op}: w`, args.w, [4]);
  const [outChannels, kernelH, kernelW, wChannels] = w.shape;
  if (wChannels !== channels) {
    throw new WeftError(
      'SHAPE',
      `${op}: w must have shape [O, kh, kw, C] with C = ${channels} (the channels of x ${describe(x.shape)}), got ${describe(w.shape)}`,
    );
  }
  if (kernelH < 1 || kernelW < 1) {
    throw new WeftError('SHAPE', `${op}: w's kernel size (axes 1, 2) must be at least 1 x 1, got ${describe(w.shape)}`);
  }
  let bias: Float32Array | undefined;
  if (args.bias !== undefined) {
    const b = checkTensor(`${op}: bias`, args.bias, [1]);
    if (b.shape[0] !== outChannels) {
      throw new WeftError('SHAPE', `${op}: bias must have shape [${outChannels}] (w's O), got ${describe(b.shape)}`);
    }
    bias = b.data;
  }
  const padding = checkChoice(`${op}: padding`, args.padding, PADDINGS, 'valid');
  const activation = parseActivation(op, args.activation, 'identity');
  const rows = axisGeometry(op, 'height', height, kernelH, padding);
  const cols = axisGeometry(op, 'width', width, kernelW, padding);
  checkElementCount(`${op}: y`, batch * rows.out * cols.out * outChannels);
  return {
    x: stageFinite(call, `${op}: x`, x.data),
    w: stageFinite(call, `${op}: w`, w.data),
    bias: bias && stageFinite(call, `${op}: bias`, bias),
    batch,
    height,
    width,
    channels,
    outChannels,
    kernelH,
    kernelW,
    padTop: rows.pad,
    padLeft: cols.pad,
    outH: rows.out,
    outW: cols.out,
    activation,
  };
}

/** weft.conv2d on a backend. */
export function createConv2d(backend: OpBackend<Conv2dKernels>): Conv2dApi {
  return {
    forward: bindOp(backend, 'conv2d.forward', (call, args: Conv2dForwardArgs) => {
      const p = planConv2d(call, args);
      return { y: { data: backend.kernels.conv2dForward(call, p), shape: [p.batch, p.outH, p.outW, p.outChannels] } };
    }),
    paramCount: conv2dParamCount,
    flops: conv2dFlops,
  };
}

/** Trainable parameters: `O * kh * kw * C (+ O)`. */
function conv2dParamCount(value: unknown): number {
  const op = 'conv2d.paramCount';
  const args = checkArgs(op, value);
  const channels = checkInteger(`${op}: inputChannels`, args.inputChannels, 0);
  const outChannels = checkInteger(`${op}: outChannels`, args.outChannels, 0);
  const [kh, kw] = parseKernel(op, args.kernel);
  const bias = optionalBoolean(`${op}: bias`, args.bias, true);
  return outChannels * kh * kw * channels + (bias ? outChannels : 0);
}

/**
 * Floating-point operations of one forward, a multiply-add counted as 2: each of the
 * B*OH*OW outputs pixels computes O dot products of length kh*kw*C, so
 * `2 * B * OH * OW * O * kh * kw * C` (OH = H, OW = W with 'same'; H-kh+1, W-kw+1 with
 * 'valid'). As usual (fvcore, ptflops) taps in the zero padding are counted; bias adds
 * and the activation are not.
 */
function conv2dFlops(value: unknown): number {
  const op = 'conv2d.flops';
  const args = checkArgs(op, value);
  const batch = checkInteger(`${op}: batch`, args.batch, 0, undefined, 1);
  const height = checkInteger(`${op}: height`, args.height, 0);
  const width = checkInteger(`${op}: width`, args.width, 0);
  const channels = checkInteger(`${op}: inputChannels`, args.inputChannels, 0);
  const outChannels = checkInteger(`${op}: outChannels`, args.outChannels, 0);
  const [kh, kw] = parseKernel(op, args.kernel);
  const padding = checkChoice(`${op}: padding`, args.padding, PADDINGS, 'valid');
  const rows = axisGeometry(op, 'height', height, kh, padding);
  const cols = axisGeometry(op, 'width', width, kw, padding);
  return 2 * batch * rows.out * cols.out * outChannels * kh * kw * channels;
}
