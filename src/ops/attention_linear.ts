// weft.attention.linear, linearBackward and linearStream: validation and dispatch.
// out_t = phi(q_t) . sum_s phi(k_s) v_s^T / (phi(q_t) . sum_s phi(k_s) + eps) over the
// keys t sees (all, or s <= t + S - T when causal; keyMask drops keys).

import { WeftError, describe } from '../errors.js';
import { Tensor, checkElementCount, checkTensor, firstNonFinite } from '../tensor.js';
import { checkSeed } from '../rng.js';
import {
  AttentionOperands, AttentionShape, CheckedGradients, MaxAbs, ValueChecked, checkGradients, checkOperands,
  checkWorkingSizes, finiteMax,
} from './attention_checks.js';
import { checkArgs, checkChoice, checkInteger, checkNumber } from '../args.js';
import type { AttentionGradientArrays, AttentionGradients } from './attention.js';
import { defaultFeatureCount, favorFeatures } from './attention_favor.js';

export type FeatureMap = 'elu1' | 'relu' | 'favor';
const FEATURE_MAPS: readonly FeatureMap[] = ['elu1', 'relu', 'favor'];

/** How queries and keys become features (shared by a batch call and a stream). */
export interface FeatureSpec {
  featureMap: FeatureMap;
  /** Number of features: d for elu1 and relu, numFeatures for favor. */
  F: number;
  /** FAVOR+ random features W [F, d] (favor only). */
  W?: Float32Array;
  /** FAVOR+ estimates exp(scale q . k) (inputs scaled by sqrt(scale)); unused by elu1 and relu. */
  scale: number;
  eps: number;
}

/** One validated linear-attention call. */
export interface LinearAttentionProblem extends AttentionOperands, ValueChecked {
  features: FeatureSpec;
}

/** One step of a stream: BH = B * heads rows of q, k [BH, d] and v [BH, dv]. */
export interface LinearStepProblem extends ValueChecked {
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  BH: number;
  d: number;
  dv: number;
  features: FeatureSpec;
}

/**
 * The carried state of a stream, updated in place by a step: per row (of BH), KV' [F, dv + 1]
 * and its FAVOR+ per-feature stabilisers [F] (-Infinity before the first token; unused by elu1 and relu).
 */
export interface LinearStreamState {
  kv: Float32Array;
  units: Float32Array;
}

export interface LinearAttentionKernels {
  attentionLinear(p: LinearAttentionProblem): Float32Array;
  attentionLinearBackward(p: LinearAttentionProblem, g: CheckedGradients): AttentionGradientArrays;
  /** out [BH, dv]; advances `state`. */
  attentionLinearStep(p: LinearStepProblem, state: LinearStreamState): Float32Array;
}

export interface FeatureOptions {
  /** 'elu1' (default): elu(x) + 1; 'relu'; 'favor': positive orthogonal random features (Performer). */
  featureMap?: FeatureMap;
  /** FAVOR+ features; default d * ceil(ln d) (at least d). */
  numFeatures?: number;
  /** Seed of the FAVOR+ features (default 0): the same seed gives the same features on every backend. */
  seed?: number;
  /** Added to the denominator; default 1e-6. */
  eps?: number;
  /** FAVOR+ approximates softmax(scale q . k); default 1 / sqrt(d). Ignored by elu1 and relu. */
  scale?: number;
}

export interface LinearAttentionArgs extends FeatureOptions {
  /** [B, Hq, T, d] */
  q: Tensor;
  /** [B, Hkv, S, d] */
  k: Tensor;
  /** [B, Hkv, S, dv] */
  v: Tensor;
  /** Query t sees keys s <= t + (S - T). Default false. */
  causal?: boolean;
  /** Uint8Array [B, S]: 0 drops a key. */
  keyMask?: Uint8Array;
}

export interface LinearBackwardExtras {
  /** [B, Hq, T, dv] */
  dout: Tensor;
  /** The forward's out, to skip recomputing it. */
  out?: Tensor;
}

