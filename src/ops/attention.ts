// weft.attention.full / windowed and their backward passes: validation and dispatch.
// Layout [B, heads, T, d]: q [B, Hq, T, d], k [B, Hkv, S, d], v [B, Hkv, S, dv];
// query head h reads kv head floor(h / (Hq / Hkv)). Causal: query t sees keys
// s <= t + (S - T). A row that sees no key gives zeros and lse = -Infinity.

import { WeftError, describe } from '../errors.js';
import { Tensor, allocF32, checkElementCount } from '../tensor.js';
import {
  AttentionOperands, AttentionShape, CheckedGradients, ValueChecked, ceil4, checkGradients, checkOperands,
  checkWorkingSizes, finiteMax,
} from './attention_checks.js';
import { checkArgs, checkNumber } from '../args.js';
import { checkNegInfLse, checkProbabilities } from './attention_lse.js';

/** The band of windowed attention; full attention is left = right = Infinity, dilation 1, no globals. */
export interface AttentionBand {
  /** Keys before the query's position, counted on the dilated grid (Infinity: all). */
  left: number;
  /** Keys after it (Infinity: all; 0 when causal). */
  right: number;
  dilation: number;
  /** Sorted, unique global key positions (< S). */
  globals: Int32Array;
}

/** One validated softmax-attention call. */
export interface SoftmaxAttentionProblem extends AttentionOperands, ValueChecked {
  scale: number;
  band: AttentionBand;
  /** |scale| d max|q| max|k|, a bound on every |score|: set by checkValues. */
  scoreBound: number;
  /** max |v|, set by checkValues (the backward bounds dout . v with it). */
  valueMax: number;
}

export interface AttentionOutput {
  /** [B, Hq, T, dv] */
  out: Float32Array;
  /** [B, Hq, T] */
  lse: Float32Array;
}

export interface AttentionGradientArrays {
  /** [B, Hq, T, d] */
  dq: Float32Array;
  /** [B, Hkv, S, d] */
  dk: Float32Array;
  /** [B, Hkv, S, dv] */
  dv: Float32Array;
}

/** A softmax backward's gradients and the largest probability exp(score - lse) it met. */
export interface SoftmaxGradientArrays extends AttentionGradientArrays {
  maxProbability: number;
}

export interface SoftmaxAttentionKernels {
  /** Exact attention: out and lse. */
  attentionFull(p: SoftmaxAttentionProblem): AttentionOutput;
  /** Banded attention (p.band). */
  attentionWindowed(p: SoftmaxAttentionProblem): AttentionOutput;
  attentionFullBackward(p: SoftmaxAttentionProblem, g: CheckedGradients): SoftmaxGradientArrays;
  attentionWindowedBackward(p: SoftmaxAttentionProblem, g: CheckedGradients): SoftmaxGradientArrays;
}

/** Options every attention call shares. */
export interface AttentionCommonOptions {
  /** Multiplies q . k; default 1 / sqrt(d). */
  scale?: number;
  /** Query t sees keys s <= t + (S - T). Default false. */
  causal?: boolean;
  /** Uint8Array [B, S]: 0 marks a padded key, excluded from numerator and denominator. */
  keyMask?: Uint8Array;
}

export interface FullAttentionArgs extends AttentionCommonOptions {
  /** [B, Hq, T, d] */
  q: Tensor;
  /** [B, Hkv, S, d] */
  k: Tensor;
  /** [B, Hkv, S, dv] */
  v: Tensor;
}

export interface WindowedAttentionArgs extends FullAttentionArgs {
  /**
   * Inclusive [left, right]: query t (at key position p = t + S - T) sees keys
   * s = p + j * dilation for -left <= j <= right. Infinity for no edge; causal forces right = 0.
   */
  window: readonly [number, number];
  /** Spacing of the band's keys; default 1. */
  dilation?: number;
  /** Key positions that attend to, and are attended by, every position. */
  globalTokens?: Int32Array;
}

/**
 * Backward arguments: the forward's arguments plus dout [B, Hq, T, dv], optionally its
 * out and lse (both, or they are recomputed). lse must be the forward's: -Infinity only
 * for a row that sees no key, and never below a row's largest score (else RANGE).
 */
export interface SoftmaxBackwardExtras {
  dout: Tensor;
  out?: Tensor;
  lse?: Tensor;
}

export interface AttentionResult {
  out: Tensor;
  lse: Tensor;
}

export interface AttentionGradients {
  dq: Tensor;
  dk: Tensor;
  dv: Tensor;
}

const FULL_BAND: AttentionBand = { left: Infinity, right: Infinity, dilation: 1, globals: new Int32Array(0) };

// Largest |score| we accept before a single product could overflow f32 (3.4e38).
const SCORE_LIMIT = 1e37;

