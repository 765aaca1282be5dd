// Pure-JS twin of assembly/attention_linear.ts: linear attention token by token, in
// f64, carrying KV' = sum_s phi(k_s) [v_s, 1]^T ([F, dv + 1]) as a running prefix (causal)
// or a total (bidirectional). FAVOR+ features use the same stabilisers as the kernel
// (a per-row max for queries, a running max over the keys with KV' rescaled, eps scaled
// along), here updated per token rather than per chunk: the result is the same.

import type { AttentionGradientArrays } from '../../ops/attention.js';
import { allocGradients } from '../../ops/attention.js';
import type { CheckedGradients } from '../../ops/attention_checks.js';
import type { FeatureSpec, LinearAttentionProblem, LinearStepProblem, LinearStreamState } from '../../ops/attention_linear.js';
import { allocF32 } from '../../tensor.js';

/** Feature row of x (d floats at x[offset]): elu1 / relu features, or FAVOR+ logits u_i = s (w_i . x) - s^2 |x|^2 / 2. */
function featureRow(spec: FeatureSpec, x: ArrayLike<number>, offset: number, d: number, out: Float64Array): void {
  if (spec.featureMap === 'favor') {
    const W = spec.W!, s = Math.sqrt(spec.scale);
    let norm = 0;
    for (let c = 0; c < d; c++) norm += x[offset + c] ** 2;
    for (let f = 0; f < spec.F; f++) {
      let dot = 0;
      for (let c = 0; c < d; c++) dot += W[f * d + c] * x[offset + c];
      out[f] = s * dot - 0.5 * s * s * norm;
    }
    return;
  }
  for (let c = 0; c < d; c++) {
    const xc = x[offset + c];
    out[c] = spec.featureMap === 'relu' ? Math.max(xc, 0) : xc > 0 ? xc + 1 : Math.exp(xc);
  }
}

/** FAVOR+: logits -> exp(u - c) / sqrt(F) in place; the other maps are already features. */
function stabilise(spec: FeatureSpec, phi: Float64Array, c: number): void {
  if (spec.featureMap !== 'favor') return;
  const inv = 1 / Math.sqrt(spec.F);
  for (let f = 0; f < spec.F; f++) phi[f] = Math.exp(phi[f] - c) * inv;
}

function rowMax(spec: FeatureSpec, u: Float64Array): number {
  return spec.featureMap === 'favor' ? Math.max(...u) : 0;
}

/**
 * A running KV' [F, w] with its key stabiliser: absorb(u, v) adds one key whose
 * features (FAVOR+: logits) are u, rescaling the sum when the stabiliser grows.
 */
class KeySummary {
  readonly kv: Float64Array | Float32Array;
  keyMax: number;
  private readonly spec: FeatureSpec;
  private readonly phi: Float64Array;

  constructor(spec: FeatureSpec, w: number, kv?: Float32Array, keyMax?: number) {
    this.spec = spec;
    this.kv = kv ?? new Float64Array(spec.F * w);
    this.keyMax = keyMax ?? (spec.featureMap === 'favor' ? -Infinity : 0);
    this.phi = new Float64Array(spec.F);
  }

  absorb(u: Float64Array, v: ArrayLike<number>, vOffset: number, dv: number): void {
    const { spec, kv, phi } = this;
    const w = dv + 1;
    const m = rowMax(spec, u);
    if (m > this.keyMax) {
      if (this.keyMax !== -Infinity) {
        const factor = Math.exp(this.keyMax - m);
        for (let i = 0; i < kv.length; i++) kv[i] *= factor;
      }
      this.keyMax = m;
    }
    phi.set(u);
    stabilise(spec, phi, this.keyMax);
    // KV'[f, :] += phi[f] [v, 1]
    for (let f = 0; f < spec.F; f++) {
      for (let j = 0; j < dv; j++) kv[f * w + j] += phi[f] * v[vOffset + j];
      kv[f * w + dv] += phi[f];
    }
  }

  /**
   * num' = phiQ . KV' and the denominator for a query with stabilised features phiQ
   * and stabiliser cq: den = num'[dv] + eps exp(-cq - c_K).
   */
  read(phiQ: Float64Array, cq: number, dv: number, num: Float64Array): number {
    const { spec, kv } = this;
    const w = dv + 1;
    num.fill(0);
    for (let f = 0; f < spec.F; f++) for (let j = 0; j < w; j++) num[j] += phiQ[f] * kv[f * w + j];
    const epsTerm = spec.featureMap !== 'favor' ? spec.eps : this.keyMax === -Infinity ? Infinity : spec.eps * Math.exp(-cq - this.keyMax);
    return num[dv] + epsTerm;
  }
}