export interface LinearStreamOptions extends FeatureOptions {
  heads: number;
  /** Query and key width d. */
  dim: number;
  /** Value width dv; default dim. */
  valueDim?: number;
}

/** Causal linear attention one token at a time (see linearStream). */
export interface LinearStream {
  /**
   * Attend with one new token per row: q, k [B, heads, dim] (or [heads, dim]), v [B, heads, valueDim]
   * -> out of v's shape. The token sees itself and every earlier one.
   */
  step(q: Tensor, k: Tensor, v: Tensor): Tensor;
  /** Forget every token seen (the next step is position 0). */
  reset(): void;
  /** Tokens seen since the start or the last reset. */
  readonly position: number;
}

// Bound on the sums a call forms (numerator, denominator, FAVOR+ logits), far below
// the f32 limit of 3.4e38: inputs that could exceed it are refused (RANGE).
const SUM_LIMIT = 1e37;
// A stream's sums grow with its length: bound them as if over 2^20 tokens.
const STREAM_TOKENS = 2 ** 20;
// Rows per pass of the kernels' feature buffers (assembly/attention_linear.ts PASS_CHUNK)
// and queries per causal block (LINEAR_CHUNK).
const PASS_ROWS = 128;
const CAUSAL_BLOCK = 32;

/** The working buffers every linear call (and a stream) holds per kv head: KV' and the feature rows. */
function linearBuffers(F: number, dv: number): [string, number][] {
  return [["KV' [numFeatures, dv + 1]", F * (dv + 1)], [`feature rows [${PASS_ROWS}, numFeatures]`, PASS_ROWS * F]];
}

/**
 * The feature options of a call whose values have width dv (undefined: favorFeatures),
 * with its working buffers checked (MEMORY) before the FAVOR+ matrix is built.
 */
function checkFeatures(fn: string, args: Record<string, unknown>, d: number, dv?: number): FeatureSpec {
  const featureMap = checkChoice(`${fn}: featureMap`, args.featureMap, FEATURE_MAPS, 'elu1');
  const eps = checkNumber(`${fn}: eps`, args.eps, 0, Infinity, 1e-6);
  const scale = checkNumber(`${fn}: scale`, args.scale, 0, Infinity, 1 / Math.sqrt(d));
  const F = featureMap === 'favor'
    ? checkInteger(`${fn}: numFeatures`, args.numFeatures, 1, Number.MAX_SAFE_INTEGER, defaultFeatureCount(d))
    : d;
  if (dv !== undefined) checkWorkingSizes(fn, linearBuffers(F, dv));
  if (featureMap !== 'favor') return { featureMap, F, scale, eps };
  checkElementCount(`${fn}: numFeatures * d`, F * d);
  const seed = args.seed === undefined ? 0 : checkSeed(fn, args.seed);
  return { featureMap: 'favor', F, W: favorFeatures(d, F, seed), scale, eps };
}

/**
 * Finite q, k, v whose sums over `keys` keys stay finite: for elu1 / relu
 * |num| <= F * keys * (1 + max|q|) (1 + max|k|) (1 + max|v|); FAVOR+ features are at
 * most 1 after stabilisation, so only the logits scale * d * max|x|^2 and keys * max|v| count.
 */
function valueCheck(
  fn: string, q: Float32Array, k: Float32Array, v: Float32Array, d: number, keys: number, features: FeatureSpec,
): (maxAbs: MaxAbs) => number {
  return (maxAbs) => {
    const mq = finiteMax(`${fn}: q`, q, maxAbs), mk = finiteMax(`${fn}: k`, k, maxAbs), mv = finiteMax(`${fn}: v`, v, maxAbs);
    const n = Math.max(1, keys);
    const bound = features.featureMap === 'favor'
      ? Math.max(features.scale * d * Math.max(mq, mk) ** 2, n * mv)
      : features.F * n * (1 + mq) * (1 + mk) * (1 + mv);
    if (!(bound <= SUM_LIMIT)) {
      throw new WeftError('RANGE', `${fn}: |q|, |k|, |v| up to ${mq}, ${mk}, ${mv} could overflow f32 sums (bound ${bound} > ${SUM_LIMIT})`);
    }
    return bound;
  };
}

