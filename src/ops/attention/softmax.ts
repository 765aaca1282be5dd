// weft.attention.full / windowed and their backward passes: validation, staging,
// value checks and the kernels. Full attention is the band with infinite edges.

import { WeftError, describe } from '../../errors.js';
import type { Tensor } from '../../tensor.js';
import { checkElementCount } from '../../tensor.js';
import { checkArgs, checkNumber } from '../../args.js';
import type { Call, OpBackend } from '../op.js';
import {
  ceil4, checkGradients, checkNegInfLse, checkOperands, checkProbabilities, checkWorkingSizes, stageGradients, stageOperands,
} from './checks.js';
import type {
  AttentionBand, AttentionGradientArrays, AttentionKernels, AttentionOperands, AttentionOutput, AttentionShape, SoftmaxAttentionProblem,
} from './kernels.js';

/** Options every attention call shares. */
export interface AttentionCommonOptions {
  /** Multiplies q · k: any finite number. Default 1 / sqrt(d). */
  scale?: number;
  /** Query t sees keys s <= t + (S - T) (the queries are the last T of S positions). Default false. */
  causal?: boolean;
  /**
   * One byte per key, [B, S]: 0 marks a padded key, excluded from numerator and denominator;
   * default none (every key visible). DTYPE if not a Uint8Array, SHAPE unless it has B·S entries.
   */
  keyMask?: Uint8Array;
}

/** Arguments of weft.attention.full (and, with a window, windowed). */
export interface FullAttentionArgs extends AttentionCommonOptions {
  /** Queries [B, Hq, T, d], d >= 1. */
  q: Tensor;
  /** Keys [B, Hkv, S, d]; Hq must be a multiple of Hkv (grouped-query attention). */
  k: Tensor;
  /** Values [B, Hkv, S, dv]. */
  v: Tensor;
}

/** Arguments of weft.attention.windowed. */
export interface WindowedAttentionArgs extends FullAttentionArgs {
  /**
   * Inclusive [left, right], in steps of `dilation` key positions: query t (at key position
   * p = t + S - T) sees keys s = p + j * dilation for -left <= j <= right. Each an integer
   * >= 0 or Infinity (no edge): OPTION otherwise, RANGE if negative. causal forces right = 0.
   */
  window: readonly [number, number];
  /** Spacing of the band's keys, in key positions: an integer >= 1 (RANGE below). Default 1. */
  dilation?: number;
  /**
   * Key positions in [0, S) that attend to, and are attended by, every position (RANGE
   * outside; DTYPE if not an Int32Array). Default none.
   */
  globalTokens?: Int32Array;
}

/**
 * Backward arguments: the forward's arguments plus dout [B, Hq, T, dv], optionally its
 * out and lse (both, or they are recomputed). lse must be the forward's: -Infinity only
 * for a row that sees no key, and never below a row's largest score (else RANGE).
 */
export interface SoftmaxBackwardExtras {
  /** dL/dout [B, Hq, T, dv]. */
  dout: Tensor;
  /** The forward's out [B, Hq, T, dv]; default: recomputed. */
  out?: Tensor;
  /** The forward's lse [B, Hq, T]; default: recomputed. */
  lse?: Tensor;
}

/** What full and windowed attention return. */
export interface AttentionResult {
  /** The attended values [B, Hq, T, dv]; a row that sees no key is 0. */
  out: Tensor;
  /** The log-sum-exp of each row's scaled scores [B, Hq, T] (natural log); -Infinity for a row that sees no key. */
  lse: Tensor;
}

/** The gradients of an attention call, each shaped like its input. */
export interface AttentionGradients {
  /** dL/dq [B, Hq, T, d]. */
  dq: Tensor;
  /** dL/dk [B, Hkv, S, d] (summed over the query heads that share a kv head). */
  dk: Tensor;
  /** dL/dv [B, Hkv, S, dv] (summed likewise). */
  dv: Tensor;
}

const FULL_BAND: AttentionBand = { left: Infinity, right: Infinity, dilation: 1, globals: new Int32Array(0) };

