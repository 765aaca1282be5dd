// Pure-JS twin of assembly/attention_linear.ts: linear attention token by token, in
// f64, carrying KV' = sum_s phi(k_s) [v_s, 1]^T ([F, dv + 1]) as a running prefix (causal)
// or a total (bidirectional). FAVOR+ features use the kernel's per-feature stabilisers
// (units M_f = the running max of the keys' logits, KV' rescaled row by row when one
// grows; a query reads with exp(u + M - C) / sqrt(F), C = max_f (u_f + M_f), eps
// scaled by exp(-C)), here updated per token rather than per sub-chunk: the result is the same.

import {
  type AttentionGradientArrays, type FeatureSpec as StagedFeatureSpec, type GradientInputs,
  type LinearAttentionProblem as StagedLinearProblem, type LinearStepProblem as StagedStepProblem, type LinearStreamState, unstage,
} from '../../ops/attention/kernels.js';
import { allocF32 } from '../../tensor.js';
import type { Call } from '../types.js';
import { allocF64, allocGradients } from './scratch.js';

// The twins read their inputs as arrays.
type FeatureSpec = StagedFeatureSpec<Float32Array>;
type LinearAttentionProblem = StagedLinearProblem<Float32Array>;
type LinearStepProblem = StagedStepProblem<Float32Array>;

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

/** FAVOR+ key features in the units M: phi_f = exp(u_f - M_f) / sqrt(F); the other maps: phi = u. */
function keyFeatures(spec: FeatureSpec, u: Float64Array, units: ArrayLike<number>, phi: Float64Array): void {
  if (spec.featureMap !== 'favor') {
    phi.set(u);
    return;
  }
  const inv = 1 / Math.sqrt(spec.F);
  for (let f = 0; f < spec.F; f++) phi[f] = Math.exp(u[f] - units[f]) * inv;
}

/**
 * FAVOR+ query features for reading a sum held in the units M: phi_f = exp(u_f + M_f - C) / sqrt(F)
 * with C = max_f (u_f + M_f), returned (the row's stabiliser). The other maps: phi = u, C = 0.
 */
function queryFeatures(spec: FeatureSpec, u: Float64Array, units: ArrayLike<number>, phi: Float64Array): number {
  if (spec.featureMap !== 'favor') {
    phi.set(u);
    return 0;
  }
  let C = -Infinity;
  for (let f = 0; f < spec.F; f++) C = Math.max(C, u[f] + units[f]);
  const inv = 1 / Math.sqrt(spec.F);
  for (let f = 0; f < spec.F; f++) phi[f] = Math.exp(u[f] + units[f] - C) * inv;
  return C;
}

/**
 * A running KV' [F, w] with its FAVOR+ units: absorb(u, v) adds one key whose logits
 * (features for elu1 / relu) are u, rescaling the rows whose unit grows.
 */
class KeySummary {
  readonly kv: Float64Array | Float32Array;
  /** FAVOR+ units M [F], -inf before the first key. */
  readonly units: Float64Array | Float32Array;
  private readonly spec: FeatureSpec;
  private readonly phi: Float64Array;

  constructor(spec: FeatureSpec, w: number, kv?: Float32Array, units?: Float32Array) {
    this.spec = spec;
    this.kv = kv ?? allocF64("attention.linear: KV'", spec.F * w);
    this.units = units ?? new Float64Array(spec.F).fill(-Infinity);
    this.phi = new Float64Array(spec.F);
  }

  /** No key absorbed yet (FAVOR+; the other maps read a zero KV' with eps). */
  get empty(): boolean {
    return this.spec.featureMap === 'favor' && this.units[0] === -Infinity;
  }

  absorb(u: Float64Array, v: ArrayLike<number>, vOffset: number, dv: number): void {
    const { spec, kv, units, phi } = this;
    const w = dv + 1;
    if (spec.featureMap === 'favor') {
      for (let f = 0; f < spec.F; f++) {
        if (!(u[f] > units[f])) continue;
        // KV'[f, :] moves to the larger unit u_f
        if (units[f] !== -Infinity) {
          const factor = Math.exp(units[f] - u[f]);
          for (let j = 0; j < w; j++) kv[f * w + j] *= factor;
        }
        units[f] = u[f];
      }
    }
    keyFeatures(spec, u, units, phi);
    // KV'[f, :] += phi[f] [v, 1]
    for (let f = 0; f < spec.F; f++) {
      for (let j = 0; j < dv; j++) kv[f * w + j] += phi[f] * v[vOffset + j];
      kv[f * w + dv] += phi[f];
    }
  }

  /**
   * num' = phiQ . KV' for a query with features phiQ read in these units (stabiliser C,
   * see queryFeatures); returns the denominator num'[dv] + eps exp(-C) (infinite before any key).
   */
  read(phiQ: Float64Array, C: number, dv: number, num: Float64Array): number {
    const { spec, kv } = this;
    const w = dv + 1;
    num.fill(0);
    for (let f = 0; f < spec.F; f++) for (let j = 0; j < w; j++) num[j] += phiQ[f] * kv[f * w + j];
    // (eps = 0 stays 0: exp(-C) may overflow and 0 * Infinity is NaN)
    const epsTerm = spec.featureMap !== 'favor' || spec.eps === 0 ? spec.eps : this.empty ? Infinity : spec.eps * Math.exp(-C);
    return num[dv] + epsTerm;
  }
}