function planSoftmax(fn: string, options: unknown, windowed: boolean): SoftmaxAttentionProblem {
  const args = checkArgs(fn, options, '{ q, k, v, ... }');
  const operands = checkOperands(fn, args);
  const scale = checkNumber(`${fn}: scale`, args.scale, -Infinity, Infinity, 1 / Math.sqrt(operands.d));
  checkElementCount(`${fn}: out`, operands.B * operands.Hq * operands.T * operands.dv);
  // the packed copies of one kv head the kernels tile over (assembly/attention_windowed.ts)
  const { S, d, dv } = operands;
  checkWorkingSizes(fn, [['packed keys [S, d]', ceil4(S) * d], ['packed values [dv, S]', ceil4(dv) * ceil4(S)]]);
  const band = windowed ? checkBand(fn, args, operands) : FULL_BAND;
  const problem: SoftmaxAttentionProblem = { ...operands, scale, band, scoreBound: NaN, valueMax: NaN, checkValues: () => {} };
  problem.checkValues = (maxAbs) => {
    const maxQ = finiteMax(`${fn}: q`, operands.q, maxAbs);
    const maxK = finiteMax(`${fn}: k`, operands.k, maxAbs);
    problem.valueMax = finiteMax(`${fn}: v`, operands.v, maxAbs);
    // |scale * q . k| <= |scale| * d * max|q| * max|k|: refuse inputs whose scores could overflow
    const bound = Math.abs(scale) * operands.d * maxQ * maxK;
    if (!(bound <= SCORE_LIMIT)) {
      throw new WeftError('RANGE', `${fn}: |q| and |k| up to ${maxQ} and ${maxK} could overflow f32 scores (bound ${bound} > ${SCORE_LIMIT})`);
    }
    problem.scoreBound = bound;
  };
  return problem;
}

function checkBand(fn: string, args: Record<string, unknown>, s: AttentionOperands): AttentionBand {
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

function wrapGradients(p: AttentionShape, g: AttentionGradientArrays): AttentionGradients {
  return {
    dq: { data: g.dq, shape: [p.B, p.Hq, p.T, p.d] },
    dk: { data: g.dk, shape: [p.B, p.Hkv, p.S, p.d] },
    dv: { data: g.dv, shape: [p.B, p.Hkv, p.S, p.dv] },
  };
}

/** weft.attention.full: exact attention -> { out [B, Hq, T, dv], lse [B, Hq, T] }. */
export function attentionFull(kernels: SoftmaxAttentionKernels, args: FullAttentionArgs): AttentionResult {
  const p = planSoftmax('attention.full', args, false);
  return wrapOutput(p, kernels.attentionFull(p));
}

/** weft.attention.windowed: banded attention -> { out, lse }. */
export function attentionWindowed(kernels: SoftmaxAttentionKernels, args: WindowedAttentionArgs): AttentionResult {
  const p = planSoftmax('attention.windowed', args, true);
  return wrapOutput(p, kernels.attentionWindowed(p));
}

/** weft.attention.fullBackward -> { dq, dk, dv }. */
export function attentionFullBackward(
  kernels: SoftmaxAttentionKernels,
  args: FullAttentionArgs & SoftmaxBackwardExtras,
): AttentionGradients {
  return softmaxBackward('attention.fullBackward', args, false, (p, g) => kernels.attentionFullBackward(p, g));
}

/** weft.attention.windowedBackward -> { dq, dk, dv }. */
export function attentionWindowedBackward(
  kernels: SoftmaxAttentionKernels,
  args: WindowedAttentionArgs & SoftmaxBackwardExtras,
): AttentionGradients {
  return softmaxBackward('attention.windowedBackward', args, true, (p, g) => kernels.attentionWindowedBackward(p, g));
}

/** Validate a backward call (lse: see SoftmaxBackwardExtras), run it, refuse an lse the kernel found inconsistent. */
function softmaxBackward(
  fn: string, args: object, windowed: boolean,
  run: (p: SoftmaxAttentionProblem, g: CheckedGradients) => SoftmaxGradientArrays,
): AttentionGradients {
  const p = planSoftmax(fn, args, windowed);
  const g = checkGradients(fn, args as Record<string, unknown>, p, true);
  // the backward packs one head's queries and dout in two layouts each
  checkWorkingSizes(fn, [['packed queries [d, T]', ceil4(p.d) * ceil4(p.T)], ['packed dout [dv, T]', ceil4(p.dv) * ceil4(p.T)]]);
  const checkGradientValues = g.checkValues;
  g.checkValues = (maxAbs) => {
    const maxima = checkGradientValues(maxAbs);
    // |dout_t . v_s| and |dout_t . out_t| (a given out) <= dv * max|dout| * max(|v|, |out|)
    // (runs after p.checkValues): the same limit as the scores
    const other = Math.max(p.valueMax, maxima.out);
    const bound = p.dv * maxima.dout * other;
    if (!(bound <= SCORE_LIMIT)) {
      throw new WeftError(
        'RANGE',
        `${fn}: |dout| up to ${maxima.dout} and |v| or the given |out| up to ${other} could overflow f32 gradients (bound ${bound} > ${SCORE_LIMIT})`,
      );
    }
    return maxima;
  };
  const givenLse = g.out && g.lse;
  if (givenLse) checkNegInfLse(fn, p, p.band, givenLse);
  const grads = run(p, g);
  if (givenLse) checkProbabilities(fn, grads.maxProbability, p.d, p.scoreBound);
  return wrapGradients(p, grads);
}

/** Fresh zeroed gradient arrays for a call. */
export function allocGradients(fn: string, p: AttentionShape): AttentionGradientArrays {
  return {
    dq: allocF32(`${fn}: dq`, p.B * p.Hq * p.T * p.d),
    dk: allocF32(`${fn}: dk`, p.B * p.Hkv * p.S * p.d),
    dv: allocF32(`${fn}: dv`, p.B * p.Hkv * p.S * p.dv),
  };
}
