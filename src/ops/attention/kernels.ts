// The attention family's kernel interface: the validated problems each kernel gets
// and what it returns. Layout [B, heads, T, d]: q [B, Hq, T, d], k [B, Hkv, S, d],
// v [B, Hkv, S, dv]; query head h reads kv head floor(h / (Hq / Hkv)). Causal: query t
// sees keys s <= t + (S - T). A row that sees no key gives zeros and lse = -Infinity.
//
// Problems are generic in how their float inputs are held: Staged (what ops hands a
// backend: src/ops/op.ts), or bare Float32Array (the JS twins, after unstage).

import type { Call, Staged } from '../op.js';

/** Sizes of one attention call: q [B, Hq, T, d], k [B, Hkv, S, d], v [B, Hkv, S, dv]. */
export interface AttentionShape {
  B: number;
  Hq: number;
  Hkv: number;
  T: number;
  S: number;
  d: number;
  dv: number;
}

/** The validated operands of an attention call. */
export interface AttentionOperands<A = Staged> extends AttentionShape {
  q: A;
  k: A;
  v: A;
  keyMask?: Uint8Array;
  causal: boolean;
}

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

/** One validated softmax-attention call (full or windowed). */
export interface SoftmaxAttentionProblem<A = Staged> extends AttentionOperands<A> {
  scale: number;
  band: AttentionBand;
}

/** The gradients given to a backward call: dout [B, Hq, T, dv], optionally the forward's out and lse. */
export interface GradientInputs<A = Staged> {
  dout: A;
  out?: A;
  lse?: A;
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

/** The feature map of linear attention: 'elu1' (elu(x) + 1), 'relu' or 'favor' (FAVOR+ random features). */
export type FeatureMap = 'elu1' | 'relu' | 'favor';

/** How queries and keys become features (shared by a batch call and a stream). */
export interface FeatureSpec<A = Staged> {
  featureMap: FeatureMap;
  /** Number of features: d for elu1 and relu, numFeatures for favor. */
  F: number;
  /** FAVOR+ random features W [F, d] (favor only). */
  W?: A;
  /** FAVOR+ estimates exp(scale q . k) (inputs scaled by sqrt(scale)); unused by elu1 and relu. */
  scale: number;
  eps: number;
}

/** One validated linear-attention call. */
export interface LinearAttentionProblem<A = Staged> extends AttentionOperands<A> {
  features: FeatureSpec<A>;
}

/** One step of a stream: BH = B * heads rows of q, k [BH, d] and v [BH, dv]. */
export interface LinearStepProblem<A = Staged> {
  q: A;
  k: A;
  v: A;
  BH: number;
  d: number;
  dv: number;
  features: FeatureSpec<A>;
}

/**
 * The carried state of a stream, updated in place by a step: per row (of BH), KV' [F, dv + 1]
 * and its FAVOR+ per-feature stabilisers [F] (-Infinity before the first token; unused by elu1 and relu).
 */
export interface LinearStreamState {
  kv: Float32Array;
  units: Float32Array;
}

/** Every attention kernel, by its op's name. */
export interface AttentionKernels {
  /** Exact attention: out and lse. */
  attentionFull(call: Call, p: SoftmaxAttentionProblem): AttentionOutput;
  /** Banded attention (p.band). */
  attentionWindowed(call: Call, p: SoftmaxAttentionProblem): AttentionOutput;
  attentionFullBackward(call: Call, p: SoftmaxAttentionProblem, g: GradientInputs): SoftmaxGradientArrays;
  attentionWindowedBackward(call: Call, p: SoftmaxAttentionProblem, g: GradientInputs): SoftmaxGradientArrays;
  attentionLinear(call: Call, p: LinearAttentionProblem): Float32Array;
  attentionLinearBackward(call: Call, p: LinearAttentionProblem, g: GradientInputs): AttentionGradientArrays;
  /** out [BH, dv]; advances `state`. */
  attentionLinearStep(call: Call, p: LinearStepProblem, state: LinearStreamState): Float32Array;
}

/** The data of each staged input of a problem (for the JS twins, which read arrays). */
export function unstage<T extends object>(problem: T): Unstaged<T> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(problem)) {
    if (isStaged(value)) out[key] = value.data;
    else if (key === 'features' && value !== null && typeof value === 'object') out[key] = unstage(value);
    else out[key] = value;
  }
  return out as Unstaged<T>;
}

function isStaged(value: unknown): value is Staged {
  return value !== null && typeof value === 'object' && typeof (value as Staged).maxAbs === 'function' && (value as Staged).data instanceof Float32Array;
}

/** A problem type with its Staged inputs replaced by their arrays. */
export type Unstaged<T> = {
  [K in keyof T]: T[K] extends Staged ? Float32Array : T[K] extends Staged | undefined ? Float32Array | undefined
    : T[K] extends FeatureSpec<Staged> ? FeatureSpec<Float32Array> : T[K];
};