function keyVisible(p: LinearAttentionProblem, b: number, s: number): boolean {
  return p.keyMask === undefined || p.keyMask[b * p.S + s] !== 0;
}

/** Call body(h, kvHead, b) for every query head (kvHead = b * Hkv + its kv head). */
function forEachHead(p: LinearAttentionProblem, body: (h: number, kvHead: number, b: number) => void): void {
  const group = p.Hq / p.Hkv;
  for (let b = 0; b < p.B; b++) for (let h = 0; h < p.Hq; h++) body(h, b * p.Hkv + Math.floor(h / group), b);
}

export function attentionLinear(_call: Call, staged: StagedLinearProblem): Float32Array {
  const p = unstage(staged);
  const { Hq, T, S, d, dv, q, k, v, causal, features } = p;
  const out = allocF32('attention.linear: out', p.B * Hq * T * dv);
  const offset = S - T;
  const u = new Float64Array(features.F), phiQ = new Float64Array(features.F), num = new Float64Array(dv + 1);
  forEachHead(p, (h, kvHead, b) => {
    const summary = new KeySummary(features, dv + 1);
    let absorbed = 0;
    const absorbUpTo = (last: number) => {
      for (; absorbed <= Math.min(last, S - 1); absorbed++) {
        if (!keyVisible(p, b, absorbed)) continue;
        featureRow(features, k, (kvHead * S + absorbed) * d, d, u);
        summary.absorb(u, v, (kvHead * S + absorbed) * dv, dv);
      }
    };
    if (!causal) absorbUpTo(S - 1);
    for (let t = 0; t < T; t++) {
      if (causal) absorbUpTo(t + offset);
      const row = (b * Hq + h) * T + t;
      featureRow(features, q, row * d, d, u);
      const C = summary.empty ? 0 : queryFeatures(features, u, summary.units, phiQ);
      if (summary.empty) phiQ.fill(0);
      const den = summary.read(phiQ, C, dv, num);
      for (let j = 0; j < dv; j++) out[row * dv + j] = den > 0 ? num[j] / den : 0;
    }
  });
  return out;
}

/**
 * dx of a feature row from g = dL/dphi (stabilised features phi, stabilisers constant):
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
 * and keeps dN'_t = [dout / den, -(dout . out) / den] and the query's stabiliser C_t; a
 * backward sweep over the keys carries G = sum_{t sees s} phi(q_t) dN'_t^T in the units
 * M(s) key s was absorbed with (query t adds exp(u_t + M(s) - C_t) / sqrt(F) dN'_t^T,
 * at most its own phi since M(s) <= M(t)), and gives dphi(k_s) = G [v_s, 1],
 * dv_s = G[:, :dv]^T phi(k_s).
 */
