// weft.rnn2d: the 2D-RNN scan family (validation, staging, the kernels, the cost formulas).
// x [B, H, W, C]; wIn [hid, C]; wLeft, wTop [hid, hid]; bias [hid]; h, dh [B, H, W, hid].
// Top-left origin: h[b,i,j] = act(wIn x[b,i,j] + wLeft h[b,i,j-1] + wTop h[b,i-1,j] + bias),
// h = 0 outside the grid. Other origins run the same recurrence from their corner.

import { WeftError, describe } from '../errors.js';
import { Tensor, checkElementCount, checkTensor, checkWithin } from '../tensor.js';
import { checkArgs, checkChoice, checkInteger, optionalBoolean } from '../args.js';
import { Activation, activationRange, parseActivation } from './activation.js';
import { bindOp, stageFinite, type Call, type OpBackend, type Staged } from './op.js';

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

/**
 * 2D RNN over a grid: with the default origin 'top-left',
 * `h[b,i,j] = act(wIn @ x[b,i,j] + wLeft @ h[b,i,j-1] + wTop @ h[b,i-1,j] + bias)`, h = 0 outside.
 */
export interface Rnn2dApi {
  /** x [B, H, W, C], wIn [hid, C], wLeft / wTop [hid, hid], bias? [hid] -> h [B, H, W, hid]. */
  forward(args: Rnn2dForwardArgs): { h: Tensor };
  /** The forward's arguments plus its output h and dL/dh [B, H, W, hid] -> every gradient. */
  backward(args: Rnn2dBackwardArgs): Rnn2dGradients;
  /** `hid*C + 2*hid*hid (+ hid)`. */
  paramCount(args: Rnn2dParamArgs): number;
  /** Forward flops, a multiply-add counted as 2: `2 * B * H * W * hid * (C + 2 * hid)`. */
  flops(args: Rnn2dFlopsArgs): number;
}

/** One validated scan for a backend, its operands staged. The scan origin is given as which axes run backwards. */
export interface Rnn2dProblem {
  x: Staged;
  wIn: Staged;
  wLeft: Staged;
  wTop: Staged;
  bias?: Staged;
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
  h: Staged;
  dh: Staged;
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
  rnn2dForward(call: Call, problem: Rnn2dProblem): Float32Array;
  /** All gradients, fresh arrays. */
  rnn2dBackward(call: Call, problem: Rnn2dBackwardProblem): Rnn2dGradientArrays;
}

/** The data of a tensor of exactly `shape` (`why` explains the shape in the error). */
function checkShaped(op: string, name: string, value: unknown, shape: readonly number[], why: string): Float32Array {
  const t = checkTensor(`${op}: ${name}`, value, [shape.length]);
  if (t.shape.some((d, axis) => d !== shape[axis])) {
    throw new WeftError('SHAPE', `${op}: ${name} must have shape ${describe(shape)} (${why}), got ${describe(t.shape)}`);
  }
  return t.data;
}