// Largest |score| we accept before a single product could overflow f32 (3.4e38).
const SCORE_LIMIT = 1e37;

/** A validated softmax-attention call, before staging. */
interface SoftmaxPlan extends AttentionOperands<Float32Array> {
  scale: number;
  band: AttentionBand;
}

function planSoftmax(fn: string, options: unknown, windowed: boolean): SoftmaxPlan {
  const args = checkArgs(fn, options, '{ q, k, v, ... }');
  const operands = checkOperands(fn, args);
  const scale = checkNumber(`${fn}: scale`, args.scale, -Infinity, Infinity, 1 / Math.sqrt(operands.d));
  checkElementCount(`${fn}: out`, operands.B * operands.Hq * operands.T * operands.dv);
  // the packed copies of one kv head the kernels tile over (assembly/attention_windowed.ts)
  const { S, d, dv } = operands;
  checkWorkingSizes(fn, [['packed keys [S, d]', ceil4(S) * d], ['packed values [dv, S]', ceil4(dv) * ceil4(S)]]);
  const band = windowed ? checkBand(fn, args, operands) : FULL_BAND;
  return { ...operands, scale, band };
}

/**
 * Stage q, k, v and check them: finite, and scores that cannot overflow f32. Returns
 * the staged problem, the bound on every |score| (|scale| d max|q| max|k|) and max |v|.
 */
function stageSoftmax(call: Call, fn: string, plan: SoftmaxPlan): { problem: SoftmaxAttentionProblem; scoreBound: number; maxV: number } {
  const { staged, maxQ, maxK, maxV } = stageOperands(call, fn, plan);
  // |scale * q . k| <= |scale| * d * max|q| * max|k|: refuse inputs whose scores could overflow
  const scoreBound = Math.abs(plan.scale) * plan.d * maxQ * maxK;
  if (!(scoreBound <= SCORE_LIMIT)) {
    throw new WeftError('RANGE', `${fn}: |q| and |k| up to ${maxQ} and ${maxK} could overflow f32 scores (bound ${scoreBound} > ${SCORE_LIMIT})`);
  }
  return { problem: staged, scoreBound, maxV };
}

function checkBand(fn: string, args: Record<string, unknown>, s: AttentionOperands<unknown>): AttentionBand {
  const window = args.window;
  if (!Array.isArray(window) || window.length !== 2) {
    throw new WeftError('OPTION', `${fn}: window must be [left, right] (integers >= 0 or Infinity), got ${describe(window)}`);
  }
  const [left, right] = window.map((w: unknown, i) => windowEdge(`${fn}: window[${i}]`, w));
  const dilation = checkDilation(`${fn}: dilation`, args.dilation, s);
  let globals = new Int32Array(0);
  if (args.globalTokens !== undefined) {
    if (!(args.globalTokens instanceof Int32Array)) {
      throw new WeftError('DTYPE', `${fn}: globalTokens must be an Int32Array, got ${describe(args.globalTokens)}`);
    }
    for (const g of args.globalTokens) {
      if (g < 0 || g >= s.S) throw new WeftError('RANGE', `${fn}: globalTokens holds ${g}, outside [0, ${s.S})`);
    }
    globals = Int32Array.from(new Set(args.globalTokens)).sort();
  }
  // Beyond S + T a window edge reaches every key: store it as Infinity.
  const edge = (w: number) => (w * dilation >= s.S + s.T ? Infinity : w);
  return { left: edge(left), right: s.causal ? 0 : edge(right), dilation, globals };
}

/** A window edge: an integer >= 0 or Infinity. Not an integer is OPTION, negative RANGE. */
function windowEdge(name: string, w: unknown): number {
  if (typeof w !== 'number' || Number.isNaN(w) || (Number.isFinite(w) && !Number.isInteger(w))) {
    throw new WeftError('OPTION', `${name}: expected an integer >= 0 or Infinity, got ${describe(w)}`);
  }
  if (w < 0) throw new WeftError('RANGE', `${name}: expected an integer >= 0 or Infinity, got ${w}`);
  return w;
}