export function attentionLinearBackward(_call: Call, staged: StagedLinearProblem, gradients: GradientInputs): AttentionGradientArrays {
  const p = unstage(staged), g = unstage(gradients);
  const { Hq, T, S, d, dv, q, k, v, causal, features } = p;
  const F = features.F, w = dv + 1, offset = S - T, favor = features.featureMap === 'favor';
  const fn = 'attention.linearBackward';
  const grads = allocGradients(fn, p);
  const dk = allocF64(`${fn}: dk`, grads.dk.length), dvAcc = allocF64(`${fn}: dv`, grads.dv.length);
  const dN = allocF64(`${fn}: dN'`, T * w), rowC = new Float64Array(T), reads = new Uint8Array(T);
  // units of each key when it was absorbed (causal FAVOR+; bidirectional keys all use the final ones)
  const keyUnits = favor && causal ? allocF64(`${fn}: key units`, S * F) : new Float64Array(0);
  const G = allocF64(`${fn}: G`, F * w), gUnits = new Float64Array(F);
  const u = new Float64Array(F), phi = new Float64Array(F), gPhi = new Float64Array(F), dx = new Float64Array(d);
  const num = new Float64Array(w);
  forEachHead(p, (h, kvHead, b) => {
    const summary = new KeySummary(features, w);
    const unitsOf = (s: number): ArrayLike<number> => (causal ? keyUnits.subarray(s * F, (s + 1) * F) : summary.units);
    let absorbed = 0;
    const absorbUpTo = (last: number) => {
      for (; absorbed <= Math.min(last, S - 1); absorbed++) {
        if (keyVisible(p, b, absorbed)) {
          featureRow(features, k, (kvHead * S + absorbed) * d, d, u);
          summary.absorb(u, v, (kvHead * S + absorbed) * dv, dv);
        }
        if (favor && causal) keyUnits.set(summary.units, absorbed * F);
      }
    };
    if (!causal) absorbUpTo(S - 1);
    for (let t = 0; t < T; t++) {
      if (causal) absorbUpTo(t + offset);
      const row = (b * Hq + h) * T + t;
      reads[t] = summary.empty ? 0 : 1;
      if (!reads[t]) {
        dN.fill(0, t * w, (t + 1) * w);
        continue; // no key: out = 0 and no gradient
      }
      featureRow(features, q, row * d, d, u);
      rowC[t] = queryFeatures(features, u, summary.units, phi);
      const den = summary.read(phi, rowC[t], dv, num);
      // out = num / den: dnum = dout / den, dden = -(dout . out) / den
      let dotOut = 0;
      for (let j = 0; j < dv; j++) {
        const o = g.out ? g.out[row * dv + j] : den > 0 ? num[j] / den : 0;
        dotOut += g.dout[row * dv + j] * o;
        dN[t * w + j] = den > 0 ? g.dout[row * dv + j] / den : 0;
      }
      dN[t * w + dv] = den > 0 ? -dotOut / den : 0;
      // dphi(q_t)[f] = sum_j dN'[j] KV'[f, j]
      for (let f = 0; f < F; f++) {
        let sum = 0;
        for (let j = 0; j < w; j++) sum += dN[t * w + j] * summary.kv[f * w + j];
        gPhi[f] = sum;
      }
      featureGradient(features, q, row * d, d, phi, gPhi, dx);
      for (let c = 0; c < d; c++) grads.dq[row * d + c] = dx[c];
    }
    // keys, last to first: G gathers the queries that see key s, in s's units
    G.fill(0);
    gUnits.fill(-Infinity);
    const inv = 1 / Math.sqrt(F);
    let next = T - 1;
    for (let s = S - 1; s >= 0; s--) {
      if (!keyVisible(p, b, s)) continue;
      const cs = unitsOf(s);
      if (favor) {
        // G[f, :] moves to the (smaller) unit of key s
        for (let f = 0; f < F; f++) {
          if (gUnits[f] !== -Infinity && cs[f] !== gUnits[f]) {
            const factor = Math.exp(cs[f] - gUnits[f]);
            for (let j = 0; j < w; j++) G[f * w + j] *= factor;
          }
          gUnits[f] = cs[f];
        }
      }
      for (; next >= 0 && (!causal || next + offset >= s); next--) {
        if (!reads[next]) continue;
        featureRow(features, q, ((b * Hq + h) * T + next) * d, d, u);
        for (let f = 0; f < F; f++) {
          const phiQ = favor ? Math.exp(u[f] + cs[f] - rowC[next]) * inv : u[f];
          for (let j = 0; j < w; j++) G[f * w + j] += phiQ * dN[next * w + j];
        }
      }
      featureRow(features, k, (kvHead * S + s) * d, d, u);
      keyFeatures(features, u, cs, phi);
      const vRow = (kvHead * S + s) * dv;
      for (let f = 0; f < F; f++) {
        let sum = G[f * w + dv];
        for (let j = 0; j < dv; j++) sum += G[f * w + j] * v[vRow + j];
        gPhi[f] = sum;
        for (let j = 0; j < dv; j++) dvAcc[vRow + j] += phi[f] * G[f * w + j];
      }
      featureGradient(features, k, (kvHead * S + s) * d, d, phi, gPhi, dx);
      for (let c = 0; c < d; c++) dk[(kvHead * S + s) * d + c] += dx[c];
    }
  });
  grads.dk.set(dk);
  grads.dv.set(dvAcc);
  return grads;
}

/** One stream step for each of the BH rows: absorb (k, v), then read with q. */
export function attentionLinearStep(_call: Call, staged: StagedStepProblem, state: LinearStreamState): Float32Array {
  const p: LinearStepProblem = unstage(staged);
  const { BH, d, dv, features } = p;
  const F = features.F, w = dv + 1;
  const out = allocF32('attention.linearStream: out', BH * dv);
  const u = new Float64Array(F), phiQ = new Float64Array(F), num = new Float64Array(w);
  for (let r = 0; r < BH; r++) {
    const summary = new KeySummary(features, w, state.kv.subarray(r * F * w, (r + 1) * F * w), state.units.subarray(r * F, (r + 1) * F));
    featureRow(features, p.k, r * d, d, u);
    // the stream keeps its FAVOR+ units in f32 (as WASM does): stabilise with the f32 value
    // that will be stored, or exp(u - units) sees a rounding gap of hundreds of nats for huge u
    if (features.featureMap === 'favor') for (let f = 0; f < F; f++) u[f] = Math.fround(u[f]);
    summary.absorb(u, p.v, r * dv, dv);
    featureRow(features, p.q, r * d, d, u);
    const C = queryFeatures(features, u, summary.units, phiQ);
    const den = summary.read(phiQ, C, dv, num);
    for (let j = 0; j < dv; j++) out[r * dv + j] = den > 0 ? num[j] / den : 0;
  }
  return out;
}