function planLinear(fn: string, options: unknown): LinearAttentionProblem & { sumBound: number } {
  const args = checkArgs(fn, options, '{ q, k, v, ... }');
  const operands = checkOperands(fn, args);
  checkElementCount(`${fn}: out`, operands.B * operands.Hq * operands.T * operands.dv);
  const features = checkFeatures(fn, args, operands.d, operands.dv);
  const sums = valueCheck(fn, operands.q, operands.k, operands.v, operands.d, operands.S, features);
  const problem = { ...operands, features, sumBound: NaN, checkValues: (maxAbs: MaxAbs) => void (problem.sumBound = sums(maxAbs)) };
  return problem;
}

function wrapGradients(p: AttentionShape, g: AttentionGradientArrays): AttentionGradients {
  return {
    dq: { data: g.dq, shape: [p.B, p.Hq, p.T, p.d] },
    dk: { data: g.dk, shape: [p.B, p.Hkv, p.S, p.d] },
    dv: { data: g.dv, shape: [p.B, p.Hkv, p.S, p.dv] },
  };
}

/** weft.attention.linear -> { out [B, Hq, T, dv] }. */
export function attentionLinear(kernels: LinearAttentionKernels, args: LinearAttentionArgs): { out: Tensor } {
  const p = planLinear('attention.linear', args);
  return { out: { data: kernels.attentionLinear(p), shape: [p.B, p.Hq, p.T, p.dv] } };
}

/** weft.attention.linearBackward -> { dq, dk, dv }. */
export function attentionLinearBackward(
  kernels: LinearAttentionKernels,
  args: LinearAttentionArgs & LinearBackwardExtras,
): AttentionGradients {
  const fn = 'attention.linearBackward';
  const p = planLinear(fn, args);
  const g = checkGradients(fn, args as unknown as Record<string, unknown>, p, false);
  const checkGradientValues = g.checkValues;
  g.checkValues = (maxAbs) => {
    // the backward's sums run over T queries weighted by dout (after p.checkValues set sumBound)
    const maxima = checkGradientValues(maxAbs);
    const doutMax = maxima.dout;
    // a given out enters as dout . out
    const bound = p.sumBound * Math.max(1, p.T) * (1 + doutMax) * (1 + maxima.out);
    if (!(bound <= SUM_LIMIT)) {
      throw new WeftError('RANGE', `${fn}: |dout| up to ${doutMax} with these q, k, v could overflow f32 gradient sums (bound ${bound} > ${SUM_LIMIT})`);
    }
    return maxima;
  };
  // dN' of every query of a kv head's group, and (FAVOR+) the stabilisers before each causal block
  checkWorkingSizes(fn, [
    ["dN' [Hq / Hkv, T, dv + 1]", (p.Hq / p.Hkv) * p.T * (p.dv + 1)],
    ['block stabilisers [T / 32, numFeatures]', Math.ceil(p.T / CAUSAL_BLOCK) * p.features.F],
  ]);
  return wrapGradients(p, kernels.attentionLinearBackward(p, g));
}

/** A required count option >= 1: OPTION when missing or not an integer, RANGE when below 1. */
function requiredCount(fn: string, args: Record<string, unknown>, name: string): number {
  if (args[name] === undefined) throw new WeftError('OPTION', `${fn}: ${name} is required (an integer >= 1)`);
  return checkInteger(`${fn}: ${name}`, args[name], 1);
}