/** Query features: stabilised phi (FAVOR+ per-row max, returned) of q row t. */
function queryRow(spec: FeatureSpec, q: ArrayLike<number>, offset: number, d: number, phi: Float64Array): number {
  featureRow(spec, q, offset, d, phi);
  const c = rowMax(spec, phi);
  stabilise(spec, phi, c);
  return c;
}

function keyVisible(p: LinearAttentionProblem, b: number, s: number): boolean {
  return p.keyMask === undefined || p.keyMask[b * p.S + s] !== 0;
}

/** Logits (FAVOR+) or features of the S keys of one kv head, [S, F]. */
function keyLogits(p: LinearAttentionProblem, kvHead: number): Float64Array[] {
  const { S, d, k, features } = p;
  return Array.from({ length: S }, (_, s) => {
    const u = new Float64Array(features.F);
    featureRow(features, k, (kvHead * S + s) * d, d, u);
    return u;
  });
}

export function attentionLinearJs(p: LinearAttentionProblem): Float32Array {
  const { B, Hq, Hkv, T, S, d, dv, q, v, causal, features } = p;
  const out = allocF32('attention.linear: out', B * Hq * T * dv);
  const group = Hq / Hkv, offset = S - T;
  const phiQ = new Float64Array(features.F), num = new Float64Array(dv + 1);
  for (let b = 0; b < B; b++)
    for (let hk = 0; hk < Hkv; hk++) {
      const kvHead = b * Hkv + hk;
      const logits = keyLogits(p, kvHead);
      for (let h = hk * group; h < (hk + 1) * group; h++) {
        const summary = new KeySummary(features, dv + 1);
        let absorbed = 0;
        const absorbUpTo = (last: number) => {
          for (; absorbed <= Math.min(last, S - 1); absorbed++) {
            if (keyVisible(p, b, absorbed)) summary.absorb(logits[absorbed], v, (kvHead * S + absorbed) * dv, dv);
          }
        };
        if (!causal) absorbUpTo(S - 1);
        for (let t = 0; t < T; t++) {
          if (causal) absorbUpTo(t + offset);
          const row = (b * Hq + h) * T + t;
          const cq = queryRow(features, q, row * d, d, phiQ);
          const den = summary.read(phiQ, cq, dv, num);
          for (let j = 0; j < dv; j++) out[row * dv + j] = den > 0 ? num[j] / den : 0;
        }
      }
    }
  return out;
}

/**
 * dx of a feature row from g = dL/dphi (stabilised features phi, stabiliser constant):
 * elu1: g (x > 0 ? 1 : exp x); relu: g [x > 0]; FAVOR+: sum_i g_i phi_i (s w_i - s^2 x).
 */
function featureGradient(spec: FeatureSpec, x: ArrayLike<number>, offset: number, d: number, phi: Float64Array, g: Float64Array, dx: Float64Array): void {
  if (spec.featureMap === 'favor') {
    const W = spec.W!, s = Math.sqrt(spec.scale);
    let total = 0;
    dx.fill(0);
    for (let f = 0; f < spec.F; f++) {
      const gp = g[f] * phi[f];
      total += gp;
      for (let c = 0; c < d; c++) dx[c] += s * gp * W[f * d + c];
    }
    for (let c = 0; c < d; c++) dx[c] -= s * s * total * x[offset + c];
    return;
  }
  for (let c = 0; c < d; c++) {
    const xc = x[offset + c];
    dx[c] = spec.featureMap === 'relu' ? (xc > 0 ? g[c] : 0) : xc > 0 ? g[c] : g[c] * Math.exp(xc);
  }
}

/**
 * Backward, token by token: a forward sweep gives dq (dL/dphi(q_t) = [dnum_t | dden_t] KV'_t^T)
 * and keeps phi(q_t), dN'_t = [dout / den, -(dout . out) / den]; a backward sweep over the
 * keys carries G = sum_{t sees s} phi(q_t) dN'_t^T (rescaled into key s's stabiliser units)
 * and gives dphi(k_s) = G [v_s, 1], dv_s = G[:, :dv]^T phi(k_s).
 */