/**
 * The band's dilation, an integer >= 1 (default 1). A dilation of S + T or more
 * already leaves only the query's own position on its grid (|s - p| < S + T for every
 * key s and position p), so larger values are clamped to S + T: the meaning is
 * unchanged and the kernels' 32-bit arithmetic cannot wrap (2^32 + 1 would read as 1).
 */
function checkDilation(name: string, value: unknown, s: AttentionShape): number {
  if (value === undefined) return 1;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new WeftError('OPTION', `${name}: expected an integer >= 1, got ${describe(value)}`);
  }
  if (value < 1) throw new WeftError('RANGE', `${name}: expected an integer >= 1, got ${value}`);
  return Math.min(value, Math.max(1, s.S + s.T));
}

function wrapOutput(p: AttentionShape, result: AttentionOutput): AttentionResult {
  return {
    out: { data: result.out, shape: [p.B, p.Hq, p.T, p.dv] },
    lse: { data: result.lse, shape: [p.B, p.Hq, p.T] },
  };
}

/** The gradient arrays as tensors shaped like q, k and v. */
export function wrapGradients(p: AttentionShape, g: AttentionGradientArrays): AttentionGradients {
  return {
    dq: { data: g.dq, shape: [p.B, p.Hq, p.T, p.d] },
    dk: { data: g.dk, shape: [p.B, p.Hkv, p.S, p.d] },
    dv: { data: g.dv, shape: [p.B, p.Hkv, p.S, p.dv] },
  };
}

/** weft.attention.full (windowed = false) and weft.attention.windowed -> { out [B, Hq, T, dv], lse [B, Hq, T] }. */
export function softmaxForward(backend: OpBackend<AttentionKernels>, call: Call, args: unknown, windowed: boolean): AttentionResult {
  const fn = windowed ? 'attention.windowed' : 'attention.full';
  const plan = planSoftmax(fn, args, windowed);
  const { problem } = stageSoftmax(call, fn, plan);
  const kernels = backend.kernels;
  return wrapOutput(plan, windowed ? kernels.attentionWindowed(call, problem) : kernels.attentionFull(call, problem));
}

/**
 * weft.attention.fullBackward and windowedBackward -> { dq, dk, dv }: validate (lse: see
 * SoftmaxBackwardExtras), stage and check, run, refuse an lse the kernel found inconsistent.
 */
export function softmaxBackward(backend: OpBackend<AttentionKernels>, call: Call, args: unknown, windowed: boolean): AttentionGradients {
  const fn = windowed ? 'attention.windowedBackward' : 'attention.fullBackward';
  const plan = planSoftmax(fn, args, windowed);
  const gradients = checkGradients(fn, args as Record<string, unknown>, plan, true);
  // the backward packs one head's queries and dout in two layouts each
  checkWorkingSizes(fn, [['packed queries [d, T]', ceil4(plan.d) * ceil4(plan.T)], ['packed dout [dv, T]', ceil4(plan.dv) * ceil4(plan.T)]]);
  const { problem, scoreBound, maxV } = stageSoftmax(call, fn, plan);
  const { staged, maxDout, maxOut } = stageGradients(call, fn, gradients);
  // |dout_t . v_s| and |dout_t . out_t| (a given out) <= dv * max|dout| * max(|v|, |out|): the same limit as the scores
  const other = Math.max(maxV, maxOut);
  const bound = plan.dv * maxDout * other;
  if (!(bound <= SCORE_LIMIT)) {
    throw new WeftError(
      'RANGE',
      `${fn}: |dout| up to ${maxDout} and |v| or the given |out| up to ${other} could overflow f32 gradients (bound ${bound} > ${SCORE_LIMIT})`,
    );
  }
  const givenLse = gradients.out && gradients.lse;
  if (givenLse) checkNegInfLse(fn, plan, plan.band, givenLse);
  else staged.lse = staged.out = undefined;
  const grads = windowed
    ? backend.kernels.attentionWindowedBackward(call, problem, staged)
    : backend.kernels.attentionFullBackward(call, problem, staged);
  if (givenLse) checkProbabilities(fn, grads.maxProbability, plan.d, scoreBound);
  return wrapGradients(plan, grads);
}
