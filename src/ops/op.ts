// How every op call runs, in one place: the family's body checks its arguments,
// stages its float inputs, checks their values from the staged maxima and runs its
// kernel, all inside one backend call; then the results are checked here. The
// interfaces a backend implements for the families (Call, Staged, OpBackend) are here
// too: src/backend/ depends on src/ops/, never the reverse.
//
// The results check: inputs are validated before the kernel runs, but finite inputs
// can still overflow f32 (a 3e38 weight, an identity RNN whose state doubles at every
// step, v near f32's limit in a backward), and matmul does not scan its inputs up
// front (for a 1 x 512 x 512 product the scan would cost more than the product), so a
// NaN operand reaches its result. Either way the caller gets RANGE naming the cause
// instead of a NaN. Cost: one pass over the results, in JS (0.4 ns a float) unless the
// WASM backend already scanned them with SIMD as it copied them out (Call.scannedFinite).

import { WeftError } from '../errors.js';
import { checkFinite, firstNonFinite } from '../tensor.js';

/** A float input placed where one call's kernels read it (Call.stage). */
export interface Staged {
  /** The caller's array (never written). */
  readonly data: Float32Array;
  /** max |x| over data; NaN or Infinity when a value is not finite. Scanned once, on first use. */
  maxAbs(): number;
}

/** One op call on a backend: what it stages and holds is released when the call ends, also when it throws. */
export interface Call {
  /** Stage a float input for this call's kernels (`name` labels it in errors). */
  stage(data: Float32Array, name: string): Staged;
  /** True when the backend found every value of `result` finite while producing it (the results check then skips it). */
  scannedFinite(result: Float32Array): boolean;
}

/**
 * What a family needs from a backend: its kernels (by op name) and a way to run one
 * call. The families define these interfaces; src/backend/ implements them.
 */
export interface OpBackend<K> {
  readonly kernels: K;
  call<T>(body: (call: Call) => T): T;
}

/** One op's body: arguments in, results out, run inside a backend call. */
export type OpBody<A extends unknown[], R> = (call: Call, ...args: A) => R;

/**
 * The public function of op `name` on `backend`: each call runs `body` in one backend
 * call, then checks the results; `argNames` name positional arguments in messages (an
 * op taking one argument bag needs none).
 */
export function bindOp<A extends unknown[], R>(
  backend: OpBackend<unknown>, name: string, body: OpBody<A, R>, argNames: readonly string[] = [],
): (...args: A) => R {
  return (...args: A) =>
    backend.call((call) => {
      const result = body(call, ...args);
      checkFiniteResults(name, result, args.map((arg, i) => [argNames[i] ?? '', arg] as const), call);
      return result;
    });
}

/**
 * max |x| of a staged input, or RANGE naming its first non-finite element (`at(i)`
 * names element i; default `index i`). With `allowNegInf`, -Infinity entries pass and
 * are left out of the maximum.
 */
export function finiteMax(name: string, input: Staged, at?: (index: number) => string, allowNegInf = false): number {
  const max = input.maxAbs();
  if (Number.isFinite(max)) return max;
  const data = input.data;
  if (!allowNegInf) {
    checkFinite(name, data, at);
    return max; // unreachable: the scan found a non-finite value
  }
  let finite = 0;
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    if (Number.isFinite(x)) finite = Math.max(finite, Math.abs(x));
    else if (x !== -Infinity) throw new WeftError('RANGE', `${name}: values must be finite, got ${x} at ${at ? at(i) : `index ${i}`}`);
  }
  return finite;
}

/** Stage a float input whose values must all be finite: RANGE at the first that is not (`label` names it, e.g. "rnn2d.forward: x"). */
export function stageFinite(call: Call, label: string, data: Float32Array, at?: (index: number) => string): Staged {
  const staged = call.stage(data, label);
  finiteMax(label, staged, at);
  return staged;
}

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
 * overflowed. Arrays the call already scanned are skipped.
 */
export function checkFiniteResults(
  op: string, result: unknown, inputs: readonly (readonly [string, unknown])[], call?: Pick<Call, 'scannedFinite'>,
): void {
  for (const [name, values] of floatsOf(result, '')) {
    const leaf = name.slice(name.lastIndexOf('.') + 1);
    if (typeof values !== 'number' && call?.scannedFinite(values)) continue;
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
