// weft.attention.linear, linearBackward, linearStream and favorFeatures: validation,
// staging, value checks and the kernels.
// out_t = phi(q_t) . sum_s phi(k_s) v_s^T / (phi(q_t) . sum_s phi(k_s) + eps) over the
// keys t sees (all, or s <= t + S - T when causal; keyMask drops keys).

import { WeftError, describe } from '../../errors.js';
import { Tensor, checkElementCount, checkTensor, firstNonFinite } from '../../tensor.js';
import { checkSeed } from '../../rng.js';
import { checkArgs, checkChoice, checkInteger, checkNumber } from '../../args.js';
import type { Call, OpBackend } from '../op.js';
import { KERNEL_CONSTANTS } from '../../kernel_constants.generated.js';
import { bindOp, finiteMax } from '../op.js';
import { checkGradients, checkOperands, checkWorkingSizes, stageGradients, stageOperands } from './checks.js';
import { defaultFeatureCount, favorFeatures } from './favor.js';
import type {
  AttentionKernels, AttentionOperands, FeatureMap, FeatureSpec, LinearAttentionProblem, LinearStepProblem, LinearStreamState,
} from './kernels.js';
import { type AttentionGradients, wrapGradients } from './softmax.js';

export type { FeatureMap } from './kernels.js';
const FEATURE_MAPS: readonly FeatureMap[] = ['elu1', 'relu', 'favor'];

/** How linear attention turns queries and keys into features. */
export interface FeatureOptions {
  /** 'elu1' (default): elu(x) + 1; 'relu'; 'favor': positive orthogonal random features (Performer). */
  featureMap?: FeatureMap;
  /** FAVOR+ features F: an integer >= 1 (RANGE below). Default d * ceil(ln d) (at least d). Ignored by elu1 and relu. */
  numFeatures?: number;
  /** Seed of the FAVOR+ features, any safe integer (default 0): the same seed gives the same features on every backend. */
  seed?: number;
  /** Added to the denominator: a number >= 0 (RANGE below). Default 1e-6. */
  eps?: number;
  /** FAVOR+ approximates softmax(scale q · k): a number >= 0 (RANGE below). Default 1 / sqrt(d). Ignored by elu1 and relu. */
  scale?: number;
}

/** Arguments of weft.attention.linear. */
export interface LinearAttentionArgs extends FeatureOptions {
  /** Queries [B, Hq, T, d], d >= 1. */
  q: Tensor;
  /** Keys [B, Hkv, S, d]; Hq must be a multiple of Hkv (grouped-query attention). */
  k: Tensor;
  /** Values [B, Hkv, S, dv]. */
  v: Tensor;
  /** Query t sees keys s <= t + (S - T) (the queries are the last T of S positions). Default false. */
  causal?: boolean;
  /**
   * One byte per key, [B, S]: 0 drops a key; default none (every key visible). DTYPE if not a
   * Uint8Array, SHAPE unless it has B·S entries.
   */
  keyMask?: Uint8Array;
}

/** The extra arguments of weft.attention.linearBackward. */
export interface LinearBackwardExtras {
  /** dL/dout [B, Hq, T, dv]. */
  dout: Tensor;
  /** The forward's out [B, Hq, T, dv]; default: recomputed. */
  out?: Tensor;
}

