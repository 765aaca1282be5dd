// weft.rnn2d: validation, dispatch and the cost formulas of the 2D-RNN scan.
// x [B, H, W, C]; wIn [hid, C]; wLeft, wTop [hid, hid]; bias [hid]; h, dh [B, H, W, hid].
// Top-left origin: h[b,i,j] = act(wIn x[b,i,j] + wLeft h[b,i,j-1] + wTop h[b,i-1,j] + bias),
// h = 0 outside the grid. Other origins run the same recurrence from their corner.

import { WeftError, describe } from '../errors.js';
import { Tensor, checkElementCount, checkFinite, checkTensor, checkWithin } from '../tensor.js';
import { checkArgs, checkChoice, checkInteger, optionalBoolean } from '../args.js';
import { Activation, activationRange, parseActivation } from './activation.js';

/** The corner the scan starts from. */
export type Rnn2dOrigin = 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right';

const ORIGINS: readonly Rnn2dOrigin[] = ['top-left', 'top-right', 'bottom-left', 'bottom-right'];

/** Arguments of weft.rnn2d.forward. */
export interface Rnn2dForwardArgs {
  /** Input grid [B, H, W, C]. */
  x: Tensor;
  /** Input weights [hid, C] (acts as wIn @ x, PyTorch nn.Linear layout). */
  wIn: Tensor;
  /** Weights of the left neighbour's state [hid, hid]. */
  wLeft: Tensor;
  /** Weights of the top neighbour's state [hid, hid]. */
  wTop: Tensor;
  /** [hid]; no bias when omitted. */
  bias?: Tensor;
  /** Default 'tanh'. */
  activation?: Activation;
  /** Default 'top-left'. "Left" is the neighbour nearer the origin's column, "top" nearer its row. */
  origin?: Rnn2dOrigin;
}

/** Arguments of weft.rnn2d.backward: the forward's arguments, its output h, and dL/dh. */
export interface Rnn2dBackwardArgs extends Rnn2dForwardArgs {
  /** The forward's output [B, H, W, hid] (activation derivatives are taken from it). */
  h: Tensor;
  /** Gradient of the loss with respect to h [B, H, W, hid]. */
  dh: Tensor;
}

/** Gradients of the loss, each shaped like its argument. */
export interface Rnn2dGradients {
  dx: Tensor;
  dwIn: Tensor;
  dwLeft: Tensor;
  dwTop: Tensor;
  /** [hid]; also returned without a bias (the gradient of a zero bias). */
  dbias: Tensor;
}

/** Arguments of weft.rnn2d.paramCount. */
export interface Rnn2dParamArgs {
  inputChannels: number;
  hidden: number;
  /** Count the bias. Default true (as PyTorch's `bias=True`). */
  bias?: boolean;
}

/** Arguments of weft.rnn2d.flops. */
export interface Rnn2dFlopsArgs {
  /** Default 1. */
  batch?: number;
  height: number;
  width: number;
  inputChannels: number;
  hidden: number;
}

/** One validated scan for a backend. The scan origin is given as which axes run backwards. */
export interface Rnn2dProblem {
  x: Float32Array;
  wIn: Float32Array;
  wLeft: Float32Array;
  wTop: Float32Array;
  bias?: Float32Array;
  batch: number;
  height: number;
  width: number;
  channels: number;
  hidden: number;
  activation: Activation;
  /** Rows are scanned from H-1 down (origin bottom-*). */
  flipRows: boolean;
  /** Columns are scanned from W-1 down (origin *-right). */
  flipCols: boolean;
}

export interface Rnn2dBackwardProblem extends Rnn2dProblem {
  h: Float32Array;
  dh: Float32Array;
}

export interface Rnn2dGradientArrays {
  dx: Float32Array;
  dwIn: Float32Array;
  dwLeft: Float32Array;
  dwTop: Float32Array;
  dbias: Float32Array;
}

export interface Rnn2dKernels {
  /** h [B, H, W, hid], fresh array. */
  rnn2dForward(problem: Rnn2dProblem): Float32Array;
  /** All gradients, fresh arrays. */
  rnn2dBackward(problem: Rnn2dBackwardProblem): Rnn2dGradientArrays;
}

/** The data of a tensor of exactly `shape` (`why` explains the shape in the error). */
function checkShapedTensor(op: string, name: string, value: unknown, shape: readonly number[], why: string): Float32Array {
  const t = checkTensor(`${op}: ${name}`, value, [shape.length]);
  if (t.shape.some((d, axis) => d !== shape[axis])) {
    throw new WeftError('SHAPE', `${op}: ${name} must have shape ${describe(shape)} (${why}), got ${describe(t.shape)}`);
  }
  return t.data;
}

/** checkShapedTensor, and every value finite. */
function checkShaped(op: string, name: string, value: unknown, shape: readonly number[], why: string): Float32Array {
  const data = checkShapedTensor(op, name, value, shape, why);
  checkFinite(`${op}: ${name}`, data);
  return data;
}

