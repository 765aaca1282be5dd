// Working arrays of the JS twins, sized from the call: an impossible size becomes
// WeftError MEMORY (as a WASM allocation would), never a RangeError from the engine.

import { WeftError } from '../../errors.js';
import { checkElementCount } from '../../tensor.js';

/** A zeroed Float64Array of `count` elements (counted as 2 f32 each against the 4 GiB limit). */
export function allocF64(name: string, count: number): Float64Array {
  checkElementCount(name, 2 * count);
  try {
    return new Float64Array(count);
  } catch (err) {
    throw new WeftError('MEMORY', `${name}: cannot allocate ${count} doubles: ${(err as Error).message}`);
  }
}
