// Validation of plain option values (objects, counts, names) shared by the op families.

import { WeftError, describe } from '../errors.js';

/** Throw OPTION unless `value` is a non-null object (an op's argument bag). */
export function checkOptions(name: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new WeftError('OPTION', `${name}: expected an options object, got ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}

/**
 * A size given as an option (a channel count, a batch): an integer >= min. Missing
 * without a fallback or not an integer is OPTION; an integer below `min` is RANGE.
 */
export function countOption(name: string, value: unknown, fallback?: number, min = 0): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new WeftError('OPTION', `${name}: expected an integer, got ${describe(value)}`);
  }
  if (value < min) throw new WeftError('RANGE', `${name}: expected an integer >= ${min}, got ${value}`);
  return value;
}

/** One of `choices`, or the fallback when undefined; anything else is OPTION. */
export function choiceOption<T extends string>(name: string, value: unknown, choices: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !choices.includes(value as T)) {
    throw new WeftError('OPTION', `${name}: expected ${choices.map((c) => JSON.stringify(c)).join(' | ')}, got ${describe(value)}`);
  }
  return value as T;
}
