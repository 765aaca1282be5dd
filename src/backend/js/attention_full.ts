// Pure-JS twin of assembly/attention_full.ts: exact softmax attention, one query
// row at a time over the keys it sees (never the T x S matrix), with the row's max
// subtracted before exp. The reference in tests and the baseline in benchmarks.
// Layouts as in src/ops/attention.ts: q [B, Hq, T, d], k [B, Hkv, S, d], v [B, Hkv, S, dv].
// The row loops are shared with the windowed twin, which only lists other keys.

import {
  type AttentionOutput, type GradientInputs, type SoftmaxAttentionProblem, type SoftmaxGradientArrays, unstage,
} from '../../ops/attention/kernels.js';
import { allocF32 } from '../../tensor.js';
import type { Call } from '../types.js';
import { allocF64, allocGradients } from './scratch.js';

/** A problem with its inputs as arrays (the twins read them directly). */
export type Plain = SoftmaxAttentionProblem<Float32Array>;

/** Writes into `keys` the key positions query t of batch b sees; returns how many. */
export type KeyLister = (b: number, t: number, keys: Int32Array) => number;

function keyVisible(p: Plain, b: number, s: number): boolean {
  return p.keyMask === undefined || p.keyMask[b * p.S + s] !== 0;
}

/** Full attention's key list: every unmasked key, up to t + S - T when causal. */
export function fullKeys(p: Plain): KeyLister {
  return (b, t, keys) => {
    const last = p.causal ? Math.min(p.S - 1, t + p.S - p.T) : p.S - 1;
    let n = 0;
    for (let s = 0; s <= last; s++) if (keyVisible(p, b, s)) keys[n++] = s;
    return n;
  };
}

/** Call body(row, kvHead, b, t) for every query row of the call (row = (b * Hq + h) * T + t). */
function forEachQueryRow(p: Plain, body: (row: number, kvHead: number, b: number, t: number) => void): void {
  const group = p.Hq / p.Hkv;
  for (let b = 0; b < p.B; b++)
    for (let h = 0; h < p.Hq; h++) {
      const kvHead = b * p.Hkv + Math.floor(h / group);
      for (let t = 0; t < p.T; t++) body((b * p.Hq + h) * p.T + t, kvHead, b, t);
    }
}

/** Softmax attention forward over the keys each row sees. */
export function attendRows(p: Plain, listKeys: KeyLister): AttentionOutput {
  const { B, Hq, T, S, d, dv, q, k, v, scale } = p;
  const out = allocF32('attention: out', B * Hq * T * dv);
  const lse = allocF32('attention: lse', B * Hq * T);
  const keys = new Int32Array(S);
  const scores = allocF64('attention: scores', S);
  const acc = new Float64Array(dv);
  forEachQueryRow(p, (row, kvHead, b, t) => {
    const n = listKeys(b, t, keys);
    // score[i] = scale * q[t] . k[keys[i]];  m = max_i score[i]
    let m = -Infinity;
    for (let i = 0; i < n; i++) {
      const qo = row * d, ko = (kvHead * S + keys[i]) * d;
      let dot = 0;
      for (let c = 0; c < d; c++) dot += q[qo + c] * k[ko + c];
      scores[i] = dot * scale;
      if (scores[i] > m) m = scores[i];
    }
    if (n === 0) {
      lse[row] = -Infinity;
      return;
    }
    // out[t] = sum_i exp(score[i] - m) v[keys[i]] / l
    let l = 0;
    acc.fill(0);
    for (let i = 0; i < n; i++) {
      const w = Math.exp(scores[i] - m);
      l += w;
      const vo = (kvHead * S + keys[i]) * dv;
      for (let c = 0; c < dv; c++) acc[c] += w * v[vo + c];
    }
    for (let c = 0; c < dv; c++) out[row * dv + c] = acc[c] / l;
    lse[row] = m + Math.log(l);
  });
  return { out, lse };
}

/**
 * Softmax attention backward over the same key lists (FlashAttention-2 maths):
 * p = exp(score - lse), D = dout . out, ds = p * (dout . v - D); also the largest p.
 */
export function attendRowsBackward(
  p: Plain,
  g: GradientInputs<Float32Array>,
  listKeys: KeyLister,
): SoftmaxGradientArrays {
  const { S, d, dv, q, k, v, scale } = p;
  const forward = g.out && g.lse ? { out: g.out, lse: g.lse } : attendRows(p, listKeys);
  const grads = allocGradients('attention backward', p);
  const dk = allocF64('attention backward: dk', grads.dk.length);
  const dvAcc = allocF64('attention backward: dv', grads.dv.length);
  const dqRow = new Float64Array(d);
  const keys = new Int32Array(S);
  let maxProbability = 0;
  forEachQueryRow(p, (row, kvHead, b, t) => {
    const n = listKeys(b, t, keys);
    if (n === 0) return;
    const qo = row * d, oo = row * dv;
    // D = dout[t] . out[t]
    let D = 0;
    for (let c = 0; c < dv; c++) D += g.dout[oo + c] * forward.out[oo + c];
    dqRow.fill(0);
    for (let i = 0; i < n; i++) {
      const ko = (kvHead * S + keys[i]) * d, vo = (kvHead * S + keys[i]) * dv;
      let dot = 0, dP = 0;
      for (let c = 0; c < d; c++) dot += q[qo + c] * k[ko + c];
      for (let c = 0; c < dv; c++) dP += g.dout[oo + c] * v[vo + c];
      const prob = Math.exp(dot * scale - forward.lse[row]);
      maxProbability = Math.max(maxProbability, prob);
      const ds = prob * (dP - D) * scale;
      // forward: score = scale * q . k;  out += p * v
      for (let c = 0; c < d; c++) {
        dqRow[c] += ds * k[ko + c];
        dk[ko + c] += ds * q[qo + c];
      }
      for (let c = 0; c < dv; c++) dvAcc[vo + c] += prob * g.dout[oo + c];
    }
    for (let c = 0; c < d; c++) grads.dq[qo + c] = dqRow[c];
  });
  grads.dk.set(dk);
  grads.dv.set(dvAcc);
  return { ...grads, maxProbability };
}

/** The forward and backward twins of softmax attention whose rows see the keys `keysOf(p)` lists. */
export function softmaxTwins(keysOf: (p: Plain) => KeyLister) {
  return {
    forward(_call: Call, staged: SoftmaxAttentionProblem): AttentionOutput {
      const p = unstage(staged);
      return attendRows(p, keysOf(p));
    },
    backward(_call: Call, staged: SoftmaxAttentionProblem, g: GradientInputs): SoftmaxGradientArrays {
      const p = unstage(staged);
      return attendRowsBackward(p, unstage(g), keysOf(p));
    },
  };
}

const full = softmaxTwins(fullKeys);
export const attentionFull = full.forward;
export const attentionFullBackward = full.backward;
