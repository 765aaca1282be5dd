// weft.rnn2d: the 2D-RNN scan family (validation, staging, the kernels, the cost formulas).
// x [B, H, W, C]; h, dh (and the lstm cell's c, dc) [B, H, W, hid].
// Cell 'rnn': wIn [hid, C]; wLeft, wTop [hid, hid]; bias [hid]; top-left origin:
//   h[b,i,j] = act(wIn x[b,i,j] + wLeft h[b,i,j-1] + wTop h[b,i-1,j] + bias).
// Cell 'lstm' (MD-LSTM, two forget gates): the same sum over 5·hid gate rows (i, f_left,
// f_top, g, o) gives z; c = σ(z_i)⊙tanh(z_g) + σ(z_fl)⊙c[b,i,j-1] + σ(z_ft)⊙c[b,i-1,j],
// h = σ(z_o)⊙tanh(c). h = c = 0 outside the grid. Other origins run the same recurrence
// from their corner.

import { WeftError, describe } from '../errors.js';
import { Tensor, checkElementCount, checkShaped, checkTensor, checkWithin } from '../tensor.js';
import { checkArgs, checkChoice, checkInteger, optionalBoolean } from '../args.js';
import { Activation, activationRange, parseActivation } from './activation.js';
import { bindOp, stageFinite, type Call, type OpBackend, type Staged } from './op.js';

/** The corner the scan starts from (OPTION for another name). */
export type Rnn2dOrigin = 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right';

const ORIGINS: readonly Rnn2dOrigin[] = ['top-left', 'top-right', 'bottom-left', 'bottom-right'];

/**
 * The cell of the scan: 'rnn' (`h = act(z)`, one gate block) or 'lstm' (the multi-dimensional
 * LSTM of Graves et al. 2007: input, left forget, top forget, cell and output gates).
 */
export type Rnn2dCell = 'rnn' | 'lstm';

const CELLS: readonly Rnn2dCell[] = ['rnn', 'lstm'];

/** Gate blocks of each cell: the weights' and bias' rows are `gateBlocks * hid`. */
const GATE_BLOCKS: Record<Rnn2dCell, number> = { rnn: 1, lstm: 5 };

/** Arguments of weft.rnn2d.forward. */
export interface Rnn2dForwardArgs {
  /** Input grid [B, H, W, C]. */
  x: Tensor;
  /** Input weights [hid, C], or [5·hid, C] for cell 'lstm' (acts as wIn @ x, PyTorch nn.Linear layout). */
  wIn: Tensor;
  /** Weights of the left neighbour's h: [hid, hid], or [5·hid, hid] for cell 'lstm' (hid is then its column count). */
  wLeft: Tensor;
  /** Weights of the top neighbour's h, shaped like wLeft. */
  wTop: Tensor;
  /** [hid] ([5·hid] for 'lstm'); default none (no bias). */
  bias?: Tensor;
  /**
   * Default 'rnn'. For 'lstm' the weight and bias rows are the gate blocks (i, f_left, f_top,
   * g, o), hid rows each. OPTION for another name.
   */
  cell?: Rnn2dCell;
  /** Cell 'rnn' only (the lstm's gates are σ and tanh; OPTION if given there). Default 'tanh'; OPTION for another name. */
  activation?: Activation;
  /**
   * Cell 'lstm', forward: also return the gate pre-activations `gates` [B, H, W, 5·hid], which
   * backward then takes instead of recomputing them (a third of its work, for 5·hid floats a
   * cell of memory; as the workspace a cuDNN LSTM keeps for training). Default false; OPTION
   * if true for cell 'rnn'.
   */
  returnGates?: boolean;
  /** The corner the scan starts from. Default 'top-left'. "Left" is the neighbour nearer the origin's column, "top" nearer its row. */
  origin?: Rnn2dOrigin;
}

/** Arguments of weft.rnn2d.forward with the MD-LSTM cell. */
export interface Rnn2dLstmForwardArgs extends Rnn2dForwardArgs {
  /** The MD-LSTM cell (forward then also returns c, and gates with returnGates). */
  cell: 'lstm';
}

