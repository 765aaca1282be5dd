// Per-feature stabilisers of FAVOR+ linear attention (attention_linear.ts): vectors of
// F floats, one log-scale per feature, and the rows ([n, F] or [F, w]) kept in them.
//
// A sum of keys KV' = sum_s phi(k_s) [v_s, 1]^T is held in units M (per feature f:
// phi(k_s)_f = exp(u_sf - M_f) / sqrt(F), M_f = max over the keys absorbed of u_sf),
// and a query reads it with phi(q)_f = exp(u_qf + M_f - C) / sqrt(F),
// C = max_f (u_qf + M_f). The product phi(q)_f phi(k)_f = exp(u_qf + u_kf - C) / F is
// exact, and the pair (f*, s*) that attains C contributes exactly 1 / F: a row that
// sees a key never reads an all-underflowed sum (a scalar key max and a scalar query
// max could leave every term below f32's 1e-38 when the query's and the keys'
// largest features differ).
// Strides in elements; every pointer is a byte address.

import { bytes } from "./layout";
import { expF32, expF32x4 } from "./exp_f32x4";
import { hmaxF32x4, loadLanesF32x4, storeLanesF32x4 } from "./simd";

const NEG_INF: f32 = -Infinity;

/** dst[f] = max(dst[f], src[f]) for f < F. */
export function maxInto(dst: usize, src: usize, F: i32): void {
  let f = 0;
  for (; f + 4 <= F; f += 4) v128.store(dst + bytes(f), f32x4.pmax(v128.load(dst + bytes(f)), v128.load(src + bytes(f))));
  for (; f < F; f++) store<f32>(dst + bytes(f), max(load<f32>(dst + bytes(f)), load<f32>(src + bytes(f))));
}

/** Does u[f] - base[f] exceed gap for some f < F? */
export function exceeds(u: usize, base: usize, F: i32, gap: f32): bool {
  const gapV = f32x4.splat(gap);
  let any = f32x4.splat(0);
  let f = 0;
  for (; f + 4 <= F; f += 4) any = v128.or(any, f32x4.gt(f32x4.sub(v128.load(u + bytes(f)), v128.load(base + bytes(f))), gapV));
  let found = v128.any_true(any);
  for (; f < F; f++) found = found || load<f32>(u + bytes(f)) - load<f32>(base + bytes(f)) > gap;
  return found;
}

/**
 * rows[f, :] *= exp(a_f - b_f) for F rows of w floats: a move between units (KV' from
 * its units a to larger ones b; G from b to smaller ones a). Units are all finite or
 * all -inf: b = -inf means the rows hold nothing yet (left alone), a = -inf empties
 * them. Rows whose factor is 1 are left alone; `factors` is F floats of scratch.
 */
export function scaleRowsByExp(rows: usize, w: i32, F: i32, a: usize, b: usize, factors: usize): void {
  if (load<f32>(b) == NEG_INF) return;
  let f = 0;
  for (; f + 4 <= F; f += 4) {
    v128.store(factors + bytes(f), expF32x4(f32x4.sub(v128.load(a + bytes(f)), v128.load(b + bytes(f)))));
  }
  for (; f < F; f++) store<f32>(factors + bytes(f), expF32(load<f32>(a + bytes(f)) - load<f32>(b + bytes(f))));
  for (let r = 0; r < F; r++) {
    const factor = load<f32>(factors + bytes(r));
    if (factor == 1) continue;
    const row = rows + bytes(r * w), factorV = f32x4.splat(factor);
    for (let j = 0; j < w; j += 4) {
      const m = min(4, w - j);
      storeLanesF32x4(row + bytes(j), f32x4.mul(loadLanesF32x4(row + bytes(j), m), factorV), m);
    }
  }
}

/** row[f] += units[f] for f < F; returns the max of the result. */
export function addUnitsMax(row: usize, units: usize, F: i32): f32 {
  let mx = f32x4.splat(NEG_INF);
  let f = 0;
  for (; f + 4 <= F; f += 4) {
    const a = f32x4.add(v128.load(row + bytes(f)), v128.load(units + bytes(f)));
    v128.store(row + bytes(f), a);
    mx = f32x4.pmax(mx, a);
  }
  let result = hmaxF32x4(mx);
  for (; f < F; f++) {
    const a = load<f32>(row + bytes(f)) + load<f32>(units + bytes(f));
    store<f32>(row + bytes(f), a);
    result = max(result, a);
  }
  return result;
}

/**
 * rows[r, f] = exp(rows[r, f] - shift) * scale for r < n, f < F, with a per-feature
 * shift (units != 0: shift = units[f]) or one scalar shift. Two vectors per step and
 * the lane tail only at the row's end: 30 -> 14 ms of a 150 ms FAVOR+ call
 * (T = 4096, H = 8, F = 256).
 */
export function exponentiateRows(rows: usize, n: i32, F: i32, units: usize, shift: f32, scale: f32): void {
  const scaleV = f32x4.splat(scale), shiftV = f32x4.splat(shift);
  for (let r = 0; r < n; r++) {
    let p = rows + bytes(r * F), c = units;
    let f = 0;
    if (units != 0) {
      for (; f + 8 <= F; f += 8, p += 32, c += 32) {
        const e0 = expF32x4(f32x4.sub(v128.load(p), v128.load(c)));
        const e1 = expF32x4(f32x4.sub(v128.load(p, 16), v128.load(c, 16)));
        v128.store(p, f32x4.mul(e0, scaleV));
        v128.store(p, f32x4.mul(e1, scaleV), 16);
      }
      for (; f < F; f += 4, p += 16, c += 16) {
        const m = min(4, F - f);
        storeLanesF32x4(p, f32x4.mul(expF32x4(f32x4.sub(loadLanesF32x4(p, m), loadLanesF32x4(c, m))), scaleV), m);
      }
    } else {
      for (; f + 8 <= F; f += 8, p += 32) {
        const e0 = expF32x4(f32x4.sub(v128.load(p), shiftV));
        const e1 = expF32x4(f32x4.sub(v128.load(p, 16), shiftV));
        v128.store(p, f32x4.mul(e0, scaleV));
        v128.store(p, f32x4.mul(e1, scaleV), 16);
      }
      for (; f < F; f += 4, p += 16) {
        const m = min(4, F - f);
        storeLanesF32x4(p, f32x4.mul(expF32x4(f32x4.sub(loadLanesF32x4(p, m), shiftV)), scaleV), m);
      }
    }
  }
}

/** units[f] = value for f < F. */
export function fillUnits(units: usize, F: i32, value: f32): void {
  for (let f = 0; f < F; f++) store<f32>(units + bytes(f), value);
}
