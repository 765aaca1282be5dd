// The attention kernels of the WASM backend, bound to one instance.

import type { AttentionKernels } from '../../ops/attention_api.js';
import type { WasmContext } from './context.js';
import { attentionSoftmaxBackwardWasm, attentionSoftmaxWasm } from './attention.js';

export function attentionKernelsWasm(ctx: WasmContext): AttentionKernels {
  return {
    attentionFull: (p) => attentionSoftmaxWasm(ctx, p, false),
    attentionWindowed: (p) => attentionSoftmaxWasm(ctx, p, true),
    attentionFullBackward: (p, g) => attentionSoftmaxBackwardWasm(ctx, p, g, false),
    attentionWindowedBackward: (p, g) => attentionSoftmaxBackwardWasm(ctx, p, g, true),
  };
}