/** Validate the forward arguments (shared by backward). */
export function planRnn2d(op: string, value: unknown): Rnn2dProblem {
  const args = checkArgs(op, value);
  const x = checkTensor(`${op}: x`, args.x, [4]);
  const [batch, height, width, channels] = x.shape;
  checkFinite(`${op}: x`, x.data);
  const wIn = checkTensor(`${op}: wIn`, args.wIn, [2]);
  const [hidden, wInChannels] = wIn.shape;
  if (wInChannels !== channels) {
    throw new WeftError(
      'SHAPE',
      `${op}: wIn must have shape [hid, C] with C = ${channels} (the channels of x ${describe(x.shape)}), got ${describe(wIn.shape)}`,
    );
  }
  checkFinite(`${op}: wIn`, wIn.data);
  const square = `[hid, hid] with hid = ${hidden} from wIn`;
  const wLeft = checkShaped(op, 'wLeft', args.wLeft, [hidden, hidden], square);
  const wTop = checkShaped(op, 'wTop', args.wTop, [hidden, hidden], square);
  const bias = args.bias === undefined ? undefined : checkShaped(op, 'bias', args.bias, [hidden], `[hid] with hid = ${hidden}`);
  const activation = parseActivation(op, args.activation, 'tanh');
  const origin = checkChoice(`${op}: origin`, args.origin, ORIGINS, 'top-left');
  // Fail on impossible outputs before any work (MEMORY, not a crash later).
  checkElementCount(`${op}: h`, batch * height * width * hidden);
  return {
    x: x.data,
    wIn: wIn.data,
    wLeft,
    wTop,
    bias,
    batch,
    height,
    width,
    channels,
    hidden,
    activation,
    flipRows: origin.startsWith('bottom'),
    flipCols: origin.endsWith('right'),
  };
}

/** weft.rnn2d.forward for a backend. */
export function rnn2dForward(kernels: Rnn2dKernels, args: Rnn2dForwardArgs): { h: Tensor } {
  const op = 'rnn2d.forward';
  const problem = planRnn2d(op, args);
  const { batch, height, width, hidden } = problem;
  return { h: { data: kernels.rnn2dForward(problem), shape: [batch, height, width, hidden] } };
}

/** weft.rnn2d.backward for a backend. */
export function rnn2dBackward(kernels: Rnn2dKernels, args: Rnn2dBackwardArgs): Rnn2dGradients {
  const op = 'rnn2d.backward';
  const problem = planRnn2d(op, args);
  const { batch, height, width, channels, hidden, activation } = problem;
  const stateShape = [batch, height, width, hidden];
  const why = '[B, H, W, hid] like the forward output';
  const h = checkShapedTensor(op, 'h', args.h, stateShape, why);
  const [lo, hi] = activationRange(activation);
  checkWithin(`${op}: h`, h, lo, hi, `must be the forward's output, which for activation "${activation}" is`);
  const dh = checkShaped(op, 'dh', args.dh, stateShape, why);
  const grads = kernels.rnn2dBackward({ ...problem, h, dh });
  return {
    dx: { data: grads.dx, shape: [batch, height, width, channels] },
    dwIn: { data: grads.dwIn, shape: [hidden, channels] },
    dwLeft: { data: grads.dwLeft, shape: [hidden, hidden] },
    dwTop: { data: grads.dwTop, shape: [hidden, hidden] },
    dbias: { data: grads.dbias, shape: [hidden] },
  };
}

/**
 * Trainable parameters: wIn has hid*C, wLeft and wTop hid*hid each, the bias hid:
 * `hid*C + 2*hid*hid (+ hid)`. The count does not depend on the grid size: the same
 * weights are shared by every cell (as a conv kernel is shared by every pixel).
 */
export function rnn2dParamCount(value: unknown): number {
  const op = 'rnn2d.paramCount';
  const args = checkArgs(op, value);
  const channels = checkInteger(`${op}: inputChannels`, args.inputChannels, 0);
  const hidden = checkInteger(`${op}: hidden`, args.hidden, 0);
  const bias = optionalBoolean(`${op}: bias`, args.bias, true);
  return hidden * channels + 2 * hidden * hidden + (bias ? hidden : 0);
}

/**
 * Floating-point operations of one forward, a multiply-add counted as 2. Each of the
 * B*H*W cells computes wIn @ x (hid*C multiply-adds), wLeft @ h_left and wTop @ h_top
 * (hid*hid each): `2 * B * H * W * hid * (C + 2 * hid)`. Bias adds and the activation
 * (O(hid) per cell) are not counted; border cells are counted in full (their missing
 * neighbours are zeros the kernel multiplies too). A backward costs about twice this
 * (the transposed recurrence, then dwIn/dwLeft/dwTop and dx as GEMMs of the same size).
 */
export function rnn2dFlops(value: unknown): number {
  const op = 'rnn2d.flops';
  const args = checkArgs(op, value);
  const batch = checkInteger(`${op}: batch`, args.batch, 0, undefined, 1);
  const height = checkInteger(`${op}: height`, args.height, 0);
  const width = checkInteger(`${op}: width`, args.width, 0);
  const channels = checkInteger(`${op}: inputChannels`, args.inputChannels, 0);
  const hidden = checkInteger(`${op}: hidden`, args.hidden, 0);
  return 2 * batch * height * width * hidden * (channels + 2 * hidden);
}
