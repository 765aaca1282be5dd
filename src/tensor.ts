// Tensors: plain { data: Float32Array, shape: number[] } objects, row-major.
// All shape validation lives here so every op reports the same way.

import { WeftError, describe } from './errors.js';

/** A dense f32 tensor: row-major, last dimension contiguous. */
export interface Tensor {
  data: Float32Array;
  shape: number[];
}

/** Largest element count weft accepts for one tensor (2^32 bytes of f32, the wasm32 limit). */
export const MAX_ELEMENTS = 2 ** 30;

/** Product of the dimensions. */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Throw SHAPE unless `shape` is an array of non-negative safe integers. */
export function checkShape(name: string, shape: unknown): number[] {
  if (!Array.isArray(shape)) {
    throw new WeftError('SHAPE', `${name}: shape must be an array of integers, got ${describe(shape)}`);
  }
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw new WeftError('SHAPE', `${name}: every dimension must be an integer >= 0, got shape ${describe(shape)}`);
    }
  }
  return shape as number[];
}

/** Throw MEMORY when `count` 4-byte elements cannot be one buffer (over 4 GiB). */
export function checkElementCount(name: string, count: number): void {
  if (!(count <= MAX_ELEMENTS)) {
    throw new WeftError('MEMORY', `${name}: ${count} elements (${count * 4} bytes) exceed the 4 GiB limit of one buffer`);
  }
}

/** Allocate a zeroed Float32Array, turning an impossible size into WeftError MEMORY. */
export function allocF32(name: string, count: number): Float32Array {
  checkElementCount(name, count);
  try {
    return new Float32Array(count);
  } catch (err) {
    throw new WeftError('MEMORY', `${name}: cannot allocate ${count} floats: ${(err as Error).message}`);
  }
}

/** Validate and wrap data as a tensor (no copy). */
export function tensor(data: Float32Array, shape: readonly number[]): Tensor {
  return checkTensor('tensor', { data, shape: [...(checkShape('tensor', shape) as number[])] });
}

/** A zero-filled tensor. */
export function zeros(shape: readonly number[]): Tensor {
  const dims = [...checkShape('zeros', shape)];
  return { data: allocF32('zeros', numel(dims)), shape: dims };
}

/**
 * Throw unless `value` is a tensor whose data is a Float32Array of the shape's size
 * and, when `ranks` is given, whose rank is one of them.
 */
export function checkTensor(name: string, value: unknown, ranks?: readonly number[]): Tensor {
  if (typeof value !== 'object' || value === null || !('data' in value) || !('shape' in value)) {
    throw new WeftError('DTYPE', `${name}: expected a tensor { data: Float32Array, shape }, got ${describe(value)}`);
  }
  const { data, shape } = value as { data: unknown; shape: unknown };
  if (!(data instanceof Float32Array)) {
    throw new WeftError('DTYPE', `${name}: data must be a Float32Array, got ${describe(data)}`);
  }
  const dims = checkShape(name, shape);
  if (ranks && !ranks.includes(dims.length)) {
    throw new WeftError(
      'SHAPE',
      `${name}: expected rank ${ranks.join(' or ')}, got shape ${describe(dims)} (rank ${dims.length})`,
    );
  }
  const count = numel(dims);
  if (count !== data.length) {
    throw new WeftError('SHAPE', `${name}: shape ${describe(dims)} holds ${count} elements but data has ${data.length}`);
  }
  return value as Tensor;
}

/**
 * Throw RANGE at the first NaN or infinity in `data` (a kernel would spread it
 * silently); `at(i)` names element i in the message (default `index i`).
 */
export function checkFinite(name: string, data: Float32Array, at: (index: number) => string = (i) => `index ${i}`): void {
  const n = data.length;
  let i = 0;
  // four at a time with one branch (v - v is NaN for NaN and +-Infinity): 2.3 vs 4.9 ms per 4M floats
  for (; i + 4 <= n; i += 4) {
    const a = data[i], b = data[i + 1], c = data[i + 2], d = data[i + 3];
    if (a - a + (b - b) + (c - c) + (d - d) !== 0) break;
  }
  for (; i < n; i++) {
    if (data[i] - data[i] !== 0) throw new WeftError('RANGE', `${name}: values must be finite, got ${data[i]} at ${at(i)}`);
  }
}

/**
 * Throw RANGE at the first value of `data` that is not finite or not in [lo, hi]
 * (`why` says what the range means).
 */
export function checkWithin(name: string, data: Float32Array, lo: number, hi: number, why: string): void {
  const n = data.length;
  const low = Math.max(lo, -Number.MAX_VALUE), high = Math.min(hi, Number.MAX_VALUE);
  let i = 0;
  // four at a time (3.0 vs 4.7 ms per 4M floats); comparisons with NaN are false, so NaN fails too
  for (; i + 4 <= n; i += 4) {
    const a = data[i], b = data[i + 1], c = data[i + 2], d = data[i + 3];
    if (!(a >= low && a <= high && b >= low && b <= high && c >= low && c <= high && d >= low && d <= high)) break;
  }
  for (; i < n; i++) {
    const v = data[i];
    if (v >= low && v <= high) continue;
    if (v - v !== 0) throw new WeftError('RANGE', `${name}: values must be finite, got ${v} at index ${i}`);
    throw new WeftError('RANGE', `${name}: ${why}, in [${lo}, ${hi}], got ${v} at index ${i}`);
  }
}

// Arrays a backend has already found all finite: the WASM backend scans each output
// with SIMD while it is still in linear memory (maxAbsF32), so the results check
// (ops/finite_results.ts) need not scan it again in JS. Only fresh output arrays,
// marked as they are copied out and checked before the op returns, are ever marked.
const knownFinite = new WeakSet<Float32Array>();

/** Record that every value of `data` is finite. */
export function markFinite(data: Float32Array): Float32Array {
  knownFinite.add(data);
  return data;
}

/** True when markFinite recorded `data`. */
export function isMarkedFinite(data: Float32Array): boolean {
  return knownFinite.has(data);
}
