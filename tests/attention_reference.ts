// Naive O(T * S) attention references in f64 for the attention tests, written from
// the definitions (the README's "Attention"), independent of the kernels: every pair
// (t, s) is tested with a predicate, the softmax uses the row max.

import { expect } from 'vitest';
import type { Tensor } from '../src/index.js';
import { centralDifferences, expectClose } from './helpers.js';

export interface NaiveOptions {
  scale?: number;
  causal?: boolean;
  keyMask?: Uint8Array;
  /** Banded attention: [left, right] on the dilated grid, dilation, global positions. */
  window?: [number, number];
  dilation?: number;
  globals?: number[];
}

/** Does query t see key s (batch b)? */
export function sees(shape: { T: number; S: number }, o: NaiveOptions, b: number, t: number, s: number): boolean {
  const p = t + shape.S - shape.T;
  if (o.causal && s > p) return false;
  if (o.keyMask && o.keyMask[b * shape.S + s] === 0) return false;
  if (!o.window) return true;
  const globals = o.globals ?? [];
  if (globals.includes(p) || globals.includes(s)) return true;
  const dil = o.dilation ?? 1;
  const offset = s - p;
  const right = o.causal ? 0 : o.window[1];
  return offset % dil === 0 && offset / dil >= -o.window[0] && offset / dil <= right;
}

/** out [B, Hq, T, dv] and lse [B, Hq, T] of softmax attention, f64. */
export function naiveAttention(q: Tensor, k: Tensor, v: Tensor, o: NaiveOptions = {}): { out: Float64Array; lse: Float64Array } {
  const [B, Hq, T, d] = q.shape;
  const [, Hkv, S] = k.shape;
  const dv = v.shape[3];
  const scale = o.scale ?? 1 / Math.sqrt(d);
  const out = new Float64Array(B * Hq * T * dv);
  const lse = new Float64Array(B * Hq * T);
  const scores = new Float64Array(S);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < Hq; h++) {
      const hk = Math.floor(h / (Hq / Hkv));
      for (let t = 0; t < T; t++) {
        const row = (b * Hq + h) * T + t;
        let m = -Infinity;
        for (let s = 0; s < S; s++) {
          if (!sees({ T, S }, o, b, t, s)) {
            scores[s] = -Infinity;
            continue;
          }
          let dot = 0;
          for (let c = 0; c < d; c++) dot += q.data[row * d + c] * k.data[((b * Hkv + hk) * S + s) * d + c];
          scores[s] = dot * scale;
          m = Math.max(m, scores[s]);
        }
        if (m === -Infinity) {
          lse[row] = -Infinity;
          continue;
        }
        let l = 0;
        for (let s = 0; s < S; s++) {
          const w = Math.exp(scores[s] - m);
          l += w;
          for (let c = 0; c < dv; c++) out[row * dv + c] += w * v.data[((b * Hkv + hk) * S + s) * dv + c];
        }
        for (let c = 0; c < dv; c++) out[row * dv + c] /= l;
        lse[row] = m + Math.log(l);
      }
    }
  return { out, lse };
}

/** Linear attention with an explicit feature map, f64: out_t = sum_s (phi(q_t).phi(k_s)) v_s / (sum_s phi(q_t).phi(k_s) + eps). */
export function naiveLinearAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  phi: (x: Float64Array) => Float64Array,
  o: { causal?: boolean; keyMask?: Uint8Array; eps?: number },
): Float64Array {
  const [B, Hq, T, d] = q.shape;
  const [, Hkv, S] = k.shape;
  const dv = v.shape[3];
  const eps = o.eps ?? 1e-6;
  const out = new Float64Array(B * Hq * T * dv);
  const row = (t: Tensor, index: number, width: number) => Float64Array.from(t.data.subarray(index * width, (index + 1) * width));
  for (let b = 0; b < B; b++)
    for (let h = 0; h < Hq; h++) {
      const hk = Math.floor(h / (Hq / Hkv));
      const phiK = Array.from({ length: S }, (_, s) => phi(row(k, (b * Hkv + hk) * S + s, d)));
      for (let t = 0; t < T; t++) {
        const r = (b * Hq + h) * T + t;
        const phiQ = phi(row(q, r, d));
        let den = eps;
        const num = new Float64Array(dv);
        for (let s = 0; s < S; s++) {
          if (o.causal && s > t + S - T) continue;
          if (o.keyMask && o.keyMask[b * S + s] === 0) continue;
          let w = 0;
          for (let f = 0; f < phiQ.length; f++) w += phiQ[f] * phiK[s][f];
          den += w;
          for (let c = 0; c < dv; c++) num[c] += w * v.data[((b * Hkv + hk) * S + s) * dv + c];
        }
        for (let c = 0; c < dv; c++) out[r * dv + c] = num[c] / den;
      }
    }
  return out;
}

/**
 * FAVOR+ linear attention with eps = 0 in log space, f64: the weight of key s for query t
 * is exp(L_ts), L_ts = log sum_f exp(u_tf + u_sf) with u_f = s (w_f . x) - s^2 |x|^2 / 2
 * (s = sqrt(scale)), so logits of any size stay exact (no exp of a raw logit is formed).
 */