/** Arguments of weft.rnn2d.backward: the forward's arguments, its outputs, and dL/dh (and dL/dc). */
export interface Rnn2dBackwardArgs extends Rnn2dForwardArgs {
  /**
   * The forward's output [B, H, W, hid] (cell 'rnn': activation derivatives are taken from it).
   * RANGE outside the activation's range ([-1, 1] for tanh and the lstm, [0, 1] for sigmoid, >= 0 for relu).
   */
  h: Tensor;
  /** Cell 'lstm', required: the forward's cell state [B, H, W, hid] (OPTION if missing; c, dc and gates are OPTION for 'rnn'). */
  c?: Tensor;
  /** Gradient of the loss with respect to h [B, H, W, hid]. */
  dh: Tensor;
  /** Cell 'lstm': gradient of the loss with respect to c [B, H, W, hid]; default zero. */
  dc?: Tensor;
  /** Cell 'lstm': the forward's `gates` (returnGates: true) [B, H, W, 5·hid]; default: recomputed from x and h. */
  gates?: Tensor;
}

/** Gradients of the loss, each shaped like its argument. */
export interface Rnn2dGradients {
  /** dL/dx [B, H, W, C]. */
  dx: Tensor;
  /** dL/dwIn, shaped like wIn. */
  dwIn: Tensor;
  /** dL/dwLeft, shaped like wLeft. */
  dwLeft: Tensor;
  /** dL/dwTop, shaped like wTop. */
  dwTop: Tensor;
  /** [hid]; also returned without a bias (the gradient of a zero bias). */
  dbias: Tensor;
}

/** Arguments of weft.rnn2d.paramCount. */
export interface Rnn2dParamArgs {
  /** C, the input channels: an integer >= 0 (RANGE below). */
  inputChannels: number;
  /** hid, the hidden units: an integer >= 0 (RANGE below). */
  hidden: number;
  /** Count the bias. Default true (as PyTorch's `bias=True`). */
  bias?: boolean;
  /** Default 'rnn'; 'lstm' has 5 gate blocks. */
  cell?: Rnn2dCell;
}

/** Arguments of weft.rnn2d.flops. */
export interface Rnn2dFlopsArgs {
  /** B, grids per call: an integer >= 0 (RANGE below). Default 1. */
  batch?: number;
  /** H, grid rows: an integer >= 0 (RANGE below). */
  height: number;
  /** W, grid columns: an integer >= 0 (RANGE below). */
  width: number;
  /** C, the input channels: an integer >= 0 (RANGE below). */
  inputChannels: number;
  /** hid, the hidden units: an integer >= 0 (RANGE below). */
  hidden: number;
  /** Default 'rnn'; 'lstm' has 5 gate blocks. */
  cell?: Rnn2dCell;
}

/**
 * 2D RNN over a grid: with the default origin 'top-left',
 * `h[b,i,j] = act(wIn @ x[b,i,j] + wLeft @ h[b,i,j-1] + wTop @ h[b,i-1,j] + bias)`, h = 0 outside.
 */
