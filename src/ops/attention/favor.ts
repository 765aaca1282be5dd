// FAVOR+ random features (Performer, Choromanski et al. 2021): W [F, d] built from
// blocks of d orthogonal rows (Gaussian matrices orthonormalised by Gram-Schmidt),
// each row rescaled to the norm of an independent Gaussian vector (chi_d), so the
// rows are marginally N(0, I) but orthogonal within a block. Generated here, in JS,
// from the one seeded generator and handed to either backend as an input, so both
// use the very same features.

import { Rng } from '../../rng.js';

/** Default number of FAVOR+ features for width d: d * ceil(ln d), at least d. */
export function defaultFeatureCount(d: number): number {
  return d * Math.max(1, Math.ceil(Math.log(d)));
}

// The last few matrices made, by "d F seed": a training loop calls linear with the
// same features every step, and building W (Gram-Schmidt, O(F d^2)) took 10% of a
// T = 4096 call. Callers must not mutate the returned array.
const cache = new Map<string, Float32Array>();
const CACHE_ENTRIES = 8;

/** W [F, d] (row-major) of positive orthogonal random features from `seed` (shared: do not mutate). */
export function favorFeatures(d: number, F: number, seed: number): Float32Array {
  const key = `${d} ${F} ${seed}`;
  let W = cache.get(key);
  if (!W) {
    W = buildFeatures(d, F, seed);
    if (cache.size >= CACHE_ENTRIES) cache.delete(cache.keys().next().value as string);
    cache.set(key, W);
  }
  return W;
}

function buildFeatures(d: number, F: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const normal = (() => {
    let spare: number | undefined;
    return () => {
      if (spare !== undefined) {
        const value = spare;
        spare = undefined;
        return value;
      }
      const [a, b] = rng.nextNormalPair();
      spare = b;
      return a;
    };
  })();
  const W = new Float32Array(F * d);
  const block = new Float64Array(d * d);
  for (let row0 = 0; row0 < F; row0 += d) {
    for (let i = 0; i < d * d; i++) block[i] = normal();
    // modified Gram-Schmidt over the rows: row i -= (row i . row j) row j, then normalise
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < i; j++) {
        let dot = 0;
        for (let c = 0; c < d; c++) dot += block[i * d + c] * block[j * d + c];
        for (let c = 0; c < d; c++) block[i * d + c] -= dot * block[j * d + c];
      }
      let norm = 0;
      for (let c = 0; c < d; c++) norm += block[i * d + c] ** 2;
      norm = Math.sqrt(norm);
      for (let c = 0; c < d; c++) block[i * d + c] /= norm;
    }
    for (let i = 0; i < d && row0 + i < F; i++) {
      let chi = 0;
      for (let c = 0; c < d; c++) chi += normal() ** 2;
      chi = Math.sqrt(chi);
      for (let c = 0; c < d; c++) W[(row0 + i) * d + c] = block[i * d + c] * chi;
    }
  }
  return W;
}
