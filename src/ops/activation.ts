// The pointwise activations shared by rnn2d and conv2d: the option's names and the
// codes the kernels use (assembly/activation.ts: ACT_IDENTITY = 0, ...).

import { checkChoice } from '../args.js';

/** Pointwise activation applied to each hidden unit / output channel; sigmoid is 1 / (1 + e^-x). OPTION for another name. */
export type Activation = 'tanh' | 'relu' | 'sigmoid' | 'identity';

/** Kernel code of each activation (index = code). */
export const ACTIVATION_CODES: readonly Activation[] = ['identity', 'tanh', 'relu', 'sigmoid'];

/** Validate an `activation` option (named `${op}: activation` in errors); the fallback when undefined. */
export function parseActivation(op: string, value: unknown, fallback: Activation): Activation {
  return checkChoice(`${op}: activation`, value, ACTIVATION_CODES, fallback);
}

/** The kernel code of an activation. */
export function activationCode(activation: Activation): number {
  return ACTIVATION_CODES.indexOf(activation);
}

/**
 * The interval every output of `activation` lies in. backward() takes the forward's
 * output h and differentiates through it, so an h outside this range (a
 * pre-activation passed by mistake) would give silently wrong gradients.
 */
export function activationRange(activation: Activation): [number, number] {
  switch (activation) {
    case 'tanh':
      return [-1, 1];
    case 'sigmoid':
      return [0, 1];
    case 'relu':
      return [0, Infinity];
    case 'identity':
      return [-Infinity, Infinity];
  }
}
