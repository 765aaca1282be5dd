// The attention kernels of the WASM backend, bound to one instance.

import type { AttentionKernels } from '../../ops/attention_api.js';
import { WeftError } from '../../errors.js';
import type { WasmContext } from './context.js';
import { attentionSoftmaxWasm } from './attention.js';

export function attentionKernelsWasm(ctx: WasmContext): AttentionKernels {
  return {
    attentionFull: (p) => attentionSoftmaxWasm(ctx, p, false),
    attentionWindowed: (p) => attentionSoftmaxWasm(ctx, p, true),
    attentionFullBackward: () => {
      throw new WeftError('UNSUPPORTED', 'todo');
    },
    attentionWindowedBackward: () => {
      throw new WeftError('UNSUPPORTED', 'todo');
    },
  };
}
