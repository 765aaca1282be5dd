// weft.conv2d: the convolution family, the baseline the 2D-RNN is compared with. Stride 1,
// zero padding 'valid' (none) or 'same' (output size = input size), forward and backward.
// x, dx [B, H, W, C]; w, dw [O, kh, kw, C]; bias, dbias [O]; y, dy [B, OH, OW, O].

import { WeftError, describe } from '../errors.js';
import { Tensor, checkElementCount, checkShaped, checkTensor, checkWithin } from '../tensor.js';
import { checkArgs, checkChoice, checkInteger, optionalBoolean } from '../args.js';
import { Activation, activationRange, parseActivation } from './activation.js';
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

/**
 * Arguments of weft.conv2d.backward: the forward's arguments, its output y and dL/dy.
 * The gradients are those of PyTorch's autograd through `act(conv2d(x, w, bias))`.
 */
export interface Conv2dBackwardArgs extends Conv2dForwardArgs {
  /**
   * The forward's output [B, OH, OW, O]: the activation's derivative is taken from it, so
   * it must lie in the activation's range (RANGE otherwise, which catches a pre-activation
   * passed by mistake). Required unless `activation` is 'identity' (OPTION when missing);
   * with 'identity' it is not read, only its shape is checked.
   */
  y?: Tensor;
  /** Gradient of the loss with respect to y [B, OH, OW, O]; finite (RANGE otherwise). */
  dy: Tensor;
}

/** Gradients of the loss, each shaped like its argument. */
export interface Conv2dGradients {
  /** [B, H, W, C]. */
  dx: Tensor;
  /** [O, kh, kw, C]. */
  dw: Tensor;
  /** [O]; also returned without a bias (the gradient of a zero bias). */
  dbias: Tensor;
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
  /**
   * The forward's arguments plus its output y (unless 'identity') and dL/dy [B, OH, OW, O]
   * -> dx [B, H, W, C], dw [O, kh, kw, C], dbias [O]. About twice the forward's flops.
   */
  backward(args: Conv2dBackwardArgs): Conv2dGradients;
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

export interface Conv2dBackwardProblem extends Conv2dProblem {
  /** The forward's output; undefined with 'identity' (act' = 1 is not read from it). */
  y?: Staged;
  dy: Staged;
}

export interface Conv2dGradientArrays {
  dx: Float32Array;
  dw: Float32Array;
  dbias: Float32Array;
}

export interface Conv2dKernels {
  /** y [B, OH, OW, O], fresh array. */
  conv2dForward(call: Call, problem: Conv2dProblem): Float32Array;
  /** All gradients, fresh arrays. */
  conv2dBackward(call: Call, problem: Conv2dBackwardProblem): Conv2dGradientArrays;
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

/** Validate the forward arguments (shared by backward), stage them and check their values. */
function planConv2d(call: Call, op: string, value: unknown): Conv2dProblem {
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

/** weft.conv2d.backward */
function backward(backend: OpBackend<Conv2dKernels>, call: Call, args: Conv2dBackwardArgs): Conv2dGradients {
  const op = 'conv2d.backward';
  const problem = planConv2d(call, op, args);
  const { batch, height, width, channels, outChannels, kernelH, kernelW, outH, outW, activation } = problem;
  // dx is as large as x, but a check of its size keeps the two backends' failures alike
  checkElementCount(`${op}: dx`, batch * height * width * channels);
  const outShape = [batch, outH, outW, outChannels];
  const why = '[B, OH, OW, O] like the forward output';
  const given = args as unknown as Record<string, unknown>;
  const dy = checkShaped(op, 'dy', given.dy, outShape, why);
  let y: Float32Array | undefined;
  if (given.y !== undefined) y = checkShaped(op, 'y', given.y, outShape, why);
  if (activation !== 'identity') {
    if (y === undefined) {
      throw new WeftError('OPTION', `${op}: y (the forward's output) is required with activation "${activation}": its derivative is taken from y`);
    }
    const [lo, hi] = activationRange(activation);
    checkWithin(`${op}: y`, y, lo, hi, `must be the forward's output, which for activation "${activation}" is`);
  }
  const backwardProblem: Conv2dBackwardProblem = Object.assign(problem, {
    y: activation === 'identity' || y === undefined ? undefined : call.stage(y, 'y'),
    dy: stageFinite(call, `${op}: dy`, dy),
  });
  const grads = backend.kernels.conv2dBackward(call, backwardProblem);
  return {
    dx: { data: grads.dx, shape: [batch, height, width, channels] },
    dw: { data: grads.dw, shape: [outChannels, kernelH, kernelW, channels] },
    dbias: { data: grads.dbias, shape: [outChannels] },
  };
}

/** weft.conv2d on a backend. */
export function createConv2d(backend: OpBackend<Conv2dKernels>): Conv2dApi {
  return {
    forward: bindOp(backend, 'conv2d.forward', (call, args: Conv2dForwardArgs) => {
      const p = planConv2d(call, 'conv2d.forward', args);
      return { y: { data: backend.kernels.conv2dForward(call, p), shape: [p.batch, p.outH, p.outW, p.outChannels] } };
    }),
    backward: bindOp(backend, 'conv2d.backward', (call, args: Conv2dBackwardArgs) => backward(backend, call, args)),
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
 * and the activation are not. A backward does about twice this: dw is a product of the
 * same size, and dx one of `2 * B * H * W * C * kh * kw * O` (the forward's count with
 * 'same'; more with 'valid', whose dx is a 'full' correlation).
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
