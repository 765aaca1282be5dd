// The attention kernels of the WASM backend, bound to one instance.

import type { AttentionKernels } from '../../ops/attention_api.js';
import type { WasmContext } from './context.js';
import { attentionSoftmaxBackwardWasm, attentionSoftmaxWasm } from './attention.js';
import { attentionLinearBackwardWasm, attentionLinearStepWasm, attentionLinearWasm } from './attention_linear.js';

export function attentionKernelsWasm(ctx: WasmContext): AttentionKernels {
  return {
    attentionFull: (p) => attentionSoftmaxWasm(ctx, p, false),
    attentionWindowed: (p) => attentionSoftmaxWasm(ctx, p, true),
    attentionFullBackward: (p, g) => attentionSoftmaxBackwardWasm(ctx, p, g, false),
    attentionWindowedBackward: (p, g) => attentionSoftmaxBackwardWasm(ctx, p, g, true),
    attentionLinear: (p) => attentionLinearWasm(ctx, p),
    attentionLinearBackward: (p, g) => attentionLinearBackwardWasm(ctx, p, g),
    attentionLinearStep: (p, state) => attentionLinearStepWasm(ctx, p, state),
  };
}