export function naiveFavorLogSpace(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  W: Float32Array,
  o: { scale?: number; causal?: boolean; keyMask?: Uint8Array },
): Float64Array {
  const [B, Hq, T, d] = q.shape;
  const [, Hkv, S] = k.shape;
  const dv = v.shape[3];
  const F = W.length / d, s = Math.sqrt(o.scale ?? 1 / Math.sqrt(d));
  const logits = (x: Float32Array, r: number) =>
    Array.from({ length: F }, (_, f) => {
      let dot = 0, norm = 0;
      for (let c = 0; c < d; c++) {
        dot += W[f * d + c] * s * x[r * d + c];
        norm += (s * x[r * d + c]) ** 2;
      }
      return dot - norm / 2;
    });
  const logSumExp = (xs: number[]) => {
    const m = xs.reduce((a, x) => Math.max(a, x), -Infinity); // (no spread: F may be 200000)
    return m + Math.log(xs.reduce((sum, x) => sum + Math.exp(x - m), 0));
  };
  const out = new Float64Array(B * Hq * T * dv);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < Hq; h++) {
      const kvHead = b * Hkv + Math.floor(h / (Hq / Hkv));
      const uk = Array.from({ length: S }, (_, j) => logits(k.data, kvHead * S + j));
      for (let t = 0; t < T; t++) {
        const r = (b * Hq + h) * T + t;
        const uq = logits(q.data, r);
        const seen: number[] = [], L: number[] = [];
        for (let j = 0; j < S; j++) {
          if ((o.causal && j > t + S - T) || (o.keyMask && o.keyMask[b * S + j] === 0)) continue;
          seen.push(j);
          L.push(logSumExp(uq.map((x, f) => x + uk[j][f])));
        }
        if (seen.length === 0) continue;
        const m = L.reduce((a, x) => Math.max(a, x), -Infinity);
        let den = 0;
        seen.forEach((j, i) => {
          const w = Math.exp(L[i] - m);
          den += w;
          for (let c = 0; c < dv; c++) out[r * dv + c] += w * v.data[(kvHead * S + j) * dv + c];
        });
        for (let c = 0; c < dv; c++) out[r * dv + c] /= den;
      }
    }
  return out;
}

/** Deterministic pseudo-random Uint8Array mask with about `keep` of the entries 1. */
export function randomMask(n: number, keep: number, seed: number): Uint8Array {
  const mask = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    mask[i] = (x >>> 0) / 4294967296 < keep ? 1 : 0;
  }
  return mask;
}

/** Tolerance for f32 attention outputs against an f64 reference with reductions of length n. */
export function attentionTolerance(n: number): { atol: number; rtol: number } {
  return { atol: 2e-5 * Math.sqrt(n), rtol: 2e-5 * Math.sqrt(n) };
}

/** expectClose for lse rows: -Infinity (a row that sees no key) must match exactly, the rest within tol. */
export function expectCloseLse(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: { atol: number; rtol: number },
  what = 'lse',
): void {
  const a = Float64Array.from(actual), e = Float64Array.from(expected);
  for (let i = 0; i < e.length; i++) {
    if (e[i] === -Infinity || a[i] === -Infinity) {
      expect(a[i], `${what}[${i}]`).toBe(e[i]);
      a[i] = e[i] = 0;
    }
  }
  expectClose(a, e, tol, what);
}

/** d(sum(out * dout)) / dx for every element of q, k and v, by central differences in f64. */
export function finiteDifferenceGradients(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  dout: Tensor,
  forward: (q: Tensor, k: Tensor, v: Tensor) => Float64Array,
): { dq: Float64Array; dk: Float64Array; dv: Float64Array } {
  const f64 = (t: Tensor) => ({ data: Float64Array.from(t.data), shape: t.shape }) as unknown as Tensor;
  const operands = [f64(q), f64(k), f64(v)];
  const loss = () => {
    const out = forward(operands[0], operands[1], operands[2]);
    let sum = 0;
    for (let i = 0; i < out.length; i++) sum += out[i] * dout.data[i];
    return sum;
  };
  // h = 1e-4 on O(1) inputs: truncation O(h^2) ~ 1e-8, f64 rounding ~ 1e-16 / h = 1e-12
  const h = 1e-4;
  const [dq, dk, dv] = operands.map((t) => centralDifferences(t.data as unknown as Float64Array, loss, h));
  return { dq, dk, dv };
}

/** Repeat each kv head Hq / Hkv times: [B, Hkv, S, w] -> [B, Hq, S, w]. */
export function repeatHeads(t: Tensor, Hq: number): Tensor {
  const [B, Hkv, S, w] = t.shape;
  const group = Hq / Hkv;
  const data = new Float32Array(B * Hq * S * w);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < Hq; h++) {
      const src = (b * Hkv + Math.floor(h / group)) * S * w;
      data.set(t.data.subarray(src, src + S * w), (b * Hq + h) * S * w);
    }
  return { data, shape: [B, Hq, S, w] };
}