/** weft.attention.favorFeatures: the FAVOR+ matrix W [F, d] a call with this seed uses. */
export function attentionFavorFeatures(options: { dim: number; numFeatures?: number; seed?: number }): Tensor {
  const fn = 'attention.favorFeatures';
  const args = checkArgs(fn, options, '{ dim, numFeatures?, seed? }');
  const d = requiredCount(fn, args, 'dim');
  const spec = checkFeatures(fn, { ...args, featureMap: 'favor' }, d);
  return { data: spec.W!.slice(), shape: [spec.F, d] };
}

/** weft.attention.linearStream: causal linear attention one token at a time. */
export function attentionLinearStream(kernels: LinearAttentionKernels, options: LinearStreamOptions): LinearStream {
  const fn = 'attention.linearStream';
  const args = checkArgs(fn, options, '{ heads, dim, valueDim?, featureMap?, numFeatures?, seed? }');
  const heads = requiredCount(fn, args, 'heads');
  const d = requiredCount(fn, args, 'dim');
  const dv = checkInteger(`${fn}: valueDim`, args.valueDim, 0, Number.MAX_SAFE_INTEGER, d);
  const features = checkFeatures(fn, args, d, dv);
  const stateFloats = (batch: number) => batch * heads * features.F * (dv + 1);
  // refuse a state that cannot exist even for one sequence now, not at the first step
  checkElementCount(`${fn}: state`, stateFloats(1));
  let state: LinearStreamState | undefined;
  let batch = 0;
  let position = 0;

  const forget = (): void => {
    state = undefined;
    batch = 0;
    position = 0;
  };
  const checkStep = (name: string, t: unknown, width: number): { data: Float32Array; batch: number; rank: number } => {
    const tensor = checkTensor(`${fn}.step: ${name}`, t, [2, 3]);
    const [b, h, w] = tensor.shape.length === 3 ? tensor.shape : [1, ...tensor.shape];
    if (h !== heads || w !== width) {
      throw new WeftError('SHAPE', `${fn}.step: ${name} must be [B, ${heads}, ${width}] or [${heads}, ${width}], got ${describe(tensor.shape)}`);
    }
    return { data: tensor.data, batch: b, rank: tensor.shape.length };
  };
  return {
    step(q: Tensor, k: Tensor, v: Tensor): Tensor {
      const tq = checkStep('q', q, d), tk = checkStep('k', k, d), tv = checkStep('v', v, dv);
      if (tk.batch !== tq.batch || tv.batch !== tq.batch) {
        throw new WeftError('SHAPE', `${fn}.step: q, k and v batch sizes differ: ${tq.batch}, ${tk.batch}, ${tv.batch}`);
      }
      if (position > 0 && tq.batch !== batch) {
        throw new WeftError('SHAPE', `${fn}.step: the stream holds ${batch} sequences, got a step of ${tq.batch} (reset() first)`);
      }
      if (!state || tq.batch !== batch) {
        checkElementCount(`${fn}: state`, stateFloats(tq.batch));
        batch = tq.batch;
        const units = new Float32Array(batch * heads * features.F).fill(features.featureMap === 'favor' ? -Infinity : 0);
        state = { kv: new Float32Array(stateFloats(batch)), units };
      }
      const problem: LinearStepProblem = {
        q: tq.data, k: tk.data, v: tv.data, BH: batch * heads, d, dv, features,
        checkValues: valueCheck(`${fn}.step`, tq.data, tk.data, tv.data, d, STREAM_TOKENS, features),
      };
      const out = kernels.attentionLinearStep(problem, state);
      // the state has absorbed the token: if its sums overflowed f32, start over rather than
      // keep a state that would give NaN from now on (the caller gets RANGE and a fresh stream)
      const bad = firstNonFinite(out);
      if (bad >= 0) {
        forget();
        throw new WeftError('RANGE', `${fn}.step: the stream's sums overflowed float32 (${out[bad]} at index ${bad}); the stream was reset`);
      }
      position++;
      return { data: out, shape: tq.rank === 3 ? [batch, heads, dv] : [heads, dv] };
    },
    reset: forget,
    get position() {
      return position;
    },
  };
}
