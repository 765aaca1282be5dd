// Validation shared by every attention op: q/k/v shapes, the common options and
// the gradients of a backward call. Each check throws WeftError naming the argument.

import { WeftError, describe } from '../errors.js';
import { MAX_ELEMENTS, Tensor, checkElementCount, checkTensor } from '../tensor.js';
import { optionalBoolean } from '../args.js';

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
export interface AttentionOperands extends AttentionShape {
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  keyMask?: Uint8Array;
  causal: boolean;
}

/** A validated call whose value checks the backend still has to run (see ValueCheck). */
export interface ValueChecked {
  checkValues: ValueCheck;
}

/** max |x| over an array: NaN or Infinity when it holds a non-finite value. */
export type MaxAbs = (data: Float32Array) => number;

/**
 * The value checks of one call (finite inputs, scores that cannot overflow). They
 * are built here but run by the backend on its own copy of the data, so the WASM
 * backend scans with SIMD: the JS loop cost 14 ms of an 87 ms windowed call at
 * T=4096, H=8, d=64.
 */
export type ValueCheck = (maxAbs: MaxAbs) => void;


/**
 * max |x| of `data`, or RANGE naming the first non-finite element. With
 * `allowNegInf`, -Infinity entries pass and are left out of the maximum.
 */
export function finiteMax(name: string, data: Float32Array, maxAbs: MaxAbs, allowNegInf = false): number {
  const max = maxAbs(data);
  if (Number.isFinite(max)) return max;
  let finite = 0;
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    if (Number.isFinite(x)) finite = Math.max(finite, Math.abs(x));
    else if (!(allowNegInf && x === -Infinity)) {
      throw new WeftError('RANGE', `${name}: values must be finite, got ${x} at index ${i}`);
    }
  }
  return finite;
}

/**
 * Validate q [B, Hq, T, d], k [B, Hkv, S, d], v [B, Hkv, S, dv], keyMask u8 [B, S]
 * and causal (shapes and options; the values are checked by ValueCheck).
 */
export function checkOperands(fn: string, args: Record<string, unknown>): AttentionOperands {
  const q = checkTensor(`${fn}: q`, args.q, [4]);
  const k = checkTensor(`${fn}: k`, args.k, [4]);
  const v = checkTensor(`${fn}: v`, args.v, [4]);
  const [B, Hq, T, d] = q.shape;
  const [Bk, Hkv, S, dk] = k.shape;
  const [Bv, Hv, Sv, dv] = v.shape;
  const shapes = `q ${describe(q.shape)}, k ${describe(k.shape)}, v ${describe(v.shape)}`;
  if (Bk !== B || Bv !== B) throw new WeftError('SHAPE', `${fn}: batch sizes differ: ${shapes}`);
  if (dk !== d) throw new WeftError('SHAPE', `${fn}: q and k must have the same width d: q has d = ${d}, k has d = ${dk} (${shapes})`);
  if (d < 1) throw new WeftError('SHAPE', `${fn}: q and k need a width d >= 1, got ${describe(q.shape)}`);
  if (Hv !== Hkv || Sv !== S) {
    throw new WeftError('SHAPE', `${fn}: k and v must agree on heads and length [B, Hkv, S, .]: ${shapes}`);
  }
  if (Hkv < 1 || Hq % Hkv !== 0) {
    throw new WeftError('SHAPE', `${fn}: query heads must be a multiple of kv heads (grouped-query), got Hq = ${Hq}, Hkv = ${Hkv}`);
  }
  if (T + S > MAX_ELEMENTS) {
    throw new WeftError('MEMORY', `${fn}: T + S = ${T + S} exceeds ${MAX_ELEMENTS} positions`);
  }
  let keyMask: Uint8Array | undefined;
  if (args.keyMask !== undefined) {
    if (!(args.keyMask instanceof Uint8Array)) {
      throw new WeftError('DTYPE', `${fn}: keyMask must be a Uint8Array [B, S], got ${describe(args.keyMask)}`);
    }
    if (args.keyMask.length !== B * S) {
      throw new WeftError('SHAPE', `${fn}: keyMask must have B * S = ${B * S} entries ([${B}, ${S}]), got ${args.keyMask.length}`);
    }
    keyMask = args.keyMask;
  }
  const causal = optionalBoolean(`${fn}: causal`, args.causal, false);
  return { q: q.data, k: k.data, v: v.data, B, Hq, Hkv, T, S, d, dv, keyMask, causal };
}

/** Gradients given to a backward call: dout [B, Hq, T, dv], optionally the forward's out and lse. */
export interface CheckedGradients {
  dout: Float32Array;
  out?: Float32Array;
  lse?: Float32Array;
  /** Finite dout and out; lse finite or -Infinity (a row that saw no key). Returns max |dout| and max |out| (0 when not given). */
  checkValues: (maxAbs: MaxAbs) => { dout: number; out: number };
}

/** Validate dout (and out, lse when given) against the call's shape. */
export function checkGradients(fn: string, args: Record<string, unknown>, s: AttentionShape, withLse: boolean): CheckedGradients {
  const outShape = [s.B, s.Hq, s.T, s.dv];
  const expectShape = (name: string, value: unknown, shape: number[]): Tensor => {
    const t = checkTensor(`${fn}: ${name}`, value, [shape.length]);
    if (t.shape.some((n, i) => n !== shape[i])) {
      throw new WeftError('SHAPE', `${fn}: ${name} must have shape ${describe(shape)}, got ${describe(t.shape)}`);
    }
    return t;
  };
  const dout = expectShape('dout', args.dout, outShape).data;
  const out = args.out === undefined ? undefined : expectShape('out', args.out, outShape).data;
  const lse = withLse && args.lse !== undefined ? expectShape('lse', args.lse, [s.B, s.Hq, s.T]).data : undefined;
  const checkValues = (maxAbs: MaxAbs): { dout: number; out: number } => {
    const doutMax = finiteMax(`${fn}: dout`, dout, maxAbs);
    const outMax = out ? finiteMax(`${fn}: out`, out, maxAbs) : 0;
    if (lse) finiteMax(`${fn}: lse`, lse, maxAbs, true);
    return { dout: doutMax, out: outMax };
  };
  return { dout, out, lse, checkValues };
}

/** n rounded up to a multiple of 4 (the kernels pad panels to 4 lanes). */
export function ceil4(n: number): number {
  return Math.ceil(n / 4) * 4;
}

/**
 * MEMORY before any work when one of a call's working buffers ([what, floats], sizes
 * computed in f64) cannot exist; both backends refuse the same calls, and the WASM
 * kernels' i32 arithmetic never sees an absurd size.
 */
export function checkWorkingSizes(fn: string, buffers: readonly (readonly [string, number])[]): void {
  for (const [what, floats] of buffers) checkElementCount(`${fn}: ${what}`, floats);
}
