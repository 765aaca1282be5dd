// Checks of plain arguments shared by every op family: the argument bag, integers,
// numbers, choices, booleans and id arrays. Each throws WeftError naming the
// argument, what was expected and what was given. Tensor checks (shape, dtype,
// finite values) live in tensor.ts.

import { WeftError, describe } from './errors.js';

/** An op's required argument bag: a non-null, non-array object (`hint` shows its keys in the message). */
export function checkArgs(name: string, value: unknown, hint = ''): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new WeftError('OPTION', `${name}: expected an options object${hint ? ` ${hint}` : ''}, got ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}

/** An optional options argument: an object, or {} when undefined. */
export function checkOptionsObject<T extends object>(name: string, value: T | undefined): T {
  if (value === undefined) return {} as T;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new WeftError('OPTION', `${name}: options must be an object, got ${describe(value)}`);
  }
  return value;
}

/**
 * An integer option in [min, max]; `fallback` when undefined (if given). Missing
 * without a fallback or not an integer is OPTION; an integer out of range is RANGE.
 */
export function checkInteger(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER, fallback?: number): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new WeftError('OPTION', `${name}: expected an integer, got ${describe(value)}`);
  }
  if (value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new WeftError('RANGE', `${name}: expected an integer ${range}, got ${value}`);
  }
  return value;
}

/** A finite number option in [min, max]; `fallback` when undefined (if given). */
export function checkNumber(name: string, value: unknown, min: number, max = Infinity, fallback?: number): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new WeftError('OPTION', `${name}: expected a finite number, got ${describe(value)}`);
  }
  if (value < min || value > max) {
    const range = max === Infinity ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new WeftError('RANGE', `${name}: expected a number ${range}, got ${value}`);
  }
  return value;
}

/** One of a list of string choices; `fallback` when undefined; anything else is OPTION. */
export function checkChoice<T extends string>(name: string, value: unknown, choices: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !choices.includes(value as T)) {
    throw new WeftError('OPTION', `${name}: expected one of ${choices.map((c) => `"${c}"`).join(', ')}, got ${describe(value)}`);
  }
  return value as T;
}

/** A boolean option; `fallback` when undefined; anything else is OPTION. */
export function optionalBoolean(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new WeftError('OPTION', `${name}: expected a boolean, got ${describe(value)}`);
  return value;
}

/** An Int32Array of `length` ids, each in [0, limit). */
export function checkIds(name: string, value: unknown, length: number, limit: number, limitName: string): Int32Array {
  if (!(value instanceof Int32Array)) throw new WeftError('DTYPE', `${name}: expected an Int32Array, got ${describe(value)}`);
  if (value.length !== length) throw new WeftError('SHAPE', `${name}: expected ${length} ids, got ${value.length}`);
  for (let i = 0; i < length; i++) {
    const id = value[i];
    if (id < 0 || id >= limit) throw new WeftError('RANGE', `${name}[${i}] = ${id} is outside [0, ${limit}) (${limitName} = ${limit})`);
  }
  return value;
}