/** Options of weft.attention.linearStream. */
export interface LinearStreamOptions extends FeatureOptions {
  /** Heads per token: an integer >= 1 (OPTION if missing, RANGE below 1). */
  heads: number;
  /** Query and key width d: an integer >= 1 (OPTION if missing, RANGE below 1). */
  dim: number;
  /** Value width dv: an integer >= 0 (RANGE below). Default dim. */
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
// Rows per pass of the kernels' feature buffers and queries per causal block.
const { PASS_CHUNK, LINEAR_CHUNK } = KERNEL_CONSTANTS;

/** The working buffers every linear call (and a stream) holds per kv head: KV' and the feature rows. */
function linearBuffers(F: number, dv: number): [string, number][] {
  return [["KV' [numFeatures, dv + 1]", F * (dv + 1)], [`feature rows [${PASS_CHUNK}, numFeatures]`, PASS_CHUNK * F]];
}

/**
 * The feature options of a call whose values have width dv (undefined: favorFeatures),
 * with its working buffers checked (MEMORY) before the FAVOR+ matrix is built.
 */
function checkFeatures(fn: string, args: Record<string, unknown>, d: number, dv?: number): FeatureSpec<Float32Array> {
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

/** The features with W staged (FAVOR+). */
function stageFeatures(call: Call, f: FeatureSpec<Float32Array>): FeatureSpec {
  return { featureMap: f.featureMap, F: f.F, W: f.W && call.stage(f.W, 'FAVOR+ features'), scale: f.scale, eps: f.eps };
}

/**
 * RANGE unless sums over `keys` keys stay finite, given the largest |q|, |k|, |v|: for
 * elu1 / relu |num| <= F * keys * (1 + max|q|) (1 + max|k|) (1 + max|v|); FAVOR+
 * features are at most 1 after stabilisation, so only the logits scale * d * max|x|^2
 * and keys * max|v| count. Returns the bound.
 */
function checkSums(fn: string, mq: number, mk: number, mv: number, d: number, keys: number, features: FeatureSpec<unknown>): number {
  const n = Math.max(1, keys);
  const bound = features.featureMap === 'favor'
    ? Math.max(features.scale * d * Math.max(mq, mk) ** 2, n * mv)
    : features.F * n * (1 + mq) * (1 + mk) * (1 + mv);
  if (!(bound <= SUM_LIMIT)) {
    throw new WeftError('RANGE', `${fn}: |q|, |k|, |v| up to ${mq}, ${mk}, ${mv} could overflow f32 sums (bound ${bound} > ${SUM_LIMIT})`);
  }
  return bound;
}

/** A validated linear call, before staging. */
interface LinearPlan extends AttentionOperands<Float32Array> {
  features: FeatureSpec<Float32Array>;
}

function planLinear(fn: string, options: unknown): LinearPlan {
  const args = checkArgs(fn, options, '{ q, k, v, ... }');
  const operands = checkOperands(fn, args);
  checkElementCount(`${fn}: out`, operands.B * operands.Hq * operands.T * operands.dv);
  return { ...operands, features: checkFeatures(fn, args, operands.d, operands.dv) };
}

/** Stage q, k, v (and W) and check their sums; returns the staged problem and the sums' bound. */
function stageLinear(call: Call, fn: string, plan: LinearPlan): { problem: LinearAttentionProblem; sumBound: number } {
  const { staged, maxQ, maxK, maxV } = stageOperands(call, fn, plan);
  const sumBound = checkSums(fn, maxQ, maxK, maxV, plan.d, plan.S, plan.features);
  return { problem: { ...staged, features: stageFeatures(call, plan.features) }, sumBound };
}

/** weft.attention.linear -> { out [B, Hq, T, dv] }. */
export function linearForward(backend: OpBackend<AttentionKernels>, call: Call, args: LinearAttentionArgs): { out: Tensor } {
  const fn = 'attention.linear';
  const plan = planLinear(fn, args);
  const { problem } = stageLinear(call, fn, plan);
  return { out: { data: backend.kernels.attentionLinear(call, problem), shape: [plan.B, plan.Hq, plan.T, plan.dv] } };
}

/** weft.attention.linearBackward -> { dq, dk, dv }. */
export function linearBackward(backend: OpBackend<AttentionKernels>, call: Call, args: LinearAttentionArgs & LinearBackwardExtras): AttentionGradients {
  const fn = 'attention.linearBackward';
  const plan = planLinear(fn, args);
  const gradients = checkGradients(fn, args as unknown as Record<string, unknown>, plan, false);
  // dN' of every query of a kv head's group, and (FAVOR+) the stabilisers before each causal block
  checkWorkingSizes(fn, [
    ["dN' [Hq / Hkv, T, dv + 1]", (plan.Hq / plan.Hkv) * plan.T * (plan.dv + 1)],
    [`block stabilisers [T / ${LINEAR_CHUNK}, numFeatures]`, Math.ceil(plan.T / LINEAR_CHUNK) * plan.features.F],
  ]);
  const { problem, sumBound } = stageLinear(call, fn, plan);
  const { staged, maxDout, maxOut } = stageGradients(call, fn, gradients);
  // the backward's sums run over T queries weighted by dout; a given out enters as dout . out
  const bound = sumBound * Math.max(1, plan.T) * (1 + maxDout) * (1 + maxOut);
  if (!(bound <= SUM_LIMIT)) {
    throw new WeftError('RANGE', `${fn}: |dout| up to ${maxDout} with these q, k, v could overflow f32 gradient sums (bound ${bound} > ${SUM_LIMIT})`);
  }
  return wrapGradients(plan, backend.kernels.attentionLinearBackward(call, problem, staged));
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

/**
 * weft.attention.linearStream: causal linear attention one token at a time. A step
 * checks its own output (an overflow also resets the stream) before the results check.
 */
export function linearStream(backend: OpBackend<AttentionKernels>, options: LinearStreamOptions): LinearStream {
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
  const step = bindOp(backend, `${fn}.step`, (call, q: Tensor, k: Tensor, v: Tensor): Tensor => {
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
      const label = `${fn}.step`;
      const sq = call.stage(tq.data, `${label}: q`), sk = call.stage(tk.data, `${label}: k`), sv = call.stage(tv.data, `${label}: v`);
      checkSums(label, finiteMax(`${label}: q`, sq), finiteMax(`${label}: k`, sk), finiteMax(`${label}: v`, sv), d, STREAM_TOKENS, features);
      const problem: LinearStepProblem = { q: sq, k: sk, v: sv, BH: batch * heads, d, dv, features: stageFeatures(call, features) };
      const out = backend.kernels.attentionLinearStep(call, problem, state);
      // the state has absorbed the token: if its sums overflowed f32, start over rather than
      // keep a state that would give NaN from now on (the caller gets RANGE and a fresh stream)
      const bad = firstNonFinite(out);
      if (bad >= 0) {
        forget();
        throw new WeftError('RANGE', `${fn}.step: the stream's sums overflowed float32 (${out[bad]} at index ${bad}); the stream was reset`);
      }
      position++;
      return { data: out, shape: tq.rank === 3 ? [batch, heads, dv] : [heads, dv] };
  }, ['q', 'k', 'v']);
  return {
    step,
    reset: forget,
    get position() {
      return position;
    },
  };
}
