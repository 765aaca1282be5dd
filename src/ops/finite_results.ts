// The last check of every op: its results are finite. Inputs are validated before
// the kernel runs, but finite inputs can still overflow f32 (a 3e38 weight, an
// identity RNN whose state doubles at every step, v near f32's limit in a backward),
// and matmul does not scan its inputs up front (for a 1 x 512 x 512 product the scan
// would cost more than the product), so a NaN operand reaches its result. Either way
// the caller gets RANGE naming the cause instead of a NaN. Cost: one pass over the
// results, in JS (0.4 ns a float) unless the WASM backend already scanned them with
// SIMD as it copied them out (CallFrame.readF32).

import { WeftError } from '../errors.js';
import { checkFinite, firstNonFinite, isMarkedFinite } from '../tensor.js';

/** `lse` legitimately holds -Infinity (rows that see no key), as input and as result. */
const MAY_BE_MINUS_INFINITY = new Set(['lse']);

/** Each Float32Array (bare or a tensor's data) and number in `value`, one object level deep, with its name. */
function* floatsOf(value: unknown, name: string, depth = 1): Generator<[string, Float32Array | number]> {
  if (typeof value === 'number') yield [name, value];
  else if (value instanceof Float32Array) yield [name, value];
  else if (value !== null && typeof value === 'object' && !ArrayBuffer.isView(value) && !Array.isArray(value)) {
    const data = (value as { data?: unknown }).data;
    if (data instanceof Float32Array && Array.isArray((value as { shape?: unknown }).shape)) yield [name, data];
    else if (depth > 0) {
      for (const [key, field] of Object.entries(value)) yield* floatsOf(field, name ? `${name}.${key}` : key, depth - 1);
    }
  }
}

/**
 * Throw RANGE unless every float of `result` is finite: name the first non-finite
 * input among `inputs` when there is one (that is the cause), else the result that
 * overflowed.
 */
export function checkFiniteResults(op: string, result: unknown, inputs: readonly (readonly [string, unknown])[]): void {
  for (const [name, values] of floatsOf(result, '')) {
    const leaf = name.slice(name.lastIndexOf('.') + 1);
    if (typeof values !== 'number' && isMarkedFinite(values)) continue;
    const data = typeof values === 'number' ? Float32Array.of(values) : values;
    const at = firstNonFinite(data, MAY_BE_MINUS_INFINITY.has(leaf));
    if (at < 0) continue;
    for (const [argName, input] of inputs) {
      for (const [inputName, inputValues] of floatsOf(input, argName)) {
        if (typeof inputValues === 'number' || MAY_BE_MINUS_INFINITY.has(inputName)) continue;
        checkFinite(`${op}: ${inputName}`, inputValues);
      }
    }
    const where = typeof values === 'number' ? '' : ` at index ${at}`;
    throw new WeftError(
      'RANGE',
      `${op}: ${name || 'the result'} overflowed float32 (${data[at]}${where}): finite inputs whose intermediate values exceed f32's range`,
    );
  }
}

/**
 * `fn` with its results checked by checkFiniteResults; `argNames` name its
 * positional arguments in messages (an op taking one argument bag needs none).
 */
export function withFiniteResults<A extends unknown[], R>(op: string, fn: (...args: A) => R, argNames: readonly string[] = []): (...args: A) => R {
  return (...args: A) => {
    const result = fn(...args);
    checkFiniteResults(op, result, args.map((arg, i) => [argNames[i] ?? '', arg] as const));
    return result;
  };
}