export interface Rnn2dApi {
  /** Cell 'lstm': x [B, H, W, C], wIn [5·hid, C], wLeft / wTop [5·hid, hid], bias? [5·hid] -> h, c [B, H, W, hid] (gates with returnGates). */
  forward(args: Rnn2dLstmForwardArgs): {
    /** The hidden states [B, H, W, hid]. */
    h: Tensor;
    /** The cell states [B, H, W, hid]. */
    c: Tensor;
    /** The gate pre-activations [B, H, W, 5·hid], with returnGates. */
    gates?: Tensor;
  };
  /** x [B, H, W, C], wIn [hid, C], wLeft / wTop [hid, hid], bias? [hid] -> h [B, H, W, hid] (and c for 'lstm'). */
  forward(args: Rnn2dForwardArgs): {
    /** The hidden states [B, H, W, hid]. */
    h: Tensor;
    /** Cell 'lstm': the cell states [B, H, W, hid]. */
    c?: Tensor;
    /** Cell 'lstm' with returnGates: the gate pre-activations [B, H, W, 5·hid]. */
    gates?: Tensor;
  };
  /** The forward's arguments plus its outputs (h; c for 'lstm') and dL/dh [B, H, W, hid] (dL/dc?) -> every gradient. */
  backward(args: Rnn2dBackwardArgs): Rnn2dGradients;
  /** `g * (hid*C + 2*hid*hid (+ hid))` with g = 1 gate block ('rnn') or 5 ('lstm'). */
  paramCount(args: Rnn2dParamArgs): number;
  /** Forward flops, a multiply-add counted as 2: `2 * B * H * W * g * hid * (C + 2 * hid)`, g as in paramCount. */
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
  /** hid (the lstm's weights have 5·hid rows). */
  hidden: number;
  cell: Rnn2dCell;
  /** Cell 'rnn' (the lstm's is 'tanh', unused). */
  activation: Activation;
  /** Cell 'lstm', forward: return the gate pre-activations. */
  returnGates: boolean;
  /** Rows are scanned from H-1 down (origin bottom-*). */
  flipRows: boolean;
  /** Columns are scanned from W-1 down (origin *-right). */
  flipCols: boolean;
}

export interface Rnn2dBackwardProblem extends Rnn2dProblem {
  h: Staged;
  dh: Staged;
  /** Cell 'lstm': the forward's c, its gate pre-activations and dL/dc if given. */
  c?: Staged;
  gates?: Staged;
  dc?: Staged;
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
  /** Cell 'lstm': h and c [B, H, W, hid] (and the gate pre-activations [B, H, W, 5·hid] when problem.returnGates), fresh arrays. */
  mdlstmForward(call: Call, problem: Rnn2dProblem): { h: Float32Array; c: Float32Array; gates?: Float32Array };
  /** Cell 'lstm' (problem.c is set): all gradients, fresh arrays. */
  mdlstmBackward(call: Call, problem: Rnn2dBackwardProblem): Rnn2dGradientArrays;
}

/** Validate the forward arguments (shared by backward), stage them and check their values. */
function planRnn2d(call: Call, op: string, value: unknown): Rnn2dProblem {
  const args = checkArgs(op, value);
  const cell = checkChoice(`${op}: cell`, args.cell, CELLS, 'rnn');
  const x = checkTensor(`${op}: x`, args.x, [4]);
  const [batch, height, width, channels] = x.shape;
  const wIn = checkTensor(`${op}: wIn`, args.wIn, [2]);
  let hidden: number, gates: number, source: string;
  if (cell === 'rnn') {
    [hidden, gates] = [wIn.shape[0], wIn.shape[0]];
    source = `hid = ${hidden} from wIn`;
    if (wIn.shape[1] !== channels) {
      throw new WeftError(
        'SHAPE',
        `${op}: wIn must have shape [hid, C] with C = ${channels} (the channels of x ${describe(x.shape)}), got ${describe(wIn.shape)}`,
      );
    }
  } else {
    // hid is wLeft's column count: the one dimension that does not depend on the gate count
    hidden = checkTensor(`${op}: wLeft`, args.wLeft, [2]).shape[1];
    gates = GATE_BLOCKS.lstm * hidden;
    source = `hid = ${hidden} from wLeft's columns; cell 'lstm' has 5 gate blocks (i, f_left, f_top, g, o) of hid rows`;
    checkShaped(op, 'wIn', args.wIn, [gates, channels], `[5·hid, C], C = ${channels} from x, ${source}`);
    if (args.activation !== undefined) {
      throw new WeftError('OPTION', `${op}: activation applies to cell 'rnn' only (the lstm's gates are σ and tanh), got ${describe(args.activation)}`);
    }
  }
  const returnGates = optionalBoolean(`${op}: returnGates`, args.returnGates, false);
  if (returnGates && cell === 'rnn') throw new WeftError('OPTION', `${op}: returnGates applies to cell 'lstm' only`);
  const gateRows = cell === 'rnn' ? 'hid' : '5·hid';
  const wLeft = checkShaped(op, 'wLeft', args.wLeft, [gates, hidden], `[${gateRows}, hid] with ${source}`);
  const wTop = checkShaped(op, 'wTop', args.wTop, [gates, hidden], `[${gateRows}, hid] with ${source}`);
  const bias = args.bias === undefined ? undefined : checkShaped(op, 'bias', args.bias, [gates], `[${gateRows}] with ${source}`);
  const activation = parseActivation(op, args.activation, 'tanh');
  const origin = checkChoice(`${op}: origin`, args.origin, ORIGINS, 'top-left');
  // Fail on impossible outputs before any work (MEMORY, not a crash later).
  checkElementCount(`${op}: h`, batch * height * width * gates);
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
    cell,
    activation,
    returnGates,
    flipRows: origin.startsWith('bottom'),
    flipCols: origin.endsWith('right'),
  };
}

