// Pure-JS twin of assembly/activation.ts: exact Math functions (the kernels
// approximate tanh to 3.3e-7), derivatives from the activation's output y.

import type { Activation } from '../../ops/activation.js';

/** act(pre). */
export function activationFn(activation: Activation): (pre: number) => number {
  switch (activation) {
    case 'tanh':
      return Math.tanh;
    case 'relu':
      return (v) => (v > 0 ? v : 0);
    case 'sigmoid':
      return (v) => 1 / (1 + Math.exp(-v));
    case 'identity':
      return (v) => v;
  }
}

/** act'(pre) as a function of y = act(pre). */
export function activationDerivativeFromOutput(activation: Activation): (y: number) => number {
  switch (activation) {
    case 'tanh':
      return (y) => 1 - y * y;
    case 'relu':
      return (y) => (y > 0 ? 1 : 0);
    case 'sigmoid':
      return (y) => y * (1 - y);
    case 'identity':
      return () => 1;
  }
}
