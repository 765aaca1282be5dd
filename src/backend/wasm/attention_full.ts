// WASM wrappers of assembly/attention_full.ts: the windowed wrappers' helpers without a band.

import type { AttentionOutput, GradientInputs, SoftmaxAttentionProblem, SoftmaxGradientArrays } from '../../ops/attention/kernels.js';
import type { WasmCall } from './call.js';
import { backwardBuffers, forwardOutputs, operandArgs, readForward } from './attention_windowed.js';

export function attentionFull(call: WasmCall, p: SoftmaxAttentionProblem): AttentionOutput {
  const o = forwardOutputs(call, p);
  call.exports.attentionFull({ ...operandArgs(call, p), ...o });
  return readForward(call, p, o);
}

export function attentionFullBackward(call: WasmCall, p: SoftmaxAttentionProblem, g: GradientInputs): SoftmaxGradientArrays {
  const operands = operandArgs(call, p);
  const { buffers, read } = backwardBuffers(call, p, g, (o) => call.exports.attentionFull({ ...operands, ...o }));
  return read(call.exports.attentionFullBackward({ ...operands, ...buffers }));
}