/** Validate the forward arguments (shared by backward), stage them and check their values. */
function planRnn2d(call: Call, op: string, value: unknown): Rnn2dProblem {
  const args = checkArgs(op, value);
  const x = checkTensor(`${op}: x`, args.x, [4]);
  const [batch, height, width, channels] = x.shape;
  const wIn = checkTensor(`${op}: wIn`, args.wIn, [2]);
  const [hidden, wInChannels] = wIn.shape;
  if (wInChannels !== channels) {
    throw new WeftError(
      'SHAPE',
      `${op}: wIn must have shape [hid, C] with C = ${channels} (the channels of x ${describe(x.shape)}), got ${describe(wIn.shape)}`,
    );
  }
  const square = `[hid, hid] with hid = ${hidden} from wIn`;
  const wLeft = checkShaped(op, 'wLeft', args.wLeft, [hidden, hidden], square);
  const wTop = checkShaped(op, 'wTop', args.wTop, [hidden, hidden], square);
  const bias = args.bias === undefined ? undefined : checkShaped(op, 'bias', args.bias, [hidden], `[hid] with hid = ${hidden}`);
  const activation = parseActivation(op, args.activation, 'tanh');
  const origin = checkChoice(`${op}: origin`, args.origin, ORIGINS, 'top-left');
  // Fail on impossible outputs before any work (MEMORY, not a crash later).
  checkElementCount(`${op}: h`, batch * height * width * hidden);
  return {
    x: stageFinite(call, `${op}: x`, x.data),
    wIn: stageFinite(call, `${op}: wIn`, wIn.data),
    wLeft: stageFinite(call, `${op}: wLeft`, wLeft),
    wTop: stageFinite(call, `${op}: wTop`, wTop),
    bias: bias && stageFinite(call, `${op}: bias`, bias),
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

/** weft.rnn2d.forward */
function forward(backend: OpBackend<Rnn2dKernels>, call: Call, args: Rnn2dForwardArgs): { h: Tensor } {
  const problem = planRnn2d(call, 'rnn2d.forward', args);
  const { batch, height, width, hidden } = problem;
  return { h: { data: backend.kernels.rnn2dForward(call, problem), shape: [batch, height, width, hidden] } };
}

/** weft.rnn2d.backward */
function backward(backend: OpBackend<Rnn2dKernels>, call: Call, args: Rnn2dBackwardArgs): Rnn2dGradients {
  const op = 'rnn2d.backward';
  const problem = planRnn2d(call, op, args);
  const { batch, height, width, channels, hidden, activation } = problem;
  const stateShape = [batch, height, width, hidden];
  const why = '[B, H, W, hid] like the forward output';
  const h = checkShaped(op, 'h', (args as unknown as Record<string, unknown>).h, stateShape, why);
  const dh = checkShaped(op, 'dh', (args as unknown as Record<string, unknown>).dh, stateShape, why);
  const [lo, hi] = activationRange(activation);
  checkWithin(`${op}: h`, h, lo, hi, `must be the forward's output, which for activation "${activation}" is`);
  const backwardProblem: Rnn2dBackwardProblem = Object.assign(problem, { h: call.stage(h, 'h'), dh: stageFinite(call, `${op}: dh`, dh) });
  const grads = backend.kernels.rnn2dBackward(call, backwardProblem);
  return {
    dx: { data: grads.dx, shape: [batch, height, width, channels] },
    dwIn: { data: grads.dwIn, shape: [hidden, channels] },
    dwLeft: { data: grads.dwLeft, shape: [hidden, hidden] },
    dwTop: { data: grads.dwTop, shape: [hidden, hidden] },
    dbias: { data: grads.dbias, shape: [hidden] },
  };
}

/** weft.rnn2d on a backend. */
export function createRnn2d(backend: OpBackend<Rnn2dKernels>): Rnn2dApi {
  return {
    forward: bindOp(backend, 'rnn2d.forward', (call, args: Rnn2dForwardArgs) => forward(backend, call, args)),
    backward: bindOp(backend, 'rnn2d.backward', (call, args: Rnn2dBackwardArgs) => backward(backend, call, args)),
    paramCount: rnn2dParamCount,
    flops: rnn2dFlops,
  };
}

/**
 * Trainable parameters: wIn has hid*C, wLeft and wTop hid*hid each, the bias hid:
 * `hid*C + 2*hid*hid (+ hid)`. The count does not depend on the grid size: the same
 * weights are shared by every cell (as a conv kernel is shared by every pixel).
 */
function rnn2dParamCount(value: unknown): number {
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
function rnn2dFlops(value: unknown): number {
  const op = 'rnn2d.flops';
  const args = checkArgs(op, value);
  const batch = checkInteger(`${op}: batch`, args.batch, 0, undefined, 1);
  const height = checkInteger(`${op}: height`, args.height, 0);
  const width = checkInteger(`${op}: width`, args.width, 0);
  const channels = checkInteger(`${op}: inputChannels`, args.inputChannels, 0);
  const hidden = checkInteger(`${op}: hidden`, args.hidden, 0);
  return 2 * batch * height * width * hidden * (channels + 2 * hidden);
}