export function attentionLinearBackwardJs(p: LinearAttentionProblem, g: CheckedGradients): AttentionGradientArrays {
  const { B, Hq, Hkv, T, S, d, dv, q, k, v, causal, features } = p;
  const F = features.F, w = dv + 1, group = Hq / Hkv, offset = S - T;
  const grads = allocGradients('attention.linearBackward', p);
  const phiRows = Array.from({ length: T }, () => new Float64Array(F));
  const dN = Array.from({ length: T }, () => new Float64Array(w));
  const seenMax = new Float64Array(T), keyUnit = new Float64Array(S);
  const num = new Float64Array(w), gPhi = new Float64Array(F), dx = new Float64Array(d), phiK = new Float64Array(F);
  const G = new Float64Array(F * w);
  for (let b = 0; b < B; b++)
    for (let hk = 0; hk < Hkv; hk++) {
      const kvHead = b * Hkv + hk;
      const logits = keyLogits(p, kvHead);
      const dk = new Float64Array(S * d), dvAcc = new Float64Array(S * dv);
      for (let h = hk * group; h < (hk + 1) * group; h++) {
        const summary = new KeySummary(features, w);
        let absorbed = 0;
        const absorbUpTo = (last: number) => {
          for (; absorbed <= Math.min(last, S - 1); absorbed++) {
            if (keyVisible(p, b, absorbed)) summary.absorb(logits[absorbed], v, (kvHead * S + absorbed) * dv, dv);
            keyUnit[absorbed] = summary.keyMax;
          }
        };
        if (!causal) {
          absorbUpTo(S - 1);
          keyUnit.fill(summary.keyMax); // every query reads the total, in its final units
        }
        for (let t = 0; t < T; t++) {
          if (causal) absorbUpTo(t + offset);
          const row = (b * Hq + h) * T + t;
          const cq = queryRow(features, q, row * d, d, phiRows[t]);
          const den = summary.read(phiRows[t], cq, dv, num);
          seenMax[t] = summary.keyMax;
          // out = num / den: dnum = dout / den, dden = -(dout . out) / den
          let dotOut = 0;
          for (let j = 0; j < dv; j++) {
            const o = g.out ? g.out[row * dv + j] : den > 0 ? num[j] / den : 0;
            dotOut += g.dout[row * dv + j] * o;
            dN[t][j] = den > 0 ? g.dout[row * dv + j] / den : 0;
          }
          dN[t][dv] = den > 0 ? -dotOut / den : 0;
          // dphi(q_t)[f] = sum_j dN'[j] KV'[f, j]
          for (let f = 0; f < F; f++) {
            let sum = 0;
            for (let j = 0; j < w; j++) sum += dN[t][j] * summary.kv[f * w + j];
            gPhi[f] = sum;
          }
          featureGradient(features, q, row * d, d, phiRows[t], gPhi, dx);
          for (let c = 0; c < d; c++) grads.dq[row * d + c] = dx[c];
        }
        // keys, last to first: G gathers the queries that see key s, in s's units
        G.fill(0);
        let unit = -Infinity;
        let next = T - 1;
        for (let s = S - 1; s >= 0; s--) {
          if (!keyVisible(p, b, s)) continue;
          const cs = keyUnit[s];
          if (unit !== -Infinity && cs !== unit) for (let i = 0; i < G.length; i++) G[i] *= Math.exp(cs - unit);
          unit = cs;
          for (; next >= 0 && (!causal || next + offset >= s); next--) {
            const factor = features.featureMap === 'favor' ? Math.exp(cs - seenMax[next]) : 1;
            for (let f = 0; f < F; f++) for (let j = 0; j < w; j++) G[f * w + j] += factor * phiRows[next][f] * dN[next][j];
          }
          phiK.set(logits[s]);
          stabilise(features, phiK, cs);
          const vRow = (kvHead * S + s) * dv;
          for (let f = 0; f < F; f++) {
            let sum = G[f * w + dv];
            for (let j = 0; j < dv; j++) sum += G[f * w + j] * v[vRow + j];
            gPhi[f] = sum;
            for (let j = 0; j < dv; j++) dvAcc[s * dv + j] += phiK[f] * G[f * w + j];
          }
          featureGradient(features, k, (kvHead * S + s) * d, d, phiK, gPhi, dx);
          for (let c = 0; c < d; c++) dk[s * d + c] += dx[c];
        }
      }
      grads.dk.set(dk, kvHead * S * d);
      grads.dv.set(dvAcc, kvHead * S * dv);
    }
  return grads;
}

/** One stream step for each of the BH rows: absorb (k, v), then read with q. */
export function attentionLinearStepJs(p: LinearStepProblem, state: LinearStreamState): Float32Array {
  const { BH, d, dv, features } = p;
  const F = features.F, w = dv + 1;
  const out = allocF32('attention.linearStream: out', BH * dv);
  const u = new Float64Array(F), phiQ = new Float64Array(F), num = new Float64Array(w);
  for (let r = 0; r < BH; r++) {
    const summary = new KeySummary(features, w, state.kv.subarray(r * F * w, (r + 1) * F * w), state.keyMax[r]);
    featureRow(features, p.k, r * d, d, u);
    summary.absorb(u, p.v, r * dv, dv);
    state.keyMax[r] = summary.keyMax;
    const cq = queryRow(features, p.q, r * d, d, phiQ);
    const den = summary.read(phiQ, cq, dv, num);
    for (let j = 0; j < dv; j++) out[r * dv + j] = den > 0 ? num[j] / den : 0;
  }
  return out;
}