/** weft.rnn2d.forward */
function forward(backend: OpBackend<Rnn2dKernels>, call: Call, args: Rnn2dForwardArgs): { h: Tensor; c?: Tensor } {
  const problem = planRnn2d(call, 'rnn2d.forward', args);
  const shape = [problem.batch, problem.height, problem.width, problem.hidden];
  if (problem.cell === 'rnn') return { h: { data: backend.kernels.rnn2dForward(call, problem), shape } };
  const { h, c, gates } = backend.kernels.mdlstmForward(call, problem);
  const out: { h: Tensor; c: Tensor; gates?: Tensor } = { h: { data: h, shape }, c: { data: c, shape: [...shape] } };
  if (gates) out.gates = { data: gates, shape: [problem.batch, problem.height, problem.width, 5 * problem.hidden] };
  return out;
}

/** weft.rnn2d.backward */
function backward(backend: OpBackend<Rnn2dKernels>, call: Call, args: Rnn2dBackwardArgs): Rnn2dGradients {
  const op = 'rnn2d.backward';
  const problem = planRnn2d(call, op, args);
  const { batch, height, width, channels, hidden, activation, cell } = problem;
  const fields = args as unknown as Record<string, unknown>;
  const stateShape = [batch, height, width, hidden];
  const why = '[B, H, W, hid] like the forward output';
  const h = checkShaped(op, 'h', fields.h, stateShape, why);
  const dh = checkShaped(op, 'dh', fields.dh, stateShape, why);
  const backwardProblem: Rnn2dBackwardProblem = problem as Rnn2dBackwardProblem;
  if (cell === 'rnn') {
    if (fields.c !== undefined || fields.dc !== undefined || fields.gates !== undefined) {
      throw new WeftError('OPTION', `${op}: c, dc and gates belong to cell 'lstm' (this call's cell is 'rnn')`);
    }
    const [lo, hi] = activationRange(activation);
    checkWithin(`${op}: h`, h, lo, hi, `must be the forward's output, which for activation "${activation}" is`);
  } else {
    if (fields.c === undefined) {
      throw new WeftError('OPTION', `${op}: c (the forward's cell state [B, H, W, hid]) is required for cell 'lstm'`);
    }
    const c = checkShaped(op, 'c', fields.c, stateShape, '[B, H, W, hid] like the forward\'s c');
    const dc = fields.dc === undefined ? undefined : checkShaped(op, 'dc', fields.dc, stateShape, '[B, H, W, hid] like c');
    const gates = fields.gates === undefined
      ? undefined
      : checkShaped(op, 'gates', fields.gates, [batch, height, width, 5 * hidden], "[B, H, W, 5·hid] like the forward's gates");
    checkWithin(`${op}: h`, h, -1, 1, `must be the forward's output, which for cell 'lstm' (o⊙tanh(c)) is`);
    backwardProblem.c = stageFinite(call, `${op}: c`, c);
    backwardProblem.dc = dc && stageFinite(call, `${op}: dc`, dc);
    backwardProblem.gates = gates && stageFinite(call, `${op}: gates`, gates);
  }
  backwardProblem.h = call.stage(h, 'h');
  backwardProblem.dh = stageFinite(call, `${op}: dh`, dh);
  const grads = cell === 'rnn' ? backend.kernels.rnn2dBackward(call, backwardProblem) : backend.kernels.mdlstmBackward(call, backwardProblem);
  const gates = GATE_BLOCKS[cell] * hidden;
  return {
    dx: { data: grads.dx, shape: [batch, height, width, channels] },
    dwIn: { data: grads.dwIn, shape: [gates, channels] },
    dwLeft: { data: grads.dwLeft, shape: [gates, hidden] },
    dwTop: { data: grads.dwTop, shape: [gates, hidden] },
    dbias: { data: grads.dbias, shape: [gates] },
  };
}

