// Working arrays of the JS twins, sized from the call: an impossible size becomes
// WeftError MEMORY (as a WASM allocation would), never a RangeError from the engine.

import { WeftError } from '../../errors.js';
import { allocF32, checkElementCount } from '../../tensor.js';
import type { AttentionGradientArrays, AttentionShape } from '../../ops/attention/kernels.js';

/** A zeroed Float64Array of `count` elements (counted as 2 f32 each against the 4 GiB limit). */
export function allocF64(name: string, count: number): Float64Array {
  checkElementCount(name, 2 * count);
  try {
    return new Float64Array(count);
  } catch (err) {
    throw new WeftError('MEMORY', `${name}: cannot allocate ${count} doubles: ${(err as Error).message}`);
  }
}

/** Fresh zeroed attention gradient arrays: dq [B, Hq, T, d], dk [B, Hkv, S, d], dv [B, Hkv, S, dv]. */
export function allocGradients(fn: string, p: AttentionShape): AttentionGradientArrays {
  return {
    dq: allocF32(`${fn}: dq`, p.B * p.Hq * p.T * p.d),
    dk: allocF32(`${fn}: dk`, p.B * p.Hkv * p.S * p.d),
    dv: allocF32(`${fn}: dv`, p.B * p.Hkv * p.S * p.dv),
  };
}
