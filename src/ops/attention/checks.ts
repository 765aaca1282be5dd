// Validation shared by every attention op: q/k/v shapes, the common options, the
// gradients of a backward call, the staging of each with its value checks, and the
// contract of a given lse. Each check throws WeftError naming the argument.

import { WeftError, describe } from '../../errors.js';
import { MAX_ELEMENTS, Tensor, checkElementCount, checkTensor } from '../../tensor.js';
import { optionalBoolean } from '../../args.js';
import type { Call } from '../op.js';
import { finiteMax } from '../op.js';
import type { AttentionBand, AttentionOperands, AttentionShape, GradientInputs } from './kernels.js';

/**
 * Validate q [B, Hq, T, d], k [B, Hkv, S, d], v [B, Hkv, S, dv], keyMask u8 [B, S]
 * and causal (shapes and options; the values are checked once staged).
 */
export function checkOperands(fn: string, args: Record<string, unknown>): AttentionOperands<Float32Array> {
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

/** Validate dout (and out, lse when given) against the call's shape. */
export function checkGradients(fn: string, args: Record<string, unknown>, s: AttentionShape, withLse: boolean): GradientInputs<Float32Array> {
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
  return { dout, out, lse };
}

/** The operands staged, with the largest |q|, |k|, |v| (RANGE at a non-finite value). */
export function stageOperands<T extends AttentionOperands<Float32Array>>(
  call: Call, fn: string, operands: T,
): { staged: Omit<T, 'q' | 'k' | 'v'> & AttentionOperands; maxQ: number; maxK: number; maxV: number } {
  const q = call.stage(operands.q, `${fn}: q`), k = call.stage(operands.k, `${fn}: k`), v = call.stage(operands.v, `${fn}: v`);
  const maxQ = finiteMax(`${fn}: q`, q), maxK = finiteMax(`${fn}: k`, k), maxV = finiteMax(`${fn}: v`, v);
  return { staged: { ...operands, q, k, v }, maxQ, maxK, maxV };
}

/**
 * The gradients staged, with the largest |dout| and |out| (0 when out is not given):
 * dout and out finite, lse finite or -Infinity (a row that saw no key).
 */
export function stageGradients(call: Call, fn: string, g: GradientInputs<Float32Array>): { staged: GradientInputs; maxDout: number; maxOut: number } {
  const dout = call.stage(g.dout, `${fn}: dout`);
  const out = g.out && call.stage(g.out, `${fn}: out`);
  const lse = g.lse && call.stage(g.lse, `${fn}: lse`);
  const maxDout = finiteMax(`${fn}: dout`, dout);
  const maxOut = out ? finiteMax(`${fn}: out`, out) : 0;
  if (lse) finiteMax(`${fn}: lse`, lse, undefined, true);
  return { staged: { dout, out, lse }, maxDout, maxOut };
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

// The contract of a backward call's given lse (the forward's log-sum-exp per query
// row): -Infinity only for a row that sees no key; otherwise a value no smaller than
// the row's largest score, which the kernels report back as the largest probability
// exp(score - lse) they met. Anything else would turn into NaN, infinite or silently
// wrong gradients, so it is refused with RANGE.

/** Does query t of batch b see at least one key? One per batch of O(S) tables, then O(1) a row. */
type RowSeesKey = (b: number, t: number) => boolean;

function rowSeesKey(p: AttentionOperands<unknown>, band: AttentionBand): RowSeesKey {
  const { S, T, causal, keyMask } = p;
  const { left, dilation: dil, globals } = band;
  const right = causal ? 0 : band.right;
  const visible = (b: number, s: number) => keyMask === undefined || keyMask[b * S + s] !== 0;
  const isGlobal = new Uint8Array(S);
  for (const g of globals) isGlobal[g] = 1;
  let tableBatch = -1;
  // first visible key; visible keys among s, s - dil, s - 2 dil, ...; first visible global
  let firstKey = S, firstGlobal = S;
  const onGrid = new Int32Array(S);
  const tables = (b: number) => {
    if (b === tableBatch) return;
    tableBatch = b;
    firstKey = S;
    for (let s = S - 1; s >= 0; s--) if (visible(b, s)) firstKey = s;
    for (let s = 0; s < S; s++) onGrid[s] = (visible(b, s) ? 1 : 0) + (s >= dil ? onGrid[s - dil] : 0);
    firstGlobal = S;
    for (const g of globals) if (visible(b, g)) firstGlobal = Math.min(firstGlobal, g);
  };
  return (b, t) => {
    tables(b);
    const pos = t + S - T;
    const last = causal ? Math.min(S - 1, pos) : S - 1;
    if (pos >= 0 && pos < S && isGlobal[pos]) return firstKey <= last;
    if (firstGlobal <= last) return true;
    // band: s = pos + j * dil for -left <= j <= right, 0 <= s < S
    const jFirst = Math.max(-left, Math.ceil(-pos / dil));
    const jLast = Math.min(right, Math.floor((S - 1 - pos) / dil));
    if (jFirst > jLast) return false;
    const lo = pos + jFirst * dil, hi = pos + jLast * dil;
    return onGrid[hi] - (lo >= dil ? onGrid[lo - dil] : 0) > 0;
  };
}

/** RANGE at the first lse entry that is -Infinity although its row sees a key. */
export function checkNegInfLse(fn: string, p: AttentionOperands<unknown>, band: AttentionBand, lse: Float32Array): void {
  let sees: RowSeesKey | undefined;
  for (let row = 0; row < lse.length; row++) {
    if (lse[row] !== -Infinity) continue;
    sees ??= rowSeesKey(p, band);
    const t = row % p.T, b = Math.floor(row / (p.T * p.Hq));
    if (sees(b, t)) {
      throw new WeftError(
        'RANGE',
        `${fn}: lse[${row}] (batch ${b}, head ${Math.floor(row / p.T) % p.Hq}, query ${t}) is -Infinity but that row sees keys: ` +
          'pass the forward\'s lse (-Infinity only for rows that see no key)',
      );
    }
  }
}

/**
 * RANGE when the given lse lies below a row's largest score: the kernels met a
 * probability exp(score - lse) above 1 by more than f32 rounding of the scores can
 * explain (the backward recomputes them, in another order than the forward: an error
 * up to ~d ulp of the largest |score| term sum, scoreBound, plus lse's own rounding).
 */
export function checkProbabilities(fn: string, maxProbability: number, d: number, scoreBound: number): void {
  const toleranceNats = 1e-3 + (d + 2) * 2 ** -23 * scoreBound;
  if (!(maxProbability <= Math.exp(toleranceNats))) {
    throw new WeftError(
      'RANGE',
      `${fn}: lse is below a row's largest score (exp(score - lse) reached ${maxProbability}): ` +
        'pass the forward\'s lse, the log-sum-exp of each row\'s scaled scores',
    );
  }
}