/** weft.rnn2d on a backend. */
export function createRnn2d(backend: OpBackend<Rnn2dKernels>): Rnn2dApi {
  return {
    forward: bindOp(backend, 'rnn2d.forward', (call, args: Rnn2dForwardArgs) => forward(backend, call, args)) as Rnn2dApi['forward'],
    backward: bindOp(backend, 'rnn2d.backward', (call, args: Rnn2dBackwardArgs) => backward(backend, call, args)),
    paramCount: rnn2dParamCount,
    flops: rnn2dFlops,
  };
}

/**
 * Trainable parameters: wIn has hid*C, wLeft and wTop hid*hid each, the bias hid:
 * `hid*C + 2*hid*hid (+ hid)`, times 5 for the lstm's gate blocks. The count does not
 * depend on the grid size: the same weights are shared by every cell (as a conv kernel
 * is shared by every pixel).
 */
function rnn2dParamCount(value: unknown): number {
  const op = 'rnn2d.paramCount';
  const args = checkArgs(op, value);
  const channels = checkInteger(`${op}: inputChannels`, args.inputChannels, 0);
  const hidden = checkInteger(`${op}: hidden`, args.hidden, 0);
  const bias = optionalBoolean(`${op}: bias`, args.bias, true);
  const blocks = GATE_BLOCKS[checkChoice(`${op}: cell`, args.cell, CELLS, 'rnn')];
  return blocks * (hidden * channels + 2 * hidden * hidden + (bias ? hidden : 0));
}

/**
 * Floating-point operations of one forward, a multiply-add counted as 2. Each of the
 * B*H*W cells computes wIn @ x (hid*C multiply-adds), wLeft @ h_left and wTop @ h_top
 * (hid*hid each): `2 * B * H * W * hid * (C + 2 * hid)`, times 5 for the lstm's gate
 * blocks. Bias adds, activations and the lstm's gating (O(hid) per cell) are not counted;
 * border cells are counted in full (their missing neighbours are zeros the kernel
 * multiplies too). A backward costs about twice this (the transposed recurrence, then
 * dwIn/dwLeft/dwTop and dx as GEMMs of the same size); the lstm's three times (it first
 * recomputes the gates from the given h).
 */
function rnn2dFlops(value: unknown): number {
  const op = 'rnn2d.flops';
  const args = checkArgs(op, value);
  const batch = checkInteger(`${op}: batch`, args.batch, 0, undefined, 1);
  const height = checkInteger(`${op}: height`, args.height, 0);
  const width = checkInteger(`${op}: width`, args.width, 0);
  const channels = checkInteger(`${op}: inputChannels`, args.inputChannels, 0);
  const hidden = checkInteger(`${op}: hidden`, args.hidden, 0);
  const blocks = GATE_BLOCKS[checkChoice(`${op}: cell`, args.cell, CELLS, 'rnn')];
  return 2 * batch * height * width * blocks * hidden * (channels + 2 * hidden);
}
