// The attention kernels of the pure-JS backend.

import type { AttentionKernels } from '../../ops/attention_api.js';
import { maxAbsJs } from '../../tensor.js';
import { attentionFullBackwardJs, attentionFullJs } from './attention_full.js';
import { attentionWindowedBackwardJs, attentionWindowedJs } from './attention_windowed.js';
import { attentionLinearBackwardJs, attentionLinearJs, attentionLinearStepJs } from './attention_linear.js';

// Each kernel first runs the call's value checks with the plain-JS scan.
export const attentionKernelsJs: AttentionKernels = {
  attentionFull: (p) => (p.checkValues(maxAbsJs), attentionFullJs(p)),
  attentionWindowed: (p) => (p.checkValues(maxAbsJs), attentionWindowedJs(p)),
  attentionFullBackward: (p, g) => (p.checkValues(maxAbsJs), g.checkValues(maxAbsJs), attentionFullBackwardJs(p, g)),
  attentionWindowedBackward: (p, g) => (p.checkValues(maxAbsJs), g.checkValues(maxAbsJs), attentionWindowedBackwardJs(p, g)),
  attentionLinear: (p) => (p.checkValues(maxAbsJs), attentionLinearJs(p)),
  attentionLinearBackward: (p, g) => (p.checkValues(maxAbsJs), g.checkValues(maxAbsJs), attentionLinearBackwardJs(p, g)),
  attentionLinearStep: (p, state) => (p.checkValues(maxAbsJs), attentionLinearStepJs(p, state)),
};
