/**
 * The codes of the {@link WeftError}s weft throws; the README's "Errors" lists what each
 * means for each family. Every argument is checked the same way, so a field's documentation
 * names only its range and the codes particular to it:
 *
 * - a tensor that is not `{ data: Float32Array, shape }` is DTYPE; a wrong rank or size,
 *   or a shape that disagrees with another argument, is SHAPE; a NaN or an infinity in its
 *   data is RANGE;
 * - an id array (`targets`, `globalTokens`) that is not an Int32Array is DTYPE, of the wrong
 *   length SHAPE, with an id outside its range RANGE;
 * - an option of the wrong type, an unknown choice, a missing required field, or a
 *   fractional or non-finite number where an integer or a finite number is expected is
 *   OPTION; a number outside its documented range is RANGE;
 * - a result or a working buffer over 2^30 elements (4 GiB of f32), or more WASM memory
 *   than the instance's `maxMemory`, is MEMORY.
 */
export const ErrorCode = {
  /** A shape, rank or length does not match what the function needs. */
  SHAPE: 'SHAPE',
  /** A value has the wrong type (e.g. data that is not a Float32Array). */
  DTYPE: 'DTYPE',
  /** A value is outside its allowed range (an id >= V, a negative count, a non-finite value in a tensor, results that would overflow f32). */
  RANGE: 'RANGE',
  /** An option is missing, unknown in value or of the wrong type (including a non-finite or fractional number where a finite one or an integer is expected). */
  OPTION: 'OPTION',
  /** The request does not fit in memory (WASM linear memory or a JS typed array). */
  MEMORY: 'MEMORY',
  /** What was asked cannot be done here or now (relaxed SIMD without runtime support, training a loaded model, a one-shot corpus read twice). */
  UNSUPPORTED: 'UNSUPPORTED',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The one error type weft throws for bad input; `code` says which kind ({@link ErrorCode}). */
export class WeftError extends Error {
  /** Which kind of error: one of {@link ErrorCode}'s values. */
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'WeftError';
    this.code = code;
  }
}

/** Describe a value for an error message: its type, and its shape if it has one. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => describe(v)).join(', ')}]`;
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${(value as unknown as ArrayLike<unknown>).length})`;
  if (typeof value === 'object') {
    const shape = (value as { shape?: unknown }).shape;
    if (Array.isArray(shape)) return `tensor of shape ${describe(shape)}`;
    return value.constructor?.name ?? 'object';
  }
  return typeof value;
}
