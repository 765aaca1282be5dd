// The contract of a backward call's given lse (the forward's log-sum-exp per query
// row): -Infinity only for a row that sees no key; otherwise a value no smaller than
// the row's largest score, which the kernels report back as the largest probability
// exp(score - lse) they met. Anything else would turn into NaN, infinite or silently
// wrong gradients, so it is refused with RANGE.

import { WeftError } from '../errors.js';
import type { AttentionBand } from './attention.js';
import type { AttentionOperands } from './attention_checks.js';

/** Does query t of batch b see at least one key? One per batch of O(S) tables, then O(1) a row. */
type RowSeesKey = (b: number, t: number) => boolean;

function rowSeesKey(p: AttentionOperands, band: AttentionBand): RowSeesKey {
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
export function checkNegInfLse(fn: string, p: AttentionOperands, band: AttentionBand, lse: Float32Array): void {
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
